# TLS and destination policy: no CA or the wrong CA fails with a
# message naming certificate verification, the right CA works, a
# certificate for another host name fails, the CA file is superuser-only;
# plain http only to a loopback address with toll_free.allow_plain_http.
use strict;
use warnings;
use Test::More;
use IPC::Run ();
use IO::Socket::INET;
use TollFreeTest;

ensure_extension();
sim_reset();

my $certs = "$ENV{TOLL_FREE_SANDBOX_DIR}/certs";
my $tfsim = 'test/sim/tfsim';

# set_conf(%settings): ALTER SYSTEM each setting (undef resets it), reload,
# and wait until a new session sees the last one.
sub set_conf
{
	my (%settings) = @_;
	my $sql = '';
	for my $name (sort keys %settings)
	{
		my $value = $settings{$name};
		$sql .= defined $value
		  ? "ALTER SYSTEM SET toll_free.$name = '$value';\n"
		  : "ALTER SYSTEM RESET toll_free.$name;\n";
	}
	psql_value($sql . 'SELECT pg_reload_conf();');
	my ($last) = sort keys %settings;
	my $want = $settings{$last} // '';
	wait_until(sub { psql_value("SHOW toll_free.$last") eq $want || !defined $settings{$last} }, 5);
	select(undef, undef, undef, 0.2);
	return;
}

sub free_port
{
	my $socket = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0);
	my $port = $socket->sockport;
	close $socket;
	return $port;
}

# start_tfsim(@options): a second simulator of our own on loopback.
sub start_tfsim
{
	my (@options) = @_;
	my $ready = "$ENV{TOLL_FREE_SANDBOX_DIR}/tls-test.ready";
	unlink $ready;
	my $log = '';
	my $h = IPC::Run::start([ $tfsim, '--admin-port', free_port(), '--users', $ENV{TOLL_FREE_SIM_USERS},
		'--numbers', 100, '--ready-file', $ready, @options ], '>&', \$log);
	wait_until(sub { -s $ready }, 20) or diag("tfsim did not start: $log");
	return $h;
}

my $original_url = $ENV{TOLL_FREE_SIM_URL};
my $query = "SELECT status FROM toll_free.tf_query('8005560001'::toll_free.tfn)";

# 1. No CA file: the system store does not know the test CA.
set_conf(ca_file => '');
my $err = psql_fails($query, '08001', 'no CA file');
like($err, qr/registry certificate verification failed/, 'no CA file: message names certificate verification');
like($err, qr/DETAIL:.*(certificate|SSL)/, 'no CA file: libcurl text in the detail');

# An unrelated CA fails the same way.
set_conf(ca_file => "$certs/other-ca.crt");
$err = psql_fails($query, '08001', 'unrelated CA');
like($err, qr/registry certificate verification failed/, 'unrelated CA: certificate verification');

# 2. The right CA.
set_conf(ca_file => $ENV{TOLL_FREE_SIM_CA});
is(psql_value($query), 'WORKING', 'the right CA file: success');

# 3. A certificate for another host name.
my $port = free_port();
my $wrong = start_tfsim('--port', $port, '--tls-cert', "$certs/wrong-host.crt",
	'--tls-key', "$certs/wrong-host.key");
set_conf(url => "https://127.0.0.1:$port/v3/ip");
$err = psql_fails($query, '08001', 'certificate for another host name');
like($err, qr/registry certificate verification failed/, 'wrong host: certificate verification');
$wrong->kill_kill;

# Nothing listening: could not connect.
set_conf(url => "https://127.0.0.1:$port/v3/ip");
$err = psql_fails($query, '08001', 'nothing listening');
like($err, qr/could not connect to the registry/, 'nothing listening: could not connect');

# 4. Plain http: refused unless allowed, and only to a loopback address.
my $plain_port = free_port();
my $plain = start_tfsim('--port', free_port(), '--tls-cert', "$certs/server.crt",
	'--tls-key', "$certs/server.key", '--plain-port', $plain_port);
set_conf(url => "http://127.0.0.1:$plain_port/v3/ip");
$err = psql_fails($query, '55000', 'plain http without toll_free.allow_plain_http');
like($err, qr/plain http is not allowed/, 'plain http: message');
set_conf(allow_plain_http => 'on');
is(psql_value($query), 'WORKING', 'plain http to 127.0.0.1 with toll_free.allow_plain_http');
set_conf(url => "http://localhost:$plain_port/v3/ip");
psql_fails($query, '55000', 'plain http to a host name, even when allowed');
$plain->kill_kill;

set_conf(url => '', allow_plain_http => undef);
$err = psql_fails($query, '55000', 'toll_free.url empty');
like($err, qr/toll_free.url is not set/, 'url empty: message');

# Back to the sandbox's settings (postgresql.conf).
set_conf(url => undef, ca_file => undef, allow_plain_http => undef);
is(psql_value('SHOW toll_free.url'), $original_url, 'the sandbox URL is back');
is(psql_value($query), 'WORKING', 'calls work again');

# 5. Only a superuser may see or set the endpoint, CA and credentials settings.
psql_value('DROP ROLE IF EXISTS tf_tls_user; CREATE ROLE tf_tls_user LOGIN IN ROLE toll_free_operator');
for my $name (qw(ca_file url credentials_file allow_plain_http))
{
	psql_fails("SET toll_free.$name = 'x'", '(55P02|42501)', "SET toll_free.$name as a non-superuser",
		user => 'tf_tls_user');
	psql_fails("ALTER SYSTEM SET toll_free.$name = 'x'", '42501', "ALTER SYSTEM toll_free.$name as a non-superuser",
		user => 'tf_tls_user');
	psql_fails("SHOW toll_free.$name", '42501', "SHOW toll_free.$name as a non-superuser", user => 'tf_tls_user');
}
psql_value('DROP ROLE tf_tls_user');

done_testing();
