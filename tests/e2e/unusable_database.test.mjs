// A database file that is not Outpost's, opened by the window: it does not
// vanish silently or show an empty window; a message dialog says why (the
// words are on stderr too), the file is left byte for byte as it was, and
// closing the dialog exits 1. Plain processes and xdotool on the run's Xvfb
// display (no WebDriver: the dialog is native, not the web view).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './webdriver.mjs';

/** Mapped top-level windows of a process with exactly this title. */
function windowsNamed(pid, title) {
  try {
    const out = execFileSync('xdotool', ['search', '--all', '--onlyvisible', '--pid', String(pid), '--name', `^${title}$`], {
      encoding: 'utf8',
    });
    return out.split('\n').filter((l) => l.trim() !== '');
  } catch {
    return []; // xdotool exits 1 when nothing matches
  }
}

function exitWithin(child, ms) {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => reject(new Error(`the app did not exit within ${ms} ms`)), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

test('a file that is not Outpost’s is refused in a dialog and left unchanged', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-unusable-'));
  const db = join(dir, 'notes.db');
  writeFileSync(db, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)));
  const before = readFileSync(db);
  const mtime = statSync(db).mtimeMs;
  let log = '';
  const child = spawn(process.env.OUTPOST_BIN, ['--db', db], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      XDG_DATA_HOME: join(dir, 'data'),
      XDG_CONFIG_HOME: join(dir, 'config'),
      XDG_CACHE_HOME: join(dir, 'cache'),
    },
  });
  child.stderr.on('data', (d) => (log += d));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exitWithin(child, 10_000).catch(() => child.kill('SIGKILL'));
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  let dialog;
  try {
    [dialog] = await waitFor(
      () => {
        const ids = windowsNamed(child.pid, 'Outpost cannot start');
        return ids.length > 0 && ids;
      },
      { timeoutMs: 45_000, what: 'the error dialog' },
    );
  } catch (e) {
    throw new Error(`${e.message}; exit ${child.exitCode}; its log:\n${log}`);
  }
  assert.deepEqual(windowsNamed(child.pid, 'Outpost'), [], 'no empty main window beside it');
  assert.ok(log.includes(`error: ${db} is not an Outpost database: it is not an SQLite database file.`), log);

  // Closed as a person would, with Escape.
  execFileSync('xdotool', ['windowfocus', '--sync', dialog]);
  execFileSync('xdotool', ['key', 'Escape']);
  assert.equal(await exitWithin(child, 20_000), 1, log);
  assert.ok(readFileSync(db).equals(before), 'the file was written');
  assert.equal(statSync(db).mtimeMs, mtime);
});
