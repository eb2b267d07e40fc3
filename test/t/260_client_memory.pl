# Many tf_query calls in one session do not grow the backend.
#
# 50,000 calls after a warm-up of 1,000, measured from /proc/<pid>/status
# (about 20 s on 2 cores).  The bound is on the backend's private memory
# (RssAnon + RssFile): RssShmem also counts shared buffers the backend
# touches while inserting the toll_free.requests rows, which is the buffer
# cache, not a leak.  bench/client_memory.sh prints the same figures.
use strict;
use warnings;
use Test::More;
use TollFreeTest;

ensure_extension();
sim_reset();

my $calls = 50000;

psql_value("ALTER SYSTEM SET toll_free.rate_limit = 1000000; SELECT pg_reload_conf()");
sleep 1;

my $script = <<"SQL";
SELECT pg_backend_pid() AS pid \\gset
\\setenv BPID :pid
DO \$\$BEGIN FOR i IN 1..1000 LOOP PERFORM toll_free.tf_query('8005551212'); END LOOP; END\$\$;
\\! grep -E '^(RssAnon|RssFile|RssShmem|VmRSS):' /proc/\$BPID/status
DO \$\$BEGIN FOR i IN 1..$calls LOOP PERFORM toll_free.tf_query('8005551212'); END LOOP; END\$\$;
\\! grep -E '^(RssAnon|RssFile|RssShmem|VmRSS):' /proc/\$BPID/status
SQL

my ($rc, $out, $err) = psql($script);
is($rc, 0, "$calls calls in one DO block") or diag($err);

my @samples;
for my $line (split /\n/, $out)
{
	my ($name, $kb) = $line =~ /^(\w+):\s+(\d+) kB/ or next;
	push @samples, {} if $name eq 'VmRSS' || !@samples || exists $samples[-1]{$name};
	$samples[-1]{$name} = $kb;
}
is(scalar @samples, 2, 'two memory samples');
my ($before, $after) = @samples;
my $private_growth = ($after->{RssAnon} + $after->{RssFile}) - ($before->{RssAnon} + $before->{RssFile});
cmp_ok($private_growth, '<', 20 * 1024, "private memory grew by less than 20 MB ($private_growth kB)");
note("VmRSS $before->{VmRSS} -> $after->{VmRSS} kB, RssShmem $before->{RssShmem} -> $after->{RssShmem} kB");

is(psql_value("SELECT count(*) >= $calls FROM toll_free.requests WHERE operation = 'query'"), 't',
	'every call has its requests row');

psql_value("ALTER SYSTEM RESET toll_free.rate_limit; SELECT pg_reload_conf()");

done_testing();
