/*-------------------------------------------------------------------------
 *
 * util.c
 *	  String buffers, XML escaping, a deterministic random generator,
 *	  allocation wrappers and logging for tfsim.
 *
 *-------------------------------------------------------------------------
 */
#include "tfsim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>

void *
xmalloc(size_t size)
{
	void	   *p = malloc(size ? size : 1);

	if (p == NULL)
	{
		sim_log("out of memory allocating %zu bytes", size);
		abort();
	}
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	   *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
	{
		sim_log("out of memory allocating %zu x %zu bytes", n, size);
		abort();
	}
	return p;
}

void *
xrealloc(void *p, size_t size)
{
	void	   *q = realloc(p, size ? size : 1);

	if (q == NULL)
	{
		sim_log("out of memory reallocating %zu bytes", size);
		abort();
	}
	return q;
}

char *
xstrdup(const char *s)
{
	size_t		len;
	char	   *p;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	p = xmalloc(len + 1);
	memcpy(p, s, len + 1);
	return p;
}

/*
 * Write one line to stderr with a UTC timestamp.  Callers never pass
 * passwords or tokens.
 */
void
sim_log(const char *fmt,...)
{
	char		line[1024];
	char		ts[32];
	time_t		now = time(NULL);
	struct tm	tm;
	va_list		ap;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s tfsim[%d]: %s\n", ts, (int) getpid(), line);
}

/* Fill out with 2 * nbytes hex digits from GnuTLS's random generator. */
void
random_hex(char *out, size_t nbytes)
{
	unsigned char raw[64];
	static const char hex[] = "0123456789abcdef";

	if (nbytes > sizeof(raw))
		nbytes = sizeof(raw);
	if (gnutls_rnd(GNUTLS_RND_KEY, raw, nbytes) != 0)
	{
		sim_log("gnutls_rnd failed");
		abort();
	}
	for (size_t i = 0; i < nbytes; i++)
	{
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * nbytes] = '\0';
}

void
sb_init(StrBuf *sb)
{
	sb->data = NULL;
	sb->len = 0;
	sb->cap = 0;
}

void
sb_free(StrBuf *sb)
{
	free(sb->data);
	sb_init(sb);
}

void
sb_reset(StrBuf *sb)
{
	sb->len = 0;
	if (sb->data)
		sb->data[0] = '\0';
}

void
sb_reserve(StrBuf *sb, size_t extra)
{
	size_t		need = sb->len + extra + 1;

	if (need <= sb->cap)
		return;
	if (sb->cap == 0)
		sb->cap = 256;
	while (sb->cap < need)
		sb->cap *= 2;
	sb->data = xrealloc(sb->data, sb->cap);
	sb->data[sb->len] = '\0';
}

void
sb_append(StrBuf *sb, const char *data, size_t len)
{
	sb_reserve(sb, len);
	memcpy(sb->data + sb->len, data, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
}

void
sb_puts(StrBuf *sb, const char *s)
{
	sb_append(sb, s, strlen(s));
}

void
sb_printf(StrBuf *sb, const char *fmt,...)
{
	va_list		ap;
	int			n;

	sb_reserve(sb, 128);
	va_start(ap, fmt);
	n = vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	if ((size_t) n >= sb->cap - sb->len)
	{
		sb_reserve(sb, n);
		va_start(ap, fmt);
		vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
		va_end(ap);
	}
	sb->len += n;
}

/* Append s with the five XML special characters escaped. */
void
sb_put_escaped(StrBuf *sb, const char *s)
{
	for (; *s; s++)
	{
		switch (*s)
		{
			case '<':
				sb_append(sb, "&lt;", 4);
				break;
			case '>':
				sb_append(sb, "&gt;", 4);
				break;
			case '&':
				sb_append(sb, "&amp;", 5);
				break;
			case '"':
				sb_append(sb, "&quot;", 6);
				break;
			case '\'':
				sb_append(sb, "&apos;", 6);
				break;
			default:
				sb_append(sb, s, 1);
		}
	}
}

/* Append <name>text</name>; nothing when text is NULL or empty. */
void
sb_elem(StrBuf *sb, const char *name, const char *text)
{
	if (text == NULL || text[0] == '\0')
		return;
	sb_printf(sb, "<%s>", name);
	sb_put_escaped(sb, text);
	sb_printf(sb, "</%s>", name);
}

/*
 * splitmix64: a small, fast generator whose sequence depends only on the
 * seed, so seeded data and fault probabilities repeat from run to run.
 */
void
rng_seed(Rng *rng, uint64_t seed)
{
	rng->state = seed;
}

uint64_t
rng_next(Rng *rng)
{
	uint64_t	z = (rng->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t
rng_below(Rng *rng, uint64_t n)
{
	if (n == 0)
		return 0;
	return rng_next(rng) % n;
}

double
rng_double(Rng *rng)
{
	return (rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
}

/* A stateless mix of x, used to derive per-number seeded values. */
uint64_t
hash64(uint64_t x)
{
	Rng			r;

	rng_seed(&r, x);
	return rng_next(&r);
}
