-- An order's timeline and its webhooks are looked up by the order's
-- creation time, then its id (issue 19). Keyed by the order's id alone, a
-- random string, every new order's webhook and first event each went to a
-- page of their own somewhere in their index: pages written to the WAL for
-- each webhook, and again for each event a job added later. Keyed by when
-- the order was created, the rows of recent orders, nearly all the rows
-- written, share the last pages of the index. order_at is the order's
-- created_at, copied when a row is written; 0 for a row of no stored order
-- and for what a replica of an earlier version writes during a rolling
-- upgrade, which lookups also take.
ALTER TABLE order_events ADD COLUMN order_at BIGINT NOT NULL DEFAULT 0;
UPDATE order_events SET order_at = orders.created_at FROM orders WHERE orders.id = order_events.order_id;
CREATE INDEX order_events_order ON order_events (order_at, order_id, id);
DROP INDEX order_events_order_id;

ALTER TABLE webhook_events ADD COLUMN order_at BIGINT NOT NULL DEFAULT 0;
UPDATE webhook_events SET order_at = orders.created_at FROM orders WHERE orders.id = webhook_events.order_id;
CREATE INDEX webhook_events_order ON webhook_events (order_at, order_id) WHERE order_id IS NOT NULL;
DROP INDEX webhook_events_order_id;
