/*-------------------------------------------------------------------------
 *
 * compat.h
 *		Every PostgreSQL-version difference toll_free depends on, in one place.
 *
 * The project builds and is tested on PostgreSQL 15; the shims below let the
 * same sources build on 16 and 17.  Code elsewhere uses the newest API name
 * and this header maps it onto older servers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_COMPAT_H
#define TOLL_FREE_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 150000
#error "toll_free requires PostgreSQL 15 or later"
#endif

/*
 * Soft error reporting (escontext) arrived in PostgreSQL 16.  On 15 an input
 * function simply raises the error.
 */
#if PG_VERSION_NUM < 160000
#define ereturn(context, dummy_value, ...) \
	do { \
		(void) (context); \
		ereport(ERROR, __VA_ARGS__); \
		return (dummy_value); \
	} while (0)
#endif

/*
 * Custom wait events for extensions arrived in PostgreSQL 17; before that an
 * extension reports the generic PG_WAIT_EXTENSION event.
 */
#if PG_VERSION_NUM < 170000
#define TF_WAIT_EVENT_REGISTRY	PG_WAIT_EXTENSION
#else
#define TF_WAIT_EVENT_REGISTRY	tf_wait_event_registry()
extern uint32 tf_wait_event_registry(void);
#endif

#endif							/* TOLL_FREE_COMPAT_H */
