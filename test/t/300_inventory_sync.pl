# Inventory sync against the simulator: the first sync loads exactly the
# simulator's inventory, and later syncs reproduce gains, spares, moves to
# another RespOrg and status changes, each with a matching history row.
use strict;
use warnings;
use IPC::Run ();
use Test::More;
use TollFreeTest;

# The tfn operators live in schema toll_free, as for any user of the type.
$ENV{PGOPTIONS} = '-c search_path=toll_free,public';

ensure_extension();
sim_reset();
psql_value('TRUNCATE toll_free.numbers, toll_free.number_history, toll_free.sync_runs');

# The simulator's inventory of a RespOrg as "num,status,effDt,resUntilDt,discUntilDt,lastActDt" lines.
sub sim_inventory
{
	my ($resporg) = @_;
	my @lines = split /\n/, admin_get("/inventory/$resporg");
	shift @lines if @lines && $lines[0] =~ /^num,/;
	return \@lines;
}

# The same columns from toll_free.numbers.
sub db_inventory
{
	my ($resporg) = @_;
	my $out = psql_value(
		"SELECT concat_ws(',', number::text, status::text, status_date::text,
		                  coalesce(reserved_until::text, ''), coalesce(disconnect_until::text, ''),
		                  coalesce(last_active::text, ''))
		   FROM toll_free.numbers WHERE resporg = '$resporg' ORDER BY number");
	return [ split /\n/, $out ];
}

# Run a sync through the worker and wait for it; returns the sync_runs row as a hash.
sub sync_now
{
	my ($resporg) = @_;
	my $row = psql_value(
		"SELECT state, numbers_seen, added, changed, removed, pages, id, coalesce(error, '')
		   FROM toll_free.tf_sync('$resporg', wait => true, timeout => '2 min')");
	my %run;
	@run{qw(state seen added changed removed pages id error)} = split /\|/, $row, 8;
	return \%run;
}

# The history rows a run wrote, as "number old_status>new_status old_resporg>new_resporg".
sub history_of
{
	my ($run_id) = @_;
	my $out = psql_value(
		"SELECT number::text || ' ' || coalesce(old_status::text, '-') || '>' || coalesce(new_status::text, '-')
		        || ' ' || coalesce(old_resporg, '-') || '>' || coalesce(new_resporg, '-')
		   FROM toll_free.number_history WHERE sync_run_id = $run_id AND source = 'sync'
		  ORDER BY number");
	return [ split /\n/, $out ];
}

# First syncs: the inventory equals the simulator's, and a first load
# writes no history row per number.
my $first = sync_now('RUC01');
is($first->{state}, 'done', 'first sync of RUC01 is done') or diag($first->{error});
my $sim = sim_inventory('RUC01');
cmp_ok(scalar @$sim, '>', 1000, 'simulator holds a real inventory for RUC01');
is($first->{seen}, scalar @$sim, 'first sync saw every number');
is($first->{added}, scalar @$sim, 'first sync added every number');
is_deeply(db_inventory('RUC01'), $sim, 'numbers equals the simulator inventory of RUC01');
is_deeply(history_of($first->{id}), [], 'first load writes no per-number history');

my $first2 = sync_now('RUC02');
is($first2->{state}, 'done', 'first sync of RUC02 is done');
is_deeply(db_inventory('RUC02'), sim_inventory('RUC02'), 'numbers equals the simulator inventory of RUC02');

is(psql_value("SELECT count(DISTINCT synced_at) FROM toll_free.numbers WHERE resporg = 'RUC01'"),
	1, 'one sync stamped every RUC01 row');
is(psql_value("SELECT count(*) FROM toll_free.numbers WHERE source <> 'sync' OR last_seen IS NULL"),
	0, 'synced rows have source sync and last_seen');

# Changes at the simulator: a status change, a spare, a move and a gain.
my %pick;
for my $line (@$sim)
{
	my ($num, $status) = split /,/, $line;
	$pick{$status} //= [];
	push @{ $pick{$status} }, $num;
}
my $changed = $pick{WORKING}[0];
my $moved = $pick{WORKING}[1];
my $spared = $pick{RESERVED}[0];
my $gained = '8005550042';
ok($changed && $moved && $spared, 'simulator inventory has WORKING and RESERVED numbers');

admin_put("/number/$changed?status=DISCONNECT&resporg=RUC01");
admin_put("/number/$spared?status=SPARE");
admin_put("/number/$moved?status=WORKING&resporg=RUC02");
admin_put("/number/$gained?status=RESERVED&resporg=RUC01");

# RUC02 first: it takes over the moved number from RUC01's row.
my $second2 = sync_now('RUC02');
is($second2->{state}, 'done', 'second sync of RUC02 is done');
is($second2->{added}, 0, 'RUC02 added nothing');
is($second2->{changed}, 1, 'RUC02 changed one row: the number moved in');
is($second2->{removed}, 0, 'RUC02 removed nothing');
is_deeply(history_of($second2->{id}), ["$moved WORKING>WORKING RUC01>RUC02"],
	'history records the move to RUC02');

my $second = sync_now('RUC01');
is($second->{state}, 'done', 'second sync of RUC01 is done');
is($second->{added}, 1, 'RUC01 gained one number');
is($second->{changed}, 1, 'RUC01 changed one number');
is($second->{removed}, 1, 'RUC01 lost one number to spare');
is_deeply(db_inventory('RUC01'), sim_inventory('RUC01'), 'numbers follows the simulator after the changes');
is_deeply(db_inventory('RUC02'), sim_inventory('RUC02'), 'RUC02 follows the simulator after the move');
is_deeply(
	history_of($second->{id}),
	[ sort ("$gained ->RESERVED ->RUC01", "$changed WORKING>DISCONNECT RUC01>RUC01", "$spared RESERVED>- RUC01>-") ],
	'history records the gain, the status change and the spare');
is(psql_value("SELECT resporg FROM toll_free.numbers WHERE number = '$moved'"), 'RUC02',
	'the moved number belongs to RUC02');

# A sync without changes changes nothing but the timestamps.
my $synced_before = psql_value("SELECT max(synced_at) FROM toll_free.numbers WHERE resporg = 'RUC01'");
my $third = sync_now('RUC01');
is($third->{state}, 'done', 'third sync of RUC01 is done');
is("$third->{added}/$third->{changed}/$third->{removed}", '0/0/0', 'unchanged inventory: no added, changed or removed');
is_deeply(history_of($third->{id}), [], 'unchanged inventory: no history');
is(psql_value("SELECT count(*) FROM toll_free.numbers WHERE resporg = 'RUC01' AND synced_at <= '$synced_before'"),
	0, 'every row of RUC01 carries the new sync time');

# The RespOrg check carries no contact fields, so a sync keeps the stored
# ones and does not count them as a change; a number that moves to another
# RespOrg loses them.
my $kept = $pick{WORKING}[3];
my $leaving = $pick{WORKING}[4];
psql_value("UPDATE toll_free.numbers SET contact_name = 'Jane Roe', contact_phone = '7325551234',
             notes = 'order 17' WHERE number IN ('$kept', '$leaving')");
admin_put("/number/$leaving?status=WORKING&resporg=RUC02");
my $contacts_run = sync_now('RUC02');
is($contacts_run->{changed}, 1, 'the number moving to RUC02 is the only change');
$contacts_run = sync_now('RUC01');
is("$contacts_run->{added}/$contacts_run->{changed}/$contacts_run->{removed}", '0/0/0',
	'contact fields the check does not carry are no change');
is(psql_value("SELECT concat_ws('|', contact_name, contact_phone, notes) FROM toll_free.numbers WHERE number = '$kept'"),
	'Jane Roe|7325551234|order 17', 'a sync keeps the stored contact fields');
is(psql_value("SELECT resporg || '|' || concat_ws('|', contact_name, contact_phone, notes) FROM toll_free.numbers
               WHERE number = '$leaving'"),
	'RUC02|', 'a number that moved to another RespOrg loses its contact fields');

# A row a registry call wrote after the download started is left alone.
psql_value("UPDATE toll_free.numbers SET last_seen = now() + interval '1 hour', source = 'call', notes = 'from a call'
             WHERE number = '$changed'");
my $fourth = sync_now('RUC01');
is($fourth->{state}, 'done', 'sync after a call write-through is done');
is(psql_value("SELECT source || ' ' || notes FROM toll_free.numbers WHERE number = '$changed'"),
	'call from a call', 'a row written through by a later call is not overwritten');

# Readers never wait: a transaction holding a read lock does not block a sync.
my ($in, $out, $err) = ('', '', '');
my $reader = IPC::Run::start(
	[ 'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1' ],
	'<', \$in, '>', \$out, '2>', \$err);
$in = "BEGIN ISOLATION LEVEL REPEATABLE READ;\nSELECT count(*) FROM toll_free.numbers WHERE resporg = 'RUC01';\n";
$reader->pump until $out =~ /^\d+$/m;
my ($count_before) = $out =~ /^(\d+)$/m;
admin_put("/number/$pick{WORKING}[2]?status=SPARE");
my $fifth = sync_now('RUC01');
is($fifth->{state}, 'done', 'sync completes while a reader holds its snapshot');
is($fifth->{removed}, 1, 'that sync removed the spared number');
$out = '';
$in .= "SELECT count(*) FROM toll_free.numbers WHERE resporg = 'RUC01';\nCOMMIT;\n";
$reader->finish;
my @counts = $out =~ /^(\d+)$/mg;
is($counts[0], $count_before, 'the reader still sees the old inventory in its snapshot');
is(psql_value("SELECT count(*) FROM toll_free.numbers WHERE resporg = 'RUC01'"), $count_before - 1,
	'a new snapshot sees the new inventory');

# The summary view agrees with the table.
is(psql_value("SELECT numbers FROM toll_free.inventory_summary WHERE resporg = 'RUC01'"),
	psql_value("SELECT count(*) FROM toll_free.numbers WHERE resporg = 'RUC01'"),
	'inventory_summary counts the numbers of RUC01');
is(psql_value("SELECT last_run_state FROM toll_free.inventory_summary WHERE resporg = 'RUC01'"),
	'done', 'inventory_summary shows the last run');

sim_reset();
done_testing();
