# The simulator's admin API: clock, faults, seed and reset, request log,
# number state (read and force), inventory, stats, and the seeded data mix.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../sim/perl";
use SimTest;
use Test::More;
use POSIX ();

reset_sim();
my $ruc = login(0);

sub stats
{
	my %s;
	for my $line (split /\n/, admin('GET', '/stats')->{body})
	{
		my @f = split / /, $line;
		my $v = pop @f;
		$s{ join ' ', @f } = $v;
	}
	return \%s;
}

sub inventory
{
	my ($ro) = @_;
	my $r = admin('GET', "/inventory/$ro");
	die "inventory $ro: $r->{status}" unless $r->{status} == 200;
	my @lines = split /\n/, $r->{body};
	shift @lines;
	return \@lines;
}

# clock
my $r = admin('GET', '/clock');
like($r->{body}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n\z/, 'clock answers a UTC timestamp');
my $t0 = clock_now();
ok(abs($t0 - time) < 5, 'after reset the clock is real time');
$r = admin('POST', '/clock/advance?days=2&minutes=30');
is($r->{status}, 200, 'clock advance answers 200');
my $t1 = clock_now();
ok(abs($t1 - $t0 - (2 * 86400 + 1800)) < 5, 'clock moved 2 days 30 minutes');
is(admin('POST', '/clock/advance?days=-1')->{status}, 400, 'the clock does not go back');
is(admin('POST', '/clock/advance?minutes=abc')->{status}, 400, 'minutes must be a number');

# faults list and clear
my $id = fault(path => '/num/rck', kind => 'latency', ms => 5);
like($id, qr/^\d+$/, 'adding a fault returns its id');
$r = admin('GET', '/faults');
like($r->{body}, qr{^$id\tlatency\t/num/rck\tcount=-1\thits=0\tms=5\t}m, 'faults are listed with their settings');
is(admin('DELETE', '/faults')->{body}, "ok\n", 'faults are cleared');
is(admin('GET', '/faults')->{body}, '', 'no fault is left');

# request log
my $before = (split /\t/, (split /\n/, admin('GET', '/requests')->{body})[-1])[0];
api('GET', '/num/tfn/query/tfn/8005560001?x=1', token => $ruc);
api('PUT', '/num/tfn/query', token => $ruc,
	body => "<numQuery>\n\t<numList><num>8005560001</num></numList>\\</numQuery>");
$r = admin('GET', "/requests?since=$before");
my @lines = split /\n/, $r->{body};
is(scalar @lines, 2, 'since returns only later requests');
my @f = split /\t/, $lines[0], -1;
is(scalar @f, 7, 'a log line has 7 fields');
is_deeply([ @f[ 2 .. 5 ] ], [ 'GET', '/num/tfn/query/tfn/8005560001?x=1', 200, 'RUC01' ],
	'method, path with query, status and RespOrg are logged');
like($f[1], qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'the time is a simulator timestamp');
@f = split /\t/, $lines[1], -1;
is($f[6], '<numQuery>\n\t<numList><num>8005560001</num></numList>\\\\</numQuery>',
	'the body is logged with \\, tab and newline escaped');
$r = admin('GET', "/requests?since=$before&method=PUT");
is(scalar(split /\n/, $r->{body}), 1, 'method filters the log');
$r = admin('GET', "/requests?since=$before&path=/num/tfn/query/tfn");
is(scalar(split /\n/, $r->{body}), 1, 'path filters the log by prefix');
is(admin('GET', '/requests?since=x')->{status}, 400, 'since must be a number');

# number state
my $s = api('PUT', '/num/tfn/search', token => $ruc,
	body => '<numSearch><numList><num>8005550900</num></numList></numSearch>');
$r = admin('GET', '/number/8005550900');
is(xtext($r->{body}, 'status'), 'SPARE', 'admin view of a searched number is SPARE');
is(xtext($r->{body}, 'lockOwner'), 'RUC01', 'admin view shows the lock owner');
like(xtext($r->{body}, 'lockUntil'), qr/Z$/, 'admin view shows the lock expiry');
$r = admin('GET', '/number/8005560001');
is(xtext($r->{body}, 'custRecStat'), 'ACTIVE', 'admin view summarises the records');
ok(defined xtext($r->{body}, 'conName'), 'admin view shows contact data');

sub day { return POSIX::strftime('%Y-%m-%d', gmtime(clock_now() + 86400 * $_[0])) }
my @d = map { day($_) } (-10, 20, -30, 60, 15);
$r = admin('PUT', "/number/8005550901?status=RESERVED&resporg=RUC02&effDt=$d[0]&resUntilDt=$d[1]");
is($r->{status}, 200, 'admin forces a state');
my $info = num_info($ruc, '8005550901');
is_deeply([ @$info{qw(status ctrlRespOrgId effDt resUntilDt)} ], [ 'RESERVED', 'RUC02', @d[ 0, 1 ] ],
	'the forced state is what queries show');
$r = admin('PUT', "/number/8005550902?status=DISCONNECT&resporg=RUC01&lastActDt=$d[2]&discUntilDt=$d[3]&endInterceptDt=$d[4]");
$info = num_info($ruc, '8005550902');
is_deeply([ @$info{qw(status lastActDt discUntilDt)} ], [ 'DISCONNECT', @d[ 2, 3 ] ],
	'a forced DISCONNECT keeps the given dates');
is(xtext(admin('GET', '/number/8005550902')->{body}, 'endInterceptDt'), $d[4], 'and its end-intercept date');
$r = admin('PUT', '/number/8005550901?status=SPARE');
is(num_info($ruc, '8005550901')->{status}, 'SPARE', 'admin forces a number back to SPARE');
is(admin('PUT', '/number/8005550903?status=HELD&resporg=RUC01')->{status}, 400, 'unknown status is refused');
is(admin('PUT', '/number/8005550903?status=WORKING&resporg=NOPE1')->{status}, 400, 'unknown RespOrg is refused');
is(admin('PUT', '/number/8005550903?status=WORKING&resporg=RUC01&effDt=2026-13-01')->{status}, 400, 'bad date is refused');
is(admin('GET', '/number/123')->{status}, 400, 'bad number is refused');

# inventory and stats agree
my $inv = inventory('RUC01');
ok(scalar @$inv > 100, 'RUC01 has an inventory');
like($inv->[0], qr/^\d{10},[A-Z]+,\d{4}-\d\d-\d\d,[\d-]*,[\d-]*,[\d-]*$/, 'inventory rows are num,status,effDt,resUntilDt,discUntilDt,lastActDt');
my @sorted = sort { $a <=> $b } map { (split /,/)[0] } @$inv;
is_deeply([ map { (split /,/)[0] } @$inv ], \@sorted, 'inventory ascends by number');
my $st = stats();
my $held = 0;
$held += $st->{"numbers RUC01 $_"} for qw(RESERVED ASSIGNED WORKING DISCONNECT TRANSITIONAL UNAVAILABLE SUSPEND);
is($held, scalar @$inv, 'stats count the same numbers as the inventory');
ok(exists $st->{open_connections} && exists $st->{connections_total}, 'stats show connection counts');
ok($st->{'requests /num/tfn/query/tfn/'} >= 1, 'stats count requests per path');
is(admin('GET', '/inventory/NOPE1')->{status}, 404, 'inventory of an unknown RespOrg answers 404');
is(admin('GET', '/nosuch')->{status}, 404, 'unknown admin path answers 404');

# seed: deterministic, and the mix the brief asks for
$r = admin('POST', '/seed?numbers=20000&seed=5');
is($r->{status}, 200, 'reseed answers 200');
my $a = inventory('RUC01');
admin('POST', '/seed?numbers=20000&seed=5');
is_deeply(inventory('RUC01'), $a, 'the same seed gives the same data');
admin('POST', '/seed?numbers=20000&seed=6');
isnt(join("\n", @{ inventory('RUC01') }), join("\n", @$a), 'another seed gives other data');
$st = stats();
my %by_status;
my $all = 0;
for my $k (keys %$st)
{
	next unless $k =~ /^numbers (\w+) (\w+)$/;
	$by_status{$2} += $st->{$k};
	$all += $st->{$k};
}
my $ruc01 = 0;
$ruc01 += $st->{"numbers RUC01 $_"} for qw(RESERVED ASSIGNED WORKING DISCONNECT TRANSITIONAL SUSPEND);
ok(abs($all - 20000) < 40, "about 20000 numbers are held ($all)");
ok($ruc01 / $all > 0.37 && $ruc01 / $all < 0.43, 'the first RespOrg holds about 40 %');
my %want = (WORKING => 0.80, RESERVED => 0.08, ASSIGNED => 0.04, DISCONNECT => 0.05, TRANSITIONAL => 0.03);
for my $k (sort keys %want)
{
	my $share = $by_status{$k} / $all;
	ok(abs($share - $want{$k}) < 0.015, sprintf('%s share is about %d %% (%.1f %%)', $k, $want{$k} * 100, $share * 100));
}
is(num_info($ruc, '8005550500')->{status}, 'SPARE', 'the test range stays SPARE after a reseed');

$r = admin('POST', '/seed?numbers=300&seed=1&resporgs=RUC01,ABC01');
is($r->{status}, 200, 'reseed with other RespOrgs');
is(scalar(@{ inventory('RUC02') }), 0, 'a RespOrg left out holds nothing');
is(admin('POST', '/seed?numbers=-5')->{status}, 400, 'negative numbers are refused');

# reset undoes it all
fault(path => '/num', kind => 'status');
admin('POST', '/clock/advance?days=3');
reset_sim();
is(admin('GET', '/faults')->{body}, '', 'reset clears faults');
ok(abs(clock_now() - time) < 5, 'reset puts the clock back');
is(admin('GET', '/requests')->{body}, '', 'reset clears the request log');
$r = api('GET', '/num/res/limits', token => $ruc);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 401, '900901' ], 'reset ends the sessions');
$ruc = login(0);
ok(scalar(@{ inventory('RUC02') }) > 100, 'reset returns to the start-up RespOrgs');
is(admin('GET', '/number/8005550900')->{body} =~ /lockOwner/ ? 1 : 0, 0, 'reset clears locks');

done_testing();
