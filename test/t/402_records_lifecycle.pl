# Customer records through a whole life cycle on the simulator's clock:
# reserve a number, copy a template onto it, watch the record go PENDING ->
# ACTIVE and the number go WORKING, add a later record that makes the first
# OLD, then a disconnect record.
use strict;
use warnings;
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

sub number_status
{
	my $state = admin_get("/number/$number");
	my ($xml, $plain) = $state =~ m{<status>([A-Z]+)</status>|\bstatus\W+([A-Z]+)};
	return $xml // $plain // '';
}

# Reserve through the admin API, so this test depends only on the records functions.
admin_put("/number/$number?status=RESERVED&resporg=RUC01");
is(number_status(), 'RESERVED', 'the number is reserved');

my $t1 = psql_value("SELECT '" . sim_quarter() . "'::timestamptz + interval '1 hour'");
my $row = psql_ok("SELECT status FROM toll_free.tf_copy_record('*RUSALES', '$number',"
	  . " target_effective => '$t1')",
	'copy a template to the reserved number');
is($row, 'PENDING', 'the first record is PENDING');
is(statuses(), 'PENDING', 'the record list shows one PENDING record');

admin_post('/clock/advance?minutes=61');
is(statuses(), 'ACTIVE', 'at its effective time the record becomes ACTIVE');
is(number_status(), 'WORKING', 'the number becomes WORKING');
is(psql_value("SELECT status FROM toll_free.records WHERE number = '$number'"),
	'ACTIVE', 'toll_free.records follows');

# A later record copied from the number itself replaces the first.
my $t2 = psql_value("SELECT '" . sim_quarter() . "'::timestamptz + interval '30 minutes'");
$row = psql_ok("SELECT status FROM toll_free.tf_copy_record('$number', '$number',"
	  . " target_effective => '$t2', parts => 'CAD, CPR')",
	'copy the number onto itself at a later time');
is($row, 'PENDING', 'the second record is PENDING');
is(statuses(), 'ACTIVE,PENDING', 'ACTIVE and PENDING side by side');

admin_post('/clock/advance?minutes=31');
is(statuses(), 'OLD,ACTIVE', 'the later record makes the first OLD');
is(psql_value("SELECT (xpath('/custRec/custRecStat/text()', toll_free.tf_retrieve('$number', '$t1')))[1]::text"),
	'OLD', 'the first record can still be retrieved, as OLD');
is(psql_value("SELECT (xpath('/custRec/effDtTm/text()', toll_free.tf_retrieve('$number')))[1]::text"),
	psql_value("SELECT to_char('$t2'::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"),
	'the default retrieve picks the ACTIVE record');

# A disconnect record through the registry's disconnect call, then its time.
my $t3 = psql_value("SELECT '" . sim_quarter() . "'::timestamptz + interval '15 minutes'");
my $eint = psql_value("SELECT ('$t3'::timestamptz AT TIME ZONE 'UTC')::date + 30");
psql_ok("SELECT toll_free.tf_disconnect('$number', '$t3', '$eint')",
	'disconnect the number at a later time');
is(statuses(), 'OLD,ACTIVE,PENDING', 'the disconnect record is PENDING');
admin_post('/clock/advance?minutes=16');
is(statuses(), 'OLD,OLD,DISCONNECT', 'the disconnect record takes effect');
is(number_status(), 'DISCONNECT', 'the number is DISCONNECT');

done_testing();
