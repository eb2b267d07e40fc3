/*-------------------------------------------------------------------------
 *
 * audit.c
 *		toll_free.requests rows of synchronous calls, and the shared-memory
 *		ring that carries them across a rollback of the caller.
 *
 * Each row that must survive is kept as JSON (row_to_json of the row as
 * written) in a list in TopTransactionContext, tagged with the
 * subtransaction that wrote it.  Commit of a subtransaction passes its
 * copies to the parent; abort of a subtransaction or of the transaction
 * pushes them into the ring.  The ring is a fixed array of slots in shared
 * memory; a full ring loses rows, with a WARNING naming their ids.
 *
 * A row still in state 'sending' when it is pushed belonged to a call that
 * was interrupted before the registry's response arrived.  The drain stores
 * it as 'unknown', because the request may have reached the registry.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/resowner.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "audit.h"
#include "session.h"
#include "toll_free.h"
#include "worker.h"

#define AUDIT_SLOTS			256
#define AUDIT_SLOT_SIZE		4096

/* Maximum length of the error text stored in a row. */
#define MAX_ERROR_LEN		1000

typedef struct AuditSlot
{
	bool		used;
	Oid			database;
	int64		id;
	char		json[AUDIT_SLOT_SIZE];
} AuditSlot;

typedef struct AuditRing
{
	LWLock	   *lock;
	int			used;			/* slots in use; read without the lock as a hint */
	AuditSlot	slots[AUDIT_SLOTS];
} AuditRing;

/* A row that must outlive the caller's transaction. */
typedef struct AuditCopy
{
	int64		id;
	SubTransactionId subid;
	char	   *json;
} AuditCopy;

static AuditRing *ring = NULL;
static List *copies = NIL;
static bool callbacks_registered = false;

/* Plans kept for the process's lifetime. */
static SPIPlanPtr begin_plan = NULL;
static SPIPlanPtr finish_plan = NULL;
static SPIPlanPtr record_plan = NULL;
static SPIPlanPtr drain_insert_plan = NULL;
static SPIPlanPtr drain_unknown_plan = NULL;
static SPIPlanPtr shrink_plan = NULL;

Size
tf_audit_shmem_size(void)
{
	return MAXALIGN(sizeof(AuditRing));
}

/*
 * tf_audit_shmem_init
 *		Attach to the ring.  Caller holds AddinShmemInitLock.
 */
void
tf_audit_shmem_init(void)
{
	bool		found;

	ring = ShmemInitStruct("toll_free audit ring", sizeof(AuditRing), &found);
	if (!found)
	{
		memset(ring, 0, sizeof(AuditRing));
		ring->lock = &(GetNamedLWLockTranche("toll_free client"))[1].lock;
	}
}

/*
 * push_copies
 *		Move the copies written by subtransaction subid or its children (all
 *		of them when subid is InvalidSubTransactionId) into the ring.
 *		Runs in an abort callback: it must not raise an error.
 */
static void
push_copies(SubTransactionId subid)
{
	List	   *kept = NIL;
	ListCell   *lc;
	StringInfoData lost;
	bool		any_lost = false;

	if (copies == NIL || ring == NULL)
		return;

	initStringInfo(&lost);
	LWLockAcquire(ring->lock, LW_EXCLUSIVE);
	foreach(lc, copies)
	{
		AuditCopy  *copy = (AuditCopy *) lfirst(lc);
		int			slot;

		if (subid != InvalidSubTransactionId && copy->subid < subid)
		{
			kept = lappend(kept, copy);
			continue;
		}

		for (slot = 0; slot < AUDIT_SLOTS; slot++)
		{
			if (!ring->slots[slot].used)
				break;
		}
		if (slot == AUDIT_SLOTS || strlen(copy->json) >= AUDIT_SLOT_SIZE)
		{
			appendStringInfo(&lost, "%s" INT64_FORMAT, any_lost ? ", " : "", copy->id);
			any_lost = true;
			continue;
		}

		ring->slots[slot].used = true;
		ring->slots[slot].database = MyDatabaseId;
		ring->slots[slot].id = copy->id;
		strlcpy(ring->slots[slot].json, copy->json, AUDIT_SLOT_SIZE);
		ring->used++;
	}
	LWLockRelease(ring->lock);

	copies = kept;

	if (any_lost)
		ereport(WARNING,
				(errmsg("toll_free: audit ring is full; rows of rolled-back registry calls were lost"),
				 errdetail("Lost toll_free.requests ids: %s.", lost.data)));

	/* The worker drains the ring; a backend also does at its next call. */
	tf_worker_wake();
}

static void
audit_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			push_copies(InvalidSubTransactionId);
			copies = NIL;
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			copies = NIL;
			break;
		default:
			break;
	}
}

static void
audit_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	switch (event)
	{
		case SUBXACT_EVENT_ABORT_SUB:
			push_copies(mySubid);
			break;
		case SUBXACT_EVENT_COMMIT_SUB:
			foreach(lc, copies)
			{
				AuditCopy  *copy = (AuditCopy *) lfirst(lc);

				if (copy->subid == mySubid)
					copy->subid = parentSubid;
			}
			break;
		default:
			break;
	}
}

static void
register_callbacks(void)
{
	if (callbacks_registered)
		return;
	RegisterXactCallback(audit_xact_callback, NULL);
	RegisterSubXactCallback(audit_subxact_callback, NULL);
	callbacks_registered = true;
}

/*
 * keep_copy
 *		Remember (or replace) the copy of row id.
 */
static void
keep_copy(int64 id, const char *json)
{
	MemoryContext old;
	ListCell   *lc;
	AuditCopy  *copy = NULL;

	register_callbacks();
	old = MemoryContextSwitchTo(TopTransactionContext);

	foreach(lc, copies)
	{
		if (((AuditCopy *) lfirst(lc))->id == id)
		{
			copy = (AuditCopy *) lfirst(lc);
			break;
		}
	}
	if (copy == NULL)
	{
		copy = palloc0(sizeof(AuditCopy));
		copy->id = id;
		copy->subid = GetCurrentSubTransactionId();
		copies = lappend(copies, copy);
	}
	else
		pfree(copy->json);
	copy->json = pstrdup(json);

	MemoryContextSwitchTo(old);
}

/*
 * tf_table_owner
 *		Owner of toll_free.<name>; raises when the table does not exist.
 */
Oid
tf_table_owner(const char *name)
{
	Oid			namespace_oid = get_namespace_oid(TOLL_FREE_SCHEMA, false);
	Oid			relid = get_relname_relid(name, namespace_oid);
	HeapTuple	tuple;
	Oid			owner;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table %s.%s does not exist", TOLL_FREE_SCHEMA, name),
				 errhint("Run ALTER EXTENSION toll_free UPDATE, or recreate the extension.")));

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/*
 * prepare_kept
 *		SPI_prepare a statement once per process.
 */
static SPIPlanPtr
prepare_kept(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	prepared = SPI_prepare(sql, nargs, argtypes);

		if (prepared == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(prepared);
		*plan = prepared;
	}
	return *plan;
}

static Datum
text_or_null(const char *s, char *nulls, int i)
{
	if (s == NULL)
	{
		nulls[i] = 'n';
		return (Datum) 0;
	}
	nulls[i] = ' ';
	return CStringGetTextDatum(s);
}

/*
 * fitting_json
 *		The row's JSON, with the result replaced by a note when the whole
 *		would not fit a ring slot.
 */
static char *
fitting_json(char *json)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	char	   *shrunk;

	if (strlen(json) < AUDIT_SLOT_SIZE)
		return json;

	values[0] = CStringGetTextDatum(json);
	prepare_kept(&shrink_plan,
				 "SELECT pg_catalog.jsonb_set($1::pg_catalog.jsonb, '{result}', "
				 "'\"omitted: too large to keep across a rollback\"')::pg_catalog.text",
				 1, argtypes);
	if (SPI_execute_plan(shrink_plan, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not shrink an audit row");
	shrunk = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	return shrunk != NULL ? shrunk : json;
}

/*
 * run_as_owner
 *		Execute a kept plan as the owner of toll_free.requests; the first
 *		returned row (if any) is left in SPI_tuptable.
 */
static int
run_as_owner(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only)
{
	Oid			save_userid;
	int			save_sec_context;
	int			rc;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(tf_table_owner("requests"),
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	rc = SPI_execute_plan(plan, values, nulls, read_only, 0);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	return rc;
}

static char *
current_role_name(void)
{
	return GetUserNameFromId(GetUserId(), false);
}

static char *
limited_error(const char *error)
{
	if (error == NULL || strlen(error) <= MAX_ERROR_LEN)
		return (char *) error;
	return pnstrdup(error, MAX_ERROR_LEN);
}

/*
 * tf_audit_begin
 *		Insert the row of a state-changing request before it is sent.
 */
int64
tf_audit_begin(const char *operation, const char *numbers, const char *arguments_json)
{
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4];
	bool		isnull;
	int64		id;
	char	   *json;

	values[0] = text_or_null(operation, nulls, 0);
	values[1] = text_or_null(numbers, nulls, 1);
	values[2] = text_or_null(arguments_json, nulls, 2);
	values[3] = text_or_null(current_role_name(), nulls, 3);

	SPI_connect();
	prepare_kept(&begin_plan,
				 "INSERT INTO toll_free.requests AS r "
				 "(operation, numbers, arguments, state, origin, attempts, requested_by, started_at) "
				 "VALUES ($1, $2::toll_free.tfn[], COALESCE($3::pg_catalog.jsonb, '{}'), "
				 "'sending', 'call', 1, $4::pg_catalog.name, pg_catalog.clock_timestamp()) "
				 "RETURNING r.id, pg_catalog.row_to_json(r.*)::pg_catalog.text",
				 4, argtypes);
	if (run_as_owner(begin_plan, values, nulls, false) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not insert into toll_free.requests");

	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	json = fitting_json(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2));
	keep_copy(id, json);
	SPI_finish();

	return id;
}

/*
 * fill_outcome
 *		Parameters $2..$8 of the finish and record statements.
 */
static void
fill_outcome(const TfAuditOutcome *outcome, Datum *values, char *nulls, int first)
{
	char		http_status[16];

	values[first] = text_or_null(outcome->state, nulls, first);
	snprintf(http_status, sizeof(http_status), "%ld", outcome->http_status);
	values[first + 1] = text_or_null(outcome->http_status != 0 ? http_status : NULL, nulls, first + 1);
	values[first + 2] = text_or_null(outcome->result_json, nulls, first + 2);
	values[first + 3] = text_or_null(outcome->sqlstate != 0 ? unpack_sql_state(outcome->sqlstate) : NULL,
									 nulls, first + 3);
	values[first + 4] = text_or_null(limited_error(outcome->error), nulls, first + 4);
	values[first + 5] = text_or_null(outcome->registry_code, nulls, first + 5);
	values[first + 6] = text_or_null(outcome->registry_req_id, nulls, first + 6);
}

/*
 * tf_audit_finish
 *		Record the outcome of a row begun with tf_audit_begin.
 */
void
tf_audit_finish(int64 id, const TfAuditOutcome *outcome)
{
	Oid			argtypes[9] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID};
	Datum		values[9];
	char		nulls[9];

	values[0] = Int64GetDatum(id);
	nulls[0] = ' ';
	fill_outcome(outcome, values, nulls, 1);
	values[8] = text_or_null(outcome->numbers, nulls, 8);

	SPI_connect();
	prepare_kept(&finish_plan,
				 "UPDATE toll_free.requests AS r SET state = $2, "
				 "http_status = $3::pg_catalog.int4, result = $4::pg_catalog.jsonb, "
				 "sqlstate = $5, error = $6, registry_code = $7, "
				 "registry_req_id = COALESCE($8, r.registry_req_id), "
				 "numbers = COALESCE(r.numbers, $9::toll_free.tfn[]), "
				 "finished_at = pg_catalog.clock_timestamp() "
				 "WHERE r.id OPERATOR(pg_catalog.=) $1 "
				 "RETURNING pg_catalog.row_to_json(r.*)::pg_catalog.text",
				 9, argtypes);
	if (run_as_owner(finish_plan, values, nulls, false) != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "could not update toll_free.requests");
	if (SPI_processed == 1)
		keep_copy(id, fitting_json(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)));
	SPI_finish();
}

/*
 * tf_audit_record
 *		Insert a finished row in one step.
 */
int64
tf_audit_record(const char *operation, const char *numbers, const char *arguments_json,
				const TfAuditOutcome *outcome, TimestampTz started_at, bool keep_on_rollback)
{
	Oid			argtypes[13] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, BOOLOID, TEXTOID};
	Datum		values[13];
	char		nulls[13];
	bool		isnull;
	int64		id;

	values[0] = text_or_null(operation, nulls, 0);
	fill_outcome(outcome, values, nulls, 1);
	values[8] = text_or_null(numbers, nulls, 8);
	values[9] = text_or_null(arguments_json, nulls, 9);
	values[10] = TimestampTzGetDatum(started_at);
	nulls[10] = ' ';
	values[11] = BoolGetDatum(keep_on_rollback);
	nulls[11] = ' ';
	values[12] = text_or_null(current_role_name(), nulls, 12);

	SPI_connect();
	prepare_kept(&record_plan,
				 "INSERT INTO toll_free.requests AS r "
				 "(operation, state, http_status, result, sqlstate, error, registry_code, "
				 " registry_req_id, numbers, arguments, origin, attempts, requested_by, "
				 " started_at, finished_at) "
				 "VALUES ($1, $2, $3::pg_catalog.int4, $4::pg_catalog.jsonb, $5, $6, $7, $8, "
				 " $9::toll_free.tfn[], COALESCE($10::pg_catalog.jsonb, '{}'), 'call', 1, "
				 " $13::pg_catalog.name, $11, pg_catalog.clock_timestamp()) "
				 "RETURNING r.id, CASE WHEN $12 THEN pg_catalog.row_to_json(r.*)::pg_catalog.text END",
				 13, argtypes);
	if (run_as_owner(record_plan, values, nulls, false) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not insert into toll_free.requests");

	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (keep_on_rollback)
		keep_copy(id, fitting_json(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2)));
	SPI_finish();

	return id;
}

/*
 * tf_audit_pending
 *		True when the ring contains rows of this database.
 */
bool
tf_audit_pending(void)
{
	bool		pending = false;

	if (ring == NULL || ring->used == 0)
		return false;

	LWLockAcquire(ring->lock, LW_SHARED);
	for (int i = 0; i < AUDIT_SLOTS && !pending; i++)
	{
		if (ring->slots[i].used && ring->slots[i].database == MyDatabaseId)
			pending = true;
	}
	LWLockRelease(ring->lock);
	return pending;
}

/*
 * insert_ring_row
 *		Insert one ring row in a subtransaction; false if that failed.
 *
 * A row can become impossible to insert, for example when the area code of
 * one of its numbers was closed since.  Such a row must not block the rows
 * behind it, so its error is caught and reported here.
 */
static bool
insert_ring_row(int64 id, const char *json)
{
	MemoryContext old_context = CurrentMemoryContext;
	ResourceOwner old_owner = CurrentResourceOwner;
	bool		stored = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(old_context);

	PG_TRY();
	{
		Datum		json_value = CStringGetTextDatum(json);
		Datum		id_value = Int64GetDatum(id);

		if (run_as_owner(drain_insert_plan, &json_value, NULL, false) != SPI_OK_INSERT)
			elog(ERROR, "could not insert an audit row into toll_free.requests");
		if (run_as_owner(drain_unknown_plan, &id_value, NULL, false) != SPI_OK_UPDATE)
			elog(ERROR, "could not update an audit row in toll_free.requests");

		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(old_context);
		CurrentResourceOwner = old_owner;
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(old_context);
		error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(old_context);
		CurrentResourceOwner = old_owner;

		ereport(WARNING,
				(errmsg("toll_free: could not store the audit row of request " INT64_FORMAT ": %s",
						id, error->message)));
		FreeErrorData(error);
		stored = false;
	}
	PG_END_TRY();

	return stored;
}

/*
 * drain_one
 *		Store one ring row; if it cannot be stored as it is, store it
 *		without its numbers (they stay in the row's result and arguments).
 */
static bool
drain_one(int64 id, const char *json)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		value;
	char	   *without_numbers;

	if (insert_ring_row(id, json))
		return true;

	value = CStringGetTextDatum(json);
	if (SPI_execute_with_args("SELECT (($1::pg_catalog.jsonb OPERATOR(pg_catalog.-) 'numbers') "
							  "OPERATOR(pg_catalog.||) '{\"numbers\": null}')::pg_catalog.text",
							  1, argtypes, &value, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		return false;
	without_numbers = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	return insert_ring_row(id, without_numbers);
}

/*
 * tf_audit_drain
 *		Insert the ring's rows of this database, then free their slots.
 *
 * A row is removed from the ring only after its insert succeeded.  The
 * rows are also kept as copies here, so a rollback of the draining
 * transaction puts them back into the ring.
 */
void
tf_audit_drain(void)
{
	Oid			insert_types[1] = {TEXTOID};
	Oid			unknown_types[1] = {INT8OID};
	int64		ids[AUDIT_SLOTS];
	char	   *jsons[AUDIT_SLOTS];
	int			n = 0;

	if (!tf_audit_pending())
		return;

	LWLockAcquire(ring->lock, LW_SHARED);
	for (int i = 0; i < AUDIT_SLOTS; i++)
	{
		if (ring->slots[i].used && ring->slots[i].database == MyDatabaseId)
		{
			ids[n] = ring->slots[i].id;
			jsons[n] = pstrdup(ring->slots[i].json);
			n++;
		}
	}
	LWLockRelease(ring->lock);

	SPI_connect();
	prepare_kept(&drain_insert_plan,
				 "INSERT INTO toll_free.requests OVERRIDING SYSTEM VALUE "
				 "SELECT * FROM pg_catalog.json_populate_record(NULL::toll_free.requests, $1::pg_catalog.json) "
				 "ON CONFLICT (id) DO NOTHING",
				 1, insert_types);
	prepare_kept(&drain_unknown_plan,
				 "UPDATE toll_free.requests SET state = 'unknown', "
				 "error = 'the calling transaction ended before the registry answered', "
				 "finished_at = COALESCE(finished_at, pg_catalog.clock_timestamp()) "
				 "WHERE id OPERATOR(pg_catalog.=) $1 AND state OPERATOR(pg_catalog.=) 'sending' "
				 "AND origin OPERATOR(pg_catalog.=) 'call'",
				 1, unknown_types);

	for (int i = 0; i < n; i++)
	{
		if (!drain_one(ids[i], jsons[i]))
			ereport(WARNING,
					(errmsg("toll_free: could not store the audit row of request " INT64_FORMAT "; it was dropped",
							ids[i])));
		else
			keep_copy(ids[i], jsons[i]);
	}
	SPI_finish();

	LWLockAcquire(ring->lock, LW_EXCLUSIVE);
	for (int i = 0; i < AUDIT_SLOTS; i++)
	{
		for (int j = 0; j < n; j++)
		{
			if (ring->slots[i].used && ring->slots[i].database == MyDatabaseId &&
				ring->slots[i].id == ids[j])
			{
				ring->slots[i].used = false;
				ring->used--;
				break;
			}
		}
	}
	LWLockRelease(ring->lock);
}
