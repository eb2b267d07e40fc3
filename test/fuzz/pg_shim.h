/*-------------------------------------------------------------------------
 *
 * pg_shim.h
 *		The few backend services the response parsers use, for fuzzing them
 *		outside a server.
 *
 * pg_shim.c implements memory contexts, ereport/elog, lists and the UTF-8
 * checks of a UTF-8 server encoding.  Every allocation is tracked and freed
 * when its context is reset, and reset callbacks run as in the backend.  An
 * ERROR jumps back to the harness with its SQLSTATE.  A harness brackets
 * each input with SHIM_RUN:
 *
 *		int sqlstate = SHIM_RUN(parse_input(data, size));
 *
 * SHIM_RUN returns 0 when the code returned normally and the SQLSTATE of
 * the ERROR it raised otherwise; memory of the run is freed either way.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_PG_SHIM_H
#define TOLL_FREE_PG_SHIM_H

#include "postgres.h"

#include <setjmp.h>

extern char shim_error_message[512];

/* Start a run: a fresh top memory context becomes CurrentMemoryContext. */
extern void shim_begin(void);

/* End a run: reset and delete every context, check that nothing leaked. */
extern void shim_end(void);

/*
 * Abort (so that libFuzzer keeps the input) unless sqlstate is 0 or one of
 * the listed codes, which end with 0.  An ERROR without an errcode is
 * XX000, which the project must not raise for bad input.
 */
extern void shim_require_sqlstate(int sqlstate, const char *target, const int *allowed);

/* Abort with a message when a property of a result does not hold. */
extern void shim_require(bool condition, const char *what);

#define SHIM_RUN(statement) \
	({ \
		sigjmp_buf	shim_local_jump; \
		volatile int shim_sqlstate = 0; \
		shim_begin(); \
		if (sigsetjmp(shim_local_jump, 0) == 0) \
		{ \
			PG_exception_stack = &shim_local_jump; \
			statement; \
		} \
		else \
			shim_sqlstate = geterrcode(); \
		PG_exception_stack = NULL; \
		shim_end(); \
		shim_sqlstate; \
	})

#endif							/* TOLL_FREE_PG_SHIM_H */
