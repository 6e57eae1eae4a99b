// The real app with the CRM emulator: a customer already in the CRM is
// edited from its detail view (Ctrl+E, Enter saves), shows "Edited, not yet
// sent" until its update is delivered, and the change reaches the CRM with
// the other fields untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchApp, waitFor, Keys } from './webdriver.mjs';
import { startEmulator } from './emulator.mjs';

const artifacts = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');

test('editing a synced customer in the app reaches the CRM', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-edit-e2e-'));
  const db = join(dir, 'till.db');
  const emu = await startEmulator();
  t.after(async () => {
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const cli = (...args) => execFileSync(process.env.OUTPOST_BIN, ['--db', db, ...args], { encoding: 'utf8' });
  execFileSync(process.env.OUTPOST_BIN, ['--db', db, 'endpoints', 'add', '--name', 'emulator', '--kind', 'generic-rest', '--url', emu.crm, '--token-stdin'], {
    input: 'outpost-test-token',
  });
  const key = cli('customers', 'add', '--first-name', 'Grace', '--last-name', 'Hopper', '--city', 'Arlington').trim();
  assert.equal(JSON.parse(cli('--json', 'sync', '--once')).delivered, 1);
  const inCrm = async () => (await emu.records()).find((r) => r.key === key)?.record;
  assert.equal((await inCrm()).city, 'Arlington');

  const app = await launchApp({ env: { OUTPOST_DB: db } });
  try {
    await waitFor(async () => (await app.activeElementId()) === 'search', { what: 'search box focus' });
    const search = await app.find('#search');
    await search.type('Grace');
    await waitFor(async () => (await app.findAll('[data-testid="result"][aria-selected="true"]')).length === 1, {
      what: 'the customer in the lookup',
    });
    await search.type(Keys.ENTER);
    const detail = await app.waitFind('[data-testid="customer-detail"]');
    await waitFor(async () => /Grace Hopper/.test(await detail.text()), { what: 'the detail view' });

    await app.pressCtrl('e');
    await waitFor(async () => (await app.activeElementId()) === 'first_name', { what: 'the edit form' });
    const city = await app.find('#city');
    await city.clear();
    await city.type('Washington' + Keys.ENTER);

    // Saved here at once; the app's engine delivers it on its own.
    const shown = await app.waitFind('[data-testid="customer-detail"]');
    await waitFor(async () => /Washington/.test(await shown.text()), { what: 'the new city in the detail view' });
    await waitFor(async () => (await inCrm())?.city === 'Washington', { what: 'the edit to reach the CRM', timeoutMs: 15_000 });
    await waitFor(async () => (await app.findAll('[data-testid="customer-detail"] [data-testid="edit-badge"]')).length === 0, {
      what: 'the "Edited, not yet sent" badge to go',
      timeoutMs: 15_000,
    });
    const record = await inCrm();
    assert.equal(record.first_name, 'Grace', 'untouched fields stay');
    assert.equal(record.last_name, 'Hopper');
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'edited.png'), await app.screenshot());
  } catch (e) {
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'edit-failure.png'), await app.screenshot().catch(() => Buffer.alloc(0)));
    throw e;
  } finally {
    await app.stop();
  }
  const status = JSON.parse(cli('--json', 'status'));
  assert.equal(status.pending, 0);
  assert.equal(status.conflicts, 0);
  assert.equal((await emu.records()).filter((r) => r.key === key).length, 1, 'in the CRM once');
});
