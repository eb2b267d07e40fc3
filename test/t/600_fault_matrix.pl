# Fault matrix: every registry function against every simulator fault.
#
# Each cell runs one function in a fresh session while one fault is set at
# the simulator (tf_sync has the worker make the requests), and checks that:
#   - the call ends with the expected SQLSTATE (or succeeds where the client
#     must recover: 429 once, 202 pending, an expired or second session);
#   - a failed call leaves toll_free.numbers, number_history, records and
#     sync_runs as they were (only toll_free.requests may gain a row);
#   - a failed call leaves no connection open at the simulator (for tf_sync,
#     which the worker runs, this is not checked: the worker's sockets are
#     not the session's);
#   - a state-changing request reached the simulator at most once;
#   - the server process survived.
# The outcome of every cell goes into test/results/fault-matrix.md, which
# test/reliability/fault-matrix-doc copies into docs/operations.md.
#
# TLS faults (a certificate for another host, an unknown CA) are rows too:
# the first starts a second tfsim with the sandbox's wrong-host certificate
# and points toll_free.url at it, the second points toll_free.ca_file at an
# unrelated CA.  Both settings are restored at the end.
use strict;
use warnings;
use Test::More;
use TollFreeTest;
use IPC::Run ();
use IO::Socket::INET;
use File::Path qw(make_path);
use FindBin;
use Time::HiRes qw(time sleep);
use HTTP::Tiny;

my $admin = $ENV{TOLL_FREE_SIM_ADMIN_URL};
my ($api_port) = $ENV{TOLL_FREE_SIM_URL} =~ m{:(\d+)/};
my $sandbox = $ENV{TOLL_FREE_SANDBOX_DIR};
my $top = "$FindBin::Bin/../..";
my $started = time;

# The admin API in-process: a cell makes several admin calls, and starting
# curl for each doubles the matrix's run time.
my $http = HTTP::Tiny->new(timeout => 10);

sub admin
{
	my ($method, $path) = @_;
	my $response = $http->request($method, "$admin$path");
	die "admin $method $path answered $response->{status}: $response->{content}\n"
	  unless $response->{success};
	return $response->{content};
}

ensure_extension();
sim_reset();
my $log_offset = -s "$sandbox/postgres.log";

# Short limits keep the slow cells short: 400 ms per request, 1 MB bodies.
# max_response_size and the worker's view of the timeouts are set cluster-wide
# (superuser only) and restored at the end.
# Undo the cluster-wide settings even when the test dies half-way.  The
# psql calls must not change the exit status that Test::More set.
END
{
	local $?;
	psql("ALTER SYSTEM RESET toll_free.$_") for qw(max_response_size timeout connect_timeout
	  stall_timeout url ca_file);
	psql('SELECT pg_reload_conf()');
}
psql_value("ALTER SYSTEM SET toll_free.max_response_size = '1MB'");
psql_value("ALTER SYSTEM SET toll_free.timeout = 400");
psql_value("ALTER SYSTEM SET toll_free.connect_timeout = 400");
psql_value("ALTER SYSTEM SET toll_free.stall_timeout = 1");
psql_value("SELECT pg_reload_conf()");

my $session_settings = join "\n",
  'SET toll_free.timeout = 400;',
  'SET toll_free.connect_timeout = 400;',
  'SET toll_free.stall_timeout = 1;',
  'SET toll_free.pending_wait = 5000;',
  'SET client_min_messages = warning;';

# A port nobody listens on but this test: the xxe_http fault points its
# external entity here, and the test checks that no connection came.
my $probe = IO::Socket::INET->new(
	LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 5, Proto => 'tcp',
	Blocking => 0) or die "probe listener: $!";
my $probe_port = $probe->sockport;

# Numbers for the state-changing functions: one per cell (a function's
# cells count up from 00), forced into the state the function needs.

# "STATUS RESPORG" of a number at the simulator.
sub sim_status
{
	my ($number) = @_;
	my $xml = admin('GET', "/number/$number");
	my ($status) = $xml =~ m{<status>([^<]*)</status>};
	my ($resporg) = $xml =~ m{<ctrlRespOrgId>([^<]*)</ctrlRespOrgId>};
	return join ' ', $status // '', $resporg // '';
}

sub force_number
{
	my ($number, $status, $resporg) = @_;
	admin('PUT', "/number/$number?status=$status&resporg=$resporg");
	return;
}

# The record of 8005560001 as a template for tf_update_record: without its
# version id it creates a new future version on the cell's number.
my $record_xml = psql_value("SELECT toll_free.tf_retrieve('8005560001')");

# A reservation the simulator keeps pending (202) for the whole run gives
# tf_request_status a registry request id to ask about.
admin('POST', '/faults?path=/num/tfn/reserve&method=POST&kind=pending&ms=600000&count=1');
psql("SET toll_free.pending_wait = 0;\n"
	  . "SELECT toll_free.tf_reserve('8005550199', 'Fault Matrix', '7325550100')");
admin('DELETE', '/faults');
# The call raised TF008, so its requests row arrives through the worker,
# which stores rows of rolled-back registry calls.
my $pending_req_id = '';
wait_until(sub {
	$pending_req_id = psql_value(
		"SELECT coalesce(max(registry_req_id), '') FROM toll_free.requests WHERE '8005550199' = ANY (numbers::text[])");
	$pending_req_id ne '';
}, 15);
ok($pending_req_id, 'a pending reservation gave a registry request id');

# Functions: name, SQL (given the cell number), the request path and method
# the fault targets, whether the request changes state at the registry, and
# a setup that prepares the cell's number.
my @functions = (
	{ name => 'tf_query', path => '/num/tfn/query/tfn/', method => 'GET',
	  sql => sub { "SELECT number FROM toll_free.tf_query('8005560001')" } },
	{ name => 'tf_query[]', path => '/num/tfn/query', method => 'PUT',
	  sql => sub { "SELECT count(*) FROM toll_free.tf_query(ARRAY['8005560001', '8005560002']::toll_free.tfn[])" } },
	{ name => 'tf_search', path => '/num/tfn/search', method => 'PUT',
	  sql => sub { "SELECT count(*) FROM toll_free.tf_search(1, numbers => ARRAY['8005550900']::toll_free.tfn[])" } },
	{ name => 'tf_reserve', path => '/num/tfn/reserve', method => 'POST', write => 1,
	  sql => sub { "SELECT ok FROM toll_free.tf_reserve('80055501$_[0]', 'Fault Matrix', '7325550100')" },
	  truth => sub { sim_status("80055501$_[0]") =~ /^RESERVED RUC01$/ } },
	{ name => 'tf_reserve(pattern)', path => '/num/tfn/srchres', method => 'POST', write => 1,
	  sql => sub { "SELECT count(*) FROM toll_free.tf_reserve('877555****', 1, 'Fault Matrix', '7325550100')" } },
	{ name => 'tf_spare', path => '/num/tfn/update', method => 'PUT', write => 1,
	  setup => sub { force_number("80055502$_[0]", 'RESERVED', 'RUC01') },
	  sql => sub { "SELECT ok FROM toll_free.tf_spare('80055502$_[0]')" },
	  truth => sub { sim_status("80055502$_[0]") =~ /^SPARE/ } },
	{ name => 'tf_change_resporg', path => '/num/tfn/update', method => 'PUT', write => 1,
	  setup => sub { force_number("80055503$_[0]", 'WORKING', 'RUC01') },
	  sql => sub { "SELECT ok FROM toll_free.tf_change_resporg('80055503$_[0]', 'RUC02')" },
	  truth => sub { sim_status("80055503$_[0]") =~ / RUC02$/ } },
	{ name => 'tf_disconnect', path => '/cus/rec/disconnect', method => 'POST', write => 1,
	  setup => sub { force_number("80055504$_[0]", 'WORKING', 'RUC01') },
	  sql => sub { "SELECT ok FROM toll_free.tf_disconnect('80055504$_[0]')" },
	  truth => sub { sim_status("80055504$_[0]") =~ /^(DISCONNECT|TRANSITIONAL) / } },
	{ name => 'tf_query_records', path => '/cus/rec/query/', method => 'GET',
	  sql => sub { "SELECT count(*) FROM toll_free.tf_query_records('8005560001')" } },
	{ name => 'tf_retrieve', path => '/cus/rec/tfnum/', method => 'GET',
	  sql => sub { "SELECT length(toll_free.tf_retrieve('8005560001')::text) > 0" } },
	{ name => 'tf_retrieve_template', path => '/cus/tpl/', method => 'GET',
	  sql => sub { "SELECT length(toll_free.tf_retrieve_template('*RUSALES')::text) > 0" } },
	{ name => 'tf_copy_record', path => '/cus/rec/copy', method => 'POST', write => 1,
	  setup => sub { force_number("80055505$_[0]", 'RESERVED', 'RUC01') },
	  sql => sub { "SELECT status FROM toll_free.tf_copy_record('*RUSALES', '80055505$_[0]')" } },
	{ name => 'tf_update_record', path => '/cus/rec', method => 'POST', write => 1,
	  setup => sub { force_number("80055506$_[0]", 'WORKING', 'RUC01') },
	  sql => sub { update_record_sql("80055506$_[0]") } },
	{ name => 'tf_resporg_check', path => '/num/rck/', method => 'GET',
	  sql => sub { "SELECT count(*) > 0 FROM toll_free.tf_resporg_check('RUC02')" } },
	{ name => 'tf_sync', path => '/num/rck/', method => 'GET', worker => 1,
	  sql => sub { "SELECT coalesce(sqlstate, state) || '|' || coalesce(error, '') FROM toll_free.tf_sync('RUC02', "
		  . "wait => true, timeout => '30 s', page_size => 2000)" } },
	{ name => 'tf_request_status', path => '/sys/req/', method => 'GET',
	  sql => sub { "SELECT state FROM toll_free.tf_request_status('$pending_req_id')" } },
);

# tf_update_record: the template record moved to the cell's number, one day
# ahead, without its version id (so POST /cus/rec creates it).
sub update_record_sql
{
	my ($number) = @_;
	(my $doc = $record_xml) =~ s{<recVersionId>[^<]*</recVersionId>}{};
	$doc =~ s{<custRecStat>[^<]*</custRecStat>}{};
	$doc =~ s{<num>8005560001</num>}{<num>$number</num>};
	$doc =~ s{<effDtTm>[^<]*</effDtTm>}{<effDtTm>EFFECTIVE</effDtTm>};
	$doc =~ s/'/''/g;
	return "SELECT status FROM toll_free.tf_update_record('$number', "
	  . "replace('$doc', 'EFFECTIVE', to_char(date_trunc('hour', now() at time zone 'UTC') "
	  . "+ interval '1 day', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))::xml)";
}

# Faults: row name, admin query (without path and method), the expected
# outcome ("ok" means the function's baseline), and whether the fault is
# set up by a routine instead of the admin API.
my @faults = (
	{ name => 'latency beyond the timeout', query => 'kind=latency&ms=700', expect => '08006',
	  write_expect => '08006|ok' },
	{ name => 'stall', query => 'kind=stall', expect => '08006',
	  write_expect => '08006|ok' },
	{ name => 'reset before the operation', query => 'kind=reset_before', expect => '08006',
	  write_expect => '08006|ok' },
	{ name => 'reset after the operation', query => 'kind=reset_after', expect => '08006',
	  write_expect => '08006|ok' },
	{ name => 'truncated body', query => 'kind=truncate', expect => '08006',
	  write_expect => '08006|ok' },
	{ name => 'cut chunked stream', query => 'kind=cut_chunked', expect => '08006',
	  write_expect => '08006|ok' },
	{ name => 'malformed XML', query => 'kind=malformed', expect => '2200M' },
	{ name => 'DTD with internal entity', query => 'kind=dtd', expect => '2200M' },
	{ name => 'external entity (file)', query => 'kind=xxe_file', expect => '2200M' },
	{ name => 'external entity (http)', query => "kind=xxe_http&ms=$probe_port", expect => '2200M' },
	{ name => 'entity expansion', query => 'kind=entity_bomb', expect => '2200M' },
	{ name => 'deep nesting', query => 'kind=deep_nesting', expect => '2200M' },
	{ name => 'oversized body (8 MiB)', query => 'kind=oversized', expect => '54000',
	  write_expect => '54000|ok' },
	{ name => 'invalid UTF-8', query => 'kind=invalid_utf8', expect => '22021' },
	{ name => 'wrong content type', query => 'kind=wrong_content_type', expect => '08P01' },
	{ name => '5xx', query => 'kind=status&status=503', expect => 'TF009' },
	{ name => '429 once', query => 'kind=throttle&retry_after=1&count=1', expect => 'ok' },
	{ name => '202 pending', query => 'kind=pending&ms=300&count=1', expect => 'ok' },
	{ name => 'expired session', query => 'kind=expire_session&count=1', expect => 'ok' },
	{ name => 'second session', session => 1, expect => 'ok' },
	{ name => 'wrong certificate host', tls => 'wrong_host', expect => '08001' },
	{ name => 'unknown CA', tls => 'unknown_ca', expect => '08001' },
);

# A digest of every table a failed call must leave alone.  A sync records
# its own failure in sync_runs, so for tf_sync that table is left out.
sub digest_sql
{
	my ($fn) = @_;
	my @tables = qw(numbers number_history records);
	push @tables, 'sync_runs' unless $fn->{worker};
	return join ' || ', map {
		"coalesce((SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM toll_free.$_ t), '-')"
	} @tables;
}

my $last_seq = 0;
my @verify;


# The simulator's request log since the last call, as hashes.
sub log_since
{
	my @rows;
	for my $line (split /\n/, admin('GET', "/requests?since=$last_seq"))
	{
		my @f = split /\t/, $line, 7;
		push @rows, { seq => $f[0], method => $f[2], path => $f[3], status => $f[4] };
	}
	$last_seq = $rows[-1]{seq} if @rows;
	return @rows;
}


# Run one cell; returns (outcome, problems).  outcome is "ok" or a SQLSTATE.
sub run_cell
{
	my ($fn, $fault) = @_;
	my $n = sprintf '%02d', $fn->{cells}++;
	my @problems;

	$fn->{setup}->($n) if $fn->{setup};
	log_since();

	if ($fault->{query})
	{
		admin('POST', "/faults?path=$fn->{path}&method=$fn->{method}&$fault->{query}");
	}
	elsif ($fault->{session})
	{
		admin('POST', '/sessions/expire');
		admin('POST', '/faults?path=/sec/session/open&kind=second_session&count=1');
	}

	my $sql = $fn->{sql}->($n);
	my $digest_sql = digest_sql($fn);
	my $script = <<"SQL";
\\set VERBOSITY verbose
$session_settings
SELECT 'DIGEST ' || $digest_sql;
\\set ON_ERROR_STOP 0
$sql;
\\set ON_ERROR_STOP 1
\\if :ERROR
SELECT 'BACKEND ' || pg_backend_pid();
\\! ss -tnpH state established '( dport = :$api_port )' | sed 's/^/SOCKET /'
\\endif
SELECT 'DIGEST ' || $digest_sql;
SQL
	my ($out, $err) = ('', '');
	my $t0 = time;
	IPC::Run::run([ 'psql', '-X', '-q', '-A', '-t' ], '<', \$script, '>', \$out, '2>', \$err);
	my $seconds = time - $t0;
	admin('DELETE', '/faults');

	# After a transport failure (class 08) no connection may stay open,
	# except the keep-alive connection of a request answered in this cell
	# (e.g. the query that decides the outcome of a lost write).  Other
	# failures come after a complete HTTP answer, whose connection libcurl
	# may keep.
	my @log = log_since();
	my $answered = grep { $_->{status} =~ /^2/ } @log;

	my @digests = $out =~ /^DIGEST (.*)$/mg;
	my ($backend) = $out =~ /^BACKEND (\d+)$/m;
	my $open = 0;
	$open = () = $out =~ /^SOCKET .*pid=$backend,/mg if defined $backend;
	my ($value) = grep { !/^(DIGEST|BACKEND|SOCKET) / } split /\n/, $out;
	my ($state) = $err =~ /ERROR:\s+([0-9A-Z]{5}):/;

	# tf_sync reports the worker's outcome as the run's state or SQLSTATE,
	# and its error text.
	if ($fn->{worker} && defined $value)
	{
		my ($run_state, $run_error) = split /\|/, $value, 2;
		$state = $run_state if $run_state ne 'done';
		$err .= "\n$run_error";
	}
	my $outcome = $state // 'ok';

	push @problems, "psql did not finish the script: $err" if @digests != 2;
	push @problems, "server process crashed: $err"
	  if $err =~ /server closed the connection|terminated abnormally/;
	if ($state)
	{
		push @problems, 'tables changed after a failed call'
		  if @digests == 2 && $digests[0] ne $digests[1];
		push @problems, "$open connection(s) to the registry still open after the failure"
		  if $open > 0 && !$answered && $state =~ /^08/;
	}
	push @problems, 'a local file reached the client'
	  if $out =~ /root:/ || $err =~ /root:/;
	push @problems, 'a TLS failure does not name certificate verification'
	  if $fault->{tls} && $state && $err !~ /certificate/i;

	# A state-changing request may be sent again only after an answer that
	# says it was not carried out (401 expired session, 429 throttled).
	my @sent = grep {
		$_->{path} =~ /^\Q$fn->{path}\E/ && $_->{method} eq $fn->{method}
		  && $_->{status} !~ /^(401|429)$/
	} @log;
	push @problems, scalar(@sent) . " state-changing requests reached the registry"
	  if $fn->{write} && @sent > 1;

	# What a write reported is checked against the registry's final state
	# once every delayed operation has finished (after the matrix).
	push @verify, { label => "$fn->{name} / $fault->{name}", fn => $fn, n => $n,
		reported => $value } if $fn->{truth} && !$state && defined $value;

	return ($outcome, \@problems, $seconds);
}

# TLS rows: reconfigure the cluster, run the cell, restore.
my $wrong_sim;

sub start_wrong_host_sim
{
	my ($port, $admin_port) = map {
		my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1);
		my $p = $s->sockport;
		close $s;
		$p
	} 1 .. 2;
	my $ready = "$sandbox/wrong-host-sim.ready";
	unlink $ready;
	$wrong_sim = IPC::Run::start(
		[ "$top/test/sim/tfsim", '--port', $port, '--admin-port', $admin_port,
		  '--tls-cert', "$sandbox/certs/wrong-host.crt",
		  '--tls-key', "$sandbox/certs/wrong-host.key",
		  '--users', $ENV{TOLL_FREE_SIM_USERS}, '--numbers', 1000,
		  '--ready-file', $ready ],
		'>', "$sandbox/wrong-host-sim.log", '2>&1');
	wait_until(sub { -s $ready }, 30) or die "wrong-host tfsim did not start";
	return "https://127.0.0.1:$port/v3/ip";
}

sub set_tls_case
{
	my ($case) = @_;
	if ($case eq 'wrong_host')
	{
		my $url = start_wrong_host_sim();
		psql_value("ALTER SYSTEM SET toll_free.url = '$url'");
	}
	elsif ($case eq 'unknown_ca')
	{
		psql_value("ALTER SYSTEM SET toll_free.ca_file = '$sandbox/certs/other-ca.crt'");
	}
	psql_value('SELECT pg_reload_conf()');
	sleep 0.3;
	return;
}

sub restore_tls
{
	psql_value('ALTER SYSTEM RESET toll_free.url');
	psql_value('ALTER SYSTEM RESET toll_free.ca_file');
	psql_value('SELECT pg_reload_conf()');
	sleep 0.3;
	if ($wrong_sim)
	{
		$wrong_sim->signal('TERM');
		$wrong_sim->finish;
		undef $wrong_sim;
	}
	return;
}

# Baselines: each function without a fault.
my %baseline;
for my $fn (@functions)
{
	my ($outcome, $problems) = run_cell($fn, { name => 'none' });
	$baseline{ $fn->{name} } = $outcome;
	is($outcome, $fn->{baseline} // 'ok', "$fn->{name}: baseline without a fault");
}

my %matrix;
my @notes;
for my $fault (@faults)
{
	set_tls_case($fault->{tls}) if $fault->{tls};
	for my $fn (@functions)
	{
		# FAULT_MATRIX_ONLY (a regular expression) limits a run to some cells.
		my $label = "$fn->{name} / $fault->{name}";
		next if $ENV{FAULT_MATRIX_ONLY} && $label !~ /$ENV{FAULT_MATRIX_ONLY}/;

		my ($outcome, $problems, $seconds) = run_cell($fn, $fault);
		my $want = $fault->{expect} eq 'ok' ? $baseline{ $fn->{name} }
		  : $fn->{write} && $fault->{write_expect} ? $fault->{write_expect}
		  : $fault->{expect};
		my $pass = like($outcome, qr/^(?:$want)$/, "$label: outcome");
		is_deeply($problems, [], "$label: no side effect");
		my $cell = $outcome;
		if (!$pass || @$problems)
		{
			push @notes, "$label: " . join('; ', "expected $want, got $outcome", @$problems);
			$cell = "FAIL $outcome [" . scalar(@notes) . ']';
		}
		$matrix{ $fault->{name} }{ $fn->{name} } = $cell;
	}
	restore_tls() if $fault->{tls};
}

# Let delayed operations (latency beyond the timeout) finish, then compare
# what each write reported with what the registry did.
sleep 1.2;
for my $v (@verify)
{
	my $done = $v->{fn}{truth}->($v->{n}) ? 't' : 'f';
	is($v->{reported}, $done, "$v->{label}: reported outcome matches the registry");
}

ok(!$probe->accept, 'the external entity probe port got no connection');

my $log = substr(slurp("$sandbox/postgres.log"), $log_offset);
unlike($log, qr/terminated by signal|was terminated by exception/,
	'no server process crashed');
unlike($log, qr/root:x?:?0:0:/, 'no local file content reached the server log');

psql_value("ALTER SYSTEM RESET toll_free.$_") for qw(max_response_size timeout connect_timeout stall_timeout);
psql_value("SELECT pg_reload_conf()");

write_matrix();
diag(sprintf 'fault matrix: %d cells in %.0f s',
	scalar(@faults) * scalar(@functions), time - $started);

done_testing();

sub slurp
{
	my ($path) = @_;
	open my $fh, '<', $path or return '';
	local $/;
	return scalar <$fh>;
}

# test/results/fault-matrix.md: faults down, functions across.
sub write_matrix
{
	my $dir = "$top/test/results";
	make_path($dir);
	open my $fh, '>', "$dir/fault-matrix.md" or die "fault-matrix.md: $!";
	my @names = map { $_->{name} } @functions;
	print $fh "Each cell is the SQLSTATE a call ended with (\"ok\": it returned its\n"
	  . "normal result, for a lost write the result that a query decided).  A\n"
	  . "cell marked FAIL broke an expectation, listed under the table.\n"
	  . "Generated by test/t/600_fault_matrix.pl on " . gmtime() . " UTC.\n\n";
	print $fh '| fault | ' . join(' | ', map { "`$_`" } @names) . " |\n";
	print $fh '|---' x (@names + 1) . "|\n";
	print $fh "| none | " . join(' | ', map { $baseline{$_} } @names) . " |\n";
	for my $fault (@faults)
	{
		print $fh "| $fault->{name} | "
		  . join(' | ', map { $matrix{ $fault->{name} }{$_} // 'not run' } @names) . " |\n";
	}
	print $fh "\n" if @notes;
	print $fh "[$_] $notes[$_ - 1]\n" for 1 .. @notes;
	close $fh;
	return;
}
