/*-------------------------------------------------------------------------
 *
 * reqlog.c
 *	  The request log (a bounded ring of every API request, for tests) and
 *	  the results of requests that got a 202 response (for request status).
 *
 * The log has its own mutex because it is written after sim_lock is
 * released.  Request bodies are kept up to 8 kB each, with the text of
 * <password> replaced by ***.
 *
 *-------------------------------------------------------------------------
 */
#include "tfsim.h"

#include <stdlib.h>
#include <string.h>

#define LOG_CAPACITY 50000
#define LOG_BODY_MAX 8192

typedef struct LogEntry
{
	uint64_t	seq;
	int64_t		time;
	char		method[8];
	char	   *path;
	int			status;
	char		resporg[6];
	char	   *body;
} LogEntry;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static LogEntry log_ring[LOG_CAPACITY];
static uint64_t log_seq;

typedef struct PathCount
{
	char		route[40];
	uint64_t	count;
} PathCount;

static PathCount path_counts[64];
static int	npath_counts;

/* Copy body with every <password>...</password> text replaced by ***. */
static char *
mask_body(const char *body, size_t len)
{
	StrBuf		out;
	size_t		pos = 0;

	if (len > LOG_BODY_MAX)
		len = LOG_BODY_MAX;
	sb_init(&out);
	sb_reserve(&out, len);
	while (pos < len)
	{
		const char *open = memmem(body + pos, len - pos, "<password>", 10);
		const char *close;

		if (open == NULL)
		{
			sb_append(&out, body + pos, len - pos);
			break;
		}
		sb_append(&out, body + pos, (size_t) (open - (body + pos)) + 10);
		sb_puts(&out, "***");
		close = memmem(open + 10, len - (size_t) (open + 10 - body), "</password>", 11);
		if (close == NULL)
			break;
		pos = (size_t) (close - body);
	}
	if (out.data == NULL)
		sb_puts(&out, "");
	return out.data;
}

/* Append one request to the log and return its sequence number. */
uint64_t
reqlog_add(const char *method, const char *path_query, int status,
		   const char *resporg, const char *body, size_t body_len)
{
	char	   *masked = mask_body(body ? body : "", body ? body_len : 0);
	int64_t		now;
	uint64_t	seq;
	LogEntry   *le;

	/* an unlocked read of the clock offset: callers may hold sim_lock */
	now = sim_now();

	pthread_mutex_lock(&log_lock);
	seq = ++log_seq;
	le = &log_ring[seq % LOG_CAPACITY];
	free(le->path);
	free(le->body);
	le->seq = seq;
	le->time = now;
	snprintf(le->method, sizeof(le->method), "%s", method);
	le->path = xstrdup(path_query);
	le->status = status;
	snprintf(le->resporg, sizeof(le->resporg), "%s", resporg ? resporg : "");
	le->body = masked;
	pthread_mutex_unlock(&log_lock);
	return seq;
}

static void
put_escaped_field(StrBuf *sb, const char *s)
{
	for (; *s; s++)
	{
		if (*s == '\\')
			sb_append(sb, "\\\\", 2);
		else if (*s == '\t')
			sb_append(sb, "\\t", 2);
		else if (*s == '\n')
			sb_append(sb, "\\n", 2);
		else if (*s == '\r')
			sb_append(sb, "\\r", 2);
		else
			sb_append(sb, s, 1);
	}
}

/*
 * Write the log entries after since, optionally only those whose path
 * starts with path and whose method is method, as TSV lines.
 */
void
reqlog_dump(StrBuf *sb, uint64_t since, const char *path, const char *method)
{
	uint64_t	first;

	pthread_mutex_lock(&log_lock);
	first = log_seq > LOG_CAPACITY ? log_seq - LOG_CAPACITY + 1 : 1;
	if (since + 1 > first)
		first = since + 1;
	for (uint64_t seq = first; seq <= log_seq; seq++)
	{
		LogEntry   *le = &log_ring[seq % LOG_CAPACITY];
		char		ts[21];

		if (le->seq != seq)
			continue;
		if (path && strncmp(le->path, path, strlen(path)) != 0)
			continue;
		if (method && strcmp(le->method, method) != 0)
			continue;
		format_timestamp(le->time, ts);
		sb_printf(sb, "%llu\t%s\t%s\t", (unsigned long long) seq, ts, le->method);
		put_escaped_field(sb, le->path);
		sb_printf(sb, "\t%d\t%s\t", le->status, le->resporg);
		put_escaped_field(sb, le->body);
		sb_puts(sb, "\n");
	}
	pthread_mutex_unlock(&log_lock);
}

void
reqlog_clear(void)
{
	pthread_mutex_lock(&log_lock);
	for (int i = 0; i < LOG_CAPACITY; i++)
	{
		free(log_ring[i].path);
		free(log_ring[i].body);
		memset(&log_ring[i], 0, sizeof(LogEntry));
	}
	log_seq = 0;
	npath_counts = 0;
	pthread_mutex_unlock(&log_lock);
}

/* Count one request of a route (for /_admin/stats). */
void
reqlog_count_path(const char *route)
{
	pthread_mutex_lock(&log_lock);
	for (int i = 0; i < npath_counts; i++)
		if (strcmp(path_counts[i].route, route) == 0)
		{
			path_counts[i].count++;
			pthread_mutex_unlock(&log_lock);
			return;
		}
	if (npath_counts < 64)
	{
		snprintf(path_counts[npath_counts].route, sizeof(path_counts[0].route), "%s", route);
		path_counts[npath_counts++].count = 1;
	}
	pthread_mutex_unlock(&log_lock);
}

void
reqlog_path_stats(StrBuf *sb)
{
	pthread_mutex_lock(&log_lock);
	sb_printf(sb, "requests_total %llu\n", (unsigned long long) log_seq);
	for (int i = 0; i < npath_counts; i++)
		sb_printf(sb, "requests %s %llu\n", path_counts[i].route,
				  (unsigned long long) path_counts[i].count);
	pthread_mutex_unlock(&log_lock);
}

/* ---------------------------------------------------------------------
 * Pending results (protected by sim_lock)
 * ---------------------------------------------------------------------
 */
/*
 * NOTE: results live in a ring of PENDING_CAPACITY slots, so after that many
 * later 202 responses a result is gone (099060) before its 24 hours.
 */
#define PENDING_CAPACITY 65536
#define PENDING_KEEP_MS (24LL * 3600 * 1000)

typedef struct Pending
{
	uint64_t	id;
	int			resporg;
	int			status;
	char	   *body;
	size_t		len;
	int64_t		ready_at;
	int64_t		expires_at;
} Pending;

static Pending pending_ring[PENDING_CAPACITY];
static uint64_t pending_next_id;
static Rng	pending_rng = {0x9e4d};

/*
 * Keep the final response of a request that got a 202 for request status,
 * which reports it as pending until ready_at_ms.  Returns the id.
 */
uint64_t
pending_store(int resporg, int status, const StrBuf *body, int64_t ready_at_ms)
{
	uint64_t	id = ++pending_next_id;
	Pending    *p = &pending_ring[id % PENDING_CAPACITY];

	free(p->body);
	p->id = id;
	p->resporg = resporg;
	p->status = status;
	p->len = body->len;
	p->body = xmalloc(body->len + 1);
	memcpy(p->body, body->data ? body->data : "", body->len);
	p->body[body->len] = '\0';
	p->ready_at = ready_at_ms;
	p->expires_at = ready_at_ms + PENDING_KEEP_MS;
	return id;
}

/*
 * Look up a pending result for RespOrg resporg.  Returns 0 when unknown,
 * expired or another RespOrg's; else its final status, with *ready false
 * while it is still in progress (body untouched then).
 */
int
pending_lookup(uint64_t id, int resporg, StrBuf *body, int64_t now_ms,
			   bool *ready)
{
	Pending    *p = &pending_ring[id % PENDING_CAPACITY];

	if (id == 0 || p->id != id || p->resporg != resporg || now_ms > p->expires_at)
		return 0;
	*ready = now_ms >= p->ready_at;
	if (*ready)
		sb_append(body, p->body, p->len);
	return p->status;
}

void
pending_clear(void)
{
	for (int i = 0; i < PENDING_CAPACITY; i++)
	{
		free(pending_ring[i].body);
		memset(&pending_ring[i], 0, sizeof(Pending));
	}
	pending_next_id = 0;
	rng_seed(&pending_rng, 0x9e4d ^ sim_config.seed);
}

/* Draw whether this call gets a 202 response (--pending-share). */
bool
pending_roll(void)
{
	if (sim_config.pending_share <= 0)
		return false;
	return rng_double(&pending_rng) < sim_config.pending_share;
}
