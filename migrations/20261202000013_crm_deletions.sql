-- Customers deleted in the CRM (issue 14). The pull lists the CRM's
-- deletions after each complete pass: a customer with nothing unsent is
-- removed from this device; one with an unsent edit stays, marked with
-- the time the CRM deleted it, until a person discards it or creates it
-- again as a new customer.
ALTER TABLE customers ADD COLUMN crm_deleted_at TEXT;

-- The deletions listing's own position, beside the modified listing's:
-- the CRM time the next listing starts at, the page cursor inside a
-- listing (a crash resumes there), and the newest deletion seen in it.
ALTER TABLE pull_state ADD COLUMN deleted_since TEXT;
ALTER TABLE pull_state ADD COLUMN deleted_cursor TEXT;
ALTER TABLE pull_state ADD COLUMN deleted_newest TEXT;
