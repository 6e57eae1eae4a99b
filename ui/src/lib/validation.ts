// As-you-type hints that mirror the server's rules (outpost-core's
// validation.rs). The server stays the authority: the form always submits and
// shows the server's field errors; these hints only warn earlier.

import { COUNTRY_CODES } from './countries';

export const FIELDS = [
  'first_name',
  'last_name',
  'company',
  'email',
  'phone',
  'street',
  'postal_code',
  'city',
  'country',
  'tax_id',
  'notes',
] as const;

export type Field = (typeof FIELDS)[number];

export function isField(s: string): s is Field {
  return (FIELDS as readonly string[]).includes(s);
}

export const MAX_LENGTH: Record<Field, number> = {
  first_name: 100,
  last_name: 100,
  company: 200,
  email: 254,
  phone: 32,
  street: 200,
  postal_code: 20,
  city: 100,
  country: 200,
  tax_id: 32,
  notes: 2000,
};

const EMAIL_LOCAL = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~.-]+$/u;
const DOMAIN_LABEL = /^[\p{L}\p{N}-]+$/u;
const TLD = /^\p{L}{2,}$/u;

export function emailProblem(raw: string): string | null {
  const email = raw.trim().toLowerCase();
  const at = email.indexOf('@');
  const bad = `"${email}" is not an email address (like name@example.com).`;
  if (at < 0) return bad;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  const localOk =
    local !== '' &&
    local.length <= 64 &&
    !local.startsWith('.') &&
    !local.endsWith('.') &&
    !local.includes('..') &&
    EMAIL_LOCAL.test(local);
  const labels = domain.split('.');
  const tld = labels[labels.length - 1] ?? '';
  const domainOk =
    labels.length >= 2 &&
    labels.every((l) => l !== '' && l.length <= 63 && !l.startsWith('-') && !l.endsWith('-') && DOMAIN_LABEL.test(l)) &&
    TLD.test(tld);
  return localOk && domainOk ? null : bad;
}

export function phoneProblem(raw: string): string | null {
  const phone = raw.trim();
  let digits = 0;
  for (let i = 0; i < phone.length; i++) {
    const c = phone.charAt(i);
    if (c >= '0' && c <= '9') digits++;
    else if (c === '+' && i === 0) continue;
    else if (' -.()/'.includes(c)) continue;
    else return `Use digits, spaces and - . ( ) / only, with an optional leading +; '${c}' is not allowed.`;
  }
  if (digits < 5 || digits > 15) return `A phone number has 5 to 15 digits; this one has ${digits}.`;
  return null;
}

export function countryProblem(raw: string): string | null {
  const c = raw.trim();
  return COUNTRY_CODES.has(c.toUpperCase())
    ? null
    : `"${c}" is not a two-letter ISO country code (like DE, FR or US).`;
}

/** A hint for one field's value, or null. Blank values are never a problem here. */
export function fieldHint(field: Field, raw: string): string | null {
  const value = raw.trim();
  if (value === '') return null;
  const len = [...value].length;
  if (len > MAX_LENGTH[field]) return `Too long: ${len} characters, at most ${MAX_LENGTH[field]}.`;
  switch (field) {
    case 'email':
      return emailProblem(value);
    case 'phone':
      return phoneProblem(value);
    case 'country':
      return countryProblem(value);
    default:
      return null;
  }
}
