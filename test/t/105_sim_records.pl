# Customer records of the simulator: query with paging, retrieve of number
# and template records, create, update, copy (regular and pointer) and
# disconnect, the clock-driven record statuses, and every record error.
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
	my ($num) = @_;
	my $r = api('POST', '/num/tfn/reserve', token => $ruc,
		body => "<numReserve><numList><num>$num</num></numList>$contact</numReserve>");
	die "reserve $num failed: $r->{body}" unless $r->{body} =~ /RESERVED/;
	return;
}

# ts($seconds_from_now): a quarter-hour timestamp at least that far ahead.
sub ts
{
	my ($ahead) = @_;
	my $t = clock_now() + $ahead;
	$t += 900 - $t % 900 if $t % 900;
	return strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($t));
}
sub day { return strftime('%Y-%m-%d', gmtime(clock_now() + 86400 * $_[0])) }

sub rec_body
{
	my ($key, $eff, %o) = @_;
	my $cmd = $o{cmd} // 'U';
	my $extra = $o{extra} // '';
	my $version = defined $o{version} ? "<recVersionId>$o{version}</recVersionId>" : '';
	return "<custRec cmd=\"$cmd\">$key<effDtTm>$eff</effDtTm>$version"
	  . '<svcOrderNum>S7654321B</svcOrderNum><hldIndFlag>' . ($o{hold} // 'N') . '</hldIndFlag>'
	  . '<interLATACarrier><cic>0288</cic></interLATACarrier>'
	  . '<destNums><destNum><num>7325550000</num><numTermLine>10</numTermLine></destNum></destNums>'
	  . $extra . '</custRec>';
}

sub create { my ($num, $eff, %o) = @_; return api('POST', '/cus/rec', token => $o{token} // $ruc, body => rec_body("<num>$num</num>", $eff, %o)) }
sub change { my ($num, $eff, %o) = @_; return api('PUT', '/cus/rec', token => $ruc, body => rec_body("<num>$num</num>", $eff, %o)) }
sub copy { my ($inner, $token) = @_; return api('POST', '/cus/rec/copy', token => $token // $ruc, body => "<recCopy>$inner</recCopy>") }
sub code_of { my ($r) = @_; return [ $r->{status}, err_codes($r->{body}) ] }

# query and retrieve seeded records
my $r = api('GET', '/cus/rec/query/8005560001', token => $ruc);
is($r->{status}, 200, 'record query answers 200');
is(xtext($r->{body}, 'numStatus'), 'WORKING', 'record query shows the number status');
is(xtext($r->{body}, 'custRecStat'), 'ACTIVE', 'a seeded WORKING number has an ACTIVE record');
is(xtext($r->{body}, 'more'), 'N', 'one page only');
my $seeded_eff = xtext($r->{body}, 'effDtTm');

$r = api('GET', '/cus/rec/tfnum/8005560001', token => $ruc);
is($r->{status}, 200, 'retrieve answers 200');
is(xtext($r->{body}, 'custRecStat'), 'ACTIVE', 'retrieve without effDtTm returns the ACTIVE record');
is(xtext($r->{body}, 'custRecCompPart'), 'CAD, LAD, CPR', 'fixed numbers have CAD, LAD and CPR');
like($r->{body}, qr{<cprSect name="MAIN">.*</cprSect>}s, 'retrieve returns the CPR');
like($r->{body}, qr{<lbl name="\*EAST" type="ST">}, 'retrieve returns the LAD');
$r = api('GET', "/cus/rec/tfnum/8005560001?effDtTm=$seeded_eff", token => $ruc);
is(xtext($r->{body}, 'effDtTm'), $seeded_eff, 'retrieve by effDtTm');
is_deeply(code_of(api('GET', '/cus/rec/tfnum/8005560001?effDtTm=2020-01-01T00:00:00Z', token => $ruc)),
	[ 404, '506001' ], 'retrieve at a time without a record gives 506001');
is_deeply(code_of(api('GET', '/cus/rec/tfnum/8005560001?effDtTm=yesterday', token => $ruc)),
	[ 400, '099044' ], 'bad effDtTm gives 099044');
is_deeply(code_of(api('GET', '/cus/rec/tfnum/8005560003', token => $ruc)), [ 403, '099038' ],
	'retrieve of another RespOrg number gives 099038');
is_deeply(code_of(api('GET', '/cus/rec/query/8005560003', token => $ruc)), [ 403, '099038' ],
	'record query of another RespOrg number gives 099038');
is_deeply(code_of(api('GET', '/cus/rec/tfnum/8005560010', token => $ruc)), [ 404, '505001' ],
	'retrieve of a number without records gives 505001');
is_deeply(code_of(api('GET', '/cus/rec/query/8005550999', token => $ruc)), [ 404, '505001' ],
	'record query of a SPARE number gives 505001');

# templates
$r = api('GET', '/cus/tpl/tmplName/%2ARUSALES', token => $ruc);
is($r->{status}, 200, 'template retrieve answers 200');
is(xtext($r->{body}, 'tmplName'), '*RUSALES', 'template record names the template');
$r = api('GET', '/cus/tpl/tmplName/%2ARUSUPPORT', token => $ruc);
is($r->{status}, 200, 'template *RUSUPPORT exists');
is_deeply(code_of(api('GET', '/cus/tpl/tmplName/%2ARUSALES', token => $abc)), [ 403, '099038' ],
	'another entity template gives 099038');
is_deeply(code_of(api('GET', '/cus/tpl/tmplName/%2ARUNONE', token => $ruc)), [ 404, '506001' ],
	'unknown template gives 506001');
$r = api('POST', '/cus/rec', token => $ruc, body => rec_body('<tmplName>*RUNEW</tmplName>', ts(3600)));
is($r->{status}, 200, 'a template record is created');
is(xtext($r->{body}, 'tmplName'), '*RUNEW', 'the answer names the template');
is_deeply(code_of(api('POST', '/cus/rec', token => $abc, body => rec_body('<tmplName>*RUOTHER</tmplName>', ts(3600))))
	, [ 403, '099038' ], 'creating a template of another entity gives 099038');
is_deeply(code_of(api('POST', '/cus/rec', token => $ruc, body => rec_body('<tmplName>RUBAD</tmplName>', ts(3600))))
	, [ 400, '099043' ], 'a template name without * gives 099043');

# create and update
reserve('8005550700');
my $eff = ts(86400);
$r = create('8005550700', $eff);
is($r->{status}, 200, 'create answers 200');
is(xtext($r->{body}, 'custRecStat'), 'PENDING', 'a future record is PENDING');
is(xtext($r->{body}, 'effDtTm'), $eff, 'the answer echoes the effective time');
my $v = xtext($r->{body}, 'recVersionId');
is(num_info($ruc, '8005550700')->{status}, 'ASSIGNED', 'the number is ASSIGNED');
$r = api('GET', "/cus/rec/tfnum/8005550700", token => $ruc);
like($r->{body}, qr{<svcOrderNum>S7654321B</svcOrderNum>}, 'the record keeps its CAD content');
is(xtext($r->{body}, 'custRecCompPart'), 'CAD', 'a record without LAD and CPR is CAD');

is_deeply(code_of(create('8005550700', $eff)), [ 409, '502002' ], 'a second record at the same time gives 502002');
is_deeply(code_of(create('8005550700', '2020-01-01T00:00:00Z')), [ 409, '502004' ], 'a past time gives 502004');
is_deeply(code_of(create('8005550700', '2030-01-01T00:07:00Z')), [ 409, '502007' ], 'minutes off the quarter hour give 502007');
is_deeply(code_of(create('8005550700', ts(200 * 86400))), [ 409, '599001' ], 'more than 6 months ahead gives 599001');
is_deeply(code_of(create('8005550700', 'tomorrow')), [ 400, '099044' ], 'a bad time format gives 099044');
is_deeply(code_of(api('POST', '/cus/rec', token => $ruc, body => '<custRec><effDtTm>NOW</effDtTm></custRec>')),
	[ 400, '099027' ], 'a record without num or tmplName gives 099027');
is_deeply(code_of(api('POST', '/cus/rec', token => $ruc, body => '<custRec cmd="X"><num>8005550700</num></custRec>')),
	[ 400, '099043' ], 'cmd other than U or S gives 099043');
is_deeply(code_of(create('8005550701', ts(3600))), [ 409, '502005' ], 'a record on a SPARE number gives 502005');
is_deeply(code_of(create('8005560003', ts(3600))), [ 403, '099038' ], 'a record on another RespOrg number gives 099038');

$r = change('8005550700', $eff, version => $v, cmd => 'S');
is($r->{status}, 200, 'update answers 200');
is(xtext($r->{body}, 'custRecStat'), 'SAVED', 'cmd S saves the record');
my $v2 = xtext($r->{body}, 'recVersionId');
isnt($v2, $v, 'update changes recVersionId');
is_deeply(code_of(change('8005550700', $eff, version => $v)), [ 409, '099003' ], 'stale recVersionId gives 099003');
is_deeply(code_of(change('8005550700', $eff)), [ 400, '099027' ], 'missing recVersionId gives 099027');
is_deeply(code_of(change('8005550700', ts(2 * 86400), version => $v2)), [ 404, '506001' ], 'update of a missing record gives 506001');
$r = change('8005550700', $eff, version => $v2, hold => 'Y');
is(xtext($r->{body}, 'custRecStat'), 'HOLD', 'hldIndFlag Y holds the record');
is_deeply(code_of(change('8005560001', $seeded_eff, version => 1)), [ 409, '511006' ],
	'an ACTIVE record cannot be updated (511006)');

# a SAVED record whose time has passed cannot be changed (507003)
reserve('8005550702');
$r = create('8005550702', 'NOW', cmd => 'S');
my $saved_eff = xtext($r->{body}, 'effDtTm');
admin('POST', '/clock/advance?minutes=1');
is_deeply(code_of(change('8005550702', $saved_eff, version => xtext($r->{body}, 'recVersionId'))),
	[ 409, '507003' ], 'a past-dated record cannot be changed (507003)');

# paging by 10
reserve('8005550703');
my @effs = map { ts(3600 + $_ * 900) } 0 .. 11;
create('8005550703', $_) for @effs;
$r = api('GET', '/cus/rec/query/8005550703', token => $ruc);
is(scalar(xall($r->{body}, 'effDtTm')), 10, 'record query returns 10 records');
is(xtext($r->{body}, 'more'), 'Y', 'more is Y when records remain');
is_deeply([ xall($r->{body}, 'effDtTm') ], [ @effs[ 0 .. 9 ] ], 'records ascend by effective time');
$r = api('GET', "/cus/rec/query/8005550703?startEffDtTm=$effs[9]", token => $ruc);
is_deeply([ xall($r->{body}, 'effDtTm') ], [ @effs[ 10, 11 ] ], 'startEffDtTm continues after the given time');
is(xtext($r->{body}, 'more'), 'N', 'more is N on the last page');

# a new record supersedes the ACTIVE one, which becomes OLD
my $next = ts(600);
$r = create('8005560001', $next);
is(xtext($r->{body}, 'custRecStat'), 'PENDING', 'a future record on a WORKING number is PENDING');
admin('POST', '/clock/advance?minutes=30');
$r = api('GET', '/cus/rec/query/8005560001', token => $ruc);
is_deeply([ xall($r->{body}, 'custRecStat') ], [qw(OLD ACTIVE)], 'PENDING -> ACTIVE at its time, ACTIVE -> OLD');

# copy
reserve('8005550710');
$r = copy('<srcTmplName>*RUSALES</srcTmplName><tgtNum>8005550710</tgtNum><tgtEffDtTm>NOW</tgtEffDtTm>'
	  . '<custRecCompPart>CAD, LAD, CPR</custRecCompPart>');
is($r->{status}, 200, 'copy from a template answers 200');
is(xtext($r->{body}, 'custRecStat'), 'ACTIVE', 'a NOW copy is ACTIVE');
is(num_info($ruc, '8005550710')->{status}, 'WORKING', 'the target number is WORKING');
$r = api('GET', '/cus/rec/tfnum/8005550710', token => $ruc);
like($r->{body}, qr{<cprSect name="MAIN">}, 'the copy has the template CPR');
like($r->{body}, qr{<lbl name="\*EAST"}, 'the copy has the template LAD');

reserve('8005550711');
copy('<srcNum>8005560001</srcNum><srcEffDtTm>' . $next . '</srcEffDtTm><tgtNum>8005550711</tgtNum>'
	  . '<tgtEffDtTm>NOW</tgtEffDtTm><custRecCompPart>CAD</custRecCompPart>');
$r = api('GET', '/cus/rec/tfnum/8005550711', token => $ruc);
is(xtext($r->{body}, 'custRecCompPart'), 'CAD', 'copying CAD only leaves LAD and CPR out');
unlike($r->{body}, qr{<cprSect}, 'no CPR in a CAD-only copy');

reserve('8005550712');
$r = copy('<srcTmplName>*RUSUPPORT</srcTmplName><tgtNum>8005550712</tgtNum><tgtEffDtTm>NOW</tgtEffDtTm>'
	  . '<custRecCompPart>CAD</custRecCompPart><pointer>Y</pointer>');
is($r->{status}, 200, 'pointer copy answers 200');
$r = api('GET', '/cus/rec/tfnum/8005550712', token => $ruc);
is(xtext($r->{body}, 'custRecCompPart'), 'PAD', 'a pointer record is PAD');
is(xtext($r->{body}, 'tmplName'), '*RUSUPPORT', 'a pointer record names its template');

my $later = ts(7200);
$r = copy("<srcNum>8005560001</srcNum><tgtNum>8005560001</tgtNum><tgtEffDtTm>$later</tgtEffDtTm>");
is(xtext($r->{body}, 'custRecStat'), 'PENDING', 'copy onto the source number at a future time');

reserve('8005550713');
my @copy_errors = (
	[ '<srcTmplName>*RUSALES</srcTmplName><tgtNum>8005550713</tgtNum><tgtEffDtTm>NOW</tgtEffDtTm><custRecCompPart>CAD, CPR</custRecCompPart><pointer>Y</pointer>', 409, '7763', 'CPR in a pointer record' ],
	[ '<srcTmplName>*RUSALES</srcTmplName><tgtNum>8005560005</tgtNum><tgtEffDtTm>NOW</tgtEffDtTm>', 409, '506002', 'a WORKING target' ],
	[ '<srcTmplName>*RUSALES</srcTmplName><tgtNum>8005550713</tgtNum><tgtEffDtTm>2020-01-01T00:00:00Z</tgtEffDtTm>', 409, '506007', 'a past target time' ],
	[ '<srcTmplName>*RUSALES</srcTmplName><tgtNum>8005550713</tgtNum><tgtEffDtTm>2030-01-01T00:10:00Z</tgtEffDtTm>', 409, '502007', 'a target time off the quarter hour' ],
	[ '<srcTmplName>*RUSALES</srcTmplName><tgtNum>8005550713</tgtNum><tgtEffDtTm>' . ts(200 * 86400) . '</tgtEffDtTm>', 409, '599001', 'a target time beyond 6 months' ],
	[ '<srcNum>8005560001</srcNum><srcEffDtTm>2020-01-01T00:00:00Z</srcEffDtTm><tgtNum>8005550713</tgtNum><tgtEffDtTm>NOW</tgtEffDtTm>', 404, '506001', 'a missing source record' ],
	[ '<srcTmplName>*RUNONE</srcTmplName><tgtNum>8005550713</tgtNum><tgtEffDtTm>NOW</tgtEffDtTm>', 404, '506001', 'an unknown template' ],
	[ '<srcNum>8005560003</srcNum><tgtNum>8005550713</tgtNum><tgtEffDtTm>NOW</tgtEffDtTm>', 403, '099038', 'another RespOrg source' ],
	[ '<tgtNum>8005550713</tgtNum><tgtEffDtTm>NOW</tgtEffDtTm>', 400, '099027', 'no source' ],
	[ "<srcNum>8005560001</srcNum><tgtNum>8005560001</tgtNum><tgtEffDtTm>$later</tgtEffDtTm>", 409, '502002', 'a target time already taken' ],
);
for my $c (@copy_errors)
{
	is_deeply(code_of(copy($c->[0])), [ $c->[1], $c->[2] ], "copy with $c->[3] gives $c->[2]");
}
is(num_info($ruc, '8005550713')->{status}, 'RESERVED', 'refused copies leave the target RESERVED');

# disconnect rules
sub disconnect
{
	my ($num, $eff, $eint, $token) = @_;
	my $e = defined $eint ? "<endInterceptDt>$eint</endInterceptDt>" : '';
	return api('POST', '/cus/rec/disconnect', token => $token // $ruc,
		body => "<recDisconnect><num>$num</num><tgtEffDtTm>$eff</tgtEffDtTm>$e<referral>Y</referral></recDisconnect>");
}
my @disc_errors = (
	[ '8005560010', 'NOW', day(30), 409, '512001', 'a RESERVED number' ],
	[ '8005560002', 'NOW', day(-1), 409, '512015', 'end of intercept before the disconnect' ],
	[ '8005560002', 'NOW', day(181), 409, '512015', 'end of intercept after 180 days' ],
	[ '8005560002', ts(86400), 'NOW', 409, '512016', 'end of intercept NOW with a future disconnect' ],
	[ '8005560002', '2020-01-01T00:00:00Z', day(30), 409, '502004', 'a past time' ],
	[ '8005560002', '2030-01-01T00:05:00Z', day(30), 409, '502007', 'a time off the quarter hour' ],
	[ '8005560002', ts(200 * 86400), undef, 409, '599001', 'a time beyond 6 months' ],
	[ '8005560003', 'NOW', day(30), 403, '099038', 'another RespOrg number' ],
	[ '8005560002', 'NOW', 'someday', 400, '099044', 'a bad end-intercept date' ],
);
for my $c (@disc_errors)
{
	is_deeply(code_of(disconnect(@$c[ 0 .. 2 ])), [ $c->[3], $c->[4] ], "disconnect of $c->[5] gives $c->[4]");
}
my $disc_eff = ts(3600);
my $end_intercept = day(40);    # taken now: the clock moves below
$r = disconnect('8005560002', $disc_eff, $end_intercept);
is(xtext($r->{body}, 'custRecStat'), 'PENDING', 'a future disconnect record is PENDING');
is(num_info($ruc, '8005560002')->{status}, 'WORKING', 'the number stays WORKING until then');
admin('POST', '/clock/advance?minutes=75');
is(num_info($ruc, '8005560002')->{status}, 'DISCONNECT', 'WORKING -> DISCONNECT at the disconnect time');
$r = api('GET', '/cus/rec/tfnum/8005560002', token => $ruc);
is(xtext($r->{body}, 'custRecStat'), 'DISCONNECT', 'retrieve returns the DISCONNECT record');
is(xtext($r->{body}, 'referral'), 'Y', 'the disconnect record keeps referral');
is(xtext($r->{body}, 'endInterceptDt'), $end_intercept, 'the disconnect record keeps endInterceptDt');

# SENDING lasts --scp-delay; records are locked meanwhile (506016)
my $own = start_sim('--numbers', '0', '--scp-delay', '600');
set_sim($own);
$ruc = login(0);
reserve('8005550720');
$r = create('8005550720', 'NOW');
is(xtext($r->{body}, 'custRecStat'), 'SENDING', 'a NOW record is SENDING during the SCP delay');
is(num_info($ruc, '8005550720')->{status}, 'ASSIGNED', 'the number stays ASSIGNED while SENDING');
is_deeply(code_of(create('8005550720', ts(86400))), [ 409, '506016' ], 'a record while SENDING gives 506016');
is_deeply(code_of(copy('<srcTmplName>*RUSALES</srcTmplName><tgtNum>8005550720</tgtNum><tgtEffDtTm>' . ts(86400) . '</tgtEffDtTm>')),
	[ 409, '506016' ], 'a copy onto a SENDING number gives 506016');
admin('POST', '/clock/advance?minutes=11');
$r = api('GET', '/cus/rec/query/8005550720', token => $ruc);
is(xtext($r->{body}, 'custRecStat'), 'ACTIVE', 'SENDING -> ACTIVE after the SCP delay');
is(num_info($ruc, '8005550720')->{status}, 'WORKING', 'the number is WORKING');

done_testing();
