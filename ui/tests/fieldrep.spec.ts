import type { Customer } from '../src/bindings/Customer';
import type { FormMetadata } from '../src/bindings/FormMetadata';
import { ANNA, SEED_STATUS, expect, test } from './fixtures';

/** A customer only the CRM has (until a lookup caches it). */
function crmCustomer(n: number, extra: Partial<Customer> = {}): Customer {
  return {
    id: `01944a0b-1c00-7a00-8000-0000000009${String(n).padStart(2, '0')}`,
    first_name: `Remote${n}`,
    last_name: 'Schmidtke',
    company: null,
    email: `remote${n}@crm.example`,
    phone: `+44 20 7946 00${String(n).padStart(2, '0')}`,
    phone_e164: `+4420794600${String(n).padStart(2, '0')}`,
    street: null,
    city: 'Leeds',
    postal_code: null,
    country: null,
    tax_id: null,
    notes: null,
    crm_id: `cus_0000${n}`,
    sync_state: 'synced',
    created_at: '2025-04-01T09:00:00Z',
    updated_at: '2025-04-01T09:00:00Z',
    origin: 'crm',
    attributes: {},
    pending_edit: false,
    ...extra,
  };
}

const CRM_FORM: FormMetadata = {
  endpoint: 'crm',
  fetched_at: '2025-05-01T08:00:00Z',
  note: null,
  required_one_of: ['first_name', 'last_name', 'company'],
  fields: [
    {
      name: 'country',
      label: 'Country',
      kind: 'picklist',
      required: false,
      attribute: false,
      options: [
        { value: 'DE', label: 'Germany' },
        { value: 'NL', label: 'Netherlands' },
      ],
    },
    {
      name: 'lead_source',
      label: 'Lead source',
      kind: 'picklist',
      required: true,
      attribute: true,
      options: [
        { value: 'walk_in', label: 'Walk-in' },
        { value: 'web', label: 'Website' },
      ],
    },
  ],
};

test.describe('merged lookup', () => {
  test('local results at once, then the CRM’s appended and marked; arrows reach them', async ({ openApp }) => {
    const app = await openApp({ crmCustomers: [crmCustomer(1), crmCustomer(2)], lookupDelay: 300 });
    await app.search.pressSequentially('schmid');
    // The local answer is there before the CRM's.
    await expect(app.names).toHaveText(['Anna Schmidt']);
    await expect(app.page.getByTestId('from-crm')).toHaveCount(0);
    await expect(app.names).toHaveCount(3);
    await expect(app.names.first()).toHaveText('Anna Schmidt');
    const crmNames = (await app.names.allTextContents()).slice(1).sort();
    expect(crmNames).toEqual(['Remote1 Schmidtke', 'Remote2 Schmidtke']);
    await expect(app.result(ANNA.id).getByTestId('from-crm')).toHaveCount(0);
    await expect(app.page.getByTestId('from-crm')).toHaveCount(2);
    await expect(app.page.getByTestId('remote-note')).toHaveCount(0);
    await app.search.press('ArrowDown');
    await app.search.press('ArrowDown');
    await app.search.press('Enter');
    await expect(app.detail).toContainText('Schmidtke');
    await expect(app.page.getByTestId('detail-origin')).toContainText('From the CRM');
    // Only one CRM request for the whole word typed (debounced).
    const { calls } = await app.backend();
    expect(calls.filter((c) => c.cmd === 'lookup_customers').map((c) => c.args.query)).toEqual(['schmid']);
  });

  for (const [crm, note] of [
    ['offline', 'offline: local results only'],
    ['timed_out', 'the CRM is slow: local results only'],
    ['failed', 'CRM search failed (HTTP 500): local results only'],
  ] as const) {
    test(`${crm}: local results stand with a quiet note`, async ({ openApp }) => {
      const app = await openApp({ crm });
      await app.search.pressSequentially('anna');
      await expect(app.page.getByTestId('remote-note')).toHaveText(note);
      await expect(app.names).toHaveText(['Anna Schmidt']);
      await expect(app.page.getByTestId('search-error')).toHaveCount(0);
      // A new query clears the old note until its own answer.
      await app.search.fill('');
      await expect(app.page.getByTestId('remote-note')).toHaveCount(0);
    });
  }
});

test.describe('creation form from the CRM', () => {
  test('picklists from the cached form, CRM fields stored as attributes, refusals beside the field', async ({ openApp }) => {
    const app = await openApp({ formMetadata: CRM_FORM });
    await app.page.keyboard.press('Control+n');
    await expect(app.page.locator('#first_name')).toBeFocused();
    await expect(app.page.locator('select#country option')).toHaveText(['—', 'Germany', 'Netherlands']);
    await expect(app.page.locator('label[for="attr-lead_source"]')).toHaveText(/^Lead source\s*\*$/);
    await app.page.locator('#last_name').fill('Visser');
    await app.page.locator('#country').selectOption('NL');
    await app.page.locator('#last_name').press('Enter');
    // Required by the CRM: the core refuses, the message is beside the field.
    await expect(app.page.getByTestId('error-lead_source')).toHaveText('Lead source is required.');
    await expect(app.page.getByTestId('attr-lead_source')).toBeFocused();
    await app.page.getByTestId('attr-lead_source').selectOption('web');
    await app.page.locator('#last_name').press('Enter');
    await expect(app.page.getByTestId('create-form')).toHaveCount(0);
    const { customers } = await app.backend();
    const saved = customers.find((c) => c.last_name === 'Visser');
    expect(saved?.country).toBe('NL');
    expect(saved?.attributes).toEqual({ lead_source: 'web' });
  });

  test('never online yet: the built-in form with its note', async ({ openApp }) => {
    const app = await openApp({
      formMetadata: { ...CRM_FORM, endpoint: null, fetched_at: null, fields: [], note: 'The CRM’s own form is not known yet.' },
    });
    await app.page.keyboard.press('Control+n');
    await expect(app.page.getByTestId('form-note')).toHaveText('The CRM’s own form is not known yet.');
    await expect(app.page.locator('input#country')).toBeVisible();
  });
});

test.describe('duplicate check', () => {
  test('the same email in the CRM is offered; opening it leaves the form; or save anyway', async ({ openApp }) => {
    const app = await openApp({ crmCustomers: [crmCustomer(7)] });
    await app.page.keyboard.press('Control+n');
    await app.page.locator('#last_name').fill('Schmidtke');
    await app.page.locator('#email').fill('REMOTE7@crm.example');
    const offer = app.page.getByTestId('duplicates');
    await expect(offer).toContainText('This customer may already exist — open it instead?');
    await expect(offer.getByTestId('duplicate')).toHaveCount(1);
    await expect(offer.getByTestId('duplicate')).toContainText('Remote7 Schmidtke');
    await expect(offer.getByTestId('duplicate')).toContainText('from CRM');
    // The clerk may still create.
    await app.page.locator('#email').press('Enter');
    await expect(app.page.getByTestId('create-form')).toHaveCount(0);
  });

  test('a matching phone number here opens the existing customer', async ({ openApp }) => {
    const app = await openApp();
    await app.page.keyboard.press('Control+n');
    await app.page.locator('#phone').fill(ANNA.phone ?? '');
    await app.page.locator('#phone').blur();
    await app.page.getByTestId('duplicate').click();
    await expect(app.detail).toContainText('Anna Schmidt');
  });
});

test.describe('working set', () => {
  test('size and freshness in the status bar, progress while a pull runs', async ({ openApp }) => {
    const app = await openApp({
      workingSet: { total_local: 48210, updated_at: new Date(Date.now() - 3 * 60_000).toISOString(), pulling: null, last_error: null, pull_enabled: true, deletions_seen: null },
    });
    const line = app.page.getByTestId('status-working-set');
    await expect(line).toHaveText(/^working set: 48[,.\u202f ]?210 customers, updated 3 minutes ago$/);
    await app.emit('working-set-changed', { total_local: 49000, updated_at: null, pulling: 12400, last_error: null, pull_enabled: true, deletions_seen: null });
    await expect(line).toHaveText(/^updating working set… 12[,.\u202f ]?400 received$/);
    await app.emit('working-set-changed', {
      total_local: 49000,
      updated_at: new Date().toISOString(),
      pulling: null,
      last_error: 'the CRM is unreachable: timed out',
      pull_enabled: true,
    });
    await expect(line).toHaveText(/updated just now$/);
    await expect(app.page.getByTestId('status-working-set-error')).toHaveAttribute('title', 'the CRM is unreachable: timed out');
  });

  test('Update now on the Sync screen asks the core for a pull', async ({ openApp }) => {
    const app = await openApp({ status: { ...SEED_STATUS, connection: 'online' } });
    await app.page.keyboard.press('Control+Shift+S');
    await app.page.getByTestId('pull-now').click();
    await expect(app.page.getByTestId('pull-requested')).toBeVisible();
    const { calls } = await app.backend();
    expect(calls.some((c) => c.cmd === 'pull_now')).toBe(true);
  });

  test('with the working set turned off, the Sync screen says so and Update now is disabled', async ({ openApp }) => {
    const app = await openApp({
      status: { ...SEED_STATUS, connection: 'online' },
      workingSet: { total_local: 3, updated_at: new Date().toISOString(), pulling: null, last_error: null, pull_enabled: false, deletions_seen: null },
    });
    await expect(app.page.getByTestId('status-working-set')).toHaveCount(0);
    await app.page.keyboard.press('Control+Shift+S');
    await expect(app.page.getByTestId('sync-working-set')).toContainText('The working set is off');
    await expect(app.page.getByTestId('pull-now')).toBeDisabled();
  });

  test('when the CRM cannot list its deletions, the Sync screen says deleted customers stay', async ({ openApp }) => {
    const ws = { total_local: 3, updated_at: new Date().toISOString(), pulling: null, last_error: null, pull_enabled: true };
    const app = await openApp({ status: { ...SEED_STATUS, connection: 'online' }, workingSet: { ...ws, deletions_seen: false } });
    await app.page.keyboard.press('Control+Shift+S');
    await expect(app.page.getByTestId('sync-deletions-unseen')).toContainText('does not tell Outpost which customers were deleted there');
    await expect(app.page.getByTestId('sync-deletions-unseen')).toContainText('change tracking for the Contact table');
    const listed = await openApp({ status: { ...SEED_STATUS, connection: 'online' }, workingSet: { ...ws, deletions_seen: true } });
    await listed.page.keyboard.press('Control+Shift+S');
    await expect(listed.page.getByTestId('sync-working-set')).toBeVisible();
    await expect(listed.page.getByTestId('sync-deletions-unseen')).toHaveCount(0);
  });
});

test('a customer changed in the CRM while a local change waits shows both versions', async ({ openApp }) => {
  const waiting: Customer = {
    ...crmCustomer(9, { sync_state: 'pending', origin: 'local', city: 'Bath' }),
    crm_version: {
      first_name: 'Remote9',
      last_name: 'Schmidtke',
      company: null,
      email: 'remote9@crm.example',
      phone: '+44 20 7946 0009',
      city: 'Bristol',
      country: null,
      updated_at: '2025-05-02T10:00:00Z',
    },
  };
  const app = await openApp({ customers: [waiting] });
  await app.result(waiting.id).click();
  const versions = app.page.getByTestId('crm-version');
  await expect(versions).toContainText('The CRM has a different version');
  await expect(versions.locator('tbody tr')).toHaveCount(1);
  await expect(versions.locator('tbody tr')).toHaveText(/City\s*Bath\s*Bristol/);
});
