/*-------------------------------------------------------------------------
 *
 * sessions.c
 *	  Users, sessions (one per user), bearer-token checks and the
 *	  per-RespOrg rate limit.
 *
 * Session lifetimes and the rate-limit window use the real monotonic clock,
 * not simulator time, so advancing the simulated date by weeks does not log
 * every client out.  Tokens and passwords are never logged.
 *
 *-------------------------------------------------------------------------
 */
#include "tfsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

static Session *users;
static int	nusers;

bool		session_force_conflict;

static int64_t rate_window_start[MAX_RESPORGS + 1];
static int	rate_count[MAX_RESPORGS + 1];

/*
 * Load the users file: one user a line, usrName:password:respOrgId:updList
 * with updList comma-separated.  The password is everything between the
 * first colon and the last two.  A user may always update its own RespOrg.
 */
bool
sessions_load(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char		line[2048];
	int			lineno = 0;

	if (f == NULL)
	{
		sim_log("cannot open users file \"%s\"", path);
		return false;
	}
	while (fgets(line, sizeof(line), f))
	{
		char	   *first,
				   *last,
				   *second_last;
		Session    *u;
		char	   *save = NULL;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		first = strchr(line, ':');
		last = strrchr(line, ':');
		if (first == NULL || last == first)
			goto bad;
		*last = '\0';
		second_last = strrchr(line, ':');
		if (second_last == first)
			goto bad;
		*first = '\0';
		*second_last = '\0';

		users = xrealloc(users, (nusers + 1) * sizeof(Session));
		u = &users[nusers];
		memset(u, 0, sizeof(Session));
		u->name = xstrdup(line);
		u->password = xstrdup(first + 1);
		u->resporg = resporg_add(second_last + 1);
		if (u->resporg == 0)
		{
			sim_log("users file \"%s\" line %d: invalid RespOrg ID \"%s\"",
					path, lineno, second_last + 1);
			fclose(f);
			return false;
		}
		u->upd[u->resporg] = true;
		for (char *tok = strtok_r(last + 1, ",", &save); tok;
			 tok = strtok_r(NULL, ",", &save))
		{
			int			ro = resporg_add(tok);

			if (ro == 0)
			{
				sim_log("users file \"%s\" line %d: invalid RespOrg ID \"%s\" in updList",
						path, lineno, tok);
				fclose(f);
				return false;
			}
			u->upd[ro] = true;
		}
		nusers++;
		continue;

bad:
		sim_log("users file \"%s\" line %d: expected usrName:password:respOrgId:updList",
				path, lineno);
		fclose(f);
		return false;
	}
	fclose(f);
	if (nusers == 0)
	{
		sim_log("users file \"%s\" lists no user", path);
		return false;
	}
	sim_log("loaded %d users from \"%s\"", nusers, path);
	return true;
}

static void
remember_old_token(Session *s)
{
	if (s->token[0] == '\0')
		return;
	strcpy(s->old_tokens[s->old_next], s->token);
	s->old_next = (s->old_next + 1) % 8;
	s->token[0] = '\0';
}

/* End a user's session; its token then gets 900903. */
void
session_invalidate(Session *s)
{
	remember_old_token(s);
}

void
sessions_expire_all(void)
{
	for (int i = 0; i < nusers; i++)
		session_invalidate(&users[i]);
}

void
sessions_reset(void)
{
	for (int i = 0; i < nusers; i++)
	{
		users[i].token[0] = '\0';
		memset(users[i].old_tokens, 0, sizeof(users[i].old_tokens));
		users[i].override_key[0] = '\0';
		users[i].override_expiry = 0;
	}
	session_force_conflict = false;
	rate_limit_reset();
}

int
session_count(void)
{
	int			n = 0;
	int64_t		now = monotonic_ms();

	for (int i = 0; i < nusers; i++)
		if (users[i].token[0] && users[i].token_expiry > now)
			n++;
	return n;
}

/*
 * Check the Authorization header.  Returns the session, or NULL with res
 * filled: 900902 missing, 900903 expired or ended, 900901 unknown.
 */
Session *
session_authenticate(const char *auth, ApiResult *res)
{
	const char *token;
	int64_t		now = monotonic_ms();

	if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0 || auth[7] == '\0')
	{
		api_error(res, 401, "900902", "missing credentials: send Authorization: Bearer <oauthToken>");
		return NULL;
	}
	token = auth + 7;

	for (int i = 0; i < nusers; i++)
	{
		Session    *s = &users[i];

		if (s->token[0] && strcmp(s->token, token) == 0)
		{
			if (s->token_expiry <= now)
			{
				remember_old_token(s);
				api_error(res, 401, "900903", "access token expired; open a new session");
				return NULL;
			}
			return s;
		}
	}
	for (int i = 0; i < nusers; i++)
		for (int j = 0; j < 8; j++)
			if (users[i].old_tokens[j][0] && strcmp(users[i].old_tokens[j], token) == 0)
			{
				api_error(res, 401, "900903", "access token expired; open a new session");
				return NULL;
			}
	api_error(res, 401, "900901", "invalid credentials: unknown access token");
	return NULL;
}

static void
session_create(Session *u, ApiResult *res)
{
	StrBuf	   *sb = &res->body;

	random_hex(u->token, 32);
	u->token_expiry = monotonic_ms() + (int64_t) sim_config.session_ttl * 1000;
	u->override_key[0] = '\0';

	res->status = 200;
	sb_puts(sb, "<session><oauthToken>");
	sb_puts(sb, u->token);
	sb_printf(sb, "</oauthToken><expiresIn>%d</expiresIn>", sim_config.session_ttl);
	sb_elem(sb, "respOrgId", resporgs[u->resporg].id);
	sb_puts(sb, "<updList>");
	for (int ro = 1; ro <= nresporgs; ro++)
		if (u->upd[ro])
			sb_elem(sb, "respOrgId", resporgs[ro].id);
	sb_puts(sb, "</updList></session>");
	sim_log("session opened for user %s (RespOrg %s)", u->name,
			resporgs[u->resporg].id);
}

/* POST /sec/session/open */
void
api_session_open(ApiRequest *req, ApiResult *res)
{
	xmlDocPtr	doc = xml_parse_request(req->body, req->body_len, "sessionOpen", res);
	xmlNodePtr	root;
	char	   *name = NULL,
			   *password = NULL,
			   *key = NULL;
	Session    *u = NULL;
	int64_t		now = monotonic_ms();

	if (doc == NULL)
		return;
	root = xmlDocGetRootElement(doc);
	name = xml_child_text(root, "usrName");
	password = xml_child_text(root, "password");
	key = xml_child_text(root, "sessOverrideKey");

	if (name == NULL || password == NULL || !name[0] || !password[0])
	{
		api_error(res, 400, "099027", "usrName and password are required");
		goto done;
	}
	for (int i = 0; i < nusers; i++)
		if (strcmp(users[i].name, name) == 0 && strcmp(users[i].password, password) == 0)
			u = &users[i];
	if (u == NULL)
	{
		api_error(res, 401, "701002", "logon failed: invalid user name or password");
		goto done;
	}
	req->resporg = u->resporg;

	if (key && key[0])
	{
		if (u->override_key[0] == '\0' || strcmp(key, u->override_key) != 0 ||
			u->override_expiry <= now)
		{
			api_error(res, 409, "701004", "session override key expired or invalid; open again without it");
			goto done;
		}
		session_invalidate(u);
		session_create(u, res);
		goto done;
	}

	if (session_force_conflict || (u->token[0] && u->token_expiry > now))
	{
		session_force_conflict = false;
		random_hex(u->override_key, 20);
		u->override_expiry = now + 60000;
		api_error(res, 409, "701003", "user already logged in");
		/* add the key inside errorResponse, before its closing tag */
		res->body.len -= strlen("</errorResponse>");
		sb_puts(&res->body, "<sessOverrideKey>");
		sb_puts(&res->body, u->override_key);
		sb_puts(&res->body, "</sessOverrideKey></errorResponse>");
		goto done;
	}

	session_create(u, res);

done:
	free(name);
	free(password);
	free(key);
	xmlFreeDoc(doc);
}

/* PUT /sec/session/close: the token stops working at once (900901). */
void
api_session_close(ApiRequest *req, ApiResult *res)
{
	Session    *s = req->session;

	sim_log("session closed for user %s", s->name);
	s->token[0] = '\0';
	res->status = 200;
	sb_puts(&res->body, "<sessionClose><status>success</status></sessionClose>");
}

/*
 * Count a request against the RespOrg's budget of --rate-limit requests per
 * fixed one-minute window.  Returns false with a 429 in res when spent.
 */
bool
rate_limit_check(int ro, ApiResult *res)
{
	int64_t		now = monotonic_ms();

	if (sim_config.rate_limit <= 0 || ro <= 0)
		return true;
	if (rate_window_start[ro] == 0 || now - rate_window_start[ro] >= 60000)
	{
		rate_window_start[ro] = now;
		rate_count[ro] = 0;
	}
	if (rate_count[ro] >= sim_config.rate_limit)
	{
		int			wait = (int) ((rate_window_start[ro] + 60000 - now + 999) / 1000);

		api_error(res, 429, "900800", "request rate exceeded; retry after the time in Retry-After");
		res->retry_after = wait > 0 ? wait : 1;
		return false;
	}
	rate_count[ro]++;
	return true;
}

void
rate_limit_reset(void)
{
	memset(rate_window_start, 0, sizeof(rate_window_start));
	memset(rate_count, 0, sizeof(rate_count));
}
