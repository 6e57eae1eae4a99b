import { STORAGE_MESSAGES } from '../src/bindings/model';
import { SEED, expect, test, type App } from './fixtures';

const TAB_ORDER = [
  'first_name',
  'last_name',
  'company',
  'email',
  'phone',
  'street',
  'postal_code',
  'city',
  'country',
  'tax_id',
  'notes',
];

async function createCalls(app: App) {
  const { calls } = await app.backend();
  return calls.filter((c) => c.cmd === 'create_customer');
}

test.describe('create', () => {
  test('Ctrl+N and Alt+N open the form with the first field focused; Escape cancels', async ({ openApp }) => {
    const app = await openApp();
    await expect(app.page.getByRole('button', { name: /New customer/ })).toContainText('Ctrl+N');
    await app.page.keyboard.press('Control+n');
    await expect(app.page.getByRole('heading', { name: 'New customer' })).toBeVisible();
    await expect(app.page.locator('#first_name')).toBeFocused();
    await app.page.keyboard.press('Escape');
    await expect(app.search).toBeFocused();
    await expect(app.page.locator('#first_name')).toHaveCount(0);

    // From the detail view as well, with Alt+N.
    await app.search.press('Enter');
    await expect(app.detail).toBeVisible();
    await app.page.keyboard.press('Alt+n');
    await expect(app.page.locator('#first_name')).toBeFocused();
    await app.page.keyboard.press('Escape');
    await expect(app.search).toBeFocused();
    expect(await createCalls(app)).toEqual([]);
  });

  test('every field has a label and Tab follows the natural order', async ({ openApp }) => {
    const app = await openApp();
    await app.openCreate();
    for (const id of TAB_ORDER) {
      await expect(app.page.locator(`label[for="${id}"]`)).toHaveCount(1);
    }
    for (const [i, id] of TAB_ORDER.entries()) {
      await expect(app.page.locator(`#${id}`), `field ${i + 1} of the tab order`).toBeFocused();
      await app.page.keyboard.press('Tab');
    }
    await expect(app.page.locator('button[type=submit]')).toBeFocused();
    await expect(app.page.locator('button[type=submit]')).toHaveText('Save customer');
  });

  test('Enter saves; the new customer is on top as Pending and the pending count goes up', async ({ openApp }) => {
    const app = await openApp();
    await expect(app.page.getByTestId('status-pending')).toHaveText('2 pending');
    await app.openCreate();
    const p = app.page;
    await p.keyboard.type('Lena');
    await p.keyboard.press('Tab');
    await p.keyboard.type('Vogel');
    await p.locator('#email').fill('Lena.Vogel@Example.org');
    await p.locator('#phone').fill('+49 (40) 555-0199');
    await p.locator('#city').fill('Hamburg');
    await p.locator('#country').fill('de');
    await p.locator('#city').press('Enter');

    await expect(app.search).toBeFocused();
    await expect(p.getByRole('status')).toHaveText('Customer saved');
    const top = app.results.first();
    await expect(top.locator('.name')).toHaveText('Lena Vogel');
    await expect(top.getByTestId('sync-badge')).toHaveText('Pending');
    await expect(top).toHaveAttribute('aria-selected', 'true');
    await expect(top).toContainText('lena.vogel@example.org');
    await expect(app.results).toHaveCount(SEED.length + 1);
    await expect(p.getByTestId('status-pending')).toHaveText('3 pending');

    const calls = await createCalls(app);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args).toEqual({
      input: {
        first_name: 'Lena',
        last_name: 'Vogel',
        email: 'Lena.Vogel@Example.org',
        phone: '+49 (40) 555-0199',
        city: 'Hamburg',
        country: 'DE',
      },
    });
    // Enter on the new row opens what the backend stored.
    await app.search.press('Enter');
    await expect(app.detail.getByRole('heading', { name: 'Lena Vogel' })).toBeVisible();
    await expect(app.detail).toContainText('Germany (DE)');
  });

  test('Ctrl+Enter saves from the notes box, where Enter is a new line', async ({ openApp }) => {
    const app = await openApp();
    await app.openCreate();
    const p = app.page;
    await p.locator('#company').fill('Bäckerei Kern');
    await p.locator('#notes').click();
    await p.keyboard.type('Delivers on Mondays.');
    await p.keyboard.press('Enter');
    await p.keyboard.type('Invoice monthly.');
    await expect(p.locator('#notes')).toBeFocused();
    expect(await createCalls(app)).toHaveLength(0);
    await p.keyboard.press('Control+Enter');
    await expect(app.search).toBeFocused();
    await expect(app.results.first().locator('.name')).toHaveText('Bäckerei Kern');
    const calls = await createCalls(app);
    expect(calls[0]?.args).toEqual({ input: { company: 'Bäckerei Kern', notes: 'Delivers on Mondays.\nInvoice monthly.' } });
  });

  test('server field errors appear beside their fields, focus the first, and nothing is created', async ({
    openApp,
  }) => {
    const app = await openApp();
    await app.openCreate();
    const p = app.page;

    // Nothing typed: the name rule is reported on first_name.
    await p.keyboard.press('Enter');
    const nameError = p.getByTestId('error-first_name');
    await expect(nameError).toHaveText('Enter a first or last name, or a company.');
    await expect(p.locator('#first_name')).toHaveAttribute('aria-invalid', 'true');
    await expect(p.locator('#first_name')).toHaveAttribute('aria-describedby', 'error-first_name');
    await expect(p.locator('#first_name')).toBeFocused();

    // Several bad fields at once: each message under its own field.
    await p.locator('#last_name').fill('Okafor');
    await p.locator('#email').fill('chidi(at)example');
    await p.locator('#phone').fill('12-34');
    await p.locator('#country').fill('XX');
    await p.locator('#tax_id').press('Enter');
    await expect(nameError).toHaveCount(0);
    await expect(p.getByTestId('error-email')).toHaveText(
      '"chidi(at)example" is not an email address (like name@example.com).',
    );
    await expect(p.getByTestId('error-phone')).toHaveText('A phone number has 5 to 15 digits; this one has 4.');
    await expect(p.getByTestId('error-country')).toHaveText(
      '"XX" is not a two-letter ISO country code (like DE, FR or US).',
    );
    for (const f of ['email', 'phone', 'country']) {
      await expect(p.locator(`#${f}`)).toHaveAttribute('aria-invalid', 'true');
      await expect(p.locator(`#${f}`)).toHaveAttribute('aria-describedby', `error-${f}`);
    }
    await expect(p.locator('#last_name')).not.toHaveAttribute('aria-invalid', 'true');
    // The error sits right below its own input, inside the same field block.
    const emailBox = await p.locator('#email').boundingBox();
    const emailErr = await p.getByTestId('error-email').boundingBox();
    expect(emailBox && emailErr && emailErr.y >= emailBox.y + emailBox.height - 1).toBe(true);
    expect(emailBox && emailErr && Math.abs(emailErr.x - emailBox.x) < 20).toBe(true);
    await expect(p.locator('#email')).toBeFocused();
    await expect(p.getByTestId('form-error')).toHaveText('');

    const before = await app.backend();
    expect(before.customers).toHaveLength(SEED.length);
    expect(before.status.pending).toBe(2);
    await expect(p.getByTestId('status-pending')).toHaveText('2 pending');

    // Fixing a field clears its message; saving then works.
    await p.locator('#email').fill('chidi@example.com');
    await expect(p.getByTestId('error-email')).toHaveCount(0);
    await p.locator('#phone').fill('+234 1 555 0100');
    await p.locator('#country').fill('NG');
    await p.locator('#country').press('Enter');
    await expect(app.search).toBeFocused();
    await expect(app.results.first().locator('.name')).toHaveText('Okafor');
    expect((await app.backend()).customers).toHaveLength(SEED.length + 1);
  });

  test('a hint appears when leaving a malformed field, before saving', async ({ openApp }) => {
    const app = await openApp();
    await app.openCreate();
    const p = app.page;
    await p.locator('#email').fill('nobody@');
    await expect(p.getByTestId('error-email')).toHaveCount(0); // not while typing
    await p.locator('#email').press('Tab');
    await expect(p.getByTestId('error-email')).toHaveText('"nobody@" is not an email address (like name@example.com).');
    await p.locator('#email').fill('nobody@example.com');
    await expect(p.getByTestId('error-email')).toHaveCount(0);
    expect(await createCalls(app)).toHaveLength(0);
  });

  test('a non-field error is shown in the form-level area and the input is kept', async ({ openApp }) => {
    const app = await openApp({
      failures: { create_customer: { code: 'storage', message: 'The disk is full.', fields: [] } },
    });
    await app.openCreate();
    await app.page.locator('#first_name').fill('Ida');
    await app.page.locator('#first_name').press('Enter');
    await expect(app.page.getByTestId('form-error')).toHaveText('Could not save the customer: The disk is full.');
    await expect(app.page.locator('#first_name')).toHaveValue('Ida');
    await expect(app.page.locator('button[type=submit]')).toBeEnabled();
    await expect(app.page.locator('[aria-invalid="true"]')).toHaveCount(0);
  });

  test('a full disk is said in the core\'s words, the input kept for when space returns', async ({ openApp }) => {
    const app = await openApp({
      failures: { create_customer: { code: 'disk_full', message: STORAGE_MESSAGES.disk_full, fields: [] } },
    });
    await app.openCreate();
    await app.page.locator('#first_name').fill('Ida');
    await app.page.locator('#first_name').press('Enter');
    await expect(app.page.getByTestId('form-error')).toHaveText('the disk is full: nothing was saved');
    await expect(app.page.locator('#first_name')).toHaveValue('Ida');
    await expect(app.page.locator('button[type=submit]')).toBeEnabled();
  });
});
