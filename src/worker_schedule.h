/*-------------------------------------------------------------------------
 *
 * worker_schedule.h
 *		Scheduled syncs of the RespOrgs in toll_free.sync_targets and the
 *		daily report of their expiring reservations.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_WORKER_SCHEDULE_H
#define TOLL_FREE_WORKER_SCHEDULE_H

#include "datatype/timestamp.h"
#include "utils/date.h"

#include "worker_internal.h"

/* RespOrgs toll_free.sync_targets may list. */
#define TF_MAX_SYNC_TARGETS		TF_WARNING_SLOTS

extern bool tf_resporg_id_is_valid(const char *id);

extern void tf_schedule_reload(void);
extern void tf_schedule_load(void);
extern const char *tf_schedule_due(TimestampTz now);
extern void tf_schedule_ran(const char *resporg, TimestampTz started_at,
							bool succeeded);
extern TimestampTz tf_schedule_next(void);

extern const char *tf_schedule_warning_due(DateADT today);
extern void tf_schedule_warned(const char *resporg, DateADT today);

#endif							/* TOLL_FREE_WORKER_SCHEDULE_H */
