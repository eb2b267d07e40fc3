/*-------------------------------------------------------------------------
 *
 * store.c
 *	  The in-memory number store: one compact NumEntry per number that is
 *	  or was held by a RespOrg (every other number is SPARE implicitly),
 *	  found through an open-addressing hash table, plus per-RespOrg sorted
 *	  indexes for the RespOrg check and per-status counters.
 *
 * Time-driven status changes (reservation expiry, disconnect aging, record
 * activation) are applied by entry_normalize() whenever a number is read,
 * and by a sweep over all entries whenever simulator time passes the next
 * scheduled event (midnight or a record's effective time).  Both run under
 * sim_lock, so every response is consistent with the simulated time.
 *
 *-------------------------------------------------------------------------
 */
#include "tfsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const num_status_names[ST_COUNT] = {
	"SPARE", "RESERVED", "ASSIGNED", "WORKING", "DISCONNECT",
	"TRANSITIONAL", "UNAVAILABLE", "SUSPEND"
};

const int	open_npas[] = {800, 833, 844, 855, 866, 877, 888};
const int	n_open_npas = sizeof(open_npas) / sizeof(open_npas[0]);

RespOrg		resporgs[MAX_RESPORGS + 1];
int			nresporgs;
Entity		entities[MAX_ENTITIES + 1];
int			nentities;

NumEntry   *store_entries;		/* index 0 is unused */
uint32_t	store_count;		/* entries in use, including index 0 */
static uint32_t store_cap;
static uint32_t *hash_slots;	/* entry index per slot, 0 = empty */
static uint32_t hash_cap;		/* power of two */

static Contact *contacts;		/* index 0 is unused */
static uint32_t ncontacts;
static uint32_t contacts_cap;
static uint32_t contact_free;	/* head of the free list, through tel */

static int64_t next_event;		/* simulator time of the next sweep */

int
num_status_from_name(const char *name)
{
	for (int i = 0; i < ST_COUNT; i++)
		if (name && strcmp(name, num_status_names[i]) == 0)
			return i;
	return -1;
}

bool
npa_is_open(int npa)
{
	for (int i = 0; i < n_open_npas; i++)
		if (open_npas[i] == npa)
			return true;
	return false;
}

/*
 * Parse a 10-digit toll-free number.  Returns 0 on success, 1 for a bad
 * format (099012) and 2 for an NPA that is not open (801116).
 */
int
parse_num(const char *s, uint64_t *num)
{
	uint64_t	v = 0;

	if (s == NULL || strlen(s) != 10)
		return 1;
	for (int i = 0; i < 10; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return 1;
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	if (!npa_is_open((int) (v / 10000000)))
		return 2;
	*num = v;
	return 0;
}

int
entity_find(const char *id)
{
	for (int i = 1; i <= nentities; i++)
		if (strncmp(entities[i].id, id, 2) == 0)
			return i;
	return 0;
}

int
resporg_find(const char *id)
{
	if (id == NULL)
		return 0;
	for (int i = 1; i <= nresporgs; i++)
		if (strcmp(resporgs[i].id, id) == 0)
			return i;
	return 0;
}

/*
 * Register a RespOrg ID (5 upper-case letters or digits) and its entity.
 * Returns its index, 0 when the ID is invalid or the table is full.
 */
int
resporg_add(const char *id)
{
	int			ro = resporg_find(id);
	int			ent;

	if (ro)
		return ro;
	if (strlen(id) != 5 || nresporgs >= MAX_RESPORGS)
		return 0;
	for (int i = 0; i < 5; i++)
		if (!((id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= '0' && id[i] <= '9')))
			return 0;

	ent = entity_find(id);
	if (ent == 0)
	{
		if (nentities >= MAX_ENTITIES)
			return 0;
		ent = ++nentities;
		memcpy(entities[ent].id, id, 2);
		entities[ent].id[2] = '\0';
	}

	ro = ++nresporgs;
	memset(&resporgs[ro], 0, sizeof(RespOrg));
	memcpy(resporgs[ro].id, id, 5);
	resporgs[ro].entity = (uint8_t) ent;
	return ro;
}

/* Drop every number, record and contact; RespOrgs stay registered. */
void
store_clear(void)
{
	records_clear_all();
	free(store_entries);
	free(hash_slots);
	store_entries = NULL;
	hash_slots = NULL;
	store_count = store_cap = hash_cap = 0;

	for (uint32_t i = 1; i < ncontacts; i++)
	{
		free(contacts[i].name);
		free(contacts[i].tel);
		free(contacts[i].notes);
	}
	free(contacts);
	contacts = NULL;
	ncontacts = contacts_cap = contact_free = 0;

	for (int i = 1; i <= nresporgs; i++)
	{
		free(resporgs[i].sorted);
		resporgs[i].sorted = NULL;
		resporgs[i].nsorted = 0;
		resporgs[i].dirty = true;
		resporgs[i].rck_page = 0;
		memset(resporgs[i].counts, 0, sizeof(resporgs[i].counts));
	}
	next_event = 0;
}

static void
hash_insert(uint32_t idx)
{
	uint32_t	mask = hash_cap - 1;
	uint32_t	h = (uint32_t) hash64(store_entries[idx].num) & mask;

	while (hash_slots[h] != 0)
		h = (h + 1) & mask;
	hash_slots[h] = idx;
}

static void
hash_resize(uint32_t cap)
{
	free(hash_slots);
	hash_cap = cap;
	hash_slots = xcalloc(cap, sizeof(uint32_t));
	for (uint32_t i = 1; i < store_count; i++)
		hash_insert(i);
}

/* Make room for n entries without reallocating on the way. */
void
store_reserve_capacity(uint32_t n)
{
	uint32_t	hcap = 1024;

	n += 1;
	if (n > store_cap)
	{
		store_entries = xrealloc(store_entries, (size_t) n * sizeof(NumEntry));
		store_cap = n;
	}
	if (store_count == 0)
	{
		memset(&store_entries[0], 0, sizeof(NumEntry));
		store_count = 1;
	}
	while (hcap < n * 2)
		hcap *= 2;
	if (hcap > hash_cap)
		hash_resize(hcap);
}

NumEntry *
store_get(uint64_t num)
{
	uint32_t	mask,
				h;

	if (hash_cap == 0)
		return NULL;
	mask = hash_cap - 1;
	h = (uint32_t) hash64(num) & mask;
	while (hash_slots[h] != 0)
	{
		NumEntry   *e = &store_entries[hash_slots[h]];

		if (e->num == num)
			return e;
		h = (h + 1) & mask;
	}
	return NULL;
}

uint32_t
store_index(const NumEntry *e)
{
	return (uint32_t) (e - store_entries);
}

/* Find the entry of num, creating a SPARE one when the number has none. */
NumEntry *
store_get_or_add(uint64_t num)
{
	NumEntry   *e = store_get(num);
	uint32_t	idx;

	if (e)
		return e;
	if (store_count + 1 > store_cap)
		store_reserve_capacity(store_cap < 1024 ? 1024 : store_cap * 2);
	if ((uint64_t) (store_count + 1) * 2 > hash_cap)
		hash_resize(hash_cap * 2);

	idx = store_count++;
	e = &store_entries[idx];
	memset(e, 0, sizeof(NumEntry));
	e->num = num;
	e->status = ST_SPARE;
	hash_insert(idx);
	return e;
}

/*
 * Change status and controlling RespOrg, keeping the counters and the
 * RespOrg check indexes right.  Bumps recVersionId.
 */
void
entry_set_status(NumEntry *e, int status, int resporg)
{
	if (e->resporg)
		resporgs[e->resporg].counts[e->status]--;
	if (resporg && resporg != e->resporg)
		resporgs[resporg].dirty = true;
	e->status = (uint8_t) status;
	e->resporg = (uint8_t) resporg;
	if (resporg)
		resporgs[resporg].counts[status]++;
	e->version++;
}

/* Return the number to the spare pool on the given day. */
void
entry_to_spare(NumEntry *e, int32_t day)
{
	entry_set_status(e, ST_SPARE, 0);
	e->eff_dt = (uint16_t) day;
	e->res_until_dt = 0;
	e->disc_until_dt = 0;
	e->eint_dt = 0;
	e->lock_until = 0;
	e->lock_owner = 0;
	e->flags &= ~(NF_SEEDED_RECS | NF_SEEDED_CONTACT);
	entry_clear_contact(e);
	entry_drop_records(e);
}

/*
 * Apply every time-driven change due by now: record activation first (it can
 * move a number ASSIGNED -> WORKING or WORKING -> DISCONNECT), then the
 * status timers, each on the day it fell due.
 */
void
entry_normalize(NumEntry *e, int64_t now)
{
	int32_t		today = (int32_t) (now / SECS_PER_DAY);

	if (e->pend_at && now >= (int64_t) e->pend_at)
		records_due(e, now);

	if (e->status == ST_RESERVED && e->res_until_dt && today > e->res_until_dt)
		entry_to_spare(e, e->res_until_dt + 1);
	else if (e->status == ST_ASSIGNED && e->eff_dt &&
			 today >= add_months(e->eff_dt, 6))
		entry_to_spare(e, add_months(e->eff_dt, 6));

	if (e->status == ST_DISCONNECT && e->eint_dt && today >= e->eint_dt)
	{
		int			ro = e->resporg;

		entry_set_status(e, ST_TRANSITIONAL, ro);
		e->eff_dt = e->eint_dt;
	}
	if ((e->status == ST_DISCONNECT || e->status == ST_TRANSITIONAL) &&
		e->disc_until_dt && today >= e->disc_until_dt)
		entry_to_spare(e, e->disc_until_dt);
}

/* Ask for a sweep at simulator time when (or earlier). */
void
store_schedule(int64_t when)
{
	if (next_event == 0 || when < next_event)
		next_event = when;
}

/* Normalize every entry and find the time of the next event. */
void
store_sweep(int64_t now)
{
	int64_t		next = (now / SECS_PER_DAY + 1) * SECS_PER_DAY;

	for (uint32_t i = 1; i < store_count; i++)
	{
		NumEntry   *e = &store_entries[i];

		entry_normalize(e, now);
		if (e->pend_at && (int64_t) e->pend_at < next)
			next = e->pend_at;
	}
	next_event = next;
}

void
store_sweep_if_due(int64_t now)
{
	if (next_event == 0 || now >= next_event)
		store_sweep(now);
}

static int
cmp_entry_index(const void *a, const void *b)
{
	uint64_t	x = store_entries[*(const uint32_t *) a].num;
	uint64_t	y = store_entries[*(const uint32_t *) b].num;

	return x < y ? -1 : x > y;
}

/*
 * The entries of a RespOrg ascending by number, rebuilt when numbers joined
 * it since the last build.  The array may still list numbers that left the
 * RespOrg since; callers skip entries whose resporg differs.
 */
uint32_t *
resporg_sorted(int ro, uint32_t *n)
{
	RespOrg    *r = &resporgs[ro];

	if (r->dirty)
	{
		uint32_t	cnt = 0;

		for (uint32_t i = 1; i < store_count; i++)
			if (store_entries[i].resporg == ro)
				cnt++;
		free(r->sorted);
		r->sorted = xmalloc((size_t) (cnt ? cnt : 1) * sizeof(uint32_t));
		cnt = 0;
		for (uint32_t i = 1; i < store_count; i++)
			if (store_entries[i].resporg == ro)
				r->sorted[cnt++] = i;
		qsort(r->sorted, cnt, sizeof(uint32_t), cmp_entry_index);
		r->nsorted = cnt;
		r->dirty = false;
	}
	*n = r->nsorted;
	return r->sorted;
}

uint64_t
entity_count(int entity, int status)
{
	uint64_t	total = 0;

	for (int i = 1; i <= nresporgs; i++)
		if (resporgs[i].entity == entity)
			total += resporgs[i].counts[status];
	return total;
}

/* Reservation cap: max(--res-limit, 7.5 % of the entity's WORKING numbers). */
uint64_t
entity_res_limit(int entity)
{
	uint64_t	pct = entity_count(entity, ST_WORKING) * 75 / 1000;
	uint64_t	base = (uint64_t) sim_config.res_limit;

	return pct > base ? pct : base;
}

/*
 * Contact data of a number.  Seeded numbers derive theirs from the seed
 * until a write stores real values; name and tel buffers hold at least 32
 * bytes.
 */
void
entry_contact(const NumEntry *e, Contact *out, char *namebuf, char *telbuf)
{
	out->name = out->tel = out->notes = NULL;
	if (e->contact)
	{
		*out = contacts[e->contact];
		return;
	}
	if (e->flags & NF_SEEDED_CONTACT)
	{
		seed_entry_contact(e, namebuf, telbuf);
		out->name = namebuf;
		out->tel = telbuf;
	}
}

void
entry_clear_contact(NumEntry *e)
{
	Contact    *c;

	e->flags &= ~NF_SEEDED_CONTACT;
	if (e->contact == 0)
		return;
	c = &contacts[e->contact];
	free(c->name);
	free(c->tel);
	free(c->notes);
	c->name = c->notes = NULL;
	c->tel = (char *) (uintptr_t) contact_free;
	contact_free = e->contact;
	e->contact = 0;
}

/* Store contact data; a NULL argument keeps the current value. */
void
entry_set_contact(NumEntry *e, const char *name, const char *tel,
				  const char *notes)
{
	Contact    *c;

	if (e->contact == 0)
	{
		char		nb[32],
					tb[32];
		Contact		seeded;
		uint32_t	idx;

		entry_contact(e, &seeded, nb, tb);
		if (contact_free)
		{
			idx = contact_free;
			contact_free = (uint32_t) (uintptr_t) contacts[idx].tel;
		}
		else
		{
			if (ncontacts == 0)
				ncontacts = 1;
			if (ncontacts >= contacts_cap)
			{
				contacts_cap = contacts_cap ? contacts_cap * 2 : 1024;
				contacts = xrealloc(contacts, contacts_cap * sizeof(Contact));
			}
			idx = ncontacts++;
		}
		contacts[idx].name = xstrdup(seeded.name);
		contacts[idx].tel = xstrdup(seeded.tel);
		contacts[idx].notes = NULL;
		e->contact = idx;
		e->flags &= ~NF_SEEDED_CONTACT;
	}

	c = &contacts[e->contact];
	if (name)
	{
		free(c->name);
		c->name = xstrdup(name);
	}
	if (tel)
	{
		free(c->tel);
		c->tel = xstrdup(tel);
	}
	if (notes)
	{
		free(c->notes);
		c->notes = xstrdup(notes);
	}
}
