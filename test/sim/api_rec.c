/*-------------------------------------------------------------------------
 *
 * api_rec.c
 *	  Customer records: query the record list, retrieve a number's or a
 *	  template's record, copy, create, update and disconnect.
 *
 * Effective date/times are NOW or quarter-hour UTC timestamps no earlier
 * than the current quarter hour and at most six months ahead.  NOW means the
 * current simulator second.  With the default SCP delay of 0, such a record
 * is already ACTIVE (or DISCONNECT) in the response.
 *
 *-------------------------------------------------------------------------
 */
#include "tfsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Elements of custRec that are keys or status, not record content. */
static const char *const custrec_meta[] = {
	"num", "tmplName", "effDtTm", "custRecStat", "ctrlRespOrgId",
	"recVersionId", "custRecCompPart", "cprSect", "lbl", "referral",
	"endInterceptDt", "apprStat", "actionCode", NULL
};
static const char *const only_lbl[] = {"lbl", NULL};
static const char *const only_cpr[] = {"cprSect", NULL};

/*
 * Parse an effective date/time.  Returns NULL and sets *out, or an error
 * code with *msg; past_code is the code for a time already gone.
 */
static const char *
parse_eff(const char *text, int64_t now, const char *past_code, int64_t *out,
		  bool *is_now, const char **msg)
{
	int64_t		t;
	int32_t		today = (int32_t) (now / SECS_PER_DAY);

	*is_now = false;
	if (text == NULL || text[0] == '\0')
	{
		*msg = "missing mandatory effective date/time";
		return "099027";
	}
	if (strcmp(text, "NOW") == 0)
	{
		*out = now;
		*is_now = true;
		return NULL;
	}
	if (!parse_timestamp(text, &t))
	{
		*msg = "invalid date/time: expected YYYY-MM-DDThh:mm:ssZ or NOW";
		return "099044";
	}
	if (t % 900 != 0)
	{
		*msg = "effective time must be on a quarter hour (minutes 00, 15, 30, 45, seconds 00)";
		return "502007";
	}
	if (t < now - now % 900)
	{
		*msg = "effective date/time must be in the future";
		return past_code;
	}
	if (t > (int64_t) add_months(today, 6) * SECS_PER_DAY + now % SECS_PER_DAY)
	{
		*msg = "effective date more than 6 months ahead";
		return "599001";
	}
	*out = t;
	return NULL;
}

static void
eff_error(ApiResult *res, const char *code, const char *msg)
{
	api_error(res, api_error_http_status(code), code, msg);
}

/*
 * The entry of a number the caller may manage, or NULL with res filled:
 * 400 for a bad number, 403 099038 for another RespOrg's number.  A SPARE
 * number is returned as is; callers decide what it means.
 */
static NumEntry *
managed_entry(ApiRequest *req, ApiResult *res, const char *text, uint64_t *num)
{
	int			rc = parse_num(text, num);
	NumEntry   *e;

	if (rc == 1)
	{
		api_error(res, 400, "099012", "invalid number: expected 10 digits");
		return NULL;
	}
	if (rc == 2)
	{
		api_error(res, 400, "801116", "NPA is not an open toll-free NPA");
		return NULL;
	}
	e = store_get_or_add(*num);
	entry_normalize(e, req->now);
	if (e->resporg && !req->upd[e->resporg])
	{
		api_error(res, 403, "099038", "no permission: the number belongs to another RespOrg");
		return NULL;
	}
	if (e->status == ST_UNAVAILABLE)
	{
		api_error(res, 403, "099038", "no permission: the number is UNAVAILABLE");
		return NULL;
	}
	return e;
}

static bool
template_allowed(ApiRequest *req, const Template *t)
{
	for (int ro = 1; ro <= nresporgs; ro++)
		if (req->upd[ro] && resporgs[ro].entity == t->entity)
			return true;
	return false;
}

static void
rec_list_item(StrBuf *sb, const CustRec *r)
{
	char		ts[21];
	char		parts[32];

	format_timestamp(r->eff, ts);
	sb_puts(sb, "<rec>");
	sb_elem(sb, "effDtTm", ts);
	sb_elem(sb, "custRecStat", rec_status_names[r->stat]);
	sb_elem(sb, "custRecCompPart", custrec_comp_part(r, parts));
	sb_puts(sb, "<apprStat>NOT REQUIRED</apprStat>");
	sb_printf(sb, "<actionCode>%c</actionCode>", r->action);
	sb_printf(sb, "<recVersionId>%u</recVersionId></rec>", r->version);
}

/* GET /cus/rec/query/{num}[?startEffDtTm=TS]: 10 records per page. */
void
api_rec_query(ApiRequest *req, ApiResult *res, const char *text)
{
	uint64_t	num;
	NumEntry   *e = managed_entry(req, res, text, &num);
	RecList    *rl;
	const char *start_text = api_arg(req, "startEffDtTm");
	int64_t		start = INT64_MIN;
	int			shown = 0;
	bool		more = false;

	if (e == NULL)
		return;
	if (start_text && !parse_timestamp(start_text, &start))
	{
		api_error(res, 400, "099044", "invalid startEffDtTm: expected YYYY-MM-DDThh:mm:ssZ");
		return;
	}
	rl = entry_records(e, false);
	if (rl == NULL || rl->n == 0)
	{
		api_error(res, 404, "505001", "no customer record for the number");
		return;
	}

	res->status = 200;
	sb_printf(&res->body, "<recQueryResponse><num>%s</num>", text);
	sb_elem(&res->body, "numStatus", num_status_names[e->status]);
	if (e->resporg)
		sb_elem(&res->body, "ctrlRespOrgId", resporgs[e->resporg].id);
	sb_puts(&res->body, "<lstEffDtTms>");
	for (int i = 0; i < rl->n; i++)
	{
		if (rl->v[i].eff <= start)
			continue;
		if (shown == 10)
		{
			more = true;
			break;
		}
		rec_list_item(&res->body, &rl->v[i]);
		shown++;
	}
	sb_printf(&res->body, "</lstEffDtTms><more>%c</more></recQueryResponse>",
			  more ? 'Y' : 'N');
}

/* Pick the record at effDtTm, or the default one; fills res when none. */
static CustRec *
pick_record(ApiRequest *req, ApiResult *res, RecList *rl, const char *eff_text)
{
	int64_t		eff;
	CustRec    *r;

	if (eff_text && !parse_timestamp(eff_text, &eff))
	{
		api_error(res, 400, "099044", "invalid effDtTm: expected YYYY-MM-DDThh:mm:ssZ");
		return NULL;
	}
	(void) req;
	if (rl == NULL || rl->n == 0)
	{
		api_error(res, 404, "505001", "no customer record");
		return NULL;
	}
	r = eff_text ? reclist_find(rl, eff) : reclist_default(rl);
	if (r == NULL)
		api_error(res, 404, "506001", "no record at this effective date/time");
	return r;
}

/* GET /cus/rec/tfnum/{num}[?effDtTm=TS] */
void
api_rec_retrieve(ApiRequest *req, ApiResult *res, const char *text)
{
	uint64_t	num;
	NumEntry   *e = managed_entry(req, res, text, &num);
	CustRec    *r;

	if (e == NULL)
		return;
	r = pick_record(req, res, entry_records(e, false), api_arg(req, "effDtTm"));
	if (r == NULL)
		return;
	res->status = 200;
	xml_custrec(&res->body, text, NULL, r);
}

/* GET /cus/tpl/tmplName/{name}[?effDtTm=TS] */
void
api_tpl_retrieve(ApiRequest *req, ApiResult *res, const char *name)
{
	Template   *t = template_find(name);
	CustRec    *r;

	if (t == NULL)
	{
		api_error(res, 404, "506001", "template not found");
		return;
	}
	if (!template_allowed(req, t))
	{
		api_error(res, 403, "099038", "no permission: the template belongs to another entity");
		return;
	}
	template_due(t, req->now);
	r = pick_record(req, res, &t->recs, api_arg(req, "effDtTm"));
	if (r == NULL)
		return;
	res->status = 200;
	xml_custrec(&res->body, NULL, t->name, r);
}

/* After a write: apply the record changes now due and write the recResponse. */
static void
finish_write(ApiRequest *req, ApiResult *res, NumEntry *e, Template *t,
			 const char *key, int64_t eff)
{
	CustRec    *r;

	if (e)
	{
		entry_reschedule(e);
		entry_normalize(e, req->now);
		r = reclist_find(entry_records(e, false), eff);
	}
	else
	{
		template_due(t, req->now);
		r = reclist_find(&t->recs, eff);
	}
	res->status = 200;
	xml_rec_response(&res->body, key, r);
}

/* POST /cus/rec/copy */
void
api_rec_copy(ApiRequest *req, ApiResult *res)
{
	xmlDocPtr	doc = xml_parse_request(req->body, req->body_len, "recCopy", res);
	xmlNodePtr	root;
	char	   *src_num = NULL,
			   *src_tmpl = NULL,
			   *src_eff = NULL,
			   *tgt_num = NULL,
			   *tgt_eff = NULL,
			   *parts = NULL,
			   *pointer = NULL;
	CustRec		src;
	CustRec    *r;
	NumEntry   *te;
	RecList    *trl;
	uint64_t	snum = 0,
				tnum;
	int64_t		eff;
	bool		is_now;
	bool		want_cad,
				want_lad,
				want_cpr,
				as_pointer;
	const char *code,
			   *msg;

	memset(&src, 0, sizeof(src));
	if (doc == NULL)
		return;
	root = xmlDocGetRootElement(doc);
	src_num = xml_child_text(root, "srcNum");
	src_tmpl = xml_child_text(root, "srcTmplName");
	src_eff = xml_child_text(root, "srcEffDtTm");
	tgt_num = xml_child_text(root, "tgtNum");
	tgt_eff = xml_child_text(root, "tgtEffDtTm");
	parts = xml_child_text(root, "custRecCompPart");
	pointer = xml_child_text(root, "pointer");

	if ((src_num == NULL) == (src_tmpl == NULL) || tgt_num == NULL)
	{
		api_error(res, 400, "099027", "give exactly one of srcNum and srcTmplName, and tgtNum");
		goto done;
	}
	if (pointer && strcmp(pointer, "Y") != 0 && strcmp(pointer, "N") != 0)
	{
		api_error(res, 400, "099043", "pointer must be Y or N");
		goto done;
	}
	as_pointer = pointer && pointer[0] == 'Y';
	if (parts == NULL)
		parts = xstrdup(as_pointer ? "CAD" : "CAD, LAD, CPR");
	want_cad = strstr(parts, "CAD") != NULL;
	want_lad = strstr(parts, "LAD") != NULL;
	want_cpr = strstr(parts, "CPR") != NULL;
	if (!want_cad && !want_lad && !want_cpr)
	{
		api_error(res, 400, "099043", "custRecCompPart must name CAD, LAD or CPR");
		goto done;
	}
	if (as_pointer && src_tmpl == NULL)
	{
		api_error(res, 400, "099043", "a pointer record needs srcTmplName");
		goto done;
	}
	if (as_pointer && (want_lad || want_cpr))
	{
		api_error(res, 409, "7763", "CPR or LAD cannot be copied into a pointer record");
		goto done;
	}

	/* the source record, copied aside before the target list changes */
	if (src_num)
	{
		NumEntry   *se = managed_entry(req, res, src_num, &snum);

		if (se == NULL)
			goto done;
		r = pick_record(req, res, entry_records(se, false), src_eff);
	}
	else
	{
		Template   *t = template_find(src_tmpl);

		if (t == NULL)
		{
			api_error(res, 404, "506001", "source template not found");
			goto done;
		}
		if (!template_allowed(req, t))
		{
			api_error(res, 403, "099038", "no permission: the template belongs to another entity");
			goto done;
		}
		template_due(t, req->now);
		r = pick_record(req, res, &t->recs, src_eff);
	}
	if (r == NULL)
	{
		if (res->status == 404)
		{
			res->body.len = 0;
			api_error(res, 404, "506001", "source record not found");
		}
		goto done;
	}
	custrec_copy_parts(&src, r, true, true, true);
	src.tmpl_name = xstrdup(r->tmpl_name);

	te = managed_entry(req, res, tgt_num, &tnum);
	if (te == NULL)
		goto done;
	trl = entry_records(te, true);
	if (reclist_has_status(trl, RS_SENDING))
	{
		api_error(res, 409, "506016", "record is locked while SENDING; cannot process now");
		goto done;
	}
	if (te->status != ST_RESERVED && !(src_num && tnum == snum))
	{
		api_error(res, 409, "506002", "target number must be RESERVED by the caller (or be the source number)");
		goto done;
	}
	code = parse_eff(tgt_eff, req->now, "506007", &eff, &is_now, &msg);
	if (code)
	{
		eff_error(res, code, msg);
		goto done;
	}
	if (reclist_find(trl, eff))
	{
		api_error(res, 409, "502002", "a customer record already exists at this effective date/time; use update");
		goto done;
	}

	r = reclist_insert(trl, eff);
	r->stat = RS_PENDING;
	memcpy(r->ctrl, resporgs[te->resporg].id, 6);
	custrec_copy_parts(r, &src, want_cad, want_lad && !as_pointer, want_cpr && !as_pointer);
	if (as_pointer)
		r->tmpl_name = xstrdup(src_tmpl);
	else if (src.tmpl_name)
		r->tmpl_name = xstrdup(src.tmpl_name);
	if (te->status == ST_RESERVED)
	{
		entry_set_status(te, ST_ASSIGNED, te->resporg);
		te->eff_dt = (uint16_t) (req->now / SECS_PER_DAY);
	}
	finish_write(req, res, te, NULL, tgt_num, eff);

done:
	custrec_free(&src);
	free(src_num);
	free(src_tmpl);
	free(src_eff);
	free(tgt_num);
	free(tgt_eff);
	free(parts);
	free(pointer);
	xmlFreeDoc(doc);
}

/* Fill a record's content from a custRec document. */
static void
fill_content(CustRec *r, xmlNodePtr root, bool number_record)
{
	char	   *tmpl = number_record ? xml_child_text(root, "tmplName") : NULL;

	free(r->cad);
	free(r->lad);
	free(r->cpr);
	free(r->tmpl_name);
	r->cad = xml_dump_children(root, NULL, custrec_meta);
	r->lad = xml_dump_children(root, only_lbl, NULL);
	r->cpr = xml_dump_children(root, only_cpr, NULL);
	r->tmpl_name = tmpl;
}

/* POST /cus/rec (create) and PUT /cus/rec (update) */
void
api_rec_write(ApiRequest *req, ApiResult *res, bool create)
{
	xmlDocPtr	doc = xml_parse_request(req->body, req->body_len, "custRec", res);
	xmlNodePtr	root;
	xmlChar    *cmd_attr = NULL;
	char	   *num_text = NULL,
			   *tmpl_text = NULL,
			   *eff_text = NULL,
			   *version = NULL,
			   *hold = NULL;
	NumEntry   *e = NULL;
	Template   *t = NULL;
	RecList    *rl;
	CustRec    *r;
	uint64_t	num;
	int64_t		eff;
	bool		is_now;
	char		cmd;
	const char *code,
			   *msg;

	if (doc == NULL)
		return;
	root = xmlDocGetRootElement(doc);
	cmd_attr = xmlGetProp(root, (const xmlChar *) "cmd");
	num_text = xml_child_text(root, "num");
	tmpl_text = xml_child_text(root, "tmplName");
	eff_text = xml_child_text(root, "effDtTm");
	version = xml_child_text(root, "recVersionId");
	hold = xml_child_text(root, "hldIndFlag");

	cmd = cmd_attr ? (char) cmd_attr[0] : 'U';
	if (cmd_attr && (strlen((char *) cmd_attr) != 1 || (cmd != 'U' && cmd != 'S')))
	{
		api_error(res, 400, "099043", "cmd must be U (submit) or S (save)");
		goto done;
	}
	if (num_text == NULL && tmpl_text == NULL)
	{
		api_error(res, 400, "099027", "missing mandatory element num or tmplName");
		goto done;
	}

	if (num_text)
	{
		e = managed_entry(req, res, num_text, &num);
		if (e == NULL)
			goto done;
		if (create && e->status != ST_RESERVED && e->status != ST_ASSIGNED &&
			e->status != ST_WORKING)
		{
			api_error(res, 409, "502005", "number is not reserved by the RespOrg");
			goto done;
		}
		if (!create && e->status == ST_SPARE)
		{
			api_error(res, 404, "505001", "no customer record for the number");
			goto done;
		}
		if (tmpl_text && xml_child(root, "cprSect") != NULL)
		{
			api_error(res, 409, "7763", "CPR or LAD cannot be part of a pointer record");
			goto done;
		}
		if (tmpl_text && xml_child(root, "lbl") != NULL)
		{
			api_error(res, 409, "7763", "CPR or LAD cannot be part of a pointer record");
			goto done;
		}
		if (tmpl_text && template_find(tmpl_text) == NULL)
		{
			api_error(res, 404, "506001", "template of the pointer record not found");
			goto done;
		}
		rl = entry_records(e, true);
	}
	else
	{
		t = create ? template_add(tmpl_text) : template_find(tmpl_text);
		if (t == NULL)
		{
			if (create)
				api_error(res, 400, "099043", "invalid template name: '*', a known entity and 1 to 12 letters, digits or '-'");
			else
				api_error(res, 404, "506001", "template not found");
			goto done;
		}
		if (!template_allowed(req, t))
		{
			api_error(res, 403, "099038", "no permission: the template belongs to another entity");
			goto done;
		}
		template_due(t, req->now);
		rl = &t->recs;
	}
	if (reclist_has_status(rl, RS_SENDING))
	{
		api_error(res, 409, "506016", "record is locked while SENDING; cannot process now");
		goto done;
	}

	if (create)
	{
		code = parse_eff(eff_text, req->now, "502004", &eff, &is_now, &msg);
		if (code)
		{
			eff_error(res, code, msg);
			goto done;
		}
		if (reclist_find(rl, eff))
		{
			api_error(res, 409, "502002", "customer records already exist at this effective date/time; use update or copy");
			goto done;
		}
		r = reclist_insert(rl, eff);
		if (e)
			memcpy(r->ctrl, resporgs[e->resporg].id, 6);
		else
		{
			for (int ro = 1; ro <= nresporgs; ro++)
				if (req->upd[ro] && resporgs[ro].entity == t->entity)
				{
					memcpy(r->ctrl, resporgs[ro].id, 6);
					break;
				}
		}
	}
	else
	{
		if (eff_text == NULL || !parse_timestamp(eff_text, &eff))
		{
			api_error(res, 400, "099044", "invalid effDtTm: expected YYYY-MM-DDThh:mm:ssZ");
			goto done;
		}
		r = reclist_find(rl, eff);
		if (r == NULL)
		{
			api_error(res, 404, "506001", "no record at this effective date/time");
			goto done;
		}
		if (r->stat == RS_ACTIVE || r->stat == RS_SENDING || r->stat == RS_OLD ||
			r->stat == RS_DISCONNECT)
		{
			api_error(res, 409, "511006", "ACTIVE, SENDING, OLD or DISCONNECT records cannot be updated");
			goto done;
		}
		if (r->eff < req->now)
		{
			api_error(res, 409, "507003", "only future-dated records may be changed");
			goto done;
		}
		if (version == NULL)
		{
			api_error(res, 400, "099027", "missing mandatory element recVersionId");
			goto done;
		}
		if (strtoul(version, NULL, 10) != r->version)
		{
			api_error(res, 409, "099003", "record changed by someone else: recVersionId is stale");
			goto done;
		}
		r->version = rec_next_version();
	}

	fill_content(r, root, e != NULL);
	if (cmd == 'S')
		r->stat = RS_SAVED;
	else if (hold && strcmp(hold, "Y") == 0)
		r->stat = RS_HOLD;
	else
		r->stat = RS_PENDING;

	if (e && e->status == ST_RESERVED)
	{
		entry_set_status(e, ST_ASSIGNED, e->resporg);
		e->eff_dt = (uint16_t) (req->now / SECS_PER_DAY);
	}
	finish_write(req, res, e, t, num_text ? num_text : tmpl_text, eff);

done:
	if (cmd_attr)
		xmlFree(cmd_attr);
	free(num_text);
	free(tmpl_text);
	free(eff_text);
	free(version);
	free(hold);
	xmlFreeDoc(doc);
}

/* POST /cus/rec/disconnect */
void
api_disconnect(ApiRequest *req, ApiResult *res)
{
	xmlDocPtr	doc = xml_parse_request(req->body, req->body_len, "recDisconnect", res);
	xmlNodePtr	root;
	char	   *num_text = NULL,
			   *eff_text = NULL,
			   *eint_text = NULL,
			   *referral = NULL;
	NumEntry   *e;
	RecList    *rl;
	CustRec    *r;
	uint64_t	num;
	int64_t		eff;
	int32_t		eint = 0;
	bool		is_now;
	const char *code,
			   *msg;

	if (doc == NULL)
		return;
	root = xmlDocGetRootElement(doc);
	num_text = xml_child_text(root, "num");
	eff_text = xml_child_text(root, "tgtEffDtTm");
	eint_text = xml_child_text(root, "endInterceptDt");
	referral = xml_child_text(root, "referral");

	if (num_text == NULL)
	{
		api_error(res, 400, "099027", "missing mandatory element num");
		goto done;
	}
	if (referral && strcmp(referral, "Y") != 0 && strcmp(referral, "N") != 0)
	{
		api_error(res, 400, "099043", "referral must be Y or N");
		goto done;
	}
	e = managed_entry(req, res, num_text, &num);
	if (e == NULL)
		goto done;
	rl = entry_records(e, false);
	if ((e->status != ST_WORKING && e->status != ST_SUSPEND) ||
		!reclist_has_status(rl, RS_ACTIVE))
	{
		api_error(res, 409, "512001", "no active customer record to disconnect");
		goto done;
	}
	if (reclist_has_status(rl, RS_SENDING))
	{
		api_error(res, 409, "506016", "record is locked while SENDING; cannot process now");
		goto done;
	}
	code = parse_eff(eff_text, req->now, "502004", &eff, &is_now, &msg);
	if (code)
	{
		eff_error(res, code, msg);
		goto done;
	}
	if (eint_text && strcmp(eint_text, "NOW") == 0)
	{
		if (!is_now)
		{
			api_error(res, 409, "512016", "end-intercept NOW needs a NOW disconnect");
			goto done;
		}
	}
	else if (eint_text)
	{
		int32_t		day = (int32_t) (eff / SECS_PER_DAY);

		if (!parse_date(eint_text, &eint))
		{
			api_error(res, 400, "099044", "invalid endInterceptDt: expected YYYY-MM-DD or NOW");
			goto done;
		}
		if (eint < day || eint > day + 180)
		{
			api_error(res, 409, "512015", "end-intercept date must be on or after the disconnect and within 180 days");
			goto done;
		}
	}
	else
		eint = (int32_t) (eff / SECS_PER_DAY) + 30;
	if (reclist_find(rl, eff))
	{
		api_error(res, 409, "502002", "a customer record already exists at this effective date/time");
		goto done;
	}

	r = reclist_insert(rl, eff);
	r->stat = RS_PENDING;
	r->action = 'D';
	r->referral = referral ? referral[0] : 'N';
	r->eint_now = eint_text && strcmp(eint_text, "NOW") == 0;
	r->eint_dt = r->eint_now ? (int32_t) (eff / SECS_PER_DAY) : eint;
	memcpy(r->ctrl, resporgs[e->resporg].id, 6);
	r->cad = xstrdup("<hldIndFlag>N</hldIndFlag>");
	finish_write(req, res, e, NULL, num_text, eff);

done:
	free(num_text);
	free(eff_text);
	free(eint_text);
	free(referral);
	xmlFreeDoc(doc);
}
