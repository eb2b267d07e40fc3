# RespOrg check of the simulator: chunked pages, startKey/nextKey paging
# that matches the admin inventory, permissions, parameter checks, faults on
# one page of a run, and changes showing up in the next check.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../sim/perl";
use SimTest;
use Test::More;

reset_sim();
my $ruc = login(0);

sub rows
{
	my ($body) = @_;
	return [ $body =~ m{<numInfo>(.*?)</numInfo>}g ];
}

sub row_csv
{
	my ($row) = @_;
	return join ',', map { xtext($row, $_) // '' } qw(num status effDt resUntilDt discUntilDt lastActDt);
}

my $inv = admin('GET', '/inventory/RUC01')->{body};
my @expected = split /\n/, $inv;
shift @expected;

# one page with the default size
my $r = api('GET', '/num/rck/RUC01', token => $ruc);
is($r->{status}, 200, 'RespOrg check answers 200');
is(lc($r->{headers}{'transfer-encoding'} // ''), 'chunked', 'the page is sent with chunked encoding');
ok(!exists $r->{headers}{'content-length'}, 'without Content-Length');
is(xtext($r->{body}, 'respOrgId'), 'RUC01', 'the page names the RespOrg');
like($r->{body}, qr{</respOrgCheck>\s*\z}, 'the page is complete');
my $rows = rows($r->{body});
is(scalar @$rows, scalar @expected, 'the default page holds the whole inventory');
ok(!defined xtext($r->{body}, 'nextKey'), 'no nextKey on the last page');
is_deeply([ map { row_csv($_) } @$rows ], \@expected, 'rows equal the admin inventory, in order');
is(scalar(grep { /conName|conTel/ } @$rows), 0, 'rows carry no contact data');
is(scalar(grep { /ctrlRespOrgId/ } @$rows), 0, 'rows leave the RespOrg to the page');

# paging
my (@paged, $pages, $key);
do
{
	my $q = defined $key ? "?pageSize=700&startKey=$key" : '?pageSize=700';
	$r = api('GET', "/num/rck/RUC01$q", token => $ruc);
	die "page failed: $r->{status}" unless $r->{status} == 200;
	my $page = rows($r->{body});
	push @paged, map { row_csv($_) } @$page;
	$pages++;
	$key = xtext($r->{body}, 'nextKey');
	is($key, xtext($page->[-1], 'num'), "nextKey of page $pages is its last number") if defined $key;
} while (defined $key && $pages < 100);
is_deeply(\@paged, \@expected, 'pages put together equal the inventory');
is($pages, int((@expected + 699) / 700), 'pageSize sets the page length');

$r = api('GET', "/num/rck/RUC01?pageSize=2&startKey=" . (split /,/, $expected[0])[0], token => $ruc);
is(xtext($r->{body}, 'num'), (split /,/, $expected[1])[0], 'startKey is exclusive');

# permissions and parameters
is(api('GET', '/num/rck/RUC02?pageSize=1', token => $ruc)->{status}, 200, 'a RespOrg in the updList may be checked');
my @cases = (
	[ '/num/rck/ABC01', 403, '099038', 'another RespOrg' ],
	[ '/num/rck/NOPE1', 403, '099038', 'an unknown RespOrg' ],
	[ '/num/rck/RUC01?pageSize=0', 400, '099043', 'pageSize 0' ],
	[ '/num/rck/RUC01?pageSize=100001', 400, '099043', 'pageSize 100001' ],
	[ '/num/rck/RUC01?startKey=12', 400, '099012', 'a short startKey' ],
);
for my $c (@cases)
{
	$r = api('GET', $c->[0], token => $ruc);
	is_deeply([ $r->{status}, err_codes($r->{body}) ], [ $c->[1], $c->[2] ], "$c->[3] gives $c->[2]");
}

# a fault on the second page of a run only
fault(path => '/num/rck', kind => 'status', status => 503, page => 2);
my @codes;
$key = undef;
for my $n (1 .. 3)
{
	my $q = defined $key ? "?pageSize=100&startKey=$key" : '?pageSize=100';
	$r = api('GET', "/num/rck/RUC01$q", token => $ruc);
	push @codes, $r->{status};
	$key = xtext($r->{body}, 'nextKey') // $key;
}
is_deeply(\@codes, [ 200, 503, 200 ], 'page=2 hits only the second page of a run');
$r = api('GET', '/num/rck/RUC01?pageSize=100', token => $ruc);
is($r->{status}, 200, 'a new run starts again at page 1');
admin('DELETE', '/faults');

fault(path => '/num/rck', kind => 'cut_chunked', bytes => 5000, count => 1);
$r = api('GET', '/num/rck/RUC01?pageSize=1000', token => $ruc);
is($r->{rc}, 18, 'a cut page ends without its last chunk (curl 18)');
unlike($r->{body}, qr{</respOrgCheck>}, 'a cut page has no closing tag');

# changes show up in the next check
api('POST', '/num/tfn/reserve', token => $ruc,
	body => '<numReserve><numList><num>8005550990</num></numList><conName>Jane Roe</conName><conTel>7325551234</conTel></numReserve>');
$r = api('GET', '/num/rck/RUC01?pageSize=100000', token => $ruc);
ok((grep { xtext($_, 'num') eq '8005550990' } @{ rows($r->{body}) }), 'a new reservation is in the next check');
is(scalar @{ rows($r->{body}) }, scalar(@expected) + 1, 'the check grew by one');

done_testing();
