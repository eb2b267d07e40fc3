# The shared registry session and request budget: eight sessions calling
# at once open one registry session and stay within toll_free.rate_limit.
# Credentials: a wrong password, a file others may read, and secrets that
# must appear nowhere (logs, pg_stat_activity, pg_stat_statements,
# toll_free.requests, error texts).
use strict;
use warnings;
use Test::More;
use IPC::Run ();
use Time::HiRes qw(time sleep);
use TollFreeTest;

ensure_extension();
sim_reset();

my $password = sim_user(0)->{password};
my $sandbox = $ENV{TOLL_FREE_SANDBOX_DIR};

sub reload_with
{
	my ($sql) = @_;
	psql_value("$sql; SELECT pg_reload_conf();");
	sleep(0.3);
	return;
}

# pg_ctl as the server's account.
sub restart_server
{
	my @cmd = ('pg_ctl', '-D', $ENV{PGDATA}, '-w', '-t', '60', '-l', "$sandbox/postgres.log", 'restart');
	unshift @cmd, 'runuser', '-u', 'postgres', '--' if $> == 0;
	my ($out, $err) = ('', '');
	IPC::Run::run(\@cmd, '>', \$out, '2>', \$err) or die "restart failed: $err";
	wait_until(sub { (psql('SELECT 1'))[0] == 0 }, 30);
	return;
}

# --- eight sessions at once: one registry session, one budget ---
reload_with("ALTER SYSTEM SET toll_free.rate_limit = 1200");
admin_post('/sessions/expire');
my @before = sim_requests();
my $since = @before ? $before[-1]{seq} : 0;

my @handles;
my $t0 = time;
for my $n (1 .. 8)
{
	my $first = 8005550000 + $n * 20;
	my $sql = "SELECT count(*) FROM generate_series($first, $first + 19) AS g, "
	  . "LATERAL toll_free.tf_query(g::text::toll_free.tfn) AS q";
	my ($out, $err) = ('', '');
	push @handles, [ IPC::Run::start([ 'psql', '-X', '-At', '-c', $sql ], '<', '/dev/null',
		'>', \$out, '2>', \$err), \$out, \$err ];
}
$_->[0]->finish for @handles;
my $elapsed = time - $t0;
is_deeply([ map { my $v = ${ $_->[1] }; chomp $v; $v } @handles ], [ ('20') x 8 ], 'each of the eight sessions got its 20 answers')
  or diag(join "\n", map { ${ $_->[2] } } @handles);

my @log = sim_requests(since => $since);
my @opens = grep { $_->{path} eq '/sec/session/open' } @log;
is(scalar @opens, 1, 'one registry session was opened for all eight');
is(scalar(grep { $_->{status} == 429 } @log), 0, 'no request was throttled by the registry');
my $queries = grep { $_->{path} =~ m{^/num/tfn/query} && $_->{status} == 200 } @log;
is($queries, 160, '160 queries answered');

# 1200 per minute is 20 per second with a burst of 20: at least
# (requests - 20) / 20 seconds, and no clock second with more than 40.
my $requests = scalar @log;
cmp_ok($elapsed, '>=', ($requests - 20) / 20 - 0.5, "$requests requests took at least the budget's time");
my %per_second;
$per_second{ $_->{time} }++ for @log;
my ($busiest) = sort { $b <=> $a } values %per_second;
cmp_ok($busiest, '<=', 40, 'no second carried more than the budget allows');
reload_with("ALTER SYSTEM RESET toll_free.rate_limit");

# --- wrong credentials and unsafe credentials files ---
my $bad = "$sandbox/bad-credentials";
sub write_credentials
{
	my ($file, $mode, $text) = @_;
	open my $fh, '>', $file or die "$file: $!";
	print $fh $text;
	close $fh;
	chmod $mode, $file;
	if ($> == 0)
	{
		my (undef, undef, $uid, $gid) = getpwnam('postgres');
		chown $uid, $gid, $file;
	}
	return;
}
write_credentials($bad, 0600, "username = tfuser01\npassword = wrong-secret-123\n");
reload_with("ALTER SYSTEM SET toll_free.credentials_file = '$bad'");
admin_post('/sessions/expire');
my $err = psql_fails("SELECT * FROM toll_free.tf_query('8005560001'::toll_free.tfn)", '28000', 'wrong password');
like($err, qr/registry rejected the credentials/, 'wrong password: message');
like($err, qr/701002/, 'wrong password: 701002 in the detail');
like($err, qr/HINT:.*credentials_file/, 'wrong password: hint names the setting');
unlike($err, qr/wrong-secret-123/, 'wrong password: the password is not in the error');

write_credentials($bad, 0644, "username = tfuser01\npassword = $password\n");
$err = psql_fails("SELECT * FROM toll_free.tf_query('8005560001'::toll_free.tfn)", 'F0000',
	'credentials file readable by others');
like($err, qr/HINT:.*chmod 600/, 'readable file: the hint says chmod 600');

reload_with("ALTER SYSTEM SET toll_free.credentials_file = '$sandbox/no-such-file'");
psql_fails("SELECT * FROM toll_free.tf_query('8005560001'::toll_free.tfn)", '58P01', 'missing credentials file');
reload_with('ALTER SYSTEM RESET toll_free.credentials_file');

# --- secrets appear nowhere ---
psql_value("ALTER SYSTEM SET shared_preload_libraries = toll_free, pg_stat_statements");
restart_server();
psql_value('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
reload_with("ALTER SYSTEM SET log_statement = 'all'; ALTER SYSTEM SET log_min_duration_statement = 0;
	ALTER SYSTEM SET log_min_messages = 'debug2'");
my $log_start = -s "$sandbox/postgres.log";

admin_post('/sessions/expire');
is(psql_value("SELECT status FROM toll_free.tf_query('8005560001'::toll_free.tfn)"), 'WORKING',
	'a call that opens a session, with full statement logging');
reload_with("ALTER SYSTEM SET toll_free.credentials_file = '$bad'");
write_credentials($bad, 0600, "username = tfuser01\npassword = wrong-secret-123\n");
admin_post('/sessions/expire');
psql_fails("SELECT * FROM toll_free.tf_query('8005560001'::toll_free.tfn)", '28000', 'a failed login, logged');
reload_with('ALTER SYSTEM RESET toll_free.credentials_file');
is(psql_value("SELECT status FROM toll_free.tf_query('8005560001'::toll_free.tfn)"), 'WORKING',
	'a call with the right credentials again');

my $activity = psql_value("SELECT string_agg(coalesce(query, ''), ' ') FROM pg_stat_activity");
my $statements = psql_value('SELECT string_agg(query, \' \') FROM pg_stat_statements');
my $rows = psql_value('SELECT string_agg(t::text, \' \') FROM toll_free.requests t');
my $settings = psql_value("SELECT string_agg(name || '=' || setting, ' ') FROM pg_settings");
open my $fh, '<', "$sandbox/postgres.log" or die $!;
seek $fh, $log_start, 0;
my $log = do { local $/; <$fh> };
close $fh;
ok(length($log) > 1000, 'the server log recorded the statements');
for my $place ([ 'server log', $log ], [ 'pg_stat_activity', $activity ],
	[ 'pg_stat_statements', $statements ], [ 'toll_free.requests', $rows ], [ 'pg_settings', $settings ])
{
	my ($name, $text) = @$place;
	unlike($text, qr/\Q$password\E/, "$name: no registry password");
	unlike($text, qr/wrong-secret-123/, "$name: no password of the failed login");
	unlike($text, qr/Bearer|oauthToken/i, "$name: no token");
}

reload_with("ALTER SYSTEM RESET log_statement; ALTER SYSTEM RESET log_min_duration_statement;
	ALTER SYSTEM RESET log_min_messages");
psql_value('DROP EXTENSION pg_stat_statements');
psql_value('ALTER SYSTEM RESET shared_preload_libraries');
restart_server();
is(psql_value("SELECT status FROM toll_free.tf_query('8005560001'::toll_free.tfn)"), 'WORKING',
	'back to the sandbox configuration');

done_testing();
