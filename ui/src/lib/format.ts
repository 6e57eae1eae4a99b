import type { Customer } from '../bindings/Customer';
import type { NewCustomer } from '../bindings/NewCustomer';
import type { SyncState } from '../bindings/SyncState';

function joined(...parts: Array<string | null | undefined>): string {
  return parts
    .map((p) => (p ?? '').trim())
    .filter((p) => p !== '')
    .join(' ');
}

/** The person's name, or the company when there is no name. */
export function displayName(c: Customer): string {
  return joined(c.first_name, c.last_name) || joined(c.company) || 'Unnamed customer';
}

/** The company, shown as a second line only when the name is a person's. */
export function secondaryCompany(c: Customer): string | null {
  const person = joined(c.first_name, c.last_name);
  return person !== '' && c.company ? c.company : null;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A timestamp in the user's locale and time zone; the raw text if unparsable. */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

export const SYNC_LABELS: Record<SyncState, string> = {
  pending: 'Pending',
  synced: 'Synced',
  needs_attention: 'Needs attention',
};

/**
 * What the create form starts with when opened from an unmatched search:
 * an email address goes to email, a phone number to phone, and words to the
 * names (one word is taken as a surname, the way clerks look people up;
 * with several, the last word is the surname).
 */
export function prefillFromQuery(raw: string): NewCustomer {
  const q = raw.trim().replace(/\s+/g, ' ');
  if (q === '') return {};
  if (/^[^\s@]+@[^\s@]+$/.test(q)) return { email: q };
  if (/^\+?[\d\s\-.()/]+$/.test(q) && (q.match(/\d/g) ?? []).length >= 3) return { phone: q };
  const words = q.split(' ');
  if (words.length === 1) return { last_name: q };
  const last = words.pop() ?? '';
  return { first_name: words.join(' '), last_name: last };
}
