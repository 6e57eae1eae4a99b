// An in-memory stand-in for the Rust core, injected into the page with
// `page.addInitScript(installMockBackend, options)` before the app's scripts
// run. It implements the IPC contract the app uses (commands, events and the
// IpcError rejections) the way `@tauri-apps/api/mocks` `mockIPC` wires up
// `window.__TAURI_INTERNALS__`, so the app under test runs its real
// `invoke`/`listen` code paths.
//
// IMPORTANT: this function is serialised into the page. It must not refer to
// anything outside its own body (imports are types only).

import type { ConnectionState } from '../src/bindings/ConnectionState';
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

export type MockEndpointConfig = EndpointConfig;

/** A stored endpoint: its config, the keyring's secrets under its name, its monitor's status. */
export type MockEndpoint = {
  config: MockEndpointConfig;
  token?: string;
  client_secret?: string;
  refresh_token?: string;
  status?: EndpointStatus | null;
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
  /** ISO 3166-1 alpha-2 codes the server accepts. */
  countryCodes: string[];
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
};

export type MockCall = { cmd: string; args: Record<string, unknown> };

/** What tests can reach through `window.__mock` in the page. */
export type MockControl = {
  calls: MockCall[];
  customers: Customer[];
  status: StatusSnapshot;
  outbox: MockMessage[];
  /** Queries whose search answer has been delivered, in delivery order. */
  answered: string[];
  emit(event: string, payload: unknown): void;
  listenerCount(event: string): number;
  setFailure(cmd: string, error: unknown): void;
  clearFailure(cmd: string): void;
  setSearchDelay(query: string, ms: number): void;
  /** The monitor changing state: sets `connection` and `last_error`, emits status-changed. */
  setConnection(connection: ConnectionState, lastError?: string | null): void;
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
  const delays: Record<string, number> = { ...(opts.searchDelays ?? {}) };
  const failures: Record<string, unknown> = { ...(opts.failures ?? {}) };
  const countries = new Set(opts.countryCodes);
  const calls: Array<{ cmd: string; args: Record<string, unknown> }> = [];
  const answered: string[] = [];
  const admin: MockAdmin = { passphrase: opts.adminPassphrase ?? null, unlocked: false, failures: 0, lastFailureAt: null };
  const endpoints: MockEndpoint[] = (opts.endpoints ?? []).map((e) => ({
    ...e,
    config: { ...e.config, settings: { ...e.config.settings } },
  }));
  const testResults: Record<string, TestResult> = { ...(opts.testResults ?? {}) };
  const crmCustomers: Row[] = (opts.crmCustomers ?? []).map((c) => ({ ...c }));
  const crmMode = opts.crm ?? (crmCustomers.length > 0 ? 'answered' : 'not_asked');
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

  /** Prefix match per word, as FTS5 does; phone digits match from any position (3+ digits). */
  function rank(c: Row, tokens: string[]): number | null {
    const nameWords = [...words(c.first_name), ...words(c.last_name), ...words(c.company)];
    const otherWords = [...words(c.email), ...words(c.city), fold(c.email ?? '')];
    const phone = digitsOf(c.phone);
    let score = 0;
    for (const t of tokens) {
      const digits = /^\+?[\d\s\-.()/]+$/.test(t) ? t.replace(/\D/g, '') : '';
      if (nameWords.some((w) => w.startsWith(t))) score += 0;
      else if (otherWords.some((w) => w.startsWith(t))) score += 1;
      else if (digits !== '' && (phone.startsWith(digits) || (digits.length >= 3 && phone.includes(digits))))
        score += 1;
      else return null;
    }
    return score;
  }
  const byRecency = (a: Row, b: Row) => b.created_at.localeCompare(a.created_at);

  function search(query: string, limit: number, among: Row[] = customers): Row[] {
    const customers = among;
    const q = fold(query.trim());
    if (q === '') return [...customers].sort(byRecency).slice(0, limit);
    // A phone-like query (3+ digits, phone punctuation only) is one digit string.
    const phoneLike = /^[\d\s+\-.()/]+$/.test(q) && digitsOf(q).length >= 3;
    const tokens = phoneLike ? [digitsOf(q)] : q.split(/\s+/).filter((t) => t !== '');
    const exact = customers.filter((c) => fold(c.email ?? '') === q || (digitsOf(q) !== '' && digitsOf(c.phone) === digitsOf(q) && /^[\d\s+\-.()/]+$/.test(q)));
    const scored = customers
      .filter((c) => !exact.includes(c))
      .map((c) => ({ c, s: rank(c, tokens) }))
      .filter((x): x is { c: Row; s: number } => x.s !== null)
      .sort((a, b) => a.s - b.s || byRecency(a.c, b.c))
      .map((x) => x.c);
    return [...exact, ...scored].slice(0, limit);
  }

  // --- validation, mirroring outpost-core's validation.rs ---------------------
  const LIMITS: Record<string, number> = {
    first_name: 100,
    last_name: 100,
    company: 200,
    email: 254,
    phone: 32,
    street: 200,
    city: 100,
    postal_code: 20,
    country: 200,
    tax_id: 32,
    notes: 2000,
  };
  function validate(input: Record<string, unknown>): { ok: Record<string, string | null> } | { errors: FieldError[] } {
    const errors: FieldError[] = [];
    const out: Record<string, string | null> = {};
    for (const [field, max] of Object.entries(LIMITS)) {
      const raw = input[field];
      if (raw === undefined || raw === null) {
        out[field] = null;
        continue;
      }
      const v = String(raw).trim();
      if (v === '') {
        out[field] = null;
        continue;
      }
      const len = [...v].length;
      if (len > max) {
        errors.push({ field, message: `Too long: ${len} characters, at most ${max}.` });
        out[field] = null;
        continue;
      }
      out[field] = v;
    }
    const nameError = errors.some((e) => ['first_name', 'last_name', 'company'].includes(e.field));
    if (!out.first_name && !out.last_name && !out.company && !nameError) {
      errors.push({ field: 'first_name', message: 'Enter a first or last name, or a company.' });
    }
    if (out.email) {
      const email = out.email.toLowerCase();
      const at = email.indexOf('@');
      const local = at < 0 ? '' : email.slice(0, at);
      const labels = at < 0 ? [] : email.slice(at + 1).split('.');
      const tld = labels[labels.length - 1] ?? '';
      const ok =
        at > 0 &&
        /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~.-]+$/u.test(local) &&
        !local.startsWith('.') &&
        !local.endsWith('.') &&
        !local.includes('..') &&
        labels.length >= 2 &&
        labels.every((l) => /^[\p{L}\p{N}-]+$/u.test(l) && !l.startsWith('-') && !l.endsWith('-')) &&
        /^\p{L}{2,}$/u.test(tld);
      if (ok) out.email = email;
      else errors.push({ field: 'email', message: `"${email}" is not an email address (like name@example.com).` });
    }
    if (out.phone) {
      const bad = [...out.phone].find((ch, i) => !/[0-9 \-.()/]/.test(ch) && !(ch === '+' && i === 0));
      const n = digitsOf(out.phone).length;
      if (bad !== undefined)
        errors.push({
          field: 'phone',
          message: `Use digits, spaces and - . ( ) / only, with an optional leading +; '${bad}' is not allowed.`,
        });
      else if (n < 5 || n > 15)
        errors.push({ field: 'phone', message: `A phone number has 5 to 15 digits; this one has ${n}.` });
    }
    if (out.country) {
      const code = out.country.toUpperCase();
      if (countries.has(code)) out.country = code;
      else
        errors.push({
          field: 'country',
          message: `"${out.country}" is not a two-letter ISO country code (like DE, FR or US).`,
        });
    }
    return errors.length > 0 ? { errors } : { ok: out };
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


  // --- admin and endpoints, mirroring src-tauri/src/commands/settings.rs ---------
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
    reject('forbidden', 'the admin passphrase is wrong');
  }
  function requireUnlocked(): void {
    if (!admin.unlocked) reject('forbidden', LOCKED);
  }
  const invalidInput = (field: string, message: string) =>
    reject('invalid_input', `${field}: ${message}`, [{ field, message }]);
  const SETTINGS_KEYS = [
    'auth',
    'client_id',
    'batch_size',
    'rate_limit',
    'rate_window_secs',
    'key_property',
    'pull_enabled',
    'pull_modified_within_days',
    'pull_country',
    'pull_owner',
  ];
  const isU32 = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 4294967295;

  /** endpoint::check_url */
  function urlProblem(raw: string): string | null {
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      return 'Not a URL (relative URL without a base); write it like https://crm.example.com.';
    }
    const scheme = url.protocol.replace(/:$/, '');
    const host = url.hostname.toLowerCase();
    const loopback = host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]';
    if (scheme === 'http' && !loopback)
      return 'Plain http is only allowed to this machine (localhost); use https so customer data and credentials are encrypted.';
    if (scheme !== 'https' && scheme !== 'http') return `Use an https:// URL, not ${scheme}://.`;
    if (host === '') return 'The URL has no host name.';
    if (url.username !== '' || url.password !== '')
      return 'Do not put credentials in the URL; enter them as the token instead.';
    return null;
  }

  /** settings::parse_form: serde's shape checks, then EndpointConfig::validate and the secrets' checks. */
  function parseForm(rawConfig: unknown, rawSecrets: unknown): { config: MockEndpointConfig; entered: Record<string, string> } {
    if (typeof rawConfig !== 'object' || rawConfig === null) return invalidInput('input', 'invalid type: expected struct EndpointConfig');
    const c = rawConfig as Record<string, unknown>;
    for (const k of ['name', 'kind', 'base_url', 'connectivity', 'priority', 'settings'])
      if (!(k in c)) return invalidInput('input', `missing field \`${k}\``);
    if (typeof c.name !== 'string' || typeof c.base_url !== 'string') return invalidInput('input', 'invalid type: expected a string');
    if (!['generic-rest', 'hubspot', 'bottlecrm'].includes(String(c.kind))) return invalidInput('input', `unknown variant \`${String(c.kind)}\``);
    if (!['online-offline', 'online-only'].includes(String(c.connectivity)))
      return invalidInput('input', `unknown variant \`${String(c.connectivity)}\``);
    if (typeof c.priority !== 'number' || !Number.isInteger(c.priority)) return invalidInput('input', 'invalid type: expected i64');
    const st = (c.settings ?? {}) as Record<string, unknown>;
    for (const k of Object.keys(st)) if (!SETTINGS_KEYS.includes(k)) return invalidInput(k, `unknown field \`${k}\``);
    if (st.auth !== undefined && !['token', 'oauth-refresh', 'oauth-client-credentials'].includes(String(st.auth)))
      return invalidInput('input', 'unknown variant');
    for (const k of ['batch_size', 'rate_limit', 'rate_window_secs'])
      if (st[k] !== undefined && st[k] !== null && !isU32(st[k])) return invalidInput('input', `invalid value: expected u32 for ${k}`);
    for (const k of ['client_id', 'key_property'])
      if (st[k] !== undefined && st[k] !== null && typeof st[k] !== 'string') return invalidInput(k, 'invalid type: expected a string');
    const settings: MockEndpointConfig['settings'] = { auth: (st.auth as MockEndpointConfig['settings']['auth']) ?? 'token' };
    if (typeof st.client_id === 'string') settings.client_id = st.client_id;
    if (typeof st.batch_size === 'number') settings.batch_size = st.batch_size;
    if (typeof st.rate_limit === 'number') settings.rate_limit = st.rate_limit;
    if (typeof st.rate_window_secs === 'number') settings.rate_window_secs = st.rate_window_secs;
    if (typeof st.key_property === 'string') settings.key_property = st.key_property;
    if (typeof st.pull_enabled === 'boolean') settings.pull_enabled = st.pull_enabled;
    if (typeof st.pull_modified_within_days === 'number') settings.pull_modified_within_days = st.pull_modified_within_days;
    if (typeof st.pull_country === 'string') settings.pull_country = st.pull_country;
    if (typeof st.pull_owner === 'string') settings.pull_owner = st.pull_owner;
    const config: MockEndpointConfig = {
      name: c.name,
      kind: c.kind as MockEndpointConfig['kind'],
      base_url: c.base_url,
      connectivity: c.connectivity as MockEndpointConfig['connectivity'],
      priority: c.priority,
      settings,
    };
    const errors: FieldError[] = [];
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(config.name))
      errors.push({ field: 'name', message: "Use 1 to 64 letters, digits, '-', '_' or '.'." });
    const urlErr = urlProblem(config.base_url);
    if (urlErr !== null) errors.push({ field: 'base_url', message: urlErr });
    if (config.priority < 0 || config.priority > 1000) errors.push({ field: 'priority', message: 'Use a priority from 0 to 1000.' });
    if (settings.batch_size !== undefined && (settings.batch_size < 1 || settings.batch_size > 1000))
      errors.push({ field: 'batch_size', message: 'Use a batch size from 1 to 1000.' });
    if (settings.rate_limit !== undefined && (settings.rate_limit === 0 || settings.rate_limit > 100000))
      errors.push({ field: 'rate_limit', message: 'Use a rate limit from 1 to 100000 requests.' });
    if (settings.rate_window_secs !== undefined && (settings.rate_window_secs < 1 || settings.rate_window_secs > 3600))
      errors.push({ field: 'rate_window_secs', message: 'Use a window from 1 to 3600 seconds.' });
    if (settings.key_property !== undefined && !/^[A-Za-z0-9_]{1,100}$/.test(settings.key_property))
      errors.push({ field: 'key_property', message: "A property name uses letters, digits and '_' (at most 100)." });
    const days = settings.pull_modified_within_days;
    if (days !== undefined && (days < 1 || days > 3650))
      errors.push({ field: 'pull_modified_within_days', message: 'Use 1 to 3650 days, or leave empty to keep every customer.' });
    if (settings.pull_owner !== undefined && config.kind !== 'hubspot')
      errors.push({ field: 'pull_owner', message: 'Only HubSpot can limit the working set to one owner.' });
    const methods: Record<string, string[]> = {
      'generic-rest': ['token', 'oauth-client-credentials'],
      hubspot: ['token', 'oauth-refresh'],
      bottlecrm: ['token'],
    };
    const auth = settings.auth ?? 'token';
    if (!(methods[config.kind] ?? []).includes(auth))
      errors.push({
        field: 'auth',
        message: `${config.kind} signs in with ${(methods[config.kind] ?? []).join(' or ')}, not ${auth}.`,
      });
    if (auth !== 'token' && (settings.client_id ?? '').trim() === '')
      errors.push({ field: 'client_id', message: "OAuth needs the app's client id." });

    const entered: Record<string, string> = {};
    if (rawSecrets !== undefined && rawSecrets !== null) {
      if (typeof rawSecrets !== 'object') return invalidInput('input', 'invalid type: expected struct SecretsInput');
      const sec = rawSecrets as Record<string, unknown>;
      for (const k of Object.keys(sec))
        if (!['token', 'client_secret', 'refresh_token'].includes(k)) return invalidInput(k, `unknown field \`${k}\``);
      for (const k of ['token', 'client_secret', 'refresh_token']) {
        const raw = sec[k];
        if (raw === undefined || raw === null) continue;
        const v = String(raw).trim();
        if (v === '') continue;
        // eslint-disable-next-line no-control-regex
        if ([...v].length > 4096 || /[\u0000-\u001f\u007f]/.test(v))
          errors.push({ field: k, message: 'One line of at most 4096 characters.' });
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
  });

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
        const email = typeof args.email === 'string' ? fold(args.email.trim()) : '';
        const phone = typeof args.phone === 'string' ? digitsOf(args.phone).slice(-9) : '';
        const pool = crmMode === 'answered' ? [...customers, ...crmCustomers.filter((c) => !customers.some((l) => l.id === c.id))] : customers;
        return pool
          .filter(
            (c) =>
              (email.includes('@') && fold(c.email ?? '') === email) ||
              (phone.length >= 7 && digitsOf(c.phone).slice(-9).endsWith(phone.slice(-Math.min(phone.length, digitsOf(c.phone).length)))),
          )
          .map((c) => ({ ...c }));
      }
      case 'get_form_metadata':
        return structuredClone(form);
      case 'get_working_set':
        return opts.workingSet ?? { total_local: customers.length, updated_at: null, pulling: null, last_error: null, pull_enabled: true };
      case 'pull_now':
        return null;
      case 'get_customer': {
        const found = customers.find((c) => c.id === args.id);
        if (!found) return reject('not_found', `No customer with id ${String(args.id)}.`);
        return { ...found };
      }
      case 'create_customer': {
        const input = args.input;
        if (typeof input !== 'object' || input === null) return reject('invalid_input', 'input is missing');
        const unknown = Object.keys(input).filter((k) => !(k in LIMITS) && k !== 'attributes');
        if (unknown.length > 0) return reject('invalid_input', `unknown field \`${unknown[0]}\``);
        const result = validate(input as Record<string, unknown>);
        if ('errors' in result) return reject('validation', 'Some fields need attention.', result.errors);
        // FormMetadata::check: picklist values, required CRM fields, known CRM fields.
        const attributes = ((input as Record<string, unknown>).attributes ?? {}) as Record<string, string>;
        const formErrors: FieldError[] = [];
        for (const f of form.fields) {
          const raw = f.attribute ? attributes[f.name] : (input as Record<string, unknown>)[f.name];
          const v = typeof raw === 'string' ? raw.trim() : '';
          if (v === '' && f.required) formErrors.push({ field: f.name, message: `${f.label} is required.` });
          else if (v !== '' && f.kind === 'picklist' && f.options.length > 0 && !f.options.some((o) => o.value.toLowerCase() === v.toLowerCase()))
            formErrors.push({ field: f.name, message: `Choose one of the ${f.label} options.` });
        }
        for (const k of Object.keys(attributes))
          if (!form.fields.some((f) => f.attribute && f.name === k)) formErrors.push({ field: k, message: `The CRM has no field "${k}".` });
        if (formErrors.length > 0) return reject('validation', 'Some fields need attention.', formErrors);
        const now = new Date().toISOString();
        const o = result.ok;
        const created: Row = {
          id: uuid(),
          first_name: o.first_name ?? null,
          last_name: o.last_name ?? null,
          company: o.company ?? null,
          email: o.email ?? null,
          phone: o.phone ?? null,
          street: o.street ?? null,
          city: o.city ?? null,
          postal_code: o.postal_code ?? null,
          country: o.country ?? null,
          tax_id: o.tax_id ?? null,
          notes: o.notes ?? null,
          crm_id: null,
          sync_state: 'pending',
          created_at: now,
          updated_at: now,
          origin: 'local',
          attributes: Object.fromEntries(Object.entries(attributes).filter(([, v]) => v.trim() !== '')),
        };
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
        const input = args.input;
        if (typeof input !== 'object' || input === null) return reject('invalid_input', 'input is missing');
        const unknownField = Object.keys(input).find((k) => !(k in LIMITS));
        if (unknownField !== undefined) return reject('invalid_input', `unknown field \`${unknownField}\``);
        // As update_unsent_customer: validation first, then "already in the CRM" (a delivered message).
        const result = validate(input as Record<string, unknown>);
        if ('errors' in result) return reject('validation', 'Some fields need attention.', result.errors);
        if (c.sync_state === 'synced' || outbox.some((m) => m.customer_id === id && m.state === 'sent'))
          return reject('refused', 'This customer is already in the CRM; change it there (editing synced customers comes in a later version).');
        for (const k of Object.keys(LIMITS)) {
          (c as unknown as Record<string, unknown>)[k] = result.ok[k] ?? null;
        }
        c.updated_at = new Date().toISOString();
        changed([id], 'edited');
        return { ...c };
      }
      case 'discard_customer': {
        const id = typeof args.id === 'string' ? args.id : '';
        const c = customers.find((x) => x.id === id);
        if (!c) return reject('not_found', `no customer with key ${id}`);
        const mine = outbox.filter((m) => m.customer_id === id);
        if (mine.some((m) => m.state !== 'needs-attention'))
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
      case 'admin_status':
        return adminStatus();
      case 'admin_set_passphrase': {
        const passphrase = typeof args.passphrase === 'string' ? args.passphrase : '';
        const len = [...passphrase].length;
        if (len < 8 || len > 256) return invalidInput('passphrase', 'the admin passphrase must be 8 to 256 characters long');
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
        if ([...passphrase].length > 256) return invalidInput('passphrase', 'That is longer than any passphrase.');
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
        const needed = { token: ['token'], 'oauth-refresh': ['client_secret', 'refresh_token'], 'oauth-client-credentials': ['client_secret'] }[
          config.settings.auth ?? 'token'
        ] as Array<'token' | 'client_secret' | 'refresh_token'>;
        if (!needed.every(has))
          return {
            outcome: 'credentials_missing',
            message: 'No credentials are stored for this endpoint yet: enter the token or client secret.',
          };
        return testResults[config.base_url.trim()] ?? { outcome: 'ok', message: `Reached ${config.base_url} and authenticated.` };
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
          const words = { token: 'Enter the API token.', client_secret: 'Enter the client secret.', refresh_token: 'Enter the refresh token.' };
          const needed = { token: ['token'], 'oauth-refresh': ['client_secret', 'refresh_token'], 'oauth-client-credentials': ['client_secret'] }[
            config.settings.auth ?? 'token'
          ] as Array<keyof typeof words>;
          const missing = needed.filter((k) => !(k in entered)).map((k) => ({ field: k, message: words[k] }));
          if (missing.length > 0)
            return reject('validation', missing.map((m) => `${m.field}: ${m.message}`).join('; '), missing);
        }
        // The keyring is keyed by name: a rename moves the stored secrets to the new name.
        const target: MockEndpoint = existing ?? renamedFrom ?? { config };
        target.config = config;
        for (const [k, v] of Object.entries(entered)) (target as Record<string, unknown>)[k] = v;
        if (!existing && !renamedFrom) endpoints.push(target);
        sortEndpoints();
        return { ...config, settings: { ...config.settings } };
      }
      case 'remove_endpoint': {
        requireUnlocked();
        const i = endpoints.findIndex((e) => e.config.name === args.name);
        if (i < 0) return reject('not_found', `no endpoint named ${String(args.name)}`);
        endpoints.splice(i, 1);
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
    setConnection: (connection, lastError = null) => {
      status.connection = connection;
      status.last_error = lastError;
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
  };
  w.__mock = control;

  // Anything the CSP blocks is recorded, so tests can assert there was none.
  const violations: string[] = [];
  (w as Win & { __cspViolations?: string[] }).__cspViolations = violations;
  document.addEventListener('securitypolicyviolation', (e) => {
    violations.push(`${e.violatedDirective}: ${e.blockedURI || e.sample}`);
  });
}
