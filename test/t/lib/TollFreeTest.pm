# TollFreeTest: helpers shared by the TAP tests in test/t/.
#
# The tests run inside test/sandbox, which exports PGHOST, PGPORT, PGDATABASE,
# PGUSER, TOLL_FREE_SIM_URL, TOLL_FREE_SIM_ADMIN_URL, TOLL_FREE_SIM_CA and
# TOLL_FREE_SIM_USERS.  These helpers run psql and curl against them.
package TollFreeTest;

use strict;
use warnings;
use Exporter 'import';
use IPC::Run ();
use Test::More;

our @EXPORT = qw(psql psql_ok psql_fails psql_value admin_get admin_post
  admin_put admin_delete sim_reset sim_requests sim_user ensure_extension
  wait_until set_and_reload server_log);

die "run the TAP tests inside test/sandbox\n"
  unless $ENV{PGHOST} && $ENV{TOLL_FREE_SIM_ADMIN_URL};

# psql($sql, %opts): run $sql with psql; returns (exit code, stdout, stderr).
# Options: db => database, user => role, on_error_stop => 0|1 (default 1).
sub psql
{
	my ($sql, %opts) = @_;
	my @cmd = ('psql', '-X', '-q', '-A', '-t', '-v',
		'ON_ERROR_STOP=' . ($opts{on_error_stop} // 1));
	push @cmd, '-d', $opts{db} if $opts{db};
	push @cmd, '-U', $opts{user} if $opts{user};
	my ($out, $err) = ('', '');
	IPC::Run::run(\@cmd, '<', \$sql, '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	chomp $out;
	return ($rc, $out, $err);
}

# psql_value($sql, %opts): the output of a statement that must succeed.
sub psql_value
{
	my ($sql, %opts) = @_;
	my ($rc, $out, $err) = psql($sql, %opts);
	die "psql failed: $err\nSQL: $sql\n" if $rc != 0;
	return $out;
}

# psql_ok($sql, $name, %opts): a test that $sql succeeds; returns stdout.
sub psql_ok
{
	my ($sql, $name, %opts) = @_;
	my ($rc, $out, $err) = psql($sql, %opts);
	is($rc, 0, $name) or diag("stderr: $err");
	return $out;
}

# psql_fails($sql, $sqlstate, $name, %opts): a test that $sql fails with
# $sqlstate (checked through VERBOSITY verbose).  Returns stderr.
sub psql_fails
{
	my ($sql, $sqlstate, $name, %opts) = @_;
	my ($rc, $out, $err) = psql("\\set VERBOSITY verbose\n$sql", %opts);
	isnt($rc, 0, "$name: fails");
	like($err, qr/ERROR:\s+$sqlstate:/, "$name: SQLSTATE $sqlstate")
	  or diag("stderr: $err");
	return $err;
}

sub _curl
{
	my ($method, $path) = @_;
	my $url = $ENV{TOLL_FREE_SIM_ADMIN_URL} . $path;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'curl', '-sS', '-X', $method, '-w', "\n%{http_code}", $url ],
		'>', \$out, '2>', \$err);
	die "curl $method $url failed: $err" if $?;
	my ($body, $code) = $out =~ /\A(.*)\n(\d{3})\z/s;
	die "admin $method $path answered $code: $body\n" if $code !~ /^2/;
	return $body;
}

sub admin_get    { return _curl('GET',    @_); }
sub admin_post   { return _curl('POST',   @_); }
sub admin_put    { return _curl('PUT',    @_); }
sub admin_delete { return _curl('DELETE', @_); }

# sim_reset(): simulator back to its start-up seed, no faults, empty log.
sub sim_reset { admin_post('/reset'); return; }

# sim_requests(%filter): the simulator's request log as hashes
# (seq, time, method, path, status, resporg, body).
sub sim_requests
{
	my (%filter) = @_;
	my $query = join '&', map { "$_=$filter{$_}" } sort keys %filter;
	my $tsv = admin_get('/requests' . ($query ? "?$query" : ''));
	my @rows;
	for my $line (split /\n/, $tsv)
	{
		my @f = split /\t/, $line, 7;
		push @rows, {
			seq => $f[0], time => $f[1], method => $f[2], path => $f[3],
			status => $f[4], resporg => $f[5], body => $f[6] // '' };
	}
	return @rows;
}

# sim_user($n): the nth simulator user (0 = RUC01's) as a hash.
sub sim_user
{
	my ($n) = @_;
	open my $fh, '<', $ENV{TOLL_FREE_SIM_USERS} or die "users file: $!";
	my @lines = <$fh>;
	close $fh;
	chomp(my $line = $lines[$n]);
	my ($user, $password, $resporg, $upd) = split /:/, $line;
	return { user => $user, password => $password, resporg => $resporg,
		upd => [ split /,/, $upd ] };
}

# ensure_extension(%opts): CREATE EXTENSION toll_free if it is not there.
sub ensure_extension
{
	my (%opts) = @_;
	psql_value('CREATE EXTENSION IF NOT EXISTS toll_free', %opts);
	return;
}

# set_and_reload($sql): run $sql (ALTER SYSTEM ...), then reload the
# configuration of the server and its worker.
sub set_and_reload
{
	my ($sql) = @_;
	psql_value("$sql;\nSELECT pg_reload_conf();");
	return;
}

# server_log(): the sandbox server's log so far.
sub server_log
{
	open my $fh, '<', "$ENV{TOLL_FREE_SANDBOX_DIR}/postgres.log" or die "server log: $!";
	local $/;
	return <$fh>;
}

# wait_until($code, $timeout_s): poll $code every 100 ms until it returns true.
sub wait_until
{
	my ($code, $timeout) = @_;
	my $deadline = time + ($timeout // 30);
	while (time < $deadline)
	{
		return 1 if $code->();
		select(undef, undef, undef, 0.1);
	}
	return 0;
}

1;
