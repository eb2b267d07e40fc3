# Sessions of the simulator: open, one session per user with an override
# key, close, token errors (900901, 900902, 900903) and wrong credentials.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../sim/perl";
use SimTest;
use Test::More;

reset_sim();
my ($u, $other) = users();

sub open_body
{
	my ($name, $password, $key) = @_;
	my $k = defined $key ? "<sessOverrideKey>$key</sessOverrideKey>" : '';
	return "<sessionOpen><usrName>$name</usrName><password>$password</password>$k</sessionOpen>";
}

# open
my $r = api('POST', '/sec/session/open', body => open_body($u->{name}, $u->{password}));
is($r->{status}, 200, 'session open answers 200');
my $token = xtext($r->{body}, 'oauthToken');
like($token, qr/^[0-9a-f]{64}$/, 'session open returns a token');
is(xtext($r->{body}, 'expiresIn'), 3600, 'token expires in 3600 s by default');
is(xtext($r->{body}, 'respOrgId'), $u->{resporg}, 'session names the user RespOrg');
is_deeply([ sort(xall($r->{body} =~ m{<updList>(.*)</updList>}s ? $1 : '', 'respOrgId')) ],
	[ sort @{ $u->{upd} } ], 'updList lists the RespOrgs of the users file');

$r = api('GET', '/num/res/limits', token => $token);
is($r->{status}, 200, 'token works for an API call');

# wrong credentials and missing fields
$r = api('POST', '/sec/session/open', body => open_body($u->{name}, 'wrong'));
is($r->{status}, 401, 'wrong password answers 401');
is_deeply([ err_codes($r->{body}) ], ['701002'], 'wrong password gives 701002');
$r = api('POST', '/sec/session/open', body => open_body('nosuchuser', 'x'));
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 401, '701002' ], 'unknown user gives 701002');
$r = api('POST', '/sec/session/open', body => '<sessionOpen><usrName>x</usrName></sessionOpen>');
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '099027' ], 'missing password gives 099027');
$r = api('POST', '/sec/session/open', body => '<sessionOpen><usrName>');
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 400, '099070' ], 'malformed open gives 099070');

# one session per user
$r = api('POST', '/sec/session/open', body => open_body($u->{name}, $u->{password}));
is($r->{status}, 409, 'second open while the first is valid answers 409');
is_deeply([ err_codes($r->{body}) ], ['701003'], 'second open gives 701003');
my $key = xtext($r->{body}, 'sessOverrideKey');
ok($key, 'second open returns a sessOverrideKey');
$r = api('GET', '/num/res/limits', token => $token);
is($r->{status}, 200, 'the first session still works after a refused open');

$r = api('POST', '/sec/session/open', body => open_body($u->{name}, $u->{password}, 'k-wrong'));
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 409, '701004' ], 'wrong override key gives 701004');

$r = api('POST', '/sec/session/open', body => open_body($u->{name}, $u->{password}, $key));
is($r->{status}, 200, 'open with the override key answers 200');
my $token2 = xtext($r->{body}, 'oauthToken');
isnt($token2, $token, 'override opens a new token');
$r = api('GET', '/num/res/limits', token => $token);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 401, '900903' ], 'the overridden token gives 900903');
$r = api('POST', '/sec/session/open', body => open_body($u->{name}, $u->{password}, $key));
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 409, '701004' ], 'an override key works once');

# another user is independent
$r = api('POST', '/sec/session/open', body => open_body($other->{name}, $other->{password}));
is($r->{status}, 200, 'another user opens a session of its own');

# token errors
$r = api('GET', '/num/res/limits');
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 401, '900902' ], 'missing token gives 900902');
$r = api('GET', '/num/res/limits', headers => ['Authorization: Basic abc']);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 401, '900902' ], 'non-bearer credentials give 900902');
$r = api('GET', '/num/res/limits', token => 'f' x 64);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 401, '900901' ], 'unknown token gives 900901');

# admin expiry
is(admin('POST', '/sessions/expire')->{status}, 200, 'admin expires every session');
$r = api('GET', '/num/res/limits', token => $token2);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 401, '900903' ], 'expired token gives 900903');
$r = api('POST', '/sec/session/open', body => open_body($u->{name}, $u->{password}));
is($r->{status}, 200, 'open after expiry needs no override key');
my $token3 = xtext($r->{body}, 'oauthToken');

# close
$r = api('PUT', '/sec/session/close', token => $token3);
is($r->{status}, 200, 'session close answers 200');
is(xtext($r->{body}, 'status'), 'success', 'session close reports success');
$r = api('GET', '/num/res/limits', token => $token3);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 401, '900901' ], 'closed token gives 900901');
$r = api('POST', '/sec/session/close', token => $token3);
is($r->{status}, 405, 'session close with POST answers 405');
$r = api('POST', '/sec/session/open', body => open_body($u->{name}, $u->{password}));
is($r->{status}, 200, 'open after close needs no override key');

# lifetime from --session-ttl, on a private simulator
my $own = start_sim('--numbers', '100', '--session-ttl', '1');
set_sim($own);
$r = api('POST', '/sec/session/open', body => open_body($u->{name}, $u->{password}));
is(xtext($r->{body}, 'expiresIn'), 1, '--session-ttl sets expiresIn');
my $short = xtext($r->{body}, 'oauthToken');
sleep 2;
$r = api('GET', '/num/res/limits', token => $short);
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 401, '900903' ], 'token past its lifetime gives 900903');
$r = api('POST', '/sec/session/open', body => open_body($u->{name}, $u->{password}));
is($r->{status}, 200, 'an expired session does not block a new open');

# the log never shows the password
my $log = admin('GET', '/requests?path=/sec/session/open')->{body};
unlike($log, qr/\Q$u->{password}\E/, 'request log hides the password');
like($log, qr{<password>\*\*\*</password>}, 'request log shows *** for the password');

done_testing();
