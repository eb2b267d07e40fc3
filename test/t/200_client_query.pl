# tf_query and tf_search against the simulator over TLS: results, batching
# and concurrency, registry errors, toll_free.requests rows, write-through,
# search_path shadowing and client_encoding.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use TollFreeTest;

# Unqualified operators on tfn in the checks below need the schema on the path.
$ENV{PGOPTIONS} = '-c search_path=toll_free,public';

ensure_extension();
sim_reset();
psql_value('TRUNCATE toll_free.requests, toll_free.numbers, toll_free.number_history');

# One number.
my $row = psql_value("SELECT status, resporg IS NULL FROM toll_free.tf_query('8005550500')");
is($row, 'SPARE|t', 'spare number: status SPARE, no RespOrg');

$row = psql_value(
	"SELECT number, status, resporg, status_date IS NOT NULL, rec_version_id IS NOT NULL
	   FROM toll_free.tf_query('8005560001'::toll_free.tfn)");
is($row, '8005560001|WORKING|RUC01|t|t', 'working number of RUC01 with its dates and version');

$row = psql_value(
	"SELECT resporg, source, status FROM toll_free.numbers WHERE number = '8005560001'");
is($row, 'RUC01|call|WORKING', 'number of our RespOrg written through to toll_free.numbers');

$row = psql_value(
	"SELECT status, resporg, contact_name IS NULL FROM toll_free.tf_query('8005560003')");
is($row, 'WORKING|ABC01|t', 'number of another RespOrg: no contact data');
is(psql_value("SELECT count(*) FROM toll_free.numbers WHERE number = '8005560003'"), '0',
	'number of another RespOrg is not written through');

# The text overload accepts the written forms of the tfn type.
is(psql_value("SELECT number FROM toll_free.tf_query('1-800-556-0001')"), '8005560001',
	'text argument in a written form');
psql_fails("SELECT * FROM toll_free.tf_query('800-555-12')", '22P02', 'malformed number');

# Many numbers: batches of ten, in the order asked.
my @numbers = map { sprintf('80055502%02d', $_) } 0 .. 24;
my $array = "ARRAY['" . join("','", @numbers) . "']::toll_free.tfn[]";
my $since = (sim_requests())[-1]{seq} // 0;
my $out = psql_value("SELECT number FROM toll_free.tf_query($array)");
is_deeply([ split /\n/, $out ], \@numbers, '25 numbers come back in order');
my @batches = sim_requests(since => $since, path => '/num/tfn/query');
is(scalar @batches, 3, 'three registry requests for 25 numbers');
is_deeply([ sort { $a <=> $b } map { scalar(() = $_->{body} =~ /<num>/g) } @batches ], [ 5, 10, 10 ],
	'the requests carry 10, 10 and 5 numbers');
is(psql_value("SELECT count(*) FROM toll_free.requests WHERE operation = 'query' AND cardinality(numbers) > 1"),
	'3', 'one toll_free.requests row per registry request');

# Batches run concurrently up to toll_free.max_connections.
admin_post('/faults?path=/num/tfn/query&kind=latency&ms=600&method=PUT');
my $t0 = time;
psql_value("SET toll_free.max_connections = 4; SELECT count(*) FROM toll_free.tf_query($array)");
my $parallel = time - $t0;
$t0 = time;
psql_value("SET toll_free.max_connections = 1; SELECT count(*) FROM toll_free.tf_query($array)");
my $serial = time - $t0;
admin_delete('/faults');
cmp_ok($serial, '>=', 1.8, 'one connection: three 600 ms requests in turn');
cmp_ok($parallel, '<', 1.5, 'four connections: the three requests overlap');

# A registry refusal: an NPA the tfn type accepts but the registry has not opened.
psql_value('INSERT INTO toll_free.open_npa VALUES (822)');
my ($rc, $stdout, $stderr);
my $err = psql_fails("SELECT * FROM toll_free.tf_query('8225550100')", 'TF006',
	'NPA the registry has not opened');
like($err, qr/801116/, 'registry code in the detail');

# The row of a failed call survives the rollback through the audit ring.
# The worker or the next registry call of the database stores it.
is(psql_value("SELECT count(*) FROM toll_free.tf_search(3, pattern => '8885******')"), '3',
	'pattern search returns 3 numbers');
ok(wait_until(sub { psql_value("SELECT count(*) FROM toll_free.requests WHERE numbers::text = '{8225550100}'") eq '1' }, 5),
	'the failed call has a requests row although the call raised');
is(psql_value("SELECT state || ' ' || sqlstate || ' ' || registry_code FROM toll_free.requests
				WHERE numbers::text = '{8225550100}'"), 'failed TF006 801116',
	'the row records the refusal');

# A ring row that can no longer be stored as it was (its area code was
# closed meanwhile) is stored without its numbers instead of blocking.  The
# worker may store it before the area code closes: then it keeps them.
psql_fails("SELECT * FROM toll_free.tf_query('8225550101')", 'TF006', 'second call on the unopened NPA');
psql_value('DELETE FROM toll_free.open_npa WHERE npa = 822');
($rc, $stdout, $stderr) = psql("SELECT count(*) FROM toll_free.tf_search(1, pattern => '8886******')");
is($rc, 0, 'the next call works despite the ring row');
ok(wait_until(sub { psql_value("SELECT count(*) FROM toll_free.requests WHERE registry_code = '801116'") eq '2' }, 5),
	'the second failed call has its row, with or without its numbers');

# Search: random, by NPA, by pattern, specific, consecutive.
$out = psql_value('SELECT count(*) FROM toll_free.tf_search(3)');
is($out, '3', 'random search returns 3 numbers');
$out = psql_value("SELECT number FROM toll_free.tf_search(4, npa => '888')");
is(scalar(grep { /^888[2-9]/ } split /\n/, $out), 4, 'search by NPA returns numbers of that NPA');
$out = psql_value("SELECT number FROM toll_free.tf_search(2, pattern => '88822*****')");
is(scalar(grep { /^88822\d{5}$/ } split /\n/, $out), 2, 'wildcard search matches the pattern');
$out = psql_value("SELECT number FROM toll_free.tf_search(1, pattern => '800flowers')");
is($out, '8003569377', 'vanity pattern in lower case finds 1-800-FLOWERS');
$out = psql_value("SELECT number FROM toll_free.tf_search(3, pattern => '8882233***', consecutive => true)");
my @cons = split /\n/, $out;
is(scalar @cons, 3, 'consecutive search returns 3 numbers');
is($cons[2] - $cons[0], 2, 'consecutive numbers follow each other');

# Specific search: only the spare one comes back, with the 801104 warning.
($rc, $out, $stderr) = psql(
	"SELECT number FROM toll_free.tf_search(numbers => ARRAY['8005550400','8005560001']::toll_free.tfn[])");
is($out, '8005550400', 'specific search returns only the spare number');
like($stderr, qr/WARNING:.*801104/, 'fewer numbers than asked gives a WARNING with 801104');

psql_fails('SELECT * FROM toll_free.tf_search(11)', '22023', 'quantity above 10');
psql_fails("SELECT * FROM toll_free.tf_search(1, npa => '88')", '22023', 'NPA of two digits');
psql_fails("SELECT * FROM toll_free.tf_search(1, pattern => '800-FLOWER')", '22023', 'pattern with a dash');
$err = psql_fails("SELECT * FROM toll_free.tf_search(2, pattern => '80055521*1', consecutive => true)",
	'TF006', 'consecutive pattern not ending in *');
like($err, qr/801114/, 'consecutive pattern refusal carries 801114');
$err = psql_fails("SELECT * FROM toll_free.tf_search(1, pattern => '800555&123')", 'TF006', 'lone & in a pattern');
like($err, qr/801113/, 'lone & refusal carries 801113');
$err = psql_fails("SELECT * FROM toll_free.tf_search(1, pattern => '8005560001')", 'TF001',
	'pattern matching no spare number');
like($err, qr/801122/, 'no match carries 801122');

# The requests rows name the caller.
is(psql_value("SELECT count(*) FROM toll_free.requests WHERE requested_by <> current_user"), '0',
	'requested_by is the calling role');

# Objects named like internal ones earlier on search_path change nothing.
psql_value(<<'SQL');
DROP SCHEMA IF EXISTS evil CASCADE;
CREATE SCHEMA evil;
CREATE TABLE evil.requests (x int);
CREATE TABLE evil.numbers (x int);
CREATE TABLE evil.number_history (x int);
CREATE TYPE evil.tfn AS (x int);
CREATE TYPE evil.number_status AS ENUM ('EVIL');
CREATE FUNCTION evil.row_to_json(anyelement) RETURNS json LANGUAGE sql AS $$ SELECT '{}'::json $$;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT 'epoch'::timestamptz $$;
SQL
$row = psql_value("SET search_path = evil, public; SELECT status FROM toll_free.tf_query('8005560001'::toll_free.tfn)");
is($row, 'WORKING', 'tf_query works with shadowing objects on search_path');
is(psql_value("SELECT operation || ' ' || numbers::text FROM toll_free.requests ORDER BY id DESC LIMIT 1"),
	'query {8005560001}', 'the row went to toll_free.requests');
is(psql_value('SELECT count(*) FROM evil.requests'), '0', 'nothing went to evil.requests');
is(psql_value("SELECT last_seen > 'epoch' FROM toll_free.numbers WHERE number = '8005560001'"), 't',
	'internal SQL used pg_catalog.now(), not evil.now()');
psql_value('DROP SCHEMA evil CASCADE');

# Text is converted to the server encoding, whatever client_encoding is.
psql_value("SELECT * FROM toll_free.tf_reserve('8005550600', convert_from('\\x4a69c599c3ad204e6f76c3a16b'::bytea, 'UTF8'), '7325551234')");
for my $encoding (qw(UTF8 WIN1250))
{
	is(psql_value("SET client_encoding = '$encoding';
		SELECT contact_name = convert_from('\\x4a69c599c3ad204e6f76c3a16b'::bytea, 'UTF8')
		  FROM toll_free.tf_query('8005550600')"),
		't', "contact name with non-ASCII letters intact under client_encoding $encoding");
}

done_testing();
