# The RespOrg a call acts for: toll_free.resporg, sent as the ROID header.
#
# The sandbox's registry user belongs to RUC01 and may update RUC02.  A
# reserve made with toll_free.resporg = 'RUC02' must leave the number with
# RUC02; a RespOrg outside the user's update list is refused by the registry.
use strict;
use warnings;
use Test::More;
use TollFreeTest;

sim_reset();
ensure_extension();

# sim_holder($number): the RespOrg the simulator shows for a number.
sub sim_holder
{
	my ($number) = @_;
	my ($ro) = admin_get("/number/$number") =~ /<ctrlRespOrgId>([A-Z0-9]{5})</;
	return $ro // '';
}

my $reserve = q{SELECT ok, resporg FROM toll_free.tf_reserve('%s',
	contact_name => 'Acting Test', contact_phone => '7325551234')};

is(psql_value(sprintf($reserve, '8005550801')), 't|RUC01',
	'default setting: reserve acts for RUC01');
is(sim_holder('8005550801'), 'RUC01', 'registry holds the number for RUC01');

is(psql_value("SET toll_free.resporg = 'ruc02';\n" . sprintf($reserve, '8005550802')),
	't|RUC02', 'toll_free.resporg = ruc02: reserve acts for RUC02');
is(sim_holder('8005550802'), 'RUC02', 'registry holds the number for RUC02');

my @log = grep { $_->{body} =~ /8005550802/ }
  sim_requests(path => '/num/tfn/reserve', method => 'POST');
is(scalar(@log), 1, 'one reserve request for the RUC02 number');
is($log[0]{resporg}, 'RUC02', 'the registry logged RUC02 as the acting RespOrg');

my $err = psql_fails("SET toll_free.resporg = 'ABC01';\n" . sprintf($reserve, '8005550803'),
	'TF002', 'RespOrg outside the update list');
like($err, qr/099038/, 'the refusal carries 099038');
is(sim_holder('8005550803'), '', 'number outside the update list stays spare');

psql_fails("SET toll_free.resporg = 'RUC0'", '22023', 'malformed RespOrg ID in the setting');

done_testing();
