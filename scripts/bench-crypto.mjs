// The crypto figures of `make bench` (built by scripts/bench-crypto first): serves bench/page,
// the wasm build of murmur-bench (target/bench-wasm) and libsodium-wrappers-sumo on loopback,
// runs the page in headless Chromium, and prints ops/s of murmur-core (wasm) beside libsodium.js
// in the same page, plus the native criterion estimates (target/criterion/crypto/*).
// BENCH_CRYPTO_MS per timed run (default 400), BENCH_CRYPTO_ROUNDS (median of, default 3).
import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { join, extname, normalize } from 'node:path';
import { launchBrowser, ROOT } from '../tests/e2e/harness.mjs';

const MS = Number(process.env.BENCH_CRYPTO_MS || 400);
const ROUNDS = Number(process.env.BENCH_CRYPTO_ROUNDS || 3);
const roots = {
  '/pkg/': join(ROOT, 'target', 'bench-wasm'),
  '/sodium/': join(ROOT, 'node_modules', 'libsodium-wrappers-sumo', 'dist', 'modules-sumo-esm'),
  '/sodium-core/': join(ROOT, 'node_modules', 'libsodium-sumo', 'dist', 'modules-sumo-esm'),
  '/': join(ROOT, 'bench', 'page'),
};
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };

const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname.replace(/^\/$/, '/index.html');
  const prefix = Object.keys(roots).find((p) => path.startsWith(p));
  const file = normalize(join(roots[prefix], path.slice(prefix.length)));
  if (!file.startsWith(roots[prefix]) || !existsSync(file)) { res.writeHead(404).end(); return; }
  res.writeHead(200, { 'content-type': types[extname(file)] || 'application/octet-stream' });
  res.end(readFileSync(file));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/?ms=${MS}&rounds=${ROUNDS}`;

const browser = await launchBrowser();
let result;
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => window.benchResult || window.benchError, null, { timeout: 600_000, polling: 500 });
  const error = await page.evaluate(() => window.benchError);
  if (error) throw new Error(`bench page: ${error}`);
  result = await page.evaluate(() => window.benchResult);
} finally {
  await browser.close();
  server.close();
}

const bench = (key, value, unit) => console.log(`BENCH ${JSON.stringify({ key, value, unit })}`);
const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
console.log(`crypto in headless Chromium (median of ${ROUNDS} runs of ~${MS} ms); cross-checks: ${Object.keys(result.checks).join(', ')} — all passed`);
console.log(`${'operation'.padEnd(28)} ${'murmur wasm'.padStart(12)} ${'libsodium.js'.padStart(12)} ${'ratio'.padStart(6)} ${'native'.padStart(12)}`);
for (const [op, r] of Object.entries(result.ops)) {
  const estimate = join(ROOT, 'target', 'criterion', 'crypto', op, 'new', 'estimates.json');
  const native = existsSync(estimate) ? 1e9 / JSON.parse(readFileSync(estimate, 'utf8')).mean.point_estimate : NaN;
  const sod = r.libsodium_js === null ? '—' : fmt(r.libsodium_js);
  const ratio = r.libsodium_js === null ? '—' : (r.murmur_wasm / r.libsodium_js).toFixed(2);
  console.log(`${op.padEnd(28)} ${fmt(r.murmur_wasm).padStart(12)} ${sod.padStart(12)} ${ratio.padStart(6)} ${fmt(native).padStart(12)}  ops/s`);
  bench(`crypto.${op}.wasm`, r.murmur_wasm, 'ops/s');
  if (r.libsodium_js !== null) bench(`crypto.${op}.libsodium`, r.libsodium_js, 'ops/s');
  if (Number.isFinite(native)) bench(`crypto.${op}.native`, native, 'ops/s');
}
console.log(`the same Content on the wire: v1 ${result.sizes.v1} bytes, v2 ${result.sizes.v2} bytes`);
bench('crypto.message_bytes.v1', result.sizes.v1, 'bytes');
bench('crypto.message_bytes.v2', result.sizes.v2, 'bytes');
