// The UI holds no copy of the core's rules: its form, labels, limits, hints
// and settings defaults come from the generated model (src/bindings/model.ts).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as Model from '../src/bindings/model';
import type { FieldSpec } from '../src/bindings/FieldSpec';
import type { MockControl } from './mock-backend';
import { expect, test } from './fixtures';

const FIELDS: readonly FieldSpec[] = Model.FIELDS;

test.describe('the generated model', () => {
  test('the create form is the core’s field list: order, labels and limits', async ({ openApp }) => {
    const app = await openApp();
    await app.openCreate();
    const form = app.page.getByTestId('create-form');
    await expect(form.locator('.grid > .field')).toHaveCount(FIELDS.length);
    for (const [i, f] of FIELDS.entries()) {
      const box = form.locator('.grid > .field').nth(i);
      await expect(box.locator(`label[for="${f.name}"]`)).toHaveText(f.label);
      await expect(box.locator(`#${f.name}`)).toHaveAttribute('maxlength', String(f.max_len));
    }
    await expect(app.page.locator('#country-codes option')).toHaveCount(Model.COUNTRIES.length);
  });

  test('a field the core adds appears in the form, is sent, and is shown in the detail', async ({ page, openApp }) => {
    // A core with one more field: its generated list, in the built app and in the mock.
    const last = FIELDS[FIELDS.length - 1]?.name ?? '';
    const extra: FieldSpec = {
      name: 'loyalty_card' as FieldSpec['name'],
      label: 'Loyalty card',
      max_len: 16,
      type: 'text',
      search: null,
      names_customer: false,
      hint: '1234',
    };
    await page.route('**/assets/*.js', async (route) => {
      const response = await route.fetch();
      const body = await response.text();
      const at = body.indexOf(`name:"${last}"`);
      const end = body.indexOf('}', at);
      expect(at, 'the field list in the bundle').toBeGreaterThan(0);
      const added = `,{hint:"1234",label:"Loyalty card",max_len:16,name:"loyalty_card",names_customer:!1,search:null,type:"text"}`;
      await route.fulfill({ response, body: body.slice(0, end + 1) + added + body.slice(end + 1) });
    });
    const app = await openApp({ fields: [...FIELDS, extra] });
    await app.openCreate();
    const p = app.page;
    await expect(p.locator('label[for="loyalty_card"]')).toHaveText('Loyalty card');
    await expect(p.locator('#loyalty_card')).toHaveAttribute('maxlength', '16');
    await p.locator('#last_name').fill('Adeyemi');
    await p.locator('#loyalty_card').fill('LC-0042');
    await p.locator('#loyalty_card').press('Enter');
    await expect(app.search).toBeFocused();
    const calls = await app.callsOf('create_customer');
    expect(calls[0]?.input).toEqual({ last_name: 'Adeyemi', loyalty_card: 'LC-0042' });
    await app.search.press('Enter');
    await expect(app.detail.locator('.row', { hasText: 'Loyalty card' })).toContainText('LC-0042');
  });

  test('early hints: the model’s rules at once, the core’s answer for the rest', async ({ openApp }) => {
    const app = await openApp();
    await app.openCreate();
    const p = app.page;
    // The core does not answer: what the model knows is still hinted.
    await p.evaluate(() =>
      (window as unknown as { __mock: MockControl }).__mock.setFailure('check_customer', { code: 'internal', message: 'no', fields: [] }),
    );
    await p.locator('#country').fill('XX');
    await p.locator('#country').press('Tab');
    await expect(p.getByTestId('error-country')).toHaveText(
      Model.MESSAGES.not_a_country.replace('{value}', 'XX'),
    );
    // Through every field that could name the customer, and all left empty.
    for (const f of FIELDS.filter((x) => x.names_customer)) {
      await p.locator(`#${f.name}`).focus();
      await p.locator(`#${f.name}`).blur();
    }
    await expect(p.getByTestId('error-first_name')).toHaveText(Model.MESSAGES.name_required);
    await p.locator('#company').fill('Adeyemi Ltd');
    await expect(p.getByTestId('error-first_name')).toHaveCount(0);

    // Email syntax is the core's: asked while typing, shown once the field is left.
    await p.evaluate(() => (window as unknown as { __mock: MockControl }).__mock.clearFailure('check_customer'));
    await p.locator('#email').fill('nobody@');
    await p.locator('#email').press('Tab');
    await expect(p.getByTestId('error-email')).toHaveText('"nobody@" is not an email address (like name@example.com).');
    const checks = await app.callsOf('check_customer');
    expect(checks.at(-1)?.input).toEqual({ company: 'Adeyemi Ltd', email: 'nobody@', country: 'XX' });
    expect(await app.callsOf('create_customer')).toEqual([]);
  });

  test('the settings form shows each kind’s defaults and sign-in methods from the model', async ({ openApp }) => {
    const app = await openApp({ adminPassphrase: 'till-proof passphrase' });
    const p = app.page;
    await app.unlockSettings();
    await p.getByTestId('add-endpoint').click();
    for (const k of Model.ENDPOINT_KINDS) {
      await p.locator('#ep-kind').selectOption(k.kind);
      await expect(p.locator('#ep-url')).toHaveAttribute('placeholder', k.url_placeholder);
      // The token label where the kind signs in with a token (Salesforce only with OAuth).
      if (k.auth_methods.includes('token')) {
        if (k.auth_methods.length > 1) await p.locator('#ep-auth').selectOption('token');
        await expect(p.locator('label[for="ep-token"]')).toHaveText(k.token_label);
      } else {
        await expect(p.locator('#ep-token')).toHaveCount(0);
      }
      await expect(p.locator('#ep-batch-size')).toHaveAttribute('placeholder', String(k.batch_size));
      await expect(p.locator('#ep-rate-limit')).toHaveAttribute('placeholder', k.rate_limit === null ? 'no limit' : String(k.rate_limit));
      await expect(p.locator('#ep-rate-window')).toHaveAttribute('placeholder', String(k.rate_window_secs));
      await expect(p.locator('#ep-key-property')).toHaveCount(k.key_property === null ? 0 : 1);
      if (k.key_property !== null) await expect(p.locator('#ep-key-property')).toHaveAttribute('placeholder', k.key_property);
      await expect(p.locator('#ep-pull-owner')).toHaveCount(k.filters_by_owner ? 1 : 0);
      const labels = k.auth_methods.map((m) => Model.AUTH_METHODS.find((a) => a.method === m)?.label);
      await expect(p.locator('#ep-auth option')).toHaveText(labels.map((l) => l ?? ''));
    }
  });
});

/** Every .ts and .svelte file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|svelte)$/.test(name) ? [path] : [];
  });
}

/** The longest literal stretch of a message template (what a copy would contain). */
function fragment(template: string): string {
  return template.split(/\{[a-z_]+\}/).reduce((a, b) => (b.length > a.length ? b : a), '');
}

test('no file of the UI (nor the tests’ mock) holds a copy of the core’s words', () => {
  const root = new URL('..', import.meta.url).pathname;
  const files = [
    ...sources(join(root, 'src')).filter((f) => !f.includes('/bindings/')),
    join(root, 'tests/mock-backend.ts'),
  ];
  const messages = [
    ...Object.values(Model.MESSAGES),
    ...Object.values(Model.ENDPOINT_MESSAGES),
    ...Object.values(Model.CONNECTION_MESSAGES),
    ...Object.values(Model.ENDPOINT_LIMITS).map((r) => r.message),
    ...Model.SECRETS.map((s) => s.missing),
    Model.SECRET_RULE.message,
    Model.ADMIN.weak,
  ].map(fragment);
  const quoted = (s: string) => [`'${s}'`, `"${s}"`, `>${s}<`];
  const names = [
    ...FIELDS.map((f) => f.label),
    ...Model.ENDPOINT_KINDS.flatMap((k) => [k.label, k.token_label]),
    ...Model.AUTH_METHODS.map((a) => a.label),
    ...Model.COUNTRIES.slice(0, 20).map((c) => c.name),
  ].flatMap(quoted);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of messages) expect(text.includes(m), `${file} copies the core's "${m}"`).toBe(false);
    for (const n of names) expect(text.includes(n), `${file} copies the core's ${n}`).toBe(false);
  }
});
