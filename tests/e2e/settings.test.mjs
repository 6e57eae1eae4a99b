// The real app with the CRM emulator as HubSpot: an admin sets the passphrase
// on first run, adds the emulator in Settings, tests and saves it, and the
// customers created while no CRM was configured arrive exactly once. Once the
// settings are locked, a clerk cannot open them without the passphrase.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchApp, waitFor, Keys } from './webdriver.mjs';
import { startEmulator } from './emulator.mjs';

const artifacts = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');
const PASSPHRASE = 'back office key 2026';

function cli(db, ...args) {
  return JSON.parse(execFileSync(process.env.OUTPOST_BIN, ['--db', db, '--json', ...args], { encoding: 'utf8' }));
}

test('an admin configures the emulator as HubSpot in Settings and the waiting customers flow, once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-settings-e2e-'));
  const db = join(dir, 'till.db');
  // A private-app token of this run only, so a pass proves the typed one was used.
  const token = `pat-e2e-${randomUUID()}`;
  const emu = await startEmulator({ env: { CRM_EMULATOR_TOKEN: token } });
  t.after(async () => {
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // The till was used before any CRM was set up.
  const waiting = [
    cli(db, 'customers', 'add', '--first-name', 'Ada', '--last-name', 'Lovelace', '--email', 'ada@example.com'),
    cli(db, 'customers', 'add', '--first-name', 'Grace', '--last-name', 'Hopper', '--email', 'grace@example.com'),
  ];

  const app = await launchApp({ env: { OUTPOST_DB: db } });
  const rowText = async (name) => {
    for (const r of await app.findAll('[data-testid="result"]')) {
      const text = await r.text();
      if (text.includes(name)) return text;
    }
    return '';
  };
  const invoke = (command) =>
    app.executeAsync(
      `const done = arguments[arguments.length - 1];
       window.__TAURI_INTERNALS__.invoke(arguments[0]).then((v) => done({ ok: v }), (e) => done({ err: e }));`,
      [command],
    );
  try {
    await waitFor(async () => (await app.activeElementId()) === 'search', { what: 'search box focus' });
    for (const c of waiting) {
      await waitFor(async () => /Pending/.test(await rowText(c.first_name)), { what: `${c.first_name}, pending` });
    }
    assert.match(await (await app.find('[data-testid="status-connection"]')).text(), /not configured/i);

    // First run: Settings asks for a new admin passphrase.
    await (await app.find('[data-testid="nav-settings"]')).click();
    await app.waitFind('#new-passphrase');
    await waitFor(async () => (await app.activeElementId()) === 'new-passphrase', { what: 'passphrase focus' });
    await (await app.find('#new-passphrase')).type(PASSPHRASE);
    await (await app.find('#confirm-passphrase')).type(PASSPHRASE + Keys.ENTER);

    // Add the emulator as a HubSpot endpoint with its private-app token.
    await (await app.waitFind('[data-testid="add-endpoint"]')).click();
    await app.waitFind('[data-testid="endpoint-form"]');
    await (await app.find('#ep-name')).type('hubspot');
    await (await app.find('#ep-kind option[value="hubspot"]')).click();
    await (await app.find('#ep-url')).type(emu.crm);
    await (await app.find('#ep-token')).type(token);
    await (await app.find('[data-testid="test-connection"]')).click();
    const result = await app.waitFind('[data-testid="test-result"]', { timeoutMs: 15_000 });
    assert.equal(await app.cmd('GET', `/element/${result.id}/attribute/data-outcome`), 'ok', await result.text());
    assert.match(await result.text(), /reached .* and authenticated/i);
    // Testing saved nothing.
    assert.equal((await emu.records()).length, 0);

    await (await app.find('[data-testid="endpoint-form"] button[type="submit"]')).click();
    await waitFor(async () => /Added hubspot/.test(await (await app.find('[data-testid="settings-notice"]')).text()), {
      what: 'the saved notice',
    });
    const row = await app.waitFind('[data-testid="endpoint-row"][data-name="hubspot"]');
    assert.match(await row.text(), /HubSpot/);
    assert.match(await (await app.find('[data-testid="endpoint-token"]')).text(), /^set$/);
    assert.ok(!(await row.text()).includes(token), 'the token is never shown again');

    // Back at the till: both waiting customers turn Synced by themselves.
    await (await app.find('[data-testid="add-endpoint"]')).type(Keys.ESCAPE);
    await app.waitFind('#search');
    for (const c of waiting) {
      await waitFor(async () => /Synced/.test(await rowText(c.first_name)), {
        what: `${c.first_name} to turn Synced`,
        timeoutMs: 15_000,
      });
    }
    await waitFor(async () => /online/i.test(await (await app.find('[data-testid="status-connection"]')).text()), {
      what: 'the status bar to say Online',
    });
    const contacts = (await emu.records()).filter((r) => r.api === 'hubspot' && r.object === 'contacts');
    assert.deepEqual(contacts.map((r) => r.key).sort(), waiting.map((c) => c.id).sort(), 'each customer exactly once');
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'settings-synced.png'), await app.screenshot());

    // The settings locked when they were left: a clerk sees the passphrase form only.
    await (await app.find('[data-testid="nav-settings"]')).click();
    await app.waitFind('[data-testid="unlock-form"]');
    assert.equal((await app.findAll('[data-testid="add-endpoint"]')).length, 0);
    await (await app.find('#admin-passphrase')).type('let me in please' + Keys.ENTER);
    const refusal = await app.waitFind('[data-testid="unlock-error"]');
    assert.match(await refusal.text(), /wrong/i);
    assert.equal((await app.findAll('[data-testid="endpoint-row"]')).length, 0);
    // Nor can the page itself get past the core.
    const direct = await invoke('list_endpoints');
    assert.equal(direct.err?.code, 'forbidden', JSON.stringify(direct));

    // The admin unlocks, sees the endpoint online, and locks again with the button.
    await (await app.find('#admin-passphrase')).type(PASSPHRASE + Keys.ENTER);
    const online = await app.waitFind('[data-testid="endpoint-row"][data-name="hubspot"] [data-testid="endpoint-state"]');
    await waitFor(async () => /Online/.test(await online.text()), { what: 'the endpoint to show Online' });

    // Renamed without typing the token again: the keyring entry follows the name.
    await (await app.find('[data-testid="endpoint-row"][data-name="hubspot"] [data-testid="edit-endpoint"]')).click();
    const name = await app.waitFind('#ep-name');
    await name.clear();
    await name.type('hubspot-eu');
    await (await app.find('[data-testid="endpoint-form"] button[type="submit"]')).click();
    await waitFor(async () => /Saved hubspot-eu/.test(await (await app.find('[data-testid="settings-notice"]')).text()), {
      what: 'the renamed endpoint saved',
    });
    const renamed = '[data-testid="endpoint-row"][data-name="hubspot-eu"]';
    assert.equal(await (await app.find(`${renamed} [data-testid="endpoint-token"]`)).text(), 'set');
    await waitFor(async () => /Online/.test(await (await app.find(`${renamed} [data-testid="endpoint-state"]`)).text()), {
      what: 'the renamed endpoint to authenticate and show Online',
    });
    await (await app.find('[data-testid="lock-settings"]')).click();
    await app.waitFind('[data-testid="unlock-form"]');
    assert.equal((await invoke('list_endpoints')).err?.code, 'forbidden');
  } catch (e) {
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'settings-failure.png'), await app.screenshot().catch(() => Buffer.alloc(0)));
    throw e;
  } finally {
    await app.stop();
  }

  // The CLI agrees: the renamed endpoint tests fine with the moved token.
  const tested = JSON.parse(
    execFileSync(process.env.OUTPOST_BIN, ['--db', db, '--json', 'endpoints', 'test', 'hubspot-eu'], {
      encoding: 'utf8',
      env: { ...process.env, OUTPOST_ADMIN_PASSPHRASE: PASSPHRASE },
    }),
  );
  assert.equal(tested.outcome, 'ok');
  const status = cli(db, 'status');
  assert.equal(status.sent, 2);
  assert.equal(status.pending, 0);
  // The token typed into the form went to the keyring, not into the database or its WAL.
  for (const f of readdirSync(dir)) {
    assert.ok(!readFileSync(join(dir, f)).includes(token), `${f} must not hold the token`);
  }
});
