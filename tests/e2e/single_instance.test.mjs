// One window per database: the real binary started twice on one database
// hands over to the first window (focused, still the only one) and exits; a
// different database opens a second window beside it. Plain processes and
// xdotool on the run's Xvfb display (no WebDriver needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './webdriver.mjs';

/** Top-level windows of a process that are mapped (GTK sets _NET_WM_PID). */
function visibleWindows(pid) {
  // A window another process destroys while xdotool walks the tree makes it
  // fail with an X error (BadWindow): that is no answer, so ask again.
  for (let attempt = 1; ; attempt++) {
    try {
      const out = execFileSync('xdotool', ['search', '--all', '--onlyvisible', '--pid', String(pid), '--name', '^Outpost$'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return out.split('\n').filter((l) => l.trim() !== '');
    } catch (e) {
      const xError = /X Error|BadWindow/.test(String(e.stderr ?? ''));
      if (!xError || attempt >= 5) return []; // xdotool exits 1 when nothing matches
    }
  }
}

/** Polls until the process has a mapped window; returns it. */
async function windowOf(child, what, log) {
  try {
    const [id] = await waitFor(
      () => {
        const ids = visibleWindows(child.pid);
        return ids.length > 0 && ids;
      },
      { timeoutMs: 45_000, what },
    );
    return id;
  } catch (e) {
    throw new Error(`${e.message}; exit ${child.exitCode}; its log:\n${log()}`);
  }
}

function focusedWindow() {
  return execFileSync('xdotool', ['getwindowfocus'], { encoding: 'utf8' }).trim();
}

function exitOf(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

function exitWithin(child, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the second start did not exit within ${ms} ms`)), ms);
    void exitOf(child).then((code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

test('a second start on one database focuses its window and exits; another database opens its own', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-single-'));
  const started = [];
  t.after(async () => {
    for (const child of started) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
    await Promise.all(started.map(exitOf));
    // WebKit's helper processes may still be writing their caches for a moment.
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });
  const logs = new Map();
  const start = (db, home) => {
    const child = spawn(process.env.OUTPOST_BIN, ['--db', db], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        XDG_DATA_HOME: join(dir, home, 'data'),
        XDG_CONFIG_HOME: join(dir, home, 'config'),
        XDG_CACHE_HOME: join(dir, home, 'cache'),
      },
    });
    logs.set(child, '');
    child.stderr.on('data', (d) => logs.set(child, logs.get(child) + d));
    started.push(child);
    return child;
  };
  const till = join(dir, 'till.db');

  const first = start(till, 'first');
  const firstWindow = await windowOf(first, 'the first window', () => logs.get(first));

  // Another database runs side by side, in a window of its own.
  const other = start(join(dir, 'other.db'), 'other');
  const otherWindow = await windowOf(other, 'the other database’s window', () => logs.get(other));
  assert.notEqual(otherWindow, firstWindow);
  execFileSync('xdotool', ['windowfocus', '--sync', otherWindow]);
  assert.equal(focusedWindow(), otherWindow);

  // The same database again, spelled another way: it hands over and exits 0.
  const again = start(join(dir, '.', 'till.db'), 'again');
  const code = await exitWithin(again, 20_000);
  assert.equal(code, 0, logs.get(again));
  await waitFor(() => focusedWindow() === firstWindow, { what: 'the first window to take the focus' });
  await waitFor(() => logs.get(first).includes('focusing its window'), { what: 'the first app to hear of the second start' });
  assert.deepEqual(visibleWindows(first.pid), [firstWindow]);
  assert.deepEqual(visibleWindows(again.pid), []);
  assert.equal(first.exitCode, null, 'the first app keeps running');
  assert.equal(other.exitCode, null, 'the other database’s app keeps running');
});
