/*-------------------------------------------------------------------------
 *
 * tfn_ops.c
 *		Comparison, hashing and sort support of the tfn data type.
 *
 * A tfn compares as its ten-digit value.  These functions back the
 * operators and the default B-tree and hash operator classes, so indexes,
 * merge joins, hash joins, DISTINCT and GROUP BY work on tfn columns.  The
 * comparisons raise no errors and reveal nothing about their arguments, so
 * the SQL declarations mark them LEAKPROOF.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/sortsupport.h"

#include "tfn.h"

PG_FUNCTION_INFO_V1(tfn_eq);
PG_FUNCTION_INFO_V1(tfn_ne);
PG_FUNCTION_INFO_V1(tfn_lt);
PG_FUNCTION_INFO_V1(tfn_le);
PG_FUNCTION_INFO_V1(tfn_gt);
PG_FUNCTION_INFO_V1(tfn_ge);
PG_FUNCTION_INFO_V1(tfn_cmp);
PG_FUNCTION_INFO_V1(tfn_sortsupport);
PG_FUNCTION_INFO_V1(tfn_hash);
PG_FUNCTION_INFO_V1(tfn_hash_extended);
PG_FUNCTION_INFO_V1(tfn_larger);
PG_FUNCTION_INFO_V1(tfn_smaller);

Datum
tfn_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_TFN(0) == PG_GETARG_TFN(1));
}

Datum
tfn_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_TFN(0) != PG_GETARG_TFN(1));
}

Datum
tfn_lt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_TFN(0) < PG_GETARG_TFN(1));
}

Datum
tfn_le(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_TFN(0) <= PG_GETARG_TFN(1));
}

Datum
tfn_gt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_TFN(0) > PG_GETARG_TFN(1));
}

Datum
tfn_ge(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_TFN(0) >= PG_GETARG_TFN(1));
}

/*
 * tfn_cmp
 *		B-tree support function 1: -1, 0 or 1.
 */
Datum
tfn_cmp(PG_FUNCTION_ARGS)
{
	Tfn			a = PG_GETARG_TFN(0);
	Tfn			b = PG_GETARG_TFN(1);

	PG_RETURN_INT32(a < b ? -1 : (a > b ? 1 : 0));
}

/*
 * tfn_sortsupport
 *		B-tree support function 2: compare Datums as signed integers, a
 *		comparator that tuplesort inlines instead of calling tfn_cmp.
 */
Datum
tfn_sortsupport(PG_FUNCTION_ARGS)
{
	SortSupport ssup = (SortSupport) PG_GETARG_POINTER(0);

	ssup->comparator = ssup_datum_signed_cmp;
	PG_RETURN_VOID();
}

/*
 * tfn_hash
 *		Hash support function 1.  Values fit in 34 bits, so both halves of
 *		the int64 take part.
 */
Datum
tfn_hash(PG_FUNCTION_ARGS)
{
	uint64		value = (uint64) PG_GETARG_TFN(0);

	return hash_uint32((uint32) value ^ (uint32) (value >> 32));
}

/*
 * tfn_hash_extended
 *		Hash support function 2: the 64-bit seeded hash, equal to tfn_hash()
 *		in its low 32 bits when the seed is 0.
 */
Datum
tfn_hash_extended(PG_FUNCTION_ARGS)
{
	uint64		value = (uint64) PG_GETARG_TFN(0);
	uint64		seed = (uint64) PG_GETARG_INT64(1);

	return hash_uint32_extended((uint32) value ^ (uint32) (value >> 32), seed);
}

/* Transition functions of max(tfn) and min(tfn). */
Datum
tfn_larger(PG_FUNCTION_ARGS)
{
	Tfn			a = PG_GETARG_TFN(0);
	Tfn			b = PG_GETARG_TFN(1);

	PG_RETURN_TFN(a > b ? a : b);
}

Datum
tfn_smaller(PG_FUNCTION_ARGS)
{
	Tfn			a = PG_GETARG_TFN(0);
	Tfn			b = PG_GETARG_TFN(1);

	PG_RETURN_TFN(a < b ? a : b);
}
