// Words for the sync engine's states, shared by the status bar, the Sync
// screen and the detail view.

import type { JsonValue, OutboxMessage, StatusSnapshot } from './ipc';
import type { ApiBudget } from '../bindings/ApiBudget';
import type { Interception } from '../bindings/Interception';
import { CONNECTION_MESSAGES } from './model';
import { formatDateTime } from './format';

export type Tone = 'muted' | 'ok' | 'warn' | 'bad';

export type ConnectionView = {
  /** What the status bar shows, e.g. "CRM: Offline". */
  text: string;
  tone: Tone;
  /** A second line in plain words (why offline, what to do), if any. */
  hint: string | null;
  /** Whether "Retry now" makes sense. */
  canRetry: boolean;
};

/**
 * What answered in the CRM's place, in the core's words; a state from an
 * older core without the kind reads as a sign-in page.
 */
export function interceptionWords(by: Interception | null | undefined): string {
  return CONNECTION_MESSAGES[by ?? 'sign_in_page'];
}

/** The core's "words (detail)": the detail alone, for a second line. */
function interceptionDetail(why: string | null, words: string): string | null {
  if (why === null) return null;
  if (!why.startsWith(words)) return why;
  const rest = why.slice(words.length).trim().replace(/^\((.*)\)$/s, '$1').trim();
  return rest === '' ? null : rest;
}

export function connectionView(status: StatusSnapshot | null): ConnectionView {
  if (!status) return { text: 'CRM: …', tone: 'muted', hint: null, canRetry: false };
  const why = status.last_error?.trim() || null;
  switch (status.connection) {
    case 'not_configured':
      return { text: 'CRM: not configured', tone: 'muted', hint: null, canRetry: false };
    case 'online':
      return status.pending > 0
        ? { text: `CRM: Syncing ${status.pending}`, tone: 'ok', hint: null, canRetry: false }
        : { text: 'CRM: Online', tone: 'ok', hint: null, canRetry: false };
    case 'offline':
      return { text: 'CRM: Offline', tone: 'warn', hint: why, canRetry: true };
    case 'intercepted': {
      const words = interceptionWords(status.interception);
      return { text: words, tone: 'warn', hint: interceptionDetail(why, words), canRetry: true };
    }
    case 'unauthorized':
      return {
        text: 'CRM: Credentials rejected',
        tone: 'bad',
        hint: why === null ? 'an admin must fix the settings' : /admin/i.test(why) ? why : `${why} · an admin must fix the settings`,
        canRetry: true,
      };
    default:
      return { text: `CRM: ${String(status.connection)}`, tone: 'muted', hint: why, canRetry: false };
  }
}

/** The connection in a sentence, for the Sync screen. */
export function connectionSentence(status: StatusSnapshot): string {
  switch (status.connection) {
    case 'not_configured':
      return 'No CRM is set up yet. Customers are kept on this computer.';
    case 'online':
      return status.pending > 0 ? 'Connected to the CRM; sending now.' : 'Connected to the CRM.';
    case 'offline':
      return 'The CRM cannot be reached. Customers are kept here and sent when it is back.';
    case 'intercepted':
      return status.interception === 'proxy'
        ? 'Something on this network answers instead of the CRM. Customers are kept here and sent once the CRM itself answers; an admin may need to let its address through the proxy.'
        : 'This network wants a sign-in first: open a web browser and sign in (or accept its terms). Customers are kept here and sent once the CRM itself answers.';
    case 'unauthorized':
      return 'The CRM rejected the credentials. Sending is paused until an admin fixes the settings; nothing is lost.';
    default:
      return String(status.connection);
  }
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * "just now", "3 min ago", "2 hours ago", "yesterday", "4 days ago", then the
 * date. `null` gives "never"; an unparsable stamp is shown as it is.
 */
export function relativeTime(iso: string | null, now: number = Date.now()): string {
  if (iso === null) return 'never';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const ago = now - t;
  if (ago < MINUTE) return 'just now'; // also a clock slightly ahead of ours
  if (ago < HOUR) return `${Math.floor(ago / MINUTE)} min ago`;
  if (ago < DAY) {
    const h = Math.floor(ago / HOUR);
    return h === 1 ? '1 hour ago' : `${h} hours ago`;
  }
  const d = Math.floor(ago / DAY);
  if (d === 1) return 'yesterday';
  if (d < 7) return `${d} days ago`;
  return formatDateTime(iso);
}

/** When a message will be tried next: "now", "in 40 s", "in 3 min", or a time. */
export function untilTime(iso: string, now: number = Date.now()): string {
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const ahead = t - now;
  if (ahead <= 1000) return 'now';
  if (ahead < MINUTE) return `in ${Math.ceil(ahead / 1000)} s`;
  if (ahead < HOUR) return `in ${Math.ceil(ahead / MINUTE)} min`;
  return formatDateTime(iso);
}

function text(v: JsonValue | undefined): string {
  return typeof v === 'string' ? v.trim() : '';
}

/** The customer's name as it was when the message was made (its payload snapshot). */
export function messageName(m: OutboxMessage): string {
  const p = m.payload;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return 'Unnamed customer';
  const person = [text(p.first_name), text(p.last_name)].filter((s) => s !== '').join(' ');
  return person || text(p.company) || 'Unnamed customer';
}

/** The company from the payload, when the name shown is a person's. */
export function messageCompany(m: OutboxMessage): string | null {
  const p = m.payload;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return null;
  const person = [text(p.first_name), text(p.last_name)].some((s) => s !== '');
  const company = text(p.company);
  return person && company !== '' ? company : null;
}

export function attemptsText(n: number): string {
  return n === 1 ? '1 attempt' : `${n} attempts`;
}

/** "1 conflict", "3 conflicts". */
export function conflictsText(n: number): string {
  return n === 1 ? '1 conflict' : `${n} conflicts`;
}

/**
 * The CRM's request budget in words (Salesforce's daily API requests), or
 * null while the CRM has not said: "CRM API budget: 1,234 of 15,000 requests
 * used in the last 24 hours · this device: 120 of its 5,000".
 */
export function apiBudgetText(b: ApiBudget | null | undefined): string | null {
  if (!b) return null;
  const n = (v: number) => v.toLocaleString('en-US');
  const parts: string[] = [];
  if (b.org_used !== null && b.org_max !== null) {
    const left = Math.max(0, b.org_max - b.org_used);
    parts.push(`CRM API budget: ${n(left)} of ${n(b.org_max)} requests left for the last 24 hours`);
  } else if (b.org_left !== undefined && b.org_left !== null) {
    parts.push(`CRM API credits: ${n(b.org_left)} left for the last 24 hours`);
  }
  if (b.device_cap !== null) {
    parts.push(`this device: ${n(b.device_used)} of its ${n(b.device_cap)} a day used`);
  } else if (parts.length > 0) {
    parts.push(`this device: ${n(b.device_used)} used`);
  }
  return parts.length > 0 ? parts.join(' · ') : null;
}
