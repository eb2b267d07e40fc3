# Pending (202) answers of the simulator: the operation is carried out once,
# request status answers 202 until --pending-ms passed and then the final
# status and body, unknown ids give 099060, and --pending-share.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../sim/perl";
use SimTest;
use Test::More;
use Time::HiRes qw(sleep);

reset_sim();
my $ruc = login(0);
my $abc = login(2);
my $contact = '<conName>Jane Roe</conName><conTel>7325551234</conTel>';

sub reserve
{
	my ($num, $c) = @_;
	return api('POST', '/num/tfn/reserve', token => $ruc,
		body => "<numReserve><numList><num>$num</num></numList>" . ($c // $contact) . '</numReserve>');
}

fault(path => '/num/tfn/reserve', kind => 'pending', ms => 700, count => 1);
my $r = reserve('8005550950');
is($r->{status}, 202, 'a pending answer is 202');
is(xtext($r->{body}, 'statusMsg'), 'IN PROGRESS', 'pendingResponse says IN PROGRESS');
my $id = xtext($r->{body}, 'reqId');
like($id, qr/^R\d{10}$/, 'pendingResponse carries a reqId');
is(num_info($ruc, '8005550950')->{status}, 'RESERVED', 'the operation is already carried out');
my $version = num_info($ruc, '8005550950')->{recVersionId};

$r = api('GET', "/sys/req/$id", token => $ruc);
is($r->{status}, 202, 'request status answers 202 while pending');
is(xtext($r->{body}, 'reqId'), $id, 'and names the request');
sleep 0.8;
$r = api('GET', "/sys/req/$id", token => $ruc);
is($r->{status}, 200, 'request status answers the final status once done');
like($r->{body}, qr{^<reserveResponse>}, 'with the operation answer');
is(xtext($r->{body}, 'status'), 'RESERVED', 'which reports the reservation');
$r = api('GET', "/sys/req/$id", token => $ruc);
is($r->{status}, 200, 'the result can be read again');
is(num_info($ruc, '8005550950')->{recVersionId}, $version, 'polling did not repeat the operation');
my @log = grep { /\tPOST\t\/num\/tfn\/reserve\t/ } split /\n/, admin('GET', '/requests')->{body};
is(scalar @log, 1, 'the reserve reached the registry once');

# a refused operation keeps its error status
fault(path => '/num/tfn/reserve', kind => 'pending', ms => 1, count => 1);
$r = reserve('8005550951', '<conName>Jane 9</conName><conTel>7325551234</conTel>');
is($r->{status}, 202, 'a request that will fail is answered 202 too');
$id = xtext($r->{body}, 'reqId');
sleep 0.05;
$r = api('GET', "/sys/req/$id", token => $ruc);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '801120' ], 'request status gives the final error');

# unknown ids and other RespOrgs
$r = api('GET', '/sys/req/R9999999999', token => $ruc);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 404, '099060' ], 'an id never issued gives 099060');
$r = api('GET', '/sys/req/nonsense', token => $ruc);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 404, '099060' ], 'a malformed id gives 099060');
$r = api('GET', "/sys/req/$id", token => $abc);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 404, '099060' ], 'another RespOrg cannot read the result');
$r = api('GET', "/sys/req/$id");
is($r->{status}, 401, 'request status needs a token');

# a RespOrg check page can be pending; its body is the whole page
fault(path => '/num/rck', kind => 'pending', ms => 1, count => 1);
$r = api('GET', '/num/rck/RUC01?pageSize=5', token => $ruc);
is($r->{status}, 202, 'a RespOrg check page can answer 202');
$id = xtext($r->{body}, 'reqId');
sleep 0.05;
$r = api('GET', "/sys/req/$id", token => $ruc);
is($r->{status}, 200, 'the page is available through request status');
is(scalar(xall($r->{body}, 'num')), 5, 'with its rows');
ok(defined xtext($r->{body}, 'nextKey'), 'and its nextKey');

# --pending-share on a private simulator
my $own = start_sim('--numbers', '100', '--pending-share', '1', '--pending-ms', '100');
set_sim($own);
$ruc = login(0);
ok($ruc, 'session open is never answered 202');
$r = api('GET', '/num/tfn/query/tfn/8005560001', token => $ruc);
is($r->{status}, 202, 'with --pending-share 1 every call is answered 202');
$id = xtext($r->{body}, 'reqId');
$r = api('GET', "/sys/req/$id", token => $ruc);
is($r->{status}, 202, 'request status itself is never turned into a new pending request');
sleep 0.15;
$r = api('GET', "/sys/req/$id", token => $ruc);
is($r->{status}, 200, 'after --pending-ms the result is there');
is(xtext($r->{body}, 'status'), 'WORKING', 'with the query answer');

$own = start_sim('--numbers', '100', '--pending-share', '0.5', '--pending-ms', '1');
set_sim($own);
$ruc = login(0);
my $pending = grep { api('GET', '/num/tfn/query/tfn/8005560001', token => $ruc)->{status} == 202 } 1 .. 40;
ok($pending > 5 && $pending < 35, "--pending-share 0.5 answers some calls 202 ($pending of 40)");

done_testing();
