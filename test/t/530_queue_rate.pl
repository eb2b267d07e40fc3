# Request queue under the registry's rate limit: a burst of requests made by
# a trigger drains at toll_free.rate_limit, without a storm of 429 answers.
#
# The simulator counts requests per RespOrg in fixed 60-second windows
# (--rate-limit).  The burst is larger than one window's allowance, so a
# queue that sent faster than its budget would get 429 answers; at the
# budget it needs a little over a minute.  This file runs in a sandbox of
# its own whose simulator has --rate-limit 600; it starts that sandbox
# itself unless the simulator it runs against already has that limit.
use strict;
use warnings;
use FindBin;

BEGIN
{
	if (($ENV{TOLL_FREE_SIM_OPTIONS} // '') !~ /--rate-limit 600\b/)
	{
		$ENV{TOLL_FREE_SIM_OPTIONS} =
		  join(' ', grep { $_ ne '' } ($ENV{TOLL_FREE_SIM_OPTIONS} // ''), '--rate-limit 600');
		$ENV{TOLL_FREE_SIM_NUMBERS} = 2000;
		exec("$FindBin::Bin/../sandbox", '--', $^X, "-I$FindBin::Bin/lib", $0)
		  or die "could not run test/sandbox: $!\n";
	}
}

use Test::More;
use Time::HiRes qw(time);
use Time::Local qw(timegm);
use TollFreeTest;

my $sim_limit = 600;        # simulator: requests per minute per RespOrg
my $budget = 570;           # toll_free.rate_limit: 5% below the simulator's
my $burst = 610;            # requests in the burst: more than one window allows
my $per_second = $budget / 60;

# The client's token bucket holds one second's worth of tokens when idle,
# so the burst needs (burst - bucket) / rate seconds at the budget.
my $bucket = $per_second;
my $expected_s = ($burst - $bucket) / $per_second;

ensure_extension();
sim_reset();
psql_value(qq{ALTER SYSTEM SET toll_free.rate_limit = $budget});
psql_value(q{ALTER SYSTEM SET toll_free.queue_poll_interval = '1s'});
psql_value('SELECT pg_reload_conf()');
sleep 2;    # the worker reloads its settings and the bucket refills

psql_value(q{
CREATE TABLE wanted (number toll_free.tfn PRIMARY KEY, request_id bigint);
CREATE FUNCTION wanted_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.request_id := toll_free.tf_enqueue('reserve', NEW.number,
		'{"contact_name": "Rate Test", "contact_phone": "7325551234"}');
	RETURN NEW;
END $$;
CREATE TRIGGER wanted_enqueue BEFORE INSERT ON wanted
	FOR EACH ROW EXECUTE FUNCTION wanted_enqueue();
});

my @numbers = map { sprintf('800555%04d', $_) } 0 .. $burst - 1;
my @before = sim_requests();
my $since = @before ? $before[-1]{seq} : 0;

# The burst: one INSERT, one row per number, one queued reserve per row.
my $committed_at = time;
psql_value('INSERT INTO wanted (number) SELECT n::toll_free.tfn FROM pg_catalog.unnest($${'
	  . join(',', @numbers) . '}$$::text[]) n');
is(psql_value('SELECT count(*) FROM wanted WHERE request_id IS NOT NULL'), $burst,
	"trigger enqueued $burst requests");

my $finished_sql = q{SELECT count(*) FROM toll_free.requests r JOIN wanted w ON w.request_id = r.id
	WHERE r.finished_at IS NOT NULL};
my $drained_at;
ok(wait_until(sub {
	return 0 if psql_value($finished_sql) != $burst;
	$drained_at = time;
	return 1;
}, 3 * $expected_s), 'every request finished');
my $elapsed = defined $drained_at ? $drained_at - $committed_at : -1;

is(psql_value(q{SELECT count(*) FROM toll_free.requests r JOIN wanted w ON w.request_id = r.id
	WHERE r.state = 'done'}), $burst, 'every request done');

# Timing: the burst drains at the budget, neither faster (the budget was
# not kept) nor much slower (the queue idles or backs off needlessly).
my $db_elapsed = psql_value(q{SELECT round(extract(epoch FROM max(r.finished_at) - min(r.started_at)), 1)
	FROM toll_free.requests r JOIN wanted w ON w.request_id = r.id});
note(sprintf('burst of %d at a budget of %d/min: expected %.1f s, %.1f s from COMMIT to the last finish, '
		  . '%.1f s from the first claim to the last finish', $burst, $budget, $expected_s, $elapsed, $db_elapsed));
cmp_ok($elapsed, '>=', 0.95 * $expected_s, 'burst not faster than the budget');
cmp_ok($elapsed, '<=', 1.25 * $expected_s + 5, 'burst not much slower than the budget');

# The pace within the burst: at most 10 s of budget plus the full bucket
# finish in any 10 seconds, with 20% for answers that arrive bunched.
my $busiest_10s = psql_value(q{SELECT max(c) FROM (SELECT count(*) OVER (ORDER BY r.finished_at
		RANGE BETWEEN CURRENT ROW AND interval '10 s' FOLLOWING) AS c
	FROM toll_free.requests r JOIN wanted w ON w.request_id = r.id) AS windows});
note("busiest 10 s: $busiest_10s requests finished");
cmp_ok($busiest_10s, '<=', int(1.2 * (10 * $per_second + $bucket)), 'no 10 seconds over the budget');

# The simulator's log: what reached the registry during the burst.
my @log = grep { $_->{seq} > $since } sim_requests();
my @throttled = grep { $_->{status} eq '429' } @log;
my @reserves = grep { $_->{path} eq '/num/tfn/reserve' && $_->{method} eq 'POST' } @log;
note(sprintf('simulator: %d requests during the burst, %d answered 429', scalar(@log), scalar(@throttled)));
is(scalar(@throttled), 0, 'no 429 answers');
is(scalar(grep { $_->{status} eq '200' } @reserves), $burst, 'one reserve carried out per request');

# The busiest simulator minute stays within its limit.  Times are whole
# seconds, so a 60-second window here spans at most 61 seconds of sends.
my %per_second;
$per_second{$_->{time}}++ for @log;
my @seconds = sort keys %per_second;
my $busiest = 0;
for my $i (0 .. $#seconds)
{
	my $count = 0;
	for my $j ($i .. $#seconds)
	{
		last if seconds_between($seconds[$i], $seconds[$j]) >= 60;
		$count += $per_second{$seconds[$j]};
	}
	$busiest = $count if $count > $busiest;
}
note("busiest 60 s at the simulator: $busiest requests");
cmp_ok($busiest, '<=', $sim_limit, 'no simulator minute over its limit');

# seconds_between($a, $b): seconds from one log time (YYYY-MM-DDThh:mm:ssZ) to another.
sub seconds_between
{
	my ($from, $to) = map {
		my ($y, $mo, $d, $h, $mi, $s) = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z$/
		  or die "unexpected simulator time $_\n";
		timegm($s, $mi, $h, $d, $mo - 1, $y);
	} @_;
	return $to - $from;
}

psql_value(q{ALTER SYSTEM RESET toll_free.rate_limit});
psql_value(q{ALTER SYSTEM RESET toll_free.queue_poll_interval});
psql_value('SELECT pg_reload_conf()');
done_testing();
