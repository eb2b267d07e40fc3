/*-------------------------------------------------------------------------
 *
 * clock.c
 *	  Civil date arithmetic and the simulator's clock.
 *
 * Simulator time is real UTC time plus an offset.  The admin API only moves
 * the offset forward, so simulator time never goes back while tfsim runs
 * (except on reset, which also reseeds all state).
 *
 *-------------------------------------------------------------------------
 */
#include "tfsim.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int64_t clock_offset;	/* seconds, protected by sim_lock */

/*
 * Day number of a proleptic Gregorian date (days since 1970-01-01), after
 * the well-known era-based algorithm.
 */
int32_t
days_from_civil(int y, unsigned m, unsigned d)
{
	int			era;
	unsigned	yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned) (y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int32_t) doe - 719468;
}

void
civil_from_days(int32_t z, int *y, unsigned *m, unsigned *d)
{
	int			era;
	unsigned	doe,
				yoe,
				doy,
				mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned) (z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = (int) yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y += *m <= 2;
}

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned
days_in_month(int y, unsigned m)
{
	static const unsigned dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && is_leap(y))
		return 29;
	return dim[m - 1];
}

/* The same day of the month, months later, clamped to the month's end. */
int32_t
add_months(int32_t day, int months)
{
	int			y;
	unsigned	m,
				d;
	int			total;

	civil_from_days(day, &y, &m, &d);
	total = y * 12 + (int) (m - 1) + months;
	y = total / 12;
	m = (unsigned) (total % 12) + 1;
	if (d > days_in_month(y, m))
		d = days_in_month(y, m);
	return days_from_civil(y, m, d);
}

void
format_date(int32_t day, char out[11])
{
	int			y;
	unsigned	m,
				d;
	char		buf[64];

	civil_from_days(day, &y, &m, &d);
	snprintf(buf, sizeof(buf), "%04d-%02u-%02u", y, m, d);
	memcpy(out, buf, 10);
	out[10] = '\0';
}

void
format_timestamp(int64_t t, char out[21])
{
	int32_t		day = (int32_t) (t >= 0 ? t / SECS_PER_DAY : (t - SECS_PER_DAY + 1) / SECS_PER_DAY);
	int64_t		rem = t - (int64_t) day * SECS_PER_DAY;
	int			y;
	unsigned	m,
				d;
	char		buf[96];

	civil_from_days(day, &y, &m, &d);
	snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02dZ", y, m, d,
			 (int) (rem / 3600), (int) (rem / 60 % 60), (int) (rem % 60));
	memcpy(out, buf, 20);
	out[20] = '\0';
}

static bool
parse_digits(const char *s, int n, int *out)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Parse exactly YYYY-MM-DD. */
bool
parse_date(const char *s, int32_t *day)
{
	int			y,
				m,
				d;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	if (!parse_digits(s, 4, &y) || !parse_digits(s + 5, 2, &m) ||
		!parse_digits(s + 8, 2, &d))
		return false;
	if (y < 1970 || y > 2140 || m < 1 || m > 12 || d < 1 ||
		(unsigned) d > days_in_month(y, (unsigned) m))
		return false;
	*day = days_from_civil(y, (unsigned) m, (unsigned) d);
	return true;
}

/* Parse exactly YYYY-MM-DDThh:mm:ssZ. */
bool
parse_timestamp(const char *s, int64_t *t)
{
	char		date[11];
	int32_t		day;
	int			hh,
				mm,
				ss;

	if (s == NULL || strlen(s) != 20 || s[10] != 'T' || s[13] != ':' ||
		s[16] != ':' || s[19] != 'Z')
		return false;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (!parse_date(date, &day))
		return false;
	if (!parse_digits(s + 11, 2, &hh) || !parse_digits(s + 14, 2, &mm) ||
		!parse_digits(s + 17, 2, &ss))
		return false;
	if (hh > 23 || mm > 59 || ss > 59)
		return false;
	*t = (int64_t) day * SECS_PER_DAY + hh * 3600 + mm * 60 + ss;
	return true;
}

/* Current simulator time in seconds; callers hold sim_lock. */
int64_t
sim_now(void)
{
	return (int64_t) time(NULL) + clock_offset;
}

int32_t
sim_today(void)
{
	return (int32_t) (sim_now() / SECS_PER_DAY);
}

void
clock_advance(int64_t seconds)
{
	clock_offset += seconds;
}

void
clock_reset(void)
{
	clock_offset = 0;
}

int64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
