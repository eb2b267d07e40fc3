/*-------------------------------------------------------------------------
 *
 * records_time.c
 *		Effective date/time checks and the registry's timestamp format.
 *
 * The registry takes a customer record's effective date/time in UTC as
 * YYYY-MM-DDThh:mm:ssZ, on a quarter hour (minutes 00, 15, 30 or 45, seconds
 * 00), or the word NOW.  A new record's time must also lie in the future and
 * at most six calendar months ahead.  The SQL functions check these rules
 * before any request is sent, so a typing mistake costs no registry request
 * and gives a clear 22023 instead of a registry code.
 *
 * NOTE: the checks use this server's clock.  A registry whose clock differs
 * (the simulator's clock can be moved forward) may still reject a time that
 * passed here; that refusal comes back as a registry error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "records.h"

#define USECS_PER_QUARTER_HOUR	(INT64CONST(15) * SECS_PER_MINUTE * USECS_PER_SEC)

/*
 * tf_effective_check
 *		Raise 22023 unless ts is a valid effective date/time for its use.
 *
 * Every use needs a finite time on a quarter hour.  A target (the time of a
 * record to be created) must also be after now and no later than now plus six
 * months.  argname names the SQL argument in the message.
 */
void
tf_effective_check(TimestampTz ts, TfEffectiveUse use, const char *argname)
{
	TimestampTz now;
	TimestampTz latest;
	Interval	six_months;
	char		shown[TF_EFFECTIVE_LEN];

	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid effective date/time for %s", argname),
				 errdetail("An effective date/time must be a finite timestamp.")));

	tf_effective_format(ts, shown);

	if (ts % USECS_PER_QUARTER_HOUR != 0)
	{
		const char *display = shown;
		int64		usec = ts % USECS_PER_SEC;

		/* Show the fraction, or 10:00:00.5 would read as a valid 10:00:00. */
		if (usec < 0)
			usec += USECS_PER_SEC;
		if (usec != 0)
			display = psprintf("%.19s.%06dZ", shown, (int) usec);

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid effective date/time for %s: %s", argname, display),
				 errdetail("The registry accepts only quarter hours: minutes 00, 15, 30 or 45 with zero seconds (in UTC)."),
				 errhint("Round the time, for example with date_bin('15 minutes', ts, '2000-01-01').")));
	}

	if (use != TF_EFFECTIVE_TARGET)
		return;

	now = GetCurrentTimestamp();
	if (ts <= now)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid effective date/time for %s: %s", argname, shown),
				 errdetail("A new record's effective date/time must be in the future."),
				 errhint("Pass NULL to make the record effective now.")));

	memset(&six_months, 0, sizeof(six_months));
	six_months.month = 6;
	latest = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
													 TimestampTzGetDatum(now),
													 IntervalPGetDatum(&six_months)));
	if (ts > latest)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid effective date/time for %s: %s", argname, shown),
				 errdetail("A new record's effective date/time may be at most six months ahead.")));
}

/*
 * tf_effective_format
 *		Write ts in the registry's UTC form into buf (TF_EFFECTIVE_LEN bytes).
 */
void
tf_effective_format(TimestampTz ts, char *buf)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (TIMESTAMP_NOT_FINITE(ts) ||
		timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("effective date/time out of range")));

	snprintf(buf, TF_EFFECTIVE_LEN, "%04d-%02d-%02dT%02d:%02d:%02dZ",
			 tm.tm_year, tm.tm_mon, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/*
 * tf_effective_parse
 *		Convert the registry's YYYY-MM-DDThh:mm:ssZ text to a timestamptz.
 *
 * The text comes from a registry response or a record document; "what" names
 * its source in the error (2200N, because the document is not as the protocol
 * defines it).
 */
TimestampTz
tf_effective_parse(const char *text, const char *what)
{
	struct pg_tm tm;
	TimestampTz ts;
	int			consumed = 0;

	memset(&tm, 0, sizeof(tm));
	if (text == NULL ||
		strlen(text) != TF_EFFECTIVE_LEN - 1 ||
		sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n",
			   &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
		consumed != TF_EFFECTIVE_LEN - 1 ||
		tm.tm_mon < 1 || tm.tm_mon > 12 ||
		tm.tm_mday < 1 || tm.tm_mday > day_tab[isleap(tm.tm_year)][tm.tm_mon - 1] ||
		tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59 ||
		tm2timestamp(&tm, 0, NULL, &ts) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_CONTENT),
				 errmsg("invalid effective date/time in %s: \"%s\"",
						what, text ? text : ""),
				 errdetail("Effective date/times are written YYYY-MM-DDThh:mm:ssZ, in UTC.")));

	return ts;
}
