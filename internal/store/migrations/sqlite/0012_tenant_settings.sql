-- How a tenant wants its candidates written to (issue 17): the language of
-- their e-mails and pages, the hiring company's name and branding, and
-- whether replies go to the job's recruiter. A tenant without a row set
-- nothing: English, the integration's organisation name, no Reply-To.
-- No personal data: the recruiter's address is read from each order.
CREATE TABLE tenant_settings (
	tenant_id           TEXT PRIMARY KEY,   -- integrations.origin_id
	language            TEXT NOT NULL,      -- en, de, fr, es, it
	language_by_country INTEGER NOT NULL,   -- 1: by the job's country, else language
	display_name        TEXT NOT NULL,      -- '' : the integration's organisation name
	logo_url            TEXT NOT NULL,
	accent_color        TEXT NOT NULL,      -- #rrggbb or ''
	reply_to            TEXT NOT NULL,      -- none, recruiter
	updated_at          BIGINT NOT NULL
);

-- The language a re-invitation asked for (POST /api/v1/orders/{id}/invite
-- {"language": …}); NULL: the tenant's choice. Its reminder and its
-- candidate pages follow it.
ALTER TABLE orders ADD COLUMN language TEXT;
