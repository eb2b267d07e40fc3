/*-------------------------------------------------------------------------
 *
 * inventory_types.c
 *		The extension's own types as the inventory code needs them in C.
 *
 * Types are looked up by name in the schema toll_free, so that a type of
 * the same name elsewhere on the search_path can never be picked up.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "inventory.h"
#include "tfn.h"
#include "toll_free.h"

/*
 * type_in_schema
 *		The OID of type "name" in the toll_free schema; raises when missing.
 */
static Oid
type_in_schema(const char *name)
{
	Oid			schema = get_namespace_oid(TOLL_FREE_SCHEMA, false);
	Oid			type;

	type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
						   CStringGetDatum(name), ObjectIdGetDatum(schema));
	if (!OidIsValid(type))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("type %s.%s does not exist", TOLL_FREE_SCHEMA, name),
				 errhint("Create the extension with CREATE EXTENSION toll_free.")));

	return type;
}

/*
 * tf_inventory_types_load
 *		Look up the number_status enum and its values.
 */
void
tf_inventory_types_load(TfInventoryTypes *types)
{
	types->status_type = type_in_schema("number_status");
	for (int i = 0; i < TF_NUMBER_STATUS_COUNT; i++)
	{
		Oid			value;

		value = GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid,
								ObjectIdGetDatum(types->status_type),
								CStringGetDatum(tf_number_status_labels[i]));
		if (!OidIsValid(value))
			elog(ERROR, "number_status has no value \"%s\"", tf_number_status_labels[i]);
		types->status_values[i] = value;
	}
}

/*
 * tf_inventory_number_datum
 *		A tfn Datum for a number written as 10 digits.
 *
 * The number is held to the rules of the tfn type's input function: an
 * exchange code starting with 2 to 9 and an area code listed in
 * toll_free.open_npa.  The value is built directly rather than through the
 * input function, which would parse every written form again for each of a
 * million rows.
 */
Datum
tf_inventory_number_datum(TfInventoryTypes *types, const char *digits)
{
	Tfn			value = 0;

	for (int i = 0; i < TF_NUMBER_DIGITS; i++)
	{
		if (digits[i] < '0' || digits[i] > '9')
			elog(ERROR, "number \"%s\" is not ten digits", digits);
		value = value * 10 + (digits[i] - '0');
	}

	if (TfnGetExchange(value) < 200 || tfn_npa_state(TfnGetNpa(value)) != TFN_NPA_OPEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_CONTENT),
				 errmsg("invalid RespOrg check response from the registry"),
				 errdetail("Number %s is not a toll-free number: its area code is not in toll_free.open_npa or its exchange code starts with 0 or 1.",
						   digits)));

	return TfnGetDatum(value);
}
