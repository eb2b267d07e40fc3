/*-------------------------------------------------------------------------
 *
 * toll_free.h
 *		Declarations shared by every part of the toll_free extension.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_H
#define TOLL_FREE_H

#include "postgres.h"

#include "compat.h"

#define TOLL_FREE_VERSION	"1.0"
#define TOLL_FREE_SCHEMA	"toll_free"

/* True when the library was loaded through shared_preload_libraries. */
extern bool tf_preloaded;

extern void tf_require_preload(const char *what);

/*
 * Start-up hooks of the parts that keep state in shared memory.  module.c
 * calls the *_request functions from the shmem_request hook (to reserve space
 * and LWLock tranches) and the *_startup functions from the shmem_startup hook.
 */
extern void tf_client_shmem_request(void);
extern void tf_client_shmem_startup(void);
extern void tf_worker_shmem_request(void);
extern void tf_worker_shmem_startup(void);
extern void tf_worker_register(void);

#endif							/* TOLL_FREE_H */
