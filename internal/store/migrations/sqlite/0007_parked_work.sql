-- Parked work: a job (write-back, package push, integration fetch) that
-- waits, snoozed in River, for something a person or Kombo must do first:
-- the customer to finish setting up the integration (Kombo's
-- INTEGRATION.SETUP_* answers), or assessgate to be given KOMBO_API_KEY.
-- One row per waiting job; the job deletes it when it runs to an end.
-- parked_at is when it first parked: past ASSESSGATE_PARKED_MAX_AGE the job
-- becomes a dead letter.
CREATE TABLE parked_work (
	job_id         BIGINT PRIMARY KEY,
	kind           TEXT NOT NULL,
	integration_id TEXT NOT NULL DEFAULT '',
	order_id       TEXT,
	code           TEXT NOT NULL,
	reason         TEXT NOT NULL,
	log_url        TEXT NOT NULL DEFAULT '',
	parked_at      BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL
);
CREATE INDEX parked_work_integration_id ON parked_work (integration_id);
CREATE INDEX parked_work_order_id ON parked_work (order_id);
