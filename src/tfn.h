/*-------------------------------------------------------------------------
 *
 * tfn.h
 *		The tfn data type: a US toll-free number stored as its ten digits.
 *
 * A tfn is an int64 holding the number as a decimal value, e.g. 8005551212,
 * passed by value.  Ordering is therefore numeric, which for ten-digit
 * values is also the order of the written digits.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFN_H
#define TFN_H

#include "fmgr.h"

#ifndef USE_FLOAT8_BYVAL
#error "the tfn type is an 8-byte pass-by-value type and needs a 64-bit build"
#endif

typedef int64 Tfn;

#define DatumGetTfn(X)		((Tfn) DatumGetInt64(X))
#define TfnGetDatum(X)		Int64GetDatum(X)
#define PG_GETARG_TFN(n)	DatumGetTfn(PG_GETARG_DATUM(n))
#define PG_RETURN_TFN(x)	return TfnGetDatum(x)

/* The smallest and largest ten-digit values; NANP area codes start at 2. */
#define TFN_MIN_VALUE		INT64CONST(2000000000)
#define TFN_MAX_VALUE		INT64CONST(9999999999)

/*
 * The block of area codes that toll_free.open_npa may hold.  It contains
 * every toll-free code in use (800, 833, 844, 855, 866, 877, 888) and those
 * set aside for later (822, 880-887, 889), and no geographic code.
 */
#define TFN_NPA_FIRST		800
#define TFN_NPA_LAST		899

/* The area code and the exchange code (NXX) of a value. */
#define TfnGetNpa(value)	((int) ((value) / 10000000))
#define TfnGetExchange(value)	((int) (((value) / 10000) % 1000))

/* Whether an area code may be used in a tfn, per toll_free.open_npa. */
typedef enum TfnNpaState
{
	TFN_NPA_OPEN,
	TFN_NPA_NOT_OPEN,			/* in the toll-free block but not opened */
	TFN_NPA_NOT_TOLL_FREE		/* outside the toll-free block */
} TfnNpaState;

extern TfnNpaState tfn_npa_state(int npa);
extern void tfn_define_settings(void);

#endif							/* TFN_H */
