# Request queue across a worker restart: after pg_terminate_backend on the
# worker, or tf_worker_restart(), requests enqueued while it is gone are all
# processed once the postmaster has started it again (after 5 seconds),
# each sent once.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use TollFreeTest;

ensure_extension();
sim_reset();
psql_value(q{ALTER SYSTEM SET toll_free.queue_poll_interval = '1s'});
psql_value('SELECT pg_reload_conf()');

# The postmaster's restart delay for the worker, plus time for its start-up
# and for five requests.
my $restart_s = 5;
my $margin_s = 10;

sub worker_pid
{
	return psql_value(q{SELECT coalesce(string_agg(pid::text, ','), '')
		FROM pg_stat_activity WHERE backend_type = 'toll_free worker'});
}

# reserve_posts($number): the reserve POSTs at the simulator for the number
# that could have acted.  After sim_reset() the session token kept in shared
# memory is stale, so the first request gets 401 and is sent again on a new
# session; 401, 429 and 5xx mean the registry did nothing.
sub reserve_posts
{
	my ($number) = @_;
	return grep { $_->{body} =~ /<num>$number<\/num>/ && $_->{status} !~ /^(?:401|429|5\d\d)$/ }
	  sim_requests(path => '/num/tfn/reserve', method => 'POST');
}

# after_stop($name, $stop_sql, @numbers): stop the worker with $stop_sql,
# enqueue a reserve per number while it is gone, and check that a new worker
# processes them all within the restart delay and a margin.
sub after_stop
{
	my ($name, $stop_sql, @numbers) = @_;

	my $old_pid;
	ok(wait_until(sub { ($old_pid = worker_pid()) =~ /^\d+$/ }, 30), "$name: worker runs");
	is(psql_value($stop_sql), 't', "$name: worker signalled");
	my $stopped_at = time;
	ok(wait_until(sub { worker_pid() ne $old_pid }, 10), "$name: old worker gone");

	my @ids = map {
		psql_value(qq{SELECT toll_free.tf_enqueue('reserve', '$_',
			'{"contact_name": "Restart Test", "contact_phone": "7325551234"}')})
	} @numbers;
	my $id_list = join(',', @ids);
	is(worker_pid(), '', "$name: enqueued while no worker runs");

	my $new_pid;
	ok(wait_until(sub { ($new_pid = worker_pid()) =~ /^\d+$/ }, $restart_s + $margin_s),
		"$name: worker back");
	isnt($new_pid, $old_pid, "$name: a new worker process");

	my $all_done = wait_until(sub {
		psql_value("SELECT count(*) FROM toll_free.requests WHERE id IN ($id_list) AND state = 'done'")
		  == scalar(@ids);
	}, $restart_s + $margin_s);
	ok($all_done, "$name: all " . scalar(@ids) . ' requests done');
	note(sprintf('%s: last request done %.1f s after the worker was stopped', $name, time - $stopped_at));

	for my $number (@numbers)
	{
		is(scalar(reserve_posts($number)), 1, "$name: one reserve for $number");
	}
	return;
}

after_stop('pg_terminate_backend',
	q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'toll_free worker'},
	map { "800555040$_" } 0 .. 4);

after_stop('tf_worker_restart', q{SELECT toll_free.tf_worker_restart()},
	map { "800555041$_" } 0 .. 4);

psql_value(q{ALTER SYSTEM RESET toll_free.queue_poll_interval});
psql_value('SELECT pg_reload_conf()');
done_testing();
