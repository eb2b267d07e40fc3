# Customer records through a whole life cycle on the simulator's clock:
# reserve a number, copy a template onto it, watch the record go PENDING ->
# SENDING -> ACTIVE and the number go WORKING, add a later record that makes
# the first OLD, then a disconnect record.
#
# A record stays SENDING for the simulator's SCP delay, which is 0 unless
# tfsim runs with --scp-delay.  So this file runs in a sandbox of its own
# whose simulator has an SCP delay of one simulated hour; it starts that
# sandbox itself unless the simulator it runs against already has that delay.
use strict;
use warnings;
use FindBin;

BEGIN
{
	if (($ENV{TOLL_FREE_SIM_OPTIONS} // '') !~ /--scp-delay 3600\b/)
	{
		$ENV{TOLL_FREE_SIM_OPTIONS} =
		  join(' ', grep { $_ ne '' } ($ENV{TOLL_FREE_SIM_OPTIONS} // ''), '--scp-delay 3600');
		$ENV{TOLL_FREE_SIM_NUMBERS} = 2000;
		exec("$FindBin::Bin/../sandbox", '--', $^X, "-I$FindBin::Bin/lib", $0)
		  or die "could not run test/sandbox: $!\n";
	}
}

use Test::More;
use TollFreeTest;

# The tests compare tfn columns with literals; the tfn operators live in
# schema toll_free.
$ENV{PGOPTIONS} = "-c search_path=public,toll_free";

sim_reset();
ensure_extension();

my $number = '8005550950';

sub sim_quarter
{
	my $clock = admin_get('/clock');
	$clock =~ s/\s+//g;
	return psql_value("SELECT date_bin('15 minutes', '$clock'::timestamptz, "
		  . "'2000-01-01')");
}

# statuses(): the number's record statuses in effective order, as "A,B,...".
sub statuses
{
	return psql_value("SELECT string_agg(status::text, ',' ORDER BY effective)"
		  . " FROM toll_free.tf_query_records('$number')");
}

# number_status(): the number's status as the simulator holds it.
sub number_status
{
	my ($status) = admin_get("/number/$number") =~ m{<status>([A-Z]+)</status>};
	return $status // '';
}

# registry_refusal($sql, $code, $name): $sql fails with the registry code
# $code in the error and an SQLSTATE of the registry class TF.
sub registry_refusal
{
	my ($sql, $code, $name) = @_;
	my ($rc, $out, $err) = psql("\\set VERBOSITY verbose\n$sql");
	isnt($rc, 0, "$name: fails");
	like($err, qr/\b$code\b/, "$name: registry code $code in the error");
	like($err, qr/ERROR:\s+TF\d{3}:/, "$name: SQLSTATE of the registry class TF");
	return $err;
}

# advance($minutes): move the simulator's clock forward.
sub advance
{
	my ($minutes) = @_;
	admin_post("/clock/advance?minutes=$minutes");
	return;
}

# default_status(): the status of the record tf_retrieve picks by default.
sub default_status
{
	return psql_value("SELECT (xpath('/custRec/custRecStat/text()',"
		  . " toll_free.tf_retrieve('$number')))[1]::text");
}

like($ENV{TOLL_FREE_SIM_OPTIONS}, qr/--scp-delay 3600/, 'the simulator has an SCP delay');

# Reserve through the admin API, so this test depends only on the records functions.
admin_put("/number/$number?status=RESERVED&resporg=RUC01");
is(number_status(), 'RESERVED', 'the number is reserved');

# --- first record: PENDING -> SENDING -> ACTIVE ---------------------------------
my $t1 = psql_value("SELECT '" . sim_quarter() . "'::timestamptz + interval '1 hour'");
my $row = psql_ok("SELECT status FROM toll_free.tf_copy_record('*RUSALES', '$number',"
	  . " target_effective => '$t1')",
	'copy a template to the reserved number');
is($row, 'PENDING', 'the first record is PENDING');
is(statuses(), 'PENDING', 'the record list shows one PENDING record');
is(number_status(), 'ASSIGNED', 'the first record makes the number ASSIGNED');

# The clock is at most 15 minutes past the quarter hour that $t1 counts from,
# so 61 minutes reach $t1 and stay within the hour of SCP delay.
advance(61);
is(statuses(), 'SENDING', 'at its effective time the record becomes SENDING');
is(default_status(), 'SENDING', 'the default retrieve picks the SENDING record');
is(number_status(), 'ASSIGNED', 'the number stays ASSIGNED while SENDING');
registry_refusal("SELECT toll_free.tf_copy_record('*RUSALES', '$number',"
	  . " target_effective => '" . sim_quarter() . "'::timestamptz + interval '2 hours')",
	'506016', 'copy onto a number whose record is SENDING');

advance(60);
is(statuses(), 'ACTIVE', 'after the SCP delay the record becomes ACTIVE');
is(number_status(), 'WORKING', 'the number becomes WORKING');
is(psql_value("SELECT status FROM toll_free.records WHERE number = '$number'"),
	'ACTIVE', 'toll_free.records follows');
is(psql_value("SELECT status FROM toll_free.numbers WHERE number = '$number'"),
	'WORKING', 'toll_free.numbers follows the record list');

# --- a later record replaces the first ---------------------------------------------
my $t2 = psql_value("SELECT '" . sim_quarter() . "'::timestamptz + interval '30 minutes'");
$row = psql_ok("SELECT status FROM toll_free.tf_copy_record('$number', '$number',"
	  . " target_effective => '$t2', parts => 'CAD, CPR')",
	'copy the number onto itself at a later time');
is($row, 'PENDING', 'the second record is PENDING');
is(statuses(), 'ACTIVE,PENDING', 'ACTIVE and PENDING side by side');
is(psql_value("SELECT parts FROM toll_free.records WHERE number = '$number'"
	  . " AND effective = '$t2'"), 'CAD, CPR', 'the second record holds the copied parts');

advance(31);
is(statuses(), 'ACTIVE,SENDING', 'the later record is SENDING, the first still ACTIVE');
advance(60);
is(statuses(), 'OLD,ACTIVE', 'the later record makes the first OLD');
is(psql_value("SELECT (xpath('/custRec/custRecStat/text()', toll_free.tf_retrieve('$number', '$t1')))[1]::text"),
	'OLD', 'the first record can still be retrieved, as OLD');
is(psql_value("SELECT (xpath('/custRec/effDtTm/text()', toll_free.tf_retrieve('$number')))[1]::text"),
	psql_value("SELECT to_char('$t2'::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"),
	'the default retrieve picks the ACTIVE record');

# The simulator's clock is now hours ahead of this server's.  A target time
# that passes the local checks lies in the registry's past, and the
# registry's own refusal comes back.
my $local_next = psql_value("SELECT date_bin('15 minutes', now(), '2000-01-01') + interval '30 minutes'");
registry_refusal("SELECT toll_free.tf_copy_record('$number', '$number',"
	  . " target_effective => '$local_next')",
	'506007', 'copy to a time in the registry\'s past');

# --- a disconnect record through the registry's disconnect call ---------------------
my $t3 = psql_value("SELECT '" . sim_quarter() . "'::timestamptz + interval '15 minutes'");
my $eint = psql_value("SELECT ('$t3'::timestamptz AT TIME ZONE 'UTC')::date + 30");
psql_ok("SELECT toll_free.tf_disconnect('$number', '$t3', '$eint')",
	'disconnect the number at a later time');
is(statuses(), 'OLD,ACTIVE,PENDING', 'the disconnect record is PENDING');
advance(16);
is(statuses(), 'OLD,ACTIVE,SENDING', 'the disconnect record is SENDING');
advance(60);
is(statuses(), 'OLD,OLD,DISCONNECT', 'the disconnect record takes effect');
is(number_status(), 'DISCONNECT', 'the number is DISCONNECT');
is(psql_value("SELECT status FROM toll_free.numbers WHERE number = '$number'"),
	'DISCONNECT', 'toll_free.numbers shows the disconnect');

# --- every registry request left its row ------------------------------------------
is(psql_value("SELECT count(*) FROM toll_free.requests WHERE operation = 'copy_record'"
	  . " AND numbers = '{$number}' AND state = 'done'"),
	2, 'both copies are recorded as done');
is(psql_value("SELECT count(*) FROM toll_free.requests WHERE operation = 'query_records'"
	  . " AND numbers = '{$number}' AND state = 'done' AND http_status = 200"),
	psql_value("SELECT count(*) FROM toll_free.requests WHERE operation = 'query_records'"
		  . " AND numbers = '{$number}'"),
	'every record list request is recorded as done');
cmp_ok(psql_value("SELECT count(*) FROM toll_free.requests WHERE operation = 'query_records'"
		  . " AND numbers = '{$number}'"),
	'>=', 9, 'each record list is recorded');

done_testing();
