// The CRM's reason for refusing a customer, a stored customer turned back
// into form input (for "Fix and resend" and Edit), and what an edit changed.

import type { Customer, CustomerEdit, CustomerId, NewCustomer, OutboxMessage } from './ipc';
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

/**
 * What the edit form changed, as `edit_customer` takes it: each field whose
 * value differs from what the form started with (`null` when emptied), and
 * the CRM form's extra fields the form shows likewise (one it does not show
 * is left as it is). The core decides what really changed (after
 * normalising) and validates the result.
 */
export function editChanges(before: NewCustomer, after: NewCustomer, shownAttributes: readonly string[]): CustomerEdit {
  const changes: CustomerEdit = {};
  for (const f of FIELD_NAMES) {
    const was = before[f] ?? null;
    const now = after[f] ?? null;
    if (was !== now) changes[f] = now;
  }
  const was = before.attributes ?? {};
  const now = after.attributes ?? {};
  const attributes: Record<string, string | null> = {};
  for (const k of new Set([...Object.keys(now), ...shownAttributes])) {
    if ((was[k] ?? null) !== (now[k] ?? null)) attributes[k] = now[k] ?? null;
  }
  if (Object.keys(attributes).length > 0) changes.attributes = attributes;
  return changes;
}
