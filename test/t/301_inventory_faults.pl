# Inventory sync with a fault on page 3 of 5: every kind of broken page
# leaves toll_free.numbers as it was and records a failed run with the
# error's SQLSTATE; a pending (202) page is polled, never read as empty.
use strict;
use warnings;
use Test::More;
use TollFreeTest;

$ENV{PGOPTIONS} = '-c search_path=toll_free,public';

ensure_extension();
sim_reset();
psql_value('TRUNCATE toll_free.numbers, toll_free.number_history, toll_free.sync_runs');

# The number of RespOrg check rows RUC01 holds at the simulator.
sub sim_count
{
	my @lines = grep { !/^num,/ } split /\n/, admin_get('/inventory/RUC01');
	return scalar @lines;
}

# A digest of RUC01's rows in toll_free.numbers, to prove they did not change.
sub db_digest
{
	return psql_value(
		"SELECT count(*) || ' ' || md5(string_agg(concat_ws(',', number, status, status_date, reserved_until,
		                                           disconnect_until, last_active, synced_at), ';' ORDER BY number))
		   FROM toll_free.numbers WHERE resporg = 'RUC01'");
}

sub sync_now
{
	my ($page_size) = @_;
	my $row = psql_value(
		"SELECT state, numbers_seen, pages, coalesce(sqlstate, ''), coalesce(error, ''), id
		   FROM toll_free.tf_sync('RUC01', wait => true, timeout => '2 min', page_size => $page_size)");
	my %run;
	@run{qw(state seen pages sqlstate error id)} = split /\|/, $row, 6;
	return \%run;
}

# Five pages: the page size leaves a shorter fifth page.
my $total = sim_count();
my $page_size = int($total / 5) + 20;
cmp_ok($page_size * 4, '<', $total, 'the page size gives five pages');

my $baseline = sync_now($page_size);
my $worker_pid = psql_value("SELECT pid FROM toll_free.worker_status");
is($baseline->{state}, 'done', 'baseline sync is done') or diag($baseline->{error});
is($baseline->{pages}, 5, 'baseline sync read five pages');
is($baseline->{seen}, $total, 'baseline sync saw every number');

# A change that a successful sync would apply.
admin_put('/number/8005550077?status=RESERVED&resporg=RUC01');
my $digest = db_digest();

# Each fault hits page 3: kind, extra parameters, expected SQLSTATE.
#
# libcurl sends a request again, once, when a reused connection turns out
# to be closed before any byte of the answer arrived, and the simulator
# counts that second request as page 4.  So the reset kinds are set up
# differently: a no-op fault takes pages 1 and 2, and the reset then hits
# every later request, the repeated one included.
my @faults = (
	[ 'reset_before', '',            qr/^08/ ],
	[ 'reset_after',  '',            qr/^08/ ],
	[ 'cut_chunked',  '',            qr/^08/ ],
	[ 'truncate',     '&bytes=300',  qr/^08/ ],
	[ 'malformed',    '',            qr/^2200M$/ ],
	[ 'dtd',          '',            qr/^2200M$/ ],
	[ 'xxe_file',     '',            qr/^2200M$/ ],
	[ 'entity_bomb',  '',            qr/^2200M$/ ],
	[ 'deep_nesting', '',            qr/^2200M$/ ],
	[ 'invalid_utf8', '',            qr/^22021$/ ],
	[ 'status',       '&status=503', qr/./ ],
);

for my $fault (@faults)
{
	my ($kind, $params, $sqlstate) = @$fault;

	admin_delete('/faults');
	if ($kind =~ /^reset/)
	{
		admin_post('/faults?path=/num/rck&kind=latency&ms=0&count=2');
		admin_post("/faults?path=/num/rck&kind=$kind");
	}
	else
	{
		admin_post("/faults?path=/num/rck&kind=$kind&page=3&count=1$params");
	}

	my $run = sync_now($page_size);
	is($run->{state}, 'failed', "$kind on page 3: the run failed");
	like($run->{sqlstate}, $sqlstate, "$kind on page 3: SQLSTATE $run->{sqlstate}")
	  or diag($run->{error});
	is($run->{pages}, 2, "$kind on page 3: two pages were complete");
	isnt($run->{error}, '', "$kind on page 3: the error is recorded");
	is(db_digest(), $digest, "$kind on page 3: numbers is unchanged");
	is(psql_value("SELECT count(*) FROM toll_free.number_history WHERE sync_run_id = $run->{id}"),
		0, "$kind on page 3: no history rows");
	is(psql_value("SELECT state FROM toll_free.sync_runs WHERE id = $run->{id}"), 'failed',
		"$kind on page 3: sync_runs records the failure");
}

# A pending answer on page 3 is polled until the page arrives.
admin_delete('/faults');
admin_post('/faults?path=/num/rck&kind=pending&ms=700&page=3&count=1');
my $pending = sync_now($page_size);
is($pending->{state}, 'done', 'pending page 3: the run is done') or diag($pending->{error});
is($pending->{pages}, 5, 'pending page 3: five pages were read');
is($pending->{seen}, $total + 1, 'pending page 3: every number was seen, the new one too');
ok((grep { $_->{path} =~ m{^/sys/req/} } sim_requests()), 'pending page 3: request status was polled');
is(psql_value("SELECT status FROM toll_free.numbers WHERE number = '8005550077'"), 'RESERVED',
	'pending page 3: the change was applied');

# A throttled page (429 with Retry-After) is sent again after the wait.
admin_delete('/faults');
admin_post('/faults?path=/num/rck&kind=throttle&retry_after=1&page=3&count=1');
my $throttled = sync_now($page_size);
is($throttled->{state}, 'done', 'throttled page 3: the run is done') or diag($throttled->{error});
is($throttled->{pages}, 5, 'throttled page 3: five pages were read');
is(scalar(grep { $_->{path} =~ m{^/num/rck/} && $_->{status} == 429 } sim_requests()), 1,
	'throttled page 3: the simulator answered 429 once');

# The worker survived all of it.
is(psql_value("SELECT pid FROM pg_stat_activity WHERE backend_type = 'toll_free worker'"),
	$worker_pid, 'the same worker process ran every sync');

admin_delete('/faults');
sim_reset();
done_testing();
