import type { Conflict } from '../src/bindings/Conflict';
import { ANNA, CAFE, SEED, SEED_STATUS, expect, test, type App } from './fixtures';

// As the core keeps them: the CRM kept its value, the local row keeps ours
// until a person chooses.

/** Anna's phone was edited here (to the number she has locally); the CRM changed it meanwhile. */
const ANNA_PHONE: Conflict = {
  customer_id: ANNA.id,
  field: 'phone',
  ours: '+49 30 1234567',
  theirs: '+49 30 7654321',
  base: '+49 30 1111111',
  detected_at: '2025-05-02T09:00:00Z',
};
/** Café Olé's city was cleared here and changed to Lyon in the CRM. */
const CAFE_CITY: Conflict = {
  customer_id: CAFE.id,
  field: 'city',
  ours: null,
  theirs: 'Lyon',
  base: 'Paris',
  detected_at: '2025-05-02T09:05:00Z',
};
/** The seed with Café Olé's local city cleared, as its conflict says. */
const CUSTOMERS = SEED.map((c) => (c.id === CAFE.id ? { ...c, city: null } : c));

async function openSync(app: App): Promise<void> {
  await app.page.getByTestId('nav-sync').click();
  await expect(app.page.getByTestId('sync-screen')).toBeVisible();
}

async function openDetail(app: App, query: string, name: string): Promise<void> {
  await app.search.fill(query);
  await expect(app.selected()).toContainText(name);
  await app.search.press('Enter');
  await expect(app.detail.getByRole('heading', { name })).toBeVisible();
}

/** A field's value as the detail view shows it (— for none). */
function shownField(app: App, label: string) {
  return app.detail
    .locator('dl.fields > div')
    .filter({ has: app.page.locator('dt', { hasText: new RegExp(`^${label}$`) }) })
    .locator('dd');
}

function row(app: App, c: Conflict) {
  return app.page.locator(`[data-testid="conflict-row"][data-customer="${c.customer_id}"][data-field="${c.field}"]`);
}

test.describe('conflicts', () => {
  test('the status bar counts them and opens the Sync screen, which lists both values per field', async ({ openApp }) => {
    const app = await openApp({ customers: CUSTOMERS, conflicts: [ANNA_PHONE, CAFE_CITY] });
    const count = app.page.getByTestId('status-conflicts');
    await expect(count).toHaveText('2 conflicts');
    await expect(count).toHaveRole('button');
    await count.focus();
    await app.page.keyboard.press('Enter');

    const sync = app.page.getByTestId('sync-screen');
    await expect(sync).toBeVisible();
    await expect(sync.getByTestId('sync-conflict-count')).toContainText('2 conflicts');
    const list = sync.getByRole('list', { name: /Conflicts/ });
    await expect(list.getByRole('listitem')).toHaveCount(2);

    const anna = row(app, ANNA_PHONE);
    await expect(anna.getByTestId('conflict-customer')).toHaveText('Anna Schmidt');
    await expect(anna.getByTestId('conflict-field')).toHaveText('Phone');
    await expect(anna).toContainText('In the CRM: +49 30 7654321');
    await expect(anna).toContainText('Yours: +49 30 1234567');
    const cafe = row(app, CAFE_CITY);
    await expect(cafe.getByTestId('conflict-customer')).toHaveText('Café Olé');
    await expect(cafe.getByTestId('conflict-field')).toHaveText('City');
    await expect(cafe).toContainText('In the CRM: Lyon');
    await expect(cafe).toContainText('Yours: (empty)');
    await expect(anna.getByRole('button', { name: 'Use mine for Phone of Anna Schmidt' })).toBeVisible();
    await expect(anna.getByRole('button', { name: 'Keep the CRM’s for Phone of Anna Schmidt' })).toBeVisible();

    // The name opens the customer.
    await anna.getByTestId('conflict-customer').click();
    await expect(app.detail.getByRole('heading', { name: 'Anna Schmidt' })).toBeVisible();
    await expect(row(app, ANNA_PHONE)).toContainText('In the CRM: +49 30 7654321');
  });

  test('no conflicts: nothing in the status bar and no section', async ({ openApp }) => {
    const app = await openApp();
    await openSync(app);
    await expect(app.page.getByTestId('attention-row')).toHaveCount(1);
    await expect.poll(() => app.commands()).toContain('list_conflicts');
    await expect(app.page.getByTestId('conflicts')).toHaveCount(0);
    await expect(app.page.getByTestId('status-conflicts')).toHaveCount(0);
    await expect(app.page.getByTestId('sync-conflict-count')).toHaveCount(0);
  });

  test('on the Sync screen, “Use mine” keeps ours and “Keep the CRM’s” takes theirs; each row goes and the count follows', async ({
    openApp,
  }) => {
    const app = await openApp({ customers: CUSTOMERS, conflicts: [ANNA_PHONE, CAFE_CITY] });
    await openSync(app);
    // Keyboard: Tab reaches the button and Enter presses it.
    await row(app, ANNA_PHONE).getByTestId('conflict-customer').focus();
    await app.page.keyboard.press('Tab');
    await expect(row(app, ANNA_PHONE).getByTestId('conflict-mine')).toBeFocused();
    await app.page.keyboard.press('Enter');

    await expect(row(app, ANNA_PHONE)).toHaveCount(0);
    await expect(row(app, CAFE_CITY)).toBeVisible();
    // The keyboard stays in the list: on the next row's same action.
    await expect(row(app, CAFE_CITY).getByTestId('conflict-mine')).toBeFocused();
    await expect(app.page.getByTestId('status-conflicts')).toHaveText('1 conflict');
    await expect(app.page.getByTestId('sync-conflict-count')).toContainText('1 conflict');
    expect(await app.callsOf('resolve_conflict')).toEqual([{ id: ANNA.id, field: 'phone', use: 'mine' }]);

    await app.page.keyboard.press('Tab');
    await expect(row(app, CAFE_CITY).getByTestId('conflict-crm')).toBeFocused();
    await app.page.keyboard.press('Enter');
    // The last one settled: the section says so and keeps the keyboard on its heading.
    await expect(app.page.getByTestId('conflict-row')).toHaveCount(0);
    await expect(app.page.getByTestId('conflicts-settled')).toHaveText('No conflicts left.');
    await expect(app.page.getByRole('heading', { name: /^Conflicts/ })).toBeFocused();
    await expect(app.page.getByTestId('status-conflicts')).toHaveCount(0);
    await expect(app.page.getByTestId('sync-conflict-count')).toHaveCount(0);
    expect((await app.callsOf('resolve_conflict'))[1]).toEqual({ id: CAFE.id, field: 'city', use: 'crm' });

    const { customers } = await app.backend();
    expect(customers.find((c) => c.id === CAFE.id)?.city).toBe('Lyon');
    await app.page.keyboard.press('Escape');
    await openDetail(app, 'anna', 'Anna Schmidt');
    await expect(shownField(app, 'Phone')).toHaveText('+49 30 1234567');
    await expect(app.detail).not.toContainText('+49 30 7654321');
    // Ours goes to the CRM now, with the CRM's value as its base.
    await expect(app.detail.getByTestId('edit-badge')).toHaveText('Edited, not yet sent');
    await expect(app.detail.getByTestId('conflicts')).toHaveCount(0);
    await app.page.keyboard.press('Escape');
    await openDetail(app, 'café', 'Café Olé');
    await expect(shownField(app, 'City')).toHaveText('Lyon');
    await expect(app.detail.getByTestId('edit-badge')).toHaveCount(0);
  });

  test('the detail view shows its own conflicts; “Keep the CRM’s” puts their value in the field', async ({ openApp }) => {
    const app = await openApp({ customers: CUSTOMERS, conflicts: [ANNA_PHONE, CAFE_CITY] });
    await openDetail(app, 'café', 'Café Olé');
    await expect(shownField(app, 'City')).toHaveText('—');
    const list = app.detail.getByTestId('conflicts');
    await expect(list.getByTestId('conflict-row')).toHaveCount(1);
    const cafe = row(app, CAFE_CITY);
    await expect(cafe.getByTestId('conflict-field')).toHaveText('City');
    await expect(cafe.getByTestId('conflict-theirs')).toHaveText('Lyon');
    await expect(cafe.getByTestId('conflict-ours')).toHaveText('(empty)');
    // One customer's view names no customer.
    await expect(cafe.getByTestId('conflict-customer')).toHaveCount(0);
    expect(await app.callsOf('list_conflicts')).toContainEqual({ id: CAFE.id });

    await cafe.getByRole('button', { name: /^Keep the CRM’s/ }).click();
    await expect(list.getByTestId('conflict-row')).toHaveCount(0);
    await expect(list.getByTestId('conflicts-settled')).toBeVisible();
    expect(await app.callsOf('resolve_conflict')).toEqual([{ id: CAFE.id, field: 'city', use: 'crm' }]);
    await expect(shownField(app, 'City')).toHaveText('Lyon');
    await expect(app.detail.getByTestId('edit-badge')).toHaveCount(0);
    await expect(app.page.getByTestId('status-conflicts')).toHaveText('1 conflict');
    expect((await app.conflicts()).map((c) => c.customer_id)).toEqual([ANNA.id]);
  });

  test('“Use mine” in the detail view keeps ours in the field and queues it', async ({ openApp }) => {
    const app = await openApp({ conflicts: [ANNA_PHONE] });
    await openDetail(app, 'anna', 'Anna Schmidt');
    const anna = row(app, ANNA_PHONE);
    await expect(anna.getByTestId('conflict-theirs')).toHaveText('+49 30 7654321');
    await expect(anna.getByTestId('conflict-ours')).toHaveText('+49 30 1234567');
    await expect(app.detail.getByTestId('edit-badge')).toHaveCount(0);
    await anna.getByRole('button', { name: /^Use mine/ }).click();

    await expect(app.detail.getByTestId('conflict-row')).toHaveCount(0);
    await expect(app.detail.getByTestId('conflicts-settled')).toHaveText('No conflicts left.');
    await expect(app.detail.getByRole('heading', { name: /^Conflicts/ })).toBeFocused();
    await expect(shownField(app, 'Phone')).toHaveText('+49 30 1234567');
    await expect(app.detail).not.toContainText('+49 30 7654321');
    await expect(app.detail.getByTestId('edit-badge')).toHaveText('Edited, not yet sent');
    await expect(app.page.getByTestId('status-conflicts')).toHaveCount(0);
    expect(await app.callsOf('resolve_conflict')).toEqual([{ id: ANNA.id, field: 'phone', use: 'mine' }]);
  });

  test('a conflict found while the detail is open appears there; a failed action says why and keeps the row', async ({ openApp }) => {
    const app = await openApp({ status: { ...SEED_STATUS, connection: 'online' } });
    await app.listening('status-changed');
    await openDetail(app, 'anna', 'Anna Schmidt');
    await expect.poll(() => app.callsOf('list_conflicts')).toContainEqual({ id: ANNA.id });
    await expect(app.detail.getByTestId('conflicts')).toHaveCount(0);

    await app.recordConflict(ANNA_PHONE);
    const anna = row(app, ANNA_PHONE);
    await expect(anna).toBeVisible();
    await expect(app.page.getByTestId('status-conflicts')).toHaveText('1 conflict');

    await app.page.evaluate(() =>
      (window as unknown as { __mock: { setFailure(cmd: string, e: unknown): void } }).__mock.setFailure('resolve_conflict', {
        code: 'storage',
        message: 'the local database failed',
        fields: [],
      }),
    );
    await anna.getByRole('button', { name: /^Use mine/ }).click();
    await expect(app.detail.getByTestId('conflict-error')).toHaveText('Could not settle Phone: the local database failed');
    await expect(anna).toBeVisible();
    await expect(app.page.getByTestId('status-conflicts')).toHaveText('1 conflict');
  });
});
