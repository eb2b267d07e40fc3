/*-------------------------------------------------------------------------
 *
 * admin.c
 *	  The admin API under /_admin/ (plain HTTP on 127.0.0.1 only): clock,
 *	  faults, seed and reset, request log, number state, inventory, stats
 *	  and session expiry.  README.md documents each call.
 *
 *-------------------------------------------------------------------------
 */
#include "tfsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

static const char *
arg(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

static bool
parse_long(const char *text, long min, long max, long *out)
{
	char	   *end;
	long		v;

	if (text == NULL || *text == '\0')
		return false;
	v = strtol(text, &end, 10);
	if (*end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static void
fail(int *status, StrBuf *out, int code, const char *msg)
{
	*status = code;
	sb_reset(out);
	sb_printf(out, "error: %s\n", msg);
}

/* The admin view of a number: numInfo, lock and a records summary. */
static void
admin_number_view(StrBuf *out, uint64_t num)
{
	NumEntry   *e = store_get(num);
	RecList    *rl;

	if (e)
		entry_normalize(e, sim_now());
	sb_puts(out, "<adminNumber>");
	xml_num_info(out, e, num, true);
	if (e && e->lock_owner && (int64_t) e->lock_until > sim_now())
	{
		char		ts[21];

		format_timestamp(e->lock_until, ts);
		sb_elem(out, "lockOwner", resporgs[e->lock_owner].id);
		sb_elem(out, "lockUntil", ts);
	}
	if (e && e->eint_dt && e->status == ST_DISCONNECT)
	{
		char		d[11];

		format_date(e->eint_dt, d);
		sb_elem(out, "endInterceptDt", d);
	}
	sb_puts(out, "<records>");
	rl = e ? entry_records(e, false) : NULL;
	for (int i = 0; rl && i < rl->n; i++)
	{
		char		ts[21];
		char		parts[32];

		format_timestamp(rl->v[i].eff, ts);
		sb_printf(out, "<rec><effDtTm>%s</effDtTm><custRecStat>%s</custRecStat>"
				  "<custRecCompPart>%s</custRecCompPart><actionCode>%c</actionCode>"
				  "<recVersionId>%u</recVersionId></rec>",
				  ts, rec_status_names[rl->v[i].stat],
				  custrec_comp_part(&rl->v[i], parts), rl->v[i].action,
				  rl->v[i].version);
	}
	sb_puts(out, "</records></adminNumber>\n");
}

static bool
date_arg(struct MHD_Connection *conn, const char *name, int32_t *day)
{
	const char *v = arg(conn, name);

	if (v == NULL)
		return true;
	return parse_date(v, day);
}

/*
 * PUT /_admin/number/{num}: force a state.  Records are regenerated the way
 * seeded numbers have them (an ACTIVE record for WORKING and SUSPEND, an
 * OLD and a DISCONNECT record for DISCONNECT and TRANSITIONAL).
 */
static void
admin_force_number(struct MHD_Connection *conn, uint64_t num, int *status,
				   StrBuf *out)
{
	int			st = num_status_from_name(arg(conn, "status"));
	const char *ro_text = arg(conn, "resporg");
	int			ro = resporg_find(ro_text);
	int32_t		today = sim_today();
	int32_t		eff = today,
				until = 0,
				last_act = 0,
				disc_until = 0,
				eint = 0;
	NumEntry   *e;

	if (st < 0)
	{
		fail(status, out, 400, "status must be one of SPARE RESERVED ASSIGNED WORKING DISCONNECT TRANSITIONAL UNAVAILABLE SUSPEND");
		return;
	}
	if (st != ST_SPARE && st != ST_UNAVAILABLE && ro == 0)
	{
		fail(status, out, 400, "resporg must name a known RespOrg");
		return;
	}
	if (!date_arg(conn, "effDt", &eff) || !date_arg(conn, "resUntilDt", &until) ||
		!date_arg(conn, "lastActDt", &last_act) ||
		!date_arg(conn, "discUntilDt", &disc_until) ||
		!date_arg(conn, "endInterceptDt", &eint))
	{
		fail(status, out, 400, "dates must be YYYY-MM-DD");
		return;
	}

	e = store_get_or_add(num);
	entry_drop_records(e);
	if (st == ST_SPARE)
	{
		entry_to_spare(e, eff);
		if (last_act)
			e->last_act_dt = (uint16_t) last_act;
		admin_number_view(out, num);
		return;
	}
	entry_set_status(e, st, st == ST_UNAVAILABLE ? 0 : ro);
	e->eff_dt = (uint16_t) eff;
	e->res_until_dt = 0;
	e->disc_until_dt = 0;
	e->eint_dt = 0;
	e->lock_owner = 0;
	e->lock_until = 0;
	if (last_act)
		e->last_act_dt = (uint16_t) last_act;
	if (e->contact == 0 && st != ST_UNAVAILABLE)
		e->flags |= NF_SEEDED_CONTACT;

	switch (st)
	{
		case ST_RESERVED:
			e->res_until_dt = (uint16_t) (until ? until : eff + 45);
			break;
		case ST_WORKING:
		case ST_SUSPEND:
			e->flags |= NF_SEEDED_RECS;
			break;
		case ST_DISCONNECT:
		case ST_TRANSITIONAL:
			if (!last_act)
				e->last_act_dt = (uint16_t) eff;
			e->disc_until_dt = (uint16_t) (disc_until ? disc_until : e->last_act_dt + 120);
			e->eint_dt = (uint16_t) (eint ? eint : (st == ST_DISCONNECT ? e->last_act_dt + 30 : eff));
			e->flags |= NF_SEEDED_RECS;
			break;
		default:
			break;
	}
	admin_number_view(out, num);
}

static void
admin_inventory(StrBuf *out, int ro)
{
	uint32_t	n;
	uint32_t   *idx = resporg_sorted(ro, &n);
	int64_t		now = sim_now();

	sb_puts(out, "num,status,effDt,resUntilDt,discUntilDt,lastActDt\n");
	for (uint32_t i = 0; i < n; i++)
	{
		NumEntry   *e = &store_entries[idx[i]];

		entry_normalize(e, now);
		if (e->resporg == ro)
			csv_inventory_row(out, e);
	}
}

static void
admin_stats(StrBuf *out)
{
	uint64_t	by_status[ST_COUNT] = {0};

	sb_printf(out, "open_connections %llu\n", (unsigned long long) stat_open_connections());
	sb_printf(out, "connections_total %llu\n", (unsigned long long) stat_connections_total());
	sb_printf(out, "sessions_open %d\n", session_count());
	sb_printf(out, "entries %u\n", store_count ? store_count - 1 : 0);
	for (int ro = 1; ro <= nresporgs; ro++)
		for (int st = 0; st < ST_COUNT; st++)
		{
			by_status[st] += resporgs[ro].counts[st];
			if (st != ST_SPARE)
				sb_printf(out, "numbers %s %s %llu\n", resporgs[ro].id,
						  num_status_names[st],
						  (unsigned long long) resporgs[ro].counts[st]);
		}
	for (int st = 1; st < ST_COUNT; st++)
		sb_printf(out, "numbers_total %s %llu\n", num_status_names[st],
				  (unsigned long long) by_status[st]);
	reqlog_path_stats(out);
}

/*
 * Handle one admin request.  Fills status, out and ctype; text responses end
 * with a newline.
 */
void
admin_handle(struct MHD_Connection *conn, const char *method, const char *url,
			 const char *body, size_t body_len, int *status, StrBuf *out,
			 const char **ctype)
{
	char		ts[21];
	bool		get = strcmp(method, "GET") == 0;
	bool		post = strcmp(method, "POST") == 0;

	(void) body;
	(void) body_len;
	*status = 200;

	if (strcmp(url, "/_admin/requests") == 0 && get)
	{
		long		since = 0;

		if (arg(conn, "since") && !parse_long(arg(conn, "since"), 0, 1L << 62, &since))
		{
			fail(status, out, 400, "since must be a sequence number");
			return;
		}
		reqlog_dump(out, (uint64_t) since, arg(conn, "path"), arg(conn, "method"));
		return;
	}

	pthread_mutex_lock(&sim_lock);
	store_sweep_if_due(sim_now());

	if (strcmp(url, "/_admin/clock") == 0 && get)
	{
		format_timestamp(sim_now(), ts);
		sb_printf(out, "%s\n", ts);
	}
	else if (strcmp(url, "/_admin/clock/advance") == 0 && post)
	{
		long		days = 0,
					minutes = 0;

		if ((arg(conn, "days") && !parse_long(arg(conn, "days"), 0, 3650, &days)) ||
			(arg(conn, "minutes") && !parse_long(arg(conn, "minutes"), 0, 5256000, &minutes)))
			fail(status, out, 400, "days (0..3650) and minutes (0..5256000) must be non-negative integers");
		else
		{
			clock_advance((int64_t) days * SECS_PER_DAY + (int64_t) minutes * 60);
			store_sweep(sim_now());
			format_timestamp(sim_now(), ts);
			sb_printf(out, "%s\n", ts);
			sim_log("clock advanced by %ld days %ld minutes to %s", days, minutes, ts);
		}
	}
	else if (strcmp(url, "/_admin/faults") == 0 && post)
	{
		char		err[256];
		int			id = fault_add(arg(conn, "path"), arg(conn, "kind"), arg(conn, "count"),
								   arg(conn, "ms"), arg(conn, "status"), arg(conn, "bytes"),
								   arg(conn, "page"), arg(conn, "probability"),
								   arg(conn, "retry_after"), arg(conn, "method"),
								   arg(conn, "jitter"), err, sizeof(err));

		if (id == 0)
			fail(status, out, 400, err);
		else
			sb_printf(out, "%d\n", id);
	}
	else if (strcmp(url, "/_admin/faults") == 0 && get)
		faults_list(out);
	else if (strcmp(url, "/_admin/faults") == 0 && strcmp(method, "DELETE") == 0)
	{
		faults_clear();
		sb_puts(out, "ok\n");
	}
	else if (strcmp(url, "/_admin/seed") == 0 && post)
	{
		long		numbers = sim_config.numbers;
		long		seed = (long) sim_config.seed;
		const char *list = arg(conn, "resporgs");

		if ((arg(conn, "numbers") && !parse_long(arg(conn, "numbers"), 0, 20000000, &numbers)) ||
			(arg(conn, "seed") && !parse_long(arg(conn, "seed"), 0, 1L << 62, &seed)) ||
			(list && (strlen(list) == 0 || strlen(list) >= sizeof(sim_config.resporgs))))
			fail(status, out, 400, "numbers must be 0..20000000, seed a non-negative integer, resporgs a comma-separated list");
		else
		{
			if (list)
				strcpy(sim_config.resporgs, list);
			seed_store((uint64_t) seed, numbers);
			sb_printf(out, "seeded %ld numbers with seed %ld\n", numbers, seed);
			sim_log("reseeded %ld numbers with seed %ld", numbers, seed);
		}
	}
	else if (strcmp(url, "/_admin/reset") == 0 && post)
	{
		sim_reset_all();
		sb_puts(out, "ok\n");
	}
	else if (strncmp(url, "/_admin/number/", 15) == 0 && (get || strcmp(method, "PUT") == 0))
	{
		uint64_t	num;

		if (parse_num(url + 15, &num) != 0)
			fail(status, out, 400, "number must be 10 digits with an open toll-free NPA");
		else
		{
			*ctype = "application/xml; charset=utf-8";
			if (get)
				admin_number_view(out, num);
			else
				admin_force_number(conn, num, status, out);
			if (*status != 200)
				*ctype = "text/plain; charset=utf-8";
		}
	}
	else if (strncmp(url, "/_admin/inventory/", 18) == 0 && get)
	{
		int			ro = resporg_find(url + 18);

		if (ro == 0)
			fail(status, out, 404, "unknown RespOrg");
		else
		{
			*ctype = "text/csv; charset=utf-8";
			admin_inventory(out, ro);
		}
	}
	else if (strcmp(url, "/_admin/stats") == 0 && get)
		admin_stats(out);
	else if (strcmp(url, "/_admin/sessions/expire") == 0 && post)
	{
		sessions_expire_all();
		sb_puts(out, "ok\n");
	}
	else
		fail(status, out, 404, "unknown admin resource or method; see test/sim/README.md");

	pthread_mutex_unlock(&sim_lock);
}
