// The UI's typed view of the model the core generates (`bindings/model.ts`,
// written by outpost-core's ui_model.rs): the customer's fields with their
// labels and limits, the country list, the rules' words. Nothing here is a
// rule of its own; a field added in the core appears in the form from here.

import { COUNTRIES, FIELDS } from '../bindings/model';
import type { Field } from '../bindings/Field';
import type { FieldSpec } from '../bindings/FieldSpec';

export { ADMIN, AUTH_METHODS, CONNECTION_MESSAGES, COUNTRIES, ENDPOINT_DEFAULTS, ENDPOINT_KINDS, ENDPOINT_LIMITS, ENDPOINT_MESSAGES, FIELDS, LIMITS, MESSAGES, SECRETS, SECRET_RULE, ZOHO_DATA_CENTRES } from '../bindings/model';
export type { Field, FieldSpec };

/** Every field's name, in form order. */
export const FIELD_NAMES: readonly Field[] = FIELDS.map((f) => f.name);

const BY_NAME: ReadonlyMap<string, FieldSpec> = new Map(FIELDS.map((f) => [f.name, f]));

export function isField(s: string): s is Field {
  return BY_NAME.has(s);
}

export function spec(field: Field): FieldSpec {
  const s = BY_NAME.get(field);
  if (s === undefined) throw new Error(`no field ${field} in the generated model`);
  return s;
}

/** The fields that name a customer (at least one is needed). */
export const NAMING_FIELDS: readonly Field[] = FIELDS.filter((f) => f.names_customer).map((f) => f.name);

/** Fills a core message's `{name}` placeholders, as the core's `template::fill` does. */
export function fill(template: string, values: Readonly<Record<string, string | number>>): string {
  let out = template;
  for (const [name, value] of Object.entries(values)) out = out.split(`{${name}}`).join(String(value));
  return out;
}

const COUNTRY_NAMES: ReadonlyMap<string, string> = new Map(COUNTRIES.map((c) => [c.code, c.name]));

/** The English name of an ISO code ("DE" → "Germany"), or null. */
export function countryName(code: string): string | null {
  return COUNTRY_NAMES.get(code) ?? null;
}

export function isCountryCode(code: string): boolean {
  return COUNTRY_NAMES.has(code);
}

/** "lead_source" → "Lead source": a CRM form field kept as an attribute. */
export function attributeLabel(name: string): string {
  const words = name.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A field's label by its JSON name: the generated label, else the attribute's name in words. */
export function fieldLabel(name: string): string {
  return BY_NAME.get(name)?.label ?? attributeLabel(name);
}
