# The tfn type across databases: a dump with numbers in an area code an
# administrator opened restores with pg_restore and psql as they are, with
# the extension's inventory, history, requests and records, and
# the details of rejected input stay valid text in LATIN1 and SQL_ASCII
# databases.
use strict;
use warnings;
use File::Temp ();
use IPC::Run ();
use Test::More;
use TollFreeTest;

my $dir = File::Temp->newdir();
my @databases = qw(tfn_dump_src tfn_dump_custom tfn_dump_plain tfn_latin1 tfn_sql_ascii);

sub drop_databases
{
	psql_value("DROP DATABASE IF EXISTS $_", db => 'postgres') for @databases;
	return;
}

# run_ok(\@command, $name): a test that a client program exits 0.
sub run_ok
{
	my ($command, $name) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run($command, '<', \'', '>', \$out, '2>', \$err);
	is($? >> 8, 0, $name) or diag("stderr: $err");
	return;
}

drop_databases();

# The source: 822 opened, two tables in schema public (which sorts before
# toll_free, so a dump loads their rows before the open_npa rows).
psql_value('CREATE DATABASE tfn_dump_src', db => 'postgres');
psql_value(q{
	CREATE EXTENSION toll_free;
	INSERT INTO toll_free.open_npa VALUES (822);
	CREATE TABLE inventory (number toll_free.tfn PRIMARY KEY, resporg text NOT NULL);
	CREATE TABLE calls (number toll_free.tfn NOT NULL REFERENCES inventory, minutes integer);
	INSERT INTO inventory VALUES ('822-555-1212', 'RUC01'), ('800-555-1212', 'RUC01');
	INSERT INTO calls VALUES ('822-555-1212', 3), ('800-555-1212', 4), ('822-555-1212', 5);
	INSERT INTO toll_free.numbers (number, resporg, status, last_seen, source)
		VALUES ('822-555-1212', 'RUC01', 'WORKING', now(), 'call');
	INSERT INTO toll_free.number_history (number, changed_at, source, new_status, new_resporg)
		VALUES ('822-555-1212', now(), 'call', 'WORKING', 'RUC01');
	INSERT INTO toll_free.requests (operation, numbers, state, finished_at)
		VALUES ('query', '{8225551212}', 'done', now());
	INSERT INTO toll_free.sync_runs (resporg, origin, state) VALUES ('RUC01', 'request', 'done');
	INSERT INTO toll_free.records (number, effective, status, seen_at)
		VALUES ('822-555-1212', '2026-12-01 10:00+00', 'ACTIVE', now());
}, db => 'tfn_dump_src');

my $contents = q{
	SELECT (SELECT string_agg(number::text, ',' ORDER BY number) FROM inventory) || '|' ||
		(SELECT string_agg(number::text || ':' || minutes, ',' ORDER BY minutes) FROM calls) || '|' ||
		(SELECT string_agg(npa::text, ',' ORDER BY npa) FROM toll_free.open_npa WHERE npa = 822) || '|' ||
		(SELECT count(*) FROM toll_free.numbers) || (SELECT count(*) FROM toll_free.number_history) ||
		(SELECT count(*) FROM toll_free.requests) || (SELECT count(*) FROM toll_free.sync_runs) ||
		(SELECT count(*) FROM toll_free.records)};
my $expected = '8005551212,8225551212|8225551212:3,8005551212:4,8225551212:5|822|11111';
is(psql_value($contents, db => 'tfn_dump_src'), $expected, 'the source holds the rows');

# Custom format through pg_restore, with its default options.
run_ok([ 'pg_dump', '-Fc', '-f', "$dir/custom.dump", 'tfn_dump_src' ], 'pg_dump -Fc');
psql_value('CREATE DATABASE tfn_dump_custom', db => 'postgres');
run_ok([ 'pg_restore', '--exit-on-error', '-d', 'tfn_dump_custom', "$dir/custom.dump" ],
	'pg_restore loads the custom dump');
is(psql_value($contents, db => 'tfn_dump_custom'), $expected, 'pg_restore restores every row');

# Plain format through psql, stopping at the first error.
run_ok([ 'pg_dump', '-f', "$dir/plain.sql", 'tfn_dump_src' ], 'pg_dump plain');
psql_value('CREATE DATABASE tfn_dump_plain', db => 'postgres');
run_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'tfn_dump_plain', '-f', "$dir/plain.sql" ],
	'psql loads the plain dump');
is(psql_value($contents, db => 'tfn_dump_plain'), $expected, 'psql restores every row');

# The rule that lets a restore through: with check_function_bodies off, as
# pg_dump and pg_restore set it, the open-code check is skipped; other
# checks of the input still apply.
psql_value('DELETE FROM toll_free.open_npa WHERE npa = 822', db => 'tfn_dump_plain');
psql_fails("SELECT '822-555-1213'::toll_free.tfn", '22P02', 'a closed code in a session',
	db => 'tfn_dump_plain');
is(psql_value("SET check_function_bodies = off; SELECT '822-555-1213'::toll_free.tfn", db => 'tfn_dump_plain'),
	'8225551213', 'a closed code with check_function_bodies off');
psql_fails("SET check_function_bodies = off; SELECT '922-555-1213'::toll_free.tfn", '22P02',
	'a code outside 8XX with check_function_bodies off', db => 'tfn_dump_plain');

# Other server encodings.  The client sends UTF-8.
{
	local $ENV{PGCLIENTENCODING} = 'UTF8';

	psql_value("CREATE DATABASE tfn_latin1 ENCODING 'LATIN1' TEMPLATE template0", db => 'postgres');
	psql_value("CREATE DATABASE tfn_sql_ascii ENCODING 'SQL_ASCII' TEMPLATE template0", db => 'postgres');
	psql_value('CREATE EXTENSION toll_free', db => $_) for qw(tfn_latin1 tfn_sql_ascii);

	# LATIN1: the no-break space is a LATIN1 character but not a separator
	# (only UTF-8 databases take Unicode spaces); its code point is named.
	my $err = psql_fails("SELECT '800\xC2\xA0555-1212'::toll_free.tfn", '22P02', 'no-break space in LATIN1',
		db => 'tfn_latin1');
	like($err, qr/DETAIL:\s+Character "\xC2\xA0" \(U\+00A0\) at position 4 is not allowed\./,
		'LATIN1: the detail names the character and its code point');
	$err = psql_fails("SELECT '800-\xC3\xA955-1212'::toll_free.tfn", '22P02', 'e acute in LATIN1',
		db => 'tfn_latin1');
	like($err, qr/DETAIL:\s+Character "\xC3\xA9" \(U\+00E9\) at position 5 is not allowed\./,
		'LATIN1: a letter with an accent is named with its code point');
	is(psql_value("SELECT ' 1-800-FLOWERS '::toll_free.tfn", db => 'tfn_latin1'), '8003569377',
		'LATIN1: ASCII input parses');

	# SQL_ASCII: a byte above 0x7F is no known character, so the detail
	# gives its value instead of quoting it.
	$err = psql_fails("SELECT '800\xC2\xA0555-1212'::toll_free.tfn", '22P02', 'no-break space in SQL_ASCII',
		db => 'tfn_sql_ascii');
	like($err, qr/DETAIL:\s+Character with byte value 0xC2 at position 4 is not allowed\./,
		'SQL_ASCII: the detail gives the byte value');
	is(psql_value("SELECT '800.555.1212'::toll_free.tfn", db => 'tfn_sql_ascii'), '8005551212',
		'SQL_ASCII: ASCII input parses');
}

drop_databases();

done_testing();
