// The CRM's reason for refusing a customer, and a stored customer turned
// back into form input, for "Fix and resend".

import type { Customer, CustomerId, NewCustomer, OutboxMessage } from './ipc';
import { FIELD_NAMES, isField, type Field } from './model';

/**
 * Why the CRM refused a customer. `field` is the form field it named (null
 * when it named none of them); `message` is then the whole reason.
 */
export type Refusal = { field: Field | null; message: string };

/** What the fix form needs to know about a refused customer. */
export type FixTarget = { id: CustomerId; refusal: Refusal | null };

/** The refusal a needs-attention message records (the core keeps the field apart). */
export function refusalOf(m: OutboxMessage | null | undefined): Refusal | null {
  const reason = m?.last_error?.trim() ?? '';
  if (m === null || m === undefined || reason === '') return null;
  const field = m.refused_field;
  const message = m.refusal_message?.trim() ?? '';
  if (field !== null && isField(field) && message !== '') return { field, message };
  return { field: null, message: reason };
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
