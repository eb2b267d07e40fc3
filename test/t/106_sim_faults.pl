# Fault injection of the simulator: every fault kind, whether the operation
# was carried out, the fault options (count, probability, method), and that
# a stalled or reset connection leaves the server answering others.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../sim/perl";
use SimTest;
use Test::More;
use Time::HiRes qw(time sleep);

reset_sim();
my $ruc = login(0);
my $contact = '<conName>Jane Roe</conName><conTel>7325551234</conTel>';
my $next_num = 8005550800;

sub query { return api('GET', '/num/tfn/query/tfn/8005560001', token => $ruc, @_) }

# reserve_fresh(): reserve a number never used before in this test; returns
# (result, number).
sub reserve_fresh
{
	my (%opt) = @_;
	my $num = $next_num++;
	my $r = api('POST', '/num/tfn/reserve', token => $ruc,
		body => "<numReserve><numList><num>$num</num></numList>$contact</numReserve>", %opt);
	return ($r, $num);
}
sub status_of { return num_info($ruc, $_[0])->{status} }

my $clean = query();
is($clean->{status}, 200, 'query before any fault');
ok(well_formed($clean->{body}), 'a normal answer is well-formed XML');

# latency
fault(path => '/num/tfn/query', kind => 'latency', ms => 600, count => 1);
my $t0 = time;
my $r = query();
my $took = time - $t0;
is($r->{status}, 200, 'latency: the answer still comes');
cmp_ok($took, '>=', 0.6, 'latency: the answer takes at least ms');
fault(path => '/num/tfn/query', kind => 'latency', ms => 100, jitter => 300, count => 1);
$t0 = time;
query();
$took = time - $t0;
ok($took >= 0.1 && $took < 2, 'latency with jitter stays within ms + jitter');

# stall: the request is read and never answered; others keep working
fault(path => '/num/tfn/query', kind => 'stall', count => 1);
$t0 = time;
$r = query(timeout => 2);
is($r->{rc}, 28, 'stall: the client times out (curl 28)');
is($r->{body}, '', 'stall: nothing was sent');
my @ok = grep { query()->{status} == 200 } 1 .. 5;
is(scalar @ok, 5, 'stall: other connections are answered');
sleep 0.5;
my $log = admin('GET', '/requests?path=/num/tfn/query')->{body};
like($log, qr{\tGET\t/num/tfn/query/tfn/8005560001\t0\t}, 'stall: the request is logged with status 0 once the client left');

# reset before: RST, nothing done
fault(path => '/num/tfn/reserve', kind => 'reset_before', count => 1);
my ($res, $num) = reserve_fresh();
is($res->{rc}, 56, 'reset_before: the connection is reset (curl 56)');
like($res->{err}, qr/reset/i, 'reset_before: curl reports a reset');
is(status_of($num), 'SPARE', 'reset_before: the reserve did not happen');

# reset after: RST, operation done
fault(path => '/num/tfn/reserve', kind => 'reset_after', count => 1);
($res, $num) = reserve_fresh();
is($res->{rc}, 56, 'reset_after: the connection is reset (curl 56)');
is(status_of($num), 'RESERVED', 'reset_after: the reserve happened');
$log = admin('GET', '/requests?path=/num/tfn/reserve')->{body};
like($log, qr{\tPOST\t/num/tfn/reserve\t0\tRUC01\t}, 'reset_after: the request is logged with status 0');

# truncate: Content-Length body cut short, operation done
fault(path => '/num/tfn/reserve', kind => 'truncate', bytes => 30, count => 1);
($res, $num) = reserve_fresh();
is($res->{rc}, 18, 'truncate: curl reports a partial body (curl 18)');
is(length $res->{body}, 30, 'truncate: exactly bytes were sent');
ok($res->{headers}{'content-length'} > 30, 'truncate: Content-Length promised more');
is(status_of($num), 'RESERVED', 'truncate: the reserve happened');

# cut_chunked: chunked body without its last chunk
fault(path => '/num/tfn/query', kind => 'cut_chunked', bytes => 40, count => 1);
$r = query();
is($r->{rc}, 18, 'cut_chunked: curl reports a partial body (curl 18)');
is(lc($r->{headers}{'transfer-encoding'} // ''), 'chunked', 'cut_chunked: the body was chunked');
is(length $r->{body}, 40, 'cut_chunked: bytes were sent before the cut');

# damaged documents (200 with the operation done)
fault(path => '/num/tfn/reserve', kind => 'malformed', count => 1);
($res, $num) = reserve_fresh();
is($res->{status}, 200, 'malformed: status 200');
ok(!well_formed($res->{body}), 'malformed: the body is not well-formed XML');
is(status_of($num), 'RESERVED', 'malformed: the reserve happened');

fault(path => '/num/tfn/query', kind => 'dtd', count => 1);
$r = query();
like($r->{body}, qr{<!DOCTYPE queryResponse \[\s*<!ENTITY tfx "8005550199">\s*\]>}, 'dtd: a DOCTYPE with an internal entity');
like($r->{body}, qr{<num>&tfx;</num>}, 'dtd: the entity is used in a field');

fault(path => '/num/tfn/query', kind => 'xxe_file', count => 1);
$r = query();
like($r->{body}, qr{<!ENTITY tfx SYSTEM "file:///etc/passwd">}, 'xxe_file: an external file entity');
like($r->{body}, qr{>&tfx;<}, 'xxe_file: the entity is used in a field');

fault(path => '/num/tfn/query', kind => 'xxe_http', ms => 19999, count => 1);
$r = query();
like($r->{body}, qr{<!ENTITY tfx SYSTEM "http://127\.0\.0\.1:19999/probe">}, 'xxe_http: an external entity on the given port');

fault(path => '/num/tfn/query', kind => 'entity_bomb', count => 1);
$r = query();
like($r->{body}, qr{<!ENTITY lol9 "(&lol8;){10}">}, 'entity_bomb: nine levels of tenfold entities');
like($r->{body}, qr{>&lol9;<}, 'entity_bomb: the top entity is used in a field');

fault(path => '/num/tfn/query', kind => 'deep_nesting', count => 1);
$r = query();
is(scalar(() = $r->{body} =~ /<d>/g), 10000, 'deep_nesting: 10000 nested elements');

fault(path => '/num/tfn/query', kind => 'invalid_utf8', count => 1);
$r = query();
like($r->{body}, qr/\xff/, 'invalid_utf8: a 0xFF byte in a text node');
ok(!well_formed($r->{body}), 'invalid_utf8: the parser rejects it');

fault(path => '/num/tfn/query', kind => 'wrong_content_type', count => 1);
$r = query();
like($r->{headers}{'content-type'}, qr{^text/html}, 'wrong_content_type: text/html');
like($r->{body}, qr{<html>}, 'wrong_content_type: an HTML body');

fault(path => '/num/tfn/query', kind => 'oversized', bytes => 2000000, count => 1);
$r = query();
is(length $r->{body}, 2000000, 'oversized: the body is padded to bytes');
ok(well_formed($r->{body}), 'oversized: the padded document is still well-formed');
like($r->{body}, qr{</queryResponse>\z}, 'oversized: the document ends with its root');

# drip: bytes per second
fault(path => '/num/tfn/query', kind => 'drip', bytes => 100, count => 1);
$t0 = time;
$r = query();
$took = time - $t0;
is($r->{body}, $clean->{body}, 'drip: the whole body arrives');
cmp_ok($took, '>=', int((length($clean->{body}) - 1) / 100), 'drip: at bytes per second');

# status and throttle: nothing done
fault(path => '/num/tfn/reserve', kind => 'status', status => 503, count => 1);
($res, $num) = reserve_fresh();
is_deeply([ $res->{status}, err_codes($res->{body}) ], [ 503, '099999' ], 'status: 503 with an errorResponse');
is(status_of($num), 'SPARE', 'status: the reserve did not happen');
fault(path => '/num/tfn/reserve', kind => 'status', count => 1);
($res, $num) = reserve_fresh();
is($res->{status}, 500, 'status: 500 by default');

fault(path => '/num/tfn/reserve', kind => 'throttle', retry_after => 7, count => 1);
($res, $num) = reserve_fresh();
is_deeply([ $res->{status}, err_codes($res->{body}) ], [ 429, '900800' ], 'throttle: 429 with 900800');
is($res->{headers}{'retry-after'}, 7, 'throttle: Retry-After from retry_after');
is(status_of($num), 'SPARE', 'throttle: the reserve did not happen');

# pending: 202, operation done once
fault(path => '/num/tfn/reserve', kind => 'pending', ms => 200, count => 1);
($res, $num) = reserve_fresh();
is($res->{status}, 202, 'pending: 202');
like(xtext($res->{body}, 'reqId'), qr/^R\d{10}$/, 'pending: a request id');
is(status_of($num), 'RESERVED', 'pending: the reserve happened');

# expire_session and second_session
fault(path => '/num/tfn/query', kind => 'expire_session', count => 1);
$r = query();
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 401, '900903' ], 'expire_session: 401 with 900903');
$r = query();
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 401, '900903' ], 'expire_session: the token stays invalid');
$ruc = login(0);
is(query()->{status}, 200, 'expire_session: a new session works');

fault(path => '/sec/session/open', kind => 'second_session', count => 1);
my ($u) = users();
my $open = "<sessionOpen><usrName>$u->{name}</usrName><password>$u->{password}</password></sessionOpen>";
$r = api('POST', '/sec/session/open', body => $open);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 409, '701003' ], 'second_session: the next open gets 701003');
my $key = xtext($r->{body}, 'sessOverrideKey');
$r = api('POST', '/sec/session/open',
	body => "<sessionOpen><usrName>$u->{name}</usrName><password>$u->{password}</password>"
	  . "<sessOverrideKey>$key</sessOverrideKey></sessionOpen>");
is($r->{status}, 200, 'second_session: the override key opens the session');
$ruc = xtext($r->{body}, 'oauthToken');

# fault options
fault(path => '/num/tfn/query', kind => 'status', count => 2);
is_deeply([ map { query()->{status} } 1 .. 3 ], [ 500, 500, 200 ], 'count: the fault hits count requests');
fault(path => '/num/tfn/query', kind => 'status', probability => 0);
is(query()->{status}, 200, 'probability 0 never hits');
admin('DELETE', '/faults');
fault(path => '/num/tfn/query', kind => 'status', method => 'PUT', count => 1);
is(query()->{status}, 200, 'method: a GET is not hit by a PUT fault');
$r = api('PUT', '/num/tfn/query', token => $ruc, body => '<numQuery><numList><num>8005560001</num></numList></numQuery>');
is($r->{status}, 500, 'method: the PUT is hit');
fault(path => '/num/tfn/query', kind => 'status', probability => '0.5', count => 40);
my $hits = grep { query()->{status} == 500 } 1 .. 40;
ok($hits > 5 && $hits < 35, "probability 0.5 hits some requests ($hits of 40)");
admin('DELETE', '/faults');

my @bad = (
	'path=/num&kind=nosuch', 'path=num&kind=stall', 'path=/num&kind=stall&count=0',
	'path=/num&kind=status&status=99', 'path=/num&kind=stall&probability=2',
);
for my $q (@bad)
{
	is(admin('POST', "/faults?$q")->{status}, 400, "invalid fault $q is refused");
}

# nothing wedged: connections are counted down again
sleep 0.3;
my %stats = map { /^(\S+) (\S+)$/ ? ($1 => $2) : () } split /\n/, admin('GET', '/stats')->{body};
is($stats{open_connections}, 0, 'no connection is left open after the faults');
is(query()->{status}, 200, 'the simulator still answers');

done_testing();
