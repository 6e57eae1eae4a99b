// The Settings screen's words and the endpoint form's values. The core
// (`outpost-core/src/endpoint/config.rs`) validates every saved or tested
// endpoint and its field errors are what the form shows; the only checks here
// are for input that cannot even be sent (a number that is not a whole number).
// Each kind's defaults, sign-in methods, secrets and the settings' ranges come
// from the generated model (`endpoint/kinds.rs` via `bindings/model.ts`).

import type {
  AuthMethod,
  ConnectionState,
  Connectivity,
  EndpointConfig,
  EndpointKind,
  EndpointSettings,
  EndpointStatus,
  EndpointView,
  SecretsInput,
  TestOutcome,
} from './ipc';
import { interceptionWords, type Tone } from './sync';
import type { AuthSpec } from '../bindings/AuthSpec';
import type { CrmObject } from '../bindings/CrmObject';
import type { KindSpec } from '../bindings/KindSpec';
import { ADMIN, AUTH_METHODS, ENDPOINT_DEFAULTS, ENDPOINT_KINDS, ENDPOINT_LIMITS, ENDPOINT_MESSAGES, SECRETS, ZOHO_DATA_CENTRES, fill } from './model';

export const KINDS: readonly KindSpec[] = ENDPOINT_KINDS;

/** What the settings form knows of a kind: its connector's defaults, sign-in methods and the settings that apply. */
export function kindOf(kind: EndpointKind): KindSpec {
  const k = ENDPOINT_KINDS.find((x) => x.kind === kind);
  if (k === undefined) throw new Error(`no endpoint kind ${kind} in the generated model`);
  return k;
}

export function kindLabel(kind: EndpointKind): string {
  return ENDPOINT_KINDS.find((k) => k.kind === kind)?.label ?? kind;
}

/**
 * Whether a kind takes the Salesforce connector's own settings (object,
 * token URL, daily request cap, duplicates): the core refuses them for any
 * other kind ("Only the Salesforce connector takes this setting.").
 */
export function takesSalesforceSettings(kind: EndpointKind): boolean {
  return kind === 'salesforce';
}

/** The Salesforce objects customers can become, the connector's default first. */
export const CRM_OBJECTS: ReadonlyArray<{ value: CrmObject; label: string }> = [
  { value: 'contact', label: 'Contact' },
  { value: 'lead', label: 'Lead' },
];

/** The Zoho modules customers can become, the connector's default first. */
export const ZOHO_MODULES: ReadonlyArray<{ value: CrmObject; label: string }> = [
  { value: 'contact', label: 'Contacts' },
  { value: 'lead', label: 'Leads' },
];

/** The data centre whose accounts server a token URL names, if any. */
export function dataCentreOf(tokenUrl: string): (typeof ZOHO_DATA_CENTRES)[number] | undefined {
  let host: string;
  try {
    host = new URL(tokenUrl.trim()).host.toLowerCase();
  } catch {
    return undefined;
  }
  return ZOHO_DATA_CENTRES.find((d) => d.accounts === host);
}

/**
 * Picking a data centre: its accounts server's token URL, and its API
 * domain as the URL unless an admin typed another (a URL of another data
 * centre follows the choice).
 */
export function chooseDataCentre(d: EndpointDraft, accounts: string): void {
  const dc = ZOHO_DATA_CENTRES.find((x) => x.accounts === accounts);
  if (dc === undefined) return;
  d.token_url = dc.token_url;
  const url = d.base_url.trim();
  if (url === '' || ZOHO_DATA_CENTRES.some((x) => x.api_domain === url.replace(/\/$/, ''))) d.base_url = dc.api_domain;
}

/** Microsoft Entra ID's token endpoint, with the tenant to fill in. */
export const ENTRA_TOKEN_URL = 'https://login.microsoftonline.com/TENANT/oauth2/v2.0/token';

/** The scope the Dynamics connector asks for when none is set: `{org URL}/.default`. */
export function defaultScope(baseUrl: string): string {
  const base = baseUrl.trim().replace(/\/+$/, '');
  return `${base === '' ? 'https://org.crm.dynamics.com' : base}/.default`;
}

/** Generic REST's token endpoint when none is set: `/oauth/token` under the base URL. */
export function defaultTokenUrl(baseUrl: string): string {
  const base = baseUrl.trim().replace(/\/+$/, '');
  return `${base === '' ? 'https://crm.example.com' : base}/oauth/token`;
}

/** Salesforce's production token endpoint: the connector's default for `token_url`. */
export const SALESFORCE_TOKEN_URL = 'https://login.salesforce.com/services/oauth2/token';

export const CONNECTIVITY: ReadonlyArray<{ value: Connectivity; label: string; short: string }> = [
  {
    value: 'online-offline',
    label: 'Online and offline — creations queue while the CRM is away',
    short: 'Online and offline',
  },
  {
    value: 'online-only',
    label: 'Online only — creations are refused while the CRM is unreachable',
    short: 'Online only',
  },
];

export function connectivityLabel(c: Connectivity): string {
  return CONNECTIVITY.find((x) => x.value === c)?.short ?? c;
}

/** How a kind signs in, its default first. */
export function authMethods(kind: EndpointKind): readonly AuthMethod[] {
  return ENDPOINT_KINDS.find((k) => k.kind === kind)?.auth_methods ?? [];
}

function authSpec(a: AuthMethod): AuthSpec | undefined {
  return AUTH_METHODS.find((m) => m.method === a);
}

export function authLabel(a: AuthMethod): string {
  return authSpec(a)?.label ?? a;
}

/** Whether a sign-in method needs the app's client id. */
export function needsClientId(a: AuthMethod): boolean {
  return authSpec(a)?.needs_client_id ?? false;
}

/** The secrets an auth method keeps in the keyring. */
export function secretsOf(a: AuthMethod): readonly SecretField[] {
  return (authSpec(a)?.secrets ?? []).filter(isSecretField);
}

/** The core locks after a few minutes without admin activity; so does the screen, without input. */
export const IDLE_LOCK_MS = ADMIN.idle_lock_secs * 1000;
export const IDLE_LOCK_MINUTES = Math.round(ADMIN.idle_lock_secs / 60);

/** "8 to 256": how long an admin passphrase may be, in characters. */
export const PASSPHRASE_LENGTH = `${ADMIN.passphrase_min_chars} to ${ADMIN.passphrase_max_chars}`;

export const URL_RULE = ENDPOINT_MESSAGES.url_rule;

/** A connection state of one endpoint, in the status bar's words. */
export function endpointState(status: EndpointStatus | null): { text: string; tone: Tone } {
  if (status === null) return { text: 'Not checked yet', tone: 'muted' };
  const words: Record<ConnectionState, { text: string; tone: Tone }> = {
    online: { text: 'Online', tone: 'ok' },
    offline: { text: 'Offline', tone: 'warn' },
    unauthorized: { text: 'Credentials rejected', tone: 'bad' },
    not_configured: { text: 'Not set up', tone: 'muted' },
    intercepted: { text: interceptionWords(status.interception), tone: 'warn' },
  };
  return words[status.state] ?? { text: String(status.state), tone: 'muted' };
}

/** How "Test connection" shows each outcome; the message itself is the core's. */
export const OUTCOMES: Record<TestOutcome, { title: string; tone: Tone; icon: string }> = {
  ok: { title: 'Connected', tone: 'ok', icon: '✓' },
  unreachable: { title: 'Not reachable', tone: 'warn', icon: '!' },
  credentials_rejected: { title: 'Credentials rejected', tone: 'bad', icon: '✕' },
  missing_permission: { title: 'Permission missing', tone: 'bad', icon: '✕' },
  misconfigured: { title: 'Needs a change', tone: 'warn', icon: '!' },
  credentials_missing: { title: 'No credentials', tone: 'warn', icon: '!' },
  server_error: { title: 'The CRM had an error', tone: 'warn', icon: '!' },
};

export function outcomeView(outcome: TestOutcome): { title: string; tone: Tone; icon: string } {
  return OUTCOMES[outcome] ?? { title: String(outcome), tone: 'muted', icon: '?' };
}

/** The form as typed: every input is a string; secrets are never filled in from the core. */
export type EndpointDraft = {
  /** The stored name when editing, null for a new endpoint. */
  previousName: string | null;
  name: string;
  kind: EndpointKind;
  base_url: string;
  connectivity: Connectivity;
  priority: string;
  auth: AuthMethod;
  client_id: string;
  token: string;
  client_secret: string;
  refresh_token: string;
  batch_size: string;
  rate_limit: string;
  rate_window_secs: string;
  key_property: string;
  /** The shop number generic REST keys carry (blank: plain keys). */
  key_shop: string;
  /** Salesforce: the object customers become. */
  crm_object: CrmObject;
  /** The OAuth token endpoint (blank: Salesforce's production login, or
   *  `/oauth/token` under the base URL for generic REST client credentials). */
  token_url: string;
  /** Client credentials: the scope to ask for (blank: none for generic REST,
   *  `{url}/.default` for Dynamics). */
  scope: string;
  /** Dynamics: the Web API version (blank: 9.2). */
  api_version: string;
  /** Dynamics: ask Dataverse to run its duplicate detection rules. */
  duplicate_detection: boolean;
  /** Zoho: requests in flight at once (blank: the connector's default, Standard edition's 10). */
  concurrency: string;
  /** Salesforce: this device's daily API request cap (blank: no cap). */
  daily_request_cap: string;
  /** Salesforce: save records a duplicate rule matched. */
  allow_duplicates: boolean;
  /** Working set: keep the CRM's customers on this device. */
  pull_enabled: boolean;
  pull_modified_within_days: string;
  pull_country: string;
  pull_owner: string;
  /** Field map overrides as typed, by Outpost field name (empty: the kind's default). */
  field_map: Record<string, string>;
  /** CRM fields added to the creation form. */
  form_extra: string[];
  /** What is stored (for the "set — leave empty to keep" placeholders). */
  token_set: boolean;
  client_secret_set: boolean;
  refresh_token_set: boolean;
};

/** The server's field names, in the form's order (errors focus the first). */
export const FORM_FIELDS = [
  'name',
  'kind',
  'base_url',
  'connectivity',
  'priority',
  'auth',
  'token',
  'client_id',
  'client_secret',
  'refresh_token',
  'object',
  'token_url',
  'scope',
  'daily_request_cap',
  'allow_duplicates',
  'api_version',
  'duplicate_detection',
  'concurrency',
  'batch_size',
  'rate_limit',
  'rate_window_secs',
  'key_property',
  'key_shop',
  'pull_enabled',
  'pull_modified_within_days',
  'pull_country',
  'pull_owner',
  'map',
] as const;
export type FormField = (typeof FORM_FIELDS)[number];

export function isFormField(s: string): s is FormField {
  return (FORM_FIELDS as readonly string[]).includes(s);
}

/** The input's id for a server field name. */
export const INPUT_IDS: Record<FormField, string> = {
  name: 'ep-name',
  kind: 'ep-kind',
  base_url: 'ep-url',
  connectivity: 'ep-connectivity',
  priority: 'ep-priority',
  auth: 'ep-auth',
  token: 'ep-token',
  client_id: 'ep-client-id',
  client_secret: 'ep-client-secret',
  refresh_token: 'ep-refresh-token',
  object: 'ep-crm-object',
  token_url: 'ep-token-url',
  scope: 'ep-scope',
  daily_request_cap: 'ep-daily-cap',
  allow_duplicates: 'ep-allow-duplicates',
  api_version: 'ep-api-version',
  duplicate_detection: 'ep-duplicate-detection',
  concurrency: 'ep-concurrency',
  batch_size: 'ep-batch-size',
  rate_limit: 'ep-rate-limit',
  rate_window_secs: 'ep-rate-window',
  key_property: 'ep-key-property',
  key_shop: 'ep-key-shop',
  pull_enabled: 'ep-pull-enabled',
  pull_modified_within_days: 'ep-pull-days',
  pull_country: 'ep-pull-country',
  pull_owner: 'ep-pull-owner',
  map: 'ep-field-map',
};

/** A secret's form field: a key of `SecretsInput`. */
export type SecretField = keyof SecretsInput;
const SECRET_KEYS: Record<SecretField, true> = { token: true, client_secret: true, refresh_token: true };
function isSecretField(s: string): s is SecretField {
  return s in SECRET_KEYS;
}

/** The secrets are the only fields that are cleared when the settings lock. */
export const SECRET_FIELDS: readonly SecretField[] = SECRETS.map((s) => s.name).filter(isSecretField);

/** A suggested priority for a new endpoint: after the others (the CLI's default when it is the first). */
export function nextPriority(existing: EndpointView[]): number {
  if (existing.length === 0) return ENDPOINT_DEFAULTS.priority;
  return Math.min(ENDPOINT_LIMITS.priority.max, Math.max(...existing.map((e) => e.config.priority)) + 10);
}

export function newDraft(existing: EndpointView[]): EndpointDraft {
  return {
    previousName: null,
    name: '',
    kind: 'hubspot',
    base_url: '',
    connectivity: 'online-offline',
    priority: String(nextPriority(existing)),
    auth: authMethods('hubspot')[0] ?? 'token',
    client_id: '',
    token: '',
    client_secret: '',
    refresh_token: '',
    batch_size: '',
    rate_limit: '',
    rate_window_secs: '',
    key_property: '',
    key_shop: '',
    crm_object: 'contact',
    token_url: '',
    scope: '',
    api_version: '',
    duplicate_detection: false,
    concurrency: '',
    daily_request_cap: '',
    allow_duplicates: false,
    pull_enabled: true,
    pull_modified_within_days: '',
    pull_country: '',
    pull_owner: '',
    field_map: {},
    form_extra: [],
    token_set: false,
    client_secret_set: false,
    refresh_token_set: false,
  };
}

export function draftOf(view: EndpointView): EndpointDraft {
  const c = view.config;
  const s = c.settings;
  const num = (n: number | null | undefined) => (n === undefined || n === null ? '' : String(n));
  return {
    previousName: c.name,
    name: c.name,
    kind: c.kind,
    base_url: c.base_url,
    connectivity: c.connectivity,
    priority: String(c.priority),
    auth: s.auth ?? 'token',
    client_id: s.client_id ?? '',
    token: '',
    client_secret: '',
    refresh_token: '',
    batch_size: num(s.batch_size),
    rate_limit: num(s.rate_limit),
    rate_window_secs: num(s.rate_window_secs),
    key_property: s.key_property ?? '',
    key_shop: num(s.key_shop),
    crm_object: s.crm_object ?? 'contact',
    token_url: s.token_url ?? '',
    scope: s.scope ?? '',
    api_version: s.api_version ?? '',
    duplicate_detection: s.duplicate_detection ?? false,
    concurrency: num(s.concurrency),
    daily_request_cap: num(s.daily_request_cap),
    allow_duplicates: s.allow_duplicates ?? false,
    pull_enabled: s.pull_enabled ?? true,
    pull_modified_within_days: num(s.pull_modified_within_days),
    pull_country: s.pull_country ?? '',
    pull_owner: s.pull_owner ?? '',
    field_map: { ...(s.field_map ?? {}) },
    form_extra: [...(s.form_extra ?? [])],
    token_set: view.token_set,
    client_secret_set: view.client_secret_set,
    refresh_token_set: view.refresh_token_set,
  };
}

const U32_MAX = 4_294_967_295;

type RangedField = keyof typeof ENDPOINT_LIMITS;
type NumberField = RangedField | 'daily_request_cap';

/** The core's words for a value outside a setting's range. */
export function rangeWords(f: RangedField): string {
  const r = ENDPOINT_LIMITS[f];
  return fill(r.message, { min: r.min, max: r.max });
}

/**
 * The generated model has no range for the daily request cap yet: the core
 * says its own range for any number it can read; the form speaks only for one it
 * cannot send (negative, or beyond a u32).
 */
function outOfRangeWords(f: NumberField, n: number): string {
  if (f !== 'daily_request_cap') return rangeWords(f);
  return n < 0
    ? 'Enter a positive number, or leave it empty for no cap.'
    : 'Use a smaller daily request cap, or leave it empty for no cap.';
}

/**
 * For numbers the core cannot even read (its types are an i64 and u32s), the
 * form says so itself, in the core's range words.
 */
const NUMBER_RULES: Record<NumberField, { min: number; max: number }> = {
  priority: { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER },
  batch_size: { min: 0, max: U32_MAX },
  rate_limit: { min: 0, max: U32_MAX },
  rate_window_secs: { min: 0, max: U32_MAX },
  pull_modified_within_days: { min: 0, max: U32_MAX },
  key_shop: { min: 0, max: U32_MAX },
  daily_request_cap: { min: 0, max: U32_MAX },
  concurrency: { min: 0, max: U32_MAX },
};

export type FormOutput =
  | { ok: true; config: EndpointConfig; secrets: SecretsInput | undefined }
  | { ok: false; errors: Partial<Record<FormField, string>> };

/**
 * The config and secrets the core expects. Fields that do not apply to the
 * kind or auth method are left out; blank optional fields are absent, so the
 * connector's default applies.
 */
export function toRequest(d: EndpointDraft): FormOutput {
  const errors: Partial<Record<FormField, string>> = {};
  const number = (f: NumberField): number | undefined => {
    const v = d[f].trim();
    if (v === '') return undefined;
    const rule = NUMBER_RULES[f];
    if (!/^[-+]?\d+$/.test(v)) {
      errors[f] = 'Enter a whole number.';
      return undefined;
    }
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < rule.min || n > rule.max) {
      errors[f] = outOfRangeWords(f, n);
      return undefined;
    }
    return n;
  };
  const priority = number('priority');
  const p = ENDPOINT_LIMITS.priority;
  if (d.priority.trim() === '') errors.priority = `Enter a priority from ${p.min} to ${p.max} (lower is preferred).`;
  const kind = kindOf(d.kind);
  const settings: EndpointSettings = { auth: kind.auth_methods.includes(d.auth) ? d.auth : (kind.auth_methods[0] ?? 'token') };
  const batch = number('batch_size');
  const limit = number('rate_limit');
  const window = number('rate_window_secs');
  if (batch !== undefined) settings.batch_size = batch;
  if (limit !== undefined) settings.rate_limit = limit;
  if (window !== undefined) settings.rate_window_secs = window;
  if (needsClientId(settings.auth) && d.client_id.trim() !== '') settings.client_id = d.client_id.trim();
  if (kind.key_property !== null && d.key_property.trim() !== '') settings.key_property = d.key_property.trim();
  const shop = kind.takes_shop_number ? number('key_shop') : undefined;
  if (shop !== undefined) settings.key_shop = shop;
  if (takesSalesforceSettings(d.kind)) {
    settings.crm_object = d.crm_object;
    if (d.token_url.trim() !== '') settings.token_url = d.token_url.trim();
    const cap = number('daily_request_cap');
    if (cap !== undefined) settings.daily_request_cap = cap;
    if (d.allow_duplicates) settings.allow_duplicates = true;
  }
  if ((d.kind === 'generic-rest' || d.kind === 'dynamics') && settings.auth === 'oauth-client-credentials') {
    if (d.token_url.trim() !== '') settings.token_url = d.token_url.trim();
    if (d.scope.trim() !== '') settings.scope = d.scope.trim();
  }
  if (d.kind === 'zoho') {
    settings.crm_object = d.crm_object;
    if (d.token_url.trim() !== '') settings.token_url = d.token_url.trim();
    if (d.api_version.trim() !== '') settings.api_version = d.api_version.trim();
    const concurrency = number('concurrency');
    if (concurrency !== undefined) settings.concurrency = concurrency;
  }
  if (d.kind === 'dynamics') {
    if (d.api_version.trim() !== '') settings.api_version = d.api_version.trim();
    if (d.duplicate_detection) settings.duplicate_detection = true;
  }
  if (!d.pull_enabled) settings.pull_enabled = false;
  const days = number('pull_modified_within_days');
  if (days !== undefined) settings.pull_modified_within_days = days;
  if (d.pull_country.trim() !== '') settings.pull_country = d.pull_country.trim();
  if (kind.filters_by_owner && d.pull_owner.trim() !== '') settings.pull_owner = d.pull_owner.trim();
  const overrides = Object.entries(d.field_map)
    .map(([field, crm]) => [field, crm.trim()] as const)
    .filter(([, crm]) => crm !== '');
  if (overrides.length > 0) settings.field_map = Object.fromEntries(overrides);
  if (d.form_extra.length > 0) settings.form_extra = [...d.form_extra];
  if (Object.keys(errors).length > 0) return { ok: false, errors };

  const config: EndpointConfig = {
    name: d.name.trim(),
    kind: d.kind,
    base_url: d.base_url.trim(),
    connectivity: d.connectivity,
    priority: priority ?? 0,
    settings,
  };
  const secrets: SecretsInput = {};
  for (const f of secretsOf(settings.auth)) if (d[f].trim() !== '') secrets[f] = d[f];
  return { ok: true, config, secrets: Object.keys(secrets).length > 0 ? secrets : undefined };
}
