-- Customers created at the till or in the field, their full-text index, and the
-- outbox that carries each creation to the CRM. Never edit this file once it has
-- landed: add a new migration instead.

CREATE TABLE customers (
    -- rowid alias: the full-text index refers to rows by it, and it orders
    -- "most recent first" without another index.
    seq          INTEGER PRIMARY KEY,
    -- The client key (UUIDv7 text). It is the customer's identity everywhere.
    id           TEXT    NOT NULL UNIQUE,
    first_name   TEXT,
    last_name    TEXT,
    company      TEXT,
    email        TEXT,
    phone        TEXT,
    phone_digits TEXT,
    street       TEXT,
    city         TEXT,
    postal_code  TEXT,
    country      TEXT,
    tax_id       TEXT,
    notes        TEXT,
    crm_id       TEXT,
    sync_state   TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (sync_state IN ('pending', 'synced', 'needs_attention')),
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);

-- Exact email / phone matches rank first in search.
CREATE INDEX customers_email ON customers (email) WHERE email IS NOT NULL;
CREATE INDEX customers_phone_digits ON customers (phone_digits) WHERE phone_digits IS NOT NULL;

-- Contentless: the indexed text (e.g. every suffix of the phone digits, so a
-- fragment typed from the middle still prefix-matches) is not what is stored.
-- remove_diacritics 2 folds case and accents; the prefix indexes keep 1-3
-- character type-ahead fast.
CREATE VIRTUAL TABLE customers_fts USING fts5 (
    first_name, last_name, company, email, phone, city,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id     TEXT    NOT NULL REFERENCES customers (id),
    kind            TEXT    NOT NULL,
    -- JSON snapshot of what was created, as the CRM should receive it.
    payload         TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'in-flight', 'needs-attention', 'sent')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);

CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);
CREATE INDEX outbox_customer ON outbox (customer_id);
