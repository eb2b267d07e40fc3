/*-------------------------------------------------------------------------
 *
 * inventory.h
 *		Shared pieces of the inventory: the extension's types as seen from C
 *		and the report of expiring reservations.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_INVENTORY_H
#define TOLL_FREE_INVENTORY_H

#include "fmgr.h"

#include "rck.h"

/*
 * The OIDs of the enum toll_free.number_status and its values, looked up in
 * the extension's schema (never through the search_path).  Valid for the
 * transaction that loaded them: a dropped and re-created extension has new
 * OIDs.
 */
typedef struct TfInventoryTypes
{
	Oid			status_type;
	Oid			status_values[TF_NUMBER_STATUS_COUNT];
} TfInventoryTypes;

extern void tf_inventory_types_load(TfInventoryTypes *types);
extern Datum tf_inventory_number_datum(TfInventoryTypes *types, const char *digits);

extern void tf_reservations_warn(const char *resporg, int days);

#endif							/* TOLL_FREE_INVENTORY_H */
