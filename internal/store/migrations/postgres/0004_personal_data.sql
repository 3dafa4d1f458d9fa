-- Personal data: which orders had theirs erased, and the audit log of
-- erasures, which holds no personal data itself. (0003 is left unused.)
ALTER TABLE orders ADD COLUMN erased_at BIGINT;
-- The retention job's search: closed orders not yet erased.
CREATE INDEX orders_closed_at ON orders (closed_at) WHERE erased_at IS NULL;
-- Erasing an order's raw webhook bodies, and the retention of bodies that
-- belong to no order (integration events).
CREATE INDEX webhook_events_order_id ON webhook_events (order_id);
CREATE INDEX webhook_events_received_at ON webhook_events (received_at) WHERE order_id IS NULL;

CREATE TABLE erasures (
	id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at             BIGINT NOT NULL,
	reason         TEXT NOT NULL,            -- retention, request, integration_deleted
	actor          TEXT NOT NULL,            -- api, cli, or assessgate for the retention job
	subject        TEXT NOT NULL DEFAULT '', -- a request's e-mail hash, or the deleted integration's id
	orders         INTEGER NOT NULL,
	order_ids      TEXT NOT NULL,            -- JSON list
	webhook_events INTEGER NOT NULL          -- raw bodies erased
);

-- Small facts about the database as a whole, such as the keys its personal
-- data was last found sealed under (see Store.Reseal).
CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
