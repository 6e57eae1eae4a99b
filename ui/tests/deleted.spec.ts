import { ANNA, CAFE, SEED, SEED_OUTBOX, SEED_STATUS, expect, test, type App } from './fixtures';

// Anna was deleted in the CRM while a phone change made here was unsent: the
// core kept her, marked, with the change held in needs attention.
const DELETED_AT = '2025-05-02T09:00:00Z';
const CUSTOMERS = SEED.map((c) =>
  c.id === ANNA.id ? { ...c, phone: '+49 30 7654321', pending_edit: true, crm_deleted_at: DELETED_AT } : c,
);
const OUTBOX = [
  ...SEED_OUTBOX,
  {
    id: 100,
    customer_id: ANNA.id,
    kind: 'customer.update',
    state: 'needs-attention' as const,
    attempts: 0,
    next_attempt_at: DELETED_AT,
    last_error: 'deleted in the CRM',
    refused_field: null,
    refusal_message: 'deleted in the CRM',
    created_at: DELETED_AT,
    payload: {},
  },
];

async function openAnna(app: App): Promise<void> {
  await app.search.fill('anna');
  await expect(app.selected()).toContainText('Anna Schmidt');
  await expect(app.selected().getByTestId('deleted-badge')).toHaveText('Deleted in the CRM');
  await expect(app.result(CAFE.id).getByTestId('deleted-badge')).toHaveCount(0);
  await app.search.press('Enter');
  await expect(app.detail.getByRole('heading', { name: 'Anna Schmidt' })).toBeVisible();
}

test.describe('deleted in the CRM', () => {
  test('the detail says so with the unsent change visible; "Create again as new" makes a new customer', async ({ openApp }) => {
    const app = await openApp({ customers: CUSTOMERS, outbox: OUTBOX, status: { ...SEED_STATUS, deleted_in_crm: 1 } });
    await openAnna(app);
    const box = app.detail.getByTestId('detail-deleted');
    await expect(box).toContainText('Deleted in the CRM');
    await expect(box).toContainText('not sent');
    await expect(app.detail.getByTestId('deleted-badge')).toBeVisible();
    await expect(app.detail.getByTestId('edit-badge')).toHaveText('Edited, not yet sent');
    await expect(app.detail).toContainText('+49 30 7654321');
    // It cannot be edited any more: only the two choices are left.
    await expect(app.detail.getByTestId('edit-customer')).toHaveCount(0);

    await box.getByTestId('deleted-recreate').click();
    await expect(app.page.getByRole('status').filter({ hasText: 'Created again as a new customer' })).toBeVisible();
    await expect(app.detail.getByTestId('detail-deleted')).toHaveCount(0);
    await expect(app.detail.getByTestId('deleted-badge')).toHaveCount(0);
    await expect(app.detail.getByTestId('sync-badge')).toHaveText('Pending');
    await expect(app.detail).toContainText('+49 30 7654321');
    expect(await app.callsOf('recreate_customer')).toEqual([{ id: ANNA.id }]);
    const { customers } = await app.backend();
    const annas = customers.filter((c) => c.first_name === 'Anna');
    expect(annas.map((c) => [c.id === ANNA.id, c.phone])).toEqual([[false, '+49 30 7654321']]);
  });

  test('"Discard" removes it from this computer', async ({ openApp }) => {
    const app = await openApp({ customers: CUSTOMERS, outbox: OUTBOX, status: { ...SEED_STATUS, deleted_in_crm: 1 } });
    await openAnna(app);
    await app.detail.getByTestId('deleted-discard').click();
    await expect(app.page.getByRole('status').filter({ hasText: 'Customer discarded' })).toBeVisible();
    expect(await app.callsOf('discard_customer')).toEqual([{ id: ANNA.id }]);
    const { customers } = await app.backend();
    expect(customers.some((c) => c.id === ANNA.id)).toBe(false);
  });
});
