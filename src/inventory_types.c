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
 *		Look up the types; the input function's data goes into fn_cxt.
 */
void
tf_inventory_types_load(TfInventoryTypes *types, MemoryContext fn_cxt)
{
	Oid			input_function;

	types->tfn_type = type_in_schema("tfn");
	getTypeInputInfo(types->tfn_type, &input_function, &types->tfn_ioparam);
	fmgr_info_cxt(input_function, &types->tfn_input, fn_cxt);

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
 * The type's own input function checks it (open toll-free code included),
 * so a number the registry sends is held to the same rules as user input.
 */
Datum
tf_inventory_number_datum(TfInventoryTypes *types, const char *digits)
{
	return InputFunctionCall(&types->tfn_input, (char *) digits,
							 types->tfn_ioparam, -1);
}
