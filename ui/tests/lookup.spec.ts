import { ANNA, BART, CAFE, JUERGEN, MARTA, expect, test } from './fixtures';

test.describe('lookup', () => {
  test('starts with the search box focused and the recent customers listed', async ({ openApp }) => {
    const app = await openApp();
    await expect(app.search).toBeFocused();
    await expect(app.search).toHaveAttribute('type', 'search');
    await expect(app.search).toHaveAccessibleName('Search customers');
    await expect(app.page.getByRole('heading', { name: 'Recent customers' })).toBeVisible();
    // Most recent first, as the backend answers an empty query.
    await expect(app.names).toHaveText(['Marta Schmitz', 'Café Olé', 'Bart Jansen', 'Jürgen Schneider', 'Anna Schmidt']);
    await expect(app.page.getByRole('listbox')).toBeVisible();
    await expect(app.page.getByRole('option')).toHaveCount(5);
    // The first row is selected so Enter opens it.
    await expect(app.selected()).toHaveAttribute('data-id', MARTA.id);
    // Rows show company, email, phone and the sync badge.
    const bart = app.result(BART.id);
    await expect(bart).toContainText('Jansen Fietsen BV');
    await expect(bart).toContainText('bart@jansen.nl');
    await expect(bart).toContainText('+31 20 555 1234');
    await expect(bart.getByTestId('sync-badge')).toHaveText('Needs attention');
    await expect(app.result(ANNA.id).getByTestId('sync-badge')).toHaveText('Synced');
    await expect(app.result(JUERGEN.id).getByTestId('sync-badge')).toHaveText('Pending');
    // A company-only customer is listed by its company.
    await expect(app.result(CAFE.id).locator('.name')).toHaveText('Café Olé');
  });

  test('answers as you type, one search per keystroke', async ({ openApp }) => {
    const app = await openApp();
    await app.search.pressSequentially('sch');
    await expect(app.names).toHaveText(['Marta Schmitz', 'Jürgen Schneider', 'Anna Schmidt']);
    await expect(app.page.getByRole('heading', { name: 'Customers matching “sch”' })).toBeVisible();
    await app.search.press('m');
    await expect(app.names).toHaveText(['Marta Schmitz', 'Anna Schmidt']);
    await app.search.pressSequentially('id');
    await expect(app.names).toHaveText(['Anna Schmidt']);
    await app.search.press('Backspace');
    await app.search.press('Backspace');
    await expect(app.names).toHaveText(['Marta Schmitz', 'Anna Schmidt']);
    expect(await app.searches()).toEqual(['', 's', 'sc', 'sch', 'schm', 'schmi', 'schmid', 'schmi', 'schm']);
  });

  test('finds by phone fragment, email and accent-free spelling', async ({ openApp }) => {
    const app = await openApp();
    await app.search.fill('555 12');
    await expect(app.names).toHaveText(['Bart Jansen']);
    await app.search.fill('jurgen');
    await expect(app.names).toHaveText(['Jürgen Schneider']);
    await app.search.fill('info@cafeole.fr');
    await expect(app.names).toHaveText(['Café Olé']);
  });

  test('arrow keys move the selection and Enter opens the detail; Escape returns with the query kept', async ({
    openApp,
  }) => {
    const app = await openApp();
    await app.search.pressSequentially('sch');
    await expect(app.results).toHaveCount(3);
    await expect(app.selected()).toHaveAttribute('data-id', MARTA.id);
    await app.search.press('ArrowDown');
    await expect(app.selected()).toHaveAttribute('data-id', JUERGEN.id);
    await app.search.press('ArrowDown');
    await expect(app.selected()).toHaveAttribute('data-id', ANNA.id);
    await app.search.press('ArrowDown'); // stays on the last row
    await expect(app.selected()).toHaveAttribute('data-id', ANNA.id);
    await app.search.press('ArrowUp');
    await expect(app.selected()).toHaveAttribute('data-id', JUERGEN.id);
    await expect(app.results.and(app.page.locator('[aria-selected="true"]'))).toHaveCount(1);
    await expect(app.search).toHaveAttribute('aria-activedescendant', `result-${JUERGEN.id}`);

    await app.search.press('Enter');
    await expect(app.detail).toBeVisible();
    await expect(app.detail.getByRole('heading', { name: 'Jürgen Schneider' })).toBeVisible();
    await expect(app.detail).toContainText('Schneider & Söhne');
    await expect(app.detail).toContainText('089 555 0101');
    await expect(app.search).toHaveCount(0);

    await app.page.keyboard.press('Escape');
    await expect(app.detail).toHaveCount(0);
    await expect(app.search).toBeFocused();
    await expect(app.search).toHaveValue('sch');
    await expect(app.selected()).toHaveAttribute('data-id', JUERGEN.id);
    await expect(app.names).toHaveText(['Marta Schmitz', 'Jürgen Schneider', 'Anna Schmidt']);
  });

  test('the detail view shows every field, local times, CRM id and the client key', async ({ openApp }) => {
    const app = await openApp();
    await app.search.fill('anna');
    await expect(app.names).toHaveText(['Anna Schmidt']);
    await app.search.press('Enter');
    const d = app.detail;
    await expect(d).toBeVisible();
    for (const text of [
      'Anna',
      'Schmidt',
      'anna.schmidt@example.de',
      '+49 30 1234567',
      'Torstraße 12',
      '10119',
      'Berlin',
      'Germany (DE)',
      'DE123456789',
      'CRM-1001',
    ]) {
      await expect(d).toContainText(text);
    }
    await expect(d.getByTestId('detail-notes')).toHaveText('Prefers email.\nRegular since 2019.');
    await expect(d.getByTestId('sync-badge')).toHaveText('Synced');
    await expect(d.getByTestId('client-key')).toHaveText(ANNA.id);
    // Times in the browser's local format, not the raw ISO string.
    const expected = await app.page.evaluate(
      (iso) => new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso)),
      ANNA.created_at,
    );
    await expect(d.getByTestId('detail-created')).toHaveText(expected);
    await expect(d.getByTestId('detail-created')).not.toContainText('T09:15');
    // The detail asked the backend for the latest copy.
    const { calls } = await app.backend();
    expect(calls.filter((c) => c.cmd === 'get_customer').map((c) => c.args)).toEqual([{ id: ANNA.id }]);
    // A customer not yet known to the CRM says so.
    await d.getByRole('button', { name: /Back to search/ }).click();
    await app.search.fill('schneider');
    await app.result(JUERGEN.id).click();
    await expect(d.getByTestId('detail-crm-id')).toHaveText('Not yet known');
    await expect(d.getByTestId('sync-badge')).toHaveText('Pending');
  });

  test('a customer missing from the backend is reported in plain words', async ({ openApp }) => {
    const app = await openApp();
    await app.page.evaluate((id) => {
      const m = (window as unknown as { __mock: { customers: Array<{ id: string }> } }).__mock;
      m.customers.splice(
        m.customers.findIndex((c) => c.id === id),
        1,
      );
    }, BART.id);
    await app.result(BART.id).click();
    await expect(app.detail.getByTestId('detail-error')).toHaveText('This customer is no longer in the local database.');
    // The row's data is still shown, and the app still works.
    await expect(app.detail.getByRole('heading', { name: 'Bart Jansen' })).toBeVisible();
    await app.page.keyboard.press('Escape');
    await expect(app.search).toBeFocused();
  });

  test('ignores a late answer to an earlier query', async ({ openApp }) => {
    // The answer for "s" is held back until after the answer for "schmid".
    const app = await openApp({ searchDelays: { s: 700 } });
    await app.search.pressSequentially('schmid');
    await expect(app.names).toHaveText(['Anna Schmidt']);
    await expect.poll(async () => (await app.backend()).answered).toContain('s');
    const answered = (await app.backend()).answered;
    expect(answered.indexOf('s')).toBeGreaterThan(answered.indexOf('schmid'));
    // Give the stale answer every chance to be rendered.
    await app.page.waitForTimeout(100);
    await expect(app.names).toHaveText(['Anna Schmidt']);
    await expect(app.page.getByRole('heading', { name: 'Customers matching “schmid”' })).toBeVisible();
  });

  test('no match offers to create the customer, pre-filled from the query', async ({ openApp }) => {
    const app = await openApp();
    await app.search.fill('Zoë Quentin');
    const empty = app.page.getByTestId('empty-state');
    await expect(empty).toContainText('No customers match “Zoë Quentin”');
    await expect(app.results).toHaveCount(0);
    await empty.getByRole('button', { name: 'Create “Zoë Quentin” as new customer' }).click();
    await expect(app.page.locator('#first_name')).toBeFocused();
    await expect(app.page.locator('#first_name')).toHaveValue('Zoë');
    await expect(app.page.locator('#last_name')).toHaveValue('Quentin');
    // Enter in the search box does the same when nothing matches.
    await app.page.keyboard.press('Escape');
    await expect(app.search).toHaveValue('Zoë Quentin');
    await app.search.press('Enter');
    await expect(app.page.locator('#last_name')).toHaveValue('Quentin');
  });

  test('Escape in the search box clears the query back to recent customers', async ({ openApp }) => {
    const app = await openApp();
    await app.search.fill('bart');
    await expect(app.names).toHaveText(['Bart Jansen']);
    await app.search.press('Escape');
    await expect(app.search).toHaveValue('');
    await expect(app.page.getByRole('heading', { name: 'Recent customers' })).toBeVisible();
    await expect(app.results).toHaveCount(5);
  });

  test('a failing search is shown in plain words and the app keeps working', async ({ openApp }) => {
    const app = await openApp();
    await app.page.evaluate(() =>
      (
        window as unknown as { __mock: { setFailure(c: string, e: unknown): void } }
      ).__mock.setFailure('search_customers', { code: 'storage', message: 'The database file is locked.', fields: [] }),
    );
    await app.search.fill('anna');
    await expect(app.page.getByTestId('search-error')).toHaveText(
      'Could not search the customers: The database file is locked.',
    );
    await app.openCreate();
    await expect(app.page.locator('#first_name')).toBeFocused();
  });
});
