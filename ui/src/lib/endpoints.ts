// The Settings screen's words and the endpoint form's values. The core
// (`outpost-core/src/sync/endpoint.rs`) validates every saved or tested
// endpoint and its field errors are what the form shows; the only checks here
// are for input that cannot even be sent (a number that is not a whole number).

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
import type { Tone } from './sync';

export const KINDS: ReadonlyArray<{ kind: EndpointKind; label: string }> = [
  { kind: 'generic-rest', label: 'Generic REST' },
  { kind: 'hubspot', label: 'HubSpot' },
  { kind: 'bottlecrm', label: 'BottleCRM' },
];

export function kindLabel(kind: EndpointKind): string {
  return KINDS.find((k) => k.kind === kind)?.label ?? kind;
}

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

/** The connectors' defaults (outpost-core's connectors), shown as placeholders. */
export type KindDefaults = { batchSize: number; rateLimit: number | null; rateWindow: number; keyProperty: string | null };

export const DEFAULTS: Record<EndpointKind, KindDefaults> = {
  hubspot: { batchSize: 100, rateLimit: 100, rateWindow: 10, keyProperty: 'outpost_key' },
  'generic-rest': { batchSize: 50, rateLimit: null, rateWindow: 10, keyProperty: null },
  bottlecrm: { batchSize: 20, rateLimit: null, rateWindow: 10, keyProperty: null },
};

/** How each kind signs in (the core's `EndpointKind::auth_methods`). */
export function authMethods(kind: EndpointKind): AuthMethod[] {
  switch (kind) {
    case 'hubspot':
      return ['token', 'oauth-refresh'];
    case 'generic-rest':
      return ['token', 'oauth-client-credentials'];
    default:
      return ['token'];
  }
}

const AUTH_LABELS: Record<AuthMethod, string> = {
  token: 'API token',
  'oauth-refresh': 'OAuth refresh token',
  'oauth-client-credentials': 'OAuth client credentials',
};

export function authLabel(a: AuthMethod): string {
  return AUTH_LABELS[a] ?? a;
}

/** The secrets an auth method keeps in the keyring (the core's `secrets_used`). */
export function secretsOf(a: AuthMethod): ReadonlyArray<(typeof SECRET_FIELDS)[number]> {
  switch (a) {
    case 'oauth-refresh':
      return ['client_secret', 'refresh_token'];
    case 'oauth-client-credentials':
      return ['client_secret'];
    default:
      return ['token'];
  }
}

/** The core locks after 5 min without admin activity; the screen locks after 5 min without input. */
export const IDLE_LOCK_MS = 5 * 60 * 1000;

export const URL_RULE =
  'Use https://. Plain http:// is only allowed to this computer (localhost, 127.0.0.1 or ::1), for example the bundled CRM emulator.';

/** A connection state of one endpoint, in the status bar's words. */
export function endpointState(status: EndpointStatus | null): { text: string; tone: Tone } {
  if (status === null) return { text: 'Not checked yet', tone: 'muted' };
  const words: Record<ConnectionState, { text: string; tone: Tone }> = {
    online: { text: 'Online', tone: 'ok' },
    offline: { text: 'Offline', tone: 'warn' },
    unauthorized: { text: 'Credentials rejected', tone: 'bad' },
    not_configured: { text: 'Not set up', tone: 'muted' },
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
  /** Working set: keep the CRM's customers on this device. */
  pull_enabled: boolean;
  pull_modified_within_days: string;
  pull_country: string;
  pull_owner: string;
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
  'batch_size',
  'rate_limit',
  'rate_window_secs',
  'key_property',
  'pull_enabled',
  'pull_modified_within_days',
  'pull_country',
  'pull_owner',
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
  batch_size: 'ep-batch-size',
  rate_limit: 'ep-rate-limit',
  rate_window_secs: 'ep-rate-window',
  key_property: 'ep-key-property',
  pull_enabled: 'ep-pull-enabled',
  pull_modified_within_days: 'ep-pull-days',
  pull_country: 'ep-pull-country',
  pull_owner: 'ep-pull-owner',
};

/** The secrets are the only fields that are cleared when the settings lock. */
export const SECRET_FIELDS = ['token', 'client_secret', 'refresh_token'] as const;

/** A suggested priority for a new endpoint: after the others (the CLI's default, 100, when it is the first). */
export function nextPriority(existing: EndpointView[]): number {
  if (existing.length === 0) return 100;
  return Math.min(1000, Math.max(...existing.map((e) => e.config.priority)) + 10);
}

export function newDraft(existing: EndpointView[]): EndpointDraft {
  return {
    previousName: null,
    name: '',
    kind: 'hubspot',
    base_url: '',
    connectivity: 'online-offline',
    priority: String(nextPriority(existing)),
    auth: 'token',
    client_id: '',
    token: '',
    client_secret: '',
    refresh_token: '',
    batch_size: '',
    rate_limit: '',
    rate_window_secs: '',
    key_property: '',
    pull_enabled: true,
    pull_modified_within_days: '',
    pull_country: '',
    pull_owner: '',
    token_set: false,
    client_secret_set: false,
    refresh_token_set: false,
  };
}

export function draftOf(view: EndpointView): EndpointDraft {
  const c = view.config;
  const s = c.settings;
  const num = (n: number | undefined) => (n === undefined || n === null ? '' : String(n));
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
    pull_enabled: s.pull_enabled ?? true,
    pull_modified_within_days: num(s.pull_modified_within_days),
    pull_country: s.pull_country ?? '',
    pull_owner: s.pull_owner ?? '',
    token_set: view.token_set,
    client_secret_set: view.client_secret_set,
    refresh_token_set: view.refresh_token_set,
  };
}

const U32_MAX = 4_294_967_295;

type NumberField = 'priority' | 'batch_size' | 'rate_limit' | 'rate_window_secs' | 'pull_modified_within_days';

/**
 * For numbers the core cannot even read (its types are an i64 and u32s), the
 * form says so itself, in the core's range words where the core has them.
 */
const NUMBER_RULES: Record<NumberField, { min: number; max: number; words: string }> = {
  priority: { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, words: 'Use a priority from 0 to 1000.' },
  batch_size: { min: 0, max: U32_MAX, words: 'Use a batch size from 1 to 1000.' },
  rate_limit: { min: 0, max: U32_MAX, words: 'Use a rate limit from 1 to 100000 requests.' },
  rate_window_secs: { min: 0, max: U32_MAX, words: 'Use a window from 1 to 3600 seconds.' },
  pull_modified_within_days: {
    min: 0,
    max: U32_MAX,
    words: 'Use 1 to 3650 days, or leave empty to keep every customer.',
  },
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
      errors[f] = rule.words;
      return undefined;
    }
    return n;
  };
  const priority = number('priority');
  if (d.priority.trim() === '') errors.priority = 'Enter a priority from 0 to 1000 (lower is preferred).';
  const settings: EndpointSettings = { auth: authMethods(d.kind).includes(d.auth) ? d.auth : 'token' };
  const batch = number('batch_size');
  const limit = number('rate_limit');
  const window = number('rate_window_secs');
  if (batch !== undefined) settings.batch_size = batch;
  if (limit !== undefined) settings.rate_limit = limit;
  if (window !== undefined) settings.rate_window_secs = window;
  if (settings.auth !== 'token' && d.client_id.trim() !== '') settings.client_id = d.client_id.trim();
  if (d.kind === 'hubspot' && d.key_property.trim() !== '') settings.key_property = d.key_property.trim();
  if (!d.pull_enabled) settings.pull_enabled = false;
  const days = number('pull_modified_within_days');
  if (days !== undefined) settings.pull_modified_within_days = days;
  if (d.pull_country.trim() !== '') settings.pull_country = d.pull_country.trim();
  if (d.kind === 'hubspot' && d.pull_owner.trim() !== '') settings.pull_owner = d.pull_owner.trim();
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
