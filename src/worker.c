/*-------------------------------------------------------------------------
 *
 * worker.c
 *		Background worker (placeholder until the inventory sync lands).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "toll_free.h"

void
tf_worker_shmem_request(void)
{
}

void
tf_worker_shmem_startup(void)
{
}

void
tf_worker_register(void)
{
}
