-- Request queue: a trigger queues a reserve; the worker sends it after COMMIT.
\echo
\echo '== 4. Request queue: a trigger reserves a number after COMMIT'

CREATE TABLE IF NOT EXISTS demo_orders (
	number toll_free.tfn PRIMARY KEY,
	customer text NOT NULL,
	request_id bigint
);

CREATE OR REPLACE FUNCTION demo_orders_reserve() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.request_id := toll_free.tf_enqueue('reserve', NEW.number,
		jsonb_build_object('contact_name', NEW.customer, 'contact_phone', '7325551234',
			'notes', 'demo order'));
	RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS demo_orders_reserve ON demo_orders;
CREATE TRIGGER demo_orders_reserve BEFORE INSERT ON demo_orders
	FOR EACH ROW EXECUTE FUNCTION demo_orders_reserve();

-- Rolled back: nothing reaches the registry.
BEGIN;
INSERT INTO demo_orders (number, customer) VALUES ('1-800-555-0901', 'Rolled Back Inc');
ROLLBACK;

-- Committed: the worker reserves the number.
INSERT INTO demo_orders (number, customer) VALUES ('1-800-555-0902', 'ACME Flowers')
ON CONFLICT (number) DO NOTHING;

SELECT w.id, w.operation, w.numbers, w.state, w.attempts,
	   w.result->>'status' AS registry_status, w.result->>'resUntilDt' AS reserved_until
FROM demo_orders o, toll_free.tf_wait(o.request_id, '20 s') w
WHERE o.number::text = '8005550902';

SELECT state, requests FROM toll_free.queue_summary ORDER BY state;

-- The inventory already shows the reservation, before any sync.
SELECT n.number, n.status, n.resporg, n.contact_name, n.source
FROM toll_free.numbers n
WHERE n.number::text = '8005550902';
