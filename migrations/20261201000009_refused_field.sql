-- The field a CRM refused, kept in its own column while the message needs
-- attention (NULL when the CRM named none, and once the message is sent
-- again); `last_error` then holds the CRM's words only. What people read
-- still names the field in front (store/outbox.rs).
ALTER TABLE outbox ADD COLUMN refused_field TEXT;

-- Refusals stored before this column carry the field in front of the reason:
-- "phone: Enter a valid phone number". Split those that name a customer field.
UPDATE outbox
SET refused_field = substr(last_error, 1, instr(last_error, ': ') - 1),
    last_error = trim(substr(last_error, instr(last_error, ': ') + 2))
WHERE state = 'needs-attention'
  AND instr(last_error, ': ') > 1
  AND substr(last_error, 1, instr(last_error, ': ') - 1) IN (
      'first_name', 'last_name', 'company', 'email', 'phone', 'street',
      'city', 'postal_code', 'country', 'tax_id', 'notes')
  AND trim(substr(last_error, instr(last_error, ': ') + 2)) != '';
