-- Times are Unix milliseconds (UTC) in both databases, so that one set of
-- queries serves SQLite and Postgres.
CREATE TABLE integrations (
	id                TEXT PRIMARY KEY,
	tool              TEXT NOT NULL DEFAULT '',
	category          TEXT NOT NULL DEFAULT '',
	organization_name TEXT NOT NULL DEFAULT '',
	origin_id         TEXT,
	state             TEXT NOT NULL DEFAULT 'ACTIVE',
	setup_status      TEXT NOT NULL DEFAULT '',
	qa_status         TEXT NOT NULL DEFAULT '',
	created_at        BIGINT NOT NULL,
	updated_at        BIGINT NOT NULL,
	deleted_at        BIGINT
);

-- Every accepted webhook, raw, for audit and replay; its id dedupes redeliveries.
CREATE TABLE webhook_events (
	id             TEXT PRIMARY KEY,
	type           TEXT NOT NULL,
	order_id       TEXT,
	integration_id TEXT,
	received_at    BIGINT NOT NULL,
	body           BYTEA NOT NULL
);

CREATE TABLE orders (
	id             TEXT PRIMARY KEY,
	integration_id TEXT NOT NULL,
	package_id     TEXT NOT NULL,
	status         TEXT NOT NULL,
	state          TEXT NOT NULL,
	source         TEXT NOT NULL,
	event_id       TEXT,
	email          TEXT NOT NULL,
	data           TEXT NOT NULL,
	created_at     BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL,
	invited_at     BIGINT,
	started_at     BIGINT,
	expires_at     BIGINT,
	closed_at      BIGINT
);
CREATE INDEX orders_created_at ON orders (created_at, id);
CREATE INDEX orders_email ON orders (email);
CREATE INDEX orders_integration_id ON orders (integration_id, created_at);

CREATE TABLE order_events (
	id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	order_id TEXT NOT NULL,
	at       BIGINT NOT NULL,
	kind     TEXT NOT NULL,
	detail   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX order_events_order_id ON order_events (order_id, id);

-- Candidate links: only a hash of each token is kept.
CREATE TABLE links (
	token_hash TEXT PRIMARY KEY,
	order_id   TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX links_order_id ON links (order_id);
