# Number administration against the simulator over TLS: tf_reserve (one
# number, arrays with batching, a pattern), tf_spare, tf_change_resporg and
# tf_disconnect, with every registry refusal the simulator produces for
# them, write-through, rows that survive a rollback, batching, and the
# privileges of the roles.
use strict;
use warnings;
use Test::More;
use IPC::Run ();
use TollFreeTest;

$ENV{PGOPTIONS} = '-c search_path=toll_free,public';

ensure_extension();
sim_reset();
psql_value('TRUNCATE toll_free.requests, toll_free.numbers, toll_free.number_history');

my $contact = "contact_name => 'Jane Roe', contact_phone => '7325551234'";

# sim_call($user_index, $method, $path, $body): the registry API as another
# simulator user (a session of its own), through curl; returns the body.
my %tokens;
sub sim_call
{
	my ($n, $method, $path, $body) = @_;
	my $user = sim_user($n);
	my $run = sub {
		my ($m, $p, $b, $token) = @_;
		my @cmd = ('curl', '-sS', '--cacert', $ENV{TOLL_FREE_SIM_CA}, '-X', $m,
			'-H', 'Content-Type: application/xml');
		push @cmd, '-H', "Authorization: Bearer $token" if $token;
		push @cmd, '--data-binary', $b if defined $b;
		my ($out, $err) = ('', '');
		IPC::Run::run([ @cmd, $ENV{TOLL_FREE_SIM_URL} . $p ], '>', \$out, '2>', \$err);
		return $out;
	};
	$tokens{$n} //= do {
		my $open = $run->('POST', '/sec/session/open',
			"<sessionOpen><usrName>$user->{user}</usrName><password>$user->{password}</password></sessionOpen>");
		($open =~ m{<oauthToken>([^<]+)</oauthToken>})[0];
	};
	return $run->($method, $path, $body, $tokens{$n});
}

# --- reserve one number ---
my $row = psql_value("SELECT ok, status, resporg, reserved_until > current_date + 40, request_id IS NOT NULL
	FROM tf_reserve('8005550010', $contact, notes => 'for ACME')");
is($row, 't|RESERVED|RUC01|t|t', 'reserve one spare number');
is(psql_value("SELECT status || ' ' || resporg || ' ' || contact_name || ' ' || source
	FROM toll_free.numbers WHERE number = '8005550010'"), 'RESERVED RUC01 Jane Roe call',
	'reserved number written through with its contact');
is(psql_value("SELECT old_status IS NULL AND new_status = 'RESERVED' FROM toll_free.number_history
	WHERE number = '8005550010'"), 't', 'history row for the new reservation');
is(psql_value("SELECT state || ' ' || operation || ' ' || (arguments->>'contact')
	FROM toll_free.requests WHERE numbers = '{8005550010}'"), 'done reserve true',
	'requests row: done, and no contact data in arguments');

# Refusals of a one-number reserve raise, with the registry's code.
for my $case (
	[ '8005550010', 'TF001', '801124', 'number we already reserved' ],
	[ '8005560011', 'TF001', '801124', 'number reserved by another RespOrg' ],
	[ '8005560050', 'TF001', '801124', 'unavailable number' ])
{
	my ($number, $state, $code, $name) = @$case;
	my $err = psql_fails("SELECT * FROM tf_reserve('$number', $contact)", $state, $name);
	like($err, qr/$code/, "$name: registry code $code in the detail");
}
my $err = psql_fails("SELECT * FROM tf_reserve('8005550011')", 'TF006', 'reserve without contact data');
like($err, qr/099027/, 'missing contact: 099027');
$err = psql_fails("SELECT * FROM tf_reserve('8005550011', 'Jane Roe', '12')", 'TF006', 'invalid contact phone');
like($err, qr/801121/, 'invalid contact phone: 801121');

$err = psql_fails("SELECT * FROM tf_reserve('8005550011', 'Jane 2', '7325551234')", 'TF006', 'contact name with a digit');
like($err, qr/801120/, 'invalid contact name: 801120');
$err = psql_fails("SELECT * FROM tf_reserve('8005550011', $contact, notes => repeat('n', 300))", 'TF006',
	'notes longer than 255 characters');
like($err, qr/099043/, 'notes too long: 099043');
$err = psql_fails("SELECT * FROM tf_search(1, pattern => 'FLO5551234')", 'TF006', 'letters in the NPA of a pattern');
like($err, qr/801128/, 'invalid wildcard number: 801128');

# Pre-reserved by another RespOrg: ABC01 searches the number first.
sim_call(2, 'PUT', '/num/tfn/search', '<numSearch><numList><num>8005550012</num></numList></numSearch>');
$err = psql_fails("SELECT * FROM tf_reserve('8005550012', $contact)", 'TF001', 'number pre-reserved by ABC01');
like($err, qr/801125/, 'pre-reserved: 801125');

# --- reserve arrays: one request per 10 numbers ---
my $since = (sim_requests())[-1]{seq};
my $out = psql_value("SELECT number, ok FROM tf_reserve(ARRAY['8005550001','8005550002','8005550003']::tfn[], $contact)");
is($out, "8005550001|t\n8005550002|t\n8005550003|t", 'three numbers reserved, a row each');
my @posts = sim_requests(since => $since, path => '/num/tfn/reserve');
is(scalar @posts, 1, 'three numbers: one reserve request');
is(scalar(() = $posts[0]{body} =~ /<num>/g), 3, 'the request lists all three numbers');

$since = (sim_requests())[-1]{seq};
my @eleven = map { sprintf('80055501%02d', $_) } 0 .. 10;
$out = psql_value("SELECT count(*) FILTER (WHERE ok), count(*) FROM tf_reserve(ARRAY['"
	. join("','", @eleven) . "']::tfn[], $contact)");
is($out, '11|11', 'eleven numbers: eleven rows, all reserved');
@posts = sim_requests(since => $since, path => '/num/tfn/reserve');
is_deeply([ map { scalar(() = $_->{body} =~ /<num>/g) } @posts ], [ 10, 1 ],
	'eleven numbers: requests of 10 and 1');
is(psql_value("SELECT count(*) FROM toll_free.requests WHERE operation = 'reserve' AND numbers && ARRAY['8005550100']::tfn[]"),
	'1', 'one requests row per registry request');

$out = psql_value("SELECT number, ok, coalesce(registry_code, '') FROM tf_reserve(ARRAY['8005550004','8005560011']::tfn[], $contact)");
is($out, "8005550004|t|\n8005560011|f|801124", 'partial failure is a row with the registry code');

$out = psql_value("SELECT count(*), bool_and(NOT ok), min(registry_code) FROM tf_reserve(ARRAY['8005550005','8005550006']::tfn[])");
is($out, '2|t|099027', 'refusal of a whole batch: a failed row per number');

# --- reserve by pattern (search and reserve) ---
$out = psql_value("SELECT count(*), bool_and(ok), bool_and(status = 'RESERVED'), bool_and(number::text LIKE '88823%')
	FROM tf_reserve(pattern => '88823*****', quantity => 2, $contact)");
is($out, '2|t|t|t', 'search and reserve by pattern');
is(psql_value("SELECT array_length(numbers, 1) || '|' || bool_and(n::text LIKE '88823%') || '|' ||
                      (SELECT count(*) FROM toll_free.numbers i WHERE i.number = ANY (r.numbers))
               FROM toll_free.requests r, unnest(r.numbers) n
               WHERE r.id = (SELECT max(id) FROM toll_free.requests WHERE operation = 'reserve_search')
               GROUP BY r.id, r.numbers"),
	'2|true|2', 'the requests row of a search and reserve lists the numbers it reserved');
$err = psql_fails("SELECT * FROM tf_reserve(pattern => '8005560001', quantity => 1, $contact)",
	'TF001', 'search and reserve without a match');
like($err, qr/801122/, 'no match: 801122');
psql_fails("SELECT * FROM tf_reserve(pattern => '8882', quantity => 1)", '22023', 'pattern too short');
psql_fails("SELECT * FROM tf_reserve(pattern => NULL, quantity => 11)", '22023', 'quantity 11');

# --- spare ---
$row = psql_value("SELECT ok, status FROM tf_spare('8005560010')");
is($row, 't|SPARE', 'spare a reserved number');
for my $case (
	[ '8005560031', 'TF007', '801140', 'disconnected number aged less than 45 days' ],
	[ '8005560020', 'TF007', '801131', 'assigned number' ],
	[ '8005550500', 'TF007', '801130', 'number already spare' ],
	[ '8005560011', 'TF002', '099038', 'number of another RespOrg' ])
{
	my ($number, $state, $code, $name) = @$case;
	$err = psql_fails("SELECT * FROM tf_spare('$number')", $state, "spare: $name");
	like($err, qr/$code/, "spare: $name: $code");
}
is(psql_value("SELECT ok FROM tf_spare('8005560030')"), 't', 'spare a number disconnected 60 days ago');
$out = psql_value("SELECT number, ok, coalesce(registry_code, '') FROM tf_spare(ARRAY['8005550001','8005550500']::tfn[])");
is($out, "8005550001|t|\n8005550500|f|801130", 'spare an array: a row per number');
is(psql_value("SELECT count(*) FROM toll_free.numbers WHERE number = '8005550001'"), '0',
	'a spared number leaves toll_free.numbers');
is(psql_value("SELECT new_status IS NULL FROM toll_free.number_history WHERE number = '8005550001' ORDER BY id DESC LIMIT 1"),
	't', 'history row for the number leaving');
my @updates = sim_requests(path => '/num/tfn/update');
like($updates[-1]{body}, qr{<recVersionId>\d+</recVersionId>}, 'the update carries the queried recVersionId');

# --- change RespOrg ---
$row = psql_value("SELECT ok, resporg FROM tf_change_resporg('8005560012', 'ruc02')");
is($row, 't|RUC02', 'change RespOrg to one in the updList');
is(psql_value("SELECT resporg FROM toll_free.numbers WHERE number = '8005560012'"), 'RUC02',
	'the new RespOrg is written through');
for my $case (
	[ '8005560014', 'XYZ01', 'TF002', '099038', 'RespOrg outside the updList' ],
	[ '8005560014', 'ZZZ99', 'TF005', '802115', 'unknown RespOrg' ],
	[ '8005550600', 'RUC02', 'TF007', '802112', 'spare number' ])
{
	my ($number, $to, $state, $code, $name) = @$case;
	$err = psql_fails("SELECT * FROM tf_change_resporg('$number', '$to')", $state, "change RespOrg: $name");
	like($err, qr/$code/, "change RespOrg: $name: $code");
}
psql_fails("SELECT * FROM tf_change_resporg('8005560014', 'RU')", '22023', 'malformed RespOrg ID');
$out = psql_value("SELECT number, ok FROM tf_change_resporg(ARRAY['8005560014','8005560015']::tfn[], 'RUC02')");
is($out, "8005560014|t\n8005560015|t", 'change RespOrg of an array');

# Stale version (099003): another session changes the number between our
# query and our update, which the simulator holds back for a second.
admin_post('/faults?path=/num/tfn/update&kind=latency&ms=1500&count=1');
$since = (sim_requests())[-1]{seq};
my ($a_out, $a_err) = ('', '');
my $slow = IPC::Run::start([ 'psql', '-X', '-At', '-v', 'VERBOSITY=verbose',
	'-c', "SELECT * FROM toll_free.tf_spare('8005560013')" ],
	'<', '/dev/null', '>', \$a_out, '2>', \$a_err);
ok(wait_until(sub { scalar(sim_requests(since => $since, path => '/num/tfn/query')) >= 1 }, 10),
	'the slow session queried the number');
select(undef, undef, undef, 0.3);
is(psql_value("SELECT ok FROM tf_change_resporg('8005560013', 'RUC01')"), 't',
	'the other session changes the number first');
$slow->finish;
like($a_err, qr/TF004.*\n.*099003/, 'the held-back update fails with TF004 and 099003');
admin_delete('/faults');

# --- disconnect ---
$row = psql_value("SELECT ok, record_status, effective_at IS NOT NULL, rec_version_id IS NOT NULL FROM tf_disconnect('8005560001')");
like($row, qr/^t\|[A-Z ]+\|t\|t$/, 'disconnect now succeeds with a record status, time and version');
is(psql_value("SELECT status || ' ' || source FROM toll_free.numbers WHERE number OPERATOR(toll_free.=) '8005560001'"),
	'DISCONNECT call', 'the disconnect wrote the new status through to numbers');
is(psql_value("SELECT status FROM tf_query('8005560001')"), 'DISCONNECT', 'the number is disconnected');
psql_fails("SELECT * FROM tf_disconnect('8005560005', effective => '2030-01-01 10:07+00')", '22023',
	'effective time off the quarter hour');
for my $case (
	[ "'8005550700'", 'TF005', '512001', 'spare number: no record to disconnect' ],
	[ "'8005560005', effective => date_trunc('hour', now()) + interval '2 hours', end_intercept => current_date + 400",
	  'TF006', '512015', 'end of intercept beyond 180 days' ],
	[ "'8005560005', effective => date_trunc('hour', now()) + interval '2 hours', end_intercept_now => true",
	  'TF006', '512016', 'end of intercept NOW with a future disconnect' ],
	[ "'8005560005', effective => date_trunc('hour', now()) + interval '300 days'",
	  'TF006', '599001', 'effective more than six months ahead' ],
	[ "'8005560005', effective => date_trunc('hour', now()) - interval '2 hours'",
	  'TF006', '502004', 'effective in the past' ],
	[ "'8005560003'", 'TF002', '099038', 'number of another RespOrg' ])
{
	my ($args, $state, $code, $name) = @$case;
	$err = psql_fails("SELECT * FROM tf_disconnect($args)", $state, "disconnect: $name");
	like($err, qr/$code/, "disconnect: $name: $code");
}
$out = psql_value("SELECT number, ok, coalesce(registry_code, '') FROM tf_disconnect(ARRAY['8005560006','8005550700']::tfn[],
	effective => date_trunc('hour', now()) + interval '1 day', end_intercept => current_date + 30, referral => true)");
is($out, "8005560006|t|\n8005550700|f|512001", 'disconnect an array: a row per number');
my ($sent) = grep { $_->{body} =~ /8005560006/ } sim_requests(path => '/cus/rec/disconnect');
like($sent->{body}, qr{<endInterceptDt>\d{4}-\d\d-\d\d</endInterceptDt><referral>Y</referral>},
	'end of intercept and referral are sent');
like($sent->{body}, qr{<tgtEffDtTm>\d{4}-\d\d-\d\dT\d\d:00:00Z</tgtEffDtTm>}, 'effective time in UTC form');

# --- the row of a synchronous change survives a rollback ---
$since = (sim_requests())[-1]{seq};
psql_value("BEGIN; SELECT * FROM tf_reserve('8005550020', $contact); ROLLBACK;");
is(scalar(sim_requests(since => $since, path => '/num/tfn/reserve')), 1, 'the registry got the reserve once');
psql_value("SELECT count(*) FROM tf_query('8005550020')");	# the next call stores ring rows
is(psql_value("SELECT state FROM toll_free.requests WHERE operation = 'reserve' AND numbers = '{8005550020}'"),
	'done', 'the requests row of the rolled-back reserve exists, state done');
is(psql_value("SELECT status FROM tf_query('8005550020')"), 'RESERVED', 'the number stays reserved at the registry');

psql_value("BEGIN; SAVEPOINT s; SELECT * FROM tf_reserve('8005550021', $contact); ROLLBACK TO s; COMMIT;");
psql_value("SELECT count(*) FROM tf_query('8005550021')");
is(psql_value("SELECT state FROM toll_free.requests WHERE operation = 'reserve' AND numbers = '{8005550021}'"),
	'done', 'the row survives a rollback to a savepoint');

# --- privileges ---
psql_value(<<'SQL');
DROP ROLE IF EXISTS tf_alice, tf_bob, tf_carol;
CREATE ROLE tf_alice LOGIN IN ROLE toll_free_reader;
CREATE ROLE tf_bob LOGIN IN ROLE toll_free_operator;
CREATE ROLE tf_carol LOGIN;
SQL
is(psql_value("SELECT count(*) FROM pg_proc p, aclexplode(p.proacl) a
	WHERE p.proname LIKE 'tf\\_%' AND p.pronamespace = 'toll_free'::regnamespace AND a.grantee = 0"), '0',
	'no tf_ function is executable by PUBLIC');
psql_fails("SELECT * FROM toll_free.tf_query('8005550030')", '42501', 'role without toll_free role: query',
	user => 'tf_carol');
is(psql_value("SELECT status FROM toll_free.tf_query('8005550030')", user => 'tf_alice'), 'SPARE',
	'reader may query');
is(psql_value("SELECT count(*) FROM toll_free.tf_search(1, pattern => '8887******')", user => 'tf_alice'), '1',
	'reader may search');
psql_fails("SELECT * FROM toll_free.tf_reserve('8005550030', 'A', '7325551234')", '42501', 'reader may not reserve',
	user => 'tf_alice');
is(psql_value("SELECT ok FROM toll_free.tf_reserve('8005550030', 'B', '7325551234')", user => 'tf_bob'), 't',
	'operator may reserve');
is(psql_value("SELECT ok FROM toll_free.tf_spare('8005550030')", user => 'tf_bob'), 't', 'operator may spare');
is(psql_value('SELECT count(DISTINCT requested_by) FROM toll_free.requests', user => 'tf_alice'), '1',
	'a reader sees only its own requests rows');
is(psql_value("SELECT requested_by FROM toll_free.requests WHERE operation = 'reserve' ORDER BY id DESC LIMIT 1"),
	'tf_bob', 'requested_by names the operator');
psql_fails('INSERT INTO toll_free.requests (operation, state) VALUES (\'x\', \'done\')', '42501',
	'operator cannot write requests rows directly', user => 'tf_bob');
psql_value('DROP OWNED BY tf_alice, tf_bob, tf_carol; DROP ROLE tf_alice, tf_bob, tf_carol');

# --- the entity's reservation limit (801117), last: it uses up the limit ---
my $limits = sim_call(1, 'GET', '/num/res/limits');
my ($remaining) = $limits =~ m{<remainingRes>(\d+)</remainingRes>};
ok(defined $remaining && $remaining > 0 && $remaining < 3000, "entity RU may reserve $remaining more numbers")
  or diag($limits);
my $count = $remaining + 15;
$out = psql_value("SELECT count(*) FILTER (WHERE ok), count(*) FILTER (WHERE registry_code = '801117')
	FROM tf_reserve(ARRAY(SELECT (8883330000 + g)::text::tfn FROM generate_series(1, $count) g), $contact)");
my ($reserved, $over_limit) = split /\|/, $out;
cmp_ok($reserved, '<=', $remaining, 'no more numbers reserved than the limit allows');
cmp_ok($over_limit, '>=', 15, 'numbers past the limit fail with 801117');
$err = psql_fails("SELECT * FROM tf_reserve('8005550040', $contact)", 'TF003', 'one more reserve at the limit');
like($err, qr/801117/, 'limit: 801117 in the detail');

done_testing();
