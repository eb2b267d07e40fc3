# Role matrix: no role, reader, operator, administrator and superuser
# against every function, table, view and setting of the extension.
#
# Objects are enumerated from the catalog (members of extension toll_free),
# so an object added later is covered without editing this file.  Functions
# are classified by name; a tf_* function that no rule names must at least
# be closed to PUBLIC.  Besides the catalog checks, a few real calls show
# that the privileges hold in practice: row level security on
# toll_free.requests, the superuser-only trust settings, GRANT SET ON
# PARAMETER, and pinned search_path against shadowing objects.
use strict;
use warnings;
use Test::More;
use TollFreeTest;

ensure_extension();
sim_reset();

# Login roles for the matrix, each a member of one extension role.
my %member_of = (
	tf_nobody => undef,
	tf_read => 'toll_free_reader',
	tf_oper => 'toll_free_operator',
	tf_oper2 => 'toll_free_operator',
	tf_adm => 'toll_free_admin',
);
for my $role (sort keys %member_of)
{
	psql_value("SELECT 1 FROM pg_roles WHERE rolname = '$role'")
	  and psql_value("DROP OWNED BY $role; DROP ROLE $role");
	psql_value("CREATE ROLE $role LOGIN");
	psql_value("GRANT $member_of{$role} TO $role") if $member_of{$role};
}
psql_value('GRANT USAGE ON SCHEMA public TO PUBLIC');

# Privilege levels: 0 nobody, 1 reader, 2 operator, 3 administrator,
# 4 superuser.
my @matrix_roles = (
	[ tf_nobody => 0 ], [ tf_read => 1 ], [ tf_oper => 2 ], [ tf_adm => 3 ],
	[ postgres => 4 ]);

# The lowest level that may execute a function, by name: the tfn type's
# functions and aggregates are for everyone.
my @function_rules = (
	[ qr/^(?!tf_)/ => 0 ],
	[ qr/^tf_(query|search|request_status|resporg_check|reservations_expiring|worker_status|query_records|retrieve|retrieve_template)$/ => 1 ],
	[ qr/^tf_(reserve|spare|change_resporg|disconnect|copy_record|update_record|enqueue|wait)$/ => 2 ],
	[ qr/^tf_(sync|worker_restart|worker_wake|purge\w*)$/ => 3 ],
);

my $members = q{
	SELECT d.objid FROM pg_depend d
	JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'toll_free'
	WHERE d.deptype = 'e' AND d.classid = '%s'::regclass};

# Functions.
my @functions = split /\n/, psql_value(sprintf(q{
	SELECT p.proname || '|' || p.oid::regprocedure || '|' || p.prosecdef || '|'
	       || coalesce(array_to_string(p.proconfig, ','), '') || '|' || l.lanname
	FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
	WHERE p.oid IN (%s) ORDER BY p.oid::regprocedure::text}, sprintf($members, 'pg_proc')));
cmp_ok(scalar @functions, '>', 40, 'the catalog lists the extension functions');

# EXECUTE privileges of every matrix role on every function, in one query.
my %execute;
for my $line (split /\n/, psql_value(sprintf(q{
	SELECT r.rolname || '|' || p.oid::regprocedure || '|'
	       || has_function_privilege(r.oid, p.oid, 'EXECUTE')
	FROM pg_proc p, pg_roles r
	WHERE p.oid IN (%s) AND r.rolname IN ('tf_nobody', 'tf_read', 'tf_oper', 'tf_adm', 'postgres')},
	sprintf($members, 'pg_proc'))))
{
	my ($role, $signature, $allowed) = split /\|/, $line;
	$execute{$role}{$signature} = $allowed eq 'true' ? 't' : 'f';
}

for my $line (@functions)
{
	my ($name, $signature, $secdef, $config, $language) = split /\|/, $line;
	my ($level) = map { $_->[1] } grep { $name =~ $_->[0] } @function_rules;

	if (!defined $level)
	{
		# Not classified: it must not be open to everyone.
		is(execute_privilege('tf_nobody', $signature), 'f',
			"$signature: not executable by a role without grants");
		next;
	}

	for my $r (@matrix_roles)
	{
		my ($role, $role_level) = @$r;
		is(execute_privilege($role, $signature), $role_level >= $level ? 't' : 'f',
			"$signature: EXECUTE for $role");
	}

	# A registry function runs internal SQL; with search_path pinned, an
	# object in a schema of the caller cannot stand in for the extension's.
	if ($name =~ /^tf_/)
	{
		like($config, qr/search_path=/, "$signature: pins search_path");
	}
	if ($secdef eq 't')
	{
		like($config, qr/search_path=/, "$signature: SECURITY DEFINER pins search_path");
	}
}

sub execute_privilege
{
	my ($role, $signature) = @_;
	return $execute{$role}{$signature};
}

# Tables, views and sequences.  Readers may read everything but the staging
# table; nobody below superuser may change a table directly (the functions
# write as the owner), except that administrators maintain open_npa.
my @relations = split /\n/, psql_value(sprintf(q{
	SELECT c.oid::regclass::text || '|' || c.relkind::text FROM pg_class c
	WHERE c.oid IN (%s) ORDER BY 1}, sprintf($members, 'pg_class')));
cmp_ok(scalar @relations, '>', 8, 'the catalog lists the extension relations');

for my $line (@relations)
{
	my ($relation, $kind) = split /\|/, $line;
	my $privilege = $kind eq 'S' ? 'USAGE' : 'SELECT';

	for my $r (@matrix_roles)
	{
		my ($role, $level) = @$r;
		my ($read, $write) = split /\|/, psql_value(
			$kind eq 'S'
			? "SELECT 'n/a|' || has_sequence_privilege('$role', '$relation', 'UPDATE')"
			: "SELECT has_table_privilege('$role', '$relation', 'SELECT') || '|' ||"
			  . " has_table_privilege('$role', '$relation', 'INSERT, UPDATE, DELETE, TRUNCATE')");
		$_ = $_ eq 'true' ? 't' : 'f' for $read, $write;

		my $may_read = $level == 4 || ($level >= 1 && $relation !~ /sync_staging|_seq$/)
		  || $relation =~ /open_npa/;
		my $may_write = $level == 4 || ($level == 3 && $relation =~ /open_npa/);

		if ($kind ne 'S')
		{
			# open_npa: the tfn type reads it, so everyone may, or nobody
			# needs to; both are safe.
			if ($relation =~ /open_npa/ && $level < 4)
			{
				pass("$relation: SELECT for $role is harmless either way");
			}
			else
			{
				is($read, $may_read ? 't' : 'f', "$relation: SELECT for $role");
			}
		}
		is($write, $may_write ? 't' : 'f', "$relation: write privileges for $role")
		  unless $relation =~ /open_npa/ && $level == 3;
	}
}

# Settings.  The endpoint and trust settings must not be changeable by any
# non-superuser in a session; the rest may be per session or cluster-wide.
my %trust = map { $_ => 1 } qw(toll_free.url toll_free.ca_file toll_free.credentials_file
  toll_free.allow_plain_http toll_free.max_response_size);
my @settings = split /\n/, psql_value(
	"SELECT name || '|' || context FROM pg_settings WHERE name LIKE 'toll_free.%' ORDER BY 1");
cmp_ok(scalar @settings, '>=', 20, 'pg_settings lists the toll_free settings');

for my $line (@settings)
{
	my ($name, $context) = split /\|/, $line;
	if ($trust{$name})
	{
		like($context, qr/^(superuser|sighup|postmaster)$/, "$name: not settable by users");
		for my $role (qw(tf_read tf_oper tf_adm))
		{
			my ($rc, $out, $err) = psql("SET $name = 'x'", user => $role);
			isnt($rc, 0, "$name: SET by $role fails");
		}
	}
	elsif ($context eq 'user')
	{
		my ($rc, $out, $err) = psql("SHOW $name", user => 'tf_nobody');
		is($rc, 0, "$name: a plain user may read it");
	}
}
delete $trust{$_} for map { (split /\|/)[0] } @settings;
is_deeply([ sort keys %trust ], [], 'every trust setting exists');

# A role granted SET on every setting that allows it still cannot change
# the endpoint or the trust settings, and its calls still go to the
# configured registry.
for my $line (@settings)
{
	my ($name, $context) = split /\|/, $line;
	next if $name =~ /\.(url|ca_file|credentials_file|allow_plain_http)$/;
	next unless $context =~ /^(user|superuser)$/;
	psql_value("GRANT SET ON PARAMETER $name TO tf_oper");
}
for my $name (qw(url ca_file credentials_file allow_plain_http))
{
	my ($rc, $out, $err) = psql("\\set VERBOSITY verbose\nSET toll_free.$name = 'https://127.0.0.1:1/v3/ip'",
		user => 'tf_oper');
	like($err, qr/ERROR:\s+(42501|55P02):/,
		"toll_free.$name: SET by a role with SET on the other settings is refused");
	($rc, $out, $err) = psql("ALTER SYSTEM SET toll_free.$name = 'x'", user => 'tf_oper');
	isnt($rc, 0, "toll_free.$name: ALTER SYSTEM by that role is refused");
}
my $before = scalar sim_requests();
psql_ok("SET toll_free.max_response_size = '64kB'; SET toll_free.timeout = 5000;
	SELECT number FROM toll_free.tf_query('8005560001')",
	'a role with SET on the other settings can still query', user => 'tf_oper');
my @after = sim_requests();
cmp_ok(scalar @after, '>', $before, 'that query reached the configured registry');

# Real calls: what each role may do.
psql_fails("SELECT toll_free.tf_query('8005560001')", '42501', 'tf_query by a role without grants',
	user => 'tf_nobody');
psql_ok("SELECT toll_free.tf_query('8005560001')", 'tf_query by a reader', user => 'tf_read');
psql_fails("SELECT toll_free.tf_reserve('8005550601', 'Privilege Test', '7325550100')", '42501',
	'tf_reserve by a reader', user => 'tf_read');
psql_fails("SELECT count(*) FROM toll_free.numbers", '42501', 'numbers read by a role without grants',
	user => 'tf_nobody');
psql_fails("SELECT count(*) FROM toll_free.requests", '42501', 'requests read by a role without grants',
	user => 'tf_nobody');
psql_fails("INSERT INTO toll_free.requests (operation, state) VALUES ('reserve', 'done')", '42501',
	'requests written by an operator', user => 'tf_oper');
psql_fails("SELECT toll_free.tf_worker_restart()", '42501', 'tf_worker_restart by an operator',
	user => 'tf_oper');
psql_fails("SELECT pg_reload_conf()", '42501', 'pg_reload_conf by an administrator',
	user => 'tf_adm');

# Row level security: an operator sees its own requests only, through the
# table and through tf_wait.
psql_ok("SELECT toll_free.tf_reserve('8005550602', 'Privilege Test', '7325550100')",
	'tf_reserve by an operator', user => 'tf_oper');
my $own_id = psql_value("SELECT max(id) FROM toll_free.requests WHERE requested_by = 'tf_oper'");
ok($own_id, 'the operator\'s reservation has a request row');
is(psql_value("SELECT count(*) FROM toll_free.requests WHERE id = $own_id", user => 'tf_oper'), 1,
	'the operator sees its own request');
is(psql_value("SELECT count(*) FROM toll_free.requests WHERE id = $own_id", user => 'tf_oper2'), 0,
	'another operator does not see it');
is(psql_value("SELECT count(*) FROM toll_free.requests WHERE id = $own_id", user => 'tf_adm'), 1,
	'an administrator sees it');

my $queued = psql_value(
	"SELECT toll_free.tf_enqueue('reserve', '8005550603', '{\"contact_name\": \"Privilege Test\", \"contact_phone\": \"7325550100\"}')",
	user => 'tf_oper');
my ($rc, $out, $err) = psql("SELECT (toll_free.tf_wait($queued, '1 s')).requested_by",
	user => 'tf_oper2');
ok($rc != 0 || $out eq '',
	'tf_wait does not show another operator\'s request')
  or diag("tf_wait($queued) by tf_oper2 returned the row of tf_oper: $out");

# Shadowing objects: a schema first on search_path with tables, a type
# and functions named like the extension's must change nothing.
psql_value(q{
	DROP SCHEMA IF EXISTS evil CASCADE;
	CREATE SCHEMA evil;
	GRANT USAGE ON SCHEMA evil TO PUBLIC;
	CREATE TABLE evil.numbers (x int);
	CREATE TABLE evil.requests (x int);
	CREATE TABLE evil.number_history (x int);
	CREATE TABLE evil.records (x int);
	CREATE TABLE evil.sync_runs (x int);
	CREATE TYPE evil.tfn AS (x int);
	CREATE TYPE evil.number_status AS ENUM ('SPARE');
	CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT '2000-01-01'::timestamptz $$;
	CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE sql AS $$ SELECT 'evil' $$;
	GRANT ALL ON ALL TABLES IN SCHEMA evil TO PUBLIC;
});
my $shadow = "SET search_path = evil, public;\n";
is(psql_value($shadow . "SELECT number FROM toll_free.tf_query('8005560001')", user => 'tf_read'),
	'8005560001', 'tf_query with shadowing objects first on search_path');
is(psql_value($shadow . "SELECT ok FROM toll_free.tf_reserve('8005550604', 'Shadow Test', '7325550100')",
	user => 'tf_oper'), 't', 'tf_reserve with shadowing objects first on search_path');
is(psql_value($shadow . "SELECT count(*) > 0 FROM toll_free.tf_query_records('8005560001')",
	user => 'tf_read'), 't', 'tf_query_records with shadowing objects first on search_path');
is(psql_value($shadow . "SELECT count(*) > 0 FROM toll_free.tf_resporg_check('RUC02', 5000)",
	user => 'tf_read'), 't', 'tf_resporg_check with shadowing objects first on search_path');
is(psql_value($shadow . "SELECT state FROM toll_free.tf_sync('RUC02', wait => true, timeout => '60 s')",
	user => 'tf_adm'), 'done', 'tf_sync with shadowing objects first on search_path');
is(psql_value($shadow . "SELECT count(*) > 0 FROM toll_free.tf_reservations_expiring(400)",
	user => 'tf_read'), 't', 'tf_reservations_expiring with shadowing objects first on search_path');
is(psql_value("SELECT count(*) FROM evil.numbers") + psql_value("SELECT count(*) FROM evil.requests"),
	0, 'nothing was written to the shadowing tables');
is(psql_value("SELECT count(*) FROM toll_free.numbers WHERE number::text = '8005550604'"), 1,
	'the write-through reached toll_free.numbers');
psql_value('DROP SCHEMA evil CASCADE');

# Clean up: the roles own nothing but their grants.
for my $line (@settings)
{
	my ($name) = split /\|/, $line;
	psql("REVOKE SET ON PARAMETER $name FROM tf_oper");
}
for my $role (sort keys %member_of)
{
	psql_value("DROP OWNED BY $role; DROP ROLE $role");
}

done_testing();
