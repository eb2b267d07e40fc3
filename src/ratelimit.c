/*-------------------------------------------------------------------------
 *
 * ratelimit.c
 *		The cluster-wide request budget: toll_free.rate_limit requests per
 *		minute, shared by every backend and the worker.
 *
 * A token bucket in shared memory under a spinlock.  It refills at
 * rate_limit/60 tokens per second up to one second's worth (at least one
 * token).  So over any interval of T seconds at most rate_limit/60 * (T + 1)
 * requests go out.  A process takes its token at
 * once, even into debt, and then sleeps until the debt it created would be
 * paid: waiters queue up in arrival order without retrying in a storm.
 * A 429 response also stops everyone until its Retry-After has passed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/spin.h"
#include "utils/timestamp.h"

#include "http.h"
#include "registry.h"
#include "session.h"
#include "settings.h"
#include "toll_free.h"

/*
 * tf_rate_acquire
 *		Take one request from the budget, sleeping (interruptibly) as long
 *		as the budget requires.
 */
void
tf_rate_acquire(void)
{
	TfClientShared *shared = tf_client_shared;

	if (shared == NULL)
		tf_require_preload("registry calls");

	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		double		per_ms = tf_rate_limit / 60000.0;
		double		capacity = Max(1.0, tf_rate_limit / 60.0);
		long		wait_ms = 0;
		bool		blocked = false;

		SpinLockAcquire(&shared->rate_mutex);

		if (shared->rate_blocked_until > now)
		{
			wait_ms = (long) ((shared->rate_blocked_until - now) / 1000) + 1;
			blocked = true;
		}
		else
		{
			if (shared->rate_tokens < 0 && shared->rate_refilled_at == 0)
				shared->rate_tokens = capacity;
			else if (now > shared->rate_refilled_at)
				shared->rate_tokens = Min(capacity,
										  shared->rate_tokens +
										  (now - shared->rate_refilled_at) / 1000.0 * per_ms);
			shared->rate_refilled_at = now;

			shared->rate_tokens -= 1.0;
			shared->requests_sent++;
			if (shared->rate_tokens < 0)
				wait_ms = (long) (-shared->rate_tokens / per_ms) + 1;
		}

		SpinLockRelease(&shared->rate_mutex);

		if (wait_ms > 0)
			tf_http_sleep(wait_ms);
		if (!blocked)
			return;
	}
}

/*
 * tf_rate_block_until
 *		Hold every sender back until the given time.
 */
void
tf_rate_block_until(TimestampTz until)
{
	TfClientShared *shared = tf_client_shared;

	if (shared == NULL)
		return;

	SpinLockAcquire(&shared->rate_mutex);
	if (until > shared->rate_blocked_until)
		shared->rate_blocked_until = until;
	SpinLockRelease(&shared->rate_mutex);
}
