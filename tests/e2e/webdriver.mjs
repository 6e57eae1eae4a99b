// A minimal W3C WebDriver client over fetch, plus tauri-driver lifecycle.
// Enough for end-to-end tests of the real app; no dependencies.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

// A W3C element reference is an object with a single, well-known key.
const elementId = (ref) => Object.values(ref)[0];

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function waitFor(fn, { timeoutMs = 10_000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Starts tauri-driver (in its own process group) and a session of the real app
 * with a private data directory. `env` is passed to the app.
 */
export async function launchApp({ env = {} } = {}) {
  const home = mkdtempSync(join(tmpdir(), 'outpost-e2e-'));
  const port = await freePort();
  const nativePort = await freePort();
  const driver = spawn('tauri-driver', ['--port', String(port), '--native-port', String(nativePort)], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, XDG_DATA_HOME: join(home, 'data'), XDG_CONFIG_HOME: join(home, 'config'), ...env },
  });
  let driverLog = '';
  driver.stderr.on('data', (d) => (driverLog += d));
  const base = `http://127.0.0.1:${port}`;

  const stop = async () => {
    try {
      if (session) await fetch(`${base}/session/${session}`, { method: 'DELETE' });
    } catch {}
    try {
      process.kill(-driver.pid, 'SIGTERM');
    } catch {}
    await new Promise((r) => (driver.exitCode !== null ? r() : driver.once('exit', r)));
    rmSync(home, { recursive: true, force: true });
  };

  let session;
  try {
    await waitFor(async () => (await fetch(`${base}/status`)).ok, { what: 'tauri-driver to listen' });
    const res = await fetch(`${base}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        capabilities: {
          alwaysMatch: { browserName: 'wry', 'tauri:options': { application: process.env.OUTPOST_BIN } },
        },
      }),
    });
    const body = await res.json();
    if (!res.ok) throw new Error(`session not created: ${JSON.stringify(body)}\n${driverLog}`);
    session = body.value.sessionId;
  } catch (e) {
    await stop();
    throw e;
  }
  return new App(`${base}/session/${session}`, stop, home);
}

class App {
  constructor(url, stop, home) {
    this.url = url;
    this.stop = stop;
    this.home = home;
  }

  async cmd(method, path, body) {
    const res = await fetch(this.url + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json.value)}`);
    return json.value;
  }

  async find(css) {
    const v = await this.cmd('POST', '/element', { using: 'css selector', value: css });
    return new Element(this, v);
  }

  async findAll(css) {
    const v = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return v.map((e) => new Element(this, e));
  }

  /** Waits until `css` matches, then returns the element. */
  async waitFind(css, opts = {}) {
    return waitFor(() => this.find(css), { what: css, ...opts });
  }

  async activeElementId() {
    const v = await this.cmd('POST', '/execute/sync', { script: 'return document.activeElement && document.activeElement.id', args: [] });
    return v;
  }

  /** Runs `script` in the page; it ends by calling its last argument with the result. */
  async executeAsync(script, args = []) {
    return this.cmd('POST', '/execute/async', { script, args });
  }

  /** Presses `key` with Control held (Ctrl+N, Ctrl+, ...). */
  async pressCtrl(key) {
    await this.cmd('POST', '/actions', {
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

  async screenshot() {
    return Buffer.from(await this.cmd('GET', '/screenshot'), 'base64');
  }
}

class Element {
  constructor(app, ref) {
    this.app = app;
    this.ref = ref;
    this.id = elementId(ref);
  }
  /** The rendered text (innerText): WebKitWebDriver's own "element text"
   * returns only part of it for rows with ARIA roles. */
  text() {
    return this.app.cmd('POST', '/execute/sync', { script: 'return arguments[0].innerText', args: [this.ref] });
  }
  /** Scrolls the element to the middle first, as a person would: the
   * window's sticky header would otherwise cover an element WebKitWebDriver
   * considers in view at the top edge ("element not interactable"). */
  async click() {
    await this.app.cmd('POST', '/execute/sync', { script: "arguments[0].scrollIntoView({ block: 'center' })", args: [this.ref] });
    return this.app.cmd('POST', `/element/${this.id}/click`, {});
  }
  type(text) {
    return this.app.cmd('POST', `/element/${this.id}/value`, { text });
  }
  clear() {
    return this.app.cmd('POST', `/element/${this.id}/clear`, {});
  }
}

export const Keys = { ENTER: '\uE007', ESCAPE: '\uE00C', ARROW_DOWN: '\uE015', TAB: '\uE004' };
