# Request queue: enqueue checks, delivery after COMMIT only, exactly one
# reserve at the registry, tf_wait, NOTIFY, queue cap, privileges, and the
# handed cases C-58 (rollback, worker down) and C-59 (reset after send,
# answer after the client's timeout).  The simulator's request log judges
# what reached the registry.
use strict;
use warnings;
use Test::More;
use TollFreeTest;

ensure_extension();
sim_reset();

# Quick safety poll so that the tests do not wait 10 s for it.
psql_value(q{ALTER SYSTEM SET toll_free.queue_poll_interval = '1s'});
psql_value('SELECT pg_reload_conf()');

# reserve_posts($number): the reserve POSTs the simulator received for it
# that could have acted: answers 401 (stale token), 429 (throttled) and 5xx
# mean the registry did nothing, and the client may send again after them.
sub reserve_posts
{
	my ($number) = @_;
	return grep { $_->{body} =~ /<num>$number<\/num>/ && $_->{status} !~ /^(?:401|429|5\d\d)$/ }
	  sim_requests(path => '/num/tfn/reserve', method => 'POST');
}

# sim_status($number): status and RespOrg the simulator holds for a number.
sub sim_status
{
	my ($number) = @_;
	my $xml = admin_get("/number/$number");
	my ($status) = $xml =~ /<status>([A-Z]+)<\/status>/;
	my ($resporg) = $xml =~ /<ctrlRespOrgId>([A-Z0-9]+)<\/ctrlRespOrgId>/;
	return ($status // '', $resporg // '');
}

# A table whose trigger queues a reserve for every row inserted.
psql_value(q{
CREATE TABLE wanted (number toll_free.tfn PRIMARY KEY, request_id bigint);
CREATE FUNCTION wanted_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.request_id := toll_free.tf_enqueue('reserve', NEW.number,
		'{"contact_name": "Queue Test", "contact_phone": "7325551234"}');
	RETURN NEW;
END $$;
CREATE TRIGGER wanted_enqueue BEFORE INSERT ON wanted
	FOR EACH ROW EXECUTE FUNCTION wanted_enqueue();
});

# --- argument checks at enqueue time ------------------------------------
psql_fails(q{SELECT toll_free.tf_enqueue('reserv', '8005550100')},
	'22023', 'unknown operation');
psql_fails(q{SELECT toll_free.tf_enqueue('reserve', '8005550100', '{"colour": "red"}')},
	'22023', 'unknown argument');
psql_fails(q{SELECT toll_free.tf_enqueue('reserve', '8005550100', '{"contact_name": "A", "contact_phone": "12"}')},
	'22023', 'bad contact phone');
psql_fails(q{SELECT toll_free.tf_enqueue('reserve', '8005550100', '[]')},
	'22023', 'arguments not an object');
psql_fails(q{SELECT toll_free.tf_enqueue('change_resporg', '8005550100')},
	'22023', 'missing required argument');
psql_fails(q{SELECT toll_free.tf_enqueue('disconnect', '8005550100', '{"effective": "2027-01-01T10:07:00Z"}')},
	'22023', 'effective time off the quarter hour');
psql_fails(q{SELECT toll_free.tf_enqueue('update_record', '8005550100', '{"record": "<custRec><num>8005550101</num></custRec>"}')},
	'22023', 'record for another number');
psql_fails(q{SELECT toll_free.tf_enqueue(NULL, '8005550100')},
	'22004', 'null operation');
is(psql_value(q{SELECT count(*) FROM toll_free.requests WHERE origin = 'queue'}),
	'0', 'rejected enqueues leave no row');

# --- C-58: a rolled-back enqueue sends nothing --------------------------
psql_value(q{BEGIN; INSERT INTO wanted (number) VALUES ('8005550101'); ROLLBACK;});
sleep 3;    # three safety polls
is(scalar(reserve_posts('8005550101')), 0, 'rolled-back enqueue: nothing sent');
is(psql_value(q{SELECT count(*) FROM toll_free.requests WHERE origin = 'queue'}),
	'0', 'rolled-back enqueue: no row');

# --- a committed enqueue reaches the registry exactly once --------------
psql_value(q{INSERT INTO wanted (number) VALUES ('8005550102')});
my $id = psql_value(q{SELECT request_id FROM wanted WHERE number::text = '8005550102'});
like($id, qr/^\d+$/, 'trigger got a request id');
my $row = psql_value(qq{SELECT state, attempts, finished_at IS NOT NULL, result->>'status'
	FROM toll_free.tf_wait($id, '20 s')});
is($row, 'done|1|t|RESERVED', 'committed enqueue: done after one attempt');
is(scalar(reserve_posts('8005550102')), 1, 'committed enqueue: one reserve sent')
  or diag(join("\n", map { "$_->{seq} $_->{time} $_->{status} $_->{path}" } reserve_posts('8005550102')));
is(join(',', sim_status('8005550102')), 'RESERVED,RUC01', 'registry holds the reservation');
sleep 2;
is(scalar(reserve_posts('8005550102')), 1, 'still one reserve after further polls');

# --- a refusal fails alone, with the registry's code --------------------
my $refused = psql_value(q{SELECT toll_free.tf_enqueue('reserve', '8005550102', '{"contact_name": "Queue Test", "contact_phone": "7325551234"}')});
$row = psql_value(qq{SELECT state, registry_code, error IS NOT NULL
	FROM toll_free.tf_wait($refused, '20 s')});
is($row, 'failed|801124|t', 'reserve of a reserved number fails with 801124');

# --- tf_wait ------------------------------------------------------------
psql_fails(q{BEGIN; SELECT toll_free.tf_wait(toll_free.tf_enqueue('reserve', '8005550103', '{"contact_name": "Queue Test", "contact_phone": "7325551234"}'), '1 s');},
	'25001', 'tf_wait on a request of the same transaction');
psql_fails(q{SELECT toll_free.tf_wait(999999999)}, '22023', 'tf_wait on an unknown id');

# NOTIFY on the documented channel when a request finishes.
my ($rc, $out, $err) = psql(q{
LISTEN toll_free_requests;
SELECT toll_free.tf_enqueue('reserve', '8005550104', '{"contact_name": "Queue Test", "contact_phone": "7325551234"}') AS id \gset
SELECT state FROM toll_free.tf_wait(:id, '20 s');
SELECT 'id=' || :id;
});
my ($listened) = $out =~ /id=(\d+)/;
like($out, qr/^done$/m, 'listened request done');
like($out, qr/Asynchronous notification "toll_free_requests" with payload "$listened"/,
	'NOTIFY toll_free_requests with the request id');

# --- queue cap ----------------------------------------------------------
psql_value(q{ALTER SYSTEM SET toll_free.queue_cap = 2});
psql_value('SELECT pg_reload_conf()');
sleep 1;
psql_fails(q{BEGIN;
SELECT toll_free.tf_enqueue('reserve', '8005550105', '{"contact_name": "Queue Test", "contact_phone": "7325551234"}');
SELECT toll_free.tf_enqueue('reserve', '8005550106', '{"contact_name": "Queue Test", "contact_phone": "7325551234"}');
SELECT toll_free.tf_enqueue('reserve', '8005550107', '{"contact_name": "Queue Test", "contact_phone": "7325551234"}');},
	'53400', 'third unfinished request passes toll_free.queue_cap');
psql_value(q{ALTER SYSTEM RESET toll_free.queue_cap});
psql_value('SELECT pg_reload_conf()');

# --- privileges ---------------------------------------------------------
psql_value(q{
DROP ROLE IF EXISTS queue_op; DROP ROLE IF EXISTS queue_nobody;
CREATE ROLE queue_op LOGIN IN ROLE toll_free_operator;
CREATE ROLE queue_nobody LOGIN;});
my $op_id = psql_ok(q{SELECT toll_free.tf_enqueue('reserve', '8005550108', '{"contact_name": "Queue Test", "contact_phone": "7325551234"}')},
	'operator may enqueue', user => 'queue_op');
is(psql_value(qq{SELECT state || '|' || requested_by FROM toll_free.tf_wait($op_id, '20 s')},
		user => 'queue_op'),
	'done|queue_op', 'operator may wait; requested_by is the caller');
psql_fails(q{SELECT toll_free.tf_enqueue('reserve', '8005550109', '{"contact_name": "Queue Test", "contact_phone": "7325551234"}')},
	'42501', 'PUBLIC may not enqueue', user => 'queue_nobody');
psql_fails(qq{SELECT toll_free.tf_wait($op_id)},
	'42501', 'PUBLIC may not wait', user => 'queue_nobody');

# --- C-59 (1): the registry carries out the reserve, then resets --------
admin_post('/faults?path=/num/tfn/reserve&kind=reset_after&count=1');
$id = psql_value(q{SELECT toll_free.tf_enqueue('reserve', '8005550110', '{"contact_name": "Queue Test", "contact_phone": "7325551234"}')});
$row = psql_value(qq{SELECT state, attempts FROM toll_free.tf_wait($id, '30 s')});
is($row, 'done|1', 'reset after send: resolved as done without a resend');
is(scalar(reserve_posts('8005550110')), 1, 'reset after send: one reserve at the registry');
admin_delete('/faults');

# --- C-59 (2): the answer comes after the client's timeout ---------------
psql_value(q{ALTER SYSTEM SET toll_free.timeout = '1s'});
psql_value('SELECT pg_reload_conf()');
sleep 1;
admin_post('/faults?path=/num/tfn/reserve&kind=latency&ms=2500&count=1');
$id = psql_value(q{SELECT toll_free.tf_enqueue('reserve', '8005550111', '{"contact_name": "Queue Test", "contact_phone": "7325551234"}')});
# The simulator drops a request whose client went away before the latency
# ran out, so the worker may send it a second time after two looks found no
# reservation.  The log below is the judge: one reserve carried out.
$row = psql_value(qq{SELECT state FROM toll_free.tf_wait($id, '40 s')});
is($row, 'done', 'late answer: done');
is(scalar(reserve_posts('8005550111')), 1, 'late answer: one reserve at the registry');
admin_delete('/faults');
psql_value(q{ALTER SYSTEM RESET toll_free.timeout});
psql_value('SELECT pg_reload_conf()');

# --- transient registry fault: retried, carried out once -----------------
admin_post('/faults?path=/num/tfn/reserve&kind=status&status=503&count=2');
$id = psql_value(q{SELECT toll_free.tf_enqueue('reserve', '8005550112', '{"contact_name": "Queue Test", "contact_phone": "7325551234"}')});
$row = psql_value(qq{SELECT state, attempts FROM toll_free.tf_wait($id, '30 s')});
is($row, 'done|3', '503 twice: done on the third attempt');
my @posts = grep { $_->{body} =~ /<num>8005550112<\/num>/ }
  sim_requests(path => '/num/tfn/reserve', method => 'POST');
is(scalar(@posts), 3, '503 twice: three reserve requests sent');
is(join(',', map { $_->{status} } @posts), '503,503,200', 'only the last one carried out');
admin_delete('/faults');

# --- C-58: enqueue while the worker is down is durable -------------------
my $server = ($> == 0) ? 'runuser -u postgres -- ' : '';
sub restart_server
{
	system("${server}pg_ctl -D $ENV{PGDATA} -w -m fast restart -l $ENV{TOLL_FREE_SANDBOX_DIR}/postgres.log >/dev/null") == 0
	  or die "pg_ctl restart failed";
	wait_until(sub { (psql('SELECT 1'))[0] == 0 }, 30) or die "server not back";
}
psql_value(q{ALTER SYSTEM SET toll_free.worker = off});
restart_server();
is(psql_value(q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'toll_free worker'}),
	'0', 'worker is off');
psql_value(q{INSERT INTO wanted (number) VALUES ('8005550113'), ('8005550114'), ('8005550115')});
sleep 2;
is(scalar(grep { /8005550113|8005550114|8005550115/ } map { $_->{body} }
		sim_requests(path => '/num/tfn/reserve')),
	0, 'worker down: nothing sent');
is(psql_value(q{SELECT count(*) FROM toll_free.requests r JOIN wanted w ON w.request_id = r.id
	WHERE w.number::text >= '8005550113' AND r.state = 'queued'}), '3', 'worker down: three rows queued');
psql_value(q{ALTER SYSTEM RESET toll_free.worker});
restart_server();
ok(wait_until(sub {
	psql_value(q{SELECT count(*) FROM toll_free.requests r JOIN wanted w ON w.request_id = r.id
		WHERE w.number::text >= '8005550113' AND r.state = 'done'}) eq '3' }, 40),
	'worker back: the three queued requests are done');
for my $n (qw(8005550113 8005550114 8005550115))
{
	is(scalar(reserve_posts($n)), 1, "worker back: one reserve for $n");
}

psql_value(q{ALTER SYSTEM RESET toll_free.queue_poll_interval});
psql_value('SELECT pg_reload_conf()');
done_testing();
