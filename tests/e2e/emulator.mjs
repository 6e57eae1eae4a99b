// Starts this workspace's CRM emulator binary for an end-to-end test.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Starts the emulator on free loopback ports (rate limit off) and resolves to
 * its addresses plus helpers for the control API. `env` reaches the emulator
 * (e.g. CRM_EMULATOR_TOKEN), so credentials never sit in its argv.
 */
export async function startEmulator({ env = {}, args = [] } = {}) {
  const child = spawn(process.env.CRM_EMULATOR_BIN, ['--port', '0', '--control-port', '0', '--rate-limit', 'off', ...args], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, ...env },
  });
  const line = await new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`crm-emulator exited with ${code}`)));
  });
  const addrs = JSON.parse(line);
  const control = (path) => fetch(`${addrs.control}${path}`, { method: 'POST' });
  /** Every record the emulator holds, of both APIs (`GET /records`). */
  const records = async () => (await (await fetch(`${addrs.control}/records`)).json()).records;
  const stop = () => new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.kill('SIGTERM'))));
  /** POSTs a JSON body to the control API (e.g. `/seed`). */
  const post = (path, body) =>
    fetch(`${addrs.control}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { ...addrs, control, post, records, stop };
}
