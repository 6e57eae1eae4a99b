-- The phone's E.164 form ("+491511234567"), beside the form the clerk typed:
-- what search, the duplicate check and the CRM compare. SQL cannot read phone
-- numbers, so rows stored before this migration are filled in by the store at
-- open (store/phone_backfill.rs), in batches, with the default region then in
-- effect; a number that cannot be read stays NULL.
ALTER TABLE customers ADD COLUMN phone_e164 TEXT;

-- The exact-number tier of the search and the duplicate check.
CREATE INDEX customers_phone_e164 ON customers (phone_e164) WHERE phone_e164 IS NOT NULL;
