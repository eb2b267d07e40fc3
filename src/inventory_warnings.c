/*-------------------------------------------------------------------------
 *
 * inventory_warnings.c
 *		The worker's daily report of reservations about to expire.
 *
 * A reservation lasts at most 45 days and cannot be extended: on the day
 * after its last day the registry returns the number to the spare pool.
 * Each day, the worker logs one WARNING per reserved number of a synced
 * RespOrg that expires within toll_free.reservation_warning_days (at most
 * WARN_MAX_NUMBERS of them, then one line with the rest's count).  The
 * caller makes sure this runs once per RespOrg and day.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "inventory.h"
#include "toll_free.h"

/* Numbers reported one by one per RespOrg and day. */
#define WARN_MAX_NUMBERS	100

/*
 * tf_reservations_warn
 *		Log the reservations of "resporg" that expire within "days" days.
 *		Call outside any transaction.
 */
void
tf_reservations_warn(const char *resporg, int days)
{
	Oid			types[3] = {TEXTOID, INT4OID, INT4OID};
	Datum		values[3];
	uint64		total;
	int			rc;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());

	values[0] = CStringGetTextDatum(resporg);
	values[1] = Int32GetDatum(days);
	values[2] = Int32GetDatum(WARN_MAX_NUMBERS + 1);

	rc = SPI_execute_with_args("SELECT number::text,"
							   "       pg_catalog.to_char(reserved_until, 'YYYY-MM-DD'),"
							   "       days_left,"
							   "       pg_catalog.count(*) OVER ()"
							   "  FROM toll_free.reservations_expiring"
							   " WHERE resporg = $1 AND days_left <= $2"
							   " ORDER BY reserved_until, number"
							   " LIMIT $3",
							   3, types, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading expiring reservations failed: %s", SPI_result_code_string(rc));

	total = 0;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int			days_left;

		total = DatumGetInt64(SPI_getbinval(row, desc, 4, &isnull));
		if (i == WARN_MAX_NUMBERS)
			break;

		days_left = DatumGetInt32(SPI_getbinval(row, desc, 3, &isnull));
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("reservation of toll-free number %s by RespOrg %s expires on %s",
						SPI_getvalue(row, desc, 1), resporg, SPI_getvalue(row, desc, 2)),
				 errdetail_plural("%d day is left; the registry then returns the number to the spare pool.",
								  "%d days are left; the registry then returns the number to the spare pool.",
								  days_left, days_left)));
	}

	if (SPI_processed > WARN_MAX_NUMBERS)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("%d more reservations of RespOrg %s expire within %d days",
						(int) (total - WARN_MAX_NUMBERS), resporg, days),
				 errhint("See toll_free.tf_reservations_expiring(%d).", days)));

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}
