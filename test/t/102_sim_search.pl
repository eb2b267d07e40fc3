# Number search of the simulator: random, by NPA, consecutive, wildcard and
# vanity patterns, specific numbers, pre-reservation locks, and the search
# errors (801104, 801105, 801113, 801114, 801116, 801122, 801128, 099043).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../sim/perl";
use SimTest;
use Test::More;

reset_sim();
my $ruc = login(0);
my $abc = login(2);

sub search
{
	my ($token, $inner) = @_;
	return api('PUT', '/num/tfn/search', token => $token,
		body => "<numSearch>$inner</numSearch>");
}

# random
my $r = search($ruc, '<qty>3</qty>');
is($r->{status}, 200, 'random search answers 200');
my @nums = xall($r->{body}, 'num');
is(scalar @nums, 3, 'random search returns qty numbers');
for my $n (@nums)
{
	is(num_info($ruc, $n)->{status}, 'SPARE', "found number $n is SPARE");
	my $view = admin('GET', "/number/$n")->{body};
	is(xtext($view, 'lockOwner'), 'RUC01', "found number $n is pre-reserved for RUC01");
}
$r = search($ruc, '');
is(scalar(xall($r->{body}, 'num')), 1, 'qty defaults to 1');

# NPA and consecutive
$r = search($ruc, '<qty>4</qty><npa>888</npa>');
@nums = xall($r->{body}, 'num');
is(scalar(grep { /^888\d{7}$/ } @nums), 4, 'npa restricts the search to 888');
$r = search($ruc, '<qty>5</qty><npa>866</npa><cons>Y</cons>');
@nums = xall($r->{body}, 'num');
is(scalar @nums, 5, 'consecutive search returns qty numbers');
is_deeply([ map { $_ - $nums[0] } @nums ], [ 0 .. 4 ], 'consecutive numbers follow each other');
like($nums[0], qr/^866/, 'consecutive search keeps the NPA');

# wildcard and vanity patterns
$r = search($ruc, '<qty>3</qty><wildCardNum>800FLOWER*</wildCardNum>');
@nums = xall($r->{body}, 'num');
is(scalar @nums, 3, 'vanity pattern with a wildcard finds 3 numbers');
is(scalar(grep { /^800356937\d$/ } @nums), 3, 'FLOWER maps to 356937 on the keypad');
$r = search($ruc, '<qty>2</qty><cons>Y</cons><wildCardNum>877CALL***</wildCardNum>');
@nums = xall($r->{body}, 'num');
is(scalar(grep { /^8772255\d{3}$/ } @nums), 2, 'consecutive vanity search matches the pattern');
is($nums[1] - $nums[0], 1, 'consecutive vanity numbers follow each other');
$r = search($ruc, '<qty>2</qty><wildCardNum>888&amp;&amp;&amp;1234</wildCardNum>');
@nums = xall($r->{body}, 'num');
is(scalar(grep { /^888(\d)\1\g{1}1234$/ } @nums), 2, '& stands for one repeated digit');
$r = search($ruc, '<wildCardNum>833FLOWERS</wildCardNum>');
is_deeply([ xall($r->{body}, 'num') ], ['8333569377'], 'a pattern without wildcards is one number');
$r = search($ruc, '<qty>2</qty><wildCardNum>***5551212</wildCardNum>');
@nums = xall($r->{body}, 'num');
is(scalar(grep { /^(800|833|844|855|866|877|888)5551212$/ } @nums), 2, 'a wildcard NPA stays within open NPAs');

# specific numbers
$r = search($ruc, '<numList><num>8005550100</num><num>8005560001</num></numList>');
is($r->{status}, 200, 'specific search answers 200');
is_deeply([ xall($r->{body}, 'num') ], ['8005550100'], 'specific search returns only the spare numbers');
is_deeply([ err_codes($r->{body}) ], ['801104'], 'fewer numbers than asked gives 801104');
is(xtext($r->{body}, 'errLvl'), 'WARN', '801104 is a warning');
$r = search($ruc, '<numList><num>8005560001</num></numList>');
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 409, '801122' ], 'no spare match gives 801122');

# locks: another RespOrg cannot get RUC01's found numbers
$r = search($abc, '<numList><num>8005550100</num></numList>');
is_deeply([ $r->{status}, err_codes($r->{body}) ], [ 409, '801122' ],
	'a number pre-reserved by RUC01 is skipped for ABC01');
$r = search($ruc, '<numList><num>8005550100</num></numList>');
is_deeply([ xall($r->{body}, 'num') ], ['8005550100'], 'RUC01 finds its own pre-reserved number again');

$r = search($abc, '<numList>' . join('', map { "<num>833999999$_</num>" } 0 .. 4) . '</numList>');
is(scalar(xall($r->{body}, 'num')), 5, 'ABC01 pre-reserves 8339999990-4');
$r = search($ruc, '<qty>10</qty><wildCardNum>833999999*</wildCardNum>');
@nums = sort(xall($r->{body}, 'num'));
is_deeply(\@nums, [ map { "833999999$_" } 5 .. 9 ], 'pattern search skips numbers locked by another RespOrg');
is_deeply([ err_codes($r->{body}) ], ['801104'], 'partial pattern result gives 801104');

admin('POST', '/clock/advance?minutes=2');
$r = search($abc, '<numList><num>8005550100</num></numList>');
is_deeply([ xall($r->{body}, 'num') ], ['8005550100'], 'the lock ends after --lock-seconds');

# errors
my @cases = (
	[ '<qty>0</qty>', 400, '801105', 'qty 0' ],
	[ '<qty>11</qty>', 400, '801105', 'qty 11' ],
	[ '<qty>two</qty>', 400, '801105', 'qty not a number' ],
	[ '<npa>212</npa>', 400, '801116', 'geographic npa' ],
	[ '<npa>8000</npa>', 400, '801116', 'four-digit npa' ],
	[ '<cons>X</cons>', 400, '099043', 'cons not Y or N' ],
	[ '<wildCardNum>888&amp;551234</wildCardNum>', 400, '801113', 'lone &' ],
	[ '<cons>Y</cons><qty>2</qty><wildCardNum>8885551*23</wildCardNum>', 400, '801114', 'consecutive pattern not ending in *' ],
	[ '<wildCardNum>888555123</wildCardNum>', 400, '801128', 'pattern of 9 characters' ],
	[ '<wildCardNum>8A8*******</wildCardNum>', 400, '801128', 'letter in the NPA' ],
	[ '<wildCardNum>888555-123</wildCardNum>', 400, '801128', 'dash in the pattern' ],
	[ '<wildCardNum>212*******</wildCardNum>', 400, '801116', 'pattern with a geographic NPA' ],
	[ '<npa>800</npa><wildCardNum>888*******</wildCardNum>', 400, '801116', 'pattern NPA other than npa' ],
	[ '<numList><num>80055501</num></numList>', 400, '099012', 'bad specific number' ],
);
for my $c (@cases)
{
	$r = search($ruc, $c->[0]);
	is_deeply([ $r->{status}, err_codes($r->{body}) ], [ $c->[1], $c->[2] ], "$c->[3] gives $c->[2]");
}

done_testing();
