// An in-memory stand-in for the Rust core, injected into the page with
// `page.addInitScript(installMockBackend, options)` before the app's scripts
// run. It implements the IPC contract the app uses (commands, events and the
// IpcError rejections) the way `@tauri-apps/api/mocks` `mockIPC` wires up
// `window.__TAURI_INTERNALS__`, so the app under test runs its real
// `invoke`/`listen` code paths.
//
// It holds an in-memory store and filters lists simply, but it has no rules
// of its own: every limit, message, default and sign-in method comes from the
// model the core generates (`MockOptions.model`, i.e. `src/bindings/model.ts`),
// and what only the core's logic can decide (email syntax, phone parsing, URL
// and name rules) from the core's own answers for the values the tests type
// (`MockOptions.answers`, i.e. `tests/core/answers.json`; see its README).
// Search results are the matching customers, most recent first (no ranking).
//
// IMPORTANT: this function is serialised into the page. It must not refer to
// anything outside its own body (imports are types only).

import type { ConnectionState } from '../src/bindings/ConnectionState';
import type { Interception } from '../src/bindings/Interception';
import type { Conflict } from '../src/bindings/Conflict';
import type { Customer } from '../src/bindings/Customer';
import type { CustomerChange } from '../src/bindings/CustomerChange';
import type { CustomersChanged } from '../src/bindings/CustomersChanged';
import type { OutboxMessage } from '../src/bindings/OutboxMessage';
import type { OutboxState } from '../src/bindings/OutboxState';
import type { StatusSnapshot } from '../src/bindings/StatusSnapshot';
import type { EndpointConfig } from '../src/bindings/EndpointConfig';
import type { EndpointStatus } from '../src/bindings/EndpointStatus';
import type { TestResult } from '../src/bindings/TestResult';
import type { FormMetadata } from '../src/bindings/FormMetadata';
import type { WorkingSet } from '../src/bindings/WorkingSet';
import type * as Model from '../src/bindings/model';
import type { AppSettings } from '../src/bindings/AppSettings';
import type { MapCheck } from '../src/bindings/MapCheck';
import type { MapProblem } from '../src/bindings/MapProblem';

export type MockEndpointConfig = EndpointConfig;

/** A stored endpoint: its config, the keyring's secrets under its name, its monitor's status. */
export type MockEndpoint = {
  config: MockEndpointConfig;
  token?: string;
  client_secret?: string;
  refresh_token?: string;
  status?: EndpointStatus | null;
  /** What the core found wrong with the map against the CRM's last field list, and when it was fetched. */
  mapProblems?: MapProblem[];
  mapCheckedAt?: string | null;
};

/** The admin session as the core keeps it (argon2 hash and attempt counter in the store). */
export type MockAdmin = {
  passphrase: string | null;
  unlocked: boolean;
  failures: number;
  lastFailureAt: number | null;
};

/** An outbox message whose payload is a flat snapshot (the recursive JsonValue is too deep for Playwright's argument types). */
export type MockMessage = Omit<OutboxMessage, 'payload'> & { payload: Record<string, string | null> };

export type MockOptions = {
  customers: Customer[];
  status: StatusSnapshot;
  /** The outbox, in any order (`list_outbox` answers by id). Counts in `status` are not derived from it. */
  outbox?: MockMessage[];
  /** Open conflicts, oldest first; `status.conflicts` counts them unless the status says otherwise. */
  conflicts?: Conflict[];
  /** The generated model: every rule the mock applies. */
  model: MockModel;
  /** The core's verdicts on the values the tests type. */
  answers: CoreAnswers;
  /** Milliseconds to hold back the answer of `search_customers` for a given query. */
  searchDelays?: Record<string, number>;
  /** Make a command reject with this error value instead of answering. */
  failures?: Record<string, unknown>;
  /** The admin passphrase already set (null: first run). */
  adminPassphrase?: string | null;
  endpoints?: MockEndpoint[];
  /** What "Test connection" answers for a base URL once config and credentials are fine (default: ok). */
  testResults?: Record<string, TestResult>;
  /** Customers only the CRM has: `lookup_customers` and `find_duplicates` find them when the CRM answers. */
  crmCustomers?: Customer[];
  /** The CRM side of a lookup (default: `answered` when there are CRM customers, else `not_asked`). */
  crm?: 'answered' | 'offline' | 'timed_out' | 'failed';
  /** Milliseconds `lookup_customers` holds its answer. */
  lookupDelay?: number;
  /** The cached CRM form (default: the built-in one, no note). */
  formMetadata?: FormMetadata;
  /** What `get_working_set` answers (default: every customer here, never pulled). */
  workingSet?: WorkingSet;
  /** The OS locale's region (default: none). */
  localeRegion?: string | null;
  /** The stored default region (default: none). */
  defaultRegion?: string | null;
  /** Each kind's own field map (the generated `DEFAULT_FIELD_MAPS`). */
  defaultFieldMaps: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** What `endpoint_crm_fields` answers for a base URL (default: the CRM could not be reached). */
  crmFields?: Record<string, MapCheck>;
};

/** The generated model the mock takes its rules from (`src/bindings/model.ts`). */
export type MockModel = Pick<
  typeof Model,
  'FIELDS' | 'COUNTRIES' | 'MESSAGES' | 'LIMITS' | 'PHONE_REGIONS' | 'AUTH_METHODS' | 'SECRETS' | 'SECRET_RULE' | 'ENDPOINT_LIMITS' | 'ENDPOINT_MESSAGES' | 'ADMIN'
>;

/** The core's verdict on one typed value (`tests/core/answers.json`). */
export type CoreAnswer = { error: string } | { value: string | null };
/** By group (`customer`, `endpoint`), field or setting, then the value as typed. */
export type CoreAnswers = Record<string, Record<string, Record<string, CoreAnswer>>>;

export type MockCall = { cmd: string; args: Record<string, unknown> };

/** What tests can reach through `window.__mock` in the page. */
export type MockControl = {
  calls: MockCall[];
  customers: Customer[];
  status: StatusSnapshot;
  outbox: MockMessage[];
  /** Open conflicts, as `list_conflicts` answers them. */
  conflicts: Conflict[];
  /**
   * A delivery finding a conflict: the CRM keeps its value, the local row
   * keeps ours until a resolution (as the core's `mark_updated`), and the
   * conflict is listed; emits customers-changed and status-changed.
   */
  recordConflict(conflict: Conflict): void;
  /** Queries whose search answer has been delivered, in delivery order. */
  answered: string[];
  emit(event: string, payload: unknown): void;
  listenerCount(event: string): number;
  setFailure(cmd: string, error: unknown): void;
  clearFailure(cmd: string): void;
  setSearchDelay(query: string, ms: number): void;
  /** The monitor changing state: sets `connection`, `last_error` and `interception`, emits status-changed. */
  setConnection(connection: ConnectionState, lastError?: string | null, interception?: Interception | null): void;
  /**
   * The flusher recording outcomes: moves a customer's undelivered messages to
   * `to` (sent: the customer becomes synced with a CRM id; needs-attention:
   * with `lastError` as the CRM's reason, naming no field), keeps the counts
   * right, and emits customers-changed and status-changed as the core does.
   * Returns how many moved.
   */
  moveMessages(customerId: string, to: OutboxState, lastError?: string | null): number;
  /**
   * One flush round delivering these customers: like `moveMessages(id, 'sent')`
   * for each, with one customers-changed event for the round, as the core sends.
   */
  deliverRound(customerIds: string[]): number;
  admin: MockAdmin;
  /** The stored endpoints with their secrets (what the core would have in SQLite and the keyring). */
  endpoints: MockEndpoint[];
  /** The core's idle lock: the next endpoint command rejects with `forbidden`. */
  expireAdminSession(): void;
  setEndpointStatus(name: string, status: EndpointStatus | null): void;
  /** The device's stored default region (null: follow the locale) and the locale's. */
  appSettings: { setting: string | null; locale: string | null };
};

export function installMockBackend(opts: MockOptions): void {
  type Row = Customer;
  type FieldError = { field: string; message: string };
  type Win = Window & {
    __TAURI_INTERNALS__?: unknown;
    __TAURI_EVENT_PLUGIN_INTERNALS__?: unknown;
    __mock?: unknown;
  };
  const w = window as Win;

  const customers: Row[] = opts.customers.map((c) => ({ ...c }));
  const status: StatusSnapshot = { ...opts.status };
  const outbox: MockMessage[] = (opts.outbox ?? []).map((m) => ({ ...m, payload: { ...m.payload } }));
  const conflicts: Conflict[] = (opts.conflicts ?? []).map((c) => ({ ...c }));
  if (status.conflicts === undefined) status.conflicts = conflicts.length;
  const delays: Record<string, number> = { ...(opts.searchDelays ?? {}) };
  const failures: Record<string, unknown> = { ...(opts.failures ?? {}) };
  const model = opts.model;
  const countries = new Set(model.COUNTRIES.map((c) => c.code));
  const FIELD_NAMES = model.FIELDS.map((f) => f.name as string);
  /** Fills a generated message's `{name}` placeholders, as the core does. */
  const fill = (template: string, values: Record<string, string | number>) =>
    Object.entries(values).reduce((t, [k, v]) => t.split(`{${k}}`).join(String(v)), template);
  /** The core's verdict on a value, when the tests asked the core about it. */
  const answerFor = (group: string, field: string, value: string): CoreAnswer | undefined =>
    opts.answers[group]?.[field]?.[value];
  const calls: Array<{ cmd: string; args: Record<string, unknown> }> = [];
  const answered: string[] = [];
  const admin: MockAdmin = { passphrase: opts.adminPassphrase ?? null, unlocked: false, failures: 0, lastFailureAt: null };
  const endpoints: MockEndpoint[] = (opts.endpoints ?? []).map((e) => ({
    ...e,
    config: { ...e.config, settings: { ...e.config.settings } },
  }));
  const testResults: Record<string, TestResult> = { ...(opts.testResults ?? {}) };
  const crmFields: Record<string, MapCheck> = { ...(opts.crmFields ?? {}) };
  const crmCustomers: Row[] = (opts.crmCustomers ?? []).map((c) => ({ ...c }));
  const crmMode = opts.crm ?? (crmCustomers.length > 0 ? 'answered' : 'not_asked');
  const phoneRegions = new Set(model.PHONE_REGIONS.map((r) => r.code));
  const appSettings = { setting: opts.defaultRegion ?? null, locale: opts.localeRegion ?? null };
  const form: FormMetadata = opts.formMetadata ?? {
    endpoint: null,
    fetched_at: null,
    note: null,
    required_one_of: ['first_name', 'last_name', 'company'],
    fields: [],
  };

  // --- callbacks and events, as in @tauri-apps/api/mocks -------------------
  const callbacks = new Map<number, (data: unknown) => void>();
  let nextId = 1;
  function transformCallback(cb?: (data: unknown) => void, once = false): number {
    const id = nextId++;
    callbacks.set(id, (data) => {
      if (once) callbacks.delete(id);
      if (cb) cb(data);
    });
    return id;
  }
  function unregisterCallback(id: number): void {
    callbacks.delete(id);
  }
  function runCallback(id: number, data: unknown): void {
    const cb = callbacks.get(id);
    if (cb) cb(data);
  }
  const listeners = new Map<string, number[]>();
  let nextEventId = 1;
  function emit(event: string, payload: unknown): void {
    for (const handler of [...(listeners.get(event) ?? [])]) {
      runCallback(handler, { event, id: nextEventId++, payload });
    }
  }

  // --- the store --------------------------------------------------------------
  const fold = (s: string) =>
    s
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase();
  const digitsOf = (s: string | null | undefined) => (s ?? '').replace(/\D/g, '');
  const words = (s: string | null | undefined) => fold(s ?? '').split(/[^\p{L}\p{N}]+/u).filter((w) => w !== '');

  const searched = model.FIELDS.filter((f) => f.search !== null);
  /**
   * Simple filtering: each word of the query starts a word of a searched
   * field (or the whole value), or, for a phone, 3+ of its digits appear in
   * the number. The core's ranking is not repeated: most recent first.
   */
  function matches(c: Row, tokens: string[]): boolean {
    return tokens.every((t) =>
      searched.some((f) => {
        const value = c[f.name] ?? null;
        if (f.type === 'phone') {
          const digits = /^\+?[\d\s\-.()/]+$/.test(t) ? digitsOf(t) : '';
          return digits.length >= 3 && digitsOf(value).includes(digits);
        }
        return fold(value ?? '').startsWith(t) || words(value).some((w) => w.startsWith(t));
      }),
    );
  }
  const byRecency = (a: Row, b: Row) => b.created_at.localeCompare(a.created_at);

  function search(query: string, limit: number, among: Row[] = customers): Row[] {
    const q = fold(query.trim());
    // A phone-like query (3+ digits, phone punctuation only) is one digit string.
    const phoneLike = /^[\d\s+\-.()/]+$/.test(q) && digitsOf(q).length >= 3;
    const tokens = q === '' ? [] : phoneLike ? [q] : q.split(/\s+/).filter((t) => t !== '');
    return among
      .filter((c) => matches(c, tokens))
      .sort(byRecency)
      .slice(0, limit);
  }

  // --- validation: the generated rules, and the core's answers ---------------------
  /**
   * `validation::validate`, as far as the generated model tells: each field's
   * length, the country codes, the names rule; what only the core's logic
   * decides comes from its answers (a value it was not asked about is
   * accepted as typed).
   */
  function validate(input: Record<string, unknown>): { ok: Record<string, string | null> } | { errors: FieldError[] } {
    const errors: FieldError[] = [];
    const out: Record<string, string | null> = {};
    for (const f of model.FIELDS) {
      const raw = input[f.name];
      const v = raw === undefined || raw === null ? '' : String(raw).trim();
      out[f.name] = null;
      if (v === '') continue;
      const len = [...v].length;
      const answer = answerFor('customer', f.name, String(raw)) ?? answerFor('customer', f.name, v);
      if (len > f.max_len) errors.push({ field: f.name, message: fill(model.MESSAGES.too_long, { len, max: f.max_len }) });
      else if (answer !== undefined && 'error' in answer) errors.push({ field: f.name, message: answer.error });
      else if (answer !== undefined) out[f.name] = answer.value;
      else if (f.type === 'country' && !countries.has(v.toUpperCase()))
        errors.push({ field: f.name, message: fill(model.MESSAGES.not_a_country, { value: v }) });
      else out[f.name] = f.type === 'country' ? v.toUpperCase() : v;
    }
    const naming = model.FIELDS.filter((f) => f.names_customer).map((f) => f.name as string);
    const named = naming.some((f) => out[f] !== null);
    const namingError = errors.some((e) => naming.includes(e.field));
    if (!named && !namingError && naming[0] !== undefined) errors.unshift({ field: naming[0], message: model.MESSAGES.name_required });
    return errors.length > 0 ? { errors } : { ok: out };
  }

  /** `FormMetadata::check`: the cached CRM form's required fields, picklists and known fields. */
  function checkForm(input: Record<string, unknown>): FieldError[] {
    const attributes = (input.attributes ?? {}) as Record<string, string>;
    const errors: FieldError[] = [];
    for (const f of form.fields) {
      const raw = f.attribute ? attributes[f.name] : input[f.name];
      const v = typeof raw === 'string' ? raw.trim() : '';
      if (v === '' && f.required) errors.push({ field: f.name, message: fill(model.MESSAGES.form_required, { label: f.label }) });
      else if (v !== '' && f.kind === 'picklist' && f.options.length > 0 && !f.options.some((o) => o.value.toLowerCase() === v.toLowerCase()))
        errors.push({ field: f.name, message: fill(model.MESSAGES.form_not_an_option, { label: f.label }) });
    }
    for (const k of Object.keys(attributes))
      if (!form.fields.some((f) => f.attribute && f.name === k)) errors.push({ field: k, message: fill(model.MESSAGES.form_unknown_field, { name: k }) });
    return errors;
  }

  /** `validation::check`: validation first, then the CRM form (as a create does). */
  function check(input: Record<string, unknown>): { ok: Record<string, string | null> } | { errors: FieldError[] } {
    const result = validate(input);
    if ('errors' in result) return result;
    const formErrors = checkForm(input);
    return formErrors.length > 0 ? { errors: formErrors } : result;
  }

  /** The command's own deserialisation: a JSON object of known fields. */
  function customerInput(raw: unknown, attributesAllowed: boolean): Record<string, unknown> {
    if (typeof raw !== 'object' || raw === null) return reject('invalid_input', 'input is missing');
    const unknown = Object.keys(raw).find((k) => !FIELD_NAMES.includes(k) && !(attributesAllowed && k === 'attributes'));
    if (unknown !== undefined) return reject('invalid_input', `unknown field \`${unknown}\``);
    const notText = FIELD_NAMES.find((k) => {
      const v = (raw as Record<string, unknown>)[k];
      return v !== undefined && v !== null && typeof v !== 'string';
    });
    if (notText !== undefined) return reject('invalid_input', `invalid type for \`${notText}\`, expected a string`);
    return raw as Record<string, unknown>;
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const reject = (code: string, message: string, fields: FieldError[] = []) => {
    // Tauri rejects with the command's serialised error value.
    throw { code, message, fields };
  };
  const uuid = () =>
    typeof crypto.randomUUID === 'function'
      ? crypto.randomUUID()
      : `0190${Math.random().toString(16).slice(2, 10)}-0000-7000-8000-${Date.now().toString(16).padStart(12, '0')}`;

  // --- the outbox ---------------------------------------------------------------
  const OUTBOX_STATES: OutboxState[] = ['pending', 'in-flight', 'needs-attention', 'sent'];
  /** Moves one message and keeps the snapshot's counts in step (pending includes in flight). */
  function setState(m: MockMessage, to: OutboxState): void {
    const count = (s: OutboxState, d: number) => {
      if (s === 'pending' || s === 'in-flight') status.pending = Math.max(0, status.pending + d);
      if (s === 'in-flight') status.in_flight = Math.max(0, status.in_flight + d);
      if (s === 'needs-attention') status.needs_attention = Math.max(0, status.needs_attention + d);
      if (s === 'sent') status.sent = Math.max(0, status.sent + d);
    };
    count(m.state, -1);
    count(to, +1);
    m.state = to;
    // The core tells the refused field only while the message needs attention.
    if (to !== 'needs-attention') {
      m.refused_field = null;
      m.refusal_message = null;
    }
  }

  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  /** A customer field by its JSON name, else a CRM form field kept as an attribute. */
  function setField(c: Row, field: string, value: string | null): void {
    if (FIELD_NAMES.includes(field)) {
      (c as unknown as Record<string, unknown>)[field] = value;
      return;
    }
    const attributes = { ...(c.attributes ?? {}) };
    if (value === null) delete attributes[field];
    else attributes[field] = value;
    c.attributes = attributes;
  }

  /** Like the core: one event for the customers a transaction touched, then the status. */
  function changed(ids: string[], change: CustomerChange = 'synced'): void {
    setTimeout(() => {
      if (ids.length > 0) emit('customers-changed', { ids, change } satisfies CustomersChanged);
      emit('status-changed', { ...status });
    }, 0);
  }
  function moveMessages(customerId: string, to: OutboxState, lastError: string | null = null): number {
    const n = moveOne(customerId, to, lastError);
    changed([customerId]);
    return n;
  }
  function deliverRound(customerIds: string[]): number {
    const n = customerIds.reduce((sum, id) => sum + moveOne(id, 'sent', null), 0);
    changed(customerIds);
    return n;
  }
  function moveOne(customerId: string, to: OutboxState, lastError: string | null): number {
    const now = new Date().toISOString();
    let n = 0;
    for (const m of outbox) {
      if (m.customer_id !== customerId || m.state === 'sent' || m.state === to) continue;
      setState(m, to);
      if (to === 'in-flight') m.attempts += 1;
      if (to === 'needs-attention' || to === 'pending') m.last_error = lastError;
      if (to === 'needs-attention') m.refusal_message = lastError;
      if (to === 'pending') m.next_attempt_at = now;
      n += 1;
    }
    const c = customers.find((x) => x.id === customerId);
    if (c && n > 0) {
      if (to === 'sent') {
        c.sync_state = 'synced';
        c.crm_id = c.crm_id ?? `CRM-${customerId.slice(-4)}`;
        status.last_success_at = now;
      } else c.sync_state = to === 'needs-attention' ? 'needs_attention' : 'pending';
    }
    return n;
  }


  // --- admin and endpoints, as src-tauri/src/commands/settings.rs answers ---------
  const LOCKED = 'The settings are locked: enter the admin passphrase.';
  const adminStatus = () => ({ passphrase_set: admin.passphrase !== null, unlocked: admin.unlocked });
  /** admin::verify: 3 free attempts, then 2 s, doubling, capped at 5 min. */
  function verify(candidate: string): void {
    if (admin.passphrase === null) reject('forbidden', 'no admin passphrase is set yet');
    if (admin.failures >= 3 && admin.lastFailureAt !== null) {
      const delay = Math.min(2 ** (admin.failures - 3 + 1), 300);
      const elapsed = Math.max(0, Math.floor((Date.now() - admin.lastFailureAt) / 1000));
      if (elapsed < delay) reject('forbidden', `too many wrong admin passphrases: try again in ${delay - elapsed} s`);
    }
    if (candidate === admin.passphrase) {
      admin.failures = 0;
      return;
    }
    admin.failures += 1;
    admin.lastFailureAt = Date.now();
    reject('forbidden', model.ADMIN.wrong);
  }
  function requireUnlocked(): void {
    if (!admin.unlocked) reject('forbidden', LOCKED);
  }
  const invalidInput = (field: string, message: string) =>
    reject('invalid_input', `${field}: ${message}`, [{ field, message }]);
  type SecretName = 'token' | 'client_secret' | 'refresh_token';
  /** The secrets a sign-in method keeps in the keyring (the generated AUTH_METHODS). */
  const secretsOf = (auth: string): SecretName[] =>
    (model.AUTH_METHODS.find((m) => m.method === auth)?.secrets ?? []) as SecretName[];

  /**
   * settings::parse_form: the config's shape, then EndpointConfig::validate
   * and the secrets' checks, from the generated ranges, sign-in methods and
   * secret rule, and the core's answers for the text settings.
   */
  function parseForm(rawConfig: unknown, rawSecrets: unknown): { config: MockEndpointConfig; entered: Record<string, string> } {
    if (typeof rawConfig !== 'object' || rawConfig === null) return invalidInput('input', 'invalid type: expected struct EndpointConfig');
    const c = rawConfig as Record<string, unknown>;
    for (const k of ['name', 'kind', 'base_url', 'connectivity', 'priority', 'settings'])
      if (!(k in c)) return invalidInput('input', `missing field \`${k}\``);
    if (typeof c.name !== 'string' || typeof c.base_url !== 'string') return invalidInput('input', 'invalid type: expected a string');
    if (typeof c.priority !== 'number' || !Number.isInteger(c.priority)) return invalidInput('input', 'invalid type: expected i64');
    const config = { ...(c as MockEndpointConfig), settings: { ...((c.settings ?? {}) as MockEndpointConfig['settings']) } };
    const settings = config.settings as Record<string, unknown>;
    const errors: FieldError[] = [];
    const text: Record<string, unknown> = { name: config.name, base_url: config.base_url, ...settings };
    for (const [field, value] of Object.entries(text)) {
      const answer = typeof value === 'string' ? answerFor('endpoint', field, value) : undefined;
      if (answer !== undefined && 'error' in answer) errors.push({ field, message: answer.error });
    }
    // EndpointConfig::salesforce_settings: refused for other kinds (Zoho
    // takes the object as its module).
    const salesforceOnly: Array<[string, string]> = [
      ...(config.kind === 'zoho' ? [] : [['crm_object', 'object'] as [string, string]]),
      ['daily_request_cap', 'daily_request_cap'],
      ['allow_duplicates', 'allow_duplicates'],
    ];
    if (config.kind !== 'salesforce') {
      for (const [setting, field] of salesforceOnly)
        if (settings[setting] !== undefined && settings[setting] !== null)
          errors.push({ field, message: 'Only the Salesforce connector takes this setting.' });
    }
    // EndpointConfig::oauth_settings: the token URL for Salesforce and generic
    // REST client credentials, checked by the base URL's rule (check_url).
    const clientCredentials =
      (config.kind === 'generic-rest' || config.kind === 'dynamics') && settings.auth === 'oauth-client-credentials';
    if (typeof settings.token_url === 'string') {
      if (!clientCredentials && config.kind !== 'salesforce' && config.kind !== 'zoho') {
        errors.push({
          field: 'token_url',
          message: 'Only Salesforce, Dynamics, Zoho and OAuth client credentials (generic REST) use a token URL.',
        });
      } else {
        const answer = answerFor('endpoint', 'base_url', settings.token_url.trim());
        if (answer !== undefined && 'error' in answer) errors.push({ field: 'token_url', message: answer.error });
      }
    }
    const ranges: Record<string, unknown> = { priority: config.priority, ...settings };
    for (const [field, range] of Object.entries(model.ENDPOINT_LIMITS)) {
      const v = ranges[field];
      if (typeof v === 'number' && (v < range.min || v > range.max))
        errors.push({ field, message: fill(range.message, { min: range.min, max: range.max }) });
    }
    const auth = config.settings.auth ?? 'token';
    const needsClientId = model.AUTH_METHODS.find((m) => m.method === auth)?.needs_client_id ?? false;
    if (needsClientId && (config.settings.client_id ?? '').trim() === '')
      errors.push({ field: 'client_id', message: model.ENDPOINT_MESSAGES.client_id_required });

    const entered: Record<string, string> = {};
    if (rawSecrets !== undefined && rawSecrets !== null) {
      if (typeof rawSecrets !== 'object') return invalidInput('input', 'invalid type: expected struct SecretsInput');
      const sec = rawSecrets as Record<string, unknown>;
      const names = model.SECRETS.map((x) => x.name);
      for (const k of Object.keys(sec)) if (!names.includes(k)) return invalidInput(k, `unknown field \`${k}\``);
      const rule = model.SECRET_RULE;
      for (const k of names) {
        const raw = sec[k];
        if (raw === undefined || raw === null) continue;
        const v = String(raw).trim();
        if (v === '') continue;
        // eslint-disable-next-line no-control-regex
        const multiLine = rule.one_line && /[\u0000-\u001f\u007f]/.test(v);
        if ([...v].length > rule.max_chars || multiLine) errors.push({ field: k, message: fill(rule.message, { max: rule.max_chars }) });
        else entered[k] = v;
      }
    }
    if (errors.length > 0) reject('validation', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
    return { config, entered };
  }

  function sortEndpoints(): void {
    endpoints.sort((a, b) => a.config.priority - b.config.priority || a.config.name.localeCompare(b.config.name));
  }
  sortEndpoints();
  const viewOf = (e: MockEndpoint) => ({
    config: { ...e.config, settings: { ...e.config.settings } },
    token_set: e.token !== undefined,
    client_secret_set: e.client_secret !== undefined,
    refresh_token_set: e.refresh_token !== undefined,
    status: e.status ?? null,
    mapping: {
      field_map: { ...(opts.defaultFieldMaps[e.config.kind] ?? {}), ...(e.config.settings.field_map ?? {}) },
      form_extra: [...(e.config.settings.form_extra ?? [])],
      problems: e.mapProblems ?? [],
      checked_at: e.mapCheckedAt ?? null,
    },
  });

  function appSettingsView(): AppSettings {
    const region = appSettings.setting ?? appSettings.locale;
    return {
      default_region: region,
      default_region_source: appSettings.setting !== null ? 'setting' : appSettings.locale !== null ? 'locale' : null,
      locale_region: appSettings.locale,
    };
  }

  async function handle(cmd: string, args: Record<string, unknown>): Promise<unknown> {
    if (cmd in failures) throw failures[cmd];
    switch (cmd) {
      case 'plugin:event|listen': {
        const event = String(args.event);
        const handler = Number(args.handler);
        listeners.set(event, [...(listeners.get(event) ?? []), handler]);
        return handler;
      }
      case 'plugin:event|unlisten': {
        const event = String(args.event);
        listeners.set(
          event,
          (listeners.get(event) ?? []).filter((h) => h !== Number(args.eventId)),
        );
        return null;
      }
      case 'get_status':
        return { ...status };
      case 'search_customers': {
        if (typeof args.query !== 'string') return reject('invalid_input', 'query must be a string');
        const query = args.query;
        const limit = typeof args.limit === 'number' ? args.limit : 20;
        const rows = search(query, limit).map((c) => ({ ...c }));
        const delay = delays[query] ?? 0;
        if (delay > 0) await sleep(delay);
        answered.push(query);
        return rows;
      }
      case 'lookup_customers': {
        if (typeof args.query !== 'string') return reject('invalid_input', 'query must be a string');
        const query = args.query;
        const limit = typeof args.limit === 'number' ? args.limit : 20;
        const local = search(query, limit).map((c) => ({ ...c }));
        if ((opts.lookupDelay ?? 0) > 0) await sleep(opts.lookupDelay ?? 0);
        answered.push(`lookup:${query}`);
        if (query.trim().length < 2 || crmMode === 'not_asked')
          return { customers: local, from_crm: [], remote: { state: 'not_asked' } };
        if (crmMode === 'failed') return { customers: local, from_crm: [], remote: { state: 'failed', reason: 'HTTP 500' } };
        if (crmMode !== 'answered') return { customers: local, from_crm: [], remote: { state: crmMode } };
        const found = search(query, limit, crmCustomers);
        const fromCrm: string[] = [];
        for (const c of found) {
          // Cached, as the core stores what the CRM returned.
          if (!customers.some((l) => l.id === c.id)) customers.push({ ...c });
          if (!local.some((l) => l.id === c.id)) {
            local.push({ ...c });
            fromCrm.push(c.id);
          }
        }
        return { customers: local, from_crm: fromCrm, remote: { state: 'answered', count: found.length } };
      }
      case 'find_duplicates': {
        // Simple filtering: the same email (any case) or the same phone digits.
        const email = typeof args.email === 'string' ? fold(args.email.trim()) : '';
        const phone = typeof args.phone === 'string' ? digitsOf(args.phone) : '';
        const pool = crmMode === 'answered' ? [...customers, ...crmCustomers.filter((c) => !customers.some((l) => l.id === c.id))] : customers;
        return pool
          .filter((c) => (email !== '' && fold(c.email ?? '') === email) || (phone !== '' && digitsOf(c.phone ?? null) === phone))
          .map((c) => ({ ...c }));
      }
      case 'get_form_metadata':
        return structuredClone(form);
      case 'get_working_set':
        return opts.workingSet ?? { total_local: customers.length, updated_at: null, pulling: null, last_error: null, pull_enabled: true, deletions_seen: null };
      case 'pull_now':
        return null;
      case 'get_customer': {
        const found = customers.find((c) => c.id === args.id);
        if (!found) return reject('not_found', `No customer with id ${String(args.id)}.`);
        return { ...found };
      }
      case 'check_customer': {
        const input = customerInput(args.input, true);
        const result = check(input);
        if ('errors' in result) return { errors: result.errors, normalised: null };
        return { errors: [], normalised: result.ok };
      }
      case 'create_customer': {
        const input = customerInput(args.input, true);
        const result = check(input);
        if ('errors' in result) return reject('validation', 'Some fields need attention.', result.errors);
        const attributes = (input.attributes ?? {}) as Record<string, string>;
        const now = new Date().toISOString();
        const o = result.ok;
        const created = {
          ...o,
          id: uuid(),
          // The core reads the number with libphonenumber; the mock does not.
          phone_e164: null,
          crm_id: null,
          sync_state: 'pending',
          created_at: now,
          updated_at: now,
          origin: 'local',
          pending_edit: false,
          attributes: Object.fromEntries(Object.entries(attributes).filter(([, v]) => v.trim() !== '')),
        } as Row;
        customers.push(created);
        outbox.push({
          id: outbox.reduce((max, m) => Math.max(max, m.id), 0) + 1,
          customer_id: created.id,
          kind: 'customer.create',
          state: 'pending',
          attempts: 0,
          next_attempt_at: now,
          last_error: null,
          refused_field: null,
          refusal_message: null,
          created_at: now,
          payload: Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null)),
        });
        status.pending += 1;
        status.customers += 1;
        // Like the real core: events follow the command's answer.
        setTimeout(() => {
          emit('customers-changed', { ids: [created.id], change: 'created' } satisfies CustomersChanged);
          emit('status-changed', { ...status });
        }, 0);
        return { ...created };
      }
      case 'sync_now':
        return null;
      case 'list_outbox': {
        const filter = args.stateFilter;
        if (filter !== undefined && filter !== null && !OUTBOX_STATES.includes(filter as OutboxState))
          return reject('invalid_input', 'Use pending, in-flight, needs-attention or sent.', [
            { field: 'state_filter', message: 'Use pending, in-flight, needs-attention or sent.' },
          ]);
        return outbox
          .filter((m) => filter === undefined || filter === null || m.state === filter)
          .sort((a, b) => a.id - b.id)
          .slice(0, 500)
          .map((m) => ({ ...m, payload: { ...m.payload } }));
      }
      case 'retry_customer': {
        const id = typeof args.id === 'string' ? args.id : '';
        if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
          return reject('invalid_input', `"${id}" is not a customer key (a UUID).`, [
            { field: 'id', message: `"${id}" is not a customer key (a UUID).` },
          ]);
        const now = new Date().toISOString();
        let n = 0;
        for (const m of outbox) {
          if (m.customer_id === id && m.state === 'needs-attention') {
            setState(m, 'pending');
            m.next_attempt_at = now;
            n += 1;
          }
        }
        const c = customers.find((x) => x.id === id);
        if (n > 0 && c) c.sync_state = 'pending';
        changed([id]);
        return n;
      }
      case 'update_customer': {
        const id = typeof args.id === 'string' ? args.id : '';
        const c = customers.find((x) => x.id === id);
        if (!c) return reject('not_found', `no customer with key ${id}`);
        const input = customerInput(args.input, true);
        // As update_unsent_customer: validation first, then "already in the CRM" (a delivered message).
        const result = validate(input);
        if ('errors' in result) return reject('validation', 'Some fields need attention.', result.errors);
        if (c.sync_state === 'synced' || outbox.some((m) => m.customer_id === id && m.state === 'sent'))
          return reject('refused', 'This customer is already in the CRM; change it there (editing synced customers comes in a later version).');
        for (const k of FIELD_NAMES) {
          (c as unknown as Record<string, unknown>)[k] = result.ok[k] ?? null;
        }
        c.updated_at = new Date().toISOString();
        changed([id], 'edited');
        return { ...c };
      }
      case 'edit_customer': {
        const id = typeof args.id === 'string' ? args.id : '';
        const c = customers.find((x) => x.id === id);
        if (!c) return reject('not_found', `no customer with key ${id}`);
        const changes = customerInput(args.changes, true);
        // As Store::edit_customer: the customer as it would be after the edit, checked as a creation.
        const current = c as unknown as Record<string, unknown>;
        const after: Record<string, unknown> = {};
        for (const k of FIELD_NAMES) after[k] = k in changes ? changes[k] : current[k];
        const attributes: Record<string, string> = { ...(c.attributes ?? {}) };
        for (const [k, v] of Object.entries((changes.attributes ?? {}) as Record<string, string | null>)) {
          if (v === null || v.trim() === '') delete attributes[k];
          else attributes[k] = v;
        }
        if (Object.keys(attributes).length > 0) after.attributes = attributes;
        const result = check(after);
        if ('errors' in result) return reject('validation', 'Some fields need attention.', result.errors);
        const differs =
          FIELD_NAMES.some((k) => (current[k] ?? null) !== result.ok[k]) ||
          JSON.stringify(attributes) !== JSON.stringify(c.attributes ?? {});
        if (!differs) return { ...c };
        for (const k of FIELD_NAMES) current[k] = result.ok[k] ?? null;
        c.attributes = attributes;
        c.updated_at = new Date().toISOString();
        // An edit folds into a create that has not gone yet; otherwise it waits as an update.
        const createWaits = outbox.some(
          (m) => m.customer_id === id && m.kind === 'customer.create' && (m.state === 'pending' || m.state === 'needs-attention'),
        );
        if (!createWaits) c.pending_edit = true;
        changed([id], 'edited');
        return { ...c };
      }
      case 'list_conflicts': {
        if (args.id === undefined || args.id === null) return conflicts.map((c) => ({ ...c }));
        const id = String(args.id);
        if (!UUID.test(id)) return reject('invalid_input', `"${id}" is not a customer key (a UUID).`, [{ field: 'id', message: `"${id}" is not a customer key (a UUID).` }]);
        if (!customers.some((c) => c.id === id)) return reject('not_found', `no customer with key ${id}`);
        return conflicts.filter((c) => c.customer_id === id).map((c) => ({ ...c }));
      }
      case 'resolve_conflict': {
        // As the core: the key, then the choice and the field's name, then the customer, then the conflict.
        const id = typeof args.id === 'string' ? args.id : '';
        if (!UUID.test(id)) return reject('invalid_input', `"${id}" is not a customer key (a UUID).`, [{ field: 'id', message: `"${id}" is not a customer key (a UUID).` }]);
        const choice = args.use;
        if (choice !== 'mine' && choice !== 'crm') {
          const message = `"${String(choice)}" is not a choice: use mine or crm.`;
          return reject('invalid_input', `use: ${message}`, [{ field: 'use', message }]);
        }
        const field = typeof args.field === 'string' ? args.field : '';
        if (field.trim() === '') {
          const message = 'Name the field by its JSON name (e.g. phone) or the CRM form field\'s name.';
          return reject('invalid_input', `field: ${message}`, [{ field: 'field', message }]);
        }
        const c = customers.find((x) => x.id === id);
        if (!c) return reject('not_found', `no customer with key ${id}`);
        const conflict = conflicts.find((x) => x.customer_id === id && x.field === field);
        if (!conflict) return reject('not_found', `customer ${id} has no conflict on ${field}`);
        setField(c, field, choice === 'mine' ? conflict.ours : conflict.theirs);
        // "Use mine" queues ours as an update (base: the CRM's value).
        if (choice === 'mine' && conflict.ours !== conflict.theirs) c.pending_edit = true;
        c.updated_at = new Date().toISOString();
        conflicts.splice(conflicts.indexOf(conflict), 1);
        status.conflicts = conflicts.length;
        changed([id], 'edited');
        return { ...c };
      }
      case 'discard_customer': {
        const id = typeof args.id === 'string' ? args.id : '';
        const c = customers.find((x) => x.id === id);
        if (!c) return reject('not_found', `no customer with key ${id}`);
        const mine = outbox.filter((m) => m.customer_id === id);
        // A customer deleted in the CRM goes with its messages, whatever their state (Store::discard_deleted_customer).
        if (!c.crm_deleted_at && mine.some((m) => m.state !== 'needs-attention'))
          return reject('refused', 'Only a customer the CRM refused can be discarded; this one is queued or already delivered.');
        for (const m of mine) {
          setState(m, 'sent');
          status.sent -= 1;
          outbox.splice(outbox.indexOf(m), 1);
        }
        customers.splice(customers.indexOf(c), 1);
        status.customers -= 1;
        changed([id], 'removed');
        return null;
      }
      case 'recreate_customer': {
        // As Store::recreate_deleted_customer: a new key, the same fields, a create message; the old row goes.
        const id = typeof args.id === 'string' ? args.id : '';
        const c = customers.find((x) => x.id === id);
        if (!c) return reject('not_found', `no customer with key ${id}`);
        if (!c.crm_deleted_at)
          return reject('refused', 'Only a customer deleted in the CRM can be discarded or created again this way; this one is still in the CRM.');
        for (const m of outbox.filter((x) => x.customer_id === id)) {
          setState(m, 'sent');
          status.sent -= 1;
          outbox.splice(outbox.indexOf(m), 1);
        }
        customers.splice(customers.indexOf(c), 1);
        const now = new Date().toISOString();
        const created = {
          ...c,
          id: uuid(),
          crm_id: null,
          sync_state: 'pending',
          created_at: now,
          updated_at: now,
          origin: 'local',
          pending_edit: false,
          crm_deleted_at: undefined,
        } as Row;
        delete (created as Record<string, unknown>).crm_deleted_at;
        customers.push(created);
        const fields = created as unknown as Record<string, unknown>;
        outbox.push({
          id: outbox.reduce((max, m) => Math.max(max, m.id), 0) + 1,
          customer_id: created.id,
          kind: 'customer.create',
          state: 'pending',
          attempts: 0,
          next_attempt_at: now,
          last_error: null,
          refused_field: null,
          refusal_message: null,
          created_at: now,
          payload: Object.fromEntries(FIELD_NAMES.filter((k) => fields[k] != null).map((k) => [k, fields[k] as string])),
        });
        status.pending += 1;
        status.deleted_in_crm = Math.max(0, (status.deleted_in_crm ?? 1) - 1);
        changed([id], 'removed');
        changed([created.id], 'created');
        return { ...created };
      }
      case 'admin_status':
        return adminStatus();
      case 'admin_set_passphrase': {
        const passphrase = typeof args.passphrase === 'string' ? args.passphrase : '';
        const len = [...passphrase].length;
        if (len < model.ADMIN.passphrase_min_chars || len > model.ADMIN.passphrase_max_chars) return invalidInput('passphrase', model.ADMIN.weak);
        if (admin.passphrase !== null) {
          if (typeof args.current !== 'string') return reject('forbidden', 'an admin passphrase is already set');
          verify(args.current);
        }
        admin.passphrase = passphrase;
        admin.unlocked = true;
        return adminStatus();
      }
      case 'admin_unlock': {
        const passphrase = typeof args.passphrase === 'string' ? args.passphrase : '';
        if ([...passphrase].length > model.ADMIN.passphrase_max_chars) return invalidInput('passphrase', 'That is longer than any passphrase.');
        verify(passphrase);
        admin.unlocked = true;
        return adminStatus();
      }
      case 'admin_lock':
        admin.unlocked = false;
        return adminStatus();
      case 'list_endpoints':
        requireUnlocked();
        return endpoints.map(viewOf);
      case 'test_endpoint': {
        requireUnlocked();
        const { config, entered } = parseForm(args.config, args.secrets);
        const stored = endpoints.find((e) => e.config.name === config.name);
        const has = (k: 'token' | 'client_secret' | 'refresh_token') => k in entered || (stored !== undefined && stored[k] !== undefined);
        if (!secretsOf(config.settings.auth ?? 'token').every(has))
          return {
            outcome: 'credentials_missing',
            message: 'No credentials are stored for this endpoint yet: enter the token or client secret.',
          };
        return testResults[config.base_url.trim()] ?? { outcome: 'ok', message: `Reached ${config.base_url} and authenticated.` };
      }
      case 'endpoint_crm_fields': {
        requireUnlocked();
        const { config } = parseForm(args.config, args.secrets);
        return (
          crmFields[config.base_url.trim()] ?? {
            fields: null,
            problems: [],
            unchecked: `could not reach the CRM at ${config.base_url}`,
          }
        );
      }
      case 'save_endpoint': {
        requireUnlocked();
        const { config, entered } = parseForm(args.config, args.secrets);
        const previous = typeof args.previousName === 'string' ? args.previousName : null;
        const existing = endpoints.find((e) => e.config.name === config.name);
        const renamedFrom = previous !== null && previous !== config.name ? endpoints.find((e) => e.config.name === previous) : undefined;
        if (previous !== null && previous !== config.name) {
          if (renamedFrom === undefined) return reject('not_found', `no endpoint named ${previous}`);
          if (existing !== undefined)
            return reject('validation', 'name: Another endpoint already has this name.', [
              { field: 'name', message: 'Another endpoint already has this name.' },
            ]);
        }
        const isNew = previous === null && existing === undefined;
        if (isNew) {
          const missing = secretsOf(config.settings.auth ?? 'token')
            .filter((k) => !(k in entered))
            .map((k) => ({ field: k, message: model.SECRETS.find((x) => x.name === k)?.missing ?? k }));
          if (missing.length > 0)
            return reject('validation', missing.map((m) => `${m.field}: ${m.message}`).join('; '), missing);
        }
        // The keyring is keyed by name: a rename moves the stored secrets to the new name.
        const target: MockEndpoint = existing ?? renamedFrom ?? { config };
        target.config = config;
        for (const [k, v] of Object.entries(entered)) (target as Record<string, unknown>)[k] = v;
        if (!existing && !renamedFrom) endpoints.push(target);
        sortEndpoints();
        // The core's engine starts a monitor for the first endpoint: the CRM is configured now (and answers).
        if (status.connection === 'not_configured') {
          status.connection = 'online';
          changed([]);
        }
        return { ...config, settings: { ...config.settings } };
      }
      // --- the device's settings, mirroring src-tauri/src/commands/app_settings.rs ---
      case 'get_app_settings':
        return appSettingsView();
      case 'set_app_settings': {
        requireUnlocked();
        const input = args.settings;
        if (typeof input !== 'object' || input === null) return reject('invalid_input', 'settings is missing');
        const unknown = Object.keys(input).filter((k) => k !== 'default_region');
        if (unknown.length > 0) return reject('invalid_input', `unknown field \`${unknown[0]}\``);
        const raw = (input as Record<string, unknown>).default_region;
        const code = typeof raw === 'string' ? raw.trim().toUpperCase() : '';
        if (code !== '' && !phoneRegions.has(code)) {
          const message = model.MESSAGES.default_region_invalid;
          return reject('validation', `default_region: ${message}`, [{ field: 'default_region', message }]);
        }
        appSettings.setting = code === '' ? null : code;
        return appSettingsView();
      }
      case 'remove_endpoint': {
        requireUnlocked();
        const i = endpoints.findIndex((e) => e.config.name === args.name);
        if (i < 0) return reject('not_found', `no endpoint named ${String(args.name)}`);
        endpoints.splice(i, 1);
        if (endpoints.length === 0 && status.connection !== 'not_configured') {
          status.connection = 'not_configured';
          status.last_error = null;
          changed([]);
        }
        return null;
      }
      default:
        return reject('internal', `unknown command ${cmd}`);
    }
  }

  async function invoke(cmd: string, args: Record<string, unknown> = {}): Promise<unknown> {
    calls.push({ cmd, args: JSON.parse(JSON.stringify(args)) as Record<string, unknown> });
    return handle(cmd, args);
  }

  w.__TAURI_INTERNALS__ = {
    invoke,
    transformCallback,
    unregisterCallback,
    runCallback,
    callbacks,
    convertFileSrc: (path: string) => path,
    metadata: {
      currentWindow: { label: 'main' },
      currentWebview: { windowLabel: 'main', label: 'main' },
    },
  };
  w.__TAURI_EVENT_PLUGIN_INTERNALS__ = {
    unregisterListener: (_event: string, id: number) => unregisterCallback(id),
  };

  const control: MockControl = {
    calls,
    customers,
    status,
    outbox,
    conflicts,
    recordConflict: (conflict) => {
      const at = conflicts.findIndex((x) => x.customer_id === conflict.customer_id && x.field === conflict.field);
      if (at >= 0) conflicts.splice(at, 1);
      conflicts.push({ ...conflict });
      status.conflicts = conflicts.length;
      changed([conflict.customer_id], 'synced');
    },
    answered,
    emit,
    listenerCount: (event) => (listeners.get(event) ?? []).length,
    setFailure: (cmd, error) => {
      failures[cmd] = error;
    },
    clearFailure: (cmd) => {
      delete failures[cmd];
    },
    setSearchDelay: (query, ms) => {
      delays[query] = ms;
    },
    setConnection: (connection, lastError = null, interception = null) => {
      status.connection = connection;
      status.last_error = lastError;
      status.interception = interception;
      changed([]);
    },
    moveMessages,
    deliverRound,
    admin,
    endpoints,
    expireAdminSession: () => {
      admin.unlocked = false;
    },
    setEndpointStatus: (name, st) => {
      const e = endpoints.find((x) => x.config.name === name);
      if (e) e.status = st;
    },
    appSettings,
  };
  w.__mock = control;

  // Anything the CSP blocks is recorded, so tests can assert there was none.
  const violations: string[] = [];
  (w as Win & { __cspViolations?: string[] }).__cspViolations = violations;
  document.addEventListener('securitypolicyviolation', (e) => {
    violations.push(`${e.violatedDirective}: ${e.blockedURI || e.sample}`);
  });
}
