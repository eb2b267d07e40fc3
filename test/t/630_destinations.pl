# Destinations: the client contacts only the configured base URL.
#
# A plain-HTTP stand-in registry on loopback (allowed with
# toll_free.allow_plain_http) answers every request with a redirect to a
# second loopback port; the client must not follow it, and the second port
# must see no connection.  URLs with other schemes, user information, or a
# query or a fragment are rejected when they are set; plain HTTP to a host
# that is not a literal loopback address is refused at call time.  Every URL
# used here leads to loopback.  Non-superusers cannot change the endpoint.
# The settings are restored at the end.
use strict;
use warnings;
use Test::More;
use TollFreeTest;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep);

ensure_extension();
sim_reset();

sub listener
{
	my $socket = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 16,
		Proto => 'tcp', ReuseAddr => 1) or die "listen: $!";
	return $socket;
}

# The forbidden target: counts connections without answering.
my $target = listener();
$target->blocking(0);
my $target_port = $target->sockport;

# The stand-in registry: answers up to 20 requests with a 302 (then exits,
# or after 60 s), in a child process.
my $redirector = listener();
my $redirector_port = $redirector->sockport;
my $child = fork // die "fork: $!";
if ($child == 0)
{
	alarm 60;
	for (1 .. 20)
	{
		my $conn = $redirector->accept or last;
		my $request = '';
		while (my $line = <$conn>)
		{
			$request .= $line;
			last if $line =~ /^\r?\n$/;
		}
		my $location = "http://127.0.0.1:$target_port/v3/ip/sec/session/open";
		print $conn "HTTP/1.1 302 Found\r\nLocation: $location\r\n"
		  . "Content-Length: 0\r\nConnection: close\r\n\r\n";
		close $conn;
	}
	POSIX::_exit(0);
}
close $redirector;

# Undo the cluster-wide settings even when the test dies half-way.  The
# psql calls must not change the exit status that Test::More set.
END
{
	local $?;
	psql("ALTER SYSTEM RESET toll_free.$_") for qw(url allow_plain_http);
	psql('SELECT pg_reload_conf()');
}

sub set_system
{
	my ($name, $value) = @_;
	my ($rc, $out, $err) = psql("\\set VERBOSITY verbose\nALTER SYSTEM SET $name = '$value'");
	psql_value('SELECT pg_reload_conf()') if $rc == 0;
	sleep 0.3;
	return ($rc, $err);
}

sub reset_system
{
	psql_value("ALTER SYSTEM RESET $_") for @_;
	psql_value('SELECT pg_reload_conf()');
	sleep 0.3;
	return;
}

# A redirect is not followed.
set_system('toll_free.allow_plain_http', 'on');
my ($rc, $err) = set_system('toll_free.url', "http://127.0.0.1:$redirector_port/v3/ip");
is($rc, 0, 'a plain-HTTP loopback URL is accepted with allow_plain_http');
psql_value('SELECT 1');
admin_post('/sessions/expire');
$err = psql_fails("SELECT toll_free.tf_query('8005560001')", '[0-9A-Z]{5}',
	'a call against a redirecting registry');
unlike($err, qr/8005560001\s*\|\s*WORKING/, 'the redirect produced no result');
sleep 0.2;
ok(!$target->accept, 'the redirect target got no connection');
reset_system('toll_free.url', 'toll_free.allow_plain_http');
kill 'TERM', $child;
waitpid $child, 0;

psql_ok("SELECT toll_free.tf_query('8005560001')", 'the configured registry works again');

# URLs rejected when set (SQLSTATE 22023): the value never takes effect.
my @rejected = (
	[ 'file:///etc/passwd', 'file scheme' ],
	[ 'ftp://127.0.0.1/v3/ip', 'ftp scheme' ],
	[ 'gopher://127.0.0.1/v3/ip', 'gopher scheme' ],
	[ 'https://user:secret@127.0.0.1:1/v3/ip', 'user information' ],
	[ 'https://127.0.0.1:1/v3/ip?x=1', 'a query' ],
	[ 'https://127.0.0.1:1/v3/ip#x', 'a fragment' ],
);
for my $case (@rejected)
{
	my ($url, $what) = @$case;
	my ($rc, $err) = set_system('toll_free.url', $url);
	isnt($rc, 0, "toll_free.url with $what is rejected");
	like($err, qr/ERROR:\s+22023:/, "toll_free.url with $what: SQLSTATE 22023");
	reset_system('toll_free.url') if $rc == 0;
}

# Plain HTTP is refused at call time, before any connection, unless
# allow_plain_http is on and the host is a literal loopback address.  The
# URLs below all lead to the target listener on loopback, so a broken check
# would show as a connection there and never reach another host.
sub plain_http_refused
{
	my ($url, $what) = @_;
	my ($rc, $err) = set_system('toll_free.url', $url);
	is($rc, 0, "$what: the URL is accepted when set");
	psql_fails("SELECT toll_free.tf_query('8005560001')", '55000', "$what: the call");
	reset_system('toll_free.url');
	return;
}
plain_http_refused("http://127.0.0.1:$target_port/v3/ip", 'plain HTTP without allow_plain_http');
set_system('toll_free.allow_plain_http', 'on');
plain_http_refused("http://localhost:$target_port/v3/ip", 'plain HTTP to a host name');
reset_system('toll_free.allow_plain_http');
sleep 0.2;
ok(!$target->accept, 'the refused URLs got no connection');

# Non-superusers cannot change the endpoint in any way.
psql_value('DROP ROLE IF EXISTS tf_dest_admin');
psql_value('CREATE ROLE tf_dest_admin LOGIN IN ROLE toll_free_admin');
for my $sql (
	"SET toll_free.url = 'https://127.0.0.1:1/v3/ip'",
	"ALTER SYSTEM SET toll_free.url = 'https://127.0.0.1:1/v3/ip'",
	"ALTER ROLE tf_dest_admin SET toll_free.url = 'https://127.0.0.1:1/v3/ip'",
	"ALTER DATABASE toll_free SET toll_free.url = 'https://127.0.0.1:1/v3/ip'",
	"SELECT set_config('toll_free.url', 'https://127.0.0.1:1/v3/ip', false)",
	"SET toll_free.allow_plain_http = on",
	"SET toll_free.ca_file = '/etc/ssl/certs/ca-certificates.crt'")
{
	my ($rc, $out, $err) = psql($sql, user => 'tf_dest_admin', on_error_stop => 1);
	isnt($rc, 0, "an administrator cannot run: $sql");
}
is(psql_value("SELECT count(*) FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') LIKE '%toll_free.url%'"),
	0, 'no per-role or per-database endpoint was stored');
psql_value('DROP ROLE tf_dest_admin');

done_testing();
