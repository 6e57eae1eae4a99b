// The endpoint form's field plumbing, shared by its field components: the
// errors by field (the core's words, or the form's own for a number it cannot
// send) and what an input's `aria-describedby` names.

import type { FormField } from './endpoints';

/** A field's error message, by the core's field name. */
export type FieldErrors = Partial<Record<FormField, string>>;

/** Tells the form a field was edited (its error and the last test result no longer hold). */
export type Edited = (field: FormField) => void;

/** The id of the paragraph that shows a field's error. */
export function errorId(field: FormField): string {
  return `error-${field}`;
}

/** The help paragraphs' ids, then the field's error when it has one; undefined when none. */
export function describedBy(field: FormField, errors: FieldErrors, ...help: (string | undefined)[]): string | undefined {
  const ids = [...help, errors[field] ? errorId(field) : undefined].filter((x) => x !== undefined);
  return ids.length > 0 ? ids.join(' ') : undefined;
}
