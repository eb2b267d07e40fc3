/*-------------------------------------------------------------------------
 *
 * records_args.c
 *		Checks and conversions of the record functions' arguments.
 *
 * Numbers arrive as the tfn type.  This file converts them through the
 * type's own output and input functions, found from the argument's type OID
 * at run time, so the record functions depend only on tfn's text form (ten
 * digits) and not on its internal representation.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "records.h"

/* Maximum template name length: '*', a 2-character entity and 12 more characters. */
#define TF_TEMPLATE_NAME_MAX	15

/*
 * tf_arg_number
 *		Text form (10 digits) of the tfn argument argno, which must not be NULL.
 */
char *
tf_arg_number(FunctionCallInfo fcinfo, int argno)
{
	Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, argno);
	Oid			output;
	bool		varlena;

	if (!OidIsValid(typid))
		elog(ERROR, "could not determine the type of argument %d", argno + 1);

	getTypeOutputInfo(typid, &output, &varlena);
	return OidOutputFunctionCall(output, PG_GETARG_DATUM(argno));
}

/*
 * tf_text_datum
 *		A datum of type typid (tfn, record_status) made by its input function.
 */
Datum
tf_text_datum(Oid typid, const char *text)
{
	Oid			input;
	Oid			ioparam;

	getTypeInputInfo(typid, &input, &ioparam);
	return OidInputFunctionCall(input, unconstify(char *, text), ioparam, -1);
}

/*
 * tf_template_name_check
 *		Upper-cased template name, or 22023 if name is not one.
 *
 * A template name is '*', the two-character entity code and 1 to 12 letters,
 * digits or dashes: 15 characters at most.
 */
char *
tf_template_name_check(const char *name)
{
	size_t		len = strlen(name);
	char	   *upper = pstrdup(name);
	size_t		i;
	bool		valid = (len >= 4 && len <= TF_TEMPLATE_NAME_MAX && name[0] == '*');

	for (i = 1; valid && i < len; i++)
	{
		char		c = pg_ascii_toupper((unsigned char) name[i]);

		upper[i] = c;
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  (c == '-' && i >= 3)))
			valid = false;
	}

	if (!valid)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid template name: \"%s\"", name),
				 errdetail("A template name is '*', the two-character entity code and 1 to 12 letters, digits or dashes, for example *RUSALES.")));

	return upper;
}

/*
 * tf_record_parts_check
 *		Canonical "CAD, LAD, CPR" subset named by parts, or 22023.
 *
 * parts is a comma-separated list of CAD, LAD and CPR in any order and case,
 * each at most once.  The result lists them in the registry's order.
 */
char *
tf_record_parts_check(const char *parts)
{
	static const char *const known[] = {"CAD", "LAD", "CPR"};
	bool		seen[lengthof(known)] = {false, false, false};
	char	   *copy = pstrdup(parts);
	char	   *token;
	char	   *saveptr = NULL;
	StringInfoData result;
	int			i;
	bool		any = false;

	for (token = strtok_r(copy, ",", &saveptr); token != NULL;
		 token = strtok_r(NULL, ",", &saveptr))
	{
		char	   *end;
		bool		matched = false;

		while (*token == ' ' || *token == '\t')
			token++;
		end = token + strlen(token);
		while (end > token && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';

		if (*token == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("empty record part in \"%s\"", parts),
					 errdetail("Parts are a comma-separated list of CAD, LAD and CPR, each at most once.")));

		for (i = 0; i < lengthof(known); i++)
		{
			if (pg_strcasecmp(token, known[i]) != 0)
				continue;
			if (seen[i])
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("record part %s is given twice in \"%s\"",
								known[i], parts),
						 errdetail("Parts are a comma-separated list of CAD, LAD and CPR, each at most once.")));
			seen[i] = true;
			matched = true;
			any = true;
		}
		if (!matched)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid record part \"%s\" in \"%s\"", token, parts),
					 errdetail("Parts are a comma-separated list of CAD, LAD and CPR, each at most once.")));
	}

	if (!any)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no record parts given"),
				 errdetail("Parts are a comma-separated list of CAD, LAD and CPR, each at most once.")));

	initStringInfo(&result);
	for (i = 0; i < lengthof(known); i++)
	{
		if (!seen[i])
			continue;
		if (result.len > 0)
			appendStringInfoString(&result, ", ");
		appendStringInfoString(&result, known[i]);
	}
	return result.data;
}
