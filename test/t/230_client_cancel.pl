# Cancel, statement_timeout and pg_terminate_backend during a stalled
# registry call: the call ends within a second with PostgreSQL's own
# error, and the connection to the registry is closed.
use strict;
use warnings;
use Test::More;
use IPC::Run ();
use Time::HiRes qw(time sleep);
use TollFreeTest;

ensure_extension();
sim_reset();

sub open_connections
{
	my ($line) = grep { /^open_connections\s/ } split /\n/, admin_get('/stats');
	return (split /\s+/, $line)[1];
}

# start_stalled($name, $sql): run $sql in a new session in the background
# and wait until it waits on the registry; returns (handle, pid, \stderr).
sub start_stalled
{
	my ($name, $sql) = @_;
	my ($out, $err) = ('', '');
	my $handle = IPC::Run::start(
		[ 'psql', '-X', '-At', '-v', 'VERBOSITY=verbose', '-c', $sql ],
		'<', '/dev/null', '>', \$out, '2>', \$err);
	my $pid;
	wait_until(sub {
		$pid = psql_value("SELECT pid FROM pg_stat_activity
			WHERE application_name = '$name' AND wait_event_type = 'Extension'");
		return $pid ne '';
	}, 10);
	return ($handle, $pid, \$err);
}

# finish_within($handle, $seconds): wait for the background psql to exit;
# returns the elapsed time, or undef if it did not exit in time.
sub finish_within
{
	my ($handle, $seconds) = @_;
	my $t0 = time;
	while (time - $t0 < $seconds)
	{
		$handle->pump_nb;
		if (!$handle->pumpable)
		{
			$handle->finish;
			return time - $t0;
		}
		sleep(0.02);
	}
	$handle->kill_kill;
	return undef;
}

admin_post('/faults?path=/num/tfn/query&kind=stall');
my $before = open_connections();

# Cancel.
my ($h, $pid, $err) = start_stalled('tf_cancel',
	"SET application_name = 'tf_cancel'; SELECT * FROM toll_free.tf_query('8005560001')");
ok($pid, 'the call is waiting on the registry (wait event Extension)');
cmp_ok(open_connections(), '>', $before, 'the stalled call holds a connection');
psql_value("SELECT pg_cancel_backend($pid)");
my $took = finish_within($h, 3);
ok(defined $took && $took < 1, 'cancel ends the call within a second') or diag("took " . ($took // 'too long'));
like($$err, qr/ERROR:\s+57014: canceling statement due to user request/, 'cancel: 57014 raised by PostgreSQL');
ok(wait_until(sub { open_connections() <= $before }, 2), 'cancel: the registry connection is closed');

# statement_timeout.
my $t0 = time;
($h, $pid, $err) = start_stalled('tf_timeout',
	"SET application_name = 'tf_timeout'; SET statement_timeout = '700ms'; SELECT * FROM toll_free.tf_query('8005560001')");
$took = finish_within($h, 5);
ok(defined $took, 'statement_timeout ends the call');
cmp_ok(time - $t0, '<', 2.5, 'statement_timeout: ended soon after 700 ms');
like($$err, qr/ERROR:\s+57014: canceling statement due to statement timeout/, 'statement_timeout: 57014');
ok(wait_until(sub { open_connections() <= $before }, 2), 'statement_timeout: the registry connection is closed');

# pg_terminate_backend.
($h, $pid, $err) = start_stalled('tf_terminate',
	"SET application_name = 'tf_terminate'; SELECT * FROM toll_free.tf_query('8005560001')");
ok($pid, 'the third call is waiting');
psql_value("SELECT pg_terminate_backend($pid)");
$took = finish_within($h, 3);
ok(defined $took && $took < 1, 'terminate ends the session within a second');
like($$err, qr/FATAL:\s+57P01: terminating connection due to administrator command/, 'terminate: 57P01');
ok(wait_until(sub { open_connections() <= $before }, 2), 'terminate: the registry connection is closed');

# Cancel during a state-changing call leaves a requests row that says unknown.
admin_delete('/faults');
admin_post('/faults?path=/num/tfn/reserve&kind=stall');
($h, $pid, $err) = start_stalled('tf_cancel_reserve',
	"SET application_name = 'tf_cancel_reserve'; SELECT * FROM toll_free.tf_reserve('8005550900', 'Jane Roe', '7325551234')");
psql_value("SELECT pg_cancel_backend($pid)");
finish_within($h, 3);
like($$err, qr/57014/, 'cancelled reserve: 57014');
admin_delete('/faults');
psql_value("SELECT count(*) FROM toll_free.tf_query('8005550901')");	# stores ring rows
is(psql_value("SELECT state FROM toll_free.requests WHERE operation = 'reserve' AND numbers = '{8005550900}'"),
	'unknown', 'the cancelled reserve has a requests row in state unknown');

# The backend that was cancelled can still call the registry.
is(psql_value("SELECT status FROM toll_free.tf_query('8005560001')"), 'WORKING', 'calls work after the faults');

done_testing();
