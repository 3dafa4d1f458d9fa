-- Tenants: an integration's end_user.origin_id is the vendor's id of the
-- customer. Orders carry no copy of it: they read it through their
-- integration, so an order that arrived before its integration was known
-- gets its tenant as soon as the integration is stored. The index serves
-- GET /api/v1/orders?tenant_id= and GET /api/v1/integrations?tenant_id=.
CREATE INDEX integrations_origin_id ON integrations (origin_id);

-- Who connected the integration (end_user.creator_email): where a
-- reconnection link is sent when the integration turns INVALID.
ALTER TABLE integrations ADD COLUMN creator_email TEXT;

-- The last reconnection link made for the integration (Kombo's relink, a
-- magic link valid a year), shown on the admin page while it is INVALID.
ALTER TABLE integrations ADD COLUMN relink_url TEXT;
ALTER TABLE integrations ADD COLUMN relink_at BIGINT;
