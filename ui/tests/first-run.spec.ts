import type { StatusSnapshot } from '../src/bindings/StatusSnapshot';
import { ADMIN_PASSPHRASE, expect, test } from './fixtures';

/** A new database: no CRM endpoint, no customers. */
const NEW_DATABASE = {
  customers: [],
  status: {
    pending: 0,
    in_flight: 0,
    needs_attention: 0,
    sent: 0,
    customers: 0,
    connection: 'not_configured',
    last_success_at: null,
    last_error: null,
  } satisfies StatusSnapshot,
};

test.describe('first run', () => {
  test('a new database opens on the first-run view; the first customer waits on this computer', async ({ openApp }) => {
    const app = await openApp(NEW_DATABASE);
    const { page } = app;
    const firstRun = page.getByTestId('first-run');
    await expect(firstRun.getByRole('heading', { name: 'Welcome to Outpost' })).toBeVisible();
    await expect(firstRun).toContainText('they wait safely on this computer');
    await expect(firstRun.getByRole('button', { name: /Connect a CRM/ })).toBeVisible();
    // The lookup is still there, with the focus.
    await expect(app.search).toBeFocused();
    await expect(page.getByRole('heading', { name: 'Recent customers' })).toHaveCount(0);
    await expect(page.getByTestId('status-connection')).toHaveText('CRM: not configured');
    await expect(page.getByTestId('status-local')).toHaveText('— customers are kept on this computer');

    await firstRun.getByRole('button', { name: /Create the first customer/ }).click();
    await expect(page.locator('#first_name')).toBeFocused();
    await page.locator('#first_name').fill('Ada');
    await page.locator('#last_name').fill('Lovelace');
    await page.locator('#last_name').press('Enter');

    // Saved here: the lookup as usual, the customer pending, the CRM still not configured.
    await expect(app.names).toHaveText(['Ada Lovelace']);
    await expect(app.results.first().getByTestId('sync-badge')).toHaveText('Pending');
    await expect(firstRun).toHaveCount(0);
    await expect(page.getByRole('heading', { name: 'Recent customers' })).toBeVisible();
    await expect(page.getByTestId('status-pending')).toHaveText('1 pending');
    await expect(page.getByTestId('status-local')).toHaveText('— customers are kept on this computer');
  });

  test('typing a search on the first-run view is the lookup: no match offers to create', async ({ openApp }) => {
    const app = await openApp(NEW_DATABASE);
    await expect(app.page.getByTestId('first-run')).toBeVisible();
    await app.search.fill('Grace Hopper');
    await expect(app.page.getByTestId('first-run')).toHaveCount(0);
    await expect(app.page.getByTestId('empty-state')).toContainText('No customers match “Grace Hopper”');
    await app.search.press('Escape');
    await expect(app.page.getByTestId('first-run')).toBeVisible();
  });

  test('"Connect a CRM" leads an admin to Settings; once the endpoint is saved the lookup is as usual', async ({ openApp }) => {
    const app = await openApp(NEW_DATABASE);
    const { page } = app;
    await page.getByTestId('first-run').getByRole('button', { name: /Connect a CRM/ }).click();
    await expect(page.getByTestId('settings-screen')).toBeVisible();
    // A new database has no passphrase yet: the admin sets one first.
    await page.locator('#new-passphrase').fill(ADMIN_PASSPHRASE);
    await page.locator('#confirm-passphrase').fill(ADMIN_PASSPHRASE);
    await page.locator('#confirm-passphrase').press('Enter');
    await page.getByTestId('add-endpoint').click();
    await page.locator('#ep-name').fill('emu');
    await page.locator('#ep-kind').selectOption('generic-rest');
    await page.locator('#ep-url').fill('http://localhost:8787');
    await page.locator('#ep-token').fill('emu-secret-token');
    await page.locator('#ep-token').press('Enter');
    await expect(page.getByTestId('settings-notice')).toHaveText('Added emu.');
    await expect(page.getByTestId('status-connection')).toHaveText('CRM: Online');
    await expect(page.getByTestId('status-local')).toHaveCount(0);

    await page.keyboard.press('Escape');
    await expect(app.search).toBeVisible();
    await expect(page.getByTestId('first-run')).toHaveCount(0);
    await expect(page.getByTestId('empty-state')).toContainText('No customers yet.');
    await expect(page.getByRole('heading', { name: 'Recent customers' })).toBeVisible();
  });

  test('customers but no CRM: the lookup as usual, the status bar says where they are kept', async ({ openApp }) => {
    const app = await openApp();
    await expect(app.results).toHaveCount(5);
    await expect(app.page.getByTestId('first-run')).toHaveCount(0);
    await expect(app.page.getByTestId('status-local')).toHaveText('— customers are kept on this computer');
  });

  test('a CRM but no customers: the lookup as usual', async ({ openApp }) => {
    const app = await openApp({ customers: [], status: { ...NEW_DATABASE.status, connection: 'online' } });
    await expect(app.page.getByTestId('empty-state')).toContainText('No customers yet.');
    await expect(app.page.getByTestId('first-run')).toHaveCount(0);
    await expect(app.page.getByTestId('status-local')).toHaveCount(0);
  });
});
