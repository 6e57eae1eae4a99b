import { ANNA, CAFE, JUERGEN, expect, test, type App } from './fixtures';

/** A customer's detail view, from the lookup. */
async function openDetail(app: App, query: string, name: string): Promise<void> {
  await app.search.fill(query);
  await expect(app.selected()).toContainText(name);
  await app.search.press('Enter');
  await expect(app.detail.getByRole('heading', { name })).toBeVisible();
}

test.describe('edit', () => {
  test('Ctrl+E opens the prefilled form; Enter saves only what changed; the badge shows on the detail and in the lookup', async ({
    openApp,
  }) => {
    const app = await openApp();
    const p = app.page;
    await openDetail(app, 'anna', 'Anna Schmidt');
    await expect(app.detail.getByTestId('edit-badge')).toHaveCount(0);
    await expect(app.detail.getByTestId('edit-customer')).toHaveAttribute('aria-keyshortcuts', 'Control+E');

    await p.keyboard.press('Control+e');
    const form = p.getByTestId('edit-form');
    await expect(form.getByRole('heading', { name: 'Edit Anna Schmidt' })).toBeVisible();
    await expect(p.locator('#first_name')).toBeFocused();
    await expect(p.locator('#last_name')).toHaveValue('Schmidt');
    await expect(p.locator('#phone')).toHaveValue('+49 30 1234567');
    await expect(p.locator('#city')).toHaveValue('Berlin');
    await expect(p.locator('#notes')).toHaveValue(ANNA.notes ?? '');
    await expect(form.locator('button[type=submit]')).toHaveText('Save changes');
    // No duplicate check against the customer itself.
    await expect(p.getByTestId('duplicates')).toHaveCount(0);

    await p.locator('#city').fill('');
    await p.locator('#phone').fill('+49 30 7654321');
    await p.locator('#phone').press('Enter');

    await expect(app.detail).toBeVisible();
    await expect(app.detail.getByTestId('edit-badge')).toHaveText('Edited, not yet sent');
    await expect(app.detail.getByTestId('sync-badge')).toHaveText('Synced');
    await expect(app.detail).toContainText('+49 30 7654321');
    await expect(p.getByRole('status').filter({ hasText: 'Changes saved' })).toBeVisible();
    expect(await app.callsOf('edit_customer')).toEqual([{ id: ANNA.id, changes: { phone: '+49 30 7654321', city: null } }]);

    // Back in the lookup, its result carries the badge too.
    await p.keyboard.press('Escape');
    await expect(app.search).toBeVisible();
    await expect(app.result(ANNA.id).getByTestId('edit-badge')).toHaveText('Edited, not yet sent');
    await expect(app.result(CAFE.id).getByTestId('edit-badge')).toHaveCount(0);
  });

  test('the Edit button opens the same form; Escape cancels and nothing is sent', async ({ openApp }) => {
    const app = await openApp();
    const p = app.page;
    await openDetail(app, 'café', 'Café Olé');
    await app.detail.getByTestId('edit-customer').click();
    await expect(p.getByTestId('edit-form')).toBeVisible();
    await expect(p.locator('#company')).toHaveValue('Café Olé');
    await p.locator('#company').fill('Café Olé Paris');
    await p.keyboard.press('Escape');

    await expect(app.detail.getByRole('heading', { name: 'Café Olé' })).toBeVisible();
    await expect(app.detail.getByTestId('edit-badge')).toHaveCount(0);
    expect(await app.callsOf('edit_customer')).toEqual([]);
  });

  test('an invalid value is shown beside its field and nothing is saved', async ({ openApp }) => {
    const app = await openApp();
    const p = app.page;
    await openDetail(app, 'anna', 'Anna Schmidt');
    await p.keyboard.press('Control+e');
    await p.locator('#email').fill('chidi(at)example');
    await p.locator('#email').press('Enter');

    await expect(p.getByTestId('error-email')).toBeVisible();
    await expect(p.locator('#email')).toBeFocused();
    await expect(p.getByTestId('edit-form')).toBeVisible();
    const { customers } = await app.backend();
    expect(customers.find((c) => c.id === ANNA.id)?.email).toBe(ANNA.email);
    expect(customers.find((c) => c.id === ANNA.id)?.pending_edit).toBe(false);
  });

  test('an edit of a customer whose create has not gone yet travels with the create: no badge', async ({ openApp }) => {
    const app = await openApp();
    const p = app.page;
    await openDetail(app, 'schneider', 'Jürgen Schneider');
    await p.keyboard.press('Control+e');
    await p.locator('#city').fill('Augsburg');
    await p.locator('#city').press('Enter');

    await expect(app.detail).toContainText('Augsburg');
    await expect(app.detail.getByTestId('sync-badge')).toHaveText('Pending');
    await expect(app.detail.getByTestId('edit-badge')).toHaveCount(0);
    expect(await app.callsOf('edit_customer')).toEqual([{ id: JUERGEN.id, changes: { city: 'Augsburg' } }]);
  });
});
