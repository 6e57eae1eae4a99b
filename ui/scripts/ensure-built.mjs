// Builds ui/dist when it is missing or older than any source file, so
// `npm test` always runs against the current code without rebuilding needlessly.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const built = join(root, 'dist', 'index.html');
const inputs = ['src', 'index.html', 'vite.config.ts', 'svelte.config.js', 'package.json', 'tsconfig.json'];

function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let t = s.mtimeMs;
  for (const e of readdirSync(path)) t = Math.max(t, newest(join(path, e)));
  return t;
}

const sourceTime = Math.max(...inputs.map((p) => join(root, p)).filter(existsSync).map(newest));
if (process.env.FORCE_BUILD || !existsSync(built) || statSync(built).mtimeMs < sourceTime) {
  console.log('ui/dist is missing or stale: building first.');
  execSync('npm run build', { cwd: root, stdio: 'inherit' });
} else {
  console.log('ui/dist is up to date.');
}
