import { test as base, expect, type Locator, type Page } from '@playwright/test';
import type { ConnectionState } from '../src/bindings/ConnectionState';
import type { Interception } from '../src/bindings/Interception';
import type { Conflict } from '../src/bindings/Conflict';
import type { Customer } from '../src/bindings/Customer';
import type { OutboxMessage } from '../src/bindings/OutboxMessage';
import type { OutboxState } from '../src/bindings/OutboxState';
import type { StatusSnapshot } from '../src/bindings/StatusSnapshot';
import { readFileSync } from 'node:fs';
import * as Model from '../src/bindings/model';
import {
  installMockBackend,
  type CoreAnswers,
  type MockControl,
  type MockEndpoint,
  type MockMessage,
  type MockOptions,
} from './mock-backend';

export { expect };

function customer(partial: Partial<Customer> & Pick<Customer, 'id' | 'created_at'>): Customer {
  return {
    first_name: null,
    last_name: null,
    company: null,
    email: null,
    phone: null,
    phone_e164: null,
    street: null,
    city: null,
    postal_code: null,
    country: null,
    tax_id: null,
    notes: null,
    crm_id: null,
    sync_state: 'pending',
    updated_at: partial.created_at,
    origin: 'local',
    attributes: {},
    pending_edit: false,
    ...partial,
  };
}

export const ANNA = customer({
  id: '01944a0b-1c00-7a00-8000-000000000001',
  first_name: 'Anna',
  last_name: 'Schmidt',
  email: 'anna.schmidt@example.de',
  phone: '+49 30 1234567',
  street: 'Torstraße 12',
  postal_code: '10119',
  city: 'Berlin',
  country: 'DE',
  tax_id: 'DE123456789',
  notes: 'Prefers email.\nRegular since 2019.',
  crm_id: 'CRM-1001',
  sync_state: 'synced',
  created_at: '2025-01-10T09:15:00Z',
  updated_at: '2025-01-12T16:40:00Z',
});
export const JUERGEN = customer({
  id: '01944a0b-1c00-7a00-8000-000000000002',
  first_name: 'Jürgen',
  last_name: 'Schneider',
  company: 'Schneider & Söhne',
  email: 'j.schneider@example.de',
  phone: '089 555 0101',
  city: 'München',
  country: 'DE',
  created_at: '2025-02-01T10:00:00Z',
});
export const BART = customer({
  id: '01944a0b-1c00-7a00-8000-000000000003',
  first_name: 'Bart',
  last_name: 'Jansen',
  company: 'Jansen Fietsen BV',
  email: 'bart@jansen.nl',
  phone: '+31 20 555 1234',
  city: 'Amsterdam',
  country: 'NL',
  sync_state: 'needs_attention',
  created_at: '2025-03-05T08:30:00Z',
});
export const CAFE = customer({
  id: '01944a0b-1c00-7a00-8000-000000000004',
  company: 'Café Olé',
  email: 'info@cafeole.fr',
  city: 'Paris',
  country: 'FR',
  crm_id: 'CRM-1004',
  sync_state: 'synced',
  created_at: '2025-03-20T14:00:00Z',
});
export const MARTA = customer({
  id: '01944a0b-1c00-7a00-8000-000000000005',
  first_name: 'Marta',
  last_name: 'Schmitz',
  email: 'marta@schmitz.koeln',
  phone: '0221 987654',
  city: 'Köln',
  country: 'DE',
  created_at: '2025-04-02T11:20:00Z',
});

export const SEED: Customer[] = [ANNA, JUERGEN, BART, CAFE, MARTA];

export const SEED_STATUS: StatusSnapshot = {
  pending: 2,
  in_flight: 0,
  needs_attention: 1,
  sent: 2,
  customers: 5,
  connection: 'not_configured',
  last_success_at: null,
  last_error: null,
};

/** The CRM's reason for refusing Bart, as the core shows it (`last_error`). */
export const BART_REASON = 'phone: Enter a valid phone number (7-25 characters, digits and separators only)';
/** The same refusal as the core keeps it: the field apart from the CRM's words. */
const BART_REFUSAL = { refused_field: 'phone', refusal_message: 'Enter a valid phone number (7-25 characters, digits and separators only)' };

function message(
  id: number,
  c: Customer,
  state: OutboxState,
  extra: Partial<Pick<OutboxMessage, 'attempts' | 'last_error' | 'next_attempt_at' | 'refused_field' | 'refusal_message'>> = {},
): MockMessage {
  const {
    id: _key,
    crm_id: _crm,
    sync_state: _sync,
    created_at: _c,
    updated_at: _u,
    origin: _origin,
    attributes: _attributes,
    crm_updated_at: _crmUpdated,
    crm_version: _crmVersion,
    crm_version_tag: _crmVersionTag,
    pending_edit: _pendingEdit,
    ...payload
  } = c;
  return {
    id,
    customer_id: c.id,
    kind: 'customer.create',
    state,
    attempts: state === 'pending' ? 0 : 1,
    next_attempt_at: c.created_at,
    last_error: null,
    refused_field: null,
    refusal_message: null,
    created_at: c.created_at,
    payload,
    ...extra,
  };
}

/** One creation message per seed customer, matching SEED_STATUS (2 pending, 1 needs attention, 2 sent). */
export const SEED_OUTBOX: MockMessage[] = [
  message(1, ANNA, 'sent'),
  message(2, JUERGEN, 'pending'),
  message(3, BART, 'needs-attention', { attempts: 1, last_error: BART_REASON, ...BART_REFUSAL }),
  message(4, CAFE, 'sent'),
  message(5, MARTA, 'pending', {
    attempts: 2,
    last_error: 'The CRM did not answer in time.',
    next_attempt_at: '2099-01-01T00:00:00Z',
  }),
];

/** The admin passphrase of the fixtures that have one set. */
export const ADMIN_PASSPHRASE = 'till-proof passphrase';

export const HUBSPOT: MockEndpoint = {
  config: {
    name: 'hubspot-main',
    kind: 'hubspot',
    base_url: 'https://api.hubapi.com',
    connectivity: 'online-offline',
    priority: 10,
    settings: { auth: 'token', key_property: 'outpost_key' },
  },
  token: 'pat-na1-0000-secret',
  status: { endpoint: 'hubspot-main', state: 'online', since: '2025-05-01T08:00:00Z', last_error: null },
};

export const EMULATOR: MockEndpoint = {
  config: {
    name: 'emulator',
    kind: 'generic-rest',
    base_url: 'http://127.0.0.1:8787',
    connectivity: 'online-only',
    priority: 50,
    settings: { auth: 'token', batch_size: 25 },
  },
  status: {
    endpoint: 'emulator',
    state: 'offline',
    since: '2025-05-01T08:00:00Z',
    last_error: 'Could not connect to 127.0.0.1:8787 (connection refused).',
  },
};

export type AppOptions = Partial<Omit<MockOptions, 'model' | 'answers' | 'defaultFieldMaps'>> & {
  /** The core's field list, when a test stands in for a core that has other fields. */
  fields?: MockOptions['model']['FIELDS'];
};

/** The generated model the mock takes its rules from. */
const MODEL: MockOptions['model'] = {
  FIELDS: Model.FIELDS,
  COUNTRIES: Model.COUNTRIES,
  MESSAGES: Model.MESSAGES,
  LIMITS: Model.LIMITS,
  PHONE_REGIONS: Model.PHONE_REGIONS,
  AUTH_METHODS: Model.AUTH_METHODS,
  SECRETS: Model.SECRETS,
  SECRET_RULE: Model.SECRET_RULE,
  ENDPOINT_LIMITS: Model.ENDPOINT_LIMITS,
  ENDPOINT_MESSAGES: Model.ENDPOINT_MESSAGES,
  ADMIN: Model.ADMIN,
};

/** The core's verdicts on the values the tests type (`cargo test` writes them; see tests/core/README.md). */
const ANSWERS = JSON.parse(readFileSync(new URL('./core/answers.json', import.meta.url), 'utf8')) as CoreAnswers;

/** The app in a page, with the mock backend behind it. */
export class App {
  readonly search: Locator;
  readonly results: Locator;
  readonly names: Locator;
  readonly detail: Locator;
  readonly statusBar: Locator;

  constructor(readonly page: Page) {
    this.search = page.locator('#search');
    this.results = page.getByTestId('result');
    this.names = this.results.locator('.name');
    this.detail = page.getByTestId('customer-detail');
    this.statusBar = page.getByTestId('status-bar');
  }

  result(id: string): Locator {
    return this.page.locator(`[data-testid="result"][data-id="${id}"]`);
  }

  selected(): Locator {
    return this.page.locator('[data-testid="result"][aria-selected="true"]');
  }

  /** A copy of the mock backend's recorded state, read from the page. */
  async backend(): Promise<Pick<MockControl, 'calls' | 'customers' | 'status' | 'answered'>> {
    return this.page.evaluate(() => {
      const m = (window as unknown as { __mock: MockControl }).__mock;
      return { calls: m.calls, customers: m.customers, status: m.status, answered: m.answered };
    });
  }

  /** The queries the app sent to `search_customers`, in order. */
  async searches(): Promise<string[]> {
    const { calls } = await this.backend();
    return calls.filter((c) => c.cmd === 'search_customers').map((c) => String(c.args.query));
  }

  async emit(event: string, payload: unknown): Promise<void> {
    await this.page.evaluate(
      ([e, p]) => (window as unknown as { __mock: MockControl }).__mock.emit(e as string, p),
      [event, payload] as const,
    );
  }

  /** The monitor changing state (emits status-changed). */
  async setConnection(connection: ConnectionState, lastError: string | null = null, interception: Interception | null = null): Promise<void> {
    await this.page.evaluate(
      ([c, e, i]) => (window as unknown as { __mock: MockControl }).__mock.setConnection(c as ConnectionState, e, i as Interception | null),
      [connection, lastError, interception] as const,
    );
  }

  /** The flusher recording an outcome for a customer's messages (emits customers-changed and status-changed). */
  async moveMessages(customerId: string, to: OutboxState, lastError: string | null = null): Promise<number> {
    return this.page.evaluate(
      ([id, s, e]) => (window as unknown as { __mock: MockControl }).__mock.moveMessages(id, s as OutboxState, e),
      [customerId, to, lastError] as const,
    );
  }

  /** One flush round delivering these customers (one customers-changed event for all, then status-changed). */
  async deliverRound(customerIds: string[]): Promise<number> {
    return this.page.evaluate(
      (ids) => (window as unknown as { __mock: MockControl }).__mock.deliverRound(ids),
      customerIds,
    );
  }

  /** A delivery finding a conflict (the CRM's value kept, ours listed; emits customers-changed and status-changed). */
  async recordConflict(conflict: Conflict): Promise<void> {
    await this.page.evaluate((c) => (window as unknown as { __mock: MockControl }).__mock.recordConflict(c), conflict);
  }

  /** The mock core's open conflicts. */
  async conflicts(): Promise<Conflict[]> {
    return this.page.evaluate(() => (window as unknown as { __mock: MockControl }).__mock.conflicts.map((c) => ({ ...c })));
  }

  /** Resolves once the app listens to `event` (so an emitted event is not lost). */
  async listening(event: string): Promise<void> {
    await expect
      .poll(() =>
        this.page.evaluate((e) => (window as unknown as { __mock: MockControl }).__mock.listenerCount(e), event),
      )
      .toBeGreaterThan(0);
  }

  /** The commands the app called, in order (event plugin calls left out). */
  async commands(): Promise<string[]> {
    const { calls } = await this.backend();
    return calls.map((c) => c.cmd).filter((c) => !c.startsWith('plugin:'));
  }

  /** The mock core's admin session and stored endpoints (with their secrets). */
  async settingsBackend(): Promise<Pick<MockControl, 'admin' | 'endpoints'>> {
    return this.page.evaluate(() => {
      const m = (window as unknown as { __mock: MockControl }).__mock;
      return { admin: m.admin, endpoints: m.endpoints };
    });
  }

  /** The mock core's stored default region and the locale's. */
  async appSettingsBackend(): Promise<MockControl['appSettings']> {
    return this.page.evaluate(() => ({ ...(window as unknown as { __mock: MockControl }).__mock.appSettings }));
  }

  /** The arguments of every call to `cmd`, in order. */
  async callsOf(cmd: string): Promise<Array<Record<string, unknown>>> {
    const { calls } = await this.backend();
    return calls.filter((c) => c.cmd === cmd).map((c) => c.args);
  }

  /** Settings via the header; waits for the passphrase gate. */
  async openSettings(): Promise<void> {
    await this.page.getByTestId('nav-settings').click();
    await expect(this.page.getByTestId('settings-screen')).toBeVisible();
  }

  /** Opens the settings and unlocks them with the fixtures' passphrase. */
  async unlockSettings(passphrase: string = ADMIN_PASSPHRASE): Promise<void> {
    await this.openSettings();
    await this.page.locator('#admin-passphrase').fill(passphrase);
    await this.page.getByRole('button', { name: 'Unlock' }).click();
    await expect(this.page.getByTestId('add-endpoint')).toBeVisible();
  }

  async openCreate(): Promise<void> {
    await this.page.keyboard.press('Control+n');
    await expect(this.page.locator('#first_name')).toBeFocused();
  }
}

type Fixtures = { openApp: (options?: AppOptions) => Promise<App> };

export const test = base.extend<Fixtures>({
  openApp: async ({ page }, use) => {
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    let opened = false;
    await use(async (options: AppOptions = {}) => {
      const opts: MockOptions = {
        customers: options.customers ?? SEED,
        status: options.status ?? SEED_STATUS,
        outbox: options.outbox ?? (options.customers ? [] : SEED_OUTBOX),
        conflicts: options.conflicts ?? [],
        model: options.fields ? { ...MODEL, FIELDS: options.fields } : MODEL,
        answers: ANSWERS,
        searchDelays: options.searchDelays ?? {},
        failures: options.failures ?? {},
        adminPassphrase: options.adminPassphrase ?? null,
        endpoints: options.endpoints ?? [],
        testResults: options.testResults ?? {},
        crmCustomers: options.crmCustomers ?? [],
        crm: options.crm,
        lookupDelay: options.lookupDelay ?? 0,
        formMetadata: options.formMetadata,
        workingSet: options.workingSet,
        localeRegion: options.localeRegion ?? null,
        defaultRegion: options.defaultRegion ?? null,
        defaultFieldMaps: Model.DEFAULT_FIELD_MAPS,
        crmFields: options.crmFields ?? {},
      };
      await page.addInitScript(installMockBackend, opts);
      await page.goto('/');
      opened = true;
      const app = new App(page);
      await expect(app.statusBar).toBeVisible();
      return app;
    });
    // Whatever a test did, the app must not have thrown, logged errors, or
    // tried anything the Content Security Policy blocks.
    if (opened) {
      const csp = await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
      expect(csp, 'CSP violations').toEqual([]);
    }
    expect(problems, 'errors in the page').toEqual([]);
  },
});
