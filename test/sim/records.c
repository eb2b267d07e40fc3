/*-------------------------------------------------------------------------
 *
 * records.c
 *	  Customer records of numbers and templates, and the clock-driven
 *	  record lifecycle.
 *
 * Each number with records owns a RecList (ascending by effective time) in
 * a side table indexed by NumEntry.recs.  Seeded numbers get their records
 * generated from the seed the first time they are needed, so millions of
 * WORKING numbers cost no record memory until a test looks at one.
 *
 * At its effective time a PENDING record becomes SENDING; after the SCP
 * delay (--scp-delay, 0 by default) it becomes ACTIVE, or DISCONNECT for a
 * disconnect record, and the record it supersedes becomes OLD.  The number
 * follows: RESERVED/ASSIGNED -> WORKING on the first activation, WORKING ->
 * DISCONNECT when a disconnect record takes effect.
 *
 *-------------------------------------------------------------------------
 */
#include "tfsim.h"

#include <stdlib.h>
#include <string.h>

const char *const rec_status_names[RS_COUNT] = {
	"SAVED", "PENDING", "SENDING", "ACTIVE", "OLD", "INVALID", "DISCONNECT",
	"MUST CHECK", "FAILED", "HOLD"
};

static RecList **reclists;		/* index 0 is unused */
static uint32_t nreclists;
static uint32_t reclists_cap;
static uint32_t *reclist_free_ids;
static uint32_t nreclist_free;

Template  **templates;
int			ntemplates;

static uint32_t rec_version_counter;

uint32_t
rec_next_version(void)
{
	return ++rec_version_counter;
}

void
custrec_free(CustRec *r)
{
	free(r->tmpl_name);
	free(r->cad);
	free(r->lad);
	free(r->cpr);
	memset(r, 0, sizeof(CustRec));
}

static void
reclist_clear(RecList *rl)
{
	for (int i = 0; i < rl->n; i++)
		custrec_free(&rl->v[i]);
	free(rl->v);
	rl->v = NULL;
	rl->n = rl->cap = 0;
}

void
records_clear_all(void)
{
	for (uint32_t i = 1; i < nreclists; i++)
	{
		if (reclists[i])
		{
			reclist_clear(reclists[i]);
			free(reclists[i]);
		}
	}
	free(reclists);
	free(reclist_free_ids);
	reclists = NULL;
	reclist_free_ids = NULL;
	nreclists = reclists_cap = nreclist_free = 0;

	for (int i = 0; i < ntemplates; i++)
	{
		reclist_clear(&templates[i]->recs);
		free(templates[i]);
	}
	free(templates);
	templates = NULL;
	ntemplates = 0;
	rec_version_counter = 0;
}

/*
 * The records of a number, generated from the seed on first use.  With
 * create, a number without records gets an empty list; otherwise NULL is
 * returned for it.
 */
RecList *
entry_records(NumEntry *e, bool create)
{
	RecList    *rl;
	uint32_t	id;

	if (e->recs)
		rl = reclists[e->recs];
	else
	{
		if (!create && !(e->flags & NF_SEEDED_RECS))
			return NULL;
		if (nreclist_free)
			id = reclist_free_ids[--nreclist_free];
		else
		{
			if (nreclists == 0)
				nreclists = 1;
			if (nreclists >= reclists_cap)
			{
				reclists_cap = reclists_cap ? reclists_cap * 2 : 1024;
				reclists = xrealloc(reclists, reclists_cap * sizeof(RecList *));
				reclist_free_ids = xrealloc(reclist_free_ids,
											reclists_cap * sizeof(uint32_t));
			}
			id = nreclists++;
		}
		rl = xcalloc(1, sizeof(RecList));
		reclists[id] = rl;
		e->recs = id;
	}

	if (e->flags & NF_SEEDED_RECS)
	{
		e->flags &= ~NF_SEEDED_RECS;
		seed_entry_records(e, rl);
	}
	return rl;
}

void
entry_drop_records(NumEntry *e)
{
	e->flags &= ~NF_SEEDED_RECS;
	e->pend_at = 0;
	if (e->recs == 0)
		return;
	reclist_clear(reclists[e->recs]);
	free(reclists[e->recs]);
	reclists[e->recs] = NULL;
	reclist_free_ids[nreclist_free++] = e->recs;
	e->recs = 0;
}

CustRec *
reclist_find(RecList *rl, int64_t eff)
{
	for (int i = 0; rl && i < rl->n; i++)
		if (rl->v[i].eff == eff)
			return &rl->v[i];
	return NULL;
}

bool
reclist_has_status(RecList *rl, int stat)
{
	for (int i = 0; rl && i < rl->n; i++)
		if (rl->v[i].stat == stat)
			return true;
	return false;
}

/*
 * The record a retrieve without effDtTm returns: the SENDING one, else the
 * latest ACTIVE or DISCONNECT one, else a FAILED one, else the latest.
 */
CustRec *
reclist_default(RecList *rl)
{
	CustRec    *best = NULL;

	if (rl == NULL || rl->n == 0)
		return NULL;
	for (int i = 0; i < rl->n; i++)
		if (rl->v[i].stat == RS_SENDING)
			return &rl->v[i];
	for (int i = 0; i < rl->n; i++)
		if (rl->v[i].stat == RS_ACTIVE || rl->v[i].stat == RS_DISCONNECT)
			best = &rl->v[i];
	if (best)
		return best;
	for (int i = 0; i < rl->n; i++)
		if (rl->v[i].stat == RS_FAILED)
			return &rl->v[i];
	return &rl->v[rl->n - 1];
}

/* Insert an empty record at eff, keeping the list ascending. */
CustRec *
reclist_insert(RecList *rl, int64_t eff)
{
	int			pos = rl->n;

	if (rl->n >= rl->cap)
	{
		rl->cap = rl->cap ? rl->cap * 2 : 4;
		rl->v = xrealloc(rl->v, rl->cap * sizeof(CustRec));
	}
	while (pos > 0 && rl->v[pos - 1].eff > eff)
		pos--;
	memmove(&rl->v[pos + 1], &rl->v[pos], (rl->n - pos) * sizeof(CustRec));
	rl->n++;
	memset(&rl->v[pos], 0, sizeof(CustRec));
	rl->v[pos].eff = eff;
	rl->v[pos].version = rec_next_version();
	rl->v[pos].action = 'N';
	return &rl->v[pos];
}

void
custrec_copy_parts(CustRec *dst, const CustRec *src, bool cad, bool lad,
				   bool cpr)
{
	if (cad)
	{
		free(dst->cad);
		dst->cad = xstrdup(src->cad);
	}
	if (lad)
	{
		free(dst->lad);
		dst->lad = xstrdup(src->lad);
	}
	if (cpr)
	{
		free(dst->cpr);
		dst->cpr = xstrdup(src->cpr);
	}
}

/* "PAD" for a pointer record, else "CAD" plus the parts present. */
const char *
custrec_comp_part(const CustRec *r, char *buf)
{
	if (r->tmpl_name)
		return "PAD";
	strcpy(buf, "CAD");
	if (r->lad && r->lad[0])
		strcat(buf, ", LAD");
	if (r->cpr && r->cpr[0])
		strcat(buf, ", CPR");
	return buf;
}

/*
 * Advance the records of one list to now.  Returns the next time a record
 * changes (0 = none).  For a number's list, e is the number, which follows
 * its records' activation.
 */
static int64_t
reclist_advance(RecList *rl, NumEntry *e, int64_t now)
{
	int64_t		next = 0;

	for (int i = 0; i < rl->n; i++)
	{
		CustRec    *r = &rl->v[i];

		if (r->stat == RS_INVALID && r->eff <= now)
			r->stat = RS_FAILED;
		if (r->stat == RS_PENDING && r->eff <= now)
		{
			r->stat = RS_SENDING;
			r->sending_at = r->eff;
			r->version = rec_next_version();
		}
		if (r->stat == RS_SENDING && r->sending_at + sim_config.scp_delay <= now)
		{
			int64_t		at = r->sending_at + sim_config.scp_delay;
			int32_t		day = (int32_t) (at / SECS_PER_DAY);

			for (int j = 0; j < i; j++)
				if (rl->v[j].stat == RS_ACTIVE || rl->v[j].stat == RS_DISCONNECT)
					rl->v[j].stat = RS_OLD;
			r->stat = r->action == 'D' ? RS_DISCONNECT : RS_ACTIVE;
			r->version = rec_next_version();

			if (e && r->action == 'D' &&
				(e->status == ST_WORKING || e->status == ST_SUSPEND))
			{
				entry_set_status(e, ST_DISCONNECT, e->resporg);
				e->eff_dt = (uint16_t) day;
				e->last_act_dt = (uint16_t) day;
				e->disc_until_dt = (uint16_t) (day + 120);
				e->eint_dt = (uint16_t) (r->eint_now ? day : r->eint_dt);
			}
			else if (e && r->action != 'D' &&
					 (e->status == ST_RESERVED || e->status == ST_ASSIGNED))
			{
				entry_set_status(e, ST_WORKING, e->resporg);
				e->eff_dt = (uint16_t) day;
				e->res_until_dt = 0;
			}
		}

		if (r->stat == RS_PENDING && (next == 0 || r->eff < next))
			next = r->eff;
		if (r->stat == RS_SENDING &&
			(next == 0 || r->sending_at + sim_config.scp_delay < next))
			next = r->sending_at + sim_config.scp_delay;
	}
	return next;
}

/* Apply the record changes of a number that fell due by now. */
void
records_due(NumEntry *e, int64_t now)
{
	RecList    *rl = entry_records(e, false);
	int64_t		next;

	if (rl == NULL)
	{
		e->pend_at = 0;
		return;
	}
	next = reclist_advance(rl, e, now);
	e->pend_at = (uint32_t) next;
	if (next)
		store_schedule(next);
}

/* Recompute when the number's records next change, after a write. */
void
entry_reschedule(NumEntry *e)
{
	records_due(e, sim_now());
}

void
template_due(Template *t, int64_t now)
{
	reclist_advance(&t->recs, NULL, now);
}

Template *
template_find(const char *name)
{
	for (int i = 0; i < ntemplates; i++)
		if (strcmp(templates[i]->name, name) == 0)
			return templates[i];
	return NULL;
}

/*
 * Register a template; its entity is the two characters after the '*'.
 * Returns NULL for a name that is not '*' + entity + 1 to 12 letters, digits
 * or '-', or whose entity is unknown.
 */
Template *
template_add(const char *name)
{
	Template   *t = template_find(name);
	size_t		len = strlen(name);
	char		ent[3];
	int			entity;

	if (t)
		return t;
	if (len < 4 || len > 15 || name[0] != '*')
		return NULL;
	for (size_t i = 1; i < len; i++)
		if (!((name[i] >= 'A' && name[i] <= 'Z') ||
			  (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
			return NULL;
	memcpy(ent, name + 1, 2);
	ent[2] = '\0';
	entity = entity_find(ent);
	if (entity == 0)
		return NULL;

	t = xcalloc(1, sizeof(Template));
	strcpy(t->name, name);
	t->entity = (uint8_t) entity;
	templates = xrealloc(templates, (ntemplates + 1) * sizeof(Template *));
	templates[ntemplates++] = t;
	return t;
}
