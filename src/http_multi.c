/*-------------------------------------------------------------------------
 *
 * http_multi.c
 *		The process's libcurl multi handle and the wait loop that drives it.
 *
 * libcurl's multi interface reports, through CURLMOPT_SOCKETFUNCTION and
 * CURLMOPT_TIMERFUNCTION, which sockets it wants watched and when it wants
 * to be called back.  We keep that list here and wait on it with a
 * WaitEventSet that also holds the process latch and postmaster death.  A
 * signal (cancel, statement_timeout, terminate) sets the latch, the wait
 * returns at once, and CHECK_FOR_INTERRUPTS lets PostgreSQL raise its own
 * error; the transfers of the aborted statement are released by their
 * memory-context reset callbacks (see http.c).
 *
 * The multi handle lives as long as the process, so its connection cache
 * keeps registry connections alive from one call to the next.  libcurl
 * objects are allocated with malloc and never tied to PostgreSQL memory
 * contexts: their lifetimes do not match.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "http_internal.h"
#include "toll_free.h"

/* A socket libcurl asked us to watch, with CURL_POLL_IN/OUT/INOUT. */
typedef struct TrackedSocket
{
	curl_socket_t fd;
	int			what;
} TrackedSocket;

static CURLM *multi = NULL;

static TrackedSocket *sockets = NULL;
static int	nsockets = 0;
static int	max_sockets = 0;

/* The wait set is rebuilt whenever the socket list changed. */
static WaitEventSet *wait_set = NULL;
static bool sockets_changed = true;

/* curl's timer: when it wants CURL_SOCKET_TIMEOUT, if at all. */
static bool timer_active = false;
static TimestampTz timer_deadline = 0;

/* Maximum single wait, so a missed wake-up cannot hang a call. */
#define MAX_WAIT_MS 1000

#if PG_VERSION_NUM >= 170000
static uint32 registry_wait_event = 0;

/*
 * tf_wait_event_registry
 *		The custom wait event "TollFreeRegistry" shown in pg_stat_activity.
 */
uint32
tf_wait_event_registry(void)
{
	if (registry_wait_event == 0)
		registry_wait_event = WaitEventExtensionNew("TollFreeRegistry");
	return registry_wait_event;
}
#endif

/*
 * socket_callback
 *		CURLMOPT_SOCKETFUNCTION: record what libcurl wants watched.
 *
 * Runs inside libcurl, so it must not raise an error: memory comes from
 * realloc, and a failure makes libcurl abort the transfer.
 */
static int
socket_callback(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	int			i;

	for (i = 0; i < nsockets; i++)
	{
		if (sockets[i].fd == fd)
			break;
	}

	if (what == CURL_POLL_REMOVE)
	{
		if (i < nsockets)
		{
			sockets[i] = sockets[nsockets - 1];
			nsockets--;
			sockets_changed = true;
		}
		return 0;
	}

	if (i == nsockets)
	{
		if (nsockets == max_sockets)
		{
			int			new_max = Max(8, max_sockets * 2);
			TrackedSocket *grown = realloc(sockets, new_max * sizeof(TrackedSocket));

			if (grown == NULL)
				return -1;
			sockets = grown;
			max_sockets = new_max;
		}
		sockets[nsockets].fd = fd;
		sockets[nsockets].what = 0;
		nsockets++;
	}

	if (sockets[i].what != what)
	{
		sockets[i].what = what;
		sockets_changed = true;
	}
	return 0;
}

/*
 * timer_callback
 *		CURLMOPT_TIMERFUNCTION: remember when libcurl wants to be called.
 */
static int
timer_callback(CURLM *m, long timeout_ms, void *userp)
{
	if (timeout_ms < 0)
	{
		timer_active = false;
		return 0;
	}

	timer_active = true;
	timer_deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	return 0;
}

/*
 * tf_http_multi
 *		Return the process's multi handle, creating it on first use.
 *
 * curl_global_init runs here, in the backend or worker, never in the
 * postmaster.  A libcurl built without an asynchronous resolver would block
 * in DNS lookups where no interrupt can reach it, so that gets a warning.
 */
CURLM *
tf_http_multi(void)
{
	curl_version_info_data *version;

	if (multi != NULL)
		return multi;

	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not initialize libcurl")));

	version = curl_version_info(CURLVERSION_NOW);
	if ((version->features & CURL_VERSION_ASYNCHDNS) == 0)
		ereport(WARNING,
				(errmsg("libcurl %s has no asynchronous resolver", version->version),
				 errdetail("Host name lookups of the registry cannot be interrupted or timed out.")));

	multi = curl_multi_init();
	if (multi == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not create a libcurl multi handle")));

	curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, socket_callback);
	curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_callback);
	/* HTTP/1.1 only: one request per connection at a time. */
	curl_multi_setopt(multi, CURLMOPT_PIPELINING, (long) CURLPIPE_NOTHING);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 16L);

	return multi;
}

/*
 * rebuild_wait_set
 *		Make the wait set hold the latch, postmaster death and every socket
 *		libcurl currently watches.
 */
static void
rebuild_wait_set(void)
{
	if (wait_set != NULL && !sockets_changed)
		return;

	if (wait_set != NULL)
	{
		FreeWaitEventSet(wait_set);
		wait_set = NULL;
	}

#if PG_VERSION_NUM >= 170000
	wait_set = CreateWaitEventSet(NULL, nsockets + 2);
#else
	wait_set = CreateWaitEventSet(TopMemoryContext, nsockets + 2);
#endif
	AddWaitEventToSet(wait_set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(wait_set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);

	for (int i = 0; i < nsockets; i++)
	{
		uint32		events = 0;

		if (sockets[i].what == CURL_POLL_IN || sockets[i].what == CURL_POLL_INOUT)
			events |= WL_SOCKET_READABLE;
		if (sockets[i].what == CURL_POLL_OUT || sockets[i].what == CURL_POLL_INOUT)
			events |= WL_SOCKET_WRITEABLE;
		if (events != 0)
			AddWaitEventToSet(wait_set, events, sockets[i].fd, NULL, NULL);
	}

	sockets_changed = false;
}

/*
 * dispatch_finished
 *		Hand every transfer libcurl reports as finished to http.c.
 */
static void
dispatch_finished(void)
{
	CURLMsg    *msg;
	int			queued;

	while ((msg = curl_multi_info_read(multi, &queued)) != NULL)
	{
		TfHttpTransfer *xfer = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;

		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &xfer);
		if (xfer != NULL)
			tf_http_transfer_done(xfer, msg->data.result);
	}
}

/*
 * run_timer_if_due
 *		Give libcurl its timeout call once the timer has expired.
 */
static void
run_timer_if_due(void)
{
	int			running;

	if (!timer_active || GetCurrentTimestamp() < timer_deadline)
		return;

	timer_active = false;
	curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
}

/*
 * tf_http_drive
 *		Wait once and let libcurl act on what happened.
 */
void
tf_http_drive(long max_wait_ms)
{
	WaitEvent	events[16];
	long		timeout = Min(max_wait_ms, MAX_WAIT_MS);
	int			nevents;
	int			running;

	tf_http_multi();

	/* A timer that is already due needs no wait. */
	if (timer_active)
	{
		long		secs;
		int			usecs;
		long		remaining;

		TimestampDifference(GetCurrentTimestamp(), timer_deadline, &secs, &usecs);
		remaining = secs * 1000 + usecs / 1000;
		timeout = Min(timeout, remaining);
	}

	/* A zero timeout still polls the sockets once. */
	rebuild_wait_set();
	nevents = WaitEventSetWait(wait_set, Max(timeout, 0), events, lengthof(events),
							   TF_WAIT_EVENT_REGISTRY);

	for (int i = 0; i < nevents; i++)
	{
		int			mask = 0;

		if (events[i].events & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			continue;
		}

		if (events[i].events & WL_SOCKET_READABLE)
			mask |= CURL_CSELECT_IN;
		if (events[i].events & WL_SOCKET_WRITEABLE)
			mask |= CURL_CSELECT_OUT;
		if (mask != 0)
			curl_multi_socket_action(multi, events[i].fd, mask, &running);
	}

	run_timer_if_due();
	dispatch_finished();

	CHECK_FOR_INTERRUPTS();
}

/*
 * tf_http_sleep
 *		Sleep for the given time while keeping every transfer moving.
 */
void
tf_http_sleep(long milliseconds)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), milliseconds);

	for (;;)
	{
		long		secs;
		int			usecs;
		long		remaining;

		TimestampDifference(GetCurrentTimestamp(), until, &secs, &usecs);
		remaining = secs * 1000 + usecs / 1000;
		if (remaining <= 0)
			break;
		tf_http_drive(remaining);
	}

	CHECK_FOR_INTERRUPTS();
}
