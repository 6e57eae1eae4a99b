import { BART, BART_REASON, MARTA, SEED, SEED_STATUS, expect, test, type App } from './fixtures';
import type { MockControl } from './mock-backend';

// What the CRM said about Bart's phone, without the leading "phone: ".
const PHONE_MESSAGE = 'Enter a valid phone number (7-25 characters, digits and separators only)';
const DISCARD_QUESTION =
  'Discard Bart Jansen? The CRM never received this customer; it will be removed from this computer.';
const NOT_DISCARDABLE =
  'Only a customer the CRM refused can be discarded; this one is queued or already delivered.';
const ALREADY_IN_CRM =
  'This customer is already in the CRM; change it there (editing synced customers comes in a later version).';
const ONLINE = { status: { ...SEED_STATUS, connection: 'online' as const } };

/** The Sync screen with Bart's refusal listed. */
async function openSync(app: App): Promise<void> {
  await app.page.keyboard.press('Control+Shift+S');
  await expect(app.page.getByTestId('attention-row')).toHaveCount(1);
}

/** Bart's detail view, from the lookup. */
async function openBart(app: App): Promise<void> {
  await app.search.fill('jansen');
  await expect(app.selected()).toContainText('Bart');
  await app.search.press('Enter');
  await expect(app.detail.getByTestId('detail-reason')).toHaveText(BART_REASON);
}

/**
 * The flusher delivered Bart, but the app has not heard yet (no events): what
 * the core sees when a person acts on a list that is a moment old.
 */
async function deliverQuietly(app: App, customerId: string): Promise<void> {
  await app.page.evaluate((id) => {
    const m = (window as unknown as { __mock: MockControl }).__mock;
    for (const msg of m.outbox) if (msg.customer_id === id) msg.state = 'sent';
    const c = m.customers.find((x) => x.id === id);
    if (c) {
      c.sync_state = 'synced';
      c.crm_id = 'CRM-2003';
    }
  }, customerId);
}

test.beforeEach(({ page }) => {
  // The confirmation is in the page: a native dialog would fail the test.
  page.on('dialog', (d) => {
    void d.dismiss();
    throw new Error(`unexpected native dialog: ${d.message()}`);
  });
});

test.describe('Fix and resend', () => {
  test('from the Sync screen: the refused field is highlighted with the CRM reason; the correction is saved and resent', async ({
    openApp,
  }) => {
    const app = await openApp(ONLINE);
    const p = app.page;
    await openSync(app);
    const row = p.getByTestId('attention-row');
    await expect(row.getByTestId('fix-customer')).toHaveAccessibleName('Fix and resend Bart Jansen');
    await row.getByTestId('fix-customer').click();

    const form = p.getByTestId('fix-form');
    await expect(form.getByRole('heading', { name: 'Fix and resend' })).toBeVisible();
    // The field the CRM named: focused, marked, its message right below it.
    const phone = p.locator('#phone');
    await expect(phone).toBeFocused();
    await expect(phone).toHaveValue('+31 20 555 1234');
    await expect(phone).toHaveAttribute('aria-invalid', 'true');
    await expect(phone).toHaveAttribute('aria-describedby', 'error-phone');
    await expect(p.getByTestId('error-phone')).toHaveText(PHONE_MESSAGE);
    await expect(p.locator('[aria-invalid="true"]')).toHaveCount(1);
    // Everything else prefilled from the stored customer.
    await expect(p.locator('#first_name')).toHaveValue('Bart');
    await expect(p.locator('#last_name')).toHaveValue('Jansen');
    await expect(p.locator('#company')).toHaveValue('Jansen Fietsen BV');
    await expect(p.locator('#email')).toHaveValue('bart@jansen.nl');
    await expect(p.locator('#country')).toHaveValue('NL');
    await expect(form.locator('button[type=submit]')).toHaveText('Save and resend');

    // Corrected: no longer an error, the CRM's words stay as a note.
    await phone.fill('+31205551234');
    await expect(p.getByTestId('error-phone')).toHaveCount(0);
    await expect(phone).not.toHaveAttribute('aria-invalid', 'true');
    await expect(p.getByTestId('crm-note-phone')).toHaveText(`The CRM said: ${PHONE_MESSAGE}`);
    await expect(phone).toHaveAttribute('aria-describedby', 'crm-note-phone');
    await phone.press('Enter');

    // Back on the Sync screen, the refusal gone and the counts moved.
    await expect(p.getByTestId('sync-screen')).toBeVisible();
    await expect(p.getByTestId('attention-empty')).toHaveText('Nothing needs attention.');
    await expect(p.getByTestId('summary-attention')).toHaveText('0');
    await expect(p.getByTestId('summary-pending')).toHaveText('3');
    await expect(p.getByTestId('status-attention')).toHaveCount(0);
    await expect(p.getByTestId('status-pending')).toHaveText('3 pending');
    await expect(p.getByRole('status').filter({ hasText: 'Customer corrected' })).toHaveText(
      'Customer corrected and queued again',
    );

    expect(await app.commands()).toEqual(expect.arrayContaining(['update_customer', 'retry_customer']));
    const cmds = await app.commands();
    expect(cmds.indexOf('update_customer')).toBeLessThan(cmds.lastIndexOf('retry_customer'));
    expect(await app.callsOf('update_customer')).toEqual([
      {
        id: BART.id,
        input: {
          first_name: 'Bart',
          last_name: 'Jansen',
          company: 'Jansen Fietsen BV',
          email: 'bart@jansen.nl',
          phone: '+31205551234',
          city: 'Amsterdam',
          country: 'NL',
        },
      },
    ]);
    expect(await app.callsOf('retry_customer')).toEqual([{ id: BART.id }]);
    const stored = (await app.backend()).customers.find((c) => c.id === BART.id);
    expect(stored?.phone).toBe('+31205551234');
    expect(stored?.sync_state).toBe('pending');

    // Bart waits with the others.
    await p.getByTestId('pending-list').locator('summary').click();
    await expect(p.getByTestId('pending-row')).toHaveCount(3);
  });

  test('from the detail view: Escape cancels; a field error stays in the form; saving returns to the detail as Pending', async ({
    openApp,
  }) => {
    const app = await openApp(ONLINE);
    const p = app.page;
    await openBart(app);

    // Keyboard: the button is reachable; Escape leaves the form without saving.
    await app.detail.getByTestId('fix-customer').focus();
    await p.keyboard.press('Enter');
    await expect(p.locator('#phone')).toBeFocused();
    await expect(p.getByTestId('error-phone')).toHaveText(PHONE_MESSAGE);
    await p.keyboard.press('Escape');
    await expect(app.detail.getByTestId('detail-attention')).toBeVisible();
    await expect(app.detail.getByTestId('sync-badge')).toHaveText('Needs attention');
    expect(await app.callsOf('update_customer')).toEqual([]);

    await app.detail.getByTestId('fix-customer').click();
    await expect(p.locator('#phone')).toBeFocused();
    // The server refuses the correction: the message beside the field, nothing resent.
    await p.locator('#phone').fill('call me');
    await p.locator('#email').fill('bart(at)jansen');
    await p.locator('#phone').press('Enter');
    await expect(p.getByTestId('error-phone')).toHaveText(
      "Use digits, spaces and - . ( ) / only, with an optional leading +; 'c' is not allowed.",
    );
    await expect(p.getByTestId('error-email')).toHaveText(
      '"bart(at)jansen" is not an email address (like name@example.com).',
    );
    await expect(p.locator('#email')).toHaveAttribute('aria-invalid', 'true');
    await expect(p.locator('#email')).toBeFocused(); // the first field in the form's order
    await expect(p.getByTestId('fix-form')).toBeVisible();
    expect(await app.callsOf('update_customer')).toHaveLength(1);
    expect(await app.callsOf('retry_customer')).toEqual([]);
    expect((await app.backend()).customers.find((c) => c.id === BART.id)?.phone).toBe('+31 20 555 1234');

    await p.locator('#phone').fill('+31 20 555 12345');
    await p.locator('#email').fill('bart@jansen-fietsen.nl');
    await p.keyboard.press('Control+Enter');

    await expect(app.detail.getByTestId('sync-badge')).toHaveText('Pending');
    await expect(app.detail.getByTestId('detail-attention')).toHaveCount(0);
    await expect(app.detail).toContainText('+31 20 555 12345');
    await expect(app.detail).toContainText('bart@jansen-fietsen.nl');
    await expect(app.detail.getByRole('button', { name: /Back to search/ })).toBeFocused();
    await expect(p.getByTestId('status-attention')).toHaveCount(0);
    expect(await app.callsOf('retry_customer')).toEqual([{ id: BART.id }]);

    // Back is still where the detail came from.
    await p.keyboard.press('Escape');
    await expect(app.search).toBeFocused();
    await expect(app.result(BART.id).getByTestId('sync-badge')).toHaveText('Pending');
  });

  test('from a detail opened on the Sync screen, saving returns there and Escape then goes to Sync', async ({ openApp }) => {
    const app = await openApp(ONLINE);
    const p = app.page;
    await openSync(app);
    await p.getByTestId('attention-row').getByRole('button', { name: 'Open customer' }).click();
    await app.detail.getByTestId('fix-customer').click();
    await p.locator('#phone').fill('+31205551234');
    await p.locator('#phone').press('Enter');
    await expect(app.detail.getByTestId('sync-badge')).toHaveText('Pending');
    await expect(app.detail.getByRole('button', { name: /Back to sync/ })).toBeVisible();
    await p.keyboard.press('Escape');
    await expect(p.getByTestId('attention-empty')).toBeVisible();
    await expect(p.getByTestId('summary-attention')).toHaveText('0');
  });

  test('a reason that names no field is shown above the form, nothing is marked', async ({ openApp }) => {
    const app = await openApp(ONLINE);
    const p = app.page;
    await openSync(app);
    await app.moveMessages(MARTA.id, 'needs-attention', 'Duplicate contact: the CRM already has one like it');
    const marta = p.getByTestId('attention-row').filter({ hasText: 'Marta Schmitz' });
    await marta.getByTestId('fix-customer').click();
    await expect(p.getByTestId('fix-reason')).toHaveText(
      'The CRM’s reason: Duplicate contact: the CRM already has one like it',
    );
    await expect(p.locator('#first_name')).toBeFocused();
    await expect(p.locator('#first_name')).toHaveValue('Marta');
    await expect(p.locator('[aria-invalid="true"]')).toHaveCount(0);
    // Cancel returns to the Sync screen untouched.
    await p.getByRole('button', { name: /Cancel/ }).click();
    await expect(p.getByTestId('attention-row')).toHaveCount(2);
    expect(await app.callsOf('update_customer')).toEqual([]);
  });

  test('a customer that reached the CRM meanwhile: the core’s refusal is shown and the form kept', async ({ openApp }) => {
    const app = await openApp(ONLINE);
    const p = app.page;
    await openSync(app);
    await p.getByTestId('fix-customer').click();
    await p.locator('#phone').fill('+31205551234');
    await deliverQuietly(app, BART.id);
    await p.locator('#phone').press('Enter');
    await expect(p.getByTestId('form-error')).toHaveText(ALREADY_IN_CRM);
    await expect(p.getByTestId('fix-form')).toBeVisible();
    await expect(p.locator('#phone')).toHaveValue('+31205551234');
    expect(await app.callsOf('retry_customer')).toEqual([]);
  });

  test('saved but not resent: says so, and saving again resends', async ({ openApp }) => {
    const app = await openApp({
      ...ONLINE,
      failures: { retry_customer: { code: 'storage', message: 'The database is busy.', fields: [] } },
    });
    const p = app.page;
    await openSync(app);
    await p.getByTestId('fix-customer').click();
    await p.locator('#phone').fill('+31205551234');
    await p.locator('#phone').press('Enter');
    await expect(p.getByTestId('form-error')).toContainText('The correction is saved, but the customer could not be sent again: The database is busy.');
    await p.evaluate(() => (window as unknown as { __mock: MockControl }).__mock.clearFailure('retry_customer'));
    await p.getByRole('button', { name: 'Save and resend' }).click();
    await expect(p.getByTestId('attention-empty')).toBeVisible();
    expect(await app.callsOf('update_customer')).toHaveLength(2);
  });
});

test.describe('Discard', () => {
  test('on the Sync screen: asks in the page; Escape and Cancel keep the customer; Discard removes it', async ({ openApp }) => {
    const app = await openApp(ONLINE);
    const p = app.page;
    await openSync(app);
    const row = p.getByTestId('attention-row');
    const ask = row.getByTestId('discard-customer');

    await ask.click();
    const confirm = p.getByTestId('discard-confirm');
    await expect(confirm).toHaveText(new RegExp(`^${DISCARD_QUESTION.replace(/[?.]/g, '\\$&')}`));
    await expect(confirm.locator('p')).toHaveText(DISCARD_QUESTION);
    await expect(confirm).toHaveAccessibleName(DISCARD_QUESTION);
    await expect(p.getByTestId('confirm-discard')).toBeFocused();
    await expect(p.getByTestId('confirm-discard')).toHaveText('Discard');
    // Escape cancels the question, not the screen.
    await p.keyboard.press('Escape');
    await expect(confirm).toHaveCount(0);
    await expect(p.getByTestId('sync-screen')).toBeVisible();
    await expect(ask).toBeFocused();

    await p.keyboard.press('Enter');
    await confirm.getByRole('button', { name: /Cancel/ }).click();
    await expect(confirm).toHaveCount(0);
    await expect(row).toHaveCount(1);
    expect(await app.callsOf('discard_customer')).toEqual([]);

    await ask.click();
    await p.getByTestId('confirm-discard').click();
    await expect(p.getByTestId('attention-row')).toHaveCount(0);
    await expect(p.getByTestId('attention-empty')).toHaveText('Nothing needs attention.');
    await expect(p.getByTestId('summary-attention')).toHaveText('0');
    await expect(p.getByTestId('status-attention')).toHaveCount(0);
    await expect(p.getByTestId('notice')).toHaveText('Customer discarded');
    await expect(p.getByTestId('notice')).toHaveAttribute('role', 'status');
    await expect(p.locator('#attention-heading')).toBeFocused();
    expect(await app.callsOf('discard_customer')).toEqual([{ id: BART.id }]);
    const { customers, status } = await app.backend();
    expect(customers.map((c) => c.id)).not.toContain(BART.id);
    expect(status.customers).toBe(SEED.length - 1);

    // Gone from the lookup too.
    await p.keyboard.press('Escape');
    await app.search.fill('jansen');
    await expect(app.results).toHaveCount(0);
  });

  test('in the detail view: Escape keeps it; Discard returns to the list with a notice', async ({ openApp }) => {
    const app = await openApp(ONLINE);
    const p = app.page;
    await openBart(app);
    await app.detail.getByTestId('discard-customer').click();
    await expect(app.detail.getByTestId('discard-confirm').locator('p')).toHaveText(DISCARD_QUESTION);
    await expect(app.detail.getByTestId('confirm-discard')).toBeFocused();
    await p.keyboard.press('Escape');
    await expect(app.detail.getByTestId('discard-confirm')).toHaveCount(0);
    await expect(app.detail).toBeVisible();
    await expect(app.detail.getByTestId('discard-customer')).toBeFocused();

    await p.keyboard.press('Enter');
    await p.keyboard.press('Enter'); // on "Discard", focused
    await expect(p.getByTestId('notice')).toHaveText('Customer discarded');
    await expect(app.search).toBeFocused();
    await app.search.fill('jansen');
    await expect(app.results).toHaveCount(0);
    await expect(p.getByTestId('status-attention')).toHaveCount(0);
  });

  test('a customer delivered meanwhile cannot be discarded: the core’s message is shown (Sync screen)', async ({ openApp }) => {
    const app = await openApp(ONLINE);
    const p = app.page;
    await openSync(app);
    await p.getByTestId('discard-customer').click();
    await deliverQuietly(app, BART.id);
    await p.getByTestId('confirm-discard').click();
    await expect(p.getByRole('alert').filter({ hasText: 'Could not discard' })).toHaveText(
      `Could not discard Bart Jansen: ${NOT_DISCARDABLE}`,
    );
    // The list shows the outbox as it is now; nothing was removed.
    await expect(p.getByTestId('attention-row')).toHaveCount(0);
    await expect(p.getByTestId('notice')).toHaveText('');
    expect((await app.backend()).customers.map((c) => c.id)).toContain(BART.id);
  });

  test('a customer delivered meanwhile cannot be discarded: the core’s message is shown (detail)', async ({ openApp }) => {
    const app = await openApp(ONLINE);
    await openBart(app);
    await app.detail.getByTestId('discard-customer').click();
    await deliverQuietly(app, BART.id);
    await app.detail.getByTestId('confirm-discard').click();
    await expect(app.detail.getByTestId('discard-error')).toHaveText(`Could not discard: ${NOT_DISCARDABLE}`);
    await expect(app.detail.getByTestId('sync-badge')).toHaveText('Synced');
    await expect(app.detail.getByTestId('detail-attention')).toHaveCount(0);
    await expect(app.detail).toBeVisible();
  });
});
