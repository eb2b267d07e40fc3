# The sandbox harness itself: two sandboxes side by side, and nothing left
# behind after an interrupt.
#
# Runs nested sandboxes from inside the suite's own sandbox.  Each nested one
# has its own simulator, cluster and temporary directory on free ports.
use strict;
use warnings;
use Test::More;
use IPC::Run qw(start finish);
use TollFreeTest;

my $sandbox = 'test/sandbox';

# Each nested sandbox prints its directory and ports, then runs a query
# against its own cluster and simulator.
my $probe = q{echo "$TOLL_FREE_SANDBOX_DIR $PGPORT"; }
  . q{psql -X -A -t -c "SELECT 'db ok'"; }
  . q{curl -sS --cacert "$TOLL_FREE_SIM_CA" -o /dev/null -w 'sim %{http_code}\n' }
  . q{-X POST "$TOLL_FREE_SIM_URL/sec/session/open" -d '<sessionOpen/>'};

my @runs;
for my $i (1 .. 2)
{
	my ($out, $err) = ('', '');
	my $h = start([ $sandbox, '--', 'bash', '-c', "sleep 2; $probe" ],
		'>', \$out, '2>', \$err);
	push @runs, { h => $h, out => \$out, err => \$err };
}

my (%dirs, %ports);
for my $i (0 .. 1)
{
	my $run = $runs[$i];
	ok(finish($run->{h}), "sandbox " . ($i + 1) . " exits 0")
	  or diag(${ $run->{err} });
	my ($dir, $port) = ${ $run->{out} } =~ /^(\S+) (\d+)$/m;
	like(${ $run->{out} }, qr/^db ok$/m, "sandbox " . ($i + 1) . ": its cluster answers");
	like(${ $run->{out} }, qr/^sim \d{3}$/m, "sandbox " . ($i + 1) . ": its simulator answers");
	$dirs{ $dir // "missing$i" } = 1;
	$ports{ $port // "missing$i" } = 1;
	ok(defined $dir && !-e $dir, "sandbox " . ($i + 1) . ": temporary directory removed");
}
is(scalar(keys %dirs), 2, 'the two sandboxes used different directories');
is(scalar(keys %ports), 2, 'the two sandboxes used different ports');

# Ctrl-C: SIGINT to the sandbox while its command runs.
my ($out, $err) = ('', '');
# A shell cannot trap a signal that was ignored when it started, and a
# command run in the background by a script starts with SIGINT ignored, so
# the child gets the default disposition back before it runs the sandbox.
my $h = start([ $sandbox, '--', 'bash', '-c', 'echo "$TOLL_FREE_SANDBOX_DIR $PGPORT"; sleep 300' ],
	init => sub { $SIG{INT} = 'DEFAULT'; },
	'>', \$out, '2>', \$err);
ok(wait_until(sub { $h->pump_nb; $out =~ /^\S+ \d+$/m }, 120), 'interrupted sandbox started');
my ($dir, $port) = $out =~ /^(\S+) (\d+)$/m;
$h->signal('INT');
eval { finish($h); };
ok(!-e $dir, 'interrupt: temporary directory removed');
my $leftover = '';
IPC::Run::run([ 'pgrep', '-f', '--', $dir ], '>', \$leftover);
is($leftover, '', 'interrupt: no process of the sandbox is left');
my $listening = `ss -Hltn 'sport = :$port' 2>/dev/null`;
is($listening, '', 'interrupt: the cluster port is free again');

done_testing();
