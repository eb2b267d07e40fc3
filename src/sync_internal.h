/*-------------------------------------------------------------------------
 *
 * sync_internal.h
 *		The steps of an inventory sync, shared by sync.c, sync_download.c
 *		and sync_apply.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_SYNC_INTERNAL_H
#define TOLL_FREE_SYNC_INTERNAL_H

#include "rck.h"
#include "sync.h"

/* Download every page into toll_free.sync_staging, one transaction a page. */
extern void tf_sync_download(TfSyncRun *run);

/*
 * Apply the staged inventory to toll_free.numbers in the current
 * transaction.  "record_new" writes a history row for each new number, and
 * is off for the first load of a RespOrg.
 */
extern void tf_sync_apply(TfSyncRun *run, bool record_new);

/* Open toll_free.<name> (never through the search_path). */
extern Oid	tf_sync_relation_oid(const char *name);

#endif							/* TOLL_FREE_SYNC_INTERNAL_H */
