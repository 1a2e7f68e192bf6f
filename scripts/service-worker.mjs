// Run by post-build.mjs after externalize-loader: writes dist's sw.js from public/sw.js with
// the list of every file of this bundle (index.html, the hashed loader, JS, wasm and CSS, the
// wasm-bindgen snippets, icon, manifest, config.json) and a version hashed from them, so each
// new deployment is a new sw.js and the browser offers it as an update (see public/sw.js).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) throw new Error('TRUNK_STAGING_DIR is not set: run me as a trunk hook');
const template = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'sw.js'), 'utf8');

const files = readdirSync(dir, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile())
  .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split('\\').join('/'))
  .filter((name) => name !== 'sw.js')
  .sort();
const hash = createHash('sha256');
for (const name of files) hash.update(name).update('\0').update(readFileSync(join(dir, name)));
const version = hash.digest('hex').slice(0, 16);
for (const name of files) {
  if (!/^[A-Za-z0-9._/-]+$/.test(name)) throw new Error(`unexpected file name in the bundle: ${name}`);
}
const sw = template.replace('@VERSION@', version).replace("'@FILES@'", files.map((f) => `'${f}'`).join(', '));
writeFileSync(join(dir, 'sw.js'), sw);
console.log(`service-worker: ${files.length} files, version ${version}`);
