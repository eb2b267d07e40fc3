/*-------------------------------------------------------------------------
 *
 * module.c
 *		Module start-up: settings, shared memory and the background worker.
 *
 * toll_free must be listed in shared_preload_libraries for everything that
 * talks to the registry: the shared registry session, the cluster-wide rate
 * budget and the background worker all live in shared memory, which can only
 * be reserved while the postmaster starts.  Loaded any other way (for example
 * by CREATE EXTENSION in a cluster without the preload), the library still
 * defines its settings and the tfn type works, but registry functions raise
 * an error that says how to fix the configuration.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"

#include "settings.h"
#include "toll_free.h"

PG_MODULE_MAGIC;

bool		tf_preloaded = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

void		_PG_init(void);

/*
 * tf_shmem_request
 *		Reserve the shared memory and LWLocks of the client and the worker.
 */
static void
tf_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();

	tf_client_shmem_request();
	tf_worker_shmem_request();
}

/*
 * tf_shmem_startup
 *		Attach to (or, in the postmaster, initialize) the shared state.
 */
static void
tf_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	tf_client_shmem_startup();
	tf_worker_shmem_startup();
}

/*
 * _PG_init
 *		Define the settings; when preloaded, also hook shared memory and
 *		register the background worker.
 */
void
_PG_init(void)
{
	tf_define_settings();

	if (!process_shared_preload_libraries_in_progress)
		return;

	tf_preloaded = true;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = tf_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = tf_shmem_startup;

	if (!IsBinaryUpgrade)
		tf_worker_register();
}

/*
 * tf_require_preload
 *		Raise an error unless the library was preloaded.
 *
 * "what" names the feature in the message, e.g. "registry calls".
 */
void
tf_require_preload(const char *what)
{
	if (tf_preloaded)
		return;

	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("%s require toll_free to be loaded through shared_preload_libraries", what),
			 errhint("Add toll_free to shared_preload_libraries in postgresql.conf and restart the server.")));
}
