/*-------------------------------------------------------------------------
 *
 * session.c
 *		Shared registry session and rate budget (placeholder until the
 *		registry client lands).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "toll_free.h"

void
tf_client_shmem_request(void)
{
}

void
tf_client_shmem_startup(void)
{
}
