-- Results the vendor's platform posted, each written back to Kombo by a job.
CREATE TABLE results (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	order_id     TEXT NOT NULL,
	status       TEXT NOT NULL,
	body         TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	delivered_at BIGINT,
	warnings     TEXT
);
CREATE INDEX results_order_id ON results (order_id, id);

-- The vendor's package catalogue; one row.
CREATE TABLE catalogue (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	packages   TEXT NOT NULL,
	hash       TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);

-- What was last pushed to each integration, and how it went.
ALTER TABLE integrations ADD COLUMN packages_hash TEXT;
ALTER TABLE integrations ADD COLUMN packages_pushed_at BIGINT;
ALTER TABLE integrations ADD COLUMN push_warnings TEXT;
ALTER TABLE integrations ADD COLUMN push_error TEXT;
