/*-------------------------------------------------------------------------
 *
 * settings.h
 *		The toll_free.* configuration settings, defined in settings.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_SETTINGS_H
#define TOLL_FREE_SETTINGS_H

/* Registry endpoint and credentials (superuser only). */
extern char *tf_registry_url;
extern char *tf_credentials_file;
extern char *tf_ca_file;
extern bool tf_allow_plain_http;
extern int	tf_max_response_size_kb;

/* Per-call behaviour (any user, or by role defaults). */
extern char *tf_default_resporg;
extern int	tf_connect_timeout_ms;
extern int	tf_timeout_ms;
extern int	tf_stall_timeout_s;
extern int	tf_max_connections;
extern int	tf_pending_wait_ms;

/* Cluster-wide request budget (requests per minute). */
extern int	tf_rate_limit;

/* Background worker. */
extern bool tf_worker_enabled;
extern char *tf_worker_database;
extern char *tf_worker_role;
extern char *tf_sync_targets;
extern int	tf_sync_interval_s;
extern int	tf_reservation_warning_days;
extern int	tf_history_retention_s;

/* Request queue. */
extern int	tf_queue_max_in_flight;
extern int	tf_queue_max_attempts;
extern int	tf_queue_cap;
extern int	tf_queue_retention_s;
extern int	tf_queue_poll_interval_s;

extern void tf_define_settings(void);

#endif							/* TOLL_FREE_SETTINGS_H */
