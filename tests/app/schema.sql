-- The example API's schema: organizations -> campaigns -> jobs, with the kinds of
-- values recap must carry exactly (serial and uuid keys, timestamptz, numeric
-- money, jsonb, a TOAST-sized text column) and a trigger that writes a row the
-- app never writes itself.

CREATE TABLE organizations (
    id          serial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE campaigns (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      integer NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name        text NOT NULL,
    status      text NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'active', 'paused', 'done')),
    budget      numeric(14, 2) NOT NULL DEFAULT 0,
    settings    jsonb NOT NULL DEFAULT '{}'::jsonb,
    brief       text,                       -- large enough to be TOASTed
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Out of line and uncompressed past ~2 kB, so an update that leaves the brief alone
-- sends it as "unchanged TOAST" (pgoutput's 'u'), as large documents do in real apps.
ALTER TABLE campaigns ALTER COLUMN brief SET STORAGE EXTERNAL;

CREATE TABLE jobs (
    id           bigserial PRIMARY KEY,
    campaign_id  uuid NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    kind         text NOT NULL,
    state        text NOT NULL DEFAULT 'queued',
    attempts     integer NOT NULL DEFAULT 0,
    scheduled_at timestamptz
);

CREATE TABLE campaign_audit (
    id           bigserial PRIMARY KEY,
    campaign_id  uuid NOT NULL,
    old_status   text,
    new_status   text,
    changed_at   timestamptz NOT NULL DEFAULT now()
);

-- No primary key on purpose: `recap db setup` must leave it updatable.
CREATE TABLE event_log (
    at       timestamptz NOT NULL DEFAULT now(),
    message  text NOT NULL
);

CREATE FUNCTION campaigns_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO campaign_audit (campaign_id, old_status, new_status)
    VALUES (NEW.id, OLD.status, NEW.status);
    RETURN NEW;
END $$;

CREATE TRIGGER campaigns_audit AFTER UPDATE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaigns_audit();
