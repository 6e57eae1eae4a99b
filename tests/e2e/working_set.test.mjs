// The real app as a rep's laptop: the CRM's customers are pulled in the
// background and stay findable in the lookup after the CRM goes away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchApp, waitFor } from './webdriver.mjs';
import { startEmulator } from './emulator.mjs';

const artifacts = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');

test('customers pulled from the CRM are found in the lookup, also offline', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-working-set-e2e-'));
  const db = join(dir, 'laptop.db');
  const emu = await startEmulator();
  t.after(async () => {
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  // 500 customers that exist only in the CRM ("Seed Customer N", seedN@example.com).
  const seeded = await emu.post('/seed', { api: 'rest', count: 500 });
  assert.equal(seeded.status, 200);
  execFileSync(process.env.OUTPOST_BIN, ['--db', db, 'endpoints', 'add', '--name', 'crm', '--kind', 'generic-rest', '--url', emu.crm, '--token-stdin'], {
    input: 'outpost-test-token',
  });

  const app = await launchApp({ env: { OUTPOST_DB: db } });
  try {
    await waitFor(async () => (await app.activeElementId()) === 'search', { what: 'search box focus' });
    const search = await app.find('#search');
    const rows = async () => Promise.all((await app.findAll('[data-testid="result"]')).map((r) => r.text()));

    await search.type('seed499@');
    await waitFor(async () => (await rows()).some((t) => t.includes('Customer 499')), {
      what: 'a customer that only the CRM had',
      timeoutMs: 20_000,
    });

    assert.equal((await emu.control('/down')).status, 200);
    await search.clear();
    await search.type('customer 42');
    await waitFor(async () => (await rows()).some((t) => t.includes('Customer 42')), {
      what: 'a pulled customer found with the CRM down',
    });
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'working-set.png'), await app.screenshot());
  } catch (e) {
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'working-set-failure.png'), await app.screenshot().catch(() => Buffer.alloc(0)));
    throw e;
  } finally {
    await app.stop();
  }
});
