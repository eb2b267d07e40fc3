# Crash recovery: kill -9 of a backend during a call, of the worker during
# a sync and during a queue batch, and an immediate shutdown during a queue
# batch.  After each, the simulator's request log must show that no
# state-changing request was sent twice, every queued request must finish,
# and the inventory must be whole (as before the sync, or as the registry
# has it, never partly applied).
use strict;
use warnings;
use Test::More;
use TollFreeTest;
use IPC::Run ();
use Time::HiRes qw(sleep time);

my $sandbox = $ENV{TOLL_FREE_SANDBOX_DIR};
my $bindir = `pg_config --bindir`;
chomp $bindir;

ensure_extension();
sim_reset();
psql_value('TRUNCATE toll_free.numbers, toll_free.number_history, toll_free.sync_runs');
my $log_offset = -s "$sandbox/postgres.log";

sub as_server
{
	my @cmd = @_;
	unshift @cmd, 'runuser', '-u', 'postgres', '--' if $> == 0;
	my ($out, $err) = ('', '');
	IPC::Run::run(\@cmd, '>', \$out, '2>', \$err);
	return ($? >> 8, $out . $err);
}

sub server_up
{
	return wait_until(sub { (psql('SELECT 1'))[0] == 0 }, 60);
}

sub worker_pid
{
	my $pid = '';
	wait_until(sub {
		$pid = psql_value("SELECT coalesce(pid::text, '') FROM toll_free.worker_status");
		$pid ne '' && $pid > 0;
	}, 30);
	return $pid;
}

# Reserve POSTs per number in the simulator's request log since $since,
# leaving out answers that say nothing was done (401 expired session, 429
# throttled): the client may send those again.
sub reserves_per_number
{
	my ($since) = @_;
	my %count;
	for my $row (sim_requests(since => $since, path => '/num/tfn/reserve', method => 'POST'))
	{
		next if $row->{status} =~ /^(401|429)$/;
		$count{$1}++ while $row->{body} =~ /<num>(\d{10})<\/num>/g;
	}
	return \%count;
}

sub last_seq
{
	my @rows = sim_requests();
	return @rows ? $rows[-1]{seq} : 0;
}

# Queue reservations of $count numbers from $first and return their ids.
sub enqueue_reserves
{
	my ($first, $count) = @_;
	my $sql = "BEGIN;\n";
	$sql .= sprintf("SELECT toll_free.tf_enqueue('reserve', '%d', "
		  . "'{\"contact_name\": \"Crash Test\", \"contact_phone\": \"7325550100\"}');\n",
		$first + $_) for 0 .. $count - 1;
	$sql .= "COMMIT;\n";
	return split /\n/, psql_value($sql);
}

# Wait until every queued id has finished; returns the states.
sub wait_finished
{
	my (@ids) = @_;
	my $list = join ',', @ids;
	my $states = '';
	wait_until(sub {
		$states = psql_value("SELECT string_agg(state, ',' ORDER BY id) FROM toll_free.requests
			WHERE id IN ($list) AND finished_at IS NOT NULL");
		scalar(split /,/, $states) == @ids;
	}, 90);
	return split /,/, $states;
}

# Check a batch after a crash: every request finished, each number was sent
# at most once, and what the queue says matches the registry.
sub check_batch
{
	my ($label, $first, $since, @ids) = @_;
	my @states = wait_finished(@ids);
	is(scalar @states, scalar @ids, "$label: every queued request finished");
	my $sent = reserves_per_number($since);
	my @twice = grep { $sent->{$_} > 1 } sort keys %$sent;
	is_deeply(\@twice, [], "$label: no reservation was sent twice");
	my $done = psql_value("SELECT count(*) FROM toll_free.requests
		WHERE id IN (" . join(',', @ids) . ") AND state = 'done'");
	my $reserved = grep {
		admin_get("/number/$_") =~ m{<status>RESERVED</status>}
	} map { $first + $_ } 0 .. $#ids;
	is($done, $reserved, "$label: requests done ($done) match numbers reserved at the registry");
	cmp_ok($reserved, '>=', 1, "$label: the batch made progress");
	return;
}

# 1. kill -9 of a backend while its reservation waits at the registry.  A
# query first opens the registry session, so the reservation is the only
# request in flight.
psql_value("SELECT toll_free.tf_query('8005560001')");
my $since = last_seq();
admin_post('/faults?path=/num/tfn/reserve&kind=latency&ms=1500');
my $call = IPC::Run::start([ 'psql', '-X', '-q', '-c',
	"SELECT toll_free.tf_reserve('8005550801', 'Crash Test', '7325550100')" ],
	'>', \my $call_out, '2>', \my $call_err);
my $backend = '';
wait_until(sub {
	$backend = psql_value("SELECT coalesce(max(pid)::text, '') FROM pg_stat_activity WHERE query LIKE '%tf_reserve(''8005550801''%' AND pid <> pg_backend_pid()");
	$backend ne '';
}, 10);
ok($backend, 'the reserving backend is running');
sleep 0.3;
kill 'KILL', $backend;
$call->finish;
ok(server_up(), 'the server is back after kill -9 of a backend');
admin_delete('/faults');
ok(wait_until(sub { reserves_per_number($since)->{8005550801} }, 5),
	'the reservation reached the registry');
is(reserves_per_number($since)->{8005550801}, 1, 'the reservation was sent once');
psql_ok("SELECT toll_free.tf_query('8005550801')", 'calls work after the crash');
is(psql_value("SELECT count(*) FROM toll_free.requests WHERE state = 'sending' AND origin = 'call'"), 0,
	'no synchronous request is left in state sending');

# 2. kill -9 of the worker in the middle of a sync.
my $digest_sql = q{SELECT count(*) || ' ' || coalesce(md5(string_agg(number::text || status::text, ',' ORDER BY number)), '')
	FROM toll_free.numbers WHERE resporg = 'RUC01'};
my $before = psql_value($digest_sql);
admin_post('/faults?path=/num/rck/&kind=latency&ms=800');
my $run = psql_value("SELECT id FROM toll_free.tf_sync('RUC01', page_size => 500)");
my $worker = worker_pid();
ok(wait_until(sub {
	psql_value("SELECT state FROM toll_free.sync_runs WHERE id = $run") eq 'running'
}, 20), 'the sync is running');
sleep 1.0;
kill 'KILL', $worker;
ok(server_up(), 'the server is back after kill -9 of the worker');
admin_delete('/faults');
my $after = psql_value($digest_sql);
my $registry_count = grep { /^\d{10},/ } split /\n/, admin_get('/inventory/RUC01');
ok($after eq $before || (split / /, $after)[0] == $registry_count,
	'the inventory is as before the sync or as the registry has it')
  or diag("before: $before, after: $after, registry: $registry_count numbers");
isnt(worker_pid(), $worker, 'the worker came back');
my $state = psql_value("SELECT state FROM toll_free.sync_runs WHERE id = $run");
isnt($state, 'running', "the interrupted sync run is not left running (state $state)");

# 3. kill -9 of the worker during a queue batch.
$since = last_seq();
admin_post('/faults?path=/num/tfn/reserve&kind=latency&ms=300');
my @ids = enqueue_reserves(8005550810, 12);
is(scalar @ids, 12, 'twelve reservations were queued');
ok(wait_until(sub {
	psql_value("SELECT count(*) FROM toll_free.requests WHERE id IN (" . join(',', @ids) . ")
		AND finished_at IS NOT NULL") >= 2 }, 30), 'the worker is working through the batch');
kill 'KILL', worker_pid();
ok(server_up(), 'the server is back after kill -9 of the worker during a batch');
check_batch('worker killed', 8005550810, $since, @ids);
admin_delete('/faults');

# 4. Immediate shutdown during a queue batch.
$since = last_seq();
admin_post('/faults?path=/num/tfn/reserve&kind=latency&ms=300');
@ids = enqueue_reserves(8005550830, 12);
ok(wait_until(sub {
	psql_value("SELECT count(*) FROM toll_free.requests WHERE id IN (" . join(',', @ids) . ")
		AND finished_at IS NOT NULL") >= 2 }, 30), 'the worker is working through the second batch');
my ($rc, $out) = as_server("$bindir/pg_ctl", '-D', $ENV{PGDATA}, '-m', 'immediate', 'stop');
is($rc, 0, 'immediate shutdown') or diag($out);
($rc, $out) = as_server("$bindir/pg_ctl", '-D', $ENV{PGDATA}, '-l', "$sandbox/postgres.log",
	'-w', '-t', '60', 'start');
is($rc, 0, 'the server starts again') or diag($out);
check_batch('immediate shutdown', 8005550830, $since, @ids);
admin_delete('/faults');

# No crash other than the ones this test caused.
open my $fh, '<', "$sandbox/postgres.log" or die "postgres.log: $!";
seek $fh, $log_offset, 0;
my $log = do { local $/; <$fh> };
my @signals = $log =~ /terminated by signal (\d+)/g;
is_deeply([ grep { $_ != 9 } @signals ], [], 'no process died of a signal other than SIGKILL');

done_testing();
