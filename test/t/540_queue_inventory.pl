# Request queue and the inventory: a queued reserve, spare, change of
# RespOrg or disconnect that is done shows in toll_free.numbers and
# number_history (with the request's id) as soon as the request finishes,
# before any sync.  Also when the outcome was first unknown and a query
# of the number resolved it.  A write-through that fails leaves the
# request done and logs a WARNING.
use strict;
use warnings;
use Test::More;
use TollFreeTest;

ensure_extension();
sim_reset();
psql_value(q{ALTER SYSTEM SET toll_free.queue_poll_interval = '1s'});
psql_value('SELECT pg_reload_conf()');

my $contact = q{'{"contact_name": "Inventory Test", "contact_phone": "7325559876"}'};

# run_queued($operation, $number, $arguments): enqueue, wait, return the id.
sub run_queued
{
	my ($operation, $number, $arguments) = @_;
	my $id = psql_value("SELECT toll_free.tf_enqueue('$operation', '$number', $arguments)");
	my $state = psql_value("SELECT state FROM toll_free.tf_wait($id, '30 s')");
	is($state, 'done', "$operation of $number done");
	return $id;
}

# inventory($number): "status|resporg|source" of the numbers row, or ''.
sub inventory
{
	my ($number) = @_;
	return psql_value(qq{SELECT status || '|' || resporg || '|' || source
		FROM toll_free.numbers WHERE number::text = '$number'});
}

# history($number, $id): "old_status>new_status" rows written for request $id.
sub history
{
	my ($number, $id) = @_;
	return psql_value(qq{SELECT string_agg(coalesce(old_status::text, '-') || '>'
			|| coalesce(new_status::text, '-'), ',' ORDER BY h.id)
		FROM toll_free.number_history h
		WHERE number::text = '$number' AND request_id = $id AND source = 'call'});
}

psql_value(q{DELETE FROM toll_free.numbers WHERE number::text IN
	('8005550300', '8005550301', '8005560005', '8005560006')});

# --- reserve: upserted with the request's contact -----------------------
my $id = run_queued('reserve', '8005550300', $contact);
is(inventory('8005550300'), 'RESERVED|RUC01|call', 'reserve: number in the inventory');
is(psql_value(q{SELECT contact_name || '|' || contact_phone || '|' || (reserved_until IS NOT NULL)
	FROM toll_free.numbers WHERE number::text = '8005550300'}),
	'Inventory Test|7325559876|true', 'reserve: contact and reserved-until date stored');
is(history('8005550300', $id), '->RESERVED', 'reserve: history row with the request id');

# --- spare: deleted -----------------------------------------------------
$id = run_queued('spare', '8005550300', q{'{}'});
is(inventory('8005550300'), '', 'spare: number left the inventory');
is(history('8005550300', $id), 'RESERVED>-', 'spare: history row with the request id');

# --- change of RespOrg within the updList: updated ----------------------
$id = run_queued('change_resporg', '8005560005', q{'{"resporg": "RUC02"}'});
is(inventory('8005560005'), 'WORKING|RUC02|call', 'change RespOrg: new RespOrg stored');
is(history('8005560005', $id), '->WORKING', 'change RespOrg: history row with the request id');

# --- disconnect effective NOW: the number's new status ------------------
my $queries_before = scalar(sim_requests(path => '/num/tfn/query/tfn/8005560006'));
$id = run_queued('disconnect', '8005560006', q{'{}'});
is(inventory('8005560006'), 'DISCONNECT|RUC01|call', 'disconnect: status DISCONNECT stored');
is(psql_value(q{SELECT last_active IS NOT NULL AND disconnect_until IS NOT NULL
	FROM toll_free.numbers WHERE number::text = '8005560006'}),
	't', 'disconnect: last-active and disconnect-until dates stored');
is(history('8005560006', $id), '->DISCONNECT', 'disconnect: history row with the request id');
is(scalar(sim_requests(path => '/num/tfn/query/tfn/8005560006')) - $queries_before,
	1, 'disconnect: one query of the number');

# --- reserve whose outcome a query resolved -----------------------------
admin_post('/faults?path=/num/tfn/reserve&kind=reset_after&count=1');
$id = run_queued('reserve', '8005550301', $contact);
is(psql_value("SELECT attempts FROM toll_free.requests WHERE id = $id"), '1',
	'reset after send: not sent again');
is(inventory('8005550301'), 'RESERVED|RUC01|call', 'reset after send: number in the inventory');
is(history('8005550301', $id), '->RESERVED', 'reset after send: history row with the request id');
admin_delete('/faults');

# --- a refused request leaves the inventory alone -----------------------
$id = psql_value("SELECT toll_free.tf_enqueue('reserve', '8005560003', $contact)");
is(psql_value("SELECT state FROM toll_free.tf_wait($id, '30 s')"), 'failed',
	'reserve of a working number fails');
is(inventory('8005560003'), '', 'refused request: nothing written');
is(history('8005560003', $id), '', 'refused request: no history row');

# --- a failed write-through leaves the request done ----------------------
psql_value(q{
CREATE FUNCTION public.reject_numbers_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'numbers write rejected by the test';
END $$;
CREATE TRIGGER reject_numbers_write BEFORE INSERT OR UPDATE OR DELETE ON toll_free.numbers
	FOR EACH ROW EXECUTE FUNCTION public.reject_numbers_write();
});
$id = run_queued('reserve', '8005550302', $contact);
is(inventory('8005550302'), '', 'failed write-through: nothing written');
is(history('8005550302', $id), '', 'failed write-through: no history row');
my $log = do
{
	open my $fh, '<', "$ENV{TOLL_FREE_SANDBOX_DIR}/postgres.log" or die "server log: $!";
	local $/;
	<$fh>;
};
like($log, qr/WARNING:  could not write queued request $id through to toll_free.numbers: numbers write rejected by the test/,
	'failed write-through: WARNING in the server log');
psql_value(q{DROP TRIGGER reject_numbers_write ON toll_free.numbers;
	DROP FUNCTION public.reject_numbers_write()});

# A queued spare of a number that is already SPARE is refused at once, not
# retried as if the registry had failed.
my $spare_id = psql_value(q{SELECT toll_free.tf_enqueue('spare', '8005550310')});
is(psql_value(qq{SELECT state || ' ' || attempts || ' ' || coalesce(sqlstate, '')
	FROM toll_free.tf_wait($spare_id, '20 s')}),
	'failed 1 TF007', 'spare of a spare number: failed at the first attempt with TF007');

psql_value(q{ALTER SYSTEM RESET toll_free.queue_poll_interval});
psql_value('SELECT pg_reload_conf()');
done_testing();
