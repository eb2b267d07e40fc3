# The background worker: visible in pg_stat_activity and worker_status,
# silent while idle, reloads its settings on SIGHUP, comes back after
# pg_terminate_backend and tf_worker_restart(), never holds up DROP
# DATABASE, and waits quietly while the extension is absent.
use strict;
use warnings;
use IPC::Run ();
use Test::More;
use TollFreeTest;

$ENV{PGOPTIONS} = '-c search_path=toll_free,public';

ensure_extension();
sim_reset();
psql_value('TRUNCATE toll_free.numbers, toll_free.number_history, toll_free.sync_runs');

sub worker_pid
{
	return psql_value(
		"SELECT coalesce(string_agg(pid::text, ','), '') FROM pg_stat_activity WHERE backend_type = 'toll_free worker'");
}

# Visible as one process with its own backend type.
ok(wait_until(sub { worker_pid() =~ /^\d+$/ }, 30), 'one worker runs');
my $pid = worker_pid();
is(psql_value("SELECT application_name FROM pg_stat_activity WHERE pid = $pid"), 'toll_free worker',
	'application_name names the worker');
is(psql_value('SELECT pid FROM toll_free.worker_status'), $pid, 'worker_status shows its pid');
ok(wait_until(sub { psql_value('SELECT state FROM toll_free.worker_status') eq 'idle' }, 10),
	'worker_status shows it idle');
is(psql_value("SELECT database FROM toll_free.worker_status"), 'toll_free', 'worker_status names its database');

# Idle means no statements: with autovacuum off and the request queue's
# safety poll an hour away, no transaction commits in the worker's database
# while it sleeps (this test queries from "postgres").
set_and_reload("ALTER SYSTEM SET autovacuum = off; ALTER SYSTEM SET toll_free.queue_poll_interval = '1h'");
ok(wait_until(sub {
	psql_value("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'", db => 'postgres') == 0
}, 60), 'no autovacuum worker runs');

# The queue's poll that was due under the old 10-second interval runs first.
sleep 11;
my $xacts = sub {
	psql_value("SELECT pg_stat_force_next_flush(); SELECT xact_commit FROM pg_stat_database WHERE datname = 'toll_free'",
		db => 'postgres');
};
my $state_change = psql_value("SELECT state_change FROM pg_stat_activity WHERE pid = $pid", db => 'postgres');
my $commits_before = $xacts->();
sleep 4;
is($xacts->(), $commits_before, 'an idle worker commits no transaction');
is(psql_value("SELECT state_change FROM pg_stat_activity WHERE pid = $pid", db => 'postgres'), $state_change,
	'an idle worker reports no activity');
set_and_reload('ALTER SYSTEM RESET autovacuum; ALTER SYSTEM RESET toll_free.queue_poll_interval');

# SIGHUP: new sync targets are synced on schedule, an invalid entry is skipped.
set_and_reload("ALTER SYSTEM SET toll_free.sync_targets = 'ruc02, BAD!, RUC02'");
ok(wait_until(sub {
	psql_value("SELECT count(*) FROM toll_free.sync_runs WHERE resporg = 'RUC02' AND origin = 'schedule' AND state = 'done'") == 1
}, 30), 'after a reload the new target is synced on schedule');
like(server_log(), qr/invalid RespOrg ID "BAD!" in toll_free.sync_targets/, 'the invalid target is reported');
ok(wait_until(sub { psql_value('SELECT next_sync_resporg FROM toll_free.worker_status') eq 'RUC02' }, 10),
	'worker_status names the next target');
cmp_ok(psql_value("SELECT extract(epoch FROM next_sync_at - now())::int FROM toll_free.worker_status"),
	'>', 3000, 'the next sync is an interval (one hour) away');
is(worker_pid(), $pid, 'the reload did not restart the worker');
set_and_reload('ALTER SYSTEM RESET toll_free.sync_targets');

# DROP DATABASE waits for every process to absorb a barrier; the sleeping
# worker must not hold it up.
psql_value('CREATE DATABASE toll_free_barrier_test', db => 'postgres');
my ($out, $err) = ('', '');
my $ok = eval {
	IPC::Run::run([ 'psql', '-X', '-d', 'postgres', '-c', 'DROP DATABASE toll_free_barrier_test' ],
		'>', \$out, '2>', \$err, IPC::Run::timeout(20));
};
ok($ok, 'DROP DATABASE finishes while the worker sleeps') or diag("$@ $err");
is(worker_pid(), $pid, 'the worker absorbed the barrier without restarting');

# pg_terminate_backend: the worker comes back, and a sync works.
my $restarts = psql_value('SELECT restarts FROM toll_free.worker_status');
psql_value("SELECT pg_terminate_backend($pid)");
ok(wait_until(sub { my $p = worker_pid(); $p =~ /^\d+$/ && $p ne $pid }, 20),
	'the worker is back after pg_terminate_backend');
my $new_pid = worker_pid();
is(psql_value('SELECT restarts FROM toll_free.worker_status'), $restarts + 1, 'worker_status counts the restart');
is(psql_value("SELECT state FROM tf_sync('RUC01', wait => true, timeout => '1 min')"), 'done',
	'a sync after the restart is done');

# tf_worker_restart(): the same, as an SQL function.
is(psql_value('SELECT tf_worker_restart()'), 't', 'tf_worker_restart signals the worker');
ok(wait_until(sub { my $p = worker_pid(); $p =~ /^\d+$/ && $p ne $new_pid }, 20),
	'the worker is back after tf_worker_restart');
is(psql_value("SELECT state FROM tf_sync('RUC01', wait => true, timeout => '1 min')"), 'done',
	'a sync after tf_worker_restart is done');

# Without the extension the worker waits quietly, and finds it again at once.
$pid = worker_pid();
psql_value('DROP EXTENSION toll_free CASCADE');
ok(wait_until(sub {
	psql_value("SELECT count(*) FROM pg_stat_activity WHERE pid = $pid AND state = 'idle'") == 1
}, 10), 'the worker idles without the extension');
sleep 1;
is(worker_pid(), $pid, 'the worker did not exit without the extension');
my $log_before = length server_log();
psql_value('CREATE EXTENSION toll_free');
ok(wait_until(sub { substr(server_log(), $log_before) =~ /toll_free worker found the extension/ }, 5),
	'the worker finds the new extension within seconds');
is(psql_value("SELECT state FROM tf_sync('RUC01', wait => true, timeout => '1 min')"), 'done',
	'a sync in the new extension is done');
unlike(substr(server_log(), $log_before), qr/toll_free worker.*(?:FATAL|terminated by signal)/,
	'no worker crash meanwhile');

sim_reset();
done_testing();
