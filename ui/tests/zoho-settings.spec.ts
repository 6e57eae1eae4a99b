// The endpoint form for the Zoho CRM kind: the data centre chosen by region
// (its accounts server's token URL and API domain), the module, the API
// version, the edition's concurrency, and what is sent to the core.
import type { Page } from '@playwright/test';
import { ADMIN_PASSPHRASE, expect, test } from './fixtures';

const form = (page: Page) => page.getByTestId('endpoint-form');
const row = (page: Page, name: string) => page.locator(`[data-testid="endpoint-row"][data-name="${name}"]`);

type SaveCall = { config: { kind: string; base_url: string; settings: Record<string, unknown> }; secrets?: Record<string, string> };

async function save(page: Page): Promise<void> {
  await form(page).locator('button[type=submit]').click();
}

test.describe('settings: a Zoho CRM endpoint', () => {
  test('choosing Zoho: a refresh token, the data centres by region, its own settings', async ({ openApp }) => {
    const app = await openApp({ adminPassphrase: ADMIN_PASSPHRASE });
    const { page } = app;
    await app.unlockSettings();
    await page.getByTestId('add-endpoint').click();
    await expect(page.getByTestId('zoho-settings')).toHaveCount(0);
    await page.locator('#ep-name').fill('zoho');
    await page.locator('#ep-kind').selectOption('zoho');
    await expect(page.locator('#ep-auth')).toHaveValue('oauth-refresh');
    await expect(page.locator('#ep-refresh-token')).toBeVisible();
    await expect(page.locator('#ep-token')).toHaveCount(0);
    const settings = page.getByTestId('zoho-settings');
    await expect(settings.locator('legend')).toHaveText('Zoho CRM');
    const centres = page.locator('#ep-data-centre option');
    await expect(centres).toContainText(['Choose your data centre', 'United States (zoho.com)', 'Europe (zoho.eu)', 'India (zoho.in)']);
    await expect(centres).toHaveCount(9);
    await expect(page.locator('#ep-api-version')).toHaveAttribute('placeholder', '8');
    await expect(page.locator('#ep-concurrency')).toHaveAccessibleDescription(/Enterprise 20/);
    await expect(page.locator('#ep-crm-object option')).toHaveText(['Contacts', 'Leads']);
    // Neither Salesforce's nor Dynamics' settings are offered.
    await expect(page.getByTestId('salesforce-settings')).toHaveCount(0);
    await expect(page.getByTestId('dynamics-settings')).toHaveCount(0);
  });

  test('a data centre fills the token URL and API domain; saving sends module, version and concurrency; blanks are left out', async ({ openApp }) => {
    const app = await openApp({ adminPassphrase: ADMIN_PASSPHRASE });
    const { page } = app;
    await app.unlockSettings();
    await page.getByTestId('add-endpoint').click();
    await page.locator('#ep-name').fill('zoho');
    await page.locator('#ep-kind').selectOption('zoho');
    await page.locator('#ep-data-centre').selectOption({ label: 'Europe (zoho.eu)' });
    await expect(page.locator('#ep-token-url')).toHaveValue('https://accounts.zoho.eu/oauth/v2/token');
    await expect(page.locator('#ep-url')).toHaveValue('https://www.zohoapis.eu');
    // Another region follows: the URL was the last region's API domain.
    await page.locator('#ep-data-centre').selectOption({ label: 'India (zoho.in)' });
    await expect(page.locator('#ep-token-url')).toHaveValue('https://accounts.zoho.in/oauth/v2/token');
    await expect(page.locator('#ep-url')).toHaveValue('https://www.zohoapis.in');
    await page.locator('#ep-client-id').fill('1000.ABCDEFGHIJ');
    await page.locator('#ep-client-secret').fill('zoho-client-secret');
    await page.locator('#ep-refresh-token').fill('1000.refresh.token');
    await page.locator('#ep-crm-object').selectOption({ label: 'Leads' });
    await page.locator('#ep-api-version').fill('7');
    await page.locator('#ep-concurrency').fill('20');
    await save(page);
    await expect(page.getByTestId('settings-notice')).toHaveText('Added zoho.');
    const call = (await app.callsOf('save_endpoint')).at(-1) as SaveCall | undefined;
    expect(call?.config.kind).toBe('zoho');
    expect(call?.config.base_url).toBe('https://www.zohoapis.in');
    expect(call?.config.settings).toEqual({
      auth: 'oauth-refresh',
      client_id: '1000.ABCDEFGHIJ',
      crm_object: 'lead',
      token_url: 'https://accounts.zoho.in/oauth/v2/token',
      api_version: '7',
      concurrency: 20,
    });
    expect(call?.secrets).toEqual({ client_secret: 'zoho-client-secret', refresh_token: '1000.refresh.token' });

    await row(page, 'zoho').getByTestId('edit-endpoint').click();
    await expect(page.locator('#ep-data-centre')).toHaveValue('accounts.zoho.in');
    await expect(page.locator('#ep-concurrency')).toHaveValue('20');
    await page.locator('#ep-api-version').fill('');
    await page.locator('#ep-concurrency').fill('');
    await page.locator('#ep-crm-object').selectOption({ label: 'Contacts' });
    await save(page);
    await expect(page.getByTestId('settings-notice')).toHaveText('Saved zoho.');
    const again = (await app.callsOf('save_endpoint')).at(-1) as SaveCall | undefined;
    expect(again?.config.settings).toEqual({
      auth: 'oauth-refresh',
      client_id: '1000.ABCDEFGHIJ',
      crm_object: 'contact',
      token_url: 'https://accounts.zoho.in/oauth/v2/token',
    });
  });

  test('a concurrency that is not a whole number is refused on its field', async ({ openApp }) => {
    const app = await openApp({ adminPassphrase: ADMIN_PASSPHRASE });
    const { page } = app;
    await app.unlockSettings();
    await page.getByTestId('add-endpoint').click();
    await page.locator('#ep-name').fill('zoho');
    await page.locator('#ep-kind').selectOption('zoho');
    await page.locator('#ep-data-centre').selectOption({ label: 'United States (zoho.com)' });
    await page.locator('#ep-concurrency').fill('ten');
    await save(page);
    await expect(page.getByTestId('error-concurrency')).toHaveText('Enter a whole number.');
    await expect(page.locator('#ep-concurrency')).toBeFocused();
  });
});
