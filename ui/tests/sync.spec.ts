import { BART, BART_REASON, JUERGEN, MARTA, SEED_STATUS, expect, test } from './fixtures';

const REFUSED =
  'The CRM (Main CRM) is unreachable and this till is set to work online only, so the customer was not saved. Try again when the connection is back.';

test.describe('connection in the status bar', () => {
  test('shows each connection state, with the reason and Retry now when the CRM is away', async ({ openApp }) => {
    const app = await openApp();
    const conn = app.page.getByTestId('status-connection');
    const hint = app.page.getByTestId('status-hint');
    const retry = app.page.getByTestId('retry-now');
    await app.listening('status-changed');

    await expect(conn).toHaveText('CRM: not configured');
    await expect(hint).toHaveCount(0);
    await expect(retry).toHaveCount(0);

    await app.setConnection('online');
    await expect(conn).toHaveText('CRM: Syncing 2');
    await expect(retry).toHaveCount(0);

    await app.setConnection('offline', 'connection refused by crm.example.com');
    await expect(conn).toHaveText('CRM: Offline');
    await expect(hint).toHaveText('connection refused by crm.example.com');
    // The reason is the button's accessible description, not a tooltip.
    await expect(conn).toHaveAccessibleDescription('connection refused by crm.example.com');
    await expect(conn).not.toHaveAttribute('title');
    await expect(retry).toBeVisible();

    await app.setConnection('unauthorized', null);
    await expect(conn).toHaveText('CRM: Credentials rejected');
    await expect(hint).toHaveText('an admin must fix the settings');
    await expect(retry).toBeVisible();

    await app.setConnection('unauthorized', 'The CRM answered 403 Forbidden');
    await expect(hint).toHaveText('The CRM answered 403 Forbidden · an admin must fix the settings');

    await app.emit('status-changed', { ...SEED_STATUS, pending: 0, connection: 'online' });
    await expect(conn).toHaveText('CRM: Online');
    await expect(hint).toHaveCount(0);
    await expect(retry).toHaveCount(0);
    // The existing counts keep their words.
    await expect(app.page.getByTestId('status-pending')).toHaveText('All synced');
  });

  test('Retry now calls sync_now and reads the status again', async ({ openApp }) => {
    const app = await openApp({ status: { ...SEED_STATUS, connection: 'offline', last_error: 'timed out' } });
    await expect(app.page.getByTestId('status-connection')).toHaveText('CRM: Offline');
    // Keyboard: the button is reachable and Enter presses it.
    await app.page.getByTestId('retry-now').focus();
    await app.page.keyboard.press('Enter');
    await expect.poll(() => app.commands()).toContain('sync_now');
    const cmds = await app.commands();
    expect(cmds.slice(cmds.indexOf('sync_now'))).toContain('get_status');
    // The CRM comes back: the monitor's event turns the bar green and hides the button.
    await app.setConnection('online');
    await expect(app.page.getByTestId('status-connection')).toHaveText('CRM: Syncing 2');
    await expect(app.page.getByTestId('retry-now')).toHaveCount(0);
    // The focus moved to the connection button instead of getting lost.
    await expect(app.page.getByTestId('status-connection')).toBeFocused();
  });

  test('a failing sync_now is explained in the status bar', async ({ openApp }) => {
    const app = await openApp({
      status: { ...SEED_STATUS, connection: 'offline', last_error: 'timed out' },
      failures: { sync_now: { code: 'internal', message: 'The sync engine is not running.', fields: [] } },
    });
    await app.page.getByTestId('retry-now').click();
    await expect(app.page.getByTestId('sync-call-error')).toHaveText('Could not sync: The sync engine is not running.');
  });
});

test.describe('Sync screen', () => {
  test('opens from the status bar, the header link and Ctrl+Shift+S; Escape goes back', async ({ openApp }) => {
    const app = await openApp({ status: { ...SEED_STATUS, connection: 'online' } });
    const sync = app.page.getByTestId('sync-screen');
    await expect(app.search).toBeFocused();

    await app.page.keyboard.press('Control+Shift+S');
    await expect(sync).toBeVisible();
    await expect(app.page.getByTestId('sync-now')).toBeFocused();
    await app.page.keyboard.press('Escape');
    await expect(sync).toHaveCount(0);
    await expect(app.search).toBeFocused();

    await app.page.getByTestId('status-connection').click();
    await expect(sync).toBeVisible();
    await app.page.keyboard.press('Escape');
    await expect(app.search).toBeFocused();

    await app.page.getByTestId('nav-sync').click();
    await expect(sync).toBeVisible();
    await expect(app.page.getByTestId('nav-sync')).toHaveAttribute('aria-current', 'page');

    // From the create form too: Ctrl+Shift+S works in any field.
    await app.page.keyboard.press('Escape');
    await app.openCreate();
    await app.page.keyboard.press('Control+Shift+S');
    await expect(sync).toBeVisible();
  });

  test('summary, connection, reason and last successful sync', async ({ openApp }) => {
    const threeMinAgo = new Date(Date.now() - 3 * 60_000 - 10_000).toISOString();
    const app = await openApp({
      status: {
        ...SEED_STATUS,
        pending: 3,
        in_flight: 1,
        needs_attention: 1,
        sent: 7,
        connection: 'offline',
        last_success_at: threeMinAgo,
        last_error: 'Could not connect to crm.example.com: connection refused',
      },
    });
    await app.page.keyboard.press('Control+Shift+S');
    await expect(app.page.getByTestId('summary-pending')).toHaveText('3');
    await expect(app.page.getByTestId('summary-in-flight')).toHaveText('1');
    await expect(app.page.getByTestId('summary-attention')).toHaveText('1');
    await expect(app.page.getByTestId('summary-sent')).toHaveText('7');
    await expect(app.page.getByTestId('last-sync')).toHaveText('Last successful sync: 3 min ago');
    await expect(app.page.getByTestId('last-sync').locator('time')).toHaveAttribute('datetime', threeMinAgo);
    await expect(app.page.getByTestId('sync-connection')).toContainText('CRM: Offline');
    await expect(app.page.getByTestId('sync-last-error')).toHaveText(
      'Could not connect to crm.example.com: connection refused',
    );

    await app.setConnection('online');
    await expect(app.page.getByTestId('sync-connection')).toContainText('CRM: Syncing 3');
    await expect(app.page.getByTestId('sync-last-error')).toHaveCount(0);
  });

  test('"never" before the first delivery; Sync now calls sync_now', async ({ openApp }) => {
    const app = await openApp({ status: { ...SEED_STATUS, connection: 'online' } });
    await app.page.getByTestId('nav-sync').click();
    await expect(app.page.getByTestId('last-sync')).toHaveText('Last successful sync: never');
    await app.page.getByTestId('sync-now').press('Enter');
    await expect.poll(() => app.commands()).toContain('sync_now');
    // A delivery while the screen is open: counts, time and lists follow the events.
    await app.moveMessages(JUERGEN.id, 'sent');
    await expect(app.page.getByTestId('summary-sent')).toHaveText('3');
    await expect(app.page.getByTestId('summary-pending')).toHaveText('1');
    await expect(app.page.getByTestId('last-sync')).toHaveText('Last successful sync: just now');
  });

  test('needs-attention rows show the reason; Retry removes the row and updates the counts', async ({ openApp }) => {
    const app = await openApp({ status: { ...SEED_STATUS, connection: 'online' } });
    await app.page.keyboard.press('Control+Shift+S');
    const rows = app.page.getByTestId('attention-row');
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toContainText('Bart Jansen');
    await expect(rows.first()).toContainText('Jansen Fietsen BV');
    await expect(rows.first().getByTestId('attention-reason')).toHaveText(BART_REASON);
    await expect(rows.first()).toContainText('1 attempt');
    await expect(app.page.getByTestId('status-attention')).toHaveText('1 needs attention');

    await rows.first().getByTestId('retry-customer').click();
    await expect(rows).toHaveCount(0);
    await expect(app.page.getByTestId('attention-empty')).toHaveText('Nothing needs attention.');
    await expect(app.page.getByTestId('summary-attention')).toHaveText('0');
    await expect(app.page.getByTestId('summary-pending')).toHaveText('3');
    await expect(app.page.getByTestId('status-attention')).toHaveCount(0);
    await expect(app.page.getByTestId('status-pending')).toHaveText('3 pending');
    // The keyboard is not lost when the row goes away.
    await expect(app.page.locator('#attention-heading')).toBeFocused();

    const { calls } = await app.backend();
    expect(calls.filter((c) => c.cmd === 'retry_customer').map((c) => c.args)).toEqual([{ id: BART.id }]);
    expect(calls.filter((c) => c.cmd === 'list_outbox').map((c) => c.args.stateFilter)).toContain('needs-attention');

    // Bart now waits with the others, in delivery order.
    await app.page.getByTestId('pending-list').locator('summary').click();
    await expect(app.page.getByTestId('pending-row')).toHaveCount(3);
    await expect(app.page.getByTestId('pending-row').nth(1)).toContainText('Bart Jansen');
  });

  test('the lists follow status-changed: a refusal appears while the screen is open', async ({ openApp }) => {
    const app = await openApp({ status: { ...SEED_STATUS, connection: 'online' } });
    await app.page.keyboard.press('Control+Shift+S');
    await expect(app.page.getByTestId('attention-row')).toHaveCount(1);
    await app.moveMessages(MARTA.id, 'needs-attention', 'email: This email address is already used by another contact');
    await expect(app.page.getByTestId('attention-row')).toHaveCount(2);
    await expect(app.page.getByTestId('attention-row').nth(1)).toContainText('Marta Schmitz');
    await expect(app.page.getByTestId('attention-row').nth(1).getByTestId('attention-reason')).toHaveText(
      'email: This email address is already used by another contact',
    );
    await expect(app.page.getByTestId('summary-attention')).toHaveText('2');
  });

  test('the pending list shows names, attempts, next attempt and the last error', async ({ openApp }) => {
    const app = await openApp();
    await app.page.keyboard.press('Control+Shift+S');
    const list = app.page.getByTestId('pending-list');
    await expect(list.getByTestId('pending-count')).toHaveText('2');
    await expect(app.page.getByTestId('pending-row').first()).toBeHidden();
    // Keyboard: Tab to the summary, Enter opens it.
    await list.locator('summary').focus();
    await app.page.keyboard.press('Enter');
    const rows = app.page.getByTestId('pending-row');
    await expect(rows).toHaveCount(2);
    await expect(rows.first()).toContainText('Jürgen Schneider');
    await expect(rows.first()).toContainText('Next attempt now · 0 attempts');
    await expect(rows.nth(1)).toContainText('Marta Schmitz');
    await expect(rows.nth(1)).toContainText('2 attempts');
    await expect(rows.nth(1)).toContainText('The CRM did not answer in time.');

    await app.moveMessages(JUERGEN.id, 'in-flight');
    await expect(rows.first()).toContainText('Sending now · 1 attempt');
  });

  test('empty outbox: plain-word empty states', async ({ openApp }) => {
    const app = await openApp({
      customers: [],
      status: { ...SEED_STATUS, pending: 0, needs_attention: 0, sent: 0, customers: 0 },
    });
    await app.page.keyboard.press('Control+Shift+S');
    await expect(app.page.getByTestId('attention-empty')).toHaveText('Nothing needs attention.');
    await expect(app.page.getByRole('button', { name: /Back to search/ })).toBeFocused();
    await app.page.getByTestId('pending-list').locator('summary').click();
    await expect(app.page.getByTestId('pending-empty')).toHaveText('Nothing is waiting to be sent.');
    // Nothing to sync to: the button says so by being off.
    await expect(app.page.getByTestId('sync-now')).toBeDisabled();
  });

  test('Open customer shows the detail with the reason; Retry there; Escape returns to Sync', async ({ openApp }) => {
    const app = await openApp({ status: { ...SEED_STATUS, connection: 'online' } });
    await app.page.keyboard.press('Control+Shift+S');
    await app.page.getByTestId('attention-row').getByRole('button', { name: 'Open customer' }).click();
    await expect(app.detail).toBeVisible();
    await expect(app.detail.locator('h2')).toHaveText('Bart Jansen');
    await expect(app.detail.getByTestId('sync-badge')).toHaveText('Needs attention');
    await expect(app.detail.getByTestId('detail-reason')).toHaveText(BART_REASON);
    await expect(app.detail.getByRole('button', { name: /Back to sync/ })).toBeFocused();

    await app.detail.getByTestId('detail-retry').click();
    await expect(app.detail.getByTestId('sync-badge')).toHaveText('Pending');
    await expect(app.detail.getByTestId('detail-attention')).toHaveCount(0);
    await expect(app.page.getByTestId('status-attention')).toHaveCount(0);

    await app.page.keyboard.press('Escape');
    await expect(app.page.getByTestId('sync-screen')).toBeVisible();
    await expect(app.page.getByTestId('attention-empty')).toBeVisible();
    await app.page.keyboard.press('Escape');
    await expect(app.search).toBeFocused();
  });
});

test('the detail view explains a refusal when opened from the lookup', async ({ openApp }) => {
  const app = await openApp();
  await app.search.fill('jansen');
  await expect(app.selected()).toContainText('Bart');
  await app.search.press('Enter');
  await expect(app.detail.getByTestId('detail-reason')).toHaveText(BART_REASON);
  await expect(app.detail.getByTestId('detail-retry')).toBeVisible();
  // A synced customer has no such block.
  await app.page.keyboard.press('Escape');
  await app.search.fill('anna');
  await app.search.press('Enter');
  await expect(app.detail.locator('h2')).toHaveText('Anna Schmidt');
  await expect(app.detail.getByTestId('detail-attention')).toHaveCount(0);
});

test('customers-changed turns a visible Pending badge into Synced live', async ({ openApp }) => {
  const app = await openApp({ status: { ...SEED_STATUS, connection: 'online' } });
  await app.listening('customers-changed');
  const row = app.result(JUERGEN.id);
  await expect(row.getByTestId('sync-badge')).toHaveText('Pending');
  await app.moveMessages(JUERGEN.id, 'sent');
  await expect(row.getByTestId('sync-badge')).toHaveText('Synced');
  await expect(app.page.getByTestId('status-connection')).toHaveText('CRM: Syncing 1');
  await expect(app.page.getByTestId('status-pending')).toHaveText('1 pending');
});

test('a delivery round updates the visible badges from one event, without searching again', async ({ openApp }) => {
  const app = await openApp({ status: { ...SEED_STATUS, connection: 'online' } });
  await app.listening('customers-changed');
  const juergen = app.result(JUERGEN.id);
  const marta = app.result(MARTA.id);
  await expect(juergen.getByTestId('sync-badge')).toHaveText('Pending');
  await expect(marta.getByTestId('sync-badge')).toHaveText('Pending');
  const searchesBefore = (await app.searches()).length;
  expect(await app.deliverRound([JUERGEN.id, MARTA.id])).toBe(2);
  await expect(juergen.getByTestId('sync-badge')).toHaveText('Synced');
  await expect(marta.getByTestId('sync-badge')).toHaveText('Synced');
  await expect(app.page.getByTestId('status-pending')).toHaveText('All synced');
  // Only the two rows were read again; the list was not searched.
  expect((await app.searches()).length).toBe(searchesBefore);
  expect((await app.callsOf('get_customer')).map((a) => a.id).sort()).toEqual([JUERGEN.id, MARTA.id].sort());
});

test('a refused creation shows the core’s message and keeps what was typed', async ({ openApp }) => {
  const app = await openApp({
    status: { ...SEED_STATUS, connection: 'offline', last_error: 'connection refused' },
    failures: { create_customer: { code: 'refused', message: REFUSED, fields: [] } },
  });
  await app.openCreate();
  await app.page.locator('#first_name').fill('Lena');
  await app.page.locator('#last_name').fill('Vogel');
  await app.page.locator('#email').fill('lena@vogel.de');
  await app.page.locator('#email').press('Enter');
  await expect(app.page.getByTestId('form-error')).toHaveText(REFUSED);
  await expect(app.page.locator('#first_name')).toHaveValue('Lena');
  await expect(app.page.locator('#last_name')).toHaveValue('Vogel');
  await expect(app.page.locator('#email')).toHaveValue('lena@vogel.de');
  await expect(app.page.locator('[aria-invalid="true"]')).toHaveCount(0);
  expect((await app.backend()).customers).toHaveLength(5);

  // The connection is back: the same form saves.
  await app.page.evaluate(() =>
    (window as unknown as { __mock: { clearFailure(c: string): void } }).__mock.clearFailure('create_customer'),
  );
  await app.page.locator('#email').press('Enter');
  await expect(app.page.getByTestId('notice')).toHaveText('Customer saved');
  expect((await app.backend()).customers).toHaveLength(6);
});

// Fix and resend / Discard: tests/fix.spec.ts

test('the Sync screen shows what is left of the CRM API budget, and nothing when the CRM counts none', async ({ openApp }) => {
  const app = await openApp({
    status: {
      ...SEED_STATUS,
      connection: 'online',
      api_budget: { org_used: 1234, org_max: 15000, device_used: 120, device_cap: 5000 },
    },
  });
  await app.page.keyboard.press('Control+Shift+S');
  await expect(app.page.getByTestId('sync-api-budget')).toHaveText(
    'CRM API budget: 13,766 of 15,000 requests left for the last 24 hours · this device: 120 of its 5,000 a day used',
  );
  await app.emit('status-changed', { ...SEED_STATUS, connection: 'online' });
  await expect(app.page.getByTestId('sync-api-budget')).toHaveCount(0);
});

test('the Sync screen shows the credits Zoho says are left', async ({ openApp }) => {
  const app = await openApp({
    status: {
      ...SEED_STATUS,
      connection: 'online',
      api_budget: { org_used: null, org_max: null, org_left: 2400, device_used: 120, device_cap: null },
    },
  });
  await app.page.keyboard.press('Control+Shift+S');
  await expect(app.page.getByTestId('sync-api-budget')).toHaveText(
    'CRM API credits: 2,400 left for the last 24 hours · this device: 120 used',
  );
});
