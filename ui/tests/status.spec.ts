import { expect, SEED_STATUS, test } from './fixtures';

test.describe('status bar', () => {
  test('shows the CRM state and outbox counts from get_status', async ({ openApp }) => {
    const app = await openApp();
    await expect(app.statusBar).toBeVisible();
    await expect(app.page.getByTestId('status-connection')).toHaveText('CRM: not configured');
    await expect(app.page.getByTestId('status-pending')).toHaveText('2 pending');
    await expect(app.page.getByTestId('status-attention')).toHaveText('1 needs attention');
    // It stays at the bottom of the window on every screen.
    const box = await app.statusBar.boundingBox();
    expect(box && Math.round(box.y + box.height)).toBe(700);
    await app.openCreate();
    await expect(app.statusBar).toBeInViewport();
  });

  test('follows status-changed events live', async ({ openApp }) => {
    const app = await openApp();
    await expect.poll(() => app.page.evaluate(() => (window as unknown as { __mock: { listenerCount(e: string): number } }).__mock.listenerCount('status-changed'))).toBe(1);
    const base = { pending: 0, in_flight: 0, needs_attention: 0, sent: 5, customers: 5 };
    await app.emit('status-changed', { ...base, connection: 'not_configured' });
    await expect(app.page.getByTestId('status-pending')).toHaveText('All synced');
    await expect(app.page.getByTestId('status-attention')).toHaveCount(0);
    await app.emit('status-changed', { ...base, pending: 4, in_flight: 1, connection: 'online' });
    await expect(app.page.getByTestId('status-connection')).toHaveText('CRM: Syncing 4');
    await expect(app.page.getByTestId('status-pending')).toHaveText('4 pending');
    await app.emit('status-changed', { ...base, pending: 4, needs_attention: 2, connection: 'offline' });
    await expect(app.page.getByTestId('status-connection')).toHaveText('CRM: Offline');
    await expect(app.page.getByTestId('status-attention')).toHaveText('2 need attention');
    await app.emit('status-changed', { ...base, connection: 'unauthorized' });
    await expect(app.page.getByTestId('status-connection')).toHaveText('CRM: Credentials rejected');
    await app.emit('status-changed', { ...base, connection: 'online' });
    await expect(app.page.getByTestId('status-connection')).toHaveText('CRM: Online');
  });

  test('says when another Outpost process delivers for this database', async ({ openApp }) => {
    const holder = 'another Outpost process (pid 4242) is delivering for this database';
    const app = await openApp({ status: { ...SEED_STATUS, connection: 'online', other_deliverer: holder } });
    const other = app.page.getByTestId('status-other-deliverer');
    await expect(other).toHaveText('Delivered by another Outpost process');
    await expect(other).toHaveAttribute('title', holder);
    // That process went away and this window took over.
    await app.emit('status-changed', { ...SEED_STATUS, connection: 'online' });
    await expect(other).toHaveCount(0);
  });

  test('an empty store says there is nothing to sync', async ({ openApp }) => {
    const app = await openApp({
      customers: [],
      status: { pending: 0, in_flight: 0, needs_attention: 0, sent: 0, customers: 0, connection: 'not_configured', last_success_at: null, last_error: null },
    });
    await expect(app.page.getByTestId('status-pending')).toHaveText('Nothing to sync');
    await expect(app.page.getByTestId('empty-state')).toContainText('No customers yet.');
    await expect(app.search).toBeFocused();
  });

  test('customers-changed refreshes the visible rows', async ({ openApp }) => {
    const app = await openApp();
    await app.search.fill('jansen');
    await expect(app.results.first().getByTestId('sync-badge')).toHaveText('Needs attention');
    await app.page.evaluate(() => {
      const m = (window as unknown as { __mock: { customers: Array<{ last_name: string | null; sync_state: string; crm_id: string | null }>; emit(e: string, p: unknown): void } }).__mock;
      const bart = m.customers.find((c) => c.last_name === 'Jansen');
      if (bart) {
        bart.sync_state = 'synced';
        bart.crm_id = 'CRM-2002';
      }
    });
    await app.emit('customers-changed', { ids: ['01944a0b-1c00-7a00-8000-000000000003'], change: 'synced' });
    await expect(app.results.first().getByTestId('sync-badge')).toHaveText('Synced');
    await app.search.press('Enter');
    await expect(app.detail.getByTestId('detail-crm-id')).toHaveText('CRM-2002');
  });

  test('the built app runs under the strict CSP without violations', async ({ openApp, request }) => {
    const res = await request.get('/');
    expect(res.headers()['content-security-policy']).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);
    const app = await openApp();
    // Visit every screen; the fixture then checks no violation was reported.
    await app.search.press('Enter');
    await expect(app.detail).toBeVisible();
    await app.openCreate();
    await app.page.keyboard.press('Enter');
    await expect(app.page.getByTestId('error-first_name')).toBeVisible();
    expect(await app.page.locator('[style]').count()).toBe(0);
  });
});

test('without a backend at all the app explains instead of crashing', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/'); // no mock injected: window.__TAURI_INTERNALS__ is missing
  await expect(page.locator('#search')).toBeFocused();
  await expect(page.getByTestId('search-error')).toContainText('not reachable');
  await expect(page.getByTestId('status-error')).toContainText('Status unavailable');
  await page.keyboard.press('Control+n');
  await page.locator('#first_name').fill('Offline');
  await page.locator('#first_name').press('Enter');
  await expect(page.getByTestId('form-error')).toContainText('Could not save the customer');
  expect(pageErrors).toEqual([]);
});
