/*-------------------------------------------------------------------------
 *
 * tfsim.h
 *	  Shared declarations of tfsim, the toll_free registry simulator.
 *
 * tfsim serves the XML protocol of docs/protocol.md over HTTPS with
 * libmicrohttpd, keeps the state of every toll-free number in memory, and
 * offers a plain-HTTP admin API on loopback for tests (clock, faults, seed,
 * request log).  One global mutex (sim_lock) protects all registry state.
 * Every API operation runs under it, so operations are atomic with respect
 * to each other.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFSIM_H
#define TFSIM_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

struct MHD_Connection;

/* ---------------------------------------------------------------------
 * Configuration (main.c)
 * ---------------------------------------------------------------------
 */
typedef struct SimConfig
{
	int			port;			/* HTTPS API port */
	int			plain_port;		/* plain-HTTP API port, 0 = none */
	int			admin_port;
	const char *tls_cert;
	const char *tls_key;
	const char *users_file;
	const char *ready_file;
	uint64_t	seed;
	long		numbers;
	char		resporgs[512];	/* comma-separated RespOrg IDs */
	int			rate_limit;		/* requests per minute per RespOrg, 0 = off */
	double		pending_share;	/* 0..1 */
	int			pending_ms;
	int			lock_seconds;	/* pre-reservation lock after a search */
	int			res_limit;		/* minimum entity reservation limit */
	int			page_size;		/* default RespOrg check page size */
	int			threads;
	int			session_ttl;	/* seconds */
	int			latency_ms;
	int			scp_delay;		/* seconds from SENDING to ACTIVE */
} SimConfig;

extern SimConfig sim_config;
extern pthread_mutex_t sim_lock;

/* ---------------------------------------------------------------------
 * Growable string buffer and small helpers (util.c)
 * ---------------------------------------------------------------------
 */
typedef struct StrBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} StrBuf;

extern void sb_init(StrBuf *sb);
extern void sb_free(StrBuf *sb);
extern void sb_reset(StrBuf *sb);
extern void sb_reserve(StrBuf *sb, size_t extra);
extern void sb_append(StrBuf *sb, const char *data, size_t len);
extern void sb_puts(StrBuf *sb, const char *s);
extern void sb_printf(StrBuf *sb, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
extern void sb_put_escaped(StrBuf *sb, const char *s);
extern void sb_elem(StrBuf *sb, const char *name, const char *text);

typedef struct Rng
{
	uint64_t	state;
} Rng;

extern void rng_seed(Rng *rng, uint64_t seed);
extern uint64_t rng_next(Rng *rng);
extern uint64_t rng_below(Rng *rng, uint64_t n);
extern double rng_double(Rng *rng);
extern uint64_t hash64(uint64_t x);

extern void *xmalloc(size_t size);
extern void *xcalloc(size_t n, size_t size);
extern void *xrealloc(void *p, size_t size);
extern char *xstrdup(const char *s);
extern void sim_log(const char *fmt,...) __attribute__((format(printf, 1, 2)));
extern void random_hex(char *out, size_t nbytes);

/* ---------------------------------------------------------------------
 * Dates and the simulated clock (clock.c)
 *
 * A day is a count of days since 1970-01-01; a time is seconds since the
 * Unix epoch, UTC.  Simulator time is real UTC time plus an offset that the
 * admin API moves forward.
 * ---------------------------------------------------------------------
 */
#define SECS_PER_DAY 86400

extern int32_t days_from_civil(int y, unsigned m, unsigned d);
extern void civil_from_days(int32_t z, int *y, unsigned *m, unsigned *d);
extern int32_t add_months(int32_t day, int months);
extern void format_date(int32_t day, char out[11]);
extern void format_timestamp(int64_t t, char out[21]);
extern bool parse_date(const char *s, int32_t *day);
extern bool parse_timestamp(const char *s, int64_t *t);

extern int64_t sim_now(void);
extern int32_t sim_today(void);
extern void clock_advance(int64_t seconds);
extern void clock_reset(void);
extern int64_t monotonic_ms(void);

/* ---------------------------------------------------------------------
 * Number store (store.c)
 * ---------------------------------------------------------------------
 */
enum NumStatus
{
	ST_SPARE,
	ST_RESERVED,
	ST_ASSIGNED,
	ST_WORKING,
	ST_DISCONNECT,
	ST_TRANSITIONAL,
	ST_UNAVAILABLE,
	ST_SUSPEND,
	ST_COUNT
};

extern const char *const num_status_names[ST_COUNT];
extern int num_status_from_name(const char *name);

/* NumEntry.flags */
#define NF_SEEDED_RECS		0x01	/* records not yet generated from the seed */
#define NF_SEEDED_CONTACT	0x02	/* contact data is derived from the seed */
#define NF_AUCTION			0x04

/*
 * Per-number state, kept compact (48 bytes) so that millions fit in memory.
 * Dates are day numbers (0 = none); times are simulator seconds (0 = none).
 * Contact data and customer records live in side tables indexed by contact
 * and recs (0 = none).
 */
typedef struct NumEntry
{
	uint64_t	num;
	uint32_t	version;		/* recVersionId */
	uint32_t	lock_until;		/* pre-reservation lock expiry */
	uint32_t	pend_at;		/* next time a record of the number changes */
	uint32_t	contact;
	uint32_t	recs;
	uint16_t	eff_dt;			/* date the status took effect */
	uint16_t	res_until_dt;
	uint16_t	disc_until_dt;	/* DISCONNECT/TRANSITIONAL: back to spare */
	uint16_t	last_act_dt;
	uint16_t	eint_dt;		/* DISCONNECT: end of intercept */
	uint8_t		status;
	uint8_t		resporg;		/* controlling RespOrg index, 0 = none */
	uint8_t		lock_owner;
	uint8_t		flags;
} NumEntry;

#define MAX_RESPORGS 250
#define MAX_ENTITIES 250

typedef struct RespOrg
{
	char		id[6];
	uint8_t		entity;
	bool		dirty;			/* sorted is missing some numbers */
	uint32_t   *sorted;			/* entry indexes ascending by number */
	uint32_t	nsorted;
	uint64_t	counts[ST_COUNT];
	uint32_t	rck_page;		/* page number within the current check run */
} RespOrg;

typedef struct Entity
{
	char		id[3];
} Entity;

extern RespOrg resporgs[MAX_RESPORGS + 1];
extern int	nresporgs;
extern Entity entities[MAX_ENTITIES + 1];
extern int	nentities;
extern NumEntry *store_entries;
extern uint32_t store_count;

extern void store_clear(void);
extern void store_reserve_capacity(uint32_t n);
extern int	resporg_find(const char *id);
extern int	resporg_add(const char *id);
extern int	entity_find(const char *id);
extern NumEntry *store_get(uint64_t num);
extern NumEntry *store_get_or_add(uint64_t num);
extern uint32_t store_index(const NumEntry *e);
extern void entry_set_status(NumEntry *e, int status, int resporg);
extern void entry_to_spare(NumEntry *e, int32_t today);
extern void entry_normalize(NumEntry *e, int64_t now);
extern void store_sweep(int64_t now);
extern void store_sweep_if_due(int64_t now);
extern void store_schedule(int64_t when);
extern uint32_t *resporg_sorted(int ro, uint32_t *n);
extern uint64_t entity_count(int entity, int status);
extern uint64_t entity_res_limit(int entity);
extern bool npa_is_open(int npa);
extern const int open_npas[];
extern const int n_open_npas;
extern int	parse_num(const char *s, uint64_t *num);

typedef struct Contact
{
	char	   *name;
	char	   *tel;
	char	   *notes;
} Contact;

extern void entry_contact(const NumEntry *e, Contact *out, char *namebuf,
						  char *telbuf);
extern void entry_set_contact(NumEntry *e, const char *name, const char *tel,
							  const char *notes);
extern void entry_clear_contact(NumEntry *e);

/* ---------------------------------------------------------------------
 * Customer records and templates (records.c)
 * ---------------------------------------------------------------------
 */
enum RecStat
{
	RS_SAVED,
	RS_PENDING,
	RS_SENDING,
	RS_ACTIVE,
	RS_OLD,
	RS_INVALID,
	RS_DISCONNECT,
	RS_MUSTCHECK,
	RS_FAILED,
	RS_HOLD,
	RS_COUNT
};

extern const char *const rec_status_names[RS_COUNT];

typedef struct CustRec
{
	int64_t		eff;			/* effective time */
	int64_t		sending_at;		/* when SENDING started */
	uint32_t	version;
	uint8_t		stat;
	char		action;			/* 'N' new, 'D' disconnect */
	char		referral;		/* disconnect records: 'Y' or 'N' */
	bool		eint_now;		/* disconnect records: intercept ends at once */
	int32_t		eint_dt;		/* disconnect records: end-intercept date */
	char		ctrl[6];
	char	   *tmpl_name;		/* pointer records: the template */
	char	   *cad;			/* serialized CAD elements */
	char	   *lad;			/* serialized lbl elements */
	char	   *cpr;			/* serialized cprSect elements */
} CustRec;

typedef struct RecList
{
	CustRec    *v;				/* ascending by eff */
	int			n;
	int			cap;
} RecList;

typedef struct Template
{
	char		name[16];
	uint8_t		entity;
	RecList		recs;
} Template;

extern uint32_t rec_next_version(void);
extern RecList *entry_records(NumEntry *e, bool create);
extern void entry_drop_records(NumEntry *e);
extern void records_due(NumEntry *e, int64_t now);
extern void records_clear_all(void);
extern CustRec *reclist_find(RecList *rl, int64_t eff);
extern CustRec *reclist_default(RecList *rl);
extern CustRec *reclist_insert(RecList *rl, int64_t eff);
extern void custrec_free(CustRec *r);
extern void custrec_copy_parts(CustRec *dst, const CustRec *src, bool cad,
							   bool lad, bool cpr);
extern const char *custrec_comp_part(const CustRec *r, char *buf);
extern bool reclist_has_status(RecList *rl, int stat);
extern void entry_reschedule(NumEntry *e);
extern void template_due(Template *t, int64_t now);
extern Template *template_find(const char *name);
extern Template *template_add(const char *name);
extern Template **templates;
extern int	ntemplates;

/* ---------------------------------------------------------------------
 * Seeded data (seed.c)
 * ---------------------------------------------------------------------
 */
extern uint64_t seed_current;
extern void seed_store(uint64_t seed, long numbers);
extern void seed_entry_records(NumEntry *e, RecList *rl);
extern void seed_entry_contact(const NumEntry *e, char *name, char *tel);
extern bool num_is_test_range(uint64_t num);

/* ---------------------------------------------------------------------
 * API requests and results (http.c, api_*.c)
 * ---------------------------------------------------------------------
 */
typedef struct Session Session;

typedef struct ApiRequest
{
	const char *method;
	const char *path;			/* after /v3/ip */
	const char *body;
	size_t		body_len;
	struct MHD_Connection *conn;
	Session    *session;		/* NULL for session open */
	int			resporg;		/* the caller's own RespOrg */
	const bool *upd;			/* RespOrgs the caller may update */
	int64_t		now;
} ApiRequest;

typedef struct ApiResult
{
	int			status;
	StrBuf		body;
	int			retry_after;	/* seconds; 0 = no Retry-After header */
	int			rck_resporg;	/* >0: stream a RespOrg check page */
	uint64_t	rck_start;		/* exclusive; 0 = from the beginning */
	uint32_t	rck_page_size;
	const char *content_type;	/* NULL = application/xml */
} ApiResult;

extern const char *api_arg(ApiRequest *req, const char *name);
extern void api_error(ApiResult *res, int http, const char *code,
					  const char *msg);
extern void sb_err(StrBuf *sb, const char *code, const char *msg,
				   const char *level);
extern int	api_error_http_status(const char *code);

extern void api_query_one(ApiRequest *req, ApiResult *res, const char *num);
extern void api_query_many(ApiRequest *req, ApiResult *res);
extern void api_search(ApiRequest *req, ApiResult *res);
extern void api_reserve(ApiRequest *req, ApiResult *res);
extern void api_srchres(ApiRequest *req, ApiResult *res);
extern void api_update(ApiRequest *req, ApiResult *res);
extern void api_res_limits(ApiRequest *req, ApiResult *res);
extern void api_rck(ApiRequest *req, ApiResult *res, const char *resporg);
extern void api_disconnect(ApiRequest *req, ApiResult *res);
extern void api_rec_query(ApiRequest *req, ApiResult *res, const char *num);
extern void api_rec_retrieve(ApiRequest *req, ApiResult *res,
							 const char *num);
extern void api_tpl_retrieve(ApiRequest *req, ApiResult *res,
							 const char *name);
extern void api_rec_copy(ApiRequest *req, ApiResult *res);
extern void api_rec_write(ApiRequest *req, ApiResult *res, bool create);

/* numInfo output (xmlout.c) */
extern void xml_num_info(StrBuf *sb, NumEntry *e, uint64_t num,
						 bool show_contact);
extern void xml_rck_row(StrBuf *sb, const NumEntry *e);
extern void xml_custrec(StrBuf *sb, const char *num, const char *tmpl,
						const CustRec *r);
extern void xml_rec_response(StrBuf *sb, const char *num, const CustRec *r);
extern void csv_inventory_row(StrBuf *sb, const NumEntry *e);
extern bool rck_more(int ro, uint64_t cursor);
extern size_t rck_render(int ro, uint64_t *cursor, uint32_t *remaining,
						 StrBuf *out, size_t max_bytes);

/* request parsing (xmlin.c) */
extern xmlDocPtr xml_parse_request(const char *body, size_t len,
								   const char *root, ApiResult *res);
extern xmlNodePtr xml_child(xmlNodePtr parent, const char *name);
extern char *xml_child_text(xmlNodePtr parent, const char *name);
extern char *xml_node_text(xmlNodePtr node);
extern char *xml_dump_children(xmlNodePtr parent, const char *const *only,
							   const char *const *skip);

/* ---------------------------------------------------------------------
 * Sessions and rate limit (sessions.c)
 * ---------------------------------------------------------------------
 */
struct Session
{
	char	   *name;
	char	   *password;
	int			resporg;
	bool		upd[MAX_RESPORGS + 1];
	char		token[65];		/* empty = no session */
	int64_t		token_expiry;	/* monotonic ms */
	char		old_tokens[8][65];	/* recently ended tokens (900903) */
	int			old_next;
	char		override_key[41];
	int64_t		override_expiry;
};

extern bool sessions_load(const char *path);
extern void sessions_reset(void);
extern void sessions_expire_all(void);
extern void session_invalidate(Session *s);
extern int	session_count(void);
extern bool session_force_conflict;
extern Session *session_authenticate(const char *auth_header, ApiResult *res);
extern void api_session_open(ApiRequest *req, ApiResult *res);
extern void api_session_close(ApiRequest *req, ApiResult *res);
extern bool rate_limit_check(int resporg, ApiResult *res);
extern void rate_limit_reset(void);

/* ---------------------------------------------------------------------
 * Faults (faults.c)
 * ---------------------------------------------------------------------
 */
enum FaultKind
{
	FK_LATENCY,
	FK_STALL,
	FK_RESET_BEFORE,
	FK_RESET_AFTER,
	FK_TRUNCATE,
	FK_CUT_CHUNKED,
	FK_MALFORMED,
	FK_DTD,
	FK_XXE_FILE,
	FK_XXE_HTTP,
	FK_ENTITY_BOMB,
	FK_DEEP_NESTING,
	FK_INVALID_UTF8,
	FK_STATUS,
	FK_THROTTLE,
	FK_PENDING,
	FK_DRIP,
	FK_WRONG_CONTENT_TYPE,
	FK_OVERSIZED,
	FK_EXPIRE_SESSION,
	FK_SECOND_SESSION,
	FK_COUNT
};

typedef struct Fault
{
	int			id;
	int			kind;
	char		path[256];
	char		method[8];		/* empty = any */
	int			count;			/* requests left to hit, -1 = until cleared */
	int			ms;
	int			status;
	long		bytes;
	int			page;			/* RespOrg check: only this page, 0 = any */
	double		probability;
	int			retry_after;
	int			jitter;			/* latency: up to this many ms more */
	int			hits;
} Fault;

extern const char *const fault_kind_names[FK_COUNT];
extern int	fault_add(const char *path, const char *kind, const char *count,
					  const char *ms, const char *status, const char *bytes,
					  const char *page, const char *probability,
					  const char *retry_after, const char *method,
					  const char *jitter, char *errbuf, size_t errlen);
extern bool fault_match(const char *path, const char *method, int rck_page,
						bool session_open, Fault *out);
extern void faults_clear(void);
extern void faults_list(StrBuf *sb);
extern bool fault_is_body_kind(int kind);
extern void fault_corrupt_body(const Fault *f, StrBuf *body,
							   const char **content_type);

/* ---------------------------------------------------------------------
 * Request log and pending results (reqlog.c)
 * ---------------------------------------------------------------------
 */
extern uint64_t reqlog_add(const char *method, const char *path_query,
						   int status, const char *resporg,
						   const char *body, size_t body_len);
extern void reqlog_dump(StrBuf *sb, uint64_t since, const char *path,
						const char *method);
extern void reqlog_clear(void);
extern void reqlog_count_path(const char *route);
extern void reqlog_path_stats(StrBuf *sb);

extern uint64_t pending_store(int resporg, int status, const StrBuf *body,
							  int64_t ready_at_ms);
extern int	pending_lookup(uint64_t id, int resporg, StrBuf *body,
						   int64_t now_ms, bool *ready);
extern void pending_clear(void);
extern bool pending_roll(void);
extern uint32_t fault_jitter(int max_ms);

/* ---------------------------------------------------------------------
 * HTTP server and admin API (http.c, admin.c)
 * ---------------------------------------------------------------------
 */
extern bool http_start(void);
extern void http_stop(void);
extern uint64_t stat_open_connections(void);
extern uint64_t stat_connections_total(void);
extern void admin_handle(struct MHD_Connection *conn, const char *method,
						 const char *url, const char *body, size_t body_len,
						 int *status, StrBuf *out, const char **ctype);
extern void sim_reset_all(void);

#endif							/* TFSIM_H */
