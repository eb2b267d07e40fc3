/*-------------------------------------------------------------------------
 *
 * retention.h
 *		Deletion of history older than toll_free.history_retention, run by
 *		the background worker.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_RETENTION_H
#define TOLL_FREE_RETENTION_H

#include "datatype/timestamp.h"

/*
 * Run a retention pass when one is due; true when it ran.  Call outside any
 * transaction, with the extension present.
 */
extern bool tf_retention_run_due(void);

/* When the next pass is due; 0 when the retention is off. */
extern TimestampTz tf_retention_next(void);

/* Make a pass due at once, so that a changed retention applies promptly. */
extern void tf_retention_reschedule(void);

#endif							/* TOLL_FREE_RETENTION_H */
