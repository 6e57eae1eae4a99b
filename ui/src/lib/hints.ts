// As-you-type hints for the create form. What the generated model knows
// (lengths, country codes, the names-the-customer rule) is hinted at once;
// what needs the core's logic (email syntax, phone parsing, the CRM form's
// picklists) comes from `check_customer`, asked a moment after typing stops.
// The core stays the authority: saving shows its field errors.

import { api, type NewCustomer } from './ipc';
import { MESSAGES, NAMING_FIELDS, fill, isCountryCode, isField, spec, type Field } from './model';

/** How long typing pauses before the core is asked. */
export const CHECK_DEBOUNCE_MS = 150;

/** A hint from the generated rules alone, or null. Blank values are never a problem here. */
export function localHint(field: Field, raw: string): string | null {
  const value = raw.trim();
  if (value === '') return null;
  const s = spec(field);
  const len = [...value].length;
  if (len > s.max_len) return fill(MESSAGES.too_long, { len, max: s.max_len });
  if (s.type === 'country' && !isCountryCode(value.toUpperCase())) return fill(MESSAGES.not_a_country, { value });
  return null;
}

/**
 * The names rule, once the person has been through every field that could
 * name the customer and left them all empty; shown against the first.
 */
export function namesHint(field: Field, values: Readonly<Record<Field, string>>, left: Readonly<Partial<Record<Field, boolean>>>): string | null {
  if (field !== NAMING_FIELDS[0]) return null;
  const passed = NAMING_FIELDS.every((f) => left[f] === true && values[f].trim() === '');
  return passed ? MESSAGES.name_required : null;
}

/** The core's answer for one input: its field errors, for the values it was asked about. */
export type CoreCheck = { input: NewCustomer; errors: Partial<Record<Field, string>> };

/** The core's hint for a field, while the field still holds the value it was asked about. */
export function coreHint(check: CoreCheck | null, field: Field, raw: string): string | null {
  const value = raw.trim();
  if (check === null || value === '' || (check.input[field] ?? '') !== value) return null;
  return check.errors[field] ?? null;
}

/** Asks the core about the form's input, debounced; only the latest answer is delivered. */
export function coreChecker(onAnswer: (check: CoreCheck) => void): { ask(input: NewCustomer, now?: boolean): void; stop(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let seq = 0;
  const run = async (input: NewCustomer) => {
    const mine = ++seq;
    try {
      const answer = await api.checkCustomer(input);
      if (mine !== seq) return;
      const errors: Partial<Record<Field, string>> = {};
      for (const e of answer.errors) {
        if (isField(e.field)) errors[e.field] = errors[e.field] ? `${errors[e.field]} ${e.message}` : e.message;
      }
      onAnswer({ input, errors });
    } catch {
      // A hint that did not come is no reason to stop anyone typing.
    }
  };
  return {
    ask(input, now = false) {
      clearTimeout(timer);
      if (now) void run(input);
      else timer = setTimeout(() => void run(input), CHECK_DEBOUNCE_MS);
    },
    stop() {
      clearTimeout(timer);
      seq++;
    },
  };
}
