// Reading the CRM's reason for refusing a customer, and turning a stored
// customer back into form input, for "Fix and resend".

import type { Customer, CustomerId, NewCustomer } from './ipc';
import { FIELD_NAMES, isField, type Field } from './model';

/** What the fix form needs to know about a refused customer. */
export type FixTarget = { id: CustomerId; reason: string | null };

/**
 * The CRM's reason as stored in `last_error`: a leading `field: ` names the
 * field it refused ("phone: Enter a valid phone number…"). `field` is null
 * when the reason names no field of the form; `message` is then the whole text.
 */
export function parseRefusal(reason: string | null | undefined): { field: Field | null; message: string } | null {
  const text = (reason ?? '').trim();
  if (text === '') return null;
  const m = /^([a-z_]+):\s*(.*)$/s.exec(text);
  const name = m?.[1];
  const rest = m?.[2]?.trim();
  if (name !== undefined && rest !== undefined && rest !== '' && isField(name)) return { field: name, message: rest };
  return { field: null, message: text };
}

/** A stored customer as the form's input (empty fields left out). */
export function customerInput(c: Customer): NewCustomer {
  const input: NewCustomer = {};
  for (const f of FIELD_NAMES) {
    const v = c[f];
    if (v !== null && v !== undefined && v !== '') input[f] = v;
  }
  if (Object.keys(c.attributes ?? {}).length > 0) input.attributes = { ...c.attributes };
  return input;
}
