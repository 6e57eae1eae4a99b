-- Conflicts found while delivering an edit (issue 14): the CRM changed the
-- field to a third value meanwhile, so the CRM's value stayed and ours is
-- kept here until a person decides ("use mine" / "keep the CRM's"). One row
-- per customer and field: a later conflict of the same field replaces it
-- (its base is still the value the clerk started from). Values are in
-- Outpost's stored form; NULL is "no value".
CREATE TABLE update_conflicts (
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    field       TEXT NOT NULL,
    ours        TEXT,
    theirs      TEXT,
    base        TEXT,
    detected_at TEXT NOT NULL,
    PRIMARY KEY (customer_id, field)
);
