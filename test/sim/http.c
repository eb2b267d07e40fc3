/*-------------------------------------------------------------------------
 *
 * http.c
 *	  The HTTP side of tfsim: libmicrohttpd daemons for the API (HTTPS and
 *	  optional plain HTTP) and the admin API, request routing, faults that
 *	  act on the transport, pending (202) responses and the streamed RespOrg
 *	  check.
 *
 * The API daemons run libmicrohttpd's internal thread pool with epoll.  No
 * pool thread ever sleeps: latency, stalls and slow (drip) bodies suspend
 * the connection, and a waiter thread resumes it when its time comes or,
 * for a stall, when the client closes its end.  Resets set SO_LINGER to 0
 * and let libmicrohttpd close the socket; MHD_USE_TURBO keeps it from
 * calling shutdown() first, so the peer sees an RST, not a FIN.
 *
 *-------------------------------------------------------------------------
 */
#include "tfsim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#define MAX_REQUEST_BODY (1024 * 1024)
#define API_PREFIX "/v3/ip"
#define RCK_BLOCK (64 * 1024)

enum ReqState
{
	REQ_NEW,
	REQ_DELAYED,				/* suspended for latency, then processed */
	REQ_STALLED					/* suspended until the client goes away */
};

/* Per-request state, from the first call of the access handler to the end. */
typedef struct ReqCtx
{
	StrBuf		body;
	bool		too_large;
	int			state;
	bool		has_fault;
	Fault		fault;
	char	   *path_query;		/* API path after /v3/ip, with query */
} ReqCtx;

/* A suspended connection waiting for a time or for its client to close. */
typedef struct Waiter
{
	struct MHD_Connection *conn;
	int64_t		wake_at;		/* monotonic ms; for fd < 0 */
	int			fd;				/* stall: the socket to watch */
	struct Waiter *next;
} Waiter;

static struct MHD_Daemon *https_daemon;
static struct MHD_Daemon *plain_daemon;
static struct MHD_Daemon *admin_daemon;
static char *tls_key_pem;
static char *tls_cert_pem;

static pthread_mutex_t waiter_lock = PTHREAD_MUTEX_INITIALIZER;
static Waiter *waiters;
static int	wake_pipe[2] = {-1, -1};
static pthread_t waiter_thread;
static atomic_bool stopping;

static atomic_uint_fast64_t open_connections;
static atomic_uint_fast64_t connections_total;

uint64_t
stat_open_connections(void)
{
	return atomic_load(&open_connections);
}

uint64_t
stat_connections_total(void)
{
	return atomic_load(&connections_total);
}

/* ---------------------------------------------------------------------
 * Waiter thread
 * ---------------------------------------------------------------------
 */
static void
waiter_add(struct MHD_Connection *conn, int64_t wake_at, int fd)
{
	Waiter	   *w = xcalloc(1, sizeof(Waiter));
	char		b = 1;

	w->conn = conn;
	w->wake_at = wake_at;
	w->fd = fd;
	pthread_mutex_lock(&waiter_lock);
	w->next = waiters;
	waiters = w;
	pthread_mutex_unlock(&waiter_lock);
	if (write(wake_pipe[1], &b, 1) < 0 && errno != EAGAIN)
		sim_log("cannot wake the waiter thread: %s", strerror(errno));
}

/*
 * Resume suspended connections whose time came, and stalled ones whose
 * client closed its end.  On shutdown, resume them all so that
 * libmicrohttpd can close them.
 */
static void *
waiter_main(void *arg)
{
	(void) arg;
	for (;;)
	{
		struct pollfd fds[1024];
		Waiter	   *owners[1024];
		int			nfds = 1;
		int			timeout = -1;
		int64_t		now = monotonic_ms();
		char		drain[64];

		/*
		 * NOTE: only the first 1023 stalled connections are watched; a stall
		 * beyond that is resumed only at shutdown.
		 */
		fds[0].fd = wake_pipe[0];
		fds[0].events = POLLIN;
		pthread_mutex_lock(&waiter_lock);
		for (Waiter *w = waiters; w; w = w->next)
		{
			if (w->fd >= 0 && nfds < 1024)
			{
				fds[nfds].fd = w->fd;
				fds[nfds].events = POLLRDHUP;
				fds[nfds].revents = 0;
				owners[nfds++] = w;
			}
			else if (w->fd < 0)
			{
				int64_t		left = w->wake_at - now;

				if (left < 0)
					left = 0;
				if (timeout < 0 || left < timeout)
					timeout = (int) left;
			}
		}
		pthread_mutex_unlock(&waiter_lock);

		if (poll(fds, nfds, timeout) > 0 && (fds[0].revents & POLLIN))
			while (read(wake_pipe[0], drain, sizeof(drain)) > 0)
				;

		pthread_mutex_lock(&waiter_lock);
		now = monotonic_ms();
		for (int i = 1; i < nfds; i++)
			if (fds[i].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
				owners[i]->wake_at = -1;	/* mark: client closed */
		for (Waiter **pw = &waiters; *pw;)
		{
			Waiter	   *w = *pw;
			bool		due = atomic_load(&stopping) ||
				(w->fd < 0 && w->wake_at <= now) ||
				(w->fd >= 0 && w->wake_at == -1);

			if (due)
			{
				*pw = w->next;
				MHD_resume_connection(w->conn);
				free(w);
			}
			else
				pw = &w->next;
		}
		if (atomic_load(&stopping) && waiters == NULL)
		{
			pthread_mutex_unlock(&waiter_lock);
			break;
		}
		pthread_mutex_unlock(&waiter_lock);
	}
	return NULL;
}

/* ---------------------------------------------------------------------
 * Responses
 * ---------------------------------------------------------------------
 */
static void
add_common_headers(struct MHD_Response *resp, const char *ctype, int retry_after)
{
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
							ctype ? ctype : "application/xml; charset=utf-8");
	if (retry_after > 0)
	{
		char		v[16];

		snprintf(v, sizeof(v), "%d", retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
	}
}

/* Queue body (taking its memory) as a plain Content-Length response. */
static enum MHD_Result
queue_buffer(struct MHD_Connection *conn, int status, StrBuf *body,
			 const char *ctype, int retry_after)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (body->data == NULL)
		resp = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
	else
		resp = MHD_create_response_from_buffer(body->len, body->data,
											   MHD_RESPMEM_MUST_FREE);
	sb_init(body);
	if (resp == NULL)
		return MHD_NO;
	add_common_headers(resp, ctype, retry_after);
	ret = MHD_queue_response(conn, (unsigned int) status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static int	connection_fd(struct MHD_Connection *conn);

/* A body sent by a callback: cut short, in small chunks, or slowly. */
typedef struct BodyStream
{
	StrBuf		body;
	size_t		sent;
	size_t		limit;			/* stop with an error after this many bytes */
	size_t		chunk;			/* at most this many bytes per call */
	int			drip;			/* bytes per second, 0 = full speed */
	int64_t		next_at;
	struct MHD_Connection *conn;
} BodyStream;

static ssize_t
body_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	BodyStream *bs = cls;
	size_t		n;

	(void) pos;
	if (bs->sent >= bs->limit || atomic_load(&stopping))
	{
		/*
		 * libmicrohttpd 0.9.75 does not always close a chunked response
		 * that ends with an error at once, so shut the socket down here.
		 */
		int			fd = connection_fd(bs->conn);

		if (fd >= 0)
			shutdown(fd, SHUT_RDWR);
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (bs->sent >= bs->body.len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = bs->body.len - bs->sent;
	if (n > bs->limit - bs->sent)
		n = bs->limit - bs->sent;
	if (n > max)
		n = max;
	if (n > bs->chunk)
		n = bs->chunk;
	if (bs->drip > 0)
	{
		int64_t		now = monotonic_ms();

		if (now < bs->next_at)
		{
			MHD_suspend_connection(bs->conn);
			waiter_add(bs->conn, bs->next_at, -1);
			return 0;
		}
		if (n > (size_t) bs->drip)
			n = (size_t) bs->drip;
		bs->next_at = now + 1000;
	}
	memcpy(buf, bs->body.data + bs->sent, n);
	bs->sent += n;
	return (ssize_t) n;
}

static void
body_stream_free(void *cls)
{
	BodyStream *bs = cls;

	sb_free(&bs->body);
	free(bs);
}

/* Queue a body with a truncate, cut_chunked or drip fault applied. */
static enum MHD_Result
queue_faulty_stream(struct MHD_Connection *conn, int status, StrBuf *body,
					const Fault *f, int retry_after)
{
	BodyStream *bs = xcalloc(1, sizeof(BodyStream));
	struct MHD_Response *resp;
	enum MHD_Result ret;
	uint64_t	total = body->len;

	bs->body = *body;
	sb_init(body);
	bs->conn = conn;
	bs->limit = SIZE_MAX;
	bs->chunk = SIZE_MAX;
	if (f->kind == FK_TRUNCATE)
		bs->limit = f->bytes >= 0 ? (size_t) f->bytes : bs->body.len / 2;
	else if (f->kind == FK_CUT_CHUNKED)
	{
		bs->limit = f->bytes >= 0 ? (size_t) f->bytes : bs->body.len / 2;
		bs->chunk = 256;
		total = MHD_SIZE_UNKNOWN;
	}
	else if (f->kind == FK_DRIP)
		bs->drip = f->bytes > 0 ? (int) f->bytes : 64;
	if (bs->limit > bs->body.len && f->kind != FK_DRIP)
		bs->limit = bs->body.len;

	resp = MHD_create_response_from_callback(total, 4096, body_stream_read, bs,
											 body_stream_free);
	if (resp == NULL)
	{
		body_stream_free(bs);
		return MHD_NO;
	}
	add_common_headers(resp, NULL, retry_after);
	ret = MHD_queue_response(conn, (unsigned int) status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A RespOrg check page streamed with chunked encoding as rows are made. */
typedef struct RckStream
{
	int			ro;
	uint64_t	cursor;
	uint32_t	remaining;
	int			stage;			/* 0 header, 1 rows, 2 trailer, 3 done */
	StrBuf		buf;
	size_t		off;
} RckStream;

/* Produce the next piece of the page into rs->buf; caller holds sim_lock. */
static void
rck_fill(RckStream *rs, size_t max_bytes)
{
	sb_reset(&rs->buf);
	rs->off = 0;
	switch (rs->stage)
	{
		case 0:
			sb_puts(&rs->buf, "<respOrgCheck>");
			sb_elem(&rs->buf, "respOrgId", resporgs[rs->ro].id);
			sb_puts(&rs->buf, "\n");
			rs->stage = 1;
			break;
		case 1:
			rck_render(rs->ro, &rs->cursor, &rs->remaining, &rs->buf, max_bytes);
			if (rs->remaining == 0)
				rs->stage = 2;
			break;
		case 2:
			if (rs->cursor != UINT64_MAX && rck_more(rs->ro, rs->cursor))
				sb_printf(&rs->buf, "<nextKey>%010llu</nextKey>",
						  (unsigned long long) rs->cursor);
			sb_puts(&rs->buf, "</respOrgCheck>\n");
			rs->stage = 3;
			break;
		default:
			break;
	}
}

static ssize_t
rck_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	RckStream  *rs = cls;
	size_t		n;

	(void) pos;
	while (rs->off >= rs->buf.len)
	{
		if (rs->stage == 3)
			return MHD_CONTENT_READER_END_OF_STREAM;
		pthread_mutex_lock(&sim_lock);
		rck_fill(rs, RCK_BLOCK);
		pthread_mutex_unlock(&sim_lock);
	}
	n = rs->buf.len - rs->off;
	if (n > max)
		n = max;
	memcpy(buf, rs->buf.data + rs->off, n);
	rs->off += n;
	return (ssize_t) n;
}

static void
rck_stream_free(void *cls)
{
	RckStream  *rs = cls;

	sb_free(&rs->buf);
	free(rs);
}

/* Render a whole RespOrg check page into out; caller holds sim_lock. */
static void
rck_render_all(const ApiResult *res, StrBuf *out)
{
	RckStream	rs;

	memset(&rs, 0, sizeof(rs));
	rs.ro = res->rck_resporg;
	rs.cursor = res->rck_start;
	rs.remaining = res->rck_page_size;
	sb_init(&rs.buf);
	while (rs.stage != 3)
	{
		rck_fill(&rs, SIZE_MAX);
		sb_append(out, rs.buf.data ? rs.buf.data : "", rs.buf.len);
	}
	sb_free(&rs.buf);
}

static enum MHD_Result
queue_rck_stream(struct MHD_Connection *conn, const ApiResult *res)
{
	RckStream  *rs = xcalloc(1, sizeof(RckStream));
	struct MHD_Response *resp;
	enum MHD_Result ret;

	rs->ro = res->rck_resporg;
	rs->cursor = res->rck_start;
	rs->remaining = res->rck_page_size;
	sb_init(&rs->buf);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, RCK_BLOCK,
											 rck_stream_read, rs, rck_stream_free);
	if (resp == NULL)
	{
		rck_stream_free(rs);
		return MHD_NO;
	}
	add_common_headers(resp, NULL, 0);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Make libmicrohttpd's close of this connection send an RST. */
static void
arm_reset(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct linger lg = {1, 0};

	if (ci && setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0)
		sim_log("cannot set SO_LINGER for a reset: %s", strerror(errno));
}

static int
connection_fd(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

	return ci ? ci->connect_fd : -1;
}

/* ---------------------------------------------------------------------
 * Routing
 * ---------------------------------------------------------------------
 */
enum RouteId
{
	R_SESSION_OPEN,
	R_SESSION_CLOSE,
	R_QUERY_ONE,
	R_QUERY_MANY,
	R_SEARCH,
	R_RESERVE,
	R_SRCHRES,
	R_UPDATE,
	R_RES_LIMITS,
	R_RCK,
	R_DISCONNECT,
	R_REC_QUERY,
	R_REC_RETRIEVE,
	R_TPL_RETRIEVE,
	R_REC_COPY,
	R_REC_CREATE,
	R_REC_UPDATE,
	R_SYS_REQ
};

typedef struct Route
{
	const char *path;			/* exact path, or a prefix ending in '/' */
	const char *method;
	int			id;
} Route;

static const Route routes[] = {
	{"/sec/session/open", "POST", R_SESSION_OPEN},
	{"/sec/session/close", "PUT", R_SESSION_CLOSE},
	{"/num/tfn/query/tfn/", "GET", R_QUERY_ONE},
	{"/num/tfn/query", "PUT", R_QUERY_MANY},
	{"/num/tfn/search", "PUT", R_SEARCH},
	{"/num/tfn/reserve", "POST", R_RESERVE},
	{"/num/tfn/srchres", "POST", R_SRCHRES},
	{"/num/tfn/update", "PUT", R_UPDATE},
	{"/num/res/limits", "GET", R_RES_LIMITS},
	{"/num/rck/", "GET", R_RCK},
	{"/cus/rec/disconnect", "POST", R_DISCONNECT},
	{"/cus/rec/query/", "GET", R_REC_QUERY},
	{"/cus/rec/tfnum/", "GET", R_REC_RETRIEVE},
	{"/cus/tpl/tmplName/", "GET", R_TPL_RETRIEVE},
	{"/cus/rec/copy", "POST", R_REC_COPY},
	{"/cus/rec", "POST", R_REC_CREATE},
	{"/cus/rec", "PUT", R_REC_UPDATE},
	{"/sys/req/", "GET", R_SYS_REQ},
};

/*
 * Find the route of path.  Returns it and its tail (the part after a
 * prefix route), or NULL with *wrong_method set when only the method
 * differs.
 */
static const Route *
find_route(const char *path, const char *method, const char **tail,
		   bool *wrong_method)
{
	*wrong_method = false;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
	{
		const Route *r = &routes[i];
		size_t		len = strlen(r->path);
		bool		match;

		if (r->path[len - 1] == '/')
			match = strncmp(path, r->path, len) == 0 && path[len] != '\0' &&
				strchr(path + len, '/') == NULL;
		else
			match = strcmp(path, r->path) == 0;
		if (!match)
			continue;
		if (strcmp(method, r->method) != 0)
		{
			*wrong_method = true;
			continue;
		}
		*tail = path + len;
		return r;
	}
	return NULL;
}

const char *
api_arg(ApiRequest *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

void
sb_err(StrBuf *sb, const char *code, const char *msg, const char *level)
{
	sb_puts(sb, "<err>");
	sb_elem(sb, "errCode", code);
	sb_elem(sb, "errMsg", msg);
	sb_elem(sb, "errLvl", level);
	sb_puts(sb, "</err>");
}

/* Replace the result with an errorResponse carrying one ERROR. */
void
api_error(ApiResult *res, int http, const char *code, const char *msg)
{
	res->status = http;
	sb_reset(&res->body);
	sb_puts(&res->body, "<errorResponse><errList>");
	sb_err(&res->body, code, msg, "ERROR");
	sb_puts(&res->body, "</errList></errorResponse>");
}

/* HTTP status of a business-rule error code of a single-object call. */
int
api_error_http_status(const char *code)
{
	if (strcmp(code, "099027") == 0 || strcmp(code, "099044") == 0 ||
		strcmp(code, "099043") == 0 || strcmp(code, "099012") == 0)
		return 400;
	if (strcmp(code, "099038") == 0)
		return 403;
	if (strcmp(code, "505001") == 0 || strcmp(code, "506001") == 0)
		return 404;
	return 409;
}

/* GET /sys/req/{reqId} */
static void
api_sys_req(ApiRequest *req, ApiResult *res, const char *tail)
{
	uint64_t	id = 0;
	bool		ready = false;
	int			status;

	if (tail[0] == 'R' && strlen(tail) == 11 && strspn(tail + 1, "0123456789") == 10)
		id = strtoull(tail + 1, NULL, 10);
	status = pending_lookup(id, req->resporg, &res->body, monotonic_ms(), &ready);
	if (status == 0)
	{
		api_error(res, 404, "099060", "unknown or expired request id");
		return;
	}
	if (!ready)
	{
		res->status = 202;
		sb_printf(&res->body, "<pendingResponse><reqId>%s</reqId>"
				  "<statusMsg>IN PROGRESS</statusMsg></pendingResponse>", tail);
		return;
	}
	res->status = status;
}

/*
 * Authenticate and run one API request.  Caller holds sim_lock.  Sets
 * *pendable when the request may get a 202 response, and *route_name for
 * the statistics.
 */

/*
 * The RespOrg a request acts for: the user's own, or the one named in the
 * ROID header, which must be the user's own or in its updList (the registry
 * uses the same header).  Returns false with res filled when it is not.
 */
static bool
select_acting_resporg(struct MHD_Connection *conn, Session *s, ApiRequest *req,
					  ApiResult *res)
{
	const char *roid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "ROID");
	int			ro;

	if (roid == NULL || roid[0] == '\0')
		return true;

	ro = resporg_find(roid);
	if (ro == 0)
	{
		api_error(res, 400, "802115", "unknown RespOrg in the ROID header");
		return false;
	}
	if (ro != s->resporg && !s->upd[ro])
	{
		api_error(res, 403, "099038", "the user may not act for the RespOrg in the ROID header");
		return false;
	}
	req->resporg = ro;
	return true;
}

static void
run_request(struct MHD_Connection *conn, ReqCtx *ctx, const char *method,
			const char *path, ApiResult *res, char *ro_id, bool *pendable,
			const char **route_name)
{
	ApiRequest	req;
	const Route *route;
	const char *tail = "";
	bool		wrong_method;
	Session    *s;

	*pendable = false;
	*route_name = "other";
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.body = ctx->body.data;
	req.body_len = ctx->body.len;
	req.conn = conn;
	req.now = sim_now();
	store_sweep_if_due(req.now);

	route = find_route(path, method, &tail, &wrong_method);
	if (route == NULL)
	{
		if (wrong_method)
			api_error(res, 405, "099043", "method not allowed for this resource");
		else
			api_error(res, 404, "099043", "unknown resource");
		return;
	}
	*route_name = route->path;
	if (ctx->too_large)
	{
		api_error(res, 400, "099070", "request document larger than 1 MiB");
		return;
	}

	if (route->id == R_SESSION_OPEN)
	{
		api_session_open(&req, res);
		if (req.resporg)
			strcpy(ro_id, resporgs[req.resporg].id);
		return;
	}

	s = session_authenticate(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
														 MHD_HTTP_HEADER_AUTHORIZATION),
							 res);
	if (s == NULL)
		return;
	req.session = s;
	req.resporg = s->resporg;
	req.upd = s->upd;
	if (!select_acting_resporg(conn, s, &req, res))
		return;
	strcpy(ro_id, resporgs[req.resporg].id);
	if (!rate_limit_check(req.resporg, res))
		return;

	*pendable = route->id != R_SESSION_CLOSE && route->id != R_SYS_REQ;
	switch (route->id)
	{
		case R_SESSION_CLOSE:
			api_session_close(&req, res);
			break;
		case R_QUERY_ONE:
			api_query_one(&req, res, tail);
			break;
		case R_QUERY_MANY:
			api_query_many(&req, res);
			break;
		case R_SEARCH:
			api_search(&req, res);
			break;
		case R_RESERVE:
			api_reserve(&req, res);
			break;
		case R_SRCHRES:
			api_srchres(&req, res);
			break;
		case R_UPDATE:
			api_update(&req, res);
			break;
		case R_RES_LIMITS:
			api_res_limits(&req, res);
			break;
		case R_RCK:
			api_rck(&req, res, tail);
			break;
		case R_DISCONNECT:
			api_disconnect(&req, res);
			break;
		case R_REC_QUERY:
			api_rec_query(&req, res, tail);
			break;
		case R_REC_RETRIEVE:
			api_rec_retrieve(&req, res, tail);
			break;
		case R_TPL_RETRIEVE:
			api_tpl_retrieve(&req, res, tail);
			break;
		case R_REC_COPY:
			api_rec_copy(&req, res);
			break;
		case R_REC_CREATE:
			api_rec_write(&req, res, true);
			break;
		case R_REC_UPDATE:
			api_rec_write(&req, res, false);
			break;
		case R_SYS_REQ:
			api_sys_req(&req, res, tail);
			break;
	}
}

static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
			const char *value)
{
	StrBuf	   *sb = cls;

	(void) kind;
	sb_puts(sb, sb->len && strchr(sb->data, '?') ? "&" : "?");
	sb_puts(sb, key);
	if (value)
	{
		sb_puts(sb, "=");
		sb_puts(sb, value);
	}
	return MHD_YES;
}

static void
log_request(const char *method, ReqCtx *ctx, int status, const char *ro_id)
{
	reqlog_add(method, ctx->path_query, status, ro_id,
			   ctx->body.data, ctx->body.len);
}

/* Page number of a RespOrg check request within its run (1 = no startKey). */
static int
rck_page_number(struct MHD_Connection *conn, const char *path)
{
	int			ro;
	bool		has_start;

	if (strncmp(path, "/num/rck/", 9) != 0)
		return 0;
	ro = resporg_find(path + 9);
	if (ro == 0)
		return 0;
	has_start = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "startKey") != NULL;
	resporgs[ro].rck_page = has_start ? resporgs[ro].rck_page + 1 : 1;
	return (int) resporgs[ro].rck_page;
}

/* Carry out an API request whose body is complete, faults included. */
static enum MHD_Result
process_api(struct MHD_Connection *conn, ReqCtx *ctx, const char *method,
			const char *path)
{
	const Fault *f = ctx->has_fault ? &ctx->fault : NULL;
	int			kind = f ? f->kind : -1;
	ApiResult	res;
	char		ro_id[6] = "";
	bool		pendable = false;
	const char *route_name = "other";
	const char *ctype = NULL;
	enum MHD_Result ret;

	memset(&res, 0, sizeof(res));
	sb_init(&res.body);

	if (kind == FK_STALL)
	{
		int			fd = connection_fd(conn);

		if (fd < 0 || atomic_load(&stopping))
		{
			log_request(method, ctx, 0, "");
			return MHD_NO;
		}
		ctx->state = REQ_STALLED;
		MHD_suspend_connection(conn);
		waiter_add(conn, 0, fd);
		return MHD_YES;
	}
	if (kind == FK_RESET_BEFORE)
	{
		log_request(method, ctx, 0, "");
		arm_reset(conn);
		return MHD_NO;
	}

	pthread_mutex_lock(&sim_lock);
	if (kind == FK_STATUS)
		api_error(&res, f->status, "099999", "registry fault injected; the operation did not happen");
	else if (kind == FK_THROTTLE)
	{
		api_error(&res, 429, "900800", "request rate exceeded; retry after the time in Retry-After");
		res.retry_after = f->retry_after;
	}
	else if (kind == FK_EXPIRE_SESSION)
	{
		ApiResult	probe;
		Session    *s;

		memset(&probe, 0, sizeof(probe));
		s = session_authenticate(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
															 MHD_HTTP_HEADER_AUTHORIZATION),
								 &probe);
		if (s)
		{
			strcpy(ro_id, resporgs[s->resporg].id);
			session_invalidate(s);
		}
		sb_free(&probe.body);
		api_error(&res, 401, "900903", "access token expired; open a new session");
	}
	else
	{
		if (kind == FK_SECOND_SESSION)
			session_force_conflict = true;
		run_request(conn, ctx, method, path, &res, ro_id, &pendable, &route_name);
	}

	if (pendable && (kind == FK_PENDING || pending_roll()))
	{
		int			ms = kind == FK_PENDING && f->ms > 0 ? f->ms : sim_config.pending_ms;
		uint64_t	id;

		if (res.rck_resporg)
		{
			rck_render_all(&res, &res.body);
			res.rck_resporg = 0;
		}
		id = pending_store(resporg_find(ro_id), res.status, &res.body,
						   monotonic_ms() + ms);
		sb_reset(&res.body);
		res.status = 202;
		sb_printf(&res.body, "<pendingResponse><reqId>R%010llu</reqId>"
				  "<statusMsg>IN PROGRESS</statusMsg></pendingResponse>",
				  (unsigned long long) id);
	}
	if (res.rck_resporg && (kind == FK_RESET_AFTER || fault_is_body_kind(kind)))
	{
		rck_render_all(&res, &res.body);
		res.rck_resporg = 0;
	}
	pthread_mutex_unlock(&sim_lock);

	reqlog_count_path(route_name);
	if (kind == FK_RESET_AFTER)
	{
		log_request(method, ctx, 0, ro_id);
		sb_free(&res.body);
		arm_reset(conn);
		return MHD_NO;
	}

	log_request(method, ctx, res.status, ro_id);
	if (res.rck_resporg)
		return queue_rck_stream(conn, &res);
	if (kind == FK_TRUNCATE || kind == FK_CUT_CHUNKED || kind == FK_DRIP)
		return queue_faulty_stream(conn, res.status, &res.body, f, res.retry_after);
	if (kind >= 0 && fault_is_body_kind(kind))
		fault_corrupt_body(f, &res.body, &ctype);
	ret = queue_buffer(conn, res.status, &res.body, ctype, res.retry_after);
	return ret;
}

/*
 * libmicrohttpd access handler of the API daemons.  The first call sets up
 * the request, upload calls collect the body, and the final call picks the
 * fault, waits out any latency (suspended), and carries the request out.
 */
static enum MHD_Result
api_handler(void *cls, struct MHD_Connection *conn, const char *url,
			const char *method, const char *version, const char *upload_data,
			size_t *upload_size, void **con_cls)
{
	ReqCtx	   *ctx = *con_cls;
	const char *path;

	(void) cls;
	(void) version;
	if (ctx == NULL)
	{
		ctx = xcalloc(1, sizeof(ReqCtx));
		sb_init(&ctx->body);
		*con_cls = ctx;
		return MHD_YES;
	}
	if (*upload_size > 0)
	{
		if (ctx->body.len + *upload_size > MAX_REQUEST_BODY)
			ctx->too_large = true;
		else
			sb_append(&ctx->body, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}

	path = strncmp(url, API_PREFIX "/", strlen(API_PREFIX) + 1) == 0 ?
		url + strlen(API_PREFIX) : url;

	switch (ctx->state)
	{
		case REQ_STALLED:
			/* resumed: the client closed the connection, or shutdown */
			log_request(method, ctx, 0, "");
			return MHD_NO;

		case REQ_NEW:
			{
				StrBuf		pq;
				int			delay;

				sb_init(&pq);
				sb_puts(&pq, path);
				MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &pq);
				ctx->path_query = pq.data;

				pthread_mutex_lock(&sim_lock);
				ctx->has_fault = fault_match(path, method, rck_page_number(conn, path),
											 strcmp(path, "/sec/session/open") == 0,
											 &ctx->fault);
				delay = sim_config.latency_ms;
				if (ctx->has_fault && ctx->fault.kind == FK_LATENCY)
					delay += ctx->fault.ms + (int) fault_jitter(ctx->fault.jitter);
				pthread_mutex_unlock(&sim_lock);

				if (delay > 0 && !atomic_load(&stopping))
				{
					ctx->state = REQ_DELAYED;
					MHD_suspend_connection(conn);
					waiter_add(conn, monotonic_ms() + delay, -1);
					return MHD_YES;
				}
				return process_api(conn, ctx, method, path);
			}

		case REQ_DELAYED:
		default:
			return process_api(conn, ctx, method, path);
	}
}

static void
request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
				  enum MHD_RequestTerminationCode toe)
{
	ReqCtx	   *ctx = *con_cls;

	(void) cls;
	(void) conn;
	(void) toe;
	if (ctx == NULL)
		return;
	sb_free(&ctx->body);
	free(ctx->path_query);
	free(ctx);
	*con_cls = NULL;
}

static void
connection_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
				  enum MHD_ConnectionNotificationCode toe)
{
	(void) cls;
	(void) conn;
	(void) socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
	{
		atomic_fetch_add(&open_connections, 1);
		atomic_fetch_add(&connections_total, 1);
	}
	else
		atomic_fetch_sub(&open_connections, 1);
}

/* ---------------------------------------------------------------------
 * Admin daemon
 * ---------------------------------------------------------------------
 */
static enum MHD_Result
admin_handler(void *cls, struct MHD_Connection *conn, const char *url,
			  const char *method, const char *version, const char *upload_data,
			  size_t *upload_size, void **con_cls)
{
	ReqCtx	   *ctx = *con_cls;
	StrBuf		out;
	int			status = 200;
	const char *ctype = "text/plain; charset=utf-8";

	(void) cls;
	(void) version;
	if (ctx == NULL)
	{
		ctx = xcalloc(1, sizeof(ReqCtx));
		sb_init(&ctx->body);
		*con_cls = ctx;
		return MHD_YES;
	}
	if (*upload_size > 0)
	{
		if (ctx->body.len + *upload_size <= MAX_REQUEST_BODY)
			sb_append(&ctx->body, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	sb_init(&out);
	admin_handle(conn, method, url, ctx->body.data, ctx->body.len, &status, &out, &ctype);
	return queue_buffer(conn, status, &out, ctype, 0);
}

static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char		line[512];
	size_t		len;

	(void) cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	len = strlen(line);
	while (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	sim_log("libmicrohttpd: %s", line);
}

static char *
read_file(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	StrBuf		sb;
	char		buf[4096];
	size_t		n;

	if (f == NULL)
		return NULL;
	sb_init(&sb);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_append(&sb, buf, n);
	fclose(f);
	if (sb.data == NULL)
		sb_puts(&sb, "");
	return sb.data;
}

static struct MHD_Daemon *
start_api_daemon(int port, bool tls)
{
	struct sockaddr_in sa;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
		MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO | MHD_USE_ERROR_LOG;
	struct MHD_Daemon *d;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t) port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	if (tls)
		d = MHD_start_daemon(flags | MHD_USE_TLS, (uint16_t) port, NULL, NULL,
							 api_handler, NULL,
							 MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
							 MHD_OPTION_SOCK_ADDR, &sa,
							 MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) sim_config.threads,
							 MHD_OPTION_NOTIFY_COMPLETED, request_completed, NULL,
							 MHD_OPTION_NOTIFY_CONNECTION, connection_notify, NULL,
							 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 600,
							 MHD_OPTION_HTTPS_MEM_KEY, tls_key_pem,
							 MHD_OPTION_HTTPS_MEM_CERT, tls_cert_pem,
							 MHD_OPTION_END);
	else
		d = MHD_start_daemon(flags, (uint16_t) port, NULL, NULL,
							 api_handler, NULL,
							 MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
							 MHD_OPTION_SOCK_ADDR, &sa,
							 MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) sim_config.threads,
							 MHD_OPTION_NOTIFY_COMPLETED, request_completed, NULL,
							 MHD_OPTION_NOTIFY_CONNECTION, connection_notify, NULL,
							 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 600,
							 MHD_OPTION_END);
	if (d == NULL)
		sim_log("cannot listen on 127.0.0.1:%d (%s)", port, tls ? "HTTPS" : "HTTP");
	return d;
}

/* Start every daemon and the waiter thread; false when one failed. */
bool
http_start(void)
{
	struct sockaddr_in sa;

	if (pipe(wake_pipe) != 0)
	{
		sim_log("cannot create a pipe: %s", strerror(errno));
		return false;
	}
	fcntl(wake_pipe[0], F_SETFL, O_NONBLOCK);
	fcntl(wake_pipe[1], F_SETFL, O_NONBLOCK);
	if (pthread_create(&waiter_thread, NULL, waiter_main, NULL) != 0)
	{
		sim_log("cannot start the waiter thread");
		return false;
	}

	tls_key_pem = read_file(sim_config.tls_key);
	tls_cert_pem = read_file(sim_config.tls_cert);
	if (tls_key_pem == NULL || tls_cert_pem == NULL)
	{
		sim_log("cannot read TLS key \"%s\" or certificate \"%s\"",
				sim_config.tls_key, sim_config.tls_cert);
		return false;
	}
	https_daemon = start_api_daemon(sim_config.port, true);
	if (https_daemon == NULL)
		return false;
	if (sim_config.plain_port)
	{
		plain_daemon = start_api_daemon(sim_config.plain_port, false);
		if (plain_daemon == NULL)
			return false;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t) sim_config.admin_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	admin_daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
									MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
									(uint16_t) sim_config.admin_port, NULL, NULL,
									admin_handler, NULL,
									MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
									MHD_OPTION_SOCK_ADDR, &sa,
									MHD_OPTION_NOTIFY_COMPLETED, request_completed, NULL,
									MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 600,
									MHD_OPTION_END);
	if (admin_daemon == NULL)
	{
		sim_log("cannot listen on 127.0.0.1:%d (admin)", sim_config.admin_port);
		return false;
	}
	return true;
}

/* Resume every suspended connection, then stop the daemons. */
void
http_stop(void)
{
	char		b = 1;

	atomic_store(&stopping, true);
	if (wake_pipe[1] >= 0)
	{
		if (write(wake_pipe[1], &b, 1) < 0)
			sim_log("cannot wake the waiter thread: %s", strerror(errno));
		pthread_join(waiter_thread, NULL);
	}
	if (admin_daemon)
		MHD_stop_daemon(admin_daemon);
	if (plain_daemon)
		MHD_stop_daemon(plain_daemon);
	if (https_daemon)
		MHD_stop_daemon(https_daemon);
	admin_daemon = plain_daemon = https_daemon = NULL;
	free(tls_key_pem);
	free(tls_cert_pem);
}
