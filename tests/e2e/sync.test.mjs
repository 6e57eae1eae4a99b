// The real app with the CRM emulator: a customer created while the CRM is
// down shows "Pending" and turns "Synced" by itself once the CRM is back.
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

test('a customer created while the CRM is down turns synced by itself when it is back', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-sync-e2e-'));
  const db = join(dir, 'till.db');
  const emu = await startEmulator();
  t.after(async () => {
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  assert.equal((await emu.control('/down')).status, 200);
  execFileSync(process.env.OUTPOST_BIN, ['--db', db, 'endpoints', 'add', '--name', 'emulator', '--kind', 'generic-rest', '--url', emu.crm, '--token-stdin'], {
    input: 'outpost-test-token',
  });

  const app = await launchApp({ env: { OUTPOST_DB: db } });
  try {
    await waitFor(async () => (await app.activeElementId()) === 'search', { what: 'search box focus' });
    const connection = await app.find('[data-testid="status-connection"]');
    await waitFor(async () => /offline/i.test(await connection.text()), { what: 'the status bar to say Offline' });

    await (await app.find('[data-testid="status-bar"]')).text();
    await app.cmd('POST', '/actions', {
      actions: [{ type: 'key', id: 'kb', actions: [{ type: 'keyDown', value: '\uE009' }, { type: 'keyDown', value: 'n' }, { type: 'keyUp', value: 'n' }, { type: 'keyUp', value: '\uE009' }] }],
    });
    await waitFor(async () => (await app.activeElementId()) === 'first_name', { what: 'create form' });
    await (await app.find('#first_name')).type('Katherine');
    await (await app.find('#last_name')).type('Johnson' + Keys.ENTER);

    const row = async () => {
      for (const r of await app.findAll('[data-testid="result"]')) {
        const text = await r.text();
        if (text.includes('Katherine Johnson')) return text;
      }
      return '';
    };
    await waitFor(async () => /Pending/.test(await row()), { what: 'the new customer, pending' });

    assert.equal((await emu.control('/up')).status, 200);
    const back = Date.now();
    await waitFor(async () => /Synced/.test(await row()), { what: 'the badge to turn Synced', timeoutMs: 15_000 });
    const took = Date.now() - back;
    assert.ok(took < 10_000, `synced ${took} ms after the CRM came back`);
    await waitFor(async () => /online/i.test(await connection.text()), { what: 'the status bar to say Online' });
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'synced.png'), await app.screenshot());
  } catch (e) {
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'sync-failure.png'), await app.screenshot().catch(() => Buffer.alloc(0)));
    throw e;
  } finally {
    await app.stop();
  }
  const status = JSON.parse(execFileSync(process.env.OUTPOST_BIN, ['--db', db, '--json', 'status'], { encoding: 'utf8' }));
  assert.equal(status.sent, 1);
});
