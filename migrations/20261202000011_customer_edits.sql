-- Editing any customer (issue 14). `crm_updated_at` is when the CRM last
-- changed the record (a time, for the pull's cursor and display) and
-- `crm_version` is a copy of the CRM's values kept beside an unsent local
-- change; neither is the token a conditional write needs. This is that
-- token: the version, etag or `updatedAt` text the CRM last returned for the
-- record, exactly as it returned it (generic REST `version`, Dataverse's
-- `@odata.etag`, Salesforce's `LastModifiedDate`), sent back as the
-- precondition of an update (`If-Match`, `If-Unmodified-Since`). NULL until
-- a connector reports one.
ALTER TABLE customers ADD COLUMN crm_version_tag TEXT;

-- An edit looks for the customer's newest unsent message to merge into, and
-- the badge "edited, not yet sent" asks whether an update waits: both by
-- customer and kind, without reading the customer's delivered history.
CREATE INDEX outbox_customer_unsent ON outbox (customer_id, kind, id) WHERE state != 'sent';
