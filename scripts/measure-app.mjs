// make bench-app: the web app's release bundle in headless Chromium — bundle sizes (raw, gzip,
// brotli), cold load to an interactive welcome screen, and unlock time (Argon2id + open) —
// against a devnet, each the median of RUNS (default 5). Loopback only.
import { readdirSync, readFileSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { serveBundle, launchBrowser, startDevnet, murmurText, ROOT } from '../tests/e2e/harness.mjs';

const RUNS = Number(process.env.RUNS || 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dist = join(ROOT, 'dist');
console.log('bundle (dist/):');
let total = [0, 0, 0];
for (const f of readdirSync(dist).filter((f) => /\.(wasm|js|css|html)$/.test(f))) {
  const data = readFileSync(join(dist, f));
  const sizes = [statSync(join(dist, f)).size, gzipSync(data, { level: 9 }).length,
    brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length];
  total = total.map((t, i) => t + sizes[i]);
  console.log(`  ${f.padEnd(40)} raw ${String(sizes[0]).padStart(8)}  gzip ${String(sizes[1]).padStart(8)}  brotli ${String(sizes[2]).padStart(8)}`);
}
console.log(`  ${'total'.padEnd(40)} raw ${String(total[0]).padStart(8)}  gzip ${String(total[1]).padStart(8)}  brotli ${String(total[2]).padStart(8)}`);

const devnet = await startDevnet(9);
const server = await serveBundle(devnet.info);
const browser = await launchBrowser();
const home = mkdtempSync(join(tmpdir(), 'murmur-measure-'));
const phrase = murmurText(home, 'identity', 'new').split('\n')[2].trim();
try {
  // Cold load: a fresh context (empty cache) to the welcome screen's buttons being clickable.
  const loads = [];
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const t0 = Date.now();
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Create account' }).waitFor();
    loads.push(Date.now() - t0);
    await context.close();
  }
  // Unlock: a kept profile, reloaded; from pressing Unlock to the messenger on screen.
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByRole('button', { name: 'Restore from recovery phrase' }).click();
  await page.getByLabel('Recovery phrase (13 words)').fill(phrase);
  await page.getByRole('button', { name: 'Restore', exact: true }).click();
  await page.getByLabel('Passphrase', { exact: true }).fill('correct horse battery');
  await page.getByLabel('Passphrase again').fill('correct horse battery');
  await page.getByRole('button', { name: 'Keep history on this device' }).click();
  await page.getByRole('button', { name: 'Settings' }).waitFor();
  const unlocks = [];
  for (let i = 0; i < RUNS; i++) {
    await page.reload();
    await page.getByLabel('Passphrase').fill('correct horse battery');
    const t0 = Date.now();
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('button', { name: 'Settings' }).waitFor();
    unlocks.push(Date.now() - t0);
  }
  await context.close();
  console.log(`cold load to interactive welcome (fresh context, loopback nginx): median ${median(loads)} ms over ${RUNS} (${loads.join(', ')})`);
  console.log(`unlock (Argon2id 19 MiB x 2 + open IndexedDB + first render): median ${median(unlocks)} ms over ${RUNS} (${unlocks.join(', ')})`);
} finally {
  await browser.close();
  await server.stop();
  await devnet.stop();
  rmSync(home, { recursive: true, force: true });
}
