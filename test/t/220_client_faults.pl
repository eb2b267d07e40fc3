# Every simulator fault against the client: timeouts, stalls, resets
# before and after the operation, truncated bodies, malformed and hostile
# XML, invalid UTF-8, 5xx, 429, 202 pending, expired and second sessions,
# and a reserve that must reach the registry exactly once.
use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use TollFreeTest;

$ENV{PGOPTIONS} = '-c search_path=toll_free,public';

ensure_extension();
sim_reset();

my $contact = "contact_name => 'Jane Roe', contact_phone => '7325551234'";
my $query_path = '/num/tfn/query/tfn';

sub fault
{
	my ($query) = @_;
	admin_delete('/faults');
	admin_post("/faults?$query");
	return;
}

sub no_fault { admin_delete('/faults'); return; }

# The backend is alive and the next call works.
sub still_works
{
	my ($name) = @_;
	no_fault();
	is(psql_value("SELECT status FROM tf_query('8005560001')"), 'WORKING', "$name: next call works");
	return;
}

# --- time limits: each applies from the first call of a session ---
fault("path=$query_path&kind=latency&ms=1500");
my $t0 = time;
psql_fails("SET toll_free.timeout = '300ms'; SELECT * FROM tf_query('8005560001')", '08006',
	'latency beyond toll_free.timeout');
cmp_ok(time - $t0, '<', 1.4, 'the timeout ended the call early');
is(psql_value("SET toll_free.timeout = '5s'; SELECT status FROM tf_query('8005560001')"), 'WORKING',
	'the same latency within a larger timeout succeeds');
psql_value("ALTER ROLE CURRENT_USER SET toll_free.timeout = '300ms'");
psql_fails("SELECT * FROM tf_query('8005560001')", '08006', 'timeout set as a role default applies in a new session');
psql_value('ALTER ROLE CURRENT_USER RESET toll_free.timeout');

fault("path=$query_path&kind=stall");
$t0 = time;
my $err = psql_fails("SET toll_free.stall_timeout = '1s'; SELECT * FROM tf_query('8005560001')", '08006',
	'stalled answer');
like($err, qr/timed out/, 'stall: the message says timed out');
cmp_ok(time - $t0, '<', 4, 'stall: abandoned after toll_free.stall_timeout');

fault("path=$query_path&kind=drip&bytes=40");
psql_fails("SET toll_free.timeout = '1s'; SELECT * FROM tf_query('8005560001')", '08006',
	'answer dripping slower than toll_free.timeout allows');
still_works('time limits');

# --- broken connections and bodies ---
for my $case (
	[ 'kind=reset_before', '08006', qr/connection|closed/, 'reset before the operation' ],
	[ 'kind=reset_after', '08006', qr/connection|closed/, 'reset after the operation' ],
	[ 'kind=truncate&bytes=40', '08006', qr/incomplete response/, 'truncated body' ],
	[ 'kind=cut_chunked&bytes=40', '08006', qr/incomplete response/, 'chunked body cut before its end' ],
	[ 'kind=status&status=500', 'TF009', qr/registry failed/, 'HTTP 500' ],
	[ 'kind=status&status=503', 'TF009', qr/registry failed/, 'HTTP 503' ],
	[ 'kind=wrong_content_type', '08P01', qr/content type/, 'HTML page from a gateway' ])
{
	my ($query, $state, $message, $name) = @$case;
	fault("path=$query_path&$query");
	$err = psql_fails("SELECT * FROM tf_query('8005560001')", $state, $name);
	like($err, $message, "$name: message");
}
still_works('broken connections');

# --- malformed and hostile XML ---
my $probe = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1', LocalPort => 0,
	Proto => 'tcp', Blocking => 0) or die "probe listener: $!";
my $probe_port = $probe->sockport;
for my $case (
	[ 'kind=malformed', 'malformed document' ],
	[ 'kind=dtd', 'internal DTD entity' ],
	[ 'kind=xxe_file', 'external entity naming /etc/passwd' ],
	[ "kind=xxe_http&ms=$probe_port", 'external entity naming an http URL' ],
	[ 'kind=entity_bomb', 'entity expansion bomb' ],
	[ 'kind=deep_nesting', '10000 nested elements' ])
{
	my ($query, $name) = @$case;
	fault("path=$query_path&$query");
	$t0 = time;
	$err = psql_fails("SELECT * FROM tf_query('8005560001')", '2200M', $name);
	unlike($err, qr/root:|daemon:|\/bin\/(ba)?sh/, "$name: no file content in the error");
	cmp_ok(time - $t0, '<', 2, "$name: rejected quickly");
}
like($err, qr/nest/, 'deep nesting: the detail names the nesting limit');
sleep(0.2);
ok(!defined($probe->accept), 'the http entity target got no connection');
close($probe);
my $log = do { local (@ARGV, $/) = ("$ENV{TOLL_FREE_SANDBOX_DIR}/postgres.log"); <> };
unlike($log, qr/root:x:0:0/, 'no /etc/passwd content in the server log');

fault("path=$query_path&kind=invalid_utf8");
$err = psql_fails("SELECT * FROM tf_query('8005560001')", '22021', 'byte 0xFF in a text node');
like($err, qr/registry response is not valid UTF-8/, 'invalid UTF-8: message');

fault("path=$query_path&kind=oversized&bytes=300000");
$err = psql_fails("SET toll_free.max_response_size = '64kB'; SELECT * FROM tf_query('8005560001')", '54000',
	'answer larger than toll_free.max_response_size');
like($err, qr/max_response_size/, 'oversized: message names the setting');
is(psql_value("SET toll_free.max_response_size = '1MB'; SELECT status FROM tf_query('8005560001')"), 'WORKING',
	'the same answer within a larger limit succeeds');
still_works('hostile XML');

# --- throttling: back off as told, then send again ---
fault("path=$query_path&kind=throttle&retry_after=1&count=1");
$t0 = time;
is(psql_value("SELECT status FROM tf_query('8005560001')"), 'WORKING', 'a 429 answer is retried');
cmp_ok(time - $t0, '>=', 0.9, 'the retry waited for Retry-After');
fault("path=$query_path&kind=throttle&retry_after=0");
$err = psql_fails("SELECT * FROM tf_query('8005560001')", 'TF003', 'throttled on every try');
like($err, qr/900800/, 'throttled: 900800 in the detail');
no_fault();

# --- pending answers ---
fault("path=$query_path&kind=pending&ms=400");
is(psql_value("SELECT status FROM tf_query('8005560001')"), 'WORKING', 'a 202 answer is polled to its result');
like(join(' ', map { $_->{path} } sim_requests(path => '/sys/req')), qr{/sys/req/R\d+}, 'polled through /sys/req');

fault("path=/num/tfn/reserve&kind=pending&ms=1500");
$err = psql_fails("SET toll_free.pending_wait = '300ms'; SELECT * FROM tf_reserve('8005550800', $contact)",
	'TF008', 'reserve still pending after toll_free.pending_wait');
my ($req_id) = $err =~ /request id is (R\d+)/;
ok(defined $req_id, 'the error gives the registry request id');
psql_value("SELECT count(*) FROM tf_query('8005550801')");	# stores ring rows
is(psql_value("SELECT state || ' ' || registry_req_id FROM toll_free.requests
	WHERE operation = 'reserve' AND numbers = '{8005550800}'"), "unknown $req_id",
	'the requests row is unknown, with the registry request id');
is(psql_value("SELECT state FROM tf_request_status('$req_id')"), 'pending', 'request status: still pending');
sleep(1.5);
is(psql_value("SELECT state || ' ' || http_status || ' ' || numbers::text FROM tf_request_status('$req_id')"),
	'done 200 {8005550800}', 'request status: done, with the number');
is(psql_value("SELECT state FROM toll_free.requests WHERE operation = 'reserve' AND numbers = '{8005550800}'"),
	'done', 'the requests row is settled');
is(psql_value("SELECT status FROM toll_free.numbers WHERE number = '8005550800'"), 'RESERVED',
	'the outcome is written through');
my $id = psql_value("SELECT id FROM toll_free.requests WHERE operation = 'reserve' AND numbers = '{8005550800}'");
is(psql_value("SELECT state FROM tf_request_status('$id')"), 'done', 'request status by toll_free.requests id');
psql_fails("SELECT * FROM tf_request_status('R9999999999')", 'TF005', 'unknown registry request id');
psql_fails("SELECT * FROM tf_request_status('R1; DROP')", '22023', 'malformed request id');
no_fault();

# --- sessions ---
my $opens = scalar(sim_requests(path => '/sec/session/open'));
fault("path=$query_path&kind=expire_session&count=1");
is(psql_value("SELECT status FROM tf_query('8005560001')"), 'WORKING', 'an expired token is renewed once');
is(scalar(sim_requests(path => '/sec/session/open')), $opens + 1, 'renewal opened one new session');

admin_post('/sessions/expire');
fault('path=/sec/session/open&kind=second_session&count=1');
is(psql_value("SELECT status FROM tf_query('8005560001')"), 'WORKING',
	'user already logged in (701003): the session is taken over');
my @opens = sim_requests(path => '/sec/session/open');
is(scalar @opens, $opens + 3, 'takeover: a refused open and one with the override key');
like($opens[-1]{body}, qr/<sessOverrideKey>/, 'the second open carries sessOverrideKey');
is($opens[-2]{status}, 409, 'the first open was refused with 409');
no_fault();

# --- a reserve reaches the registry exactly once ---
# Reset after the registry acted: resolved by a query, not resent.
fault('path=/num/tfn/reserve&kind=reset_after&count=1');
my $since = (sim_requests())[-1]{seq};
my ($rc, $out, $stderr) = psql("SELECT ok, status, message FROM tf_reserve('8005550810', $contact)");
is($rc, 0, 'reserve with a reset after the operation returns');
like($out, qr/^t\|RESERVED\|done: the connection was lost/, 'the outcome was resolved by a query: reserved');
like($stderr, qr/WARNING:.*connection to the registry was lost/, 'a WARNING says the connection was lost');
is(scalar(sim_requests(since => $since, path => '/num/tfn/reserve')), 1, 'the registry got the reserve once');
is(scalar(sim_requests(since => $since, path => '/num/tfn/query')), 1, 'and one query to resolve it');
is(psql_value("SELECT state || ' ' || (result->>'resolved_by_query') FROM toll_free.requests
	WHERE operation = 'reserve' AND numbers = '{8005550810}'"), 'done true', 'requests row: done, resolved by query');

# Reset before the registry acted: the query shows nothing happened.
fault('path=/num/tfn/reserve&kind=reset_before&count=1');
$since = (sim_requests())[-1]{seq};
$err = psql_fails("SELECT * FROM tf_reserve('8005550811', $contact)", '08006', 'reserve with a reset before the operation');
like($err, qr/did not change; the request was not sent again/, 'the error says nothing changed and nothing was resent');
is(scalar(sim_requests(since => $since, path => '/num/tfn/reserve')), 1, 'the registry got the reserve once');
is(psql_value("SELECT status FROM tf_query('8005550811')"), 'SPARE', 'the number is still spare');

# The same on a reused keep-alive connection: the POST is never repeated by libcurl.
psql_value("SELECT count(*) FROM tf_query('8005560001')");
fault('path=/num/tfn/reserve&kind=reset_before&count=1');
$since = (sim_requests())[-1]{seq};
psql_fails("SELECT tf_query('8005560001'); SELECT * FROM tf_reserve('8005550812', $contact)", '08006',
	'reserve after a query in the same session');
is(scalar(sim_requests(since => $since, path => '/num/tfn/reserve')), 1, 'still exactly one reserve');

# The answer comes after the client's timeout: the outcome stays unknown
# until the registry shows the change; the request is not resent.
fault('path=/num/tfn/reserve&kind=latency&ms=1500&count=1');
$since = (sim_requests())[-1]{seq};
$err = psql_fails("SET toll_free.timeout = '400ms'; SELECT * FROM tf_reserve('8005550813', $contact)", '08006',
	'reserve answered after the timeout');
like($err, qr/outcome is unknown/, 'the error says the outcome is unknown');
sleep(1.6);
is(psql_value("SELECT status FROM tf_query('8005550813')"), 'RESERVED', 'the registry did reserve it, later');
is(scalar(sim_requests(since => $since, path => '/num/tfn/reserve')), 1, 'the registry got the reserve once');
is(psql_value("SELECT state FROM toll_free.requests WHERE operation = 'reserve' AND numbers = '{8005550813}'"),
	'unknown', 'the requests row says unknown');

# 5xx and 429 on a reserve: nothing happened, so 429 is retried and 5xx raised.
fault('path=/num/tfn/reserve&kind=status&status=503&count=1');
psql_fails("SELECT * FROM tf_reserve('8005550814', $contact)", 'TF009', 'reserve answered 503');
fault('path=/num/tfn/reserve&kind=throttle&retry_after=0&count=1');
$since = (sim_requests())[-1]{seq};
is(psql_value("SELECT ok FROM tf_reserve('8005550814', $contact)"), 't', 'reserve answered 429 is retried');
is(scalar(grep { $_->{status} == 200 } sim_requests(since => $since, path => '/num/tfn/reserve')), 1,
	'one reserve carried out');
no_fault();

done_testing();
