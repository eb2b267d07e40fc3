# SimTest: helpers for the TAP tests of tfsim (test/t/1NN_sim_*.pl).
#
# The tests run inside test/sandbox, which exports TOLL_FREE_SIM_URL,
# TOLL_FREE_SIM_ADMIN_URL, TOLL_FREE_SIM_CA and TOLL_FREE_SIM_USERS.  Every
# request goes through curl, so TLS, chunked encoding and broken connections
# are seen exactly as a real client sees them.  start_sim() starts a private
# tfsim with other options on free loopback ports; it is stopped at exit.
package SimTest;

use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempdir);
use IPC::Run ();
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

our @EXPORT = qw(api admin reset_sim users login xtext xall err_codes
  start_sim sim_env set_sim num_info clock_now fault well_formed);

die "run the simulator tests inside test/sandbox (TOLL_FREE_SIM_URL is not set)\n"
  unless $ENV{TOLL_FREE_SIM_URL} && $ENV{TOLL_FREE_SIM_ADMIN_URL};

my $tmp = tempdir(CLEANUP => 1);
my @own_sims;

# The simulator the helpers talk to; set_sim() switches to a private one.
my %sim = (
	url => $ENV{TOLL_FREE_SIM_URL},
	admin => $ENV{TOLL_FREE_SIM_ADMIN_URL},
	ca => $ENV{TOLL_FREE_SIM_CA},
	users => $ENV{TOLL_FREE_SIM_USERS},
);

sub sim_env { return {%sim} }

sub set_sim
{
	my ($s) = @_;
	%sim = %$s;
	return;
}

# curl(@args): run curl; returns (exit code, stdout, stderr).
sub curl
{
	my @args = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'curl', '-sS', @args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# api($method, $path, %opt): one API call.  Options: body, token, headers
# (array ref), timeout (seconds, default 20), url (another base URL).
# Returns a hash: rc (curl exit code), status, body, headers (lower-case
# names), err (curl's message).
sub api
{
	my ($method, $path, %opt) = @_;
	my $hdr = "$tmp/headers";
	my $bodyfile = "$tmp/body";
	unlink $hdr, $bodyfile;
	my @args = ('-X', $method, '-o', $bodyfile, '-D', $hdr,
		'-w', '%{http_code}', '-m', $opt{timeout} // 20);
	my $base = $opt{url} // $sim{url};
	push @args, '--cacert', $sim{ca} if $base =~ /^https/;
	push @args, '-H', "Authorization: Bearer $opt{token}" if defined $opt{token};
	push @args, '-H', $_ for @{ $opt{headers} // [] };
	if (defined $opt{body})
	{
		my $in = "$tmp/request";
		open my $fh, '>:raw', $in or die "cannot write $in: $!";
		print $fh $opt{body};
		close $fh;
		push @args, '-H', 'Content-Type: application/xml; charset=utf-8',
		  '--data-binary', "\@$in";
	}
	my ($rc, $code, $err) = curl(@args, $base . $path);
	my %h;
	my $raw_headers = '';
	if (open my $fh, '<:raw', $hdr)
	{
		local $/;
		$raw_headers = <$fh> // '';
		close $fh;
		for my $line (split /\r?\n/, $raw_headers)
		{
			$h{ lc $1 } = $2 if $line =~ /^([^:]+):\s*(.*)$/;
		}
	}
	my $body = '';
	if (open my $fh, '<:raw', $bodyfile)
	{
		local $/;
		$body = <$fh> // '';
		close $fh;
	}
	return {
		rc => $rc,
		status => $code + 0,
		body => $body,
		headers => \%h,
		raw_headers => $raw_headers,
		err => $err
	};
}

# admin($method, $path_and_query): one admin call; returns {status, body}.
sub admin
{
	my ($method, $path) = @_;
	my ($rc, $out, $err) = curl('-X', $method, '-w', "\n%{http_code}",
		$sim{admin} . $path);
	die "admin $method $path failed: curl exit $rc: $err\n" if $rc != 0;
	$out =~ s/\n(\d{3})\z//s or die "admin $method $path: no status in output\n";
	return { status => $1 + 0, body => $out };
}

sub reset_sim
{
	my $r = admin('POST', '/reset');
	die "reset failed: $r->{body}\n" unless $r->{status} == 200;
	return;
}

# fault(%args): add a fault; returns its id.
sub fault
{
	my (%args) = @_;
	my $q = join '&', map { "$_=$args{$_}" } sort keys %args;
	my $r = admin('POST', "/faults?$q");
	die "fault $q not added: $r->{body}\n" unless $r->{status} == 200;
	chomp(my $id = $r->{body});
	return $id;
}

# users(): the users file as a list of {name, password, resporg, upd}.
sub users
{
	open my $fh, '<', $sim{users} or die "cannot read $sim{users}: $!";
	my @u;
	while (my $line = <$fh>)
	{
		chomp $line;
		next if $line eq '' || $line =~ /^#/;
		my @f = split /:/, $line;
		my $upd = pop @f;
		my $ro = pop @f;
		my $name = shift @f;
		push @u, { name => $name, password => join(':', @f),
			resporg => $ro, upd => [ split /,/, $upd ] };
	}
	return @u;
}

# login($index): open a session for the user on line $index (0 = RUC01's)
# and return its token; dies when the session does not open.
sub login
{
	my ($index) = @_;
	my $u = (users())[ $index // 0 ];
	my $r = api('POST', '/sec/session/open',
		body => "<sessionOpen><usrName>$u->{name}</usrName>"
		  . "<password>$u->{password}</password></sessionOpen>");
	if ($r->{status} == 409 && (my $key = xtext($r->{body}, 'sessOverrideKey')))
	{
		$r = api('POST', '/sec/session/open',
			body => "<sessionOpen><usrName>$u->{name}</usrName>"
			  . "<password>$u->{password}</password>"
			  . "<sessOverrideKey>$key</sessOverrideKey></sessionOpen>");
	}
	my $token = xtext($r->{body}, 'oauthToken');
	die "login of $u->{name} failed: $r->{status} $r->{body}\n" unless $token;
	return $token;
}

# xtext($xml, $tag): text of the first element $tag, or undef.
sub xtext
{
	my ($xml, $tag) = @_;
	return $xml =~ m{<\Q$tag\E(?:\s[^>]*)?>([^<]*)</\Q$tag\E>} ? $1 : undef;
}

# xall($xml, $tag): texts of every element $tag (their count in scalar
# context).
sub xall
{
	my ($xml, $tag) = @_;
	my @texts = ($xml =~ m{<\Q$tag\E(?:\s[^>]*)?>([^<]*)</\Q$tag\E>}g);
	return wantarray ? @texts : scalar @texts;
}

# well_formed($bytes): whether Python's expat parser accepts the document.
sub well_formed
{
	my ($bytes) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'python3', '-c',
		'import sys, xml.parsers.expat as e; p = e.ParserCreate(); p.Parse(sys.stdin.buffer.read(), True)' ],
		'<', \$bytes, '>', \$out, '2>', \$err);
	return $? == 0;
}

sub err_codes
{
	my ($xml) = @_;
	return xall($xml, 'errCode');
}

# num_info($token, $num): hash of the numInfo fields of a query.
sub num_info
{
	my ($token, $num) = @_;
	my $r = api('GET', "/num/tfn/query/tfn/$num", token => $token);
	die "query $num failed: $r->{status} $r->{body}\n" unless $r->{status} == 200;
	my %f;
	while ($r->{body} =~ m{<(\w+)>([^<]*)</\1>}g)
	{
		$f{$1} = $2;
	}
	return \%f;
}

# clock_now(): the simulator's time in seconds since the epoch.
sub clock_now
{
	my $r = admin('GET', '/clock');
	my ($y, $mo, $d, $h, $mi, $s) =
	  $r->{body} =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z/
	  or die "bad clock answer: $r->{body}\n";
	require Time::Local;
	return Time::Local::timegm($s, $mi, $h, $d, $mo - 1, $y);
}

sub free_port
{
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
		Listen => 1, ReuseAddr => 1) or die "no free port: $!";
	my $port = $s->sockport;
	close $s;
	return $port;
}

# start_sim(@options): start a private tfsim on loopback with a self-made
# certificate and the same users file; returns its settings for set_sim().
sub start_sim
{
	my @opts = @_;
	my $dir = tempdir(CLEANUP => 1);
	my $bin = $ENV{TFSIM} // do
	{
		require FindBin;
		"$FindBin::RealBin/../sim/tfsim";
	};
	my ($rc, $out, $err) = ('', '', '');
	IPC::Run::run([ 'openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
		'-keyout', "$dir/key.pem", '-out', "$dir/cert.pem", '-days', '2',
		'-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1' ],
		'>', \$out, '2>', \$err) or die "openssl failed: $err\n";
	my ($port, $admin) = (free_port(), free_port());
	my $pid = fork // die "fork failed: $!";
	if ($pid == 0)
	{
		open STDOUT, '>', "$dir/sim.log";
		open STDERR, '>&', \*STDOUT;
		exec $bin, '--port', $port, '--admin-port', $admin,
		  '--tls-cert', "$dir/cert.pem", '--tls-key', "$dir/key.pem",
		  '--users', $sim{users}, '--ready-file', "$dir/ready", @opts
		  or die "exec $bin failed: $!";
	}
	push @own_sims, $pid;
	my $deadline = time + 60;
	until (-s "$dir/ready")
	{
		die "private tfsim did not start; see $dir/sim.log\n"
		  if time > $deadline || waitpid($pid, 1) == $pid;
		sleep 0.05;
	}
	return {
		url => "https://127.0.0.1:$port/v3/ip",
		admin => "http://127.0.0.1:$admin/_admin",
		ca => "$dir/cert.pem",
		users => $sim{users},
		pid => $pid,
		log => "$dir/sim.log",
	};
}

END
{
	for my $pid (@own_sims)
	{
		kill 'TERM', $pid;
		waitpid $pid, 0;
	}
}

1;
