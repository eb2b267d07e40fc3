# Request queue under faults: a batch of queued reserves with 10% injected
# faults (registry carries out the reserve and resets the connection, or
# answers 503 without acting), three kill -9 of the worker and one immediate
# shutdown of the server.  Every request must end done or failed with a
# reason, none lost, and none carried out twice at the registry (judged by
# the simulator's request log).
#
# The suite runs 200 requests; TOLL_FREE_QUEUE_BATCH sets another size.  The
# simulator's entity reservation limit (2000 by default) must allow the batch:
#   TOLL_FREE_SIM_OPTIONS="--res-limit 20000" TOLL_FREE_QUEUE_BATCH=10000 \
#     test/sandbox -- prove -I test/t/lib test/t/520_queue_faults.pl
use strict;
use warnings;
use Test::More;
use TollFreeTest;

my $batch = $ENV{TOLL_FREE_QUEUE_BATCH} // 200;
my $server = ($> == 0) ? 'runuser -u postgres -- ' : '';

ensure_extension();
sim_reset();
psql_value(q{ALTER SYSTEM SET toll_free.queue_poll_interval = '1s'});
psql_value(q{ALTER SYSTEM SET toll_free.queue_max_in_flight = 8});
psql_value(q{ALTER SYSTEM SET toll_free.queue_max_attempts = 10});
# 20 requests a second, so that the kills below land while work is going on.
psql_value(q{ALTER SYSTEM SET toll_free.rate_limit = 1200});
psql_value('SELECT pg_reload_conf()');

# Numbers 8005550000-8005550999 are spare at seed time; larger batches use
# the 833 NPA and skip the few numbers there that the seeded RespOrgs hold.
# A reserve of a held number is refused, and a refused reserve that meets
# the reset fault is logged with status 0 like a carried-out one, so held
# numbers would blur the judge below.
my %held;
for my $resporg (qw(RUC01 RUC02 ABC01 XYZ01))
{
	for my $line (split /\n/, admin_get("/inventory/$resporg"))
	{
		$held{$1} = 1 if $line =~ /^(\d{10}),/;
	}
}
my @numbers;
for (my $i = 0; @numbers < $batch; $i++)
{
	my $number = $i < 1000 ? sprintf('800555%04d', $i) : sprintf('83355%05d', $i);
	push @numbers, $number unless $held{$number};
}
note(scalar(grep { $held{$_} } map { sprintf('83355%05d', $_) } 1000 .. 99999)
	  . ' numbers held at seed time skipped in 8335501000-8335599999') if $batch > 1000;

admin_post('/faults?path=/num/tfn/reserve&kind=reset_after&probability=0.05');
admin_post('/faults?path=/num/tfn/reserve&kind=status&status=503&probability=0.05');

psql_value(q{CREATE TABLE batch (number toll_free.tfn PRIMARY KEY, request_id bigint)});
psql_value(q{INSERT INTO batch (number, request_id)
	SELECT n, toll_free.tf_enqueue('reserve', n,
		'{"contact_name": "Queue Test", "contact_phone": "7325551234"}') FROM pg_catalog.unnest($$}
	  . '{' . join(',', @numbers) . '}' . q{$$::toll_free.tfn[]) n});
is(psql_value('SELECT count(*) FROM batch'), $batch, "$batch requests enqueued");

sub worker_pid
{
	my ($rc, $out) = psql(q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'toll_free worker'});
	return $rc == 0 && $out =~ /^(\d+)$/ ? $1 : undef;
}

sub finished_count
{
	my ($rc, $out) = psql(q{SELECT count(*) FROM toll_free.requests r JOIN batch b ON b.request_id = r.id
		WHERE r.finished_at IS NOT NULL});
	return $rc == 0 ? $out : -1;
}

# Kill the worker three times while it works, each time once some more
# requests finished since the last kill.
for my $kill (1 .. 3)
{
	my $target = int($batch * $kill / 5);
	wait_until(sub { finished_count() >= $target }, 60);
	my $pid;
	ok(wait_until(sub { $pid = worker_pid() }, 60), "worker running before kill $kill");
	note('finished before kill ' . $kill . ': ' . finished_count());
	ok(kill('KILL', $pid), "kill -9 of the worker ($kill)") if $pid;
	# The postmaster resets the cluster after a child crash.
	sleep 1;
	wait_until(sub { (psql('SELECT 1'))[0] == 0 }, 60);
}

# One immediate shutdown in the middle of the work.
wait_until(sub { finished_count() >= int($batch * 4 / 5) }, 60);
system("${server}pg_ctl -D $ENV{PGDATA} -m immediate stop >/dev/null") == 0
  or die "immediate shutdown failed";
system("${server}pg_ctl -D $ENV{PGDATA} -w -l $ENV{TOLL_FREE_SANDBOX_DIR}/postgres.log start >/dev/null") == 0
  or die "restart after immediate shutdown failed";
ok(wait_until(sub { (psql('SELECT 1'))[0] == 0 }, 60), 'server back after immediate shutdown');

ok(wait_until(sub { finished_count() == $batch }, 240 + $batch / 10),
	'every queued request finished');
admin_delete('/faults');

my $states = psql_value(q{SELECT state || ':' || count(*) FROM toll_free.requests r
	JOIN batch b ON b.request_id = r.id GROUP BY state ORDER BY state});
note("final states: $states");
note('failed: ' . psql_value(q{SELECT string_agg(error || ' (' || coalesce(sqlstate, '-') || ', ' || count || ')', '; ')
	FROM (SELECT error, sqlstate, count(*) FROM toll_free.requests r JOIN batch b ON b.request_id = r.id
		WHERE r.state = 'failed' GROUP BY error, sqlstate) f}));
is(psql_value(q{SELECT count(*) FROM toll_free.requests r JOIN batch b ON b.request_id = r.id}),
	$batch, 'no request lost');
is(psql_value(q{SELECT count(*) FROM toll_free.requests r JOIN batch b ON b.request_id = r.id
	WHERE r.state NOT IN ('done', 'failed')}), '0', 'every request done or failed');
is(psql_value(q{SELECT count(*) FROM toll_free.requests r JOIN batch b ON b.request_id = r.id
	WHERE r.state = 'failed' AND (r.error IS NULL OR r.error = '')}), '0', 'every failure has a reason');

# The judge: the simulator's log of reserve requests.  A reserve the
# registry carried out shows as status 200, or as status 0 when the reset
# fault cut the connection after the operation; a 503 did nothing.
my %carried_out;
for my $r (sim_requests(path => '/num/tfn/reserve', method => 'POST'))
{
	my ($num) = $r->{body} =~ /<num>(\d{10})<\/num>/;
	next unless defined $num;
	$carried_out{$num}++ if $r->{status} eq '200' || $r->{status} eq '0';
}
my @twice = grep { ($carried_out{$_} // 0) > 1 } @numbers;
is(scalar(@twice), 0, 'no reserve carried out twice') or diag("twice: @twice[0 .. ($#twice < 9 ? $#twice : 9)]");
for my $num (@twice[0 .. ($#twice < 4 ? $#twice : 4)])
{
	diag("simulator log for $num:");
	diag("  $_->{seq} $_->{time} $_->{status}")
	  for grep { $_->{body} =~ /<num>$num<\/num>/ } sim_requests(path => '/num/tfn/reserve', method => 'POST');
	diag('request row: ' . psql_value(qq{SELECT r.id || ' ' || r.state || ' attempts=' || r.attempts
		|| ' checks=' || r.checks || ' error=' || coalesce(r.error, '') FROM toll_free.requests r
		JOIN batch b ON b.request_id = r.id WHERE b.number::text = '$num'}));
}

my %done = map { $_ => 1 } split /\n/, psql_value(q{SELECT b.number FROM batch b
	JOIN toll_free.requests r ON r.id = b.request_id WHERE r.state = 'done'});
my @done_not_sent = grep { $done{$_} && !$carried_out{$_} } @numbers;
is(scalar(@done_not_sent), 0, 'every done request was carried out at the registry');

# A failed reserve must not be RESERVED at the registry by us.
my @failed = split /\n/, psql_value(q{SELECT b.number FROM batch b
	JOIN toll_free.requests r ON r.id = b.request_id WHERE r.state = 'failed'});
my @failed_but_reserved = grep {
	my $xml = admin_get("/number/$_");
	$xml =~ /<status>RESERVED<\/status>/ && $xml =~ /<ctrlRespOrgId>RUC01</
} @failed;
is(scalar(@failed_but_reserved), 0, 'no failed request took effect');

psql_value(q{ALTER SYSTEM RESET toll_free.queue_poll_interval});
psql_value(q{ALTER SYSTEM RESET toll_free.queue_max_in_flight});
psql_value(q{ALTER SYSTEM RESET toll_free.queue_max_attempts});
psql_value(q{ALTER SYSTEM RESET toll_free.rate_limit});
psql_value('SELECT pg_reload_conf()');
done_testing();
