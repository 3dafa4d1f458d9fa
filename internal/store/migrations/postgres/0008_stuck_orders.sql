-- The stuck list: orders Kombo holds OPEN that assessgate refused (a 422,
-- or the reconciler could not take them), with the reason, until a person
-- closes them at Kombo, takes them again, or Kombo no longer lists them
-- OPEN (closed_at, closed_how). Ids and reasons only: no personal data.
CREATE TABLE stuck_orders (
	order_id       TEXT PRIMARY KEY,
	integration_id TEXT NOT NULL,
	reason         TEXT NOT NULL,
	first_seen     BIGINT NOT NULL,
	last_seen      BIGINT NOT NULL,
	closed_at      BIGINT,
	closed_how     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX stuck_orders_integration ON stuck_orders (integration_id, closed_at);

-- /readyz's write probe: one row, rewritten by every probe of every replica.
CREATE TABLE readiness_probe (
	id INTEGER PRIMARY KEY,
	at BIGINT NOT NULL
);

-- Webhooks other than orders are kept by id and type only: their bodies,
-- which erasure and export do not reach, are no longer stored, and those
-- stored before are emptied here.
UPDATE webhook_events SET body = '' WHERE order_id IS NULL AND length(body) > 0;
