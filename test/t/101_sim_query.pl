# Number query of the simulator: one number, a list, visibility of contact
# data, and the request checks shared by every document (099012, 801116,
# 099045, 099027, 099070, DTDs, unknown paths).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../sim/perl";
use SimTest;
use Test::More;

reset_sim();
my $ruc = login(0);
my $abc = login(2);

# one number: own WORKING number shows contact data
my $r = api('GET', '/num/tfn/query/tfn/8005560001', token => $ruc);
is($r->{status}, 200, 'query of a number answers 200');
like($r->{headers}{'content-type'}, qr{^application/xml}, 'answers are application/xml');
my $info = num_info($ruc, '8005560001');
is($info->{status}, 'WORKING', 'fixed number 8005560001 is WORKING');
is($info->{ctrlRespOrgId}, 'RUC01', 'fixed number 8005560001 belongs to RUC01');
like($info->{effDt}, qr/^\d{4}-\d\d-\d\d$/, 'effDt is a date');
ok(defined $info->{conName} && defined $info->{conTel}, 'controlling RespOrg sees contact data');
like($info->{recVersionId}, qr/^\d+$/, 'recVersionId is a number');
is($info->{auctnInd}, 'N', 'auctnInd is present');

# another RespOrg sees status and RespOrg, no contact data
$info = num_info($abc, '8005560001');
is($info->{status}, 'WORKING', 'other RespOrg sees the status');
is($info->{ctrlRespOrgId}, 'RUC01', 'other RespOrg sees the controlling RespOrg');
ok(!exists $info->{conName} && !exists $info->{conTel}, 'other RespOrg sees no contact data');

# a RespOrg in the updList counts as the caller's own
$info = num_info($ruc, '8005560013');
is($info->{ctrlRespOrgId}, 'RUC02', '8005560013 belongs to RUC02');
ok(defined $info->{conName}, 'a RespOrg in the updList sees contact data');

# RESERVED shows resUntilDt; DISCONNECT shows discUntilDt and lastActDt
$info = num_info($ruc, '8005560010');
is($info->{status}, 'RESERVED', '8005560010 is RESERVED');
ok($info->{resUntilDt}, 'RESERVED number shows resUntilDt');
$info = num_info($ruc, '8005560030');
is($info->{status}, 'DISCONNECT', '8005560030 is DISCONNECT');
ok($info->{discUntilDt} && $info->{lastActDt}, 'DISCONNECT number shows discUntilDt and lastActDt');

# a number nobody holds is SPARE with no RespOrg
$info = num_info($ruc, '8005550999');
is($info->{status}, 'SPARE', 'number of the test range is SPARE');
ok(!exists $info->{ctrlRespOrgId}, 'SPARE number has no ctrlRespOrgId');

# bad numbers
$r = api('GET', '/num/tfn/query/tfn/800555123', token => $ruc);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '099012' ], '9 digits give 099012');
$r = api('GET', '/num/tfn/query/tfn/800-555-1234', token => $ruc);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '099012' ], 'dashes give 099012');
$r = api('GET', '/num/tfn/query/tfn/800FLOWERS', token => $ruc);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '099012' ], 'letters give 099012');
$r = api('GET', '/num/tfn/query/tfn/2125551234', token => $ruc);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '801116' ], 'geographic NPA gives 801116');
$r = api('GET', '/num/tfn/query/tfn/8225551234', token => $ruc);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '801116' ], 'unopened 822 gives 801116');
for my $npa (qw(800 833 844 855 866 877 888))
{
	$r = api('GET', "/num/tfn/query/tfn/${npa}5550000", token => $ruc);
	is($r->{status}, 200, "NPA $npa is open");
}

# query many, in request order
my $list = join '', map { "<num>$_</num>" } qw(8005560003 8005550998 8005560001);
$r = api('PUT', '/num/tfn/query', token => $ruc,
	body => "<numQuery><numList>$list</numList></numQuery>");
is($r->{status}, 200, 'query of a list answers 200');
is_deeply([ xall($r->{body}, 'num') ], [qw(8005560003 8005550998 8005560001)],
	'query of a list answers in request order');
is_deeply([ xall($r->{body}, 'status') ], [qw(WORKING SPARE WORKING)], 'statuses per number');

$list = join '', map { "<num>80055500$_</num>" } 10 .. 20;
$r = api('PUT', '/num/tfn/query', token => $ruc,
	body => "<numQuery><numList>$list</numList></numQuery>");
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '099045' ], '11 numbers give 099045');
$list = join '', map { "<num>80055500$_</num>" } 10 .. 19;
$r = api('PUT', '/num/tfn/query', token => $ruc,
	body => "<numQuery><numList>$list</numList></numQuery>");
is($r->{status}, 200, '10 numbers are allowed');
$r = api('PUT', '/num/tfn/query', token => $ruc, body => '<numQuery><numList/></numQuery>');
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '099027' ], 'empty numList gives 099027');
$r = api('PUT', '/num/tfn/query', token => $ruc, body => '<numQuery/>');
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '099027' ], 'missing numList gives 099027');
$r = api('PUT', '/num/tfn/query', token => $ruc,
	body => '<numQuery><numList><num>8005550001</num><num>12</num></numList></numQuery>');
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '099012' ], 'one bad number fails the list with 099012');

# documents
$r = api('PUT', '/num/tfn/query', token => $ruc, body => '<numQuery><numList>');
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '099070' ], 'malformed document gives 099070');
$r = api('PUT', '/num/tfn/query', token => $ruc, body => '<other/>');
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '099070' ], 'wrong root element gives 099070');
$r = api('PUT', '/num/tfn/query', token => $ruc,
	body => '<!DOCTYPE numQuery [<!ENTITY n "8005550001">]><numQuery><numList><num>&n;</num></numList></numQuery>');
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '099070' ], 'document with a DTD gives 099070');
$r = api('PUT', '/num/tfn/query', token => $ruc);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '099027' ], 'missing document gives 099027');
$r = api('PUT', '/num/tfn/query', token => $ruc, body => '<numQuery>' . ('x' x (1100 * 1024)) . '</numQuery>');
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '099070' ], 'document over 1 MiB gives 099070');

# paths and methods
$r = api('GET', '/num/tfn/nosuch', token => $ruc);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 404, '099043' ], 'unknown path answers 404');
$r = api('POST', '/num/tfn/query/tfn/8005560001', token => $ruc);
is($r->{status}, 405, 'wrong method answers 405');

done_testing();
