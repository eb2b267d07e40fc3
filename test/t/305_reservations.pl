# Reservations: the expiring-reservations view and function, the worker's
# once-a-day warnings, and reservations that ran out at the registry (its
# clock moved 46 days on) leaving the inventory at the next sync.
use strict;
use warnings;
use Test::More;
use TollFreeTest;

$ENV{PGOPTIONS} = '-c search_path=toll_free,public';

ensure_extension();
sim_reset();
psql_value('TRUNCATE toll_free.numbers, toll_free.number_history, toll_free.sync_runs');

sub sim_inventory
{
	return [ grep { !/^num,/ } split /\n/, admin_get('/inventory/RUC01') ];
}

sub sync_now
{
	my $row = psql_value("SELECT state || ' ' || id FROM tf_sync('RUC01', wait => true, timeout => '1 min')");
	my ($state, $id) = split / /, $row;
	is($state, 'done', "sync $id is done");
	return $id;
}

sync_now();
my @reserved = map { (split /,/)[0] } grep { /,RESERVED,/ } @{ sim_inventory() };
cmp_ok(scalar @reserved, '>', 20, 'RUC01 holds reserved numbers');

# The view lists every reservation with its days left; the function filters.
is(psql_value("SELECT count(*) FROM reservations_expiring WHERE resporg = 'RUC01'"), scalar @reserved,
	'reservations_expiring lists every reservation');
is(psql_value("SELECT count(*) FROM reservations_expiring WHERE days_left <> reserved_until - current_date"),
	0, 'days_left counts the days to the last day');
is(psql_value("SELECT count(*) FROM reservations_expiring WHERE days_left > 45"), 0,
	'no reservation lasts more than 45 days');
my $within_7 = psql_value("SELECT count(*) FROM reservations_expiring WHERE days_left <= 7");
is(psql_value('SELECT count(*) FROM tf_reservations_expiring(7)'), $within_7,
	'tf_reservations_expiring(7) returns the reservations within 7 days');
is(psql_value("SELECT bool_and(r.days_left <= 7) FROM tf_reservations_expiring() r"), 't',
	'the function defaults to 7 days');
is(psql_value("SELECT reservations_expiring_7d FROM inventory_summary WHERE resporg = 'RUC01'"), $within_7,
	'inventory_summary counts the same reservations');

# The worker warns about every reservation of a target within the horizon,
# once a day: at most 100 one by one, then a line with the rest.
my $log_start = length server_log();
psql_value("ALTER SYSTEM SET toll_free.sync_targets = 'RUC01';
            ALTER SYSTEM SET toll_free.reservation_warning_days = 45;
            SELECT pg_reload_conf();");
my $expected_lines = @reserved > 100 ? 100 : scalar @reserved;
my $count_warnings = sub {
	my @lines = substr(server_log(), $log_start) =~ /WARNING:  reservation of toll-free number (\d+) by RespOrg RUC01 expires on/g;
	return \@lines;
};
ok(wait_until(sub { @{ $count_warnings->() } >= $expected_lines }, 20), 'the worker warns about reservations');
my $warned = $count_warnings->();
is(scalar @$warned, $expected_lines, "one warning per number, $expected_lines in all");
my %first_warned = map { $_ => 1 } @$warned;
is(scalar keys %first_warned, scalar @$warned, 'no number is warned about twice');
like(substr(server_log(), $log_start), qr/WARNING:  \d+ more reservations of RespOrg RUC01 expire within 45 days/,
	'the rest are counted in one line') if @reserved > 100;

sync_now();
sleep 1;
is(scalar @{ $count_warnings->() }, $expected_lines, 'another sync the same day warns no more');

# A restarted worker knows that today's warnings were given.
my $pid_before = psql_value('SELECT pid FROM toll_free.worker_status');
psql_value('SELECT toll_free.tf_worker_restart()');
ok(wait_until(sub {
	my $pid = psql_value("SELECT coalesce(pid::text, '') FROM toll_free.worker_status");
	return $pid =~ /^\d+$/ && $pid ne $pid_before;
}, 30), 'the worker restarts');
sync_now();
sleep 1;
is(scalar @{ $count_warnings->() }, $expected_lines, 'a restarted worker warns no more the same day');

# At the registry every reservation runs out after 45 days: 46 days later
# the reserved numbers are spare again and leave the inventory.
admin_post('/clock/advance?days=46');
my $expired_run = sync_now();
my $left = psql_value(
	'SELECT count(*) FROM toll_free.numbers WHERE number::text = ANY (string_to_array($$' . join(',', @reserved) . '$$, $$,$$))');
is($left, 0, 'every reservation that ran out left the inventory');
is(psql_value("SELECT count(*) FROM number_history WHERE sync_run_id = $expired_run
                AND old_status = 'RESERVED' AND new_status IS NULL"),
	scalar @reserved, 'a history row records each expiry');
is(psql_value("SELECT count(*) FROM reservations_expiring WHERE resporg = 'RUC01' AND reserved_on < current_date"),
	0, 'no reservation from before the 46 days is listed any more');
is_deeply(
	[ split /\n/, psql_value(
		"SELECT concat_ws(',', number::text, status::text, status_date::text, coalesce(reserved_until::text, ''),
		                  coalesce(disconnect_until::text, ''), coalesce(last_active::text, ''))
		   FROM toll_free.numbers WHERE resporg = 'RUC01' ORDER BY number") ],
	sim_inventory(), 'numbers equals the simulator 46 days on');

psql_value("ALTER SYSTEM RESET toll_free.sync_targets;
            ALTER SYSTEM RESET toll_free.reservation_warning_days;
            SELECT pg_reload_conf();");
sim_reset();
done_testing();
