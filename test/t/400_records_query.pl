# Customer records: tf_query_records, tf_retrieve and tf_retrieve_template
# against the simulator over TLS, including paging, the write-through to
# toll_free.records, argument checks that send nothing, registry refusals
# and hostile XML in a retrieve response.
use strict;
use warnings;
use Test::More;
use TollFreeTest;

# The tests compare tfn columns with literals; the tfn operators live in
# schema toll_free.
$ENV{PGOPTIONS} = "-c search_path=public,toll_free";

sim_reset();
ensure_extension();
psql_value('TRUNCATE toll_free.records');

# Fixed numbers of the simulator's seed (test/sim/seed.c): a WORKING number
# of RUC01 with an ACTIVE record, an ASSIGNED one with a PENDING record and
# RESERVED ones without records.
my $working  = '8005560001';
my $assigned = '8005560020';
my $reserved = '8005560010';

# registry_refusal($sql, $code, $name): $sql fails with the registry code
# $code in the error detail and an SQLSTATE of the registry class TF.
sub registry_refusal
{
	my ($sql, $code, $name) = @_;
	my ($rc, $out, $err) = psql("\\set VERBOSITY verbose\n$sql");
	isnt($rc, 0, "$name: fails");
	like($err, qr/\b$code\b/, "$name: registry code $code in the error");
	like($err, qr/ERROR:\s+TF\d{3}:/, "$name: SQLSTATE of the registry class TF");
	return $err;
}

# requests_to($prefix): how many API requests the simulator logged under $prefix.
sub requests_to
{
	my ($prefix) = @_;
	return scalar(sim_requests(path => $prefix));
}

# The simulator's clock, rounded down to a quarter hour, as an SQL literal.
sub sim_quarter
{
	my $clock = admin_get('/clock');
	$clock =~ s/\s+//g;
	return psql_value("SELECT date_bin('15 minutes', '$clock'::timestamptz, "
		  . "'2000-01-01')");
}

# --- tf_query_records: one ACTIVE record ------------------------------------
my $rows = psql_ok(
	"SELECT number, status, parts IS NOT NULL, version IS NOT NULL"
	  . " FROM toll_free.tf_query_records('$working')",
	'query records of a working number');
like($rows, qr/^$working\|ACTIVE\|t\|t$/m, 'the working number has an ACTIVE record');
is(psql_value("SELECT count(*) FROM toll_free.records WHERE number = '$working'"),
	psql_value("SELECT count(*) FROM toll_free.tf_query_records('$working')"),
	'toll_free.records holds every listed version');
is(psql_value("SELECT count(*) FROM toll_free.records"
	  . " WHERE number = '$working' AND seen_at > now() - interval '1 minute'"),
	psql_value("SELECT count(*) FROM toll_free.records WHERE number = '$working'"),
	'seen_at is set on the written rows');


# The call leaves one finished requests row and writes the number's status
# through to toll_free.numbers.
psql_value("DELETE FROM toll_free.requests WHERE numbers = '{$working}';"
	  . " DELETE FROM toll_free.numbers WHERE number = '$working'");
psql_value("SELECT count(*) FROM toll_free.tf_query_records('$working')");
is(psql_value("SELECT state, http_status, result->>'records', result->>'more'"
	  . " FROM toll_free.requests WHERE operation = 'query_records'"
	  . " AND numbers = '{$working}'"),
	'done|200|1|false', 'the record list leaves one done requests row');
is(psql_value("SELECT status, resporg, source FROM toll_free.numbers WHERE number = '$working'"),
	'WORKING|RUC01|call', 'the number is written through to toll_free.numbers');

$rows = psql_value(
	"SELECT status, approval, action FROM toll_free.tf_query_records('$assigned')");
like($rows, qr/^PENDING\|/m, 'the assigned number has a PENDING record');

# --- paging: twelve future versions on a reserved number --------------------
my $base = sim_quarter();
# The first copy makes the number ASSIGNED; later copies take the number
# itself as their source, which the registry allows.
psql_value("SELECT toll_free.tf_copy_record('*RUSALES', '$reserved',"
	  . " target_effective => '$base'::timestamptz + interval '1 day')");
for my $i (2 .. 12)
{
	psql_value("SELECT toll_free.tf_copy_record('$reserved', '$reserved',"
		  . " target_effective => '$base'::timestamptz + interval '1 day' * $i)");
}
my $before = requests_to("/cus/rec/query/$reserved");
is(psql_value("SELECT count(*) FROM toll_free.tf_query_records('$reserved')"),
	12, 'all twelve versions come back across pages');
is(requests_to("/cus/rec/query/$reserved") - $before, 2,
	'two registry requests for two pages');
my @paged = sim_requests(path => "/cus/rec/query/$reserved");
like($paged[-1]{path}, qr/startEffDtTm=\d{4}-\d\d-\d\dT\d\d:\d\d:00Z/,
	'the second page starts after the last version of the first');
is(psql_value("SELECT string_agg(coalesce(arguments->>'start', '-') || ':' || (result->>'records'), ' ' ORDER BY id)"
	  . " FROM (SELECT * FROM toll_free.requests WHERE operation = 'query_records'"
	  . " AND numbers = '{$reserved}' ORDER BY id DESC LIMIT 2) AS last_two")
	  =~ s/\d{4}-\d\d-\d\dT\d\d:\d\d:00Z/T/gr,
	'-:10 T:2', 'one requests row per page, the second with its start time');
is(psql_value("SELECT count(DISTINCT effective) FROM toll_free.tf_query_records('$reserved')"),
	12, 'no version is listed twice');
is(psql_value("SELECT array_agg(effective ORDER BY ord) = array_agg(effective ORDER BY effective)"
	  . " FROM toll_free.tf_query_records('$reserved') WITH ORDINALITY"
	  . " AS q(number, effective, status, parts, approval, action, version, ord)"),
	't', 'versions ascend by effective date/time');

# A number without records: the registry's 505001.  The refused request
# keeps its requests row although the caller's transaction rolls back.
registry_refusal("BEGIN; SELECT * FROM toll_free.tf_query_records('8005560012')",
	'505001', 'query records of a number without records');
ok(wait_until(sub {
			psql_value("SELECT count(*) FROM toll_free.requests"
				  . " WHERE operation = 'query_records' AND numbers = '{8005560012}'") > 0
		}, 20),
	'the refused request has a requests row after the rollback');
is(psql_value("SELECT state, http_status, registry_code, sqlstate FROM toll_free.requests"
	  . " WHERE operation = 'query_records' AND numbers = '{8005560012}'"),
	'failed|404|505001|TF005', 'the row holds the refusal');

# --- tf_retrieve -------------------------------------------------------------
my $xml = psql_ok("SELECT toll_free.tf_retrieve('$working')", 'retrieve the default record');
like($xml, qr/^<custRec>/, 'the result is a custRec document');
is(psql_value("SELECT (xpath('/custRec/num/text()', toll_free.tf_retrieve('$working')))[1]::text"),
	$working, 'xpath finds the number');
is(psql_value("SELECT (xpath('/custRec/custRecStat/text()', toll_free.tf_retrieve('$working')))[1]::text"),
	'ACTIVE', 'the default choice is the ACTIVE record');
is(psql_value("SELECT pg_typeof(toll_free.tf_retrieve('$working'))"),
	'xml', 'the result type is xml');

my $eff = psql_value("SELECT (xpath('/custRec/effDtTm/text()', toll_free.tf_retrieve('$assigned')))[1]::text");
like($eff, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/, 'effDtTm is written in UTC');
is(psql_value("SELECT (xpath('/custRec/effDtTm/text()', toll_free.tf_retrieve('$assigned', '$eff')))[1]::text"),
	$eff, 'retrieve by effective date/time returns that version');
is(psql_value("SELECT status FROM toll_free.records WHERE number = '$assigned' AND effective = '$eff'"),
	'PENDING', 'retrieve writes the version through to toll_free.records');
is(psql_value("SELECT result->>'status', result->>'effective', arguments->>'effective'"
	  . " FROM toll_free.requests WHERE operation = 'retrieve' AND numbers = '{$assigned}'"
	  . " ORDER BY id DESC LIMIT 1"),
	"PENDING|$eff|$eff", 'retrieve leaves a requests row with the version it returned');

registry_refusal("SELECT toll_free.tf_retrieve('8005560012')",
	'505001', 'retrieve a number without records');
registry_refusal("SELECT toll_free.tf_retrieve('$working', '2001-01-01 00:00+00')",
	'50[56]00[12]', 'retrieve a version that does not exist');

# Argument checks: nothing is sent.
$before = requests_to('/cus/rec/tfnum');
psql_fails("SELECT toll_free.tf_retrieve('$working', '2030-01-01 10:07+00')",
	'22023', 'retrieve at a time off the quarter hour');
psql_fails("SELECT toll_free.tf_retrieve('$working', 'infinity')",
	'22023', 'retrieve at infinity');
is(requests_to('/cus/rec/tfnum'), $before, 'rejected arguments sent no request');
is(psql_value("SELECT toll_free.tf_retrieve(NULL) IS NULL"), 't', 'NULL number gives NULL');

# --- tf_retrieve_template ----------------------------------------------------
$xml = psql_ok("SELECT toll_free.tf_retrieve_template('*RUSALES')", 'retrieve a template');
like($xml, qr/<tmplName>\*RUSALES<\/tmplName>/, 'the template record names itself');
like($xml, qr/<cprSect name="MAIN">/, 'the template record carries its CPR');
like($xml, qr/<lbl name="\*EAST"/, 'the template record carries its labels');
my @tpl = sim_requests(path => '/cus/tpl/tmplName/');
# The simulator logs the decoded path, so the %2A on the wire shows as '*'.
like($tpl[-1]{path}, qr{^/cus/tpl/tmplName/\*RUSALES$}, 'the template request names *RUSALES');
is(psql_value("SELECT arguments->>'template', state FROM toll_free.requests"
	  . " WHERE operation = 'retrieve_template' ORDER BY id DESC LIMIT 1"),
	'*RUSALES|done', 'template retrieve leaves a requests row');
is(psql_value("SELECT (xpath('/custRec/tmplName/text()', toll_free.tf_retrieve_template('*rusales')))[1]::text"),
	'*RUSALES', 'template names are upper-cased');
registry_refusal("SELECT toll_free.tf_retrieve_template('*RUNOSUCH')",
	'50[56]001', 'retrieve an unknown template');
psql_fails("SELECT toll_free.tf_retrieve_template('RUSALES')",
	'22023', 'template name without *');
psql_fails("SELECT toll_free.tf_retrieve_template('*RU/../x')",
	'22023', 'template name with a slash');

# --- hostile and broken retrieve responses -----------------------------------
for my $case (
	[ 'dtd',          '2200M' ],
	[ 'xxe_file',     '2200M' ],
	[ 'entity_bomb',  '2200M' ],
	[ 'deep_nesting', '2200M' ],
	[ 'malformed',    '2200M' ],
	[ 'invalid_utf8', '22021' ])
{
	my ($kind, $state) = @$case;
	admin_delete('/faults');
	admin_post("/faults?path=/cus/rec/tfnum&kind=$kind&count=1");
	my $err = psql_fails("SELECT toll_free.tf_retrieve('$working')",
		$state, "retrieve answered with $kind");
	unlike($err, qr/root:|\/bin\/(ba)?sh/, "$kind: no file content in the error");
}
admin_delete('/faults');
like(psql_value("SELECT toll_free.tf_retrieve('$working')"), qr/^<custRec>/,
	'retrieve works again after the faults');

# --- privileges ----------------------------------------------------------------
psql_value("DROP ROLE IF EXISTS rec_reader; CREATE ROLE rec_reader LOGIN IN ROLE toll_free_reader;"
	  . " DROP ROLE IF EXISTS rec_nobody; CREATE ROLE rec_nobody LOGIN");
psql_ok("SELECT count(*) FROM toll_free.tf_query_records('$working')",
	'a reader may query records', user => 'rec_reader');
psql_ok("SELECT toll_free.tf_retrieve('$working')",
	'a reader may retrieve', user => 'rec_reader');
psql_fails("SELECT toll_free.tf_retrieve('$working')",
	'42501', 'a role without toll_free_reader may not retrieve', user => 'rec_nobody');
psql_fails("DELETE FROM toll_free.records",
	'42501', 'a reader may not change toll_free.records', user => 'rec_reader');

done_testing();
