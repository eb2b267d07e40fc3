# Per-RespOrg rate limit of the simulator (--rate-limit): 429 with
# Retry-After and 900800 past the budget, nothing done, other RespOrgs
# unaffected.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../sim/perl";
use SimTest;
use Test::More;

my $own = start_sim('--numbers', '100', '--rate-limit', '5');
set_sim($own);
my $ruc = login(0);
my $abc = login(2);

my @status = map { api('GET', '/num/tfn/query/tfn/8005560001', token => $ruc)->{status} } 1 .. 5;
is_deeply(\@status, [ (200) x 5 ], 'five calls fit a budget of 5 a minute');
my $r = api('POST', '/num/tfn/reserve', token => $ruc,
	body => '<numReserve><numList><num>8005550001</num></numList>'
	  . '<conName>Jane Roe</conName><conTel>7325551234</conTel></numReserve>');
is($r->{status}, 429, 'the sixth call answers 429');
is_deeply([ err_codes($r->{body}) ], ['900800'], 'with error 900800');
my $wait = $r->{headers}{'retry-after'};
ok(defined $wait && $wait >= 1 && $wait <= 60, "with Retry-After in seconds ($wait)");

is(api('GET', '/num/tfn/query/tfn/8005550001', token => $abc)->{status}, 200,
	'another RespOrg has its own budget');
my $q = api('GET', '/num/tfn/query/tfn/8005550001', token => $abc);
is(xtext($q->{body}, 'status'), 'SPARE', 'the throttled reserve did not happen');

my $u = (users())[1];
$r = api('POST', '/sec/session/open',
	body => "<sessionOpen><usrName>$u->{name}</usrName><password>$u->{password}</password></sessionOpen>");
is($r->{status}, 200, 'session open is not counted against the budget');

is(api('GET', '/num/res/limits', token => $ruc)->{status}, 429, 'RUC01 stays throttled for the window');

done_testing();
