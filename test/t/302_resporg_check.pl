# tf_resporg_check(): the rows equal the simulator's inventory, paging and
# pending pages work, and a caller that stops early (LIMIT, a closed
# cursor) leaves no open file, connection or leak warning behind; 200,000
# rows stream through a backend whose memory stays bounded.
use strict;
use warnings;
use IPC::Run ();
use Test::More;
use Time::HiRes qw(usleep);
use TollFreeTest;

$ENV{PGOPTIONS} = '-c search_path=toll_free,public';

ensure_extension();
sim_reset();

sub sim_inventory
{
	my ($resporg) = @_;
	return [ grep { !/^num,/ } split /\n/, admin_get("/inventory/$resporg") ];
}

sub sim_stat
{
	my ($key) = @_;
	my ($value) = admin_get('/stats') =~ /^\Q$key\E (\d+)$/m;
	return $value;
}

sub rck_requests
{
	return scalar grep { $_->{path} =~ m{^/num/rck/} } sim_requests();
}

my $check_columns =
  "concat_ws(',', number::text, status::text, status_date::text, coalesce(reserved_until::text, ''),
             coalesce(disconnect_until::text, ''), coalesce(last_active::text, ''))";

# In FROM and in the select list, the rows are the simulator's inventory.
my $sim = sim_inventory('RUC01');
is_deeply(
	[ split /\n/, psql_value("SELECT $check_columns FROM tf_resporg_check('RUC01')") ],
	$sim, 'tf_resporg_check in FROM returns the simulator inventory');
is_deeply(
	[ split /\n/, psql_value("SELECT $check_columns FROM (SELECT (r).* FROM (SELECT tf_resporg_check('RUC01') r) s) t") ],
	$sim, 'tf_resporg_check in the select list returns the same rows');
is(psql_value("SELECT count(*) FROM tf_resporg_check()"), scalar @$sim,
	'without an argument it checks toll_free.resporg');
is(psql_value("SELECT count(*) FROM tf_resporg_check('ruc01')"), scalar @$sim,
	'the RespOrg ID is folded to upper case');
is(psql_value("SELECT count(DISTINCT resporg) || ' ' || min(resporg) FROM tf_resporg_check('RUC01')"),
	'1 RUC01', 'every row carries the RespOrg');

# Paging: small pages give many requests and the same rows.
my $before = rck_requests();
is(psql_value("SELECT count(*) FROM tf_resporg_check('RUC01', page_size => 1000)"), scalar @$sim,
	'page size 1000 returns every row');
is(rck_requests() - $before, int((@$sim + 999) / 1000), 'page size 1000 sends one request per page');

# A pending first page is polled, never taken for an empty inventory.
admin_post('/faults?path=/num/rck&kind=pending&ms=800&count=1');
is(psql_value("SELECT count(*) FROM tf_resporg_check('RUC01')"), scalar @$sim,
	'a pending page is polled until the rows arrive');
admin_delete('/faults');

# A stream cut on page 2 raises a connection error, not a short result.
admin_post('/faults?path=/num/rck&kind=cut_chunked&page=2&count=1');
psql_fails("SELECT count(*) FROM tf_resporg_check('RUC01', page_size => 3000)",
	'08006', 'cut stream on page 2');
admin_delete('/faults');

# Argument checks.
psql_fails("SELECT * FROM tf_resporg_check('RUC1')", '22023', 'RespOrg ID of four characters');
psql_fails("SELECT * FROM tf_resporg_check('RUC01', page_size => 0)", '22023', 'page size 0');
psql_fails("SELECT * FROM tf_resporg_check('RUC01', page_size => 100001)", '22023', 'page size 100001');
my $err = psql_fails("SET toll_free.resporg = ''; SELECT * FROM tf_resporg_check()", '22023',
	'no RespOrg and no default');
like($err, qr/no RespOrg given/, 'the error says no RespOrg was given');
my ($rc, undef, $forbidden) = psql("\\set VERBOSITY verbose\nSELECT * FROM tf_resporg_check('ABC01')");
isnt($rc, 0, 'a RespOrg outside the session is refused');
like($forbidden, qr/099038/, 'the refusal carries registry code 099038');

# Early stops: 500 times LIMIT 1 in the select list (streaming), then
# cursors closed after one row, in one session.
# The first calls open what stays open for the session (the registry
# session, curl's connection cache, the wait event set, cached relation
# files), so counting starts after one round of each kind of early stop.
my $limit_one = "SELECT (r).number FROM (SELECT tf_resporg_check('RUC01') r LIMIT 1) s;\n";
my $cursors =
    "BEGIN;\nDECLARE c CURSOR FOR SELECT tf_resporg_check('RUC01');\nFETCH 1 FROM c;\nCLOSE c;\nCOMMIT;\n"
  . "BEGIN;\nDECLARE f CURSOR FOR SELECT * FROM tf_resporg_check('RUC01');\nFETCH 1 FROM f;\nCLOSE f;\nCOMMIT;\n";
my $count_fds = "SELECT 'fds ' || count(*) FROM pg_ls_dir('/proc/self/fd');\n";
my $script = $limit_one . $cursors . $count_fds;
$script .= $limit_one for 1 .. 500;
$script .= $count_fds;
$script .= $cursors for 1 .. 20;
$script .= $count_fds;
my $connections_before = sim_stat('open_connections');
my ($limit_rc, $limit_out, $limit_err) = psql($script);
is($limit_rc, 0, 'early stops run without error') or diag($limit_err);
my @fds = $limit_out =~ /^fds (\d+)$/mg;
is(scalar(() = $limit_out =~ /^\d{10}$/mg), 501, 'each LIMIT 1 returned a number');

# One file more or less is curl's cached connection to the registry.
cmp_ok($fds[1], '<=', $fds[0] + 1, "open files stable over 500 LIMIT 1 ($fds[0] -> $fds[1])");
cmp_ok($fds[2], '<=', $fds[0] + 1, "open files stable over 40 closed cursors ($fds[0] -> $fds[2])");
unlike($limit_err, qr/WARNING/, 'no warnings (leaks or otherwise)');
my $connections_after = sim_stat('open_connections');
cmp_ok($connections_after, '<=', $connections_before + 1,
	"simulator connections stable ($connections_before -> $connections_after)");
cmp_ok(rck_requests(), '>=', 500, 'every early stop sent its request');

# 200,000 rows, tens of megabytes of XML: the backend's private memory stays
# bounded while they stream through the select list and through FROM (a
# tuplestore that spills to disk beyond work_mem).  What remains is bounded
# by what the socket delivers in one burst, not by the number of rows.
admin_post('/seed?numbers=500000&seed=7');
my $big = scalar @{ sim_inventory('RUC01') };
cmp_ok($big, '>=', 190000, "RUC01 holds $big numbers after reseeding");

for my $form ("SELECT count(*) FROM (SELECT tf_resporg_check('RUC01')) s",
	"SELECT count(*) FROM tf_resporg_check('RUC01')")
{
	# A first call pays the session's one-time costs (TLS library, registry
	# session, caches) before the measurement starts.
	my ($in, $out, $stderr) = (
		"SELECT (r).number FROM (SELECT tf_resporg_check('RUC01') r LIMIT 1) s;\n"
		  . "SELECT 'pid ' || pg_backend_pid();\n", '', '');
	my $h = IPC::Run::start([ 'psql', '-X', '-q', '-A', '-t' ], '<', \$in, '>', \$out, '2>', \$stderr);
	$h->pump until $out =~ /^pid (\d+)$/m;
	my ($pid) = $out =~ /^pid (\d+)$/m;
	my $rss = sub {
		open my $fh, '<', "/proc/$pid/status" or return undef;
		my ($kb) = join('', <$fh>) =~ /^RssAnon:\s+(\d+) kB/m;
		return $kb;
	};
	my $start_kb = $rss->();
	my $peak_kb = $start_kb;
	$out = '';
	$in .= "$form;\n\\q\n";
	while ($h->pumpable)
	{
		$h->pump_nb;
		my $kb = $rss->();
		$peak_kb = $kb if defined $kb && $kb > $peak_kb;
		usleep(20_000);
	}
	$h->finish;
	chomp $out;
	is($out, $big, "streamed all $big rows: $form");
	my $growth_mb = ($peak_kb - $start_kb) / 1024;
	cmp_ok($growth_mb, '<', 24, sprintf('backend memory grew by %.1f MB: %s', $growth_mb, $form));
}

sim_reset();
done_testing();
