/*-------------------------------------------------------------------------
 *
 * http.c
 *		One HTTP transfer to the registry: options, callbacks, cleanup and
 *		the mapping of libcurl failures to SQLSTATEs.
 *
 * Every transfer gets a fresh easy handle whose options are all set from
 * the current settings, so a SET of a timeout applies from the very next
 * call.  The policy is fixed.  TLS always verifies the peer and the host
 * name, redirects are not followed, and compressed bodies are not asked
 * for.  Only https is used, or plain http to a loopback address when
 * toll_free.allow_plain_http is on.  libcurl and the write callback both
 * enforce the size cap.
 *
 * libcurl calls our write and header callbacks from inside its own code,
 * where a longjmp (ereport) would leave it in an undefined state.  So the
 * callbacks only copy bytes into a buffer, and tf_http_pump hands that
 * buffer to the caller's body callback outside libcurl.
 *
 * The transfer struct lives in the caller's memory context, with a reset
 * callback that releases the curl objects: an error anywhere, including a
 * cancel while waiting, frees everything when the context goes away.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "http_internal.h"
#include "settings.h"
#include "toll_free.h"

#define TF_USER_AGENT "toll_free/" TOLL_FREE_VERSION

struct TfHttpTransfer
{
	CURL	   *easy;			/* NULL once released */
	struct curl_slist *headers;
	char	   *url;
	char	   *body;			/* our copy of the request body */
	size_t		body_len;
	bool		changes_state;

	MemoryContext mcxt;
	MemoryContextCallback reset_callback;

	TfHttpBodyCallback on_body;
	void	   *arg;

	/* Body bytes received and not yet handed to on_body. */
	char	   *pending;
	size_t		pending_len;
	size_t		pending_size;

	size_t		received;		/* body bytes received in total */
	size_t		max_size;		/* toll_free.max_response_size in bytes */
	bool		too_large;
	bool		out_of_memory;

	int			retry_after;	/* seconds, -1 if none */
	char		content_type[128];

	bool		done;
	CURLcode	result;
	char		errbuf[CURL_ERROR_SIZE];
};

/*
 * release_curl_objects
 *		Free the easy handle, the header list and the body copy.  Idempotent.
 *
 * Removing an unfinished easy handle from the multi handle makes libcurl
 * close its connection, so a cancelled call leaves no socket behind.  The
 * request body may contain the registry password, so it is wiped first.
 */
static void
release_curl_objects(TfHttpTransfer *xfer)
{
	if (xfer->easy != NULL)
	{
		curl_multi_remove_handle(tf_http_multi(), xfer->easy);
		curl_easy_cleanup(xfer->easy);
		xfer->easy = NULL;
	}

	if (xfer->headers != NULL)
	{
		curl_slist_free_all(xfer->headers);
		xfer->headers = NULL;
	}

	if (xfer->body != NULL)
	{
		explicit_bzero(xfer->body, xfer->body_len);
		xfer->body = NULL;
	}
}

static void
transfer_reset_callback(void *arg)
{
	release_curl_objects((TfHttpTransfer *) arg);
}

/*
 * write_callback
 *		CURLOPT_WRITEFUNCTION: append body bytes to the pending buffer.
 *
 * Returning less than the size given makes libcurl fail the transfer with
 * CURLE_WRITE_ERROR; too_large or out_of_memory records the reason.
 */
static size_t
write_callback(char *data, size_t size, size_t nmemb, void *userdata)
{
	TfHttpTransfer *xfer = (TfHttpTransfer *) userdata;
	size_t		len = size * nmemb;

	if (xfer->received + len > xfer->max_size)
	{
		xfer->too_large = true;
		return 0;
	}

	if (xfer->pending_len + len > xfer->pending_size)
	{
		size_t		new_size = Max(xfer->pending_size * 2, xfer->pending_len + len);
		char	   *grown;

		grown = MemoryContextAllocExtended(xfer->mcxt, new_size,
										   MCXT_ALLOC_NO_OOM | MCXT_ALLOC_HUGE);
		if (grown == NULL)
		{
			xfer->out_of_memory = true;
			return 0;
		}
		if (xfer->pending_len > 0)
			memcpy(grown, xfer->pending, xfer->pending_len);
		if (xfer->pending != NULL)
			pfree(xfer->pending);
		xfer->pending = grown;
		xfer->pending_size = new_size;
	}

	memcpy(xfer->pending + xfer->pending_len, data, len);
	xfer->pending_len += len;
	xfer->received += len;
	return len;
}

/*
 * header_value
 *		If the header line starts with the given name and a colon, return its
 *		value with surrounding white space removed (in buf), else NULL.
 */
static const char *
header_value(const char *line, size_t len, const char *name, char *buf, size_t bufsize)
{
	size_t		name_len = strlen(name);
	size_t		start;
	size_t		end;

	if (len <= name_len || pg_strncasecmp(line, name, name_len) != 0 || line[name_len] != ':')
		return NULL;

	start = name_len + 1;
	end = len;
	while (start < end && (line[start] == ' ' || line[start] == '\t'))
		start++;
	while (end > start && (line[end - 1] == '\r' || line[end - 1] == '\n' ||
						   line[end - 1] == ' ' || line[end - 1] == '\t'))
		end--;

	if (end - start >= bufsize)
		end = start + bufsize - 1;
	memcpy(buf, line + start, end - start);
	buf[end - start] = '\0';
	return buf;
}

/*
 * header_callback
 *		CURLOPT_HEADERFUNCTION: keep Retry-After and Content-Type.
 */
static size_t
header_callback(char *line, size_t size, size_t nitems, void *userdata)
{
	TfHttpTransfer *xfer = (TfHttpTransfer *) userdata;
	size_t		len = size * nitems;
	char		value[128];

	/* A new status line (after 100 Continue, say) starts a new header set. */
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0)
	{
		xfer->retry_after = -1;
		xfer->content_type[0] = '\0';
		return len;
	}

	if (header_value(line, len, "Retry-After", value, sizeof(value)) != NULL)
	{
		char	   *end;
		long		seconds = strtol(value, &end, 10);

		/* Only the delay-seconds form; an HTTP date is ignored. */
		if (end != value && *end == '\0' && seconds >= 0 && seconds <= 86400)
			xfer->retry_after = (int) seconds;
	}
	else if (header_value(line, len, "Content-Type", value, sizeof(value)) != NULL)
		strlcpy(xfer->content_type, value, sizeof(xfer->content_type));

	return len;
}

/*
 * is_loopback_host
 *		True for a literal 127.0.0.0/8 or ::1 address (IPv6 in brackets).
 */
static bool
is_loopback_host(const char *host)
{
	struct in_addr addr4;
	struct in6_addr addr6;
	char		buf[64];
	size_t		len = strlen(host);

	if (inet_pton(AF_INET, host, &addr4) == 1)
		return (ntohl(addr4.s_addr) >> 24) == 127;

	if (len > 2 && len < sizeof(buf) && host[0] == '[' && host[len - 1] == ']')
	{
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		host = buf;
	}
	if (inet_pton(AF_INET6, host, &addr6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&addr6);

	return false;
}

/*
 * check_registry_url
 *		Raise an error unless toll_free.url may be contacted; return whether
 *		it is plain http.
 */
static bool
check_registry_url(void)
{
	CURLU	   *url;
	char	   *scheme = NULL;
	char	   *host = NULL;
	bool		plain;
	bool		loopback;

	if (tf_registry_url == NULL || tf_registry_url[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("toll_free.url is not set"),
				 errhint("Set toll_free.url to the registry's base URL in postgresql.conf and reload.")));

	url = curl_url();
	if (url == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));

	if (curl_url_set(url, CURLUPART_URL, tf_registry_url, 0) != CURLUE_OK ||
		curl_url_get(url, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		curl_url_get(url, CURLUPART_HOST, &host, 0) != CURLUE_OK)
	{
		curl_free(scheme);
		curl_free(host);
		curl_url_cleanup(url);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("toll_free.url is not a valid URL"),
				 errhint("Set toll_free.url to an https URL such as https://registry.example/v3/ip.")));
	}

	plain = (strcmp(scheme, "http") == 0);
	loopback = is_loopback_host(host);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(url);

	if (plain && !(tf_allow_plain_http && loopback))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("plain http is not allowed for the registry URL"),
				 errdetail("Plain http is only allowed to a 127.0.0.0/8 or ::1 address, and only when toll_free.allow_plain_http is on."),
				 errhint("Use an https URL.")));

	return plain;
}

/*
 * build_url
 *		toll_free.url without a trailing slash, followed by the path.
 */
static char *
build_url(const char *path)
{
	size_t		base_len = strlen(tf_registry_url);

	while (base_len > 0 && tf_registry_url[base_len - 1] == '/')
		base_len--;

	return psprintf("%.*s%s", (int) base_len, tf_registry_url, path);
}

/*
 * append_header
 *		curl_slist_append, raising on out-of-memory (before the handle runs).
 */
static void
append_header(TfHttpTransfer *xfer, const char *header)
{
	struct curl_slist *list = curl_slist_append(xfer->headers, header);

	if (list == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	xfer->headers = list;
}

/*
 * set_transfer_options
 *		Every option of one transfer, rebuilt from the settings each time.
 */
static void
set_transfer_options(TfHttpTransfer *xfer, const TfHttpRequest *req, bool plain)
{
	CURL	   *easy = xfer->easy;

	curl_easy_setopt(easy, CURLOPT_URL, xfer->url);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *) xfer);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, xfer->errbuf);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, TF_USER_AGENT);
	curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);

	/* Destination policy: one scheme, no redirects, verified TLS. */
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, plain ? "http" : "https");
	curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(easy, CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);
	if (tf_ca_file != NULL && tf_ca_file[0] != '\0')
		curl_easy_setopt(easy, CURLOPT_CAINFO, tf_ca_file);

	/* Limits, from the settings as they are now. */
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long) tf_connect_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long) tf_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, (long) tf_stall_timeout_s);
	curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) xfer->max_size);
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);

	/*
	 * libcurl 7.88 silently repeats a request whose reused connection turns
	 * out to be dead before any response byte arrived, even a POST (seen
	 * against tfsim's reset_before fault).  That is harmless for a query
	 * and wrong for a reserve, which the registry may already have carried
	 * out.  A request that changes state therefore always gets a new
	 * connection, where that retry never happens.
	 */
	if (req->changes_state)
		curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);

	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_callback);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, xfer);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, header_callback);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, xfer);

	if (strcmp(req->method, "GET") == 0)
		curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
	else
	{
		if (strcmp(req->method, "POST") == 0)
			curl_easy_setopt(easy, CURLOPT_POST, 1L);
		else
			curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, xfer->body ? xfer->body : "");
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) xfer->body_len);
	}
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, xfer->headers);
}

/*
 * tf_http_start
 *		Create a transfer and add it to the multi handle; returns at once.
 */
TfHttpTransfer *
tf_http_start(const TfHttpRequest *req, TfHttpBodyCallback on_body, void *arg)
{
	TfHttpTransfer *xfer;
	bool		plain;
	CURLMcode	rc;

	Assert(req->path[0] == '/');
	Assert(strcmp(req->method, "GET") == 0 || strcmp(req->method, "POST") == 0 ||
		   strcmp(req->method, "PUT") == 0);

	plain = check_registry_url();
	tf_http_multi();

	/* The reset callback is in place before any curl object exists. */
	xfer = palloc0(sizeof(TfHttpTransfer));
	xfer->mcxt = CurrentMemoryContext;
	xfer->reset_callback.func = transfer_reset_callback;
	xfer->reset_callback.arg = xfer;
	MemoryContextRegisterResetCallback(xfer->mcxt, &xfer->reset_callback);

	xfer->on_body = on_body;
	xfer->arg = arg;
	xfer->changes_state = req->changes_state;
	xfer->retry_after = -1;
	xfer->max_size = (size_t) tf_max_response_size_kb * 1024;
	xfer->url = build_url(req->path);
	if (req->body != NULL && req->body_len > 0)
	{
		xfer->body = palloc(req->body_len + 1);
		memcpy(xfer->body, req->body, req->body_len);
		xfer->body[req->body_len] = '\0';
		xfer->body_len = req->body_len;
	}

	append_header(xfer, "Content-Type: application/xml; charset=utf-8");
	append_header(xfer, "Accept: application/xml");
	append_header(xfer, "Expect:");
	if (req->bearer_token != NULL)
	{
		char	   *auth = psprintf("Authorization: Bearer %s", req->bearer_token);

		append_header(xfer, auth);
		explicit_bzero(auth, strlen(auth));
		pfree(auth);

		/*
		 * The RespOrg the request acts for, as the registry's ROID header:
		 * toll_free.resporg when set (it must be the user's own RespOrg or
		 * one in its update list), else the user's own.
		 */
		if (tf_default_resporg != NULL && tf_default_resporg[0] != '\0')
			append_header(xfer, psprintf("ROID: %s", tf_default_resporg));
	}

	xfer->easy = curl_easy_init();
	if (xfer->easy == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not create a libcurl handle")));

	set_transfer_options(xfer, req, plain);

	rc = curl_multi_add_handle(tf_http_multi(), xfer->easy);
	if (rc != CURLM_OK)
	{
		curl_easy_cleanup(xfer->easy);
		xfer->easy = NULL;
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not start a registry request"),
				 errdetail("%s", curl_multi_strerror(rc))));
	}

	return xfer;
}

/*
 * tf_http_transfer_done
 *		Record libcurl's final result for a transfer.
 */
void
tf_http_transfer_done(TfHttpTransfer *xfer, CURLcode result)
{
	xfer->done = true;
	xfer->result = result;
}

/*
 * describe_failure
 *		Map a failed transfer to a SQLSTATE, a short message and a detail.
 *
 * Connecting, name resolution and the TLS handshake fail with 08001
 * (nothing reached the registry); anything after that is 08006.  A
 * statement_timeout or cancel never gets here: PostgreSQL raises 57014
 * itself from CHECK_FOR_INTERRUPTS.
 */
static void
describe_failure(TfHttpTransfer *xfer, TfHttpFailure *failure)
{
	long		request_size = 0;
	curl_off_t	connect_time = 0;
	const char *message;
	int			sqlstate;
	const char *curl_text = xfer->errbuf[0] != '\0' ? xfer->errbuf : curl_easy_strerror(xfer->result);

	curl_easy_getinfo(xfer->easy, CURLINFO_REQUEST_SIZE, &request_size);
	curl_easy_getinfo(xfer->easy, CURLINFO_APPCONNECT_TIME_T, &connect_time);
	if (connect_time == 0)
		curl_easy_getinfo(xfer->easy, CURLINFO_CONNECT_TIME_T, &connect_time);

	switch (xfer->result)
	{
		case CURLE_COULDNT_RESOLVE_HOST:
			sqlstate = ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;
			message = "could not resolve the registry host name";
			break;
		case CURLE_COULDNT_CONNECT:
			sqlstate = ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;
			message = "could not connect to the registry";
			break;
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_ISSUER_ERROR:
		case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
			sqlstate = ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;
			message = "registry certificate verification failed";
			break;
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CIPHER:
			sqlstate = ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;
			message = "could not establish a TLS connection to the registry";
			break;
		case CURLE_UNSUPPORTED_PROTOCOL:
			sqlstate = ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;
			message = "registry URL scheme is not allowed";
			break;
		case CURLE_OPERATION_TIMEDOUT:
			if (connect_time == 0 && request_size == 0)
			{
				sqlstate = ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;
				message = "timed out connecting to the registry";
			}
			else
			{
				sqlstate = ERRCODE_CONNECTION_FAILURE;
				message = "registry request timed out";
			}
			break;
		case CURLE_PARTIAL_FILE:
			sqlstate = ERRCODE_CONNECTION_FAILURE;
			message = "incomplete response from the registry";
			break;
		case CURLE_GOT_NOTHING:
			sqlstate = ERRCODE_CONNECTION_FAILURE;
			message = "registry closed the connection without answering";
			break;
		case CURLE_FILESIZE_EXCEEDED:
			sqlstate = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
			message = "registry response exceeds toll_free.max_response_size";
			break;
		case CURLE_OUT_OF_MEMORY:
			sqlstate = ERRCODE_OUT_OF_MEMORY;
			message = "out of memory";
			break;
		case CURLE_WRITE_ERROR:
			if (xfer->too_large)
			{
				sqlstate = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
				message = "registry response exceeds toll_free.max_response_size";
				curl_text = "The response was abandoned at the size limit.";
			}
			else
			{
				sqlstate = ERRCODE_OUT_OF_MEMORY;
				message = "out of memory";
			}
			break;
		case CURLE_RECV_ERROR:
		case CURLE_SEND_ERROR:
		default:
			sqlstate = ERRCODE_CONNECTION_FAILURE;
			message = "connection to the registry was lost";
			break;
	}

	failure->sqlstate = sqlstate;
	strlcpy(failure->message, message, sizeof(failure->message));
	strlcpy(failure->detail, curl_text, sizeof(failure->detail));
	failure->request_sent = (request_size > 0);
	failure->timed_out = (xfer->result == CURLE_OPERATION_TIMEDOUT);
}

/*
 * tf_http_pump_noraise
 *		Deliver buffered body bytes or wait for more; false once finished.
 *
 * On a transport failure *failure is filled in and false is returned; on
 * success failure->sqlstate is 0.  Interrupts raise as usual.
 */
bool
tf_http_pump_noraise(TfHttpTransfer *xfer, TfHttpFailure *failure)
{
	memset(failure, 0, sizeof(TfHttpFailure));

	if (xfer->easy == NULL)
		elog(ERROR, "registry transfer used after release");

	for (;;)
	{
		if (xfer->pending_len > 0)
		{
			size_t		len = xfer->pending_len;

			xfer->pending_len = 0;
			if (xfer->on_body != NULL)
				xfer->on_body(xfer->arg, xfer->pending, len);
			return true;
		}

		if (xfer->done)
		{
			if (xfer->result != CURLE_OK)
				describe_failure(xfer, failure);
			return false;
		}

		tf_http_drive(1000);
	}
}

/*
 * tf_http_pump
 *		As tf_http_pump_noraise, but a transport failure releases the
 *		transfer and raises its error.
 */
bool
tf_http_pump(TfHttpTransfer *xfer)
{
	TfHttpFailure failure;

	if (tf_http_pump_noraise(xfer, &failure))
		return true;

	if (failure.sqlstate != 0)
	{
		tf_http_release(xfer);
		tf_http_raise(&failure);
	}
	return false;
}

/*
 * tf_http_raise
 *		Raise the error a failure describes.
 */
void
tf_http_raise(const TfHttpFailure *failure)
{
	ereport(ERROR,
			(errcode(failure->sqlstate),
			 errmsg("%s", failure->message),
			 failure->detail[0] ? errdetail("libcurl: %s", failure->detail) : 0,
			 failure->sqlstate == ERRCODE_PROGRAM_LIMIT_EXCEEDED ?
			 errhint("Raise toll_free.max_response_size if the registry's answers are legitimately this large.") : 0));
}

long
tf_http_status(TfHttpTransfer *xfer)
{
	long		status = 0;

	if (xfer->easy != NULL)
		curl_easy_getinfo(xfer->easy, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

int
tf_http_retry_after(TfHttpTransfer *xfer)
{
	return xfer->retry_after;
}

const char *
tf_http_content_type(TfHttpTransfer *xfer)
{
	return xfer->content_type;
}

/*
 * tf_http_release
 *		Free the curl objects now; the struct itself goes with its context.
 */
void
tf_http_release(TfHttpTransfer *xfer)
{
	if (xfer == NULL)
		return;
	release_curl_objects(xfer);
}
