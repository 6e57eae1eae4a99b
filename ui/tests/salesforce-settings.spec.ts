// The endpoint form for the Salesforce kind: its sign-in methods, its own
// settings (object, token URL, daily request cap, duplicates), what is sent
// to the core and the core's field errors beside them.
import type { Page } from '@playwright/test';
import { ADMIN_PASSPHRASE, HUBSPOT, expect, test } from './fixtures';
import type { MockEndpoint } from './mock-backend';

const form = (page: Page) => page.getByTestId('endpoint-form');
const row = (page: Page, name: string) => page.locator(`[data-testid="endpoint-row"][data-name="${name}"]`);
const SF_URL = 'https://outpost-test.my.salesforce.com';
const SANDBOX_TOKEN_URL = 'https://test.salesforce.com/services/oauth2/token';
/** The Salesforce settings' inputs, by the form's labels. */
const SF_LABELS = ['Object', 'Token URL', 'Daily request cap', 'Allow duplicates'];

async function save(page: Page): Promise<void> {
  await form(page).locator('button[type=submit]').click();
}

/** A new Salesforce endpoint with its name, URL and OAuth refresh credentials typed. */
async function newSalesforce(page: Page): Promise<void> {
  await page.getByTestId('add-endpoint').click();
  await page.locator('#ep-name').fill('salesforce-main');
  await page.locator('#ep-kind').selectOption('salesforce');
  await page.locator('#ep-url').fill(SF_URL);
  await page.locator('#ep-client-id').fill('3MVG9-outpost-consumer-key');
  await page.locator('#ep-client-secret').fill('sf-consumer-secret');
  await page.locator('#ep-refresh-token').fill('5Aep861-refresh');
}

type SaveCall = { config: { kind: string; settings: Record<string, unknown> }; secrets?: Record<string, string> };

test.describe('settings: a Salesforce endpoint', () => {
  test('choosing Salesforce: its sign-in methods, OAuth refresh preselected, and its own settings', async ({ openApp }) => {
    const app = await openApp({ adminPassphrase: ADMIN_PASSPHRASE });
    const { page } = app;
    await app.unlockSettings();
    await page.getByTestId('add-endpoint').click();
    // A new endpoint starts as HubSpot with an API token: none of Salesforce's settings.
    await expect(page.locator('#ep-auth')).toHaveValue('token');
    await expect(page.getByTestId('salesforce-settings')).toHaveCount(0);

    await page.locator('#ep-kind').selectOption('salesforce');
    // The token is not one of Salesforce's methods: its default, OAuth refresh.
    await expect(page.locator('#ep-auth')).toHaveValue('oauth-refresh');
    await expect(page.locator('#ep-auth')).toBeEnabled();
    await expect(page.locator('#ep-auth option')).toHaveText(['OAuth refresh token', 'OAuth client credentials']);
    await expect(page.locator('#ep-token')).toHaveCount(0);
    await expect(page.getByLabel('Client id', { exact: true })).toBeVisible();
    await expect(page.getByLabel('Client secret', { exact: true })).toHaveAttribute('type', 'password');
    await expect(page.getByLabel('Refresh token', { exact: true })).toHaveAttribute('type', 'password');
    await expect(page.locator('#ep-url')).toHaveAttribute('placeholder', 'https://MyDomainName.my.salesforce.com');
    await expect(page.locator('#ep-key-property')).toHaveAttribute('placeholder', 'Outpost_Key__c');

    const settings = page.getByTestId('salesforce-settings');
    await expect(settings.locator('legend')).toHaveText('Salesforce');
    const object = page.getByLabel('Object', { exact: true });
    await expect(object).toHaveValue('contact');
    await expect(object.locator('option')).toHaveText(['Contact', 'Lead']);
    await expect(object).toHaveAccessibleDescription(
      'Lead requires a company; a customer without one is sent as “[not provided]”',
    );
    const tokenUrl = page.getByLabel('Token URL', { exact: true });
    await expect(tokenUrl).toHaveValue('');
    await expect(tokenUrl).toHaveAttribute('placeholder', 'https://login.salesforce.com/services/oauth2/token');
    await expect(tokenUrl).toHaveAccessibleDescription(`${SANDBOX_TOKEN_URL} for a sandbox, or your My Domain`);
    const cap = page.getByLabel('Daily request cap', { exact: true });
    await expect(cap).toHaveValue('');
    await expect(cap).toHaveAttribute('inputmode', 'numeric');
    await expect(cap).toHaveAccessibleDescription(
      'At most this many Salesforce API requests a day from this device; leave empty for no cap',
    );
    const duplicates = page.getByLabel('Allow duplicates', { exact: true });
    await expect(duplicates).not.toBeChecked();
    await expect(duplicates).toHaveAccessibleDescription(
      'Save customers an org duplicate rule matched (sends Sforce-Duplicate-Rule-Header: allowSave=true)',
    );

    // Client credentials: the tokens come from the token URL, not /oauth/token.
    await page.locator('#ep-auth').selectOption('oauth-client-credentials');
    await expect(page.locator('#ep-refresh-token')).toHaveCount(0);
    await expect(page.locator('#ep-client-id')).toHaveAccessibleDescription(/short-lived tokens from the token URL below/);
  });

  test('saving sends the object, token URL, a numeric daily cap and allow duplicates; editing shows them', async ({ openApp }) => {
    const app = await openApp({ adminPassphrase: ADMIN_PASSPHRASE });
    const { page } = app;
    await app.unlockSettings();
    await newSalesforce(page);
    await page.getByLabel('Object', { exact: true }).selectOption('lead');
    await page.getByLabel('Token URL', { exact: true }).fill(SANDBOX_TOKEN_URL);
    await page.getByLabel('Daily request cap', { exact: true }).fill('5000');
    await page.getByLabel('Allow duplicates', { exact: true }).check();
    await save(page);
    await expect(page.getByTestId('settings-notice')).toHaveText('Added salesforce-main.');

    const calls = await app.callsOf('save_endpoint');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual({
      config: {
        name: 'salesforce-main',
        kind: 'salesforce',
        base_url: SF_URL,
        connectivity: 'online-offline',
        priority: 100,
        settings: {
          auth: 'oauth-refresh',
          client_id: '3MVG9-outpost-consumer-key',
          crm_object: 'lead',
          token_url: SANDBOX_TOKEN_URL,
          daily_request_cap: 5000,
          allow_duplicates: true,
        },
      },
      secrets: { client_secret: 'sf-consumer-secret', refresh_token: '5Aep861-refresh' },
    });
    const stored = (await app.settingsBackend()).endpoints.find((e) => e.config.name === 'salesforce-main');
    expect(stored?.refresh_token).toBe('5Aep861-refresh');

    // The stored values come back into the form.
    await row(page, 'salesforce-main').getByTestId('edit-endpoint').click();
    await expect(page.getByLabel('Object', { exact: true })).toHaveValue('lead');
    await expect(page.getByLabel('Token URL', { exact: true })).toHaveValue(SANDBOX_TOKEN_URL);
    await expect(page.getByLabel('Daily request cap', { exact: true })).toHaveValue('5000');
    await expect(page.getByLabel('Allow duplicates', { exact: true })).toBeChecked();
    await expect(page.locator('#ep-refresh-token')).toHaveAttribute('placeholder', 'set — leave empty to keep');

    // Back to the defaults: a blank token URL and cap and no duplicates are left out.
    await page.getByLabel('Object', { exact: true }).selectOption('contact');
    await page.getByLabel('Token URL', { exact: true }).fill('');
    await page.getByLabel('Daily request cap', { exact: true }).fill('');
    await page.getByLabel('Allow duplicates', { exact: true }).uncheck();
    await save(page);
    await expect(page.getByTestId('settings-notice')).toHaveText('Saved salesforce-main.');
    const again = (await app.callsOf('save_endpoint')).at(-1) as SaveCall | undefined;
    expect(again?.config.settings).toEqual({ auth: 'oauth-refresh', client_id: '3MVG9-outpost-consumer-key', crm_object: 'contact' });
    expect(again?.secrets).toBeUndefined();
  });

  test('the core’s error for the token URL is shown under it; a cap that is not a number is not sent', async ({ openApp }) => {
    const app = await openApp({ adminPassphrase: ADMIN_PASSPHRASE });
    const { page } = app;
    await app.unlockSettings();
    await newSalesforce(page);

    // Not even a number: the form says so itself and sends nothing.
    const cap = page.getByLabel('Daily request cap', { exact: true });
    await cap.fill('lots');
    await save(page);
    await expect(page.getByTestId('error-daily_request_cap')).toHaveText('Enter a whole number.');
    await expect(cap).toBeFocused();
    await expect(cap).toHaveAttribute('aria-invalid', 'true');
    expect(await app.callsOf('save_endpoint')).toEqual([]);
    // A number the core could not even read (its cap is unsigned).
    await cap.fill('-1');
    await save(page);
    await expect(page.getByTestId('error-daily_request_cap')).toHaveText('Enter a positive number, or leave it empty for no cap.');
    expect(await app.callsOf('save_endpoint')).toEqual([]);
    await cap.fill('2500');
    await expect(page.getByTestId('error-daily_request_cap')).toHaveCount(0);

    // Plain http to another machine: the core refuses the token URL by name.
    const tokenUrl = page.getByLabel('Token URL', { exact: true });
    await tokenUrl.fill('http://crm.example.com');
    await save(page);
    const error = page.getByTestId('error-token_url');
    await expect(error).toHaveText(
      'Plain http is only allowed to this machine (localhost); use https so customer data and credentials are encrypted.',
    );
    await expect(tokenUrl).toBeFocused();
    await expect(tokenUrl).toHaveAttribute('aria-invalid', 'true');
    await expect(tokenUrl).toHaveAccessibleDescription(/for a sandbox, or your My Domain Plain http is only allowed/);
    // Under that field, inside the Salesforce settings, not above the buttons.
    await expect(page.getByTestId('salesforce-settings').getByTestId('error-token_url')).toBeVisible();
    await expect(page.getByTestId('endpoint-form-error')).toHaveText('');
    const refused = (await app.callsOf('save_endpoint')).at(-1) as SaveCall | undefined;
    expect(refused?.config.settings.token_url).toBe('http://crm.example.com');
    expect(refused?.config.settings.daily_request_cap).toBe(2500);
    expect((await app.settingsBackend()).endpoints).toEqual([]);

    // Typing clears it; the corrected URL is saved.
    await tokenUrl.fill(SANDBOX_TOKEN_URL);
    await expect(error).toHaveCount(0);
    await save(page);
    await expect(page.getByTestId('settings-notice')).toHaveText('Added salesforce-main.');
  });

  test('switching to HubSpot removes the Salesforce settings and does not send them', async ({ openApp }) => {
    const app = await openApp({ adminPassphrase: ADMIN_PASSPHRASE });
    const { page } = app;
    await app.unlockSettings();
    await newSalesforce(page);
    await page.getByLabel('Object', { exact: true }).selectOption('lead');
    await page.getByLabel('Token URL', { exact: true }).fill(SANDBOX_TOKEN_URL);
    await page.getByLabel('Daily request cap', { exact: true }).fill('5000');
    await page.getByLabel('Allow duplicates', { exact: true }).check();

    await page.locator('#ep-kind').selectOption('hubspot');
    await expect(page.getByTestId('salesforce-settings')).toHaveCount(0);
    for (const label of SF_LABELS) await expect(page.getByLabel(label, { exact: true })).toHaveCount(0);
    // HubSpot offers OAuth refresh too: the method and its credentials stay.
    await expect(page.locator('#ep-auth')).toHaveValue('oauth-refresh');
    await expect(page.locator('#ep-key-property')).toHaveAttribute('placeholder', 'outpost_key');
    await page.locator('#ep-url').fill('https://api.hubapi.com');
    await save(page);
    // The mock core, like the core, refuses Salesforce's settings for another kind: this is saved.
    await expect(page.getByTestId('settings-notice')).toHaveText('Added salesforce-main.');
    const call = (await app.callsOf('save_endpoint')).at(-1) as SaveCall | undefined;
    expect(call?.config.kind).toBe('hubspot');
    expect(call?.config.settings).toEqual({ auth: 'oauth-refresh', client_id: '3MVG9-outpost-consumer-key' });
    for (const key of ['crm_object', 'token_url', 'daily_request_cap', 'allow_duplicates'])
      expect(call?.config.settings).not.toHaveProperty(key);
  });

  test('switching kinds: Salesforce takes OAuth refresh when the method is not its own, keeps one that is', async ({ openApp }) => {
    const SF: MockEndpoint = {
      config: {
        name: 'sf-cc',
        kind: 'salesforce',
        base_url: SF_URL,
        connectivity: 'online-offline',
        priority: 20,
        settings: { auth: 'oauth-client-credentials', client_id: 'till-app', crm_object: 'lead', daily_request_cap: 800 },
      },
      client_secret: 'stored-secret',
    };
    const app = await openApp({ adminPassphrase: ADMIN_PASSPHRASE, endpoints: [HUBSPOT, SF] });
    const { page } = app;
    await app.unlockSettings();
    await row(page, 'sf-cc').getByTestId('edit-endpoint').click();
    await expect(page.locator('#ep-auth')).toHaveValue('oauth-client-credentials');
    await expect(page.getByLabel('Object', { exact: true })).toHaveValue('lead');
    await expect(page.getByLabel('Daily request cap', { exact: true })).toHaveValue('800');

    // Generic REST offers client credentials too; BottleCRM only a token.
    await page.locator('#ep-kind').selectOption('generic-rest');
    await expect(page.locator('#ep-auth')).toHaveValue('oauth-client-credentials');
    await expect(page.getByTestId('salesforce-settings')).toHaveCount(0);
    await page.locator('#ep-kind').selectOption('bottlecrm');
    await expect(page.locator('#ep-auth')).toHaveValue('token');
    await page.locator('#ep-kind').selectOption('salesforce');
    await expect(page.locator('#ep-auth')).toHaveValue('oauth-refresh');
    // What was typed for Salesforce is still there when it comes back.
    await expect(page.getByLabel('Object', { exact: true })).toHaveValue('lead');
    await expect(page.getByLabel('Daily request cap', { exact: true })).toHaveValue('800');

    await page.locator('#ep-auth').selectOption('oauth-client-credentials');
    await save(page);
    await expect(page.getByTestId('settings-notice')).toHaveText('Saved sf-cc.');
    const call = (await app.callsOf('save_endpoint')).at(-1) as SaveCall | undefined;
    expect(call?.config.settings).toEqual({
      auth: 'oauth-client-credentials',
      client_id: 'till-app',
      crm_object: 'lead',
      daily_request_cap: 800,
    });
  });
});
