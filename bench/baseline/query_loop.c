/*
 * query_loop.c
 *		Baseline for the per-call cost: the least a C program needs to query
 *		numbers one at a time over TLS with libcurl.
 *
 * It opens a registry session with the first user of the simulator's users
 * file, then sends GET /num/tfn/query/tfn/{num} for every number in a file,
 * one after the other on one easy handle, so that libcurl keeps the
 * connection (and its TLS session) alive between requests.  The answers are
 * counted and discarded, without XML parsing.  It prints one line:
 * "requests=N seconds=S".
 *
 * Usage: query_loop BASE_URL CA_FILE USERS_FILE NUMBERS_FILE
 * Build: cc -O2 -o query_loop query_loop.c `pkg-config --cflags --libs libcurl`
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

/* Response body of the session open; the query answers are only counted. */
typedef struct Body
{
	char		data[8192];
	size_t		len;
} Body;

static size_t
keep_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	Body	   *body = arg;
	size_t		n = size * nmemb;
	size_t		room = sizeof(body->data) - 1 - body->len;

	memcpy(body->data + body->len, ptr, n < room ? n : room);
	body->len += n < room ? n : room;
	body->data[body->len] = '\0';
	return n;
}

static size_t
discard_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void) ptr;
	*(size_t *) arg += size * nmemb;
	return size * nmemb;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Open a session with the first user of the users file and copy its token
 * into token.  Exits on any failure.
 */
static void
open_session(CURL *curl, const char *base, const char *users_file,
			 char *token, size_t token_size)
{
	FILE	   *f = fopen(users_file, "r");
	char		line[512];
	char	   *user;
	char	   *password;
	char	   *colon;
	char		url[1024];
	char		request[1024];
	Body		body = {.len = 0};
	char	   *start;
	char	   *end;
	long		status = 0;

	if (f == NULL || fgets(line, sizeof(line), f) == NULL)
	{
		fprintf(stderr, "query_loop: cannot read the users file %s\n", users_file);
		exit(1);
	}
	fclose(f);
	user = line;
	password = strchr(line, ':');
	if (password == NULL || (colon = strchr(password + 1, ':')) == NULL)
	{
		fprintf(stderr, "query_loop: invalid line in the users file %s\n", users_file);
		exit(1);
	}
	*password++ = '\0';
	*colon = '\0';

	snprintf(url, sizeof(url), "%s/sec/session/open", base);
	snprintf(request, sizeof(request),
			 "<sessionOpen><usrName>%s</usrName><password>%s</password></sessionOpen>",
			 user, password);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
	if (curl_easy_perform(curl) != CURLE_OK ||
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
		status != 200 ||
		(start = strstr(body.data, "<oauthToken>")) == NULL ||
		(end = strstr(start, "</oauthToken>")) == NULL)
	{
		fprintf(stderr, "query_loop: session open failed (HTTP %ld)\n", status);
		exit(1);
	}
	start += strlen("<oauthToken>");
	snprintf(token, token_size, "%.*s", (int) (end - start), start);

	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
}

int
main(int argc, char **argv)
{
	CURL	   *curl;
	FILE	   *numbers;
	char		token[256];
	char		header[300];
	char		url[1024];
	char		number[64];
	struct curl_slist *headers = NULL;
	size_t		received = 0;
	long		requests = 0;
	double		started;

	if (argc != 5)
	{
		fprintf(stderr, "usage: query_loop BASE_URL CA_FILE USERS_FILE NUMBERS_FILE\n");
		return 2;
	}

	curl_global_init(CURL_GLOBAL_DEFAULT);
	curl = curl_easy_init();
	curl_easy_setopt(curl, CURLOPT_CAINFO, argv[2]);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	open_session(curl, argv[1], argv[3], token, sizeof(token));

	snprintf(header, sizeof(header), "Authorization: Bearer %s", token);
	headers = curl_slist_append(headers, header);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &received);

	numbers = fopen(argv[4], "r");
	if (numbers == NULL)
	{
		fprintf(stderr, "query_loop: cannot read the numbers file %s\n", argv[4]);
		return 1;
	}

	started = now_seconds();
	while (fgets(number, sizeof(number), numbers) != NULL)
	{
		long		status = 0;

		number[strcspn(number, "\r\n")] = '\0';
		if (number[0] == '\0')
			continue;
		snprintf(url, sizeof(url), "%s/num/tfn/query/tfn/%s", argv[1], number);
		curl_easy_setopt(curl, CURLOPT_URL, url);
		if (curl_easy_perform(curl) != CURLE_OK ||
			curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
			status != 200)
		{
			fprintf(stderr, "query_loop: query of %s failed (HTTP %ld)\n", number, status);
			return 1;
		}
		requests++;
	}
	printf("requests=%ld seconds=%.3f bytes=%zu\n", requests, now_seconds() - started, received);

	fclose(numbers);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	return 0;
}
