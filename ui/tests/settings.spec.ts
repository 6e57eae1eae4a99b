import type { Locator, Page } from '@playwright/test';
import type { TestOutcome } from '../src/bindings/TestOutcome';
import type { TestResult } from '../src/bindings/TestResult';
import type { MapCheck } from '../src/bindings/MapCheck';
import { ADMIN_PASSPHRASE, EMULATOR, HUBSPOT, expect, test } from './fixtures';
import type { MockControl, MockEndpoint } from './mock-backend';

const LOCKED = 'The settings are locked: enter the admin passphrase.';
const WITH_ENDPOINTS = { adminPassphrase: ADMIN_PASSPHRASE, endpoints: [EMULATOR, HUBSPOT] };

const rows = (page: Page) => page.getByTestId('endpoint-row');
const row = (page: Page, name: string) => page.locator(`[data-testid="endpoint-row"][data-name="${name}"]`);
const form = (page: Page) => page.getByTestId('endpoint-form');

/** Fills the form's basics for a new endpoint. */
async function fillNew(page: Page, v: { name: string; kind?: string; url: string; token?: string }): Promise<void> {
  await page.locator('#ep-name').fill(v.name);
  if (v.kind) await page.locator('#ep-kind').selectOption(v.kind);
  await page.locator('#ep-url').fill(v.url);
  if (v.token !== undefined) await page.locator('#ep-token').fill(v.token);
}

async function save(page: Page): Promise<void> {
  await form(page).locator('button[type=submit]').click();
}

async function expectError(page: Page, field: string, text: string | RegExp): Promise<Locator> {
  const err = page.getByTestId(`error-${field}`);
  await expect(err).toHaveText(text);
  return err;
}

test.describe('settings: the admin passphrase', () => {
  test('first run: set a passphrase (twice, 8+ characters), then the empty endpoint list', async ({ openApp }) => {
    const app = await openApp();
    const { page } = app;
    await app.openSettings();
    const setForm = page.getByTestId('set-passphrase');
    await expect(setForm.getByRole('heading')).toHaveText('Set an admin passphrase');
    await expect(page.locator('#new-passphrase')).toBeFocused();
    await expect(page.getByTestId('unlock-form')).toHaveCount(0);

    await page.locator('#new-passphrase').fill('short');
    await page.locator('#confirm-passphrase').fill('shorter');
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('set-passphrase-error')).toContainText('not the same');
    expect(await app.callsOf('admin_set_passphrase')).toEqual([]);

    await page.locator('#new-passphrase').fill('short');
    await page.locator('#confirm-passphrase').fill('short');
    await page.locator('#confirm-passphrase').press('Enter');
    // The core's words.
    await expect(page.getByTestId('set-passphrase-error')).toHaveText('the admin passphrase must be 8 to 256 characters long');

    await page.locator('#new-passphrase').fill(ADMIN_PASSPHRASE);
    await page.locator('#confirm-passphrase').fill(ADMIN_PASSPHRASE);
    await page.locator('#confirm-passphrase').press('Enter');
    await expect(page.getByTestId('endpoints-empty')).toContainText('No CRM is set up yet');
    await expect(page.getByTestId('add-endpoint')).toBeFocused();
    await expect(page.getByTestId('lock-settings')).toBeVisible();
    expect((await app.callsOf('admin_set_passphrase')).at(-1)).toEqual({ passphrase: ADMIN_PASSPHRASE });
    const backend = await app.settingsBackend();
    expect(backend.admin).toMatchObject({ passphrase: ADMIN_PASSPHRASE, unlocked: true });
  });

  test('a clerk without the passphrase sees only the unlock form, never the endpoints', async ({ openApp }) => {
    const app = await openApp(WITH_ENDPOINTS);
    const { page } = app;
    await app.openSettings();
    await expect(page.getByTestId('unlock-form')).toBeVisible();
    await expect(page.locator('#admin-passphrase')).toBeFocused();
    await expect(page.locator('#admin-passphrase')).toHaveAttribute('type', 'password');
    await expect(page.getByTestId('set-passphrase')).toHaveCount(0);
    await expect(rows(page)).toHaveCount(0);
    await expect(page.getByTestId('add-endpoint')).toHaveCount(0);
    await expect(page.getByTestId('lock-settings')).toHaveCount(0);
    await expect(page.getByTestId('settings-screen')).not.toContainText('hubspot-main');
    // Not even asked for: the list would be refused anyway.
    expect(await app.commands()).not.toContain('list_endpoints');
    // The status bar still tells the clerk about the connection.
    await expect(app.statusBar.getByTestId('status-connection')).toBeVisible();
  });

  test('unlock: wrong, then too many wrong, shown in the core words; then right', async ({ openApp }) => {
    const app = await openApp(WITH_ENDPOINTS);
    const { page } = app;
    await app.openSettings();
    const input = page.locator('#admin-passphrase');
    const error = page.getByTestId('unlock-error');
    for (let i = 0; i < 3; i++) {
      await input.fill(`guess number ${i}`);
      await input.press('Enter');
      await expect(error).toHaveText('the admin passphrase is wrong');
      await expect(input).toBeFocused();
      await expect(input).toHaveValue('');
      await expect(page.getByTestId('unlock-form')).toBeVisible();
    }
    // After three wrong guesses even the right one has to wait.
    await input.fill(ADMIN_PASSPHRASE);
    await input.press('Enter');
    await expect(error).toHaveText(/^too many wrong admin passphrases: try again in \d+ s$/);
    await expect(rows(page)).toHaveCount(0);
    expect(await app.commands()).not.toContain('list_endpoints');

    // The wait is over.
    await page.evaluate(() => {
      const m = (window as unknown as { __mock: MockControl }).__mock;
      m.admin.lastFailureAt = (m.admin.lastFailureAt ?? 0) - 10_000;
    });
    await input.fill(ADMIN_PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await expect(rows(page)).toHaveCount(2);
    await expect(page.getByTestId('unlock-error')).toHaveCount(0);
  });

  test('Lock goes back to the unlock form; changing the passphrase needs the current one', async ({ openApp }) => {
    const app = await openApp(WITH_ENDPOINTS);
    const { page } = app;
    await app.unlockSettings();
    await page.getByTestId('change-passphrase').locator('summary').click();
    await page.locator('#current-passphrase').fill('not the current one');
    await page.locator('#changed-passphrase').fill('a brand new passphrase');
    await page.locator('#changed-passphrase-again').fill('a brand new passphrase');
    await page.locator('#changed-passphrase-again').press('Enter');
    await expect(page.getByTestId('change-passphrase-error')).toHaveText('the admin passphrase is wrong');
    await page.locator('#current-passphrase').fill(ADMIN_PASSPHRASE);
    await page.locator('#changed-passphrase-again').press('Enter');
    await expect(page.getByTestId('settings-notice')).toHaveText('The admin passphrase is changed.');
    expect((await app.callsOf('admin_set_passphrase')).at(-1)).toEqual({
      current: ADMIN_PASSPHRASE,
      passphrase: 'a brand new passphrase',
    });

    await page.getByTestId('lock-settings').click();
    await expect(page.getByTestId('unlock-form')).toBeVisible();
    await expect(rows(page)).toHaveCount(0);
    expect((await app.settingsBackend()).admin.unlocked).toBe(false);
    await page.locator('#admin-passphrase').fill(ADMIN_PASSPHRASE);
    await page.locator('#admin-passphrase').press('Enter');
    await expect(page.getByTestId('unlock-error')).toHaveText('the admin passphrase is wrong');
    await page.locator('#admin-passphrase').fill('a brand new passphrase');
    await page.locator('#admin-passphrase').press('Enter');
    await expect(rows(page)).toHaveCount(2);
  });
});

test.describe('settings: endpoints', () => {
  test('the list: primary first, kind, URL, connectivity, priority, token and live state', async ({ openApp }) => {
    const app = await openApp(WITH_ENDPOINTS);
    const { page } = app;
    await app.unlockSettings();
    await expect(rows(page)).toHaveCount(2);
    await expect(rows(page).getByTestId('endpoint-name')).toHaveText(['hubspot-main', 'emulator']);
    const hub = row(page, 'hubspot-main');
    await expect(hub.getByTestId('primary-tag')).toHaveText('primary');
    await expect(hub.getByTestId('endpoint-kind')).toHaveText('HubSpot');
    await expect(hub.getByTestId('endpoint-url')).toHaveText('https://api.hubapi.com');
    await expect(hub.getByTestId('endpoint-connectivity')).toHaveText('Online and offline');
    await expect(hub.getByTestId('endpoint-priority')).toHaveText('10');
    await expect(hub.getByTestId('endpoint-token')).toHaveText('set');
    await expect(hub.getByTestId('endpoint-state')).toHaveText('Online');
    const emu = row(page, 'emulator');
    await expect(emu.getByTestId('primary-tag')).toHaveCount(0);
    await expect(emu.getByTestId('endpoint-kind')).toHaveText('Generic REST');
    await expect(emu.getByTestId('endpoint-connectivity')).toHaveText('Online only');
    await expect(emu.getByTestId('endpoint-token')).toHaveText('not set');
    await expect(emu.getByTestId('endpoint-state')).toHaveText('Offline');
    await expect(emu.getByTestId('endpoint-last-error')).toContainText('connection refused');
    // The secret itself is nowhere on the page.
    await expect(page.locator('body')).not.toContainText(HUBSPOT.token ?? 'x');

    // The monitor changes state: the next status-changed refreshes the rows.
    await page.evaluate(() => {
      const m = (window as unknown as { __mock: MockControl }).__mock;
      m.setEndpointStatus('hubspot-main', {
        endpoint: 'hubspot-main',
        state: 'unauthorized',
        since: new Date().toISOString(),
        last_error: 'HTTP 401: the private app token was revoked',
      });
    });
    await app.setConnection('unauthorized', 'HTTP 401: the private app token was revoked');
    await expect(hub.getByTestId('endpoint-state')).toHaveText('Credentials rejected');
    await expect(hub.getByTestId('endpoint-last-error')).toContainText('token was revoked');
  });

  test('add an endpoint: the token is required, Test connection, then Save', async ({ openApp }) => {
    const app = await openApp({ adminPassphrase: ADMIN_PASSPHRASE });
    const { page } = app;
    await app.unlockSettings();
    await page.getByTestId('add-endpoint').click();
    await expect(form(page)).toBeVisible();
    await expect(page.locator('#ep-name')).toBeFocused();
    // Defaults per kind as placeholders; the URL rule is explained.
    await expect(page.locator('#ep-batch-size')).toHaveAttribute('placeholder', '100');
    await expect(page.locator('#ep-rate-limit')).toHaveAttribute('placeholder', '100');
    await expect(page.locator('#ep-rate-window')).toHaveAttribute('placeholder', '10');
    await expect(page.locator('#ep-key-property')).toHaveAttribute('placeholder', 'outpost_key');
    await expect(form(page)).toContainText('Plain http:// is only allowed to this computer');
    await expect(page.locator('#ep-connectivity option')).toHaveText([
      'Online and offline — creations queue while the CRM is away',
      'Online only — creations are refused while the CRM is unreachable',
    ]);
    await expect(page.locator('#ep-token')).toHaveAttribute('type', 'password');

    await fillNew(page, { name: 'emu', kind: 'generic-rest', url: 'http://localhost:8787' });
    await expect(page.locator('#ep-batch-size')).toHaveAttribute('placeholder', '50');
    await expect(page.locator('#ep-rate-limit')).toHaveAttribute('placeholder', 'no limit');
    await expect(page.locator('#ep-key-property')).toHaveCount(0);
    await page.locator('#ep-kind').selectOption('bottlecrm');
    await expect(page.locator('#ep-batch-size')).toHaveAttribute('placeholder', '20');
    await page.locator('#ep-kind').selectOption('generic-rest');

    await page.getByTestId('test-connection').click();
    await expect(page.getByTestId('test-result')).toHaveAttribute('data-outcome', 'credentials_missing');
    await expect(page.getByTestId('test-result')).toContainText('enter the token');

    await save(page);
    await expectError(page, 'token', 'Enter the API token.');
    await expect(page.locator('#ep-token')).toBeFocused();
    expect((await app.settingsBackend()).endpoints).toEqual([]);

    await page.locator('#ep-token').fill('emu-secret-token');
    await expect(page.getByTestId('error-token')).toHaveCount(0);
    await page.getByTestId('test-connection').click();
    await expect(page.getByTestId('test-result')).toHaveAttribute('data-outcome', 'ok');
    await expect(page.getByTestId('test-result')).toContainText('Reached http://localhost:8787 and authenticated.');
    // Testing saves nothing.
    expect((await app.settingsBackend()).endpoints).toEqual([]);

    await page.locator('#ep-token').press('Enter');
    await expect(form(page)).toHaveCount(0);
    await expect(page.getByTestId('settings-notice')).toHaveText('Added emu.');
    await expect(rows(page)).toHaveCount(1);
    await expect(row(page, 'emu').getByTestId('endpoint-token')).toHaveText('set');
    await expect(row(page, 'emu').getByTestId('primary-tag')).toBeVisible();
    await expect(row(page, 'emu').getByTestId('edit-endpoint')).toBeFocused();
    const stored = (await app.settingsBackend()).endpoints;
    expect(stored).toHaveLength(1);
    expect(stored[0]?.config).toEqual({
      name: 'emu',
      kind: 'generic-rest',
      base_url: 'http://localhost:8787',
      connectivity: 'online-offline',
      priority: 100,
      settings: { auth: 'token' },
    });
    expect(stored[0]?.token).toBe('emu-secret-token');
    // The secret went to the core, never back.
    await expect(page.locator('body')).not.toContainText('emu-secret-token');
  });

  test('working set options: on by default, limited by days, region and HubSpot owner, or off', async ({ openApp }) => {
    const app = await openApp({ adminPassphrase: ADMIN_PASSPHRASE });
    const { page } = app;
    await app.unlockSettings();
    await page.getByTestId('add-endpoint').click();
    await fillNew(page, { name: 'hs', kind: 'hubspot', url: 'http://localhost:8787', token: 'tok' });
    await expect(page.locator('#ep-pull-enabled')).toBeChecked();
    await page.locator('#ep-pull-days').fill('ten');
    await save(page);
    await expectError(page, 'pull_modified_within_days', 'Enter a whole number.');
    await expect(page.locator('#ep-pull-days')).toBeFocused();
    await page.locator('#ep-pull-days').fill('30');
    await page.locator('#ep-pull-country').fill(' DE ');
    await page.locator('#ep-pull-owner').fill('77');
    await save(page);
    await expect(form(page)).toHaveCount(0);
    let stored = (await app.settingsBackend()).endpoints;
    expect(stored[0]?.config.settings).toEqual({
      auth: 'token',
      pull_modified_within_days: 30,
      pull_country: 'DE',
      pull_owner: '77',
    });

    // Off hides the limits and is saved as off.
    await row(page, 'hs').getByTestId('edit-endpoint').click();
    await expect(page.locator('#ep-pull-days')).toHaveValue('30');
    await page.locator('#ep-pull-enabled').uncheck();
    await expect(page.locator('#ep-pull-days')).toHaveCount(0);
    await save(page);
    await expect(form(page)).toHaveCount(0);
    stored = (await app.settingsBackend()).endpoints;
    expect(stored[0]?.config.settings.pull_enabled).toBe(false);
  });

  test('Test connection shows each outcome with its own look and the core message', async ({ openApp }) => {
    const keyProperty =
      'the HubSpot contact property "outpost_key" does not exist. Create it in HubSpot (Settings → Properties → Contact properties → Create property: field type "Single-line text", internal name "outpost_key", and tick "Require unique values for this property"), or set the endpoint\'s key property to an existing unique property.';
    const outcomes: Array<[TestOutcome, string]> = [
      ['ok', 'Reached https://ok.example.com and authenticated.'],
      ['unreachable', 'Could not reach the CRM (dns error). Check the URL, the network and any proxy or firewall.'],
      ['credentials_rejected', 'The CRM rejected the credentials (HTTP 401). Enter a valid token.'],
      ['missing_permission', 'The credentials lack a permission Outpost needs (HTTP 403: crm.objects.contacts.write).'],
      ['misconfigured', keyProperty],
      ['server_error', 'The CRM answered with an error (HTTP 502); try again later.'],
    ];
    const testResults: Record<string, TestResult> = {};
    for (const [outcome, message] of outcomes) testResults[`https://${outcome.replace(/_/g, '-')}.example.com`] = { outcome, message };
    const app = await openApp({ adminPassphrase: ADMIN_PASSPHRASE, testResults });
    const { page } = app;
    await app.unlockSettings();
    await page.getByTestId('add-endpoint').click();
    await fillNew(page, { name: 'probe', url: '', token: 'tok' });

    const looks = new Set<string>();
    for (const [outcome, message] of outcomes) {
      await page.locator('#ep-url').fill(`https://${outcome.replace(/_/g, '-')}.example.com`);
      await expect(page.getByTestId('test-result')).toHaveCount(0); // an edit clears the old result
      await page.getByTestId('test-connection').click();
      const result = page.getByTestId('test-result');
      await expect(result).toHaveAttribute('data-outcome', outcome);
      await expect(result.locator('.message')).toHaveText(message);
      looks.add(`${await result.getAttribute('class')} ${await result.locator('.icon').textContent()}`);
    }
    // ok, warnings and refusals look different.
    expect(looks.size).toBeGreaterThanOrEqual(3);
    await page.locator('#ep-token').fill('');
    await page.getByTestId('test-connection').click();
    await expect(page.getByTestId('test-result')).toHaveAttribute('data-outcome', 'credentials_missing');
    // The entered values went along, the secrets as typed.
    const last = (await app.callsOf('test_endpoint')).at(-2);
    expect(last).toMatchObject({ config: { name: 'probe', kind: 'hubspot', priority: 100 }, secrets: { token: 'tok' } });
    expect((await app.settingsBackend()).endpoints).toEqual([]);
  });

  test('field errors beside the fields leave the stored list unchanged', async ({ openApp }) => {
    const app = await openApp(WITH_ENDPOINTS);
    const { page } = app;
    await app.unlockSettings();
    const before = (await app.settingsBackend()).endpoints;
    await page.getByTestId('add-endpoint').click();

    await fillNew(page, { name: 'bad', url: 'crm.example.com', token: 'tok' });
    await save(page);
    await expectError(page, 'base_url', /^Not a URL/);
    await expect(page.locator('#ep-url')).toBeFocused();
    await expect(page.locator('#ep-url')).toHaveAttribute('aria-invalid', 'true');

    await page.locator('#ep-url').fill('http://crm.example.com');
    await expect(page.getByTestId('error-base_url')).toHaveCount(0);
    await save(page);
    await expectError(
      page,
      'base_url',
      'Plain http is only allowed to this machine (localhost); use https so customer data and credentials are encrypted.',
    );
    // Test connection reports the same field problems instead of probing.
    await page.getByTestId('test-connection').click();
    await expectError(page, 'base_url', /Plain http is only allowed/);
    await expect(page.getByTestId('test-result')).toHaveCount(0);

    // Oversize values, each against its field.
    await page.locator('#ep-url').fill('https://crm.example.com');
    await page.locator('#ep-name').fill('n'.repeat(65));
    await page.locator('#ep-priority').fill('5000');
    await page.locator('#ep-batch-size').fill('5000');
    await page.locator('#ep-rate-limit').fill('1000000');
    await page.locator('#ep-rate-window').fill('0');
    await page.locator('#ep-key-property').fill('outpost-key');
    await page.locator('#ep-token').fill('x'.repeat(5000));
    await save(page);
    await expectError(page, 'name', "Use 1 to 64 letters, digits, '-', '_' or '.'.");
    await expectError(page, 'priority', 'Use a priority from 0 to 1000.');
    await expectError(page, 'batch_size', 'Use a batch size from 1 to 1000.');
    await expectError(page, 'rate_limit', 'Use a rate limit from 1 to 100000 requests.');
    await expectError(page, 'rate_window_secs', 'Use a window from 1 to 3600 seconds.');
    await expectError(page, 'key_property', "A property name uses letters, digits and '_' (at most 100).");
    await expectError(page, 'token', 'One line of at most 4096 characters.');
    await expect(page.locator('#ep-name')).toBeFocused();

    // A number the core could not even read is caught here.
    await page.locator('#ep-batch-size').fill('12abc');
    await page.locator('#ep-rate-window').fill('99999999999999');
    await save(page);
    await expectError(page, 'batch_size', 'Enter a whole number.');
    await expectError(page, 'rate_window_secs', 'Use a window from 1 to 3600 seconds.');

    // An empty token for a new endpoint.
    await page.locator('#ep-name').fill('fine');
    await page.locator('#ep-priority').fill('60');
    await page.locator('#ep-batch-size').fill('');
    await page.locator('#ep-rate-limit').fill('');
    await page.locator('#ep-rate-window').fill('');
    await page.locator('#ep-key-property').fill('');
    await page.locator('#ep-token').fill('   ');
    await save(page);
    await expectError(page, 'token', 'Enter the API token.');
    await expect(page.getByTestId('error-name')).toHaveCount(0);

    expect((await app.settingsBackend()).endpoints).toEqual(before);
    // Esc leaves the form, not the screen: the list is as it was.
    await page.locator('#ep-name').press('Escape');
    await expect(form(page)).toHaveCount(0);
    await expect(rows(page).getByTestId('endpoint-name')).toHaveText(['hubspot-main', 'emulator']);
  });

  test('edit: an empty token keeps the stored one; each kind offers its own sign-in methods', async ({ openApp }) => {
    const app = await openApp(WITH_ENDPOINTS);
    const { page } = app;
    await app.unlockSettings();
    await row(page, 'hubspot-main').getByTestId('edit-endpoint').click();
    await expect(form(page).getByRole('heading')).toHaveText('Edit hubspot-main');
    await expect(page.locator('#ep-name')).toHaveValue('hubspot-main');
    await expect(page.locator('#ep-url')).toHaveValue('https://api.hubapi.com');
    await expect(page.locator('#ep-priority')).toHaveValue('10');
    await expect(page.locator('#ep-key-property')).toHaveValue('outpost_key');
    await expect(page.locator('#ep-token')).toHaveValue('');
    await expect(page.locator('#ep-token')).toHaveAttribute('placeholder', 'set — leave empty to keep');

    // OAuth for HubSpot: client id, secret and refresh token instead of the token.
    await page.locator('#ep-auth').selectOption('oauth-refresh');
    await expect(page.locator('#ep-token')).toHaveCount(0);
    await expect(page.locator('#ep-client-secret')).toHaveAttribute('type', 'password');
    await expect(page.locator('#ep-refresh-token')).toHaveAttribute('placeholder', 'not set');
    await save(page);
    await expectError(page, 'client_id', "OAuth needs the app's client id.");
    await page.locator('#ep-kind').selectOption('bottlecrm');
    await expect(page.locator('#ep-auth')).toBeDisabled();
    await expect(page.locator('#ep-auth')).toHaveValue('token');
    await page.locator('#ep-kind').selectOption('generic-rest');
    await expect(page.locator('#ep-auth option')).toHaveText(['API token', 'OAuth client credentials']);
    await expect(page.locator('#ep-auth')).toHaveValue('token');
    await page.locator('#ep-kind').selectOption('hubspot');
    await expect(page.locator('#ep-token')).toBeVisible();

    await page.locator('#ep-connectivity').selectOption('online-only');
    await page.locator('#ep-url').fill('https://api.hubapi.eu');
    await save(page);
    await expect(page.getByTestId('settings-notice')).toHaveText('Saved hubspot-main.');
    const hub = row(page, 'hubspot-main');
    await expect(hub.getByTestId('endpoint-url')).toHaveText('https://api.hubapi.eu');
    await expect(hub.getByTestId('endpoint-connectivity')).toHaveText('Online only');
    await expect(hub.getByTestId('endpoint-token')).toHaveText('set');
    const call = (await app.callsOf('save_endpoint')).at(-1);
    expect(call).toEqual({
      config: {
        name: 'hubspot-main',
        kind: 'hubspot',
        base_url: 'https://api.hubapi.eu',
        connectivity: 'online-only',
        priority: 10,
        settings: { auth: 'token', key_property: 'outpost_key' },
      },
      previousName: 'hubspot-main',
    });
    const stored = (await app.settingsBackend()).endpoints.find((e) => e.config.name === 'hubspot-main');
    expect(stored?.token).toBe(HUBSPOT.token);
  });

  test('generic REST with OAuth client credentials: client id and secret, tested, saved', async ({ openApp }) => {
    const url = 'http://127.0.0.1:8787';
    const app = await openApp({
      adminPassphrase: ADMIN_PASSPHRASE,
      testResults: {
        [url]: {
          outcome: 'credentials_rejected',
          message: 'The CRM rejected the credentials (the token endpoint rejected the client id or secret (invalid_client)).',
        },
      },
    });
    const { page } = app;
    await app.unlockSettings();
    await page.getByTestId('add-endpoint').click();
    await fillNew(page, { name: 'in-house', kind: 'generic-rest', url });
    await page.locator('#ep-auth').selectOption('oauth-client-credentials');
    await expect(page.locator('#ep-token')).toHaveCount(0);
    await expect(page.locator('#ep-refresh-token')).toHaveCount(0);
    await expect(page.locator('#ep-client-secret')).toHaveAttribute('type', 'password');
    await expect(page.locator('#ep-client-id')).toHaveAccessibleDescription(/short-lived tokens from the token URL below \(by default \/oauth\/token/);

    await save(page);
    await expectError(page, 'client_id', "OAuth needs the app's client id.");
    await expect(page.locator('#ep-client-id')).toBeFocused();
    await page.locator('#ep-client-id').fill('outpost-till');
    await save(page);
    await expectError(page, 'client_secret', 'Enter the client secret.');

    await page.locator('#ep-client-secret').fill('wrong-secret');
    await page.getByTestId('test-connection').click();
    await expect(page.getByTestId('test-result')).toHaveAttribute('data-outcome', 'credentials_rejected');
    await expect(page.getByTestId('test-result')).toContainText('invalid_client');
    expect((await app.callsOf('test_endpoint')).at(-1)).toEqual({
      config: {
        name: 'in-house',
        kind: 'generic-rest',
        base_url: url,
        connectivity: 'online-offline',
        priority: 100,
        settings: { auth: 'oauth-client-credentials', client_id: 'outpost-till' },
      },
      secrets: { client_secret: 'wrong-secret' },
    });

    await page.locator('#ep-client-secret').fill('right-secret');
    await save(page);
    await expect(page.getByTestId('settings-notice')).toHaveText('Added in-house.');
    const saved = row(page, 'in-house');
    await expect(saved).toContainText('OAuth client credentials');
    await expect(saved.getByTestId('endpoint-client-secret')).toHaveText('set');
    await expect(saved.getByTestId('endpoint-token')).toHaveCount(0);
    await expect(saved.getByTestId('endpoint-refresh-token')).toHaveCount(0);
    const stored = (await app.settingsBackend()).endpoints[0];
    expect(stored?.client_secret).toBe('right-secret');
    expect(stored?.token).toBeUndefined();
    await expect(page.locator('body')).not.toContainText('right-secret');
  });

  test('client credentials at an identity provider on another host: token URL and scope are saved and kept', async ({ openApp }) => {
    const url = 'http://127.0.0.1:8787';
    const app = await openApp({ adminPassphrase: ADMIN_PASSPHRASE });
    const { page } = app;
    await app.unlockSettings();
    await page.getByTestId('add-endpoint').click();
    await fillNew(page, { name: 'in-house', kind: 'generic-rest', url });
    // A token sign-in has neither.
    await expect(page.locator('#ep-token-url')).toHaveCount(0);
    await expect(page.locator('#ep-scope')).toHaveCount(0);
    await page.locator('#ep-auth').selectOption('oauth-client-credentials');
    await expect(page.locator('#ep-token-url')).toHaveAttribute('placeholder', `${url}/oauth/token`);
    await expect(page.locator('#ep-token-url')).toHaveAccessibleDescription(/Keycloak/);
    await page.locator('#ep-client-id').fill('outpost-till');
    await page.locator('#ep-client-secret').fill('right-secret');
    const idp = 'https://login.microsoftonline.com/contoso/oauth2/v2.0/token';
    await page.locator('#ep-token-url').fill(idp);
    await page.locator('#ep-scope').fill(' https://crm.example.com/.default ');
    await save(page);
    await expect(page.getByTestId('settings-notice')).toHaveText('Added in-house.');
    const call = (await app.callsOf('save_endpoint')).at(-1) as { config: { settings: Record<string, unknown> } };
    expect(call.config.settings).toEqual({
      auth: 'oauth-client-credentials',
      client_id: 'outpost-till',
      token_url: idp,
      scope: 'https://crm.example.com/.default',
    });
    await row(page, 'in-house').getByTestId('edit-endpoint').click();
    await expect(page.locator('#ep-token-url')).toHaveValue(idp);
    await expect(page.locator('#ep-scope')).toHaveValue('https://crm.example.com/.default');
  });

  test('shop number: generic REST only, range in the core\'s words, kept when the endpoint is edited', async ({ openApp }) => {
    const app = await openApp({
      ...WITH_ENDPOINTS,
      endpoints: [{ ...EMULATOR, config: { ...EMULATOR.config, settings: { auth: 'token', batch_size: 25, key_shop: 17 } } }, HUBSPOT],
    });
    const { page } = app;
    await app.unlockSettings();
    await row(page, 'emulator').getByTestId('edit-endpoint').click();
    await expect(page.locator('#ep-key-shop')).toHaveValue('17');
    await expect(page.locator('#ep-key-shop')).toHaveAccessibleDescription(/shop number \(1 to 999999\)/);
    await page.locator('#ep-key-shop').fill('1000000');
    await save(page);
    await expectError(page, 'key_shop', 'Use a shop number from 1 to 999999.');
    await expect(page.locator('#ep-key-shop')).toBeFocused();

    await page.locator('#ep-key-shop').fill('18');
    await save(page);
    await expect(page.getByTestId('settings-notice')).toHaveText('Saved emulator.');
    const call = (await app.callsOf('save_endpoint')).at(-1) as { config: { settings: Record<string, unknown> } };
    expect(call.config.settings).toEqual({ auth: 'token', batch_size: 25, key_shop: 18 });

    // Editing something else keeps the number.
    await row(page, 'emulator').getByTestId('edit-endpoint').click();
    await page.locator('#ep-priority').fill('60');
    await save(page);
    await expect(page.getByTestId('settings-notice')).toHaveText('Saved emulator.');
    const again = (await app.callsOf('save_endpoint')).at(-1) as { config: { settings: Record<string, unknown> } };
    expect(again.config.settings.key_shop).toBe(18);

    // Only generic REST keys carry a shop number.
    await row(page, 'hubspot-main').getByTestId('edit-endpoint').click();
    await expect(page.locator('#ep-name')).toHaveValue('hubspot-main');
    await expect(page.locator('#ep-key-shop')).toHaveCount(0);
  });

  test('rename: the stored secrets follow the new name; a taken name is refused beside the field', async ({ openApp }) => {
    const app = await openApp(WITH_ENDPOINTS);
    const { page } = app;
    await app.unlockSettings();
    await row(page, 'hubspot-main').getByTestId('edit-endpoint').click();
    await expect(page.getByTestId('renamed-help')).toHaveCount(0);

    await page.locator('#ep-name').fill('emulator');
    await expect(page.getByTestId('renamed-help')).toHaveText('Renaming keeps the stored secrets and the waiting customers.');
    await expect(page.locator('#ep-token')).toHaveAttribute('placeholder', 'set — leave empty to keep');
    await save(page);
    await expectError(page, 'name', 'Another endpoint already has this name.');
    await expect(page.locator('#ep-name')).toBeFocused();
    expect((await app.settingsBackend()).endpoints.map((e) => e.config.name)).toEqual(['hubspot-main', 'emulator']);

    await page.locator('#ep-name').fill('hubspot-eu');
    await save(page);
    await expect(page.getByTestId('settings-notice')).toHaveText('Saved hubspot-eu.');
    await expect(rows(page).getByTestId('endpoint-name')).toHaveText(['hubspot-eu', 'emulator']);
    await expect(row(page, 'hubspot-eu').getByTestId('endpoint-token')).toHaveText('set');
    // No secret was sent: the core moved the stored one.
    const call = (await app.callsOf('save_endpoint')).at(-1);
    expect(call).toMatchObject({ previousName: 'hubspot-main', config: { name: 'hubspot-eu' } });
    expect(call).not.toHaveProperty('secrets');
    const stored = (await app.settingsBackend()).endpoints.find((e) => e.config.name === 'hubspot-eu');
    expect(stored?.token).toBe(HUBSPOT.token);
  });

  test('remove asks first; Esc or "Keep it" keeps the endpoint', async ({ openApp }) => {
    const app = await openApp(WITH_ENDPOINTS);
    const { page } = app;
    await app.unlockSettings();
    const hub = row(page, 'hubspot-main');
    await hub.getByTestId('remove-endpoint').click();
    await expect(hub.getByTestId('remove-confirm')).toContainText('Remove hubspot-main?');
    await expect(hub.getByTestId('confirm-remove')).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(hub.getByTestId('remove-confirm')).toHaveCount(0);
    await expect(hub.getByTestId('remove-endpoint')).toBeFocused();
    await expect(page.getByTestId('settings-screen')).toBeVisible(); // Esc cancelled, did not leave
    await hub.getByTestId('remove-endpoint').click();
    await hub.getByRole('button', { name: 'Keep it' }).click();
    expect(await app.commands()).not.toContain('remove_endpoint');

    await hub.getByTestId('remove-endpoint').click();
    await hub.getByTestId('confirm-remove').click();
    await expect(page.getByTestId('settings-notice')).toHaveText('Removed hubspot-main.');
    await expect(rows(page).getByTestId('endpoint-name')).toHaveText(['emulator']);
    await expect(row(page, 'emulator').getByTestId('primary-tag')).toBeVisible();
    expect((await app.settingsBackend()).endpoints.map((e) => e.config.name)).toEqual(['emulator']);
    expect(await app.callsOf('remove_endpoint')).toEqual([{ name: 'hubspot-main' }]);
  });

  test('locked by the core mid-edit: the unlock form, then the form again with the values kept', async ({ openApp }) => {
    const app = await openApp(WITH_ENDPOINTS);
    const { page } = app;
    await app.unlockSettings();
    await page.getByTestId('add-endpoint').click();
    await fillNew(page, { name: 'late', kind: 'generic-rest', url: 'https://late.example.com', token: 'late-token' });
    await page.locator('#ep-batch-size').fill('30');
    // Five minutes without admin activity in the core.
    await page.evaluate(() => (window as unknown as { __mock: MockControl }).__mock.expireAdminSession());
    await save(page);
    await expect(page.getByTestId('unlock-form')).toBeVisible();
    await expect(page.getByTestId('lock-notice')).toHaveText(LOCKED);
    await expect(form(page)).toHaveCount(0);
    await expect(rows(page)).toHaveCount(0);

    await page.locator('#admin-passphrase').fill(ADMIN_PASSPHRASE);
    await page.locator('#admin-passphrase').press('Enter');
    await expect(form(page)).toBeVisible();
    await expect(page.locator('#ep-name')).toHaveValue('late');
    await expect(page.locator('#ep-kind')).toHaveValue('generic-rest');
    await expect(page.locator('#ep-url')).toHaveValue('https://late.example.com');
    await expect(page.locator('#ep-batch-size')).toHaveValue('30');
    await expect(page.locator('#ep-token')).toHaveValue('late-token');
    await save(page);
    await expect(row(page, 'late')).toBeVisible();
    expect((await app.settingsBackend()).endpoints.find((e) => e.config.name === 'late')?.config.settings).toEqual({
      auth: 'token',
      batch_size: 30,
    });

    // Also when the list itself is refused (a status change while locked in the core).
    await page.evaluate(() => (window as unknown as { __mock: MockControl }).__mock.expireAdminSession());
    await app.setConnection('online');
    await expect(page.getByTestId('lock-notice')).toHaveText(LOCKED);
  });

  test('the screen locks itself after 5 minutes without input, dropping typed secrets', async ({ openApp, page }) => {
    await page.clock.install();
    const app = await openApp(WITH_ENDPOINTS);
    await app.unlockSettings();
    await page.getByTestId('add-endpoint').click();
    await fillNew(page, { name: 'idle', url: 'https://idle.example.com', token: 'idle-token' });
    await page.clock.fastForward('04:00');
    await page.locator('#ep-priority').fill('70'); // activity restarts the clock
    await page.clock.fastForward('04:00');
    await expect(form(page)).toBeVisible();
    await page.clock.fastForward('01:05');
    await expect(page.getByTestId('unlock-form')).toBeVisible();
    await expect(page.getByTestId('lock-notice')).toContainText('5 minutes without activity');
    await expect.poll(async () => (await app.settingsBackend()).admin.unlocked).toBe(false);
    await page.locator('#admin-passphrase').fill(ADMIN_PASSPHRASE);
    await page.locator('#admin-passphrase').press('Enter');
    await expect(page.locator('#ep-name')).toHaveValue('idle');
    await expect(page.locator('#ep-priority')).toHaveValue('70');
    await expect(page.locator('#ep-token')).toHaveValue('');
  });
});

test.describe('settings: keyboard', () => {
  test('Ctrl+, opens the settings locked; Esc leaves them and locks', async ({ openApp }) => {
    const app = await openApp(WITH_ENDPOINTS);
    const { page } = app;
    await expect(app.search).toBeFocused();
    await page.keyboard.press('Control+Comma');
    await expect(page.getByTestId('settings-screen')).toBeVisible();
    await expect(page.getByTestId('nav-settings')).toHaveAttribute('aria-current', 'page');
    await expect(page.locator('#admin-passphrase')).toBeFocused();
    await page.keyboard.type(ADMIN_PASSPHRASE);
    await page.keyboard.press('Enter');
    await expect(rows(page)).toHaveCount(2);
    await expect(page.getByTestId('add-endpoint')).toBeFocused();
    expect((await app.settingsBackend()).admin.unlocked).toBe(true);

    // Add → Esc closes the form; Esc again leaves the screen.
    await page.keyboard.press('Enter');
    await expect(page.locator('#ep-name')).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(form(page)).toHaveCount(0);
    await expect(page.getByTestId('add-endpoint')).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('settings-screen')).toHaveCount(0);
    await expect(app.search).toBeVisible();
    await expect.poll(async () => (await app.settingsBackend()).admin.unlocked).toBe(false);
    expect((await app.commands()).at(-1)).toBe('admin_lock');

    // Back in: locked again, nothing shown until the passphrase.
    await page.keyboard.press('Control+Comma');
    await expect(page.locator('#admin-passphrase')).toBeFocused();
    await expect(rows(page)).toHaveCount(0);
    // Leaving by another screen's shortcut locks too.
    await page.locator('#admin-passphrase').fill(ADMIN_PASSPHRASE);
    await page.locator('#admin-passphrase').press('Enter');
    await expect(rows(page)).toHaveCount(2);
    await page.keyboard.press('Control+Shift+S');
    await expect(page.getByTestId('sync-screen')).toBeVisible();
    await expect.poll(async () => (await app.settingsBackend()).admin.unlocked).toBe(false);
  });
});

test.describe('settings: the field map', () => {
  const VAT_GONE = 'HubSpot has no contact property vat_number (tax_id is mapped to it).';
  // Made when a test opens the app: a worker may load this file minutes
  // before it runs the test, and the list shows the check's age.
  const mapped = (): MockEndpoint => ({
    ...HUBSPOT,
    config: {
      ...HUBSPOT.config,
      settings: { ...HUBSPOT.config.settings, field_map: { tax_id: 'vat_number' }, form_extra: ['store_id'] },
    },
    mapProblems: [{ subject: 'tax_id', crm_field: 'vat_number', message: VAT_GONE }],
    mapCheckedAt: new Date(Date.now() - 5 * 60_000).toISOString(),
  });
  const HUBSPOT_FIELDS: MapCheck = {
    fields: {
      crm: 'HubSpot',
      noun: 'contact property',
      fixed: false,
      fields: [
        { name: 'email', label: 'Email', type: 'text', writable: true },
        { name: 'mobilephone', label: 'Mobile Phone Number', type: 'phone', writable: true },
        { name: 'vat_id', label: 'VAT ID', type: 'text', writable: true },
        { name: 'createdate', label: 'Create Date', type: 'date_time', writable: false },
      ],
    },
    problems: [{ subject: 'tax_id', crm_field: 'vat_number', message: VAT_GONE }],
    unchecked: null,
  };

  test('the list shows the effective map and what no longer fits the CRM', async ({ openApp }) => {
    const app = await openApp({ adminPassphrase: ADMIN_PASSPHRASE, endpoints: [mapped(), EMULATOR] });
    const { page } = app;
    await app.unlockSettings();
    const hub = row(page, 'hubspot-main');
    await expect(hub.getByTestId('endpoint-map-problems')).toHaveText(VAT_GONE);
    await hub.getByTestId('endpoint-field-map').locator('summary').click();
    const mapRow = (field: string) => hub.locator(`[data-testid="endpoint-map-row"][data-field="${field}"]`);
    // The core's defaults for the kind, with the admin's override marked.
    await expect(mapRow('email')).toHaveText(/Email\s*email/);
    await expect(mapRow('postal_code')).toContainText('zip');
    await expect(mapRow('tax_id')).toContainText('vat_number');
    await expect(mapRow('tax_id')).toContainText('custom');
    await expect(mapRow('email')).not.toContainText('custom');
    await expect(hub.getByTestId('endpoint-form-extra')).toHaveText('Added to the form: store_id');
    await expect(hub.getByTestId('endpoint-map-checked')).toHaveText('Checked against the CRM’s fields 5 min ago.');
    const emu = row(page, 'emulator');
    await expect(emu.getByTestId('endpoint-map-problems')).toHaveCount(0);
    await emu.getByTestId('endpoint-field-map').locator('summary').click();
    await expect(emu.locator('[data-testid="endpoint-map-row"][data-field="tax_id"]')).toContainText('tax_id');
    await expect(emu.getByTestId('endpoint-map-checked')).toHaveText('Not checked against the CRM’s fields yet.');
  });

  test('edit: overrides and form extras, the CRM fields as choices, its refusals beside the map', async ({ openApp }) => {
    const app = await openApp({
      adminPassphrase: ADMIN_PASSPHRASE,
      endpoints: [mapped()],
      crmFields: { 'https://api.hubapi.com': HUBSPOT_FIELDS },
    });
    const { page } = app;
    await app.unlockSettings();
    await row(page, 'hubspot-main').getByTestId('edit-endpoint').click();
    const map = page.getByTestId('field-map');
    await expect(map.getByTestId('map-input-tax_id')).toHaveValue('vat_number');
    await expect(map.getByTestId('map-input-email')).toHaveValue('');
    await expect(map.getByTestId('map-input-email')).toHaveAttribute('placeholder', 'email');
    await expect(map.getByTestId('map-input-notes')).toHaveAttribute('placeholder', 'not sent');
    await expect(map.getByTestId('form-extra')).toHaveText([/store_id/]);
    await expect(map.getByTestId('map-check')).toContainText('Load the CRM’s fields');

    // The CRM's writable fields become the choices; its verdict is shown beside the field.
    await map.getByTestId('load-crm-fields').click();
    await expect(map.getByTestId('map-check')).toHaveText('HubSpot does not take every mapped field: see below.');
    await expect(map.getByTestId('map-problem-tax_id')).toHaveText(VAT_GONE);
    await expect(map.getByTestId('map-input-tax_id')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.locator('#ep-crm-field-list option')).toHaveCount(3);
    await expect(page.locator('#ep-crm-field-list option[value="createdate"]')).toHaveCount(0);
    expect((await app.callsOf('endpoint_crm_fields')).at(-1)).toMatchObject({
      config: { name: 'hubspot-main', settings: { field_map: { tax_id: 'vat_number' }, form_extra: ['store_id'] } },
    });

    // Editing clears the verdict about the old values.
    await map.getByTestId('map-input-tax_id').fill('vat_id');
    await expect(map.getByTestId('map-problem-tax_id')).toHaveCount(0);
    await expect(map.getByTestId('map-check')).toContainText('Changed since the CRM’s fields were loaded');
    await map.getByTestId('map-input-phone').fill('mobilephone');
    await map.getByRole('button', { name: 'Remove store_id from the form' }).click();
    await expect(map.getByTestId('form-extra')).toHaveCount(0);
    await page.locator('#ep-extra-new').fill('loyalty_no');
    await page.locator('#ep-extra-new').press('Enter');
    await expect(map.getByTestId('form-extra')).toHaveText([/loyalty_no/]);
    await expect(form(page)).toBeVisible(); // Enter added the field, it did not save

    // The core refuses the map on save: its words beside the map, nothing stored.
    const refusal = 'HubSpot has no contact property loyalty_no (added to the form as +loyalty_no).';
    await page.evaluate((message) => {
      (window as unknown as { __mock: MockControl }).__mock.setFailure('save_endpoint', {
        code: 'validation',
        message: `map: ${message}`,
        fields: [{ field: 'map', message }],
      });
    }, refusal);
    await save(page);
    await expect(map.getByTestId('map-errors')).toHaveText(refusal);
    await expect(page.locator('#ep-field-map')).toBeFocused();
    expect((await app.settingsBackend()).endpoints[0]?.config.settings.form_extra).toEqual(['store_id']);

    await page.evaluate(() => (window as unknown as { __mock: MockControl }).__mock.clearFailure('save_endpoint'));
    await save(page);
    await expect(form(page)).toHaveCount(0);
    const stored = (await app.settingsBackend()).endpoints[0]?.config.settings;
    expect(stored?.field_map).toEqual({ tax_id: 'vat_id', phone: 'mobilephone' });
    expect(stored?.form_extra).toEqual(['loyalty_no']);
  });

  test('offline the map cannot be checked: the form says so and saving keeps it as entered', async ({ openApp }) => {
    const app = await openApp({ adminPassphrase: ADMIN_PASSPHRASE, endpoints: [EMULATOR] });
    const { page } = app;
    await app.unlockSettings();
    await row(page, 'emulator').getByTestId('edit-endpoint').click();
    const map = page.getByTestId('field-map');
    await expect(map.getByTestId('map-input-tax_id')).toHaveAttribute('placeholder', 'tax_id');
    await map.getByTestId('map-input-tax_id').fill('vat_number');
    await map.getByTestId('load-crm-fields').click();
    await expect(map.getByTestId('map-check')).toHaveText(
      'Not checked: could not reach the CRM at http://127.0.0.1:8787. Saving keeps the map as entered.',
    );
    await save(page);
    await expect(form(page)).toHaveCount(0);
    expect((await app.settingsBackend()).endpoints[0]?.config.settings.field_map).toEqual({ tax_id: 'vat_number' });
  });

  test('Test connection names the map problems beside the mapped field', async ({ openApp }) => {
    const problem = 'The CRM’s field crm_score is read-only, so notes cannot be sent to it.';
    const app = await openApp({
      adminPassphrase: ADMIN_PASSPHRASE,
      endpoints: [EMULATOR],
      testResults: {
        'http://127.0.0.1:8787': {
          outcome: 'misconfigured',
          message: `Reached http://127.0.0.1:8787 and authenticated. The field map does not fit the CRM, so customers would be refused: ${problem}`,
          map_problems: [{ subject: 'notes', crm_field: 'crm_score', message: problem }],
        },
      },
    });
    const { page } = app;
    await app.unlockSettings();
    await row(page, 'emulator').getByTestId('edit-endpoint').click();
    await page.getByTestId('map-input-notes').fill('crm_score');
    await page.locator('#ep-token').fill('tok');
    await page.getByTestId('test-connection').click();
    await expect(page.getByTestId('test-result')).toHaveAttribute('data-outcome', 'misconfigured');
    await expect(page.getByTestId('map-problem-notes')).toHaveText(problem);
  });
});
