# Customer records: tf_copy_record and tf_update_record against the
# simulator over TLS: normal paths, the registry's refusals with their codes,
# effective date/time checks that send nothing, the retrieve/update round
# trip and privileges.
use strict;
use warnings;
use Test::More;
use TollFreeTest;

# The tests compare tfn columns with literals; the tfn operators live in
# schema toll_free.
$ENV{PGOPTIONS} = "-c search_path=public,toll_free";

sim_reset();
ensure_extension();

my $working  = '8005560001';    # WORKING, RUC01, one ACTIVE record
my $assigned = '8005560020';    # ASSIGNED, RUC01, one PENDING record
my $target   = '8005560014';    # RESERVED, RUC01, no records
my $target2  = '8005560015';    # RESERVED, RUC01, no records
my $spare    = '8005550900';    # SPARE

sub registry_refusal
{
	my ($sql, $code, $name) = @_;
	my ($rc, $out, $err) = psql("\\set VERBOSITY verbose\n$sql");
	isnt($rc, 0, "$name: fails");
	like($err, qr/\b$code\b/, "$name: registry code $code in the error");
	like($err, qr/ERROR:\s+TF\d{3}:/, "$name: SQLSTATE of the registry class TF");
	return $err;
}

sub requests_to { return scalar(sim_requests(path => $_[0])); }

sub sim_quarter
{
	my $clock = admin_get('/clock');
	$clock =~ s/\s+//g;
	return psql_value("SELECT date_bin('15 minutes', '$clock'::timestamptz, "
		  . "'2000-01-01')");
}

my $base = sim_quarter();

# --- copy: normal paths ------------------------------------------------------
my $row = psql_ok(
	"SELECT number, status, version IS NOT NULL FROM toll_free.tf_copy_record("
	  . "'*RUSALES', '$target', target_effective => '$base'::timestamptz + interval '2 hours')",
	'copy a template to a reserved number');
is($row, "$target|PENDING|t", 'the copy is a PENDING version');
my @copies = sim_requests(path => '/cus/rec/copy');
like($copies[-1]{body}, qr{<srcTmplName>\*RUSALES</srcTmplName>}, 'the source is sent as a template');
like($copies[-1]{body}, qr{<custRecCompPart>CAD, LAD, CPR</custRecCompPart>}, 'all parts by default');
like($copies[-1]{body}, qr{<pointer>N</pointer>}, 'no pointer by default');
is(psql_value("SELECT status FROM toll_free.records WHERE number = '$target'"),
	'PENDING', 'the copy is written through to toll_free.records');
is(psql_value("SELECT state, http_status, arguments->>'source', arguments->>'parts',"
	  . " arguments->>'pointer', result->>'status', result->>'version' IS NOT NULL"
	  . " FROM toll_free.requests WHERE operation = 'copy_record' AND numbers = '{$target}'"),
	'done|200|*RUSALES|CAD, LAD, CPR|false|PENDING|t',
	'the copy leaves a done requests row with its arguments and result');

$row = psql_ok(
	"SELECT status FROM toll_free.tf_copy_record('800-556-0001', '$target2',"
	  . " target_effective => '$base'::timestamptz + interval '3 hours', parts => 'cpr,cad')",
	'copy from a number written with dashes');
is($row, 'PENDING', 'copy from a number gives a PENDING version');
@copies = sim_requests(path => '/cus/rec/copy');
like($copies[-1]{body}, qr{<srcNum>$working</srcNum>}, 'the source number is normalized');
like($copies[-1]{body}, qr{<custRecCompPart>CAD, CPR</custRecCompPart>}, 'parts are put in the registry order');
like($copies[-1]{body}, qr{<tgtEffDtTm>\d{4}-\d\d-\d\dT\d\d:\d\d:00Z</tgtEffDtTm>}, 'the target time is sent in UTC');

# --- copy: the registry's refusals ------------------------------------------
registry_refusal("SELECT toll_free.tf_copy_record('*RUNOSUCH', '$target')",
	'506001', 'copy from an unknown template');
# The refused copy's row survives the rollback of the failed statement.
ok(wait_until(sub {
			psql_value("SELECT count(*) FROM toll_free.requests WHERE operation = 'copy_record'"
				  . " AND arguments->>'source' = '*RUNOSUCH'") > 0
		}, 20),
	'the refused copy has a requests row');
is(psql_value("SELECT state, http_status, registry_code, sqlstate FROM toll_free.requests"
	  . " WHERE operation = 'copy_record' AND arguments->>'source' = '*RUNOSUCH'"),
	'failed|404|506001|TF005', 'the row holds the refusal');
registry_refusal("SELECT toll_free.tf_copy_record('*RUSALES', '$spare')",
	'506002', 'copy to a number that is not reserved');
registry_refusal("SELECT toll_free.tf_copy_record('*RUSALES', '$target2',"
	  . " target_effective => '$base'::timestamptz + interval '5 hours', pointer => true)",
	'7763', 'copy CPR and LAD into a pointer record');

# --- copy: argument checks send nothing --------------------------------------
my $before = requests_to('/cus/rec/copy');
psql_fails("SELECT toll_free.tf_copy_record('*RUSALES', '$target',"
	  . " target_effective => '$base'::timestamptz + interval '2 hours 7 minutes')",
	'22023', 'target time off the quarter hour');
psql_fails("SELECT toll_free.tf_copy_record('*RUSALES', '$target',"
	  . " target_effective => date_bin('15 minutes', now(), '2000-01-01') - interval '1 hour')",
	'22023', 'target time in the past');
psql_fails("SELECT toll_free.tf_copy_record('*RUSALES', '$target',"
	  . " target_effective => date_bin('15 minutes', now(), '2000-01-01') + interval '7 months')",
	'22023', 'target time more than six months ahead');
psql_fails("SELECT toll_free.tf_copy_record('*RUSALES', '$target', parts => 'CAD, XYZ')",
	'22023', 'unknown record part');
psql_fails("SELECT toll_free.tf_copy_record('*RUSALES', '$target', parts => 'CAD, CAD')",
	'22023', 'record part given twice');
psql_fails("SELECT toll_free.tf_copy_record('*X', '$target')",
	'22023', 'template name too short');
psql_fails("SELECT toll_free.tf_copy_record('not a number', '$target')",
	'22P02', 'source that is neither number nor template');
psql_fails("SELECT toll_free.tf_copy_record(NULL, '$target')",
	'22004', 'NULL source');
is(requests_to('/cus/rec/copy'), $before, 'rejected arguments sent no request');

# --- update: round trip ------------------------------------------------------
my $doc = psql_value("SELECT toll_free.tf_retrieve('$assigned')");
like($doc, qr{<custRecStat>PENDING</custRecStat>}, 'retrieve the PENDING record');
my $old_version = psql_value("SELECT (xpath('/custRec/recVersionId/text()', '$doc'::xml))[1]::text");
$row = psql_ok("SELECT status, version FROM toll_free.tf_update_record('$assigned', \$doc\$$doc\$doc\$)",
	'the retrieved record goes back unchanged');
my ($status, $new_version) = split /\|/, $row;
is($status, 'PENDING', 'the updated version is PENDING');
isnt($new_version, $old_version, 'the update gives a new recVersionId');
my @updates = grep { $_->{path} =~ m{/cus/rec$} } sim_requests(path => '/cus/rec');
is($updates[-1]{method}, 'PUT', 'a document with recVersionId is sent as PUT');
like($updates[-1]{body}, qr{<custRec cmd="U">}, 'submit sends cmd U');
is(psql_value("SELECT state, arguments->>'method', arguments->>'submit', result->>'version'"
	  . " FROM toll_free.requests WHERE operation = 'update_record' AND numbers = '{$assigned}'"
	  . " ORDER BY id DESC LIMIT 1"),
	"done|PUT|true|$new_version", 'the update leaves a done requests row');

registry_refusal("SELECT toll_free.tf_update_record('$assigned', \$doc\$$doc\$doc\$)",
	'099003', 'update with a stale recVersionId');

# Save without submitting.
$doc = psql_value("SELECT toll_free.tf_retrieve('$assigned')");
$row = psql_ok("SELECT status FROM toll_free.tf_update_record('$assigned', \$doc\$$doc\$doc\$, submit => false)",
	'save a record without submitting it');
is($row, 'SAVED', 'submit => false saves the record');
@updates = grep { $_->{path} =~ m{/cus/rec$} } sim_requests(path => '/cus/rec');
like($updates[-1]{body}, qr{<custRec cmd="S">}, 'save sends cmd S');

# An ACTIVE record cannot be changed.
$doc = psql_value("SELECT toll_free.tf_retrieve('$working')");
psql_fails("SELECT toll_free.tf_update_record('$working', \$doc\$$doc\$doc\$)",
	'22023', 'an ACTIVE record in the past is rejected before sending');

# A new first record on a reserved number (POST, no recVersionId).
# record_at($hours): a new CAD-only record document for $target2, effective
# $hours after $base (no recVersionId, so it is created with POST).
sub record_at
{
	my ($hours) = @_;
	my $eff = psql_value("SELECT to_char(('$base'::timestamptz + interval '$hours hours')"
		  . " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
	return "<custRec><num>$target2</num><effDtTm>$eff</effDtTm>"
	  . "<custRecCompPart>CAD</custRecCompPart><svcOrderNum>S1234567A</svcOrderNum>"
	  . "<hldIndFlag>N</hldIndFlag><interLATACarrier><cic>0288</cic></interLATACarrier>"
	  . "<aos><aosNet>US</aosNet></aos><destNums><destNum><num>7325550000</num>"
	  . "<numTermLine>10</numTermLine></destNum></destNums></custRec>";
}

$row = psql_ok("SELECT status, effective = '$base'::timestamptz + interval '4 hours'"
	  . " FROM toll_free.tf_update_record('$target2', '" . record_at(4) . "')",
	'create a new record from a document');
is($row, 'PENDING|t', 'the new record is PENDING at the given time');
@updates = grep { $_->{path} =~ m{/cus/rec$} } sim_requests(path => '/cus/rec');
is($updates[-1]{method}, 'POST', 'a document without recVersionId is sent as POST');
registry_refusal("SELECT toll_free.tf_update_record('$target2', '" . record_at(3) . "')",
	'502002', 'create a record where one exists at that time');

# --- update: document checks send nothing -------------------------------------
$before = requests_to('/cus/rec');
psql_fails("SELECT toll_free.tf_update_record('$target2', '<custRec><num>8005550001</num><effDtTm>NOW</effDtTm></custRec>')",
	'22023', 'document for another number');
psql_fails("SELECT toll_free.tf_update_record('$target2', '<custRec><num>$target2</num></custRec>')",
	'22023', 'document without effDtTm');
psql_fails("SELECT toll_free.tf_update_record('$target2', '<custRec><tmplName>*RUSALES</tmplName><effDtTm>NOW</effDtTm></custRec>')",
	'22023', 'template document');
psql_fails("SELECT toll_free.tf_update_record('$target2', '<recCopy/>')",
	'2200N', 'document with the wrong root element');
psql_fails("SELECT toll_free.tf_update_record('$target2', '<custRec><num>$target2</num><effDtTm>2030-01-01T10:07:00Z</effDtTm></custRec>')",
	'22023', 'effDtTm off the quarter hour');
psql_fails("SELECT toll_free.tf_update_record('$target2', '<custRec><num>$target2</num><effDtTm>tomorrow</effDtTm></custRec>')",
	'2200N', 'effDtTm that is no timestamp');
is(requests_to('/cus/rec'), $before, 'rejected documents sent no request');

# --- privileges ----------------------------------------------------------------
psql_value("DROP ROLE IF EXISTS rec_reader2; CREATE ROLE rec_reader2 LOGIN IN ROLE toll_free_reader;"
	  . " DROP ROLE IF EXISTS rec_operator; CREATE ROLE rec_operator LOGIN IN ROLE toll_free_operator");
psql_fails("SELECT toll_free.tf_copy_record('*RUSALES', '$target')",
	'42501', 'a reader may not copy', user => 'rec_reader2');
psql_fails("SELECT toll_free.tf_update_record('$assigned', '<custRec/>')",
	'42501', 'a reader may not update', user => 'rec_reader2');
psql_ok("SELECT toll_free.tf_copy_record('$target', '$target',"
	  . " target_effective => '$base'::timestamptz + interval '6 hours')",
	'an operator may copy', user => 'rec_operator');

done_testing();
