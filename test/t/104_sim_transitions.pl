# The number status transition table of the simulator, row by row, with
# the timers (45-day reservation, 6-month ASSIGNED limit, end of intercept,
# 45-day minimum and 120-day automatic aging) and the update rules
# (spare, change RespOrg, contact data, recVersionId).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../sim/perl";
use SimTest;
use Test::More;
use File::Temp qw(tempdir);
use POSIX qw(strftime);

my ($ruc, $abc);
my $contact = '<conName>Jane Roe</conName><conTel>7325551234</conTel>';

sub start_over
{
	reset_sim();
	$ruc = login(0);
	$abc = login(2);
	return;
}

sub status_of { return num_info($ruc, $_[0])->{status} }
sub day { return strftime('%Y-%m-%d', gmtime(clock_now() + 86400 * ($_[0] // 0))) }

sub reserve
{
	my ($num) = @_;
	my $r = api('POST', '/num/tfn/reserve', token => $ruc,
		body => "<numReserve><numList><num>$num</num></numList>$contact</numReserve>");
	return $r;
}

# update($token, $num, $inner [, $version]): one-number update with the
# current recVersionId unless one is given; returns the numResult.
sub update
{
	my ($token, $num, $inner, $version) = @_;
	$version //= num_info($ruc, $num)->{recVersionId};
	my $r = api('PUT', '/num/tfn/update', token => $token,
		body => "<numUpdate><tfNumList><tfNum><num>$num</num><recVersionId>$version</recVersionId>"
		  . "</tfNum></tfNumList>$inner</numUpdate>");
	die "update of $num failed: $r->{status} $r->{body}\n" unless $r->{status} == 200;
	return $r->{body} =~ m{<numResult>(.*?)</numResult>} ? $1 : '';
}

sub create_record
{
	my ($num, $eff, $cmd) = @_;
	$cmd //= 'U';
	return api('POST', '/cus/rec', token => $ruc,
		body => "<custRec cmd=\"$cmd\"><num>$num</num><effDtTm>$eff</effDtTm>"
		  . '<svcOrderNum>S1234567A</svcOrderNum>'
		  . '<interLATACarrier><cic>0288</cic></interLATACarrier>'
		  . '<destNums><destNum><num>7325550000</num><numTermLine>10</numTermLine></destNum></destNums>'
		  . '</custRec>');
}

sub disconnect
{
	my ($num, $eff, $eint) = @_;
	return api('POST', '/cus/rec/disconnect', token => $ruc,
		body => "<recDisconnect><num>$num</num><tgtEffDtTm>$eff</tgtEffDtTm>"
		  . "<endInterceptDt>$eint</endInterceptDt><referral>N</referral></recDisconnect>");
}

sub advance { my $r = admin('POST', "/clock/advance?$_[0]"); die $r->{body} unless $r->{status} == 200 }

start_over();

# (never held) -> SPARE
is(status_of('8005550500'), 'SPARE', 'a number never held is SPARE');

# SPARE -> RESERVED
is(xtext(reserve('8005550500')->{body}, 'status'), 'RESERVED', 'SPARE -> RESERVED by reserve');

# SPARE -> UNAVAILABLE and RESERVED -> UNAVAILABLE (administrator actions)
is(admin('PUT', '/number/8005550501?status=UNAVAILABLE')->{status}, 200, 'admin makes a SPARE number UNAVAILABLE');
my $info = num_info($ruc, '8005550501');
is($info->{status}, 'UNAVAILABLE', 'SPARE -> UNAVAILABLE by the administrator');
ok(!exists $info->{ctrlRespOrgId}, 'UNAVAILABLE number has no RespOrg');
is_deeply([ err_codes(reserve('8005550501')->{body}) ], ['801124'], 'UNAVAILABLE number cannot be reserved');
admin('PUT', '/number/8005550500?status=UNAVAILABLE');
is(status_of('8005550500'), 'UNAVAILABLE', 'RESERVED -> UNAVAILABLE by the administrator');
is(status_of('8005560050'), 'UNAVAILABLE', 'fixed number 8005560050 is UNAVAILABLE');

# RESERVED -> ASSIGNED by creating a record
reserve('8005550502');
my $r = create_record('8005550502', 'NOW', 'S');
is($r->{status}, 200, 'record created on a RESERVED number');
is(status_of('8005550502'), 'ASSIGNED', 'RESERVED -> ASSIGNED when a record is created');

# ASSIGNED -> WORKING when the record takes effect (NOW)
reserve('8005550503');
$r = create_record('8005550503', 'NOW');
is(xtext($r->{body}, 'custRecStat'), 'ACTIVE', 'a NOW record is ACTIVE at once (SCP delay 0)');
is(status_of('8005550503'), 'WORKING', 'RESERVED -> ASSIGNED -> WORKING with a NOW record');

# RESERVED -> SPARE by the RespOrg
reserve('8005550504');
my $res = update($ruc, '8005550504', '<status>SPARE</status>');
is(xtext($res, 'status'), 'SPARE', 'RESERVED -> SPARE by update');
$info = num_info($ruc, '8005550504');
is($info->{status}, 'SPARE', 'spared number queries as SPARE');
ok(!exists $info->{ctrlRespOrgId} && !exists $info->{conName}, 'spared number loses RespOrg and contact');

# TRANSITIONAL -> RESERVED by re-reservation
is(xtext(reserve('8005560041')->{body}, 'status'), 'RESERVED', 'TRANSITIONAL -> RESERVED by reserve');

# TRANSITIONAL -> ASSIGNED is not allowed directly
$r = create_record('8005560040', 'NOW');
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 409, '502005' ],
	'TRANSITIONAL number needs re-reservation before a record (502005)');

# WORKING -> DISCONNECT, DISCONNECT -> TRANSITIONAL at once with NOW
$r = disconnect('8005560005', 'NOW', day(30));
is($r->{status}, 200, 'disconnect answers 200');
is(xtext($r->{body}, 'custRecStat'), 'DISCONNECT', 'a NOW disconnect record takes effect at once');
$info = num_info($ruc, '8005560005');
is($info->{status}, 'DISCONNECT', 'WORKING -> DISCONNECT by a disconnect record');
is($info->{lastActDt}, day(0), 'lastActDt is the disconnect day');
is($info->{discUntilDt}, day(120), 'discUntilDt is 120 days after the last active day');
$r = disconnect('8005560006', 'NOW', 'NOW');
is(status_of('8005560006'), 'TRANSITIONAL', 'end of intercept NOW makes the number TRANSITIONAL at once');

# manual spare needs 45 days of aging
$res = update($ruc, '8005560030', '<status>SPARE</status>');
is(xtext($res, 'status'), 'SPARE', 'DISCONNECT aged 60 days -> SPARE by update');
$res = update($ruc, '8005560031', '<status>SPARE</status>');
is_deeply([ err_codes($res) ], ['801140'], 'DISCONNECT aged 10 days cannot be spared (801140)');
$res = update($ruc, '8005560005', '<status>SPARE</status>');
is_deeply([ err_codes($res) ], ['801140'], 'a number disconnected today cannot be spared (801140)');

# update rules
$res = update($ruc, '8005560001', '<status>SPARE</status>');
is_deeply([ err_codes($res) ], ['801131'], 'WORKING number cannot be spared (801131)');
$res = update($ruc, '8005550505', '<status>SPARE</status>', 1);
is_deeply([ err_codes($res) ], ['801130'], 'SPARE number gives 801130');
$res = update($ruc, '8005560003', '<status>SPARE</status>');
is_deeply([ err_codes($res) ], ['099038'], 'another RespOrg number gives 099038');
$res = update($ruc, '8005560010', '<conName>New Name</conName>', 999);
is_deeply([ err_codes($res) ], ['099003'], 'stale recVersionId gives 099003');
my $v = num_info($ruc, '8005560010')->{recVersionId};
$res = update($ruc, '8005560010', '<conName>New Name</conName>');
is(xtext($res, 'recVersionId'), $v + 1, 'every write changes recVersionId');
is(num_info($ruc, '8005560010')->{conName}, 'New Name', 'contact data updated');
$res = update($ruc, '8005560010', '<resUntilDt>' . day(20) . '</resUntilDt>');
is(num_info($ruc, '8005560010')->{resUntilDt}, day(20), 'resUntilDt may move earlier');
$res = update($ruc, '8005560010', '<resUntilDt>' . day(60) . '</resUntilDt>');
is_deeply([ err_codes($res) ], ['099043'], 'resUntilDt past the 45-day cap gives 099043');
$res = update($ruc, '8005560001', '<resUntilDt>' . day(10) . '</resUntilDt>');
is_deeply([ err_codes($res) ], ['801131'], 'resUntilDt on a WORKING number gives 801131');
$r = api('PUT', '/num/tfn/update', token => $ruc,
	body => '<numUpdate><tfNumList><tfNum><num>8005560010</num></tfNum></tfNumList><conName>X</conName></numUpdate>');
is_deeply([ err_codes($r->{body}) ], ['099027'], 'missing recVersionId gives 099027');
$r = api('PUT', '/num/tfn/update', token => $ruc,
	body => '<numUpdate><tfNumList><tfNum><num>8005560010</num><recVersionId>1</recVersionId></tfNum></tfNumList><status>WORKING</status></numUpdate>');
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '099043' ], 'status other than SPARE gives 099043');
$r = api('PUT', '/num/tfn/update', token => $ruc,
	body => '<numUpdate><tfNumList><tfNum><num>8005560010</num><recVersionId>1</recVersionId></tfNum></tfNumList></numUpdate>');
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '099027' ], 'update with nothing to change gives 099027');
my $list = join '', map { "<tfNum><num>80055500$_</num><recVersionId>1</recVersionId></tfNum>" } 10 .. 20;
$r = api('PUT', '/num/tfn/update', token => $ruc,
	body => "<numUpdate><tfNumList>$list</tfNumList><status>SPARE</status></numUpdate>");
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '099045' ], 'update of 11 numbers gives 099045');

# change RespOrg: allowed from ASSIGNED, DISCONNECT, RESERVED, SUSPEND,
# TRANSITIONAL and WORKING
my %changes = (
	'8005560020' => 'ASSIGNED',
	'8005560031' => 'DISCONNECT',
	'8005560014' => 'RESERVED',
	'8005560051' => 'SUSPEND',
	'8005560040' => 'TRANSITIONAL',
	'8005560007' => 'WORKING',
);
for my $num (sort keys %changes)
{
	is(status_of($num), $changes{$num}, "$num is $changes{$num}");
	$res = update($ruc, $num, '<ctrlRespOrgId>RUC02</ctrlRespOrgId>');
	is(xtext($res, 'ctrlRespOrgId'), 'RUC02', "$changes{$num} number changes RespOrg");
	is(num_info($ruc, $num)->{status}, $changes{$num}, "$changes{$num} number keeps its status");
}
$r = api('GET', '/cus/rec/query/8005560020', token => $ruc);
is(xtext($r->{body}, 'custRecStat'), 'MUST CHECK', 'a RespOrg change turns PENDING records into MUST CHECK');
$res = update($ruc, '8005550506', '<ctrlRespOrgId>RUC02</ctrlRespOrgId>', 1);
is_deeply([ err_codes($res) ], ['802112'], 'SPARE number cannot change RespOrg (802112)');
$res = update($ruc, '8005560015', '<ctrlRespOrgId>ZZZ99</ctrlRespOrgId>');
is_deeply([ err_codes($res) ], ['802115'], 'unknown RespOrg gives 802115');
$res = update($ruc, '8005560015', '<ctrlRespOrgId>ABC01</ctrlRespOrgId>');
is_deeply([ err_codes($res) ], ['099038'], 'RespOrg outside the updList gives 099038');

# timers: reservation expiry the day after resUntilDt (8005560012 was
# reserved 44 days ago)
start_over();
is(num_info($ruc, '8005560012')->{resUntilDt}, day(1), '8005560012 is reserved until tomorrow');
advance('days=1');
is(status_of('8005560012'), 'RESERVED', 'still RESERVED on its resUntilDt');
advance('days=1');
is(status_of('8005560012'), 'SPARE', 'RESERVED -> SPARE the day after resUntilDt');

# ASSIGNED -> WORKING when a future record takes effect
start_over();
is(status_of('8005560020'), 'ASSIGNED', '8005560020 is ASSIGNED with a PENDING record');
$r = api('GET', '/cus/rec/query/8005560020', token => $ruc);
my ($y, $mo, $d, $h, $mi) = xtext($r->{body}, 'effDtTm') =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+)/;
require Time::Local;
my $minutes = int((Time::Local::timegm(0, $mi, $h, $d, $mo - 1, $y) - clock_now()) / 60);
advance('minutes=' . ($minutes - 1));
is(status_of('8005560020'), 'ASSIGNED', 'still ASSIGNED a minute before the record time');
advance('minutes=2');
is(status_of('8005560020'), 'WORKING', 'ASSIGNED -> WORKING at the record effective time');

# ASSIGNED -> SPARE after six months without an ACTIVE record
start_over();
reserve('8005550600');
create_record('8005550600', 'NOW', 'S');
is(status_of('8005550600'), 'ASSIGNED', 'a SAVED record keeps the number ASSIGNED');
advance('days=150');
is(status_of('8005550600'), 'ASSIGNED', 'still ASSIGNED after 150 days');
advance('days=35');
is(status_of('8005550600'), 'SPARE', 'ASSIGNED -> SPARE after six months');
$r = api('GET', '/cus/rec/query/8005550600', token => $ruc);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 404, '505001' ], 'its records are purged');

# DISCONNECT -> TRANSITIONAL at the end-intercept date, then the 45-day
# minimum and the 120-day automatic return to SPARE
start_over();
my $eint = day(10);
disconnect('8005560001', 'NOW', $eint);
is(status_of('8005560001'), 'DISCONNECT', '8005560001 disconnected with intercept for 10 days');
advance('days=9');
is(status_of('8005560001'), 'DISCONNECT', 'still DISCONNECT before the end-intercept date');
advance('days=1');
is(status_of('8005560001'), 'TRANSITIONAL', 'DISCONNECT -> TRANSITIONAL at the end-intercept date');
$res = update($ruc, '8005560001', '<status>SPARE</status>');
is_deeply([ err_codes($res) ], ['801140'], 'TRANSITIONAL aged 10 days cannot be spared (801140)');
advance('days=35');
$res = update($ruc, '8005560001', '<status>SPARE</status>');
is(xtext($res, 'status'), 'SPARE', 'TRANSITIONAL aged 45 days -> SPARE by update');

start_over();
is(num_info($ruc, '8005560040')->{discUntilDt}, day(30), '8005560040 ages out in 30 days');
advance('days=29');
is(status_of('8005560040'), 'TRANSITIONAL', 'TRANSITIONAL before 120 days of aging');
is(status_of('8005560030'), 'DISCONNECT', 'DISCONNECT before 120 days of aging');
advance('days=1');
is(status_of('8005560040'), 'SPARE', 'TRANSITIONAL -> SPARE after 120 days');
is(admin('GET', '/number/8005560040')->{body} =~ /<records><\/records>/ ? 1 : 0, 1, 'its records are gone');
advance('days=30');
is(status_of('8005560030'), 'SPARE', 'DISCONNECT -> SPARE after 120 days');

# RespOrg change to another entity counts against the gaining limit
my $dir = tempdir(CLEANUP => 1);
my ($u) = users();
open my $fh, '>', "$dir/users" or die;
print $fh "$u->{name}:$u->{password}:RUC01:RUC01,ABC01\n";
close $fh;
my $own = start_sim('--numbers', '0', '--res-limit', '1', '--users', "$dir/users");
set_sim($own);
$ruc = login(0);
$res = update($ruc, '8005560010', '<ctrlRespOrgId>ABC01</ctrlRespOrgId>');
is_deeply([ err_codes($res) ], ['802110'], 'gaining entity at its reservation limit gives 802110');
$res = update($ruc, '8005560001', '<ctrlRespOrgId>ABC01</ctrlRespOrgId>');
is(xtext($res, 'ctrlRespOrgId'), 'ABC01', 'a WORKING number moves to another entity');

done_testing();
