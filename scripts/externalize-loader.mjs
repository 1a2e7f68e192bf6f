// Run first by post-build.mjs (a trunk post_build hook): moves trunk's inline module loader out
// of index.html into a hashed file, so the page runs under a Content-Security-Policy with no
// 'unsafe-inline' (script-src 'self' 'wasm-unsafe-eval'). Fails the build if any inline script,
// inline event handler or style attribute would remain, since the CSP would block it at run time.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) throw new Error('TRUNK_STAGING_DIR is not set: run me as a trunk hook');
const indexPath = join(dir, 'index.html');
let html = readFileSync(indexPath, 'utf8');

const inline = /<script type="module">([\s\S]*?)<\/script>/g;
const loaders = [...html.matchAll(inline)];
if (loaders.length !== 1) throw new Error(`expected one inline module loader, found ${loaders.length}`);
const code = loaders[0][1].trim() + '\n';
const name = `loader-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.js`;
writeFileSync(join(dir, name), code);
const sri = `sha384-${createHash('sha384').update(code).digest('base64')}`;
html = html.replace(loaders[0][0], `<script type="module" src="/${name}" integrity="${sri}"></script>`);

const leftovers = [
  [/<script(?![^>]*\bsrc=)[^>]*>/i, 'an inline <script>'],
  [/\son[a-z]+\s*=/i, 'an inline event handler'],
  [/\sstyle\s*=/i, 'a style attribute'],
  [/<style[\s>]/i, 'a <style> element'],
];
for (const [pattern, what] of leftovers) {
  if (pattern.test(html)) throw new Error(`index.html still has ${what}; the CSP would block it`);
}
writeFileSync(indexPath, html);
console.log(`externalize-loader: ${name}`);
