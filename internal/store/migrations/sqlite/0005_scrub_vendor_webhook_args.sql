-- requires table river_job
-- Vendor webhook jobs enqueued by versions before 0005 kept the order
-- ("data", with the candidate's address and name) in their args; River's
-- rows must hold no personal data, and their workers read the order when
-- they send, as new jobs do. riversqlite keeps args as SQLite's binary
-- JSON. (Skipped on a new database, where River's tables come after this
-- migration and hold nothing yet.)
UPDATE river_job SET args = jsonb_remove(args, '$.data')
	WHERE kind = 'vendor_webhook' AND json_type(args, '$.data') IS NOT NULL;
