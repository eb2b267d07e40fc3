/*-------------------------------------------------------------------------
 *
 * api_num.c
 *	  Number administration: query, search, reserve, search-and-reserve,
 *	  update (spare, change RespOrg, contact data), reservation limits and
 *	  the RespOrg check.
 *
 * Each handler runs under sim_lock with req->now taken once, so a request
 * uses one simulated time throughout.
 *
 *-------------------------------------------------------------------------
 */
#include "tfsim.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NUMS_PER_REQUEST 10

static Rng search_rng = {0x5eed5eed};

static void
num_to_str(uint64_t num, char out[11])
{
	snprintf(out, 11, "%010llu", (unsigned long long) num);
}

/* Set the whole-request error of a parse_num() failure in res. */
static void
bad_num_error(ApiResult *res, int rc, const char *text)
{
	char		msg[160];

	if (rc == 2)
	{
		snprintf(msg, sizeof(msg), "NPA of number \"%.20s\" is not an open toll-free NPA", text);
		api_error(res, 400, "801116", msg);
	}
	else
	{
		snprintf(msg, sizeof(msg), "invalid number \"%.20s\": expected 10 digits", text);
		api_error(res, 400, "099012", msg);
	}
}

/*
 * Read the <num> children of a list element into nums.  Returns the count,
 * or -1 with res filled (099027 empty, 099045 more than 10, 099012/801116).
 */
static int
collect_nums(xmlNodePtr list, uint64_t *nums, ApiResult *res)
{
	int			n = 0;

	if (list == NULL)
	{
		api_error(res, 400, "099027", "missing mandatory element numList");
		return -1;
	}
	for (xmlNodePtr c = list->children; c; c = c->next)
	{
		char	   *text;
		int			rc;

		if (c->type != XML_ELEMENT_NODE || strcmp((const char *) c->name, "num") != 0)
			continue;
		if (n >= MAX_NUMS_PER_REQUEST)
		{
			api_error(res, 400, "099045", "too many numbers in one request: at most 10");
			return -1;
		}
		text = xml_node_text(c);
		rc = parse_num(text, &nums[n]);
		if (rc != 0)
		{
			bad_num_error(res, rc, text);
			free(text);
			return -1;
		}
		free(text);
		n++;
	}
	if (n == 0)
	{
		api_error(res, 400, "099027", "numList contains no num");
		return -1;
	}
	return n;
}

/* Contact name: 1 to 30 characters, no digits, none of ~ " | ^ */
static bool
valid_con_name(const char *s)
{
	size_t		len = strlen(s);

	if (len == 0 || len > 30)
		return false;
	for (; *s; s++)
		if (isdigit((unsigned char) *s) || strchr("~\"|^", *s))
			return false;
	return true;
}

/* Contact telephone: 10 digits, area code and exchange not starting 0/1. */
static bool
valid_con_tel(const char *s)
{
	if (strlen(s) != 10)
		return false;
	for (int i = 0; i < 10; i++)
		if (!isdigit((unsigned char) s[i]))
			return false;
	return s[0] >= '2' && s[3] >= '2';
}

/*
 * Validate optional contact elements; with required, conName and conTel
 * must be present.  Returns false with res filled.
 */
static bool
check_contact(const char *name, const char *tel, const char *notes,
			  bool required, ApiResult *res)
{
	if (required && (name == NULL || tel == NULL))
	{
		api_error(res, 400, "099027", "missing mandatory element conName or conTel");
		return false;
	}
	if (name && !valid_con_name(name))
	{
		api_error(res, 400, "801120", "invalid contact name: 1 to 30 characters, no digits, none of ~ \" | ^");
		return false;
	}
	if (tel && !valid_con_tel(tel))
	{
		api_error(res, 400, "801121", "invalid contact telephone number: 10 digits, NPA and NXX not starting with 0 or 1");
		return false;
	}
	if (notes && strlen(notes) > 255)
	{
		api_error(res, 400, "099043", "shrtNotes longer than 255 characters");
		return false;
	}
	return true;
}

static NumEntry *
entry_now(uint64_t num, int64_t now)
{
	NumEntry   *e = store_get(num);

	if (e)
		entry_normalize(e, now);
	return e;
}

/* GET /num/tfn/query/tfn/{num} */
void
api_query_one(ApiRequest *req, ApiResult *res, const char *text)
{
	uint64_t	num;
	int			rc = parse_num(text, &num);
	NumEntry   *e;

	if (rc != 0)
	{
		bad_num_error(res, rc, text);
		return;
	}
	e = entry_now(num, req->now);
	res->status = 200;
	sb_puts(&res->body, "<queryResponse>");
	xml_num_info(&res->body, e, num, e && e->resporg && req->upd[e->resporg]);
	sb_puts(&res->body, "</queryResponse>");
}

/* PUT /num/tfn/query */
void
api_query_many(ApiRequest *req, ApiResult *res)
{
	xmlDocPtr	doc = xml_parse_request(req->body, req->body_len, "numQuery", res);
	uint64_t	nums[MAX_NUMS_PER_REQUEST];
	int			n;

	if (doc == NULL)
		return;
	n = collect_nums(xml_child(xmlDocGetRootElement(doc), "numList"), nums, res);
	if (n > 0)
	{
		res->status = 200;
		sb_puts(&res->body, "<queryResponse>");
		for (int i = 0; i < n; i++)
		{
			NumEntry   *e = entry_now(nums[i], req->now);

			xml_num_info(&res->body, e, nums[i], e && e->resporg && req->upd[e->resporg]);
		}
		sb_puts(&res->body, "</queryResponse>");
	}
	xmlFreeDoc(doc);
}

/*
 * Whether num can be offered to RespOrg me: SPARE and not pre-reserved by
 * another RespOrg.
 */
static bool
spare_for(uint64_t num, int me, int64_t now)
{
	NumEntry   *e = entry_now(num, now);

	if (e == NULL)
		return true;
	if (e->status != ST_SPARE)
		return false;
	return !(e->lock_owner && e->lock_owner != me && (int64_t) e->lock_until > now);
}

static void
lock_for(uint64_t num, int me, int64_t now)
{
	NumEntry   *e = store_get_or_add(num);

	e->lock_owner = (uint8_t) me;
	e->lock_until = (uint32_t) (now + sim_config.lock_seconds);
}

typedef struct SearchSpec
{
	int			qty;
	int			npa;			/* 0 = any open NPA */
	bool		cons;
	char		pattern[11];	/* "" = none; letters already mapped */
	uint64_t	nums[MAX_NUMS_PER_REQUEST];
	int			nnums;
} SearchSpec;

static char
keypad_digit(char c)
{
	static const char map[] = "22233344455566677778889999";

	return map[c - 'A'];
}

/*
 * Read the search elements shared by search and search-and-reserve.
 * Returns false with res filled.
 */
static bool
parse_search_spec(xmlNodePtr root, SearchSpec *spec, ApiResult *res)
{
	char	   *qty = xml_child_text(root, "qty");
	char	   *npa = xml_child_text(root, "npa");
	char	   *cons = xml_child_text(root, "cons");
	char	   *wild = xml_child_text(root, "wildCardNum");
	xmlNodePtr	list = xml_child(root, "numList");
	bool		ok = false;

	memset(spec, 0, sizeof(SearchSpec));
	spec->qty = 1;
	if (qty)
	{
		char	   *end;
		long		v = strtol(qty, &end, 10);

		if (*qty == '\0' || *end != '\0' || v < 1 || v > MAX_NUMS_PER_REQUEST)
		{
			api_error(res, 400, "801105", "invalid quantity: qty must be 1 to 10");
			goto done;
		}
		spec->qty = (int) v;
	}
	if (npa)
	{
		if (strlen(npa) != 3 || !isdigit((unsigned char) npa[0]) ||
			!isdigit((unsigned char) npa[1]) || !isdigit((unsigned char) npa[2]) ||
			!npa_is_open(atoi(npa)))
		{
			api_error(res, 400, "801116", "npa is not an open toll-free NPA");
			goto done;
		}
		spec->npa = atoi(npa);
	}
	if (cons)
	{
		if (strcmp(cons, "Y") != 0 && strcmp(cons, "N") != 0)
		{
			api_error(res, 400, "099043", "cons must be Y or N");
			goto done;
		}
		spec->cons = cons[0] == 'Y';
	}
	if (wild)
	{
		int			amps = 0;

		if (strlen(wild) != 10)
		{
			api_error(res, 400, "801128", "invalid wildcard number: it must be 10 characters");
			goto done;
		}
		for (int i = 0; i < 10; i++)
		{
			char		c = (char) toupper((unsigned char) wild[i]);

			if (c == '&')
				amps++;
			if (isdigit((unsigned char) c) || c == '*' || c == '&')
				spec->pattern[i] = c;
			else if (c >= 'A' && c <= 'Z' && i >= 3)
				spec->pattern[i] = keypad_digit(c);
			else
			{
				api_error(res, 400, "801128", "invalid wildcard number: digits, letters after the NPA, * and & only");
				goto done;
			}
		}
		spec->pattern[10] = '\0';
		if (amps == 1)
		{
			api_error(res, 400, "801113", "a lone & is not a valid pattern");
			goto done;
		}
		if (spec->cons && spec->pattern[9] != '*')
		{
			api_error(res, 400, "801114", "with consecutive numbers the pattern must end in *");
			goto done;
		}
		if (isdigit((unsigned char) spec->pattern[0]) &&
			isdigit((unsigned char) spec->pattern[1]) &&
			isdigit((unsigned char) spec->pattern[2]))
		{
			int			pnpa = atoi((char[]) {spec->pattern[0], spec->pattern[1], spec->pattern[2], 0});

			if (!npa_is_open(pnpa) || (spec->npa && spec->npa != pnpa))
			{
				api_error(res, 400, "801116", "NPA of the pattern is not an open toll-free NPA");
				goto done;
			}
		}
	}
	if (list)
	{
		spec->nnums = collect_nums(list, spec->nums, res);
		if (spec->nnums < 0)
			goto done;
	}
	ok = true;

done:
	free(qty);
	free(npa);
	free(cons);
	free(wild);
	return ok;
}

static bool
pattern_match(const char *pat, uint64_t num)
{
	char		d[11];
	char		amp = 0;

	num_to_str(num, d);
	for (int i = 0; i < 10; i++)
	{
		if (pat[i] == '*')
			continue;
		if (pat[i] == '&')
		{
			if (amp == 0)
				amp = d[i];
			else if (amp != d[i])
				return false;
			continue;
		}
		if (pat[i] != d[i])
			return false;
	}
	return true;
}

/* The candidate number for combination k of the pattern's free digits. */
static uint64_t
pattern_candidate(const char *pat, uint64_t k, bool has_amp)
{
	char		d[11];
	char		amp = '0';

	if (has_amp)
	{
		amp = (char) ('0' + k % 10);
		k /= 10;
	}
	for (int i = 9; i >= 0; i--)
	{
		if (pat[i] == '*')
		{
			d[i] = (char) ('0' + k % 10);
			k /= 10;
		}
		else if (pat[i] == '&')
			d[i] = amp;
		else
			d[i] = pat[i];
	}
	d[10] = '\0';
	return strtoull(d, NULL, 10);
}

static bool
in_list(const uint64_t *list, int n, uint64_t num)
{
	for (int i = 0; i < n; i++)
		if (list[i] == num)
			return true;
	return false;
}

/*
 * Whether a run of len numbers from base can all go to me: same NPA, each
 * spare for me, each matching the pattern (if any) with an exchange code
 * that exists in the NANP, none already found and none in the test range that
 * random searches keep out of.
 */
static bool
run_available(const SearchSpec *spec, uint64_t base, int len, int me,
			  int64_t now, const uint64_t *found, int nfound)
{
	for (int i = 0; i < len; i++)
	{
		uint64_t	num = base + (uint64_t) i;
		int			npa = (int) (num / 10000000);

		if (!npa_is_open(npa) || (spec->npa && npa != spec->npa))
			return false;
		/* no NANP exchange code (NXX) starts with 0 or 1 */
		if ((num / 1000000) % 10 < 2)
			return false;
		if (num / 10000000 != base / 10000000)
			return false;
		if (spec->pattern[0] && !pattern_match(spec->pattern, num))
			return false;
		if (num_is_test_range(num) || in_list(found, nfound, num))
			return false;
		if (!spare_for(num, me, now))
			return false;
	}
	return true;
}

/*
 * Find spare numbers for spec and pre-reserve them for RespOrg me.  Random
 * and pattern searches never offer 8005550000-8005560999, which tests use;
 * a specific search may.  Returns the count found (0..qty).
 */
static int
search_core(const SearchSpec *spec, int me, int64_t now, uint64_t *found)
{
	int			nfound = 0;
	int			run = spec->cons ? spec->qty : 1;

	if (spec->nnums > 0)
	{
		for (int i = 0; i < spec->nnums; i++)
			if (!in_list(found, nfound, spec->nums[i]) && spare_for(spec->nums[i], me, now))
				found[nfound++] = spec->nums[i];
	}
	else if (spec->pattern[0])
	{
		bool		has_amp = strchr(spec->pattern, '&') != NULL;
		int			stars = 0;
		uint64_t	combos = has_amp ? 10 : 1;

		for (int i = 0; i < 10; i++)
			if (spec->pattern[i] == '*')
				stars++;
		for (int i = 0; i < stars && combos < 100000000ULL; i++)
			combos *= 10;

		if (combos <= 200000)
		{
			/* few candidates: walk them all from a random start */
			uint64_t	start = rng_below(&search_rng, combos);

			for (uint64_t k = 0; k < combos && nfound + run <= spec->qty; k++)
			{
				uint64_t	base = pattern_candidate(spec->pattern, (start + k) % combos, has_amp);

				if (run_available(spec, base, run, me, now, found, nfound))
					for (int j = 0; j < run; j++)
						found[nfound++] = base + (uint64_t) j;
			}
		}
		else
		{
			for (int tries = 0; tries < 5000 && nfound + run <= spec->qty; tries++)
			{
				uint64_t	base = pattern_candidate(spec->pattern, rng_below(&search_rng, combos), has_amp);

				if (run_available(spec, base, run, me, now, found, nfound))
					for (int j = 0; j < run; j++)
						found[nfound++] = base + (uint64_t) j;
			}
		}
	}
	else
	{
		for (int tries = 0; tries < 2000 && nfound + run <= spec->qty; tries++)
		{
			int			npa = spec->npa ? spec->npa : open_npas[rng_below(&search_rng, n_open_npas)];
			uint64_t	base = (uint64_t) npa * 10000000ULL + 2000000ULL + rng_below(&search_rng, 8000000ULL);

			if (run_available(spec, base, run, me, now, found, nfound))
				for (int j = 0; j < run; j++)
					found[nfound++] = base + (uint64_t) j;
		}
	}

	for (int i = 0; i < nfound; i++)
		lock_for(found[i], me, now);
	return nfound;
}

static void
warn_fewer(StrBuf *sb, int found, int wanted)
{
	char		msg[96];

	snprintf(msg, sizeof(msg), "found %d of %d requested spare numbers", found, wanted);
	sb_puts(sb, "<errList>");
	sb_err(sb, "801104", msg, "WARN");
	sb_puts(sb, "</errList>");
}

/* PUT /num/tfn/search */
void
api_search(ApiRequest *req, ApiResult *res)
{
	xmlDocPtr	doc = xml_parse_request(req->body, req->body_len, "numSearch", res);
	SearchSpec	spec;
	uint64_t	found[MAX_NUMS_PER_REQUEST];
	int			n;
	int			wanted;

	if (doc == NULL)
		return;
	if (!parse_search_spec(xmlDocGetRootElement(doc), &spec, res))
		goto done;

	n = search_core(&spec, req->resporg, req->now, found);
	wanted = spec.nnums > 0 ? spec.nnums : spec.qty;
	if (n == 0)
	{
		api_error(res, 409, "801122", "no spare number matches the search");
		goto done;
	}
	res->status = 200;
	sb_puts(&res->body, "<searchResponse><numList>");
	for (int i = 0; i < n; i++)
	{
		char		s[11];

		num_to_str(found[i], s);
		sb_elem(&res->body, "num", s);
	}
	sb_puts(&res->body, "</numList>");
	if (n < wanted)
		warn_fewer(&res->body, n, wanted);
	sb_puts(&res->body, "</searchResponse>");

done:
	xmlFreeDoc(doc);
}

static void
num_result_error(StrBuf *sb, uint64_t num, const char *code, const char *msg)
{
	char		s[11];

	num_to_str(num, s);
	sb_puts(sb, "<numResult>");
	sb_elem(sb, "num", s);
	sb_puts(sb, "<errList>");
	sb_err(sb, code, msg, "ERROR");
	sb_puts(sb, "</errList></numResult>");
}

static void
num_result_ok(StrBuf *sb, const NumEntry *e)
{
	char		s[11];
	char		d[11];

	num_to_str(e->num, s);
	sb_puts(sb, "<numResult>");
	sb_elem(sb, "num", s);
	sb_elem(sb, "status", num_status_names[e->status]);
	if (e->resporg)
		sb_elem(sb, "ctrlRespOrgId", resporgs[e->resporg].id);
	if (e->status == ST_RESERVED && e->res_until_dt)
	{
		format_date(e->res_until_dt, d);
		sb_elem(sb, "resUntilDt", d);
	}
	sb_printf(sb, "<recVersionId>%u</recVersionId></numResult>", e->version);
}

/*
 * Reserve one number for the caller's RespOrg and append its numResult:
 * SPARE numbers not pre-reserved by another RespOrg, and TRANSITIONAL
 * numbers of the caller's RespOrgs (re-reservation), within the entity's
 * reservation limit.
 */
static void
reserve_one(ApiRequest *req, uint64_t num, const char *name, const char *tel,
			const char *notes, StrBuf *out)
{
	NumEntry   *e = store_get_or_add(num);
	int			me = req->resporg;
	int			entity = resporgs[me].entity;
	int32_t		today = (int32_t) (req->now / SECS_PER_DAY);
	bool		rereserve;

	entry_normalize(e, req->now);
	rereserve = e->status == ST_TRANSITIONAL && req->upd[e->resporg];
	if (e->status != ST_SPARE && !rereserve)
	{
		num_result_error(out, num, "801124", "number is not spare");
		return;
	}
	if (e->status == ST_SPARE && e->lock_owner && e->lock_owner != me &&
		(int64_t) e->lock_until > req->now)
	{
		num_result_error(out, num, "801125", "number is pre-reserved by another RespOrg");
		return;
	}
	if (entity_count(entity, ST_RESERVED) >= entity_res_limit(entity))
	{
		num_result_error(out, num, "801117", "entity reservation limit exceeded");
		return;
	}

	if (rereserve)
		entry_drop_records(e);
	entry_set_status(e, ST_RESERVED, rereserve ? e->resporg : me);
	e->eff_dt = (uint16_t) today;
	e->res_until_dt = (uint16_t) (today + 45);
	e->disc_until_dt = 0;
	e->eint_dt = 0;
	e->lock_owner = 0;
	e->lock_until = 0;
	entry_clear_contact(e);
	entry_set_contact(e, name, tel, notes);
	num_result_ok(out, e);
}

/* POST /num/tfn/reserve */
void
api_reserve(ApiRequest *req, ApiResult *res)
{
	xmlDocPtr	doc = xml_parse_request(req->body, req->body_len, "numReserve", res);
	xmlNodePtr	root;
	uint64_t	nums[MAX_NUMS_PER_REQUEST];
	int			n;
	char	   *name = NULL,
			   *tel = NULL,
			   *notes = NULL;

	if (doc == NULL)
		return;
	root = xmlDocGetRootElement(doc);
	n = collect_nums(xml_child(root, "numList"), nums, res);
	if (n < 0)
		goto done;
	name = xml_child_text(root, "conName");
	tel = xml_child_text(root, "conTel");
	notes = xml_child_text(root, "shrtNotes");
	if (!check_contact(name, tel, notes, true, res))
		goto done;

	res->status = 200;
	sb_puts(&res->body, "<reserveResponse>");
	for (int i = 0; i < n; i++)
		reserve_one(req, nums[i], name, tel, notes, &res->body);
	sb_puts(&res->body, "</reserveResponse>");

done:
	free(name);
	free(tel);
	free(notes);
	xmlFreeDoc(doc);
}

/* POST /num/tfn/srchres */
void
api_srchres(ApiRequest *req, ApiResult *res)
{
	xmlDocPtr	doc = xml_parse_request(req->body, req->body_len, "numSrchRes", res);
	xmlNodePtr	root;
	SearchSpec	spec;
	uint64_t	found[MAX_NUMS_PER_REQUEST];
	int			n;
	int			wanted;
	char	   *name = NULL,
			   *tel = NULL,
			   *notes = NULL;

	if (doc == NULL)
		return;
	root = xmlDocGetRootElement(doc);
	if (!parse_search_spec(root, &spec, res))
		goto done;
	name = xml_child_text(root, "conName");
	tel = xml_child_text(root, "conTel");
	notes = xml_child_text(root, "shrtNotes");
	if (!check_contact(name, tel, notes, true, res))
		goto done;

	n = search_core(&spec, req->resporg, req->now, found);
	wanted = spec.nnums > 0 ? spec.nnums : spec.qty;
	if (n == 0)
	{
		api_error(res, 409, "801122", "no spare number matches the search");
		goto done;
	}
	res->status = 200;
	sb_puts(&res->body, "<reserveResponse>");
	for (int i = 0; i < n; i++)
		reserve_one(req, found[i], name, tel, notes, &res->body);
	if (n < wanted)
		warn_fewer(&res->body, n, wanted);
	sb_puts(&res->body, "</reserveResponse>");

done:
	free(name);
	free(tel);
	free(notes);
	xmlFreeDoc(doc);
}

typedef struct UpdateSpec
{
	bool		spare;
	int			new_ro;			/* 0 = no change */
	const char *new_ro_text;
	const char *name;
	const char *tel;
	const char *notes;
	int32_t		res_until;		/* 0 = no change */
} UpdateSpec;

/* Apply a RespOrg change to one number; returns an error code or NULL. */
static const char *
change_resporg(ApiRequest *req, NumEntry *e, const UpdateSpec *spec,
			   const char **msg)
{
	int			target = spec->new_ro;
	RecList    *rl;

	if (target == 0)
	{
		*msg = "unknown RespOrg";
		return "802115";
	}
	if (!req->upd[target])
	{
		*msg = "the caller may not give numbers to this RespOrg";
		return "099038";
	}
	switch (e->status)
	{
		case ST_ASSIGNED:
		case ST_DISCONNECT:
		case ST_RESERVED:
		case ST_SUSPEND:
		case ST_TRANSITIONAL:
		case ST_WORKING:
			break;
		default:
			*msg = "number's status does not allow a RespOrg change";
			return "802112";
	}
	if (e->status == ST_RESERVED &&
		resporgs[target].entity != resporgs[e->resporg].entity)
	{
		int			ent = resporgs[target].entity;

		if (entity_count(ent, ST_RESERVED) >= entity_res_limit(ent))
		{
			*msg = "gaining RespOrg is at its reservation limit";
			return "802110";
		}
	}

	rl = entry_records(e, false);
	for (int i = 0; rl && i < rl->n; i++)
	{
		if (rl->v[i].stat == RS_PENDING)
			rl->v[i].stat = RS_MUSTCHECK;
		memcpy(rl->v[i].ctrl, resporgs[target].id, 6);
	}
	entry_set_status(e, e->status, target);
	entry_reschedule(e);
	return NULL;
}

/* Apply an update to one number and append its numResult. */
static void
update_one(ApiRequest *req, uint64_t num, const char *version,
		   const UpdateSpec *spec, StrBuf *out)
{
	NumEntry   *e = entry_now(num, req->now);
	int32_t		today = (int32_t) (req->now / SECS_PER_DAY);
	const char *code = NULL;
	const char *msg = NULL;
	uint32_t	old_version;

	if (e == NULL || e->status == ST_SPARE)
	{
		if (spec->spare)
			num_result_error(out, num, "801130", "number is already spare");
		else if (spec->new_ro_text)
			num_result_error(out, num, "802112", "number's status does not allow a RespOrg change");
		else
			num_result_error(out, num, "801131", "number's status does not allow this change");
		return;
	}
	if (e->resporg == 0 || !req->upd[e->resporg])
	{
		num_result_error(out, num, "099038", "no permission: the number belongs to another RespOrg");
		return;
	}
	if (version == NULL || version[0] == '\0')
	{
		num_result_error(out, num, "099027", "missing mandatory element recVersionId");
		return;
	}
	if (strtoul(version, NULL, 10) != e->version)
	{
		num_result_error(out, num, "099003", "number changed by someone else: recVersionId is stale");
		return;
	}
	old_version = e->version;

	if (spec->spare)
	{
		switch (e->status)
		{
			case ST_RESERVED:
				entry_to_spare(e, today);
				break;
			case ST_DISCONNECT:
			case ST_TRANSITIONAL:
				if (today < e->last_act_dt + 45)
				{
					num_result_error(out, num, "801140", "disconnect aging of 45 days is not complete");
					return;
				}
				entry_to_spare(e, today);
				break;
			default:
				num_result_error(out, num, "801131", "number's status does not allow this change");
				return;
		}
		e->version = old_version + 1;
		num_result_ok(out, e);
		return;
	}

	if (spec->res_until)
	{
		if (e->status != ST_RESERVED)
		{
			num_result_error(out, num, "801131", "resUntilDt applies only to RESERVED numbers");
			return;
		}
		if (spec->res_until < today || spec->res_until > e->eff_dt + 45)
		{
			num_result_error(out, num, "099043", "resUntilDt must be between today and 45 days after the reservation");
			return;
		}
	}
	if (spec->new_ro_text)
	{
		code = change_resporg(req, e, spec, &msg);
		if (code)
		{
			num_result_error(out, num, code, msg);
			return;
		}
	}
	if (spec->res_until)
		e->res_until_dt = (uint16_t) spec->res_until;
	if (spec->name || spec->tel || spec->notes)
		entry_set_contact(e, spec->name, spec->tel, spec->notes);
	e->version = old_version + 1;
	num_result_ok(out, e);
}

/* PUT /num/tfn/update */
void
api_update(ApiRequest *req, ApiResult *res)
{
	xmlDocPtr	doc = xml_parse_request(req->body, req->body_len, "numUpdate", res);
	xmlNodePtr	root,
				list;
	UpdateSpec	spec;
	char	   *status = NULL,
			   *ro = NULL,
			   *name = NULL,
			   *tel = NULL,
			   *notes = NULL,
			   *until = NULL;
	uint64_t	nums[MAX_NUMS_PER_REQUEST];
	char	   *versions[MAX_NUMS_PER_REQUEST];
	int			n = 0;

	if (doc == NULL)
		return;
	root = xmlDocGetRootElement(doc);
	memset(&spec, 0, sizeof(spec));
	status = xml_child_text(root, "status");
	ro = xml_child_text(root, "ctrlRespOrgId");
	name = xml_child_text(root, "conName");
	tel = xml_child_text(root, "conTel");
	notes = xml_child_text(root, "shrtNotes");
	until = xml_child_text(root, "resUntilDt");

	list = xml_child(root, "tfNumList");
	if (list == NULL)
	{
		api_error(res, 400, "099027", "missing mandatory element tfNumList");
		goto done;
	}
	for (xmlNodePtr c = list->children; c; c = c->next)
	{
		char	   *text;
		int			rc;

		if (c->type != XML_ELEMENT_NODE || strcmp((const char *) c->name, "tfNum") != 0)
			continue;
		if (n >= MAX_NUMS_PER_REQUEST)
		{
			api_error(res, 400, "099045", "too many numbers in one request: at most 10");
			goto done;
		}
		text = xml_child_text(c, "num");
		rc = parse_num(text, &nums[n]);
		if (rc != 0)
		{
			bad_num_error(res, rc, text ? text : "");
			free(text);
			goto done;
		}
		free(text);
		versions[n++] = xml_child_text(c, "recVersionId");
	}
	if (n == 0)
	{
		api_error(res, 400, "099027", "tfNumList contains no tfNum");
		goto done;
	}

	if (status && strcmp(status, "SPARE") != 0)
	{
		api_error(res, 400, "099043", "status may only be SPARE");
		goto done;
	}
	if (!status && !ro && !name && !tel && !notes && !until)
	{
		api_error(res, 400, "099027", "nothing to update: give status, ctrlRespOrgId, contact data or resUntilDt");
		goto done;
	}
	if (!check_contact(name, tel, notes, false, res))
		goto done;
	if (until && !parse_date(until, &spec.res_until))
	{
		api_error(res, 400, "099044", "invalid date: resUntilDt must be YYYY-MM-DD");
		goto done;
	}
	spec.spare = status != NULL;
	spec.new_ro_text = ro;
	spec.new_ro = ro ? resporg_find(ro) : 0;
	spec.name = name;
	spec.tel = tel;
	spec.notes = notes;

	res->status = 200;
	sb_puts(&res->body, "<updateResponse>");
	for (int i = 0; i < n; i++)
		update_one(req, nums[i], versions[i], &spec, &res->body);
	sb_puts(&res->body, "</updateResponse>");

done:
	for (int i = 0; i < n; i++)
		free(versions[i]);
	free(status);
	free(ro);
	free(name);
	free(tel);
	free(notes);
	free(until);
	xmlFreeDoc(doc);
}

/* GET /num/res/limits: the caller's entity. */
void
api_res_limits(ApiRequest *req, ApiResult *res)
{
	int			ent = resporgs[req->resporg].entity;
	uint64_t	limit = entity_res_limit(ent);
	uint64_t	used = entity_count(ent, ST_RESERVED);

	res->status = 200;
	sb_printf(&res->body,
			  "<resLimits><entity>%s</entity><maxResLimit>%llu</maxResLimit>"
			  "<resNumCnt>%llu</resNumCnt><remainingRes>%llu</remainingRes></resLimits>",
			  entities[ent].id, (unsigned long long) limit,
			  (unsigned long long) used,
			  (unsigned long long) (used < limit ? limit - used : 0));
}

/*
 * GET /num/rck/{respOrgId}: validate and leave the page to the streaming
 * writer in http.c.
 */
void
api_rck(ApiRequest *req, ApiResult *res, const char *id)
{
	int			ro = resporg_find(id);
	const char *start = api_arg(req, "startKey");
	const char *size = api_arg(req, "pageSize");
	uint64_t	start_num = 0;
	long		page_size = sim_config.page_size;

	if (ro == 0 || !req->upd[ro])
	{
		api_error(res, 403, "099038", "no permission to check this RespOrg");
		return;
	}
	if (size)
	{
		char	   *end;

		page_size = strtol(size, &end, 10);
		if (*size == '\0' || *end != '\0' || page_size < 1 || page_size > 100000)
		{
			api_error(res, 400, "099043", "pageSize must be 1 to 100000");
			return;
		}
	}
	if (start)
	{
		if (strlen(start) != 10 || strspn(start, "0123456789") != 10)
		{
			api_error(res, 400, "099012", "invalid startKey: expected a 10-digit number");
			return;
		}
		start_num = strtoull(start, NULL, 10);
	}
	res->status = 200;
	res->rck_resporg = ro;
	res->rck_start = start_num;
	res->rck_page_size = (uint32_t) page_size;
}
