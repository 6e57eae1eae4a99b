// The endpoint form for the Dynamics 365 kind: OAuth client credentials at
// the tenant's Entra ID token URL, the scope's default, the Web API version
// and duplicate detection, and what is sent to the core.
import type { Page } from '@playwright/test';
import { ADMIN_PASSPHRASE, expect, test } from './fixtures';

const form = (page: Page) => page.getByTestId('endpoint-form');
const row = (page: Page, name: string) => page.locator(`[data-testid="endpoint-row"][data-name="${name}"]`);
const ORG_URL = 'https://contoso.crm4.dynamics.com';
const TOKEN_URL = 'https://login.microsoftonline.com/6f1d6c5e-0000-4000-8000-00000000cafe/oauth2/v2.0/token';

type SaveCall = { config: { kind: string; settings: Record<string, unknown> }; secrets?: Record<string, string> };

async function save(page: Page): Promise<void> {
  await form(page).locator('button[type=submit]').click();
}

test.describe('settings: a Dynamics 365 endpoint', () => {
  test('choosing Dynamics: client credentials only, the tenant token URL and scope explained, its own settings', async ({ openApp }) => {
    const app = await openApp({ adminPassphrase: ADMIN_PASSPHRASE });
    const { page } = app;
    await app.unlockSettings();
    await page.getByTestId('add-endpoint').click();
    await expect(page.getByTestId('dynamics-settings')).toHaveCount(0);
    await page.locator('#ep-name').fill('dynamics');
    await page.locator('#ep-kind').selectOption('dynamics');
    await page.locator('#ep-url').fill(ORG_URL);
    await expect(page.locator('#ep-auth')).toHaveValue('oauth-client-credentials');
    await expect(page.locator('#ep-token')).toHaveCount(0);
    await expect(page.locator('#ep-refresh-token')).toHaveCount(0);
    await expect(page.locator('#ep-client-id')).toHaveAccessibleDescription(/app registration/);
    const tokenUrl = page.locator('#ep-token-url');
    await expect(tokenUrl).toHaveAttribute('placeholder', 'https://login.microsoftonline.com/TENANT/oauth2/v2.0/token');
    await expect(tokenUrl).toHaveAccessibleDescription(/tenant/);
    await expect(page.locator('#ep-scope')).toHaveAttribute('placeholder', `${ORG_URL}/.default`);
    const settings = page.getByTestId('dynamics-settings');
    await expect(settings.locator('legend')).toHaveText('Dynamics 365');
    await expect(page.locator('#ep-api-version')).toHaveAttribute('placeholder', '9.2');
    await expect(page.getByLabel('Run duplicate detection', { exact: true })).not.toBeChecked();
    // The Salesforce settings are not offered.
    await expect(page.getByTestId('salesforce-settings')).toHaveCount(0);
  });

  test('saving sends the token URL, scope, version and duplicate detection; editing shows them; blanks are left out', async ({ openApp }) => {
    const app = await openApp({ adminPassphrase: ADMIN_PASSPHRASE });
    const { page } = app;
    await app.unlockSettings();
    await page.getByTestId('add-endpoint').click();
    await page.locator('#ep-name').fill('dynamics');
    await page.locator('#ep-kind').selectOption('dynamics');
    await page.locator('#ep-url').fill(ORG_URL);
    await page.locator('#ep-client-id').fill('0f8fad5b-d9cb-469f-a165-70867728950e');
    await page.locator('#ep-client-secret').fill('entra-client-secret');
    await page.locator('#ep-token-url').fill(TOKEN_URL);
    await page.locator('#ep-scope').fill(`${ORG_URL}/.default`);
    await page.locator('#ep-api-version').fill('9.1');
    await page.getByLabel('Run duplicate detection', { exact: true }).check();
    await save(page);
    await expect(page.getByTestId('settings-notice')).toHaveText('Added dynamics.');
    const call = (await app.callsOf('save_endpoint')).at(-1) as SaveCall | undefined;
    expect(call?.config.kind).toBe('dynamics');
    expect(call?.config.settings).toEqual({
      auth: 'oauth-client-credentials',
      client_id: '0f8fad5b-d9cb-469f-a165-70867728950e',
      token_url: TOKEN_URL,
      scope: `${ORG_URL}/.default`,
      api_version: '9.1',
      duplicate_detection: true,
    });
    expect(call?.secrets).toEqual({ client_secret: 'entra-client-secret' });

    await row(page, 'dynamics').getByTestId('edit-endpoint').click();
    await expect(page.locator('#ep-token-url')).toHaveValue(TOKEN_URL);
    await expect(page.locator('#ep-api-version')).toHaveValue('9.1');
    await expect(page.getByLabel('Run duplicate detection', { exact: true })).toBeChecked();
    await page.locator('#ep-scope').fill('');
    await page.locator('#ep-api-version').fill('');
    await page.getByLabel('Run duplicate detection', { exact: true }).uncheck();
    await save(page);
    await expect(page.getByTestId('settings-notice')).toHaveText('Saved dynamics.');
    const again = (await app.callsOf('save_endpoint')).at(-1) as SaveCall | undefined;
    expect(again?.config.settings).toEqual({
      auth: 'oauth-client-credentials',
      client_id: '0f8fad5b-d9cb-469f-a165-70867728950e',
      token_url: TOKEN_URL,
    });
  });
});
