// The real app in a real WebKit window: a clerk creates a customer with the
// keyboard and finds it again; the outbox count goes up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchApp, waitFor, Keys } from './webdriver.mjs';

const artifacts = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');

function cli(db, ...args) {
  return JSON.parse(execFileSync(process.env.OUTPOST_BIN, ['--db', db, '--json', ...args], { encoding: 'utf8' }));
}

async function pressCtrl(app, key) {
  await app.cmd('POST', '/actions', {
    actions: [
      {
        type: 'key',
        id: 'keyboard',
        actions: [
          { type: 'keyDown', value: '\uE009' },
          { type: 'keyDown', value: key },
          { type: 'keyUp', value: key },
          { type: 'keyUp', value: '\uE009' },
        ],
      },
    ],
  });
}

test('a customer created in the window is found at once, pending, and queued', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-smoke-'));
  const db = join(dir, 'till.db');
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  const app = await launchApp({ env: { OUTPOST_DB: db } });
  try {
    // The search box has focus as soon as the window is up.
    await waitFor(async () => (await app.activeElementId()) === 'search', { what: 'search box focus' });
    const connection = await app.waitFind('[data-testid="status-connection"]');
    assert.match(await connection.text(), /not configured/i);

    await pressCtrl(app, 'n');
    await waitFor(async () => (await app.activeElementId()) === 'first_name', { what: 'create form focus' });
    await (await app.find('#first_name')).type('Grace');
    await (await app.find('#last_name')).type('Hopper');
    await (await app.find('#email')).type('Grace.Hopper@Example.com');
    await (await app.find('#phone')).type('+1 555 0100');
    await (await app.find('#city')).type('Arlington');
    await (await app.find('#city')).type(Keys.ENTER);

    // Back on lookup: the new customer is listed with a pending badge.
    const row = await waitFor(
      async () => {
        for (const r of await app.findAll('[data-testid="result"]')) {
          if ((await r.text()).includes('Grace Hopper')) return r;
        }
      },
      { what: 'the new customer in the results' },
    );
    assert.match(await row.text(), /Pending/);
    await waitFor(async () => /1 pending/i.test(await (await app.find('[data-testid="status-pending"]')).text()), {
      what: 'the pending count to reach 1',
    });

    // Type-ahead by an email fragment finds her.
    const search = await app.find('#search');
    await search.clear();
    await search.type('hopper@exa');
    await waitFor(async () => {
      const rows = await app.findAll('[data-testid="result"]');
      return rows.length === 1 && (await rows[0].text()).includes('grace.hopper@example.com');
    }, { what: 'search by email fragment' });

    // Open the detail view with the keyboard.
    await search.type(Keys.ARROW_DOWN + Keys.ENTER);
    const detail = await app.waitFind('[data-testid="customer-detail"]');
    assert.match(await detail.text(), /Arlington/);
    await search.type(Keys.ESCAPE).catch(() => {});

    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'smoke.png'), await app.screenshot());
  } catch (e) {
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'smoke-failure.png'), await app.screenshot().catch(() => Buffer.alloc(0)));
    throw e;
  } finally {
    await app.stop();
  }

  // The same store, read by the CLI: the customer and its outbox message are there.
  const found = cli(db, 'customers', 'search', 'grace');
  assert.equal(found.length, 1);
  assert.equal(found[0].email, 'grace.hopper@example.com');
  assert.equal(found[0].sync_state, 'pending');
  const status = cli(db, 'status');
  assert.equal(status.pending, 1);
  const outbox = cli(db, 'outbox', 'list', '--state', 'pending');
  assert.equal(outbox[0].customer_id, found[0].id);
});
