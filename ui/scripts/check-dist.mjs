// Fails the build if dist/index.html would break under the app's CSP:
// no inline scripts, no inline styles, no style attributes, no remote assets.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const problems = [];

for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
  const [, attrs = '', body = ''] = m;
  if (!/\bsrc=/.test(attrs)) problems.push('inline <script> without src');
  if (body.trim() !== '') problems.push('<script> with inline code');
}
if (/<style\b/i.test(html)) problems.push('inline <style> element');
if (/\sstyle\s*=/i.test(html)) problems.push('style="" attribute');
if (/\son[a-z]+\s*=/i.test(html)) problems.push('inline event handler attribute');
if (/(src|href)\s*=\s*["']?(https?:)?\/\//i.test(html)) problems.push('asset loaded from the network');

const assets = readdirSync(join(dist, 'assets'));
if (!assets.some((f) => f.endsWith('.js'))) problems.push('no JS bundle in dist/assets');
if (!assets.some((f) => f.endsWith('.css'))) problems.push('no extracted CSS in dist/assets');

if (problems.length > 0) {
  console.error(`dist/index.html is not CSP-clean:\n  - ${problems.join('\n  - ')}`);
  process.exit(1);
}
console.log(`dist/index.html is CSP-clean (${assets.length} assets).`);
