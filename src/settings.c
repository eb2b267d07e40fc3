/*-------------------------------------------------------------------------
 *
 * settings.c
 *		Definition and validation of the toll_free.* configuration settings.
 *
 * All settings live under the reserved "toll_free." prefix, so a misspelled
 * name is an error instead of a silently ignored placeholder.  The split of
 * contexts follows what each setting can do to the cluster:
 *
 * - The endpoint, the credentials file, the CA file and plain-HTTP permission
 *   decide where the registry password is sent, so only a superuser may set
 *   them (PGC_SIGHUP with GUC_SUPERUSER_ONLY).  Granting SET on any other
 *   setting can therefore never weaken TLS or redirect traffic.
 * - Timeouts, the acting RespOrg and per-call concurrency are ordinary user
 *   settings (PGC_USERSET) that apply from the first call of a session.
 * - Worker and queue settings are read by the background worker
 *   (PGC_SIGHUP, or PGC_POSTMASTER where a restart is needed).
 *
 * The registry password itself is never a setting: toll_free.credentials_file
 * names a file that only the server account can read.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <limits.h>

#include "utils/guc.h"

#include "settings.h"
#include "tfn.h"

char	   *tf_registry_url = NULL;
char	   *tf_credentials_file = NULL;
char	   *tf_ca_file = NULL;
bool		tf_allow_plain_http = false;
int			tf_max_response_size_kb = 262144;

char	   *tf_default_resporg = NULL;
int			tf_connect_timeout_ms = 5000;
int			tf_timeout_ms = 30000;
int			tf_stall_timeout_s = 15;
int			tf_max_connections = 4;
int			tf_pending_wait_ms = 30000;

int			tf_rate_limit = 3000;

bool		tf_worker_enabled = true;
char	   *tf_worker_database = NULL;
char	   *tf_worker_role = NULL;
char	   *tf_sync_targets = NULL;
int			tf_sync_interval_s = 3600;
int			tf_reservation_warning_days = 5;
int			tf_history_retention_s = 365 * 24 * 3600;

int			tf_queue_max_in_flight = 4;
int			tf_queue_max_attempts = 5;
int			tf_queue_cap = 100000;
int			tf_queue_retention_s = 7 * 24 * 3600;
int			tf_queue_poll_interval_s = 60;

/*
 * check_registry_url
 *		Accept an empty value or an http(s) URL without user information.
 *
 * Credentials embedded in the URL would be visible to anyone who can read
 * pg_settings as a superuser-only value and would reach libcurl's error
 * texts, so they are rejected here.  Whether plain http is allowed is decided
 * per call, because it also depends on toll_free.allow_plain_http.
 */
static bool
check_registry_url(char **newval, void **extra, GucSource source)
{
	const char *url = *newval;
	const char *authority;

	if (url == NULL || url[0] == '\0')
		return true;

	if (strncmp(url, "https://", 8) == 0)
		authority = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		authority = url + 7;
	else
	{
		GUC_check_errdetail("The registry URL must start with https:// (or http:// for a loopback test server).");
		return false;
	}

	if (strcspn(authority, "@") < strcspn(authority, "/"))
	{
		GUC_check_errdetail("The registry URL must not contain a user name or password; use toll_free.credentials_file.");
		return false;
	}

	if (strpbrk(url, "?# \t\r\n") != NULL)
	{
		GUC_check_errdetail("The registry URL must not contain a query, a fragment or white space.");
		return false;
	}

	return true;
}

/*
 * check_resporg
 *		Accept an empty value or a RespOrg ID: five letters or digits.
 *
 * Lower case is folded to upper case, since RespOrg IDs are written in upper
 * case everywhere in the registry.
 */
static bool
check_resporg(char **newval, void **extra, GucSource source)
{
	char	   *value = *newval;

	if (value == NULL || value[0] == '\0')
		return true;

	if (strlen(value) != 5)
	{
		GUC_check_errdetail("A RespOrg ID has exactly five letters or digits, for example RUC01.");
		return false;
	}

	for (char *p = value; *p; p++)
	{
		if (!isalnum((unsigned char) *p) || IS_HIGHBIT_SET(*p))
		{
			GUC_check_errdetail("A RespOrg ID has exactly five letters or digits, for example RUC01.");
			return false;
		}
		*p = pg_toupper((unsigned char) *p);
	}

	return true;
}

/*
 * define_endpoint_settings
 *		Settings that decide where requests go and how they are trusted.
 */
static void
define_endpoint_settings(void)
{
	DefineCustomStringVariable("toll_free.url",
							   "Base URL of the registry API, for example https://registry.example/v3/ip.",
							   NULL,
							   &tf_registry_url,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   check_registry_url, NULL, NULL);

	DefineCustomStringVariable("toll_free.credentials_file",
							   "File with the registry user name and password (readable by the server account only).",
							   NULL,
							   &tf_credentials_file,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("toll_free.ca_file",
							   "CA certificate file used to verify the registry's certificate; empty means the system store.",
							   NULL,
							   &tf_ca_file,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomBoolVariable("toll_free.allow_plain_http",
							 "Allows http:// registry URLs on loopback addresses (testing only).",
							 NULL,
							 &tf_allow_plain_http,
							 false,
							 PGC_SIGHUP,
							 GUC_SUPERUSER_ONLY,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("toll_free.max_response_size",
							"Largest registry response body accepted.",
							"A RespOrg check is limited per page.",
							&tf_max_response_size_kb,
							262144,
							64,
							INT_MAX / 1024,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);
}

/*
 * define_call_settings
 *		Settings that shape one call: timeouts, concurrency, acting RespOrg.
 */
static void
define_call_settings(void)
{
	DefineCustomStringVariable("toll_free.resporg",
							   "RespOrg that registry calls act for, and the default of functions that take a RespOrg.",
							   NULL,
							   &tf_default_resporg,
							   "",
							   PGC_USERSET,
							   0,
							   check_resporg, NULL, NULL);

	DefineCustomIntVariable("toll_free.connect_timeout",
							"Time allowed to connect to the registry, including the TLS handshake.",
							NULL,
							&tf_connect_timeout_ms,
							5000,
							1,
							INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("toll_free.timeout",
							"Time allowed for one registry request, from connect to the last byte.",
							NULL,
							&tf_timeout_ms,
							30000,
							1,
							INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("toll_free.stall_timeout",
							"A transfer that receives no data for this long is abandoned.",
							NULL,
							&tf_stall_timeout_s,
							15,
							1,
							3600,
							PGC_USERSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("toll_free.max_connections",
							"Registry requests one call may run at the same time.",
							NULL,
							&tf_max_connections,
							4,
							1,
							64,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("toll_free.pending_wait",
							"How long a call polls request status after the registry answers 202 (pending).",
							NULL,
							&tf_pending_wait_ms,
							30000,
							0,
							INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("toll_free.rate_limit",
							"Registry requests per minute for the whole cluster, shared by all sessions and the worker.",
							NULL,
							&tf_rate_limit,
							3000,
							1,
							1000000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);
}

/*
 * define_worker_settings
 *		Settings read by the background worker: where it runs and what it syncs.
 */
static void
define_worker_settings(void)
{
	DefineCustomBoolVariable("toll_free.worker",
							 "Starts the toll_free background worker (inventory sync and request queue).",
							 NULL,
							 &tf_worker_enabled,
							 true,
							 PGC_POSTMASTER,
							 GUC_SUPERUSER_ONLY,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("toll_free.database",
							   "Database the background worker connects to; the extension is created there.",
							   NULL,
							   &tf_worker_database,
							   "postgres",
							   PGC_POSTMASTER,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("toll_free.worker_role",
							   "Role the background worker runs as; empty means the bootstrap superuser.",
							   NULL,
							   &tf_worker_role,
							   "",
							   PGC_POSTMASTER,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("toll_free.sync_targets",
							   "Comma-separated RespOrg IDs whose inventory the worker keeps in toll_free.numbers.",
							   NULL,
							   &tf_sync_targets,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("toll_free.sync_interval",
							"Time between two scheduled inventory syncs of a RespOrg; 0 syncs only on request.",
							NULL,
							&tf_sync_interval_s,
							3600,
							0,
							INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("toll_free.reservation_warning_days",
							"Days before a reservation expires that the worker starts logging a warning about it.",
							NULL,
							&tf_reservation_warning_days,
							5,
							0,
							45,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("toll_free.history_retention",
							"How long the worker keeps audit rows of calls, number history and sync runs.",
							"Older rows are deleted in batches; each RespOrg's last sync run stays.  0 keeps everything.",
							&tf_history_retention_s,
							365 * 24 * 3600,
							0,
							INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);
}

/*
 * define_queue_settings
 *		Settings of the request queue carried out by the worker.
 */
static void
define_queue_settings(void)
{
	DefineCustomIntVariable("toll_free.queue_max_in_flight",
							"Queued requests the worker sends at the same time.",
							NULL,
							&tf_queue_max_in_flight,
							4,
							1,
							64,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("toll_free.queue_max_attempts",
							"Attempts for a queued request that fails with a transient error before it is marked failed.",
							NULL,
							&tf_queue_max_attempts,
							5,
							1,
							100,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("toll_free.queue_cap",
							"Unfinished queued requests allowed; enqueueing more raises an error.",
							NULL,
							&tf_queue_cap,
							100000,
							1,
							INT_MAX,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("toll_free.queue_retention",
							"How long finished requests are kept in toll_free.requests before they are purged.",
							NULL,
							&tf_queue_retention_s,
							7 * 24 * 3600,
							0,
							INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("toll_free.queue_poll_interval",
							"Interval of the worker's safety poll for queued rows it was not woken for.",
							"The poll is the only statement an idle worker runs.",
							&tf_queue_poll_interval_s,
							60,
							1,
							3600,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);
}

/*
 * tf_define_settings
 *		Define every toll_free.* setting and reserve the prefix.
 */
void
tf_define_settings(void)
{
	define_endpoint_settings();
	define_call_settings();
	define_worker_settings();
	define_queue_settings();
	tfn_define_settings();

	MarkGUCPrefixReserved("toll_free");
}
