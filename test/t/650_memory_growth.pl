# Memory growth: repeated failures must not leave memory behind.
#
# The worker runs syncs that fail on page 2 (malformed XML), and one session
# makes calls that fail in every way the transport and the parser can fail.
# After a warm-up round, further rounds may not grow the private memory
# (RssAnon) of the worker or the backend by more than a small allowance, and
# the worker's memory contexts may not keep an orphaned RespOrg check.
use strict;
use warnings;
use Test::More;
use TollFreeTest;
use IPC::Run ();
use Time::HiRes qw(sleep);

my $sandbox = $ENV{TOLL_FREE_SANDBOX_DIR};

ensure_extension();
sim_reset();

# Allowance for allocator noise, in kB.  NOTE: an estimate; a leak of a
# RespOrg check page (about 300 kB a failed sync) or of 10 kB a failed
# call exceeds it within the rounds below.
my $allowance_kb = 1024;

sub rss_anon_kb
{
	my ($pid) = @_;
	open my $fh, '<', "/proc/$pid/status" or die "status of $pid: $!";
	while (<$fh>)
	{
		return $1 if /^RssAnon:\s+(\d+)/;
	}
	return 0;
}

# Failed syncs: page 2 of each is malformed.
sub failing_syncs
{
	my ($count) = @_;
	for (1 .. $count)
	{
		admin_post('/faults?path=/num/rck/&kind=malformed&page=2');
		my $state = psql_value("SELECT state || ' ' || coalesce(sqlstate, '')
			FROM toll_free.tf_sync('RUC02', wait => true, timeout => '60 s', page_size => 1000)");
		admin_delete('/faults');
		die "the sync did not fail as set up: $state" unless $state eq 'failed 2200M';
	}
	return;
}

failing_syncs(3);
my $worker = psql_value('SELECT pid FROM toll_free.worker_status');
my $before = rss_anon_kb($worker);
failing_syncs(12);
is(psql_value('SELECT pid FROM toll_free.worker_status'), $worker, 'the same worker ran every sync');
my $growth = rss_anon_kb($worker) - $before;
cmp_ok($growth, '<', $allowance_kb, "twelve failed syncs leave the worker's memory flat (grew $growth kB)");

my $offset = -s "$sandbox/postgres.log";
psql_value("SELECT pg_log_backend_memory_contexts($worker)");
my $contexts = '';
wait_until(sub {
	open my $fh, '<', "$sandbox/postgres.log" or return 0;
	seek $fh, $offset, 0;
	local $/;
	$contexts = <$fh>;
	$contexts =~ /Grand total/;
}, 10);
like($contexts, qr/Grand total/, 'the worker logged its memory contexts');
unlike($contexts, qr/level: 1; RespOrg check/, 'no RespOrg check is left under TopMemoryContext');

# Failed calls in one long session: each fault kind in turn, many rounds.
my @faults = qw(kind=malformed kind=reset_before kind=truncate kind=status&status=503
  kind=invalid_utf8 kind=dtd);
my $script = "SET toll_free.timeout = 2000;\n\\set ON_ERROR_STOP 0\nSELECT pg_backend_pid();\n";
my $session = IPC::Run::start([ 'psql', '-X', '-q', '-A', '-t' ],
	'<', \my $in, '>', \my $out, '2>', \my $err);
$in = $script;
$session->pump until $out =~ /^(\d+)$/m;
my $backend = $1;

sub failing_calls
{
	my ($rounds) = @_;
	for my $round (1 .. $rounds)
	{
		for my $fault (@faults)
		{
			admin_post("/faults?path=/num/tfn/query&$fault");
			$err = '';
			$in .= "SELECT toll_free.tf_query('8005560001');\n";
			$session->pump until $err =~ /ERROR/;
			admin_delete('/faults');
		}
	}
	return;
}

failing_calls(3);
$before = rss_anon_kb($backend);
failing_calls(15);
$growth = rss_anon_kb($backend) - $before;
cmp_ok($growth, '<', $allowance_kb, "90 failed calls leave the backend's memory flat (grew $growth kB)");
$in .= "\\q\n";
$session->finish;

done_testing();
