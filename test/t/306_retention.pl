# History retention: tf_purge_history() deletes, in batches, the rows of
# synchronous calls, number_history and sync_runs that are older than a
# given age or toll_free.history_retention.  It keeps queued requests, call
# rows without a final outcome and each RespOrg's last finished sync run.
# The worker runs the same deletion after a reload and drains a backlog of
# more than one batch.  The queue's own retention deletes finished queued
# requests but keeps those whose outcome is unknown.
use strict;
use warnings;
use Test::More;
use TollFreeTest;

$ENV{PGOPTIONS} = '-c search_path=toll_free,public';

ensure_extension();
psql_value('TRUNCATE toll_free.requests, toll_free.number_history, toll_free.sync_runs');

# insert_history($days): rows of every kind, $days old; returns nothing.
# Requests: done and failed calls (deletable), an unknown call and a done
# queued request (kept).  Sync runs of RUC01: done, failed, done (the last
# is kept); RUC02: one failed run (kept, its last); RUC03: a running run.
sub insert_history
{
	my ($days) = @_;
	my $at = "now() - interval '$days days'";
	psql_value(qq{
		INSERT INTO requests (operation, state, origin, created_at, finished_at) VALUES
			('query', 'done', 'call', $at, $at),
			('search', 'failed', 'call', $at, $at),
			('reserve', 'unknown', 'call', $at, $at),
			('reserve', 'done', 'queue', $at, $at);
		INSERT INTO number_history (number, changed_at, source, new_status) VALUES
			('8005551212', $at, 'call', 'RESERVED'),
			('8005551213', $at, 'sync', 'WORKING');
		INSERT INTO sync_runs (resporg, origin, started_at, finished_at, state) VALUES
			('RUC01', 'schedule', $at - interval '2 days', $at - interval '2 days', 'done'),
			('RUC01', 'schedule', $at - interval '1 day', $at - interval '1 day', 'failed'),
			('RUC01', 'schedule', $at, $at, 'done'),
			('RUC02', 'schedule', $at, $at, 'failed'),
			('RUC03', 'request', $at, NULL, 'running');
	});
	return;
}

# purge($args): the rows tf_purge_history($args) deleted, as "relation=n,...".
sub purge
{
	my ($args) = @_;
	return psql_value("SELECT string_agg(relation || '=' || deleted, ',') FROM tf_purge_history($args)");
}

sub kept_requests
{
	return psql_value("SELECT string_agg(operation || '/' || state || '/' || origin, ',' ORDER BY id) FROM requests");
}

sub kept_sync_runs
{
	return psql_value("SELECT string_agg(resporg || '/' || state, ',' ORDER BY id) FROM sync_runs");
}

# Keep the worker out of the first part: with the retention off it deletes
# nothing, and the reload is taken before the rows exist.
set_and_reload("ALTER SYSTEM SET toll_free.history_retention = 0");
sleep 2;

insert_history(400);
insert_history(10);

# Retention off and no age given: nothing is deleted.
is(purge(''), 'requests=0,number_history=0,sync_runs=0', 'retention 0 deletes nothing');
is(psql_value('SELECT count(*) FROM requests'), 8, 'all requests rows remain');

# Bad arguments raise 22023 and delete nothing.
psql_fails("SELECT * FROM tf_purge_history('-1 day')", '22023', 'negative age');
psql_fails("SELECT * FROM tf_purge_history('0 s')", '22023', 'zero age');
psql_fails("SELECT * FROM tf_purge_history('30 days', 0)", '22023', 'batch size 0');
psql_fails("SELECT * FROM tf_purge_history('30 days', NULL)", '22023', 'batch size NULL');
is(psql_value('SELECT count(*) FROM requests') . '/' . psql_value('SELECT count(*) FROM sync_runs'),
	'8/10', 'failed calls deleted nothing');

# A batch of one deletes at most one row of each table.
is(purge("'300 days', 1"), 'requests=1,number_history=1,sync_runs=1', 'batch of one');

# The rest of the 400-day-old rows, then nothing more at that age.
is(purge("'300 days'"), 'requests=1,number_history=1,sync_runs=3', 'second batch');
is(purge("'300 days'"), 'requests=0,number_history=0,sync_runs=0', 'nothing left at 300 days');
is(kept_requests(),
	'reserve/unknown/call,reserve/done/queue,query/done/call,search/failed/call,reserve/unknown/call,reserve/done/queue',
	'unknown calls and queued requests are kept');
is(kept_sync_runs(), 'RUC03/running,RUC01/done,RUC01/failed,RUC01/done,RUC02/failed,RUC03/running',
	'old finished runs go when a later run replaces them');

# The 10-day-old rows at a shorter age: each RespOrg keeps its last run.
is(purge("'1 day'"), 'requests=2,number_history=2,sync_runs=2', 'deleted at 1 day');
is(kept_sync_runs(), 'RUC03/running,RUC01/done,RUC02/failed,RUC03/running',
	'each RespOrg keeps its last finished run');
is(psql_value("SELECT count(*) FROM number_history"), 0, 'number_history is empty');

# The worker: after a reload with a retention of 300 days it deletes the
# 400-day-old rows, 25,000 history rows among them, in more than one batch.
psql_value('TRUNCATE requests, number_history, sync_runs');
insert_history(400);
insert_history(10);
psql_value(q{
	INSERT INTO number_history (number, changed_at, source, new_status)
	SELECT '8005551212', now() - interval '400 days', 'sync', 'WORKING'
	FROM generate_series(1, 25000)});
set_and_reload("ALTER SYSTEM SET toll_free.history_retention = '300d'");
ok(wait_until(sub { psql_value("SELECT count(*) FROM number_history") == 2 }, 60),
	'the worker deletes 25,002 old history rows');
ok(wait_until(sub { psql_value("SELECT count(*) FROM requests") == 6 }, 10),
	'the worker deletes the old done and failed calls');
is(psql_value("SELECT count(*) FROM sync_runs"), 6, 'the worker deletes four old sync runs');
like(server_log(), qr/toll_free worker deleted history older than .*\n.*Rows deleted: 2 of requests, 25002 of number_history, 4 of sync_runs/,
	'the worker logs what it deleted');

# Queued requests follow toll_free.queue_retention (7 days): the worker
# deletes finished ones when it next processes the queue, and keeps those
# whose outcome is unknown.  A new worker purges at its first queue work.
psql_value('TRUNCATE requests');
psql_value(q{
	INSERT INTO requests (operation, numbers, state, origin, created_at, finished_at) VALUES
		('reserve', '{8005550401}', 'done', 'queue', now() - interval '8 days', now() - interval '8 days'),
		('spare', '{8005550402}', 'failed', 'queue', now() - interval '8 days', now() - interval '8 days'),
		('reserve', '{8005550403}', 'unknown', 'queue', now() - interval '8 days', now() - interval '8 days'),
		('reserve', '{8005550404}', 'done', 'queue', now() - interval '1 hour', now() - interval '1 hour')});
my $worker_pid = sub {
	psql_value("SELECT coalesce(string_agg(pid::text, ','), '') FROM pg_stat_activity
	            WHERE backend_type = 'toll_free worker'");
};
my $old_pid = $worker_pid->();
psql_value('SELECT toll_free.tf_worker_restart()');
ok(wait_until(sub { my $pid = $worker_pid->(); $pid =~ /^\d+$/ && $pid ne $old_pid }, 30),
	'a new worker runs');
my $queued = psql_value(q{SELECT toll_free.tf_enqueue('reserve', '8005550405',
	'{"contact_name": "Retention Test", "contact_phone": "7325559876"}')});
ok(wait_until(sub { psql_value("SELECT count(*) FROM requests WHERE numbers <@ '{8005550401,8005550402}'") == 0 }, 30),
	'finished queued requests past queue_retention are deleted');
is(psql_value("SELECT string_agg(numbers::text || '/' || state, ',' ORDER BY id) FROM requests WHERE id <> $queued"),
	'{8005550403}/unknown,{8005550404}/done', 'unknown and recent queued requests stay');
like(server_log(), qr/toll_free worker deleted 2 finished queued requests/, 'the worker logs the queue purge');

# Clean up for the tests that follow.
set_and_reload('ALTER SYSTEM RESET toll_free.history_retention');
psql_value('TRUNCATE requests, number_history, sync_runs');

done_testing();
