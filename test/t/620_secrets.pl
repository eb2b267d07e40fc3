# Secrets: the registry password appears nowhere SQL or an operator can see.
#
# With log_min_messages = debug5, log_statement = all,
# log_min_duration_statement = 0 and pg_stat_statements loaded (set here
# with ALTER SYSTEM and a restart, undone at the end), a run of successful
# and failing calls, session renewals, a wrong password and a credentials
# file readable by others must leave the password (and the wrong one) out
# of the server log, pg_stat_activity, pg_stat_statements, error texts,
# settings and every toll_free table.
use strict;
use warnings;
use Test::More;
use TollFreeTest;
use IPC::Run ();
use Time::HiRes qw(sleep);

my $sandbox = $ENV{TOLL_FREE_SANDBOX_DIR};
my $credentials = "$sandbox/credentials";
my $bindir = `pg_config --bindir`;
chomp $bindir;

ensure_extension();
sim_reset();

my $password = sim_user(0)->{password};
my $wrong_password = 'Wr0ngPassw0rdXyZ' . int(rand(1e6));
ok(length $password >= 8, 'the sandbox password is long enough to search for');

# Run a server-side program as the cluster's owner.
sub as_server
{
	my @cmd = @_;
	unshift @cmd, 'runuser', '-u', 'postgres', '--' if $> == 0;
	my ($out, $err) = ('', '');
	IPC::Run::run(\@cmd, '>', \$out, '2>', \$err);
	return ($? >> 8, $out . $err);
}

# Restart the cluster; when it does not come up, drop the settings this
# test added from postgresql.auto.conf and start it as it was.
sub restart_server
{
	my @pg_ctl = ("$bindir/pg_ctl", '-D', $ENV{PGDATA}, '-l', "$sandbox/postgres.log",
		'-w', '-t', '60');
	my ($rc, $out) = as_server(@pg_ctl, '-m', 'fast', 'restart');
	return if $rc == 0;

	my $auto = "$ENV{PGDATA}/postgresql.auto.conf";
	my $conf = slurp($auto);
	$conf =~ s/^(shared_preload_libraries|log_min_messages|log_statement|log_min_duration_statement|log_error_verbosity) .*\n//mg;
	open my $fh, '>', $auto or die "$auto: $!";
	print $fh $conf;
	close $fh;
	as_server(@pg_ctl, 'start');
	BAIL_OUT("pg_ctl restart failed: $out");
}

# Rewrite the credentials file as the server account would own it.
sub write_credentials
{
	my ($text, $mode) = @_;
	my $uid = (getpwnam('postgres'))[2];
	my $gid = (getpwnam('postgres'))[3];
	open my $fh, '>', $credentials or die "credentials: $!";
	print $fh $text;
	close $fh;
	chown $uid, $gid, $credentials if $> == 0;
	chmod $mode, $credentials;
	return;
}

sub slurp
{
	my ($path) = @_;
	open my $fh, '<', $path or die "$path: $!";
	local $/;
	return scalar <$fh>;
}

my $original_credentials = slurp($credentials);
my $original_mode = (stat $credentials)[2] & 07777;

# Undo the logging setup and the credentials file even when the test dies
# half-way.  The calls must not change the exit status that Test::More set.
my $restored = 0;
END
{
	local $?;
	if (!$restored)
	{
		write_credentials($original_credentials, $original_mode);
		psql("ALTER SYSTEM RESET $_") for qw(shared_preload_libraries log_min_messages
		  log_statement log_min_duration_statement log_error_verbosity);
		as_server("$bindir/pg_ctl", '-D', $ENV{PGDATA}, '-l', "$sandbox/postgres.log",
			'-w', '-t', '60', '-m', 'fast', 'restart');
	}
}

psql_value(q{ALTER SYSTEM SET shared_preload_libraries = toll_free, pg_stat_statements});
psql_value(q{ALTER SYSTEM SET log_min_messages = 'debug5'});
psql_value(q{ALTER SYSTEM SET log_statement = 'all'});
psql_value(q{ALTER SYSTEM SET log_min_duration_statement = 0});
psql_value(q{ALTER SYSTEM SET log_error_verbosity = 'verbose'});
restart_server();
psql_value('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
psql_value('SELECT pg_stat_statements_reset()');
my $log_offset = -s "$sandbox/postgres.log";

# Everything a client saw: stdout and stderr of every call.
my $client_text = '';

sub call
{
	my ($sql) = @_;
	my ($rc, $out, $err) = psql("\\set VERBOSITY verbose\n$sql", on_error_stop => 0);
	$client_text .= "$out\n$err\n";
	return ($rc, $out, $err);
}

# Successful calls, with a session opened afresh first.
admin_post('/sessions/expire');
my ($rc, $out, $err) = call("SELECT number FROM toll_free.tf_query('8005560001')");
is($out, '8005560001', 'tf_query works with debug logging');
($rc, $out, $err) = call("SELECT ok FROM toll_free.tf_reserve('8005550701', 'Secret Test', '7325550100')");
is($out, 't', 'tf_reserve works with debug logging');
($rc, $out, $err) = call("SELECT toll_free.tf_enqueue('spare', '8005550701')");
like($out, qr/^\d+$/, 'a spare was queued');
my $queued = $out;
($rc, $out, $err) = call("SELECT state FROM toll_free.tf_wait($queued, '20 s')");
is($out, 'done', 'the worker carried out the queued spare');

# A failing call and a session renewal in the middle of a call.
admin_post('/faults?path=/num/tfn/query&kind=status&status=503');
($rc, $out, $err) = call("SELECT toll_free.tf_query('8005560001')");
like($err, qr/ERROR:\s+TF009:/, 'a registry fault raises TF009');
admin_delete('/faults');
admin_post('/faults?path=/num/tfn/query&kind=expire_session&count=1');
($rc, $out, $err) = call("SELECT number FROM toll_free.tf_query('8005560002')");
is($out, '8005560002', 'an expired session is renewed');
admin_delete('/faults');

# A wrong password: the session open is refused.
(my $wrong = $original_credentials) =~ s/^password\s*=.*$/password = $wrong_password/m;
write_credentials($wrong, 0600);
admin_post('/sessions/expire');
($rc, $out, $err) = call("SELECT toll_free.tf_query('8005560001')");
like($err, qr/ERROR:\s+28000:/, 'a wrong password raises 28000');

# A credentials file that others may read is refused before it is read.
write_credentials($original_credentials, 0644);
admin_post('/sessions/expire');
($rc, $out, $err) = call("SELECT toll_free.tf_query('8005560001')");
like($err, qr/ERROR:\s+F0000:/, 'a credentials file readable by others raises F0000');
like($err, qr/HINT:.*chmod 600/, 'the error says how to fix the file mode');

# Back to the right file.
write_credentials($original_credentials, $original_mode);
admin_post('/sessions/expire');
($rc, $out, $err) = call("SELECT number FROM toll_free.tf_query('8005560001')");
is($out, '8005560001', 'the restored credentials work');

# pg_stat_activity while a call waits at the registry.
admin_post('/faults?path=/num/tfn/query&kind=latency&ms=1500');
my $slow = IPC::Run::start([ 'psql', '-X', '-q', '-c', "SELECT toll_free.tf_query('8005560001')" ],
	'>', \my $slow_out, '2>', \my $slow_err);
sleep 0.7;
my $activity = psql_value(q{SELECT string_agg(coalesce(query, '') || ' ' || coalesce(application_name, ''), E'\n')
	FROM pg_stat_activity});
$slow->finish;
admin_delete('/faults');
like($activity, qr/tf_query/, 'pg_stat_activity showed the waiting call');

# Where the secret must not be.
my %places = (
	'server log' => substr(slurp("$sandbox/postgres.log"), $log_offset),
	'client output and error texts' => $client_text,
	'pg_stat_activity' => $activity,
	'pg_stat_statements' => psql_value(q{SELECT string_agg(query, E'\n') FROM pg_stat_statements}),
	'settings' => psql_value(q{SELECT string_agg(name || '=' || setting, E'\n') FROM pg_settings}),
	'toll_free tables' => psql_value(q{
		SELECT string_agg(t, E'\n') FROM (
			SELECT r::text AS t FROM toll_free.requests r
			UNION ALL SELECT n::text FROM toll_free.numbers n
			UNION ALL SELECT h::text FROM toll_free.number_history h
			UNION ALL SELECT s::text FROM toll_free.sync_runs s
			UNION ALL SELECT c::text FROM toll_free.records c) x}),
	'simulator log' => slurp("$sandbox/sim.log"),
	'simulator request log' => admin_get('/requests'),
);
for my $place (sort keys %places)
{
	my $text = $places{$place} // '';
	ok(length $text > 0, "$place: collected");
	unlike($text, qr/\Q$password\E/, "$place: the password is not there");
	unlike($text, qr/\Q$wrong_password\E/, "$place: the wrong password is not there");
}
like($places{'server log'}, qr/DEBUG/, 'the server log has debug lines');

# A non-superuser sees the file name at most, never its content.
psql_value('DROP ROLE IF EXISTS tf_secret_reader');
psql_value('CREATE ROLE tf_secret_reader LOGIN IN ROLE toll_free_admin');
($rc, $out, $err) = psql("SHOW toll_free.credentials_file", user => 'tf_secret_reader',
	on_error_stop => 0);
unlike("$out$err", qr/\Q$password\E/, 'SHOW toll_free.credentials_file by a non-superuser');
($rc, $out, $err) = psql("SELECT pg_read_file(current_setting('toll_free.credentials_file'))",
	user => 'tf_secret_reader', on_error_stop => 0);
like($err, qr/permission denied/, 'a non-superuser cannot read the credentials file');
unlike($out, qr/\Q$password\E/, 'pg_read_file output does not contain the password');
psql_value('DROP ROLE tf_secret_reader');

# Undo the logging setup.
psql_value('DROP EXTENSION pg_stat_statements');
psql_value('ALTER SYSTEM RESET shared_preload_libraries');
psql_value('ALTER SYSTEM RESET log_min_messages');
psql_value('ALTER SYSTEM RESET log_statement');
psql_value('ALTER SYSTEM RESET log_min_duration_statement');
psql_value('ALTER SYSTEM RESET log_error_verbosity');
restart_server();
$restored = 1;
is(psql_value('SHOW shared_preload_libraries'), 'toll_free', 'the preload list is restored');

done_testing();
