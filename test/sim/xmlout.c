/*-------------------------------------------------------------------------
 *
 * xmlout.c
 *	  Response documents: numInfo, RespOrg check rows, inventory CSV rows
 *	  and customer records.
 *
 * The RespOrg check writes rows with hand-made formatting and a table of
 * preformatted dates, because a check of a million numbers must stream in
 * well under two seconds.
 *
 *-------------------------------------------------------------------------
 */
#include "tfsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char (*date_cache)[11];	/* "YYYY-MM-DD" for every uint16 day */

static const char *
date_str(uint16_t day)
{
	if (date_cache == NULL)
	{
		date_cache = xmalloc(65536 * sizeof(*date_cache));
		for (int d = 0; d < 65536; d++)
			format_date(d, date_cache[d]);
	}
	return date_cache[day];
}

static void
put_num(StrBuf *sb, uint64_t num)
{
	char		digits[10];

	for (int i = 9; i >= 0; i--)
	{
		digits[i] = (char) ('0' + num % 10);
		num /= 10;
	}
	sb_append(sb, digits, 10);
}

static void
put_u32(StrBuf *sb, uint32_t v)
{
	char		buf[12];
	int			pos = 12;

	do
	{
		buf[--pos] = (char) ('0' + v % 10);
		v /= 10;
	} while (v);
	sb_append(sb, buf + pos, 12 - pos);
}

static void
put_date_elem(StrBuf *sb, const char *open, const char *close, uint16_t day)
{
	if (day == 0)
		return;
	sb_puts(sb, open);
	sb_append(sb, date_str(day), 10);
	sb_puts(sb, close);
}

/*
 * The numInfo of a number; e may be NULL for a number never held.  Contact
 * fields appear only when show_contact is set (the caller's RespOrgs).
 */
void
xml_num_info(StrBuf *sb, NumEntry *e, uint64_t num, bool show_contact)
{
	sb_puts(sb, "<numInfo><num>");
	put_num(sb, num);
	sb_puts(sb, "</num><status>");
	sb_puts(sb, num_status_names[e ? e->status : ST_SPARE]);
	sb_puts(sb, "</status>");
	if (e == NULL)
	{
		sb_puts(sb, "<auctnInd>N</auctnInd></numInfo>");
		return;
	}
	if (e->resporg)
	{
		sb_puts(sb, "<ctrlRespOrgId>");
		sb_puts(sb, resporgs[e->resporg].id);
		sb_puts(sb, "</ctrlRespOrgId>");
	}
	put_date_elem(sb, "<effDt>", "</effDt>", e->eff_dt);
	if (e->status == ST_RESERVED)
		put_date_elem(sb, "<resUntilDt>", "</resUntilDt>", e->res_until_dt);
	if (e->status == ST_DISCONNECT || e->status == ST_TRANSITIONAL)
		put_date_elem(sb, "<discUntilDt>", "</discUntilDt>", e->disc_until_dt);
	put_date_elem(sb, "<lastActDt>", "</lastActDt>", e->last_act_dt);
	if (show_contact)
	{
		char		nb[32],
					tb[32];
		Contact		c;

		entry_contact(e, &c, nb, tb);
		sb_elem(sb, "conName", c.name);
		sb_elem(sb, "conTel", c.tel);
		sb_elem(sb, "shrtNotes", c.notes);
	}
	sb_puts(sb, "<recVersionId>");
	put_u32(sb, e->version);
	sb_puts(sb, "</recVersionId><auctnInd>");
	sb_puts(sb, (e->flags & NF_AUCTION) ? "Y" : "N");
	sb_puts(sb, "</auctnInd></numInfo>");
}

/*
 * One RespOrg check row: numInfo without contact fields and without
 * ctrlRespOrgId, which the page's respOrgId gives once.  Leaving it out cuts
 * a row from about 164 to 128 bytes.
 */
void
xml_rck_row(StrBuf *sb, const NumEntry *e)
{
	sb_reserve(sb, 320);
	sb_puts(sb, "<numInfo><num>");
	put_num(sb, e->num);
	sb_puts(sb, "</num><status>");
	sb_puts(sb, num_status_names[e->status]);
	sb_puts(sb, "</status>");
	put_date_elem(sb, "<effDt>", "</effDt>", e->eff_dt);
	if (e->status == ST_RESERVED)
		put_date_elem(sb, "<resUntilDt>", "</resUntilDt>", e->res_until_dt);
	if (e->status == ST_DISCONNECT || e->status == ST_TRANSITIONAL)
		put_date_elem(sb, "<discUntilDt>", "</discUntilDt>", e->disc_until_dt);
	put_date_elem(sb, "<lastActDt>", "</lastActDt>", e->last_act_dt);
	sb_puts(sb, "<recVersionId>");
	put_u32(sb, e->version);
	sb_puts(sb, "</recVersionId></numInfo>\n");
}

/* num,status,effDt,resUntilDt,discUntilDt,lastActDt with the same rules. */
void
csv_inventory_row(StrBuf *sb, const NumEntry *e)
{
	put_num(sb, e->num);
	sb_puts(sb, ",");
	sb_puts(sb, num_status_names[e->status]);
	sb_puts(sb, ",");
	if (e->eff_dt)
		sb_append(sb, date_str(e->eff_dt), 10);
	sb_puts(sb, ",");
	if (e->status == ST_RESERVED && e->res_until_dt)
		sb_append(sb, date_str(e->res_until_dt), 10);
	sb_puts(sb, ",");
	if ((e->status == ST_DISCONNECT || e->status == ST_TRANSITIONAL) &&
		e->disc_until_dt)
		sb_append(sb, date_str(e->disc_until_dt), 10);
	sb_puts(sb, ",");
	if (e->last_act_dt)
		sb_append(sb, date_str(e->last_act_dt), 10);
	sb_puts(sb, "\n");
}

/*
 * Append RespOrg check rows of RespOrg ro after *cursor until *remaining
 * rows were written or out contains max_bytes.  Advances *cursor to the last
 * number written.  Caller holds sim_lock.  Returns the rows written.
 */
size_t
rck_render(int ro, uint64_t *cursor, uint32_t *remaining, StrBuf *out,
		   size_t max_bytes)
{
	uint32_t	n;
	uint32_t   *idx = resporg_sorted(ro, &n);
	uint32_t	lo = 0,
				hi = n;
	size_t		rows = 0;
	int64_t		now = sim_now();

	while (lo < hi)
	{
		uint32_t	mid = lo + (hi - lo) / 2;

		if (store_entries[idx[mid]].num <= *cursor)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (uint32_t i = lo; i < n && *remaining > 0 && out->len < max_bytes; i++)
	{
		NumEntry   *e = &store_entries[idx[i]];

		entry_normalize(e, now);
		if (e->resporg != ro)
			continue;
		xml_rck_row(out, e);
		*cursor = e->num;
		(*remaining)--;
		rows++;
	}
	if (*remaining > 0 && out->len < max_bytes)
	{
		/* nothing left: mark the end so the caller stops asking */
		*remaining = 0;
		*cursor = UINT64_MAX;
	}
	return rows;
}

void
xml_rec_response(StrBuf *sb, const char *num, const CustRec *r)
{
	char		ts[21];

	format_timestamp(r->eff, ts);
	sb_puts(sb, "<recResponse>");
	sb_elem(sb, num[0] == '*' ? "tmplName" : "num", num);
	sb_elem(sb, "effDtTm", ts);
	sb_elem(sb, "custRecStat", rec_status_names[r->stat]);
	sb_printf(sb, "<recVersionId>%u</recVersionId></recResponse>", r->version);
}

/*
 * A custRec document.  num is the number, or NULL with tmpl set for a
 * template record.
 */
void
xml_custrec(StrBuf *sb, const char *num, const char *tmpl, const CustRec *r)
{
	char		ts[21];
	char		parts[32];

	format_timestamp(r->eff, ts);
	sb_puts(sb, "<custRec>");
	if (num)
		sb_elem(sb, "num", num);
	else
		sb_elem(sb, "tmplName", tmpl);
	sb_elem(sb, "effDtTm", ts);
	sb_elem(sb, "custRecStat", rec_status_names[r->stat]);
	sb_elem(sb, "ctrlRespOrgId", r->ctrl);
	sb_printf(sb, "<recVersionId>%u</recVersionId>", r->version);
	sb_elem(sb, "custRecCompPart", custrec_comp_part(r, parts));
	if (num && r->tmpl_name)
		sb_elem(sb, "tmplName", r->tmpl_name);
	if (r->cad)
		sb_puts(sb, r->cad);
	if (r->cpr)
		sb_puts(sb, r->cpr);
	if (r->lad)
		sb_puts(sb, r->lad);
	if (r->action == 'D')
	{
		char		d[11];

		sb_printf(sb, "<referral>%c</referral>", r->referral ? r->referral : 'N');
		format_date(r->eint_dt, d);
		sb_elem(sb, "endInterceptDt", d);
	}
	sb_puts(sb, "</custRec>");
}

/* Whether RespOrg ro controls a number after cursor. */
bool
rck_more(int ro, uint64_t cursor)
{
	uint32_t	n;
	uint32_t   *idx = resporg_sorted(ro, &n);
	uint32_t	lo = 0,
				hi = n;
	int64_t		now = sim_now();

	while (lo < hi)
	{
		uint32_t	mid = lo + (hi - lo) / 2;

		if (store_entries[idx[mid]].num <= cursor)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (uint32_t i = lo; i < n; i++)
	{
		NumEntry   *e = &store_entries[idx[i]];

		entry_normalize(e, now);
		if (e->resporg == ro)
			return true;
	}
	return false;
}
