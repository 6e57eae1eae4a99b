-- Field-rep mode: customers pulled from the CRM (the working set) live beside
-- the ones created here, with the bookkeeping that keeps them fresh, and the
-- CRM's form metadata is cached for offline creation.

-- 'local': created on this device; 'crm': came from the CRM (a pull or an
-- online lookup) and never had an outbox message here.
ALTER TABLE customers ADD COLUMN origin TEXT NOT NULL DEFAULT 'local'
    CHECK (origin IN ('local', 'crm'));
-- When the CRM last changed the record, as the CRM reported it.
ALTER TABLE customers ADD COLUMN crm_updated_at TEXT;
-- The CRM's version (JSON) when it changed while this device had an unsent
-- change of its own: both stay visible until a person decides.
ALTER TABLE customers ADD COLUMN crm_version TEXT;
-- CRM-specific fields from the form metadata (lead source, lifecycle stage...)
-- as a JSON object of strings.
ALTER TABLE customers ADD COLUMN attributes TEXT;

-- Reconciliation finds a pulled record by the CRM's id.
CREATE INDEX customers_crm_id ON customers (crm_id) WHERE crm_id IS NOT NULL;

-- One incremental pull per endpoint. A pass lists everything changed since
-- `since`; `cursor` is where the pass stands, committed with each page, so a
-- crash or a lost connection resumes at the page that was not stored.
CREATE TABLE pull_state (
    endpoint         TEXT PRIMARY KEY,
    since            TEXT,
    cursor           TEXT,
    -- Newest CRM change seen in the current pass: the next pass starts there.
    pass_newest      TEXT,
    pass_fetched     INTEGER NOT NULL DEFAULT 0,
    pass_started_at  TEXT,
    last_complete_at TEXT,
    last_error       TEXT
);

-- What the creation form needs from the CRM (required fields, picklists),
-- fetched when online and used offline.
CREATE TABLE form_metadata (
    endpoint   TEXT PRIMARY KEY,
    fetched_at TEXT NOT NULL,
    body       TEXT NOT NULL
);
