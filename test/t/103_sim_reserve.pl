# Reserve and search-and-reserve: results per number, contact checks,
# pre-reservation locks (801125), re-reservation of TRANSITIONAL numbers and
# the entity reservation limit (801117, max(--res-limit, 7.5 % of WORKING)).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../sim/perl";
use SimTest;
use Test::More;
use POSIX qw(strftime);

reset_sim();
my $ruc = login(0);
my $abc = login(2);
my $contact = '<conName>Jane Roe</conName><conTel>7325551234</conTel>';

sub reserve
{
	my ($token, $nums, $extra) = @_;
	my $list = join '', map { "<num>$_</num>" } @$nums;
	return api('POST', '/num/tfn/reserve', token => $token,
		body => "<numReserve><numList>$list</numList>" . ($extra // $contact) . '</numReserve>');
}

sub results
{
	my ($body) = @_;
	return [ $body =~ m{<numResult>(.*?)</numResult>}g ];
}

my $today = strftime('%Y-%m-%d', gmtime(clock_now()));
my $until = strftime('%Y-%m-%d', gmtime(clock_now() + 45 * 86400));

my $r = reserve($ruc, [qw(8005550001 8005550002)],
	'<conName>Jane Roe</conName><conTel>7325551234</conTel><shrtNotes>for ACME</shrtNotes>');
is($r->{status}, 200, 'reserve answers 200');
my $res = results($r->{body});
is(scalar @$res, 2, 'one numResult per number');
is(xtext($res->[0], 'status'), 'RESERVED', 'spare number becomes RESERVED');
is(xtext($res->[0], 'ctrlRespOrgId'), 'RUC01', 'reserved for the caller RespOrg');
is(xtext($res->[0], 'resUntilDt'), $until, 'reservation lasts 45 days');
my $info = num_info($ruc, '8005550001');
is($info->{status}, 'RESERVED', 'query shows RESERVED');
is($info->{effDt}, $today, 'effDt is the reservation day');
is($info->{conName}, 'Jane Roe', 'contact name stored');
is($info->{conTel}, '7325551234', 'contact telephone stored');
is($info->{shrtNotes}, 'for ACME', 'short notes stored');

$r = reserve($ruc, [qw(8005550001 8005560001 8005550003)]);
$res = results($r->{body});
is_deeply([ err_codes($res->[0]) ], ['801124'], 'reserving an own RESERVED number gives 801124');
is_deeply([ err_codes($res->[1]) ], ['801124'], 'reserving a WORKING number gives 801124');
is(xtext($res->[2], 'status'), 'RESERVED', 'other numbers of the request still succeed');

# pre-reservation lock of another RespOrg
my $s = api('PUT', '/num/tfn/search', token => $abc,
	body => '<numSearch><numList><num>8005550200</num></numList></numSearch>');
is_deeply([ xall($s->{body}, 'num') ], ['8005550200'], 'ABC01 finds 8005550200');
$r = reserve($ruc, ['8005550200']);
is_deeply([ err_codes(results($r->{body})->[0]) ], ['801125'], 'number pre-reserved by another RespOrg gives 801125');
$r = reserve($abc, ['8005550200']);
is(xtext($r->{body}, 'status'), 'RESERVED', 'the searching RespOrg reserves it');

# re-reservation of TRANSITIONAL numbers
$r = reserve($ruc, ['8005560041']);
is(xtext($r->{body}, 'status'), 'RESERVED', 'own TRANSITIONAL number is re-reserved');
$r = reserve($ruc, ['8005560042']);
is_deeply([ err_codes(results($r->{body})->[0]) ], ['801124'], 'another RespOrg TRANSITIONAL number gives 801124');

# whole-request errors
my @cases = (
	[ [ map { sprintf '80055503%02d', $_ } 0 .. 10 ], $contact, '099045', '11 numbers' ],
	[ ['800555030'], $contact, '099012', 'bad number' ],
	[ ['2125550300'], $contact, '801116', 'geographic number' ],
	[ ['8005550300'], '<conTel>7325551234</conTel>', '099027', 'missing conName' ],
	[ ['8005550300'], '<conName>Jane</conName>', '099027', 'missing conTel' ],
	[ ['8005550300'], '<conName>Jane 2</conName><conTel>7325551234</conTel>', '801120', 'digit in conName' ],
	[ ['8005550300'], '<conName>' . ('x' x 31) . '</conName><conTel>7325551234</conTel>', '801120', 'conName over 30' ],
	[ ['8005550300'], '<conName>Jane|Roe</conName><conTel>7325551234</conTel>', '801120', '| in conName' ],
	[ ['8005550300'], '<conName>Jane</conName><conTel>732555123</conTel>', '801121', 'conTel of 9 digits' ],
	[ ['8005550300'], '<conName>Jane</conName><conTel>1325551234</conTel>', '801121', 'conTel area code 1xx' ],
);
for my $c (@cases)
{
	$r = reserve($ruc, $c->[0], $c->[1]);
	is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, $c->[2] ], "$c->[3] gives $c->[2]");
}
$r = api('POST', '/num/tfn/reserve', token => $ruc, body => "<numReserve>$contact</numReserve>");
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '099027' ], 'missing numList gives 099027');
is(num_info($ruc, '8005550300')->{status}, 'SPARE', 'refused requests change nothing');

# search and reserve
$r = api('POST', '/num/tfn/srchres', token => $ruc,
	body => "<numSrchRes><qty>2</qty><npa>877</npa>$contact</numSrchRes>");
is($r->{status}, 200, 'search-and-reserve answers 200');
$res = results($r->{body});
is(scalar @$res, 2, 'search-and-reserve reserves qty numbers');
is(scalar(grep { xtext($_, 'status') eq 'RESERVED' && xtext($_, 'num') =~ /^877/ } @$res), 2,
	'search-and-reserve numbers are RESERVED in the NPA');
$r = api('POST', '/num/tfn/srchres', token => $ruc,
	body => "<numSrchRes><numList><num>8005560001</num></numList>$contact</numSrchRes>");
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 409, '801122' ], 'search-and-reserve without a match gives 801122');
$r = api('POST', '/num/tfn/srchres', token => $ruc,
	body => "<numSrchRes><numList><num>8005550400</num><num>8005560001</num></numList>$contact</numSrchRes>");
is(xtext($r->{body}, 'status'), 'RESERVED', 'search-and-reserve reserves the spare one');
is_deeply([ err_codes($r->{body}) ], ['801104'], 'search-and-reserve short of numbers gives 801104');
$r = api('POST', '/num/tfn/srchres', token => $ruc, body => '<numSrchRes><qty>1</qty></numSrchRes>');
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '099027' ], 'search-and-reserve without contact gives 099027');
$r = api('POST', '/num/tfn/srchres', token => $ruc, body => "<numSrchRes><qty>12</qty>$contact</numSrchRes>");
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '801105' ], 'search-and-reserve qty 12 gives 801105');

# entity reservation limit, on a private simulator with only the fixed
# numbers: entity RU holds 5 RESERVED and 5 WORKING ones
my $own = start_sim('--numbers', '0', '--res-limit', '8');
set_sim($own);
$ruc = login(0);
my $ruc2 = login(1);
$abc = login(2);
$r = api('GET', '/num/res/limits', token => $ruc);
is_deeply([ map { xtext($r->{body}, $_) } qw(entity maxResLimit resNumCnt remainingRes) ],
	[ 'RU', 8, 5, 3 ], 'limits of entity RU before reserving');
$r = reserve($ruc, [qw(8005550001 8005550002 8005550003 8005550004)]);
$res = results($r->{body});
is(scalar(grep { (xtext($_, 'status') // '') eq 'RESERVED' } @$res), 3, 'three reservations fit the limit');
is_deeply([ err_codes($res->[3]) ], ['801117'], 'the fourth gives 801117');
$r = reserve($ruc2, ['8005550005']);
is_deeply([ err_codes($r->{body}) ], ['801117'], 'the limit is per entity (RUC02 is RU too)');
$r = reserve($abc, ['8005550006']);
is(xtext($r->{body}, 'status'), 'RESERVED', 'another entity has its own limit');
$r = api('GET', '/num/res/limits', token => $ruc);
is_deeply([ map { xtext($r->{body}, $_) } qw(maxResLimit resNumCnt remainingRes) ],
	[ 8, 8, 0 ], 'limits after reaching them');

# 7.5 % of WORKING numbers raises the limit: 165 WORKING numbers give 12
for my $i (1 .. 160)
{
	my $n = sprintf '8776%06d', $i;
	my $a = admin('PUT', "/number/$n?status=WORKING&resporg=RUC02");
	die "cannot force $n: $a->{body}" unless $a->{status} == 200;
}
$r = api('GET', '/num/res/limits', token => $ruc);
is(xtext($r->{body}, 'maxResLimit'), 12, 'limit is 7.5 % of the entity WORKING numbers when higher');
$r = reserve($ruc, [qw(8005550011 8005550012 8005550013 8005550014 8005550015)]);
$res = results($r->{body});
is(scalar(grep { (xtext($_, 'status') // '') eq 'RESERVED' } @$res), 4, 'four more fit the raised limit');
is_deeply([ err_codes($res->[4]) ], ['801117'], 'and then 801117 again');

done_testing();
