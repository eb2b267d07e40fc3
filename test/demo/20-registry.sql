-- Part 2 of the tour: number administration against the registry.
--
-- Every call goes over HTTPS to the registry endpoint (here the simulator),
-- shares one registry session with the rest of the cluster and leaves a row
-- in toll_free.requests.
\echo
\echo '== 2. Search the spare pool, reserve, query'

\echo 'Three spare numbers in 888 (each is pre-reserved for RUC01 for a minute):'
SELECT number FROM toll_free.tf_search(quantity => 3, npa => '888');

\echo 'Reserve two specific numbers; one result row per number, refusals included:'
SELECT number, ok, status, resporg, reserved_until, registry_code, message
FROM toll_free.tf_reserve(ARRAY['8005550501', '8005550502']::toll_free.tfn[],
						  contact_name => 'Jane Roe', contact_phone => '7325551234',
						  notes => 'demo');

\echo 'Reserving the same number again is refused by the registry (801124, not spare):'
SELECT number, ok, registry_code, message
FROM toll_free.tf_reserve(ARRAY['8005550501']::toll_free.tfn[],
						  contact_name => 'Jane Roe', contact_phone => '7325551234');

\echo 'Query one number, then ten at once (split into requests of at most 10):'
SELECT number, status, resporg, status_date, reserved_until, contact_name
FROM toll_free.tf_query('8005550501');

SELECT status, count(*)
FROM toll_free.tf_query(ARRAY(SELECT ('80055505' || lpad(i::text, 2, '0'))::toll_free.tfn
							  FROM generate_series(0, 9) i))
GROUP BY status ORDER BY status;

\echo 'Every call left an audit row, which survives a rollback of the caller:'
SELECT id, operation, state, http_status, registry_code, requested_by
FROM toll_free.requests ORDER BY id DESC LIMIT 5;
