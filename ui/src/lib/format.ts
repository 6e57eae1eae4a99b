import type { Customer } from '../bindings/Customer';
import type { NewCustomer } from '../bindings/NewCustomer';
import type { SyncState } from '../bindings/SyncState';
import type { WorkingSet } from '../bindings/WorkingSet';

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

/**
 * The formatters are made on first use: each loads its share of the locale
 * data, which a window that has not shown a date yet need not hold.
 */
function once<T>(make: () => T): () => T {
  let made: T | undefined;
  return () => (made ??= make());
}

const dateTime = once(() => new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }));
const relative = once(() => new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }));
const count = once(() => new Intl.NumberFormat());

/** A timestamp in the user's locale and time zone; the raw text if unparsable. */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime().format(d);
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

/** "3 min ago", "just now", "yesterday": how long ago `iso` was, as of `now`. */
export function timeAgo(iso: string, now: number = Date.now()): string {
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return iso;
  const secs = Math.round((then - now) / 1000);
  if (Math.abs(secs) < 45) return 'just now';
  const mins = Math.round(secs / 60);
  if (Math.abs(mins) < 60) return relative().format(mins, 'minute');
  const hours = Math.round(mins / 60);
  if (Math.abs(hours) < 24) return relative().format(hours, 'hour');
  return relative().format(Math.round(hours / 24), 'day');
}

/** The working set for the status bar; null when there is nothing to say. */
export function workingSetText(w: WorkingSet | null, now: number = Date.now()): string | null {
  if (!w) return null;
  if (w.pulling !== null) return `updating working set… ${count().format(w.pulling)} received`;
  if (!w.pull_enabled || w.updated_at === null) return null;
  const n = count().format(w.total_local);
  return `working set: ${n} customer${w.total_local === 1 ? '' : 's'}, updated ${timeAgo(w.updated_at, now)}`;
}
