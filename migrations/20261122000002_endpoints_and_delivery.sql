-- CRM endpoints, per-endpoint delivery of outbox messages, and the audit log
-- of every remote call. Secrets are NOT here: they live in the OS keyring.

CREATE TABLE endpoints (
    name         TEXT    PRIMARY KEY,
    kind         TEXT    NOT NULL,
    base_url     TEXT    NOT NULL,
    connectivity TEXT    NOT NULL DEFAULT 'online-offline'
                 CHECK (connectivity IN ('online-offline', 'online-only')),
    -- Lower is preferred: the endpoint with the lowest priority is the primary.
    priority     INTEGER NOT NULL DEFAULT 100,
    -- Non-secret settings as JSON (batch size, rate limit, key property, auth method).
    settings     TEXT    NOT NULL DEFAULT '{}',
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);

-- Each outbox row is one delivery to one endpoint. NULL until the primary
-- endpoint claims it, so creations made before any CRM was configured are
-- delivered to whichever becomes primary. Broadcasting one change to several
-- CRMs is one row per endpoint.
ALTER TABLE outbox ADD COLUMN endpoint TEXT;
CREATE INDEX outbox_endpoint_due ON outbox (endpoint, state, next_attempt_at, id);

-- Per-endpoint sync bookkeeping shown on the Sync screen and by `outpost status`.
CREATE TABLE endpoint_sync (
    endpoint        TEXT PRIMARY KEY,
    last_success_at TEXT,
    last_error      TEXT
);

CREATE TABLE sync_audit (
    id          INTEGER PRIMARY KEY,
    at          TEXT    NOT NULL,
    endpoint    TEXT    NOT NULL,
    operation   TEXT    NOT NULL,
    customer_id TEXT,
    crm_id      TEXT,
    -- HTTP status, or the error class when no response came back.
    outcome     TEXT    NOT NULL,
    duration_ms INTEGER NOT NULL,
    request_id  TEXT,
    detail      TEXT
);
CREATE INDEX sync_audit_at ON sync_audit (at);
