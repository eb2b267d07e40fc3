/*-------------------------------------------------------------------------
 *
 * seed.c
 *	  Deterministic seeded data: the numbers the RespOrgs hold, their
 *	  contact data and customer records, a few templates per entity, and a
 *	  set of fixed numbers that tests rely on (listed in README.md).
 *
 * Everything depends only on --seed, --numbers, --resporgs and the
 * simulator date at seed time.  Contact data and records of seeded numbers
 * are derived from the seed when first read (seed_entry_contact,
 * seed_entry_records), so a large seed stays within its 48-byte entries.
 *
 *-------------------------------------------------------------------------
 */
#include "tfsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t	seed_current;

/* 8005550000-8005550999 stay SPARE; 8005560000-8005560999 are fixed. */
#define TEST_RANGE_LOW	8005550000ULL
#define TEST_RANGE_HIGH 8005560999ULL

bool
num_is_test_range(uint64_t num)
{
	return num >= TEST_RANGE_LOW && num <= TEST_RANGE_HIGH;
}

static uint64_t
entry_hash(const NumEntry *e)
{
	return hash64(e->num ^ (seed_current * 0x100000001b3ULL));
}

/* Effective time of the PENDING record of a seeded ASSIGNED number. */
static int64_t
seed_assigned_eff(const NumEntry *e)
{
	uint64_t	h = entry_hash(e);

	return ((int64_t) e->eff_dt + 31 + (int64_t) (h % 60)) * SECS_PER_DAY +
		(int64_t) ((h >> 8) % 96) * 900;
}

void
seed_entry_contact(const NumEntry *e, char *name, char *tel)
{
	uint64_t	h = entry_hash(e);

	snprintf(name, 32, "Contact %04u", (unsigned) (h % 10000));
	snprintf(tel, 32, "732555%04u", (unsigned) ((h >> 16) % 10000));
}

static void
seed_record_content(const NumEntry *e, CustRec *r, bool full)
{
	uint64_t	h = entry_hash(e);
	char		buf[1024];
	char		name[32],
				tel[32];
	unsigned	dest = (unsigned) ((h >> 20) % 10000);

	seed_entry_contact(e, name, tel);
	snprintf(buf, sizeof(buf),
			 "<svcOrderNum>S%07uA</svcOrderNum><hldIndFlag>N</hldIndFlag>"
			 "<conName>%s</conName><conTel>%s</conTel>"
			 "<interLATACarrier><cic>0288</cic></interLATACarrier>"
			 "<intraLATACarrier><cic>0288</cic></intraLATACarrier>"
			 "<aos><aosNet>US</aosNet></aos>"
			 "<destNums><destNum><num>732555%04u</num>"
			 "<numTermLine>10</numTermLine></destNum></destNums>",
			 (unsigned) (h % 10000000), name, tel, dest);
	r->cad = xstrdup(buf);
	if (full || h % 5 == 0)
	{
		snprintf(buf, sizeof(buf),
				 "<cprSect name=\"MAIN\"><nodeSeq><type>state</type>"
				 "<type>carrier</type><type>termNum</type></nodeSeq>"
				 "<row><val>*EAST</val><val>0288</val><val>732555%04u</val></row>"
				 "<row><val>OTHER</val><val>0288</val><val>732555%04u</val></row>"
				 "</cprSect>", dest, (dest + 1) % 10000);
		r->cpr = xstrdup(buf);
		r->lad = xstrdup("<lbl name=\"*EAST\" type=\"ST\"><val>NJ</val>"
						 "<val>NY</val></lbl>");
	}
}

/* Generate the records a seeded number had before the simulator started. */
void
seed_entry_records(NumEntry *e, RecList *rl)
{
	bool		full = num_is_test_range(e->num);
	CustRec    *r;

	switch (e->status)
	{
		case ST_WORKING:
		case ST_SUSPEND:
			r = reclist_insert(rl, (int64_t) e->eff_dt * SECS_PER_DAY);
			r->stat = RS_ACTIVE;
			memcpy(r->ctrl, resporgs[e->resporg].id, 6);
			seed_record_content(e, r, full);
			break;
		case ST_ASSIGNED:
			r = reclist_insert(rl, seed_assigned_eff(e));
			r->stat = RS_PENDING;
			memcpy(r->ctrl, resporgs[e->resporg].id, 6);
			seed_record_content(e, r, full);
			break;
		case ST_DISCONNECT:
		case ST_TRANSITIONAL:
			r = reclist_insert(rl, ((int64_t) e->last_act_dt - 200) * SECS_PER_DAY);
			r->stat = RS_OLD;
			memcpy(r->ctrl, resporgs[e->resporg].id, 6);
			seed_record_content(e, r, full);
			r = reclist_insert(rl, (int64_t) e->last_act_dt * SECS_PER_DAY + 43200);
			r->stat = RS_DISCONNECT;
			r->action = 'D';
			r->referral = 'N';
			r->eint_dt = e->eint_dt;
			memcpy(r->ctrl, resporgs[e->resporg].id, 6);
			r->cad = xstrdup("<hldIndFlag>N</hldIndFlag>");
			break;
		default:
			break;
	}
}

/* Give a number a seeded state; dates are days relative to today. */
static void
seed_set(NumEntry *e, int status, int ro, int32_t today, uint64_t h)
{
	int			age;

	entry_set_status(e, status, ro);
	e->version = 1 + (uint32_t) (h % 9);
	switch (status)
	{
		case ST_WORKING:
		case ST_SUSPEND:
			e->eff_dt = (uint16_t) (today - 1 - (int32_t) ((h >> 8) % 3000));
			e->flags |= NF_SEEDED_RECS | NF_SEEDED_CONTACT;
			break;
		case ST_RESERVED:
			age = (int) ((h >> 8) % 45);
			e->eff_dt = (uint16_t) (today - age);
			e->res_until_dt = (uint16_t) (e->eff_dt + 45);
			e->flags |= NF_SEEDED_CONTACT;
			break;
		case ST_ASSIGNED:
			age = (int) ((h >> 8) % 31);
			e->eff_dt = (uint16_t) (today - age);
			e->flags |= NF_SEEDED_RECS | NF_SEEDED_CONTACT;
			e->pend_at = (uint32_t) seed_assigned_eff(e);
			break;
		case ST_DISCONNECT:
			age = (int) ((h >> 8) % 30);
			e->last_act_dt = (uint16_t) (today - age);
			e->eff_dt = e->last_act_dt;
			e->eint_dt = (uint16_t) (e->last_act_dt + 30);
			e->disc_until_dt = (uint16_t) (e->last_act_dt + 120);
			e->flags |= NF_SEEDED_RECS;
			break;
		case ST_TRANSITIONAL:
			age = 30 + (int) ((h >> 8) % 90);
			e->last_act_dt = (uint16_t) (today - age);
			e->eint_dt = (uint16_t) (e->last_act_dt + 1 + (int) ((h >> 20) % 29));
			e->eff_dt = e->eint_dt;
			e->disc_until_dt = (uint16_t) (e->last_act_dt + 120);
			e->flags |= NF_SEEDED_RECS;
			break;
		default:
			e->eff_dt = (uint16_t) today;
			break;
	}
}

/*
 * Force one fixed number's state.  last_act and eint are days relative to
 * today, used for DISCONNECT and TRANSITIONAL numbers.
 */
static void
seed_fixed(uint64_t num, int status, int ro, int32_t today, int age,
		   int last_act, int eint)
{
	NumEntry   *e = store_get_or_add(num);

	entry_set_status(e, status, ro);
	e->version = 1;
	e->eff_dt = (uint16_t) (today - age);
	switch (status)
	{
		case ST_WORKING:
		case ST_SUSPEND:
			e->flags |= NF_SEEDED_RECS | NF_SEEDED_CONTACT;
			break;
		case ST_RESERVED:
			e->res_until_dt = (uint16_t) (e->eff_dt + 45);
			e->flags |= NF_SEEDED_CONTACT;
			break;
		case ST_ASSIGNED:
			e->flags |= NF_SEEDED_CONTACT;
			break;
		case ST_DISCONNECT:
		case ST_TRANSITIONAL:
			e->last_act_dt = (uint16_t) (today + last_act);
			e->eint_dt = (uint16_t) (today + eint);
			e->disc_until_dt = (uint16_t) (e->last_act_dt + 120);
			e->eff_dt = status == ST_DISCONNECT ? e->last_act_dt : e->eint_dt;
			e->flags |= NF_SEEDED_RECS;
			break;
		default:
			break;
	}
}

static void
seed_fixed_numbers(const int *ro, int32_t today)
{
	NumEntry   *e;
	RecList    *rl;
	CustRec    *r;

	seed_fixed(8005560001ULL, ST_WORKING, ro[0], today, 400, 0, 0);
	seed_fixed(8005560002ULL, ST_WORKING, ro[1], today, 300, 0, 0);
	seed_fixed(8005560003ULL, ST_WORKING, ro[2], today, 200, 0, 0);
	seed_fixed(8005560004ULL, ST_WORKING, ro[3], today, 100, 0, 0);
	seed_fixed(8005560005ULL, ST_WORKING, ro[0], today, 90, 0, 0);
	seed_fixed(8005560006ULL, ST_WORKING, ro[0], today, 80, 0, 0);
	seed_fixed(8005560007ULL, ST_WORKING, ro[0], today, 70, 0, 0);
	seed_fixed(8005560010ULL, ST_RESERVED, ro[0], today, 10, 0, 0);
	seed_fixed(8005560011ULL, ST_RESERVED, ro[2], today, 5, 0, 0);
	seed_fixed(8005560012ULL, ST_RESERVED, ro[0], today, 44, 0, 0);
	seed_fixed(8005560013ULL, ST_RESERVED, ro[1], today, 0, 0, 0);
	seed_fixed(8005560014ULL, ST_RESERVED, ro[0], today, 1, 0, 0);
	seed_fixed(8005560015ULL, ST_RESERVED, ro[0], today, 1, 0, 0);
	seed_fixed(8005560030ULL, ST_DISCONNECT, ro[0], today, 0, -60, 30);
	seed_fixed(8005560031ULL, ST_DISCONNECT, ro[0], today, 0, -10, 20);
	seed_fixed(8005560040ULL, ST_TRANSITIONAL, ro[0], today, 0, -90, -60);
	seed_fixed(8005560041ULL, ST_TRANSITIONAL, ro[0], today, 0, -20, -5);
	seed_fixed(8005560042ULL, ST_TRANSITIONAL, ro[2], today, 0, -50, -20);
	seed_fixed(8005560050ULL, ST_UNAVAILABLE, 0, today, 30, 0, 0);
	seed_fixed(8005560051ULL, ST_SUSPEND, ro[0], today, 20, 0, 0);

	/* ASSIGNED with one PENDING record at noon two days from today */
	seed_fixed(8005560020ULL, ST_ASSIGNED, ro[0], today, 3, 0, 0);
	e = store_get(8005560020ULL);
	rl = entry_records(e, true);
	r = reclist_insert(rl, ((int64_t) today + 2) * SECS_PER_DAY + 43200);
	r->stat = RS_PENDING;
	memcpy(r->ctrl, resporgs[ro[0]].id, 6);
	seed_record_content(e, r, true);
	entry_reschedule(e);
}

static void
seed_templates(int32_t today)
{
	static const char *const suffixes[] = {"SALES", "SUPPORT", "NIGHT"};

	for (int ent = 1; ent <= nentities; ent++)
	{
		int			owner = 0;

		for (int ro = 1; ro <= nresporgs && owner == 0; ro++)
			if (resporgs[ro].entity == ent)
				owner = ro;
		if (owner == 0)
			continue;

		for (size_t s = 0; s < sizeof(suffixes) / sizeof(suffixes[0]); s++)
		{
			char		name[16];
			char		cad[512];
			Template   *t;
			CustRec    *r;

			snprintf(name, sizeof(name), "*%s%s", entities[ent].id, suffixes[s]);
			t = template_add(name);
			if (t == NULL)
				continue;
			r = reclist_insert(&t->recs, ((int64_t) today - 30) * SECS_PER_DAY);
			r->stat = RS_ACTIVE;
			memcpy(r->ctrl, resporgs[owner].id, 6);
			snprintf(cad, sizeof(cad),
					 "<tmplDesc>%s routing</tmplDesc>"
					 "<interLATACarrier><cic>0288</cic></interLATACarrier>"
					 "<intraLATACarrier><cic>0288</cic></intraLATACarrier>"
					 "<aos><aosNet>US</aosNet></aos>"
					 "<destNums><destNum><num>73255590%02zu</num>"
					 "<numTermLine>20</numTermLine></destNum></destNums>",
					 suffixes[s], s);
			r->cad = xstrdup(cad);
			r->lad = xstrdup("<lbl name=\"*EAST\" type=\"ST\"><val>NJ</val>"
							 "<val>NY</val></lbl>");
			r->cpr = xstrdup("<cprSect name=\"MAIN\"><nodeSeq><type>state</type>"
							 "<type>carrier</type><type>termNum</type></nodeSeq>"
							 "<row><val>*EAST</val><val>0288</val><val>7325559000</val></row>"
							 "<row><val>OTHER</val><val>0288</val><val>7325559001</val></row>"
							 "</cprSect>");
		}
	}
}

/*
 * Replace the store with numbers the RespOrgs control, drawn from the seed:
 * the first RespOrg controls about 40 %, the others share the rest, in a mix of
 * about 80 % WORKING, 8 % RESERVED, 4 % ASSIGNED, 5 % DISCONNECT and 3 %
 * TRANSITIONAL.  Caller holds sim_lock.
 */
void
seed_store(uint64_t seed, long numbers)
{
	int32_t		today = sim_today();
	int			ros[MAX_RESPORGS];
	int			nros = 0;
	int			fixed_ro[4];
	char		list[512];
	char	   *save = NULL;
	Rng			rng;
	long		made = 0;

	store_clear();
	seed_current = seed;
	rng_seed(&rng, seed);

	strcpy(list, sim_config.resporgs);
	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		int			ro = resporg_add(tok);

		if (ro && nros < MAX_RESPORGS)
			ros[nros++] = ro;
	}
	if (nros == 0)
		ros[nros++] = resporg_add("RUC01");
	for (int i = 0; i < 4; i++)
		fixed_ro[i] = ros[i < nros ? i : 0];

	store_reserve_capacity((uint32_t) numbers + 1024);
	/* Exchange codes (NXX) start with 2-9 in the NANP, so lines start at 2000000. */
	while (made < numbers)
	{
		int			npa = open_npas[rng_below(&rng, n_open_npas)];
		uint64_t	num = (uint64_t) npa * 10000000ULL + 2000000ULL + rng_below(&rng, 8000000ULL);
		uint64_t	h = rng_next(&rng);
		unsigned	mix = (unsigned) (h % 1000);
		unsigned	share = (unsigned) ((h >> 40) % 1000);
		int			ro;
		int			status;
		NumEntry   *e;

		if (num_is_test_range(num) || store_get(num))
			continue;

		if (nros == 1 || share < 400)
			ro = ros[0];
		else
			ro = ros[1 + (share - 400) * (unsigned) (nros - 1) / 600];

		if (mix < 800)
			status = ST_WORKING;
		else if (mix < 880)
			status = ST_RESERVED;
		else if (mix < 920)
			status = ST_ASSIGNED;
		else if (mix < 970)
			status = ST_DISCONNECT;
		else
			status = ST_TRANSITIONAL;

		e = store_get_or_add(num);
		if (npa == 833 && (h >> 50) % 10 == 0)
			e->flags |= NF_AUCTION;
		seed_set(e, status, ro, today, h);
		made++;
	}

	seed_fixed_numbers(fixed_ro, today);
	seed_templates(today);
	for (int i = 1; i <= nresporgs; i++)
	{
		uint32_t	n;

		resporg_sorted(i, &n);
	}
	store_sweep(sim_now());
}
