# A sync interrupted by kill -9 of the worker, by an immediate shutdown of
# the server, or by DROP EXTENSION: the worker comes back (or waits, without
# a crash loop), the interrupted run is marked failed, numbers keeps its
# old contents, and the next sync completes.
use strict;
use warnings;
use Test::More;
use TollFreeTest;

$ENV{PGOPTIONS} = '-c search_path=toll_free,public';

ensure_extension();
sim_reset();
psql_value('TRUNCATE toll_free.numbers, toll_free.number_history, toll_free.sync_runs');

my @as_server = $> == 0 ? ('runuser', '-u', 'postgres', '--') : ();
my $bindir = `pg_config --bindir`;
chomp $bindir;

sub worker_pid
{
	my ($rc, $out) = psql(
		"SELECT coalesce(string_agg(pid::text, ','), '') FROM pg_stat_activity WHERE backend_type = 'toll_free worker'");
	return $rc == 0 ? $out : '';
}

sub sim_inventory
{
	return [ grep { !/^num,/ } split /\n/, admin_get('/inventory/RUC01') ];
}

sub db_inventory
{
	return [ split /\n/, psql_value(
		"SELECT concat_ws(',', number::text, status::text, status_date::text,
		                  coalesce(reserved_until::text, ''), coalesce(disconnect_until::text, ''),
		                  coalesce(last_active::text, ''))
		   FROM toll_free.numbers WHERE resporg = 'RUC01' ORDER BY number") ];
}

# Start a slow sync (each page waits 1.5 s at the simulator) and return its
# run id once the worker is past its first page.
sub start_slow_sync
{
	admin_delete('/faults');
	admin_post('/faults?path=/num/rck&kind=latency&ms=1500');
	my $run_id = psql_value("SELECT id FROM tf_sync('RUC01', page_size => 1000)");
	ok(wait_until(sub {
		psql_value("SELECT count(*) FROM toll_free.worker_status WHERE current_run_id = $run_id AND current_numbers > 0") == 1
	}, 20), "sync $run_id is under way");
	return $run_id;
}

sub finish_sync_checks
{
	my ($what, $run_id, $expected_before) = @_;

	is_deeply(db_inventory(), $expected_before, "$what: numbers kept its old contents");
	ok(wait_until(sub {
		psql_value("SELECT state FROM toll_free.sync_runs WHERE id = $run_id") eq 'failed'
	}, 20), "$what: the interrupted run is marked failed");
	admin_delete('/faults');
	is(psql_value("SELECT state FROM tf_sync('RUC01', wait => true, timeout => '1 min')"), 'done',
		"$what: the next sync is done");
	is_deeply(db_inventory(), sim_inventory(), "$what: numbers equals the simulator again");
	return;
}

# A baseline, then a change the interrupted syncs must not apply.
is(psql_value("SELECT state FROM tf_sync('RUC01', wait => true, timeout => '1 min')"), 'done', 'baseline sync');
admin_put('/number/8005550088?status=RESERVED&resporg=RUC01');
my $before = db_inventory();

# kill -9: the postmaster restarts every process, the worker included.
my $run = start_slow_sync();
my $pid = worker_pid();
kill 'KILL', $pid;
ok(wait_until(sub { my $p = worker_pid(); $p =~ /^\d+$/ && $p ne $pid }, 60),
	'kill -9: the worker is back after the crash restart');
finish_sync_checks('kill -9', $run, $before);

# Immediate shutdown, then start.
admin_put('/number/8005550089?status=RESERVED&resporg=RUC01');
$before = db_inventory();
$run = start_slow_sync();
system(@as_server, "$bindir/pg_ctl", '-D', $ENV{PGDATA}, '-s', '-m', 'immediate', '-w', 'stop') == 0
  or die "pg_ctl stop failed";
system(@as_server, "$bindir/pg_ctl", '-D', $ENV{PGDATA}, '-l', "$ENV{TOLL_FREE_SANDBOX_DIR}/postgres.log",
	'-s', '-w', '-t', '60', 'start') == 0
  or die "pg_ctl start failed";
ok(wait_until(sub { worker_pid() =~ /^\d+$/ }, 30), 'immediate shutdown: the worker is back after the start');
finish_sync_checks('immediate shutdown', $run, $before);

# DROP EXTENSION during a sync: the run fails, the worker stays and waits.
$run = start_slow_sync();
$pid = worker_pid();
my $log_before = length server_log();
psql_value('DROP EXTENSION toll_free CASCADE');
ok(wait_until(sub {
	psql_value("SELECT count(*) FROM pg_stat_activity WHERE pid = $pid AND state = 'idle'") == 1
}, 20), 'DROP EXTENSION: the worker idles');
sleep 2;
is(worker_pid(), $pid, 'DROP EXTENSION: the same worker process runs');
my $log = substr(server_log(), $log_before);
like($log, qr/inventory sync $run of RespOrg RUC01 failed/, 'DROP EXTENSION: the run failure is logged');
unlike($log, qr/toll_free worker.*(?:exited with exit code|terminated by signal)/,
	'DROP EXTENSION: no worker exit, so no crash loop');
admin_delete('/faults');
ensure_extension();
is(psql_value("SELECT state FROM tf_sync('RUC01', wait => true, timeout => '1 min')"), 'done',
	'DROP EXTENSION: a sync in the new extension is done');
is_deeply(db_inventory(), sim_inventory(), 'DROP EXTENSION: numbers equals the simulator');

sim_reset();
done_testing();
