/*-------------------------------------------------------------------------
 *
 * faults.c
 *	  Fault injection: the table of faults set through the admin API, how a
 *	  request picks its fault, and the damaged response bodies.
 *
 * A fault matches a request when the request's path (after /v3/ip) starts
 * with the fault's path prefix, the method matches (if given), the RespOrg
 * check page matches (if given) and a draw from a seeded generator falls
 * under its probability.  The first matching fault in the order they were
 * added applies; each hit uses up one of its count.  Faults are cleared by
 * DELETE /_admin/faults and by reset.
 *
 *-------------------------------------------------------------------------
 */
#include "tfsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FAULTS 256

const char *const fault_kind_names[FK_COUNT] = {
	"latency", "stall", "reset_before", "reset_after", "truncate",
	"cut_chunked", "malformed", "dtd", "xxe_file", "xxe_http",
	"entity_bomb", "deep_nesting", "invalid_utf8", "status", "throttle",
	"pending", "drip", "wrong_content_type", "oversized", "expire_session",
	"second_session"
};

static Fault fault_table[MAX_FAULTS];
static int	nfaults;
static int	fault_next_id = 1;
static Rng	fault_rng = {0xfa017};

static bool
parse_long_arg(const char *text, long min, long max, long *out)
{
	char	   *end;
	long		v;

	if (text == NULL)
		return true;
	v = strtol(text, &end, 10);
	if (*text == '\0' || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/*
 * Add a fault from the admin API's query arguments.  Returns its id, or 0
 * with a message in errbuf.  Caller holds sim_lock.
 */
int
fault_add(const char *path, const char *kind, const char *count,
		  const char *ms, const char *status, const char *bytes,
		  const char *page, const char *probability,
		  const char *retry_after, const char *method,
		  const char *jitter, char *errbuf, size_t errlen)
{
	Fault		f;
	long		v;

	memset(&f, 0, sizeof(f));
	f.kind = -1;
	for (int i = 0; i < FK_COUNT; i++)
		if (kind && strcmp(kind, fault_kind_names[i]) == 0)
			f.kind = i;
	if (f.kind < 0)
	{
		snprintf(errbuf, errlen, "invalid kind \"%s\"", kind ? kind : "");
		return 0;
	}
	if (path == NULL || path[0] != '/' || strlen(path) >= sizeof(f.path))
	{
		snprintf(errbuf, errlen, "path must be a prefix starting with / such as /num/tfn/reserve");
		return 0;
	}
	strcpy(f.path, path);
	if (method)
	{
		if (strlen(method) >= sizeof(f.method))
		{
			snprintf(errbuf, errlen, "invalid method \"%s\"", method);
			return 0;
		}
		strcpy(f.method, method);
	}

	f.count = -1;
	f.ms = 0;
	f.status = 500;
	f.retry_after = 1;
	f.probability = 1.0;
	f.bytes = -1;

	v = -1;
	if (!parse_long_arg(count, 1, 1000000000L, &v))
		goto bad;
	f.count = (int) v;
	v = 0;
	if (!parse_long_arg(ms, 0, 3600000L, &v))
		goto bad;
	f.ms = (int) v;
	v = 500;
	if (!parse_long_arg(status, 100, 599, &v))
		goto bad;
	f.status = (int) v;
	v = -1;
	if (!parse_long_arg(bytes, 0, 1L << 30, &v))
		goto bad;
	f.bytes = v;
	v = 0;
	if (!parse_long_arg(page, 1, 1000000L, &v))
		goto bad;
	f.page = (int) v;
	v = 1;
	if (!parse_long_arg(retry_after, 0, 86400, &v))
		goto bad;
	f.retry_after = (int) v;
	v = 0;
	if (!parse_long_arg(jitter, 0, 3600000L, &v))
		goto bad;
	f.jitter = (int) v;
	if (probability)
	{
		char	   *end;

		f.probability = strtod(probability, &end);
		if (*probability == '\0' || *end != '\0' || f.probability < 0 || f.probability > 1)
			goto bad;
	}
	if (nfaults >= MAX_FAULTS)
	{
		snprintf(errbuf, errlen, "too many faults: at most %d; clear them first", MAX_FAULTS);
		return 0;
	}

	f.id = fault_next_id++;
	fault_table[nfaults++] = f;
	return f.id;

bad:
	snprintf(errbuf, errlen,
			 "invalid argument: count and page >= 1, ms 0..3600000, status 100..599, "
			 "bytes >= 0, probability 0..1, retry_after 0..86400, jitter 0..3600000");
	return 0;
}

/*
 * Pick the fault for a request and use up one of its count.  rck_page is the
 * page number of a RespOrg check request, 0 for other requests.  Caller
 * holds sim_lock.
 */
bool
fault_match(const char *path, const char *method, int rck_page,
			bool session_open, Fault *out)
{
	for (int i = 0; i < nfaults; i++)
	{
		Fault	   *f = &fault_table[i];

		if (f->count == 0)
			continue;
		if (strncmp(path, f->path, strlen(f->path)) != 0)
			continue;
		if (f->method[0] && strcmp(f->method, method) != 0)
			continue;
		if (f->page && f->page != rck_page)
			continue;
		if (f->kind == FK_SECOND_SESSION && !session_open)
			continue;
		if (f->probability < 1.0 && rng_double(&fault_rng) >= f->probability)
			continue;
		if (f->count > 0)
			f->count--;
		f->hits++;
		*out = *f;
		return true;
	}
	return false;
}

/* A uniform draw in 0..max_ms for latency jitter; caller holds sim_lock. */
uint32_t
fault_jitter(int max_ms)
{
	return max_ms > 0 ? (uint32_t) rng_below(&fault_rng, (uint64_t) max_ms + 1) : 0;
}

void
faults_clear(void)
{
	nfaults = 0;
	rng_seed(&fault_rng, 0xfa017);
}

/* One line per fault: id kind path count hits and the set parameters. */
void
faults_list(StrBuf *sb)
{
	for (int i = 0; i < nfaults; i++)
	{
		Fault	   *f = &fault_table[i];

		sb_printf(sb, "%d\t%s\t%s\tcount=%d\thits=%d\tms=%d\tjitter=%d\tstatus=%d\t"
				  "bytes=%ld\tpage=%d\tprobability=%g\tretry_after=%d\tmethod=%s\n",
				  f->id, fault_kind_names[f->kind], f->path, f->count, f->hits,
				  f->ms, f->jitter, f->status, f->bytes, f->page, f->probability,
				  f->retry_after, f->method[0] ? f->method : "*");
	}
}

/* Kinds that carry out the operation and then damage or slow the response. */
bool
fault_is_body_kind(int kind)
{
	switch (kind)
	{
		case FK_TRUNCATE:
		case FK_CUT_CHUNKED:
		case FK_MALFORMED:
		case FK_DTD:
		case FK_XXE_FILE:
		case FK_XXE_HTTP:
		case FK_ENTITY_BOMB:
		case FK_DEEP_NESTING:
		case FK_INVALID_UTF8:
		case FK_DRIP:
		case FK_WRONG_CONTENT_TYPE:
		case FK_OVERSIZED:
			return true;
		default:
			return false;
	}
}

/* Name of the body's root element, e.g. queryResponse. */
static void
root_name(const StrBuf *body, char *out, size_t outlen)
{
	const char *p = body->data ? body->data : "";

	while ((p = strchr(p, '<')) != NULL && (p[1] == '?' || p[1] == '!'))
		p++;
	snprintf(out, outlen, "response");
	if (p)
	{
		size_t		n = strcspn(p + 1, " />");

		if (n > 0 && n < outlen)
		{
			memcpy(out, p + 1, n);
			out[n] = '\0';
		}
	}
}

/*
 * Rebuild body as prolog + its first text node replaced by replacement (or
 * inserted after the root start tag when it has no text).
 */
static void
replace_first_text(StrBuf *body, const char *prolog, const char *replacement,
				   size_t replen)
{
	StrBuf		out;
	const char *data = body->data ? body->data : "";
	const char *p = data;
	const char *text = NULL,
			   *text_end = NULL;

	while ((p = strchr(p, '>')) != NULL)
	{
		p++;
		if (*p && *p != '<')
		{
			text = p;
			text_end = strchr(p, '<');
			break;
		}
	}
	sb_init(&out);
	sb_puts(&out, prolog);
	if (text && text_end)
	{
		sb_append(&out, data, (size_t) (text - data));
		sb_append(&out, replacement, replen);
		sb_puts(&out, text_end);
	}
	else
	{
		const char *first = strchr(data, '>');

		if (first)
		{
			sb_append(&out, data, (size_t) (first - data + 1));
			sb_puts(&out, "<num>");
			sb_append(&out, replacement, replen);
			sb_puts(&out, "</num>");
			sb_puts(&out, first + 1);
		}
	}
	sb_free(body);
	*body = out;
}

/*
 * Replace or change a response body for the body-damaging kinds that need
 * no transport tricks.  truncate, cut_chunked and drip are applied while
 * sending, in http.c.
 */
void
fault_corrupt_body(const Fault *f, StrBuf *body, const char **content_type)
{
	char		root[64];
	char		prolog[1024];

	root_name(body, root, sizeof(root));
	switch (f->kind)
	{
		case FK_MALFORMED:
			{
				size_t		keep = body->len / 2;

				body->len = keep;
				sb_puts(body, "<broken attr=></mismatch>");
				break;
			}
		case FK_DTD:
			snprintf(prolog, sizeof(prolog),
					 "<?xml version=\"1.0\"?>\n<!DOCTYPE %s [\n  <!ENTITY tfx \"8005550199\">\n]>\n",
					 root);
			replace_first_text(body, prolog, "&tfx;", 5);
			break;
		case FK_XXE_FILE:
			snprintf(prolog, sizeof(prolog),
					 "<?xml version=\"1.0\"?>\n<!DOCTYPE %s [\n  <!ENTITY tfx SYSTEM \"file:///etc/passwd\">\n]>\n",
					 root);
			replace_first_text(body, prolog, "&tfx;", 5);
			break;
		case FK_XXE_HTTP:
			snprintf(prolog, sizeof(prolog),
					 "<?xml version=\"1.0\"?>\n<!DOCTYPE %s [\n  <!ENTITY tfx SYSTEM \"http://127.0.0.1:%d/probe\">\n]>\n",
					 root, f->ms);
			replace_first_text(body, prolog, "&tfx;", 5);
			break;
		case FK_ENTITY_BOMB:
			{
				StrBuf		p;

				sb_init(&p);
				sb_printf(&p, "<?xml version=\"1.0\"?>\n<!DOCTYPE %s [\n  <!ENTITY lol0 \"lol\">\n", root);
				for (int i = 1; i <= 9; i++)
				{
					sb_printf(&p, "  <!ENTITY lol%d \"", i);
					for (int j = 0; j < 10; j++)
						sb_printf(&p, "&lol%d;", i - 1);
					sb_puts(&p, "\">\n");
				}
				sb_puts(&p, "]>\n");
				replace_first_text(body, p.data, "&lol9;", 6);
				sb_free(&p);
				break;
			}
		case FK_DEEP_NESTING:
			sb_reset(body);
			sb_printf(body, "<%s>", root);
			for (int i = 0; i < 10000; i++)
				sb_puts(body, "<d>");
			sb_puts(body, "x");
			for (int i = 0; i < 10000; i++)
				sb_puts(body, "</d>");
			sb_printf(body, "</%s>", root);
			break;
		case FK_INVALID_UTF8:
			replace_first_text(body, "", "\xff", 1);
			break;
		case FK_WRONG_CONTENT_TYPE:
			sb_reset(body);
			sb_puts(body, "<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>"
					"<body><h1>Service Unavailable</h1><p>The gateway is being maintained.</p></body></html>\n");
			*content_type = "text/html; charset=utf-8";
			break;
		case FK_OVERSIZED:
			{
				long		target = f->bytes >= 0 ? f->bytes : 8L << 20;
				const char *close = strrchr(body->data ? body->data : "", '<');

				if (close && (long) body->len < target)
				{
					size_t		tail_off = (size_t) (close - body->data);
					size_t		tail_len = body->len - tail_off;
					char	   *tail = xmalloc(tail_len + 1);
					size_t		pad = (size_t) target - body->len;

					memcpy(tail, close, tail_len + 1);
					body->len = tail_off;
					sb_reserve(body, pad + tail_len);
					for (size_t i = 0; i < pad; i++)
						body->data[body->len++] = (i % 100 == 99) ? '\n' : ' ';
					sb_append(body, tail, tail_len);
					free(tail);
				}
				break;
			}
		default:
			break;
	}
}
