// Shared helpers for the browser end-to-end tests: serve the release bundle with a real nginx,
// drive Debian's Chromium with playwright-core, and ask the native `murmur` CLI for expected values.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, existsSync, readFileSync, writeFileSync, cpSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Screenshots of each e2e run (`make screenshots` copies the README's into docs/screenshots/). */
export const ARTIFACTS = join(ROOT, 'target', 'e2e-screenshots');
/** Where `murmur` and `murmur-node` are: the debug build for tests; benchmarks pass target/node. */
export const BIN_DIR = process.env.MURMUR_BIN_DIR || join(ROOT, 'target', 'debug');

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`${url} did not come up within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A network config for tests that never reach a network (onboarding): valid, but nothing listens. */
export const UNREACHABLE_NETWORK = { seeds: ['http://127.0.0.1:9'], operator_pubkey: 'ab'.repeat(32) };

/** A page's problems less the failed loads of UNREACHABLE_NETWORK (port 9, refused on purpose). */
export function pageErrors(problems) {
  return problems.filter((p) => !p.includes('net::ERR_UNSAFE_PORT'));
}

/**
 * Serves a copy of dist/ with `config` as its config.json, with nginx on a free loopback port.
 * Returns { url, dir, stop }, `dir` being the copy served (a test may deploy changes into it).
 */
export async function serveBundle(config = UNREACHABLE_NETWORK) {
  const built = join(ROOT, 'dist');
  if (!existsSync(join(built, 'index.html'))) throw new Error('dist/ is missing: run `make bundle` first');
  const port = await freePort();
  const rundir = mkdtempSync(join(tmpdir(), 'murmur-nginx-'));
  const dist = join(rundir, 'dist');
  cpSync(built, dist, { recursive: true });
  writeFileSync(join(dist, 'config.json'), JSON.stringify(config));
  const proc = spawn(join(ROOT, 'scripts', 'serve-bundle'), [dist, String(port), rundir], { stdio: 'inherit' });
  const url = `http://127.0.0.1:${port}/`;
  const stop = () => new Promise((resolve) => {
    const done = () => { rmSync(rundir, { recursive: true, force: true }); resolve(); };
    if (proc.exitCode !== null || proc.signalCode !== null) return done();
    proc.once('exit', done);
    proc.kill('SIGTERM');
  });
  try {
    await waitForHttp(url);
  } catch (err) {
    // Don't leave nginx running (it would keep the test process alive); say why it failed.
    await stop();
    const log = existsSync(join(rundir, 'error.log')) ? readFileSync(join(rundir, 'error.log'), 'utf8') : '';
    throw new Error(`${err.message}\nnginx error.log:\n${log.split('\n').slice(-5).join('\n')}`);
  }
  return {
    url,
    dir: dist,
    stop,
  };
}

/** Launches headless Chromium (Debian's; playwright never downloads a browser here). */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run'],
  });
}

/**
 * Opens a page that fails the test on any uncaught page error or console error. `permissions`
 * are granted to the context; `clock: true` installs Playwright's controllable clock first.
 */
export async function openPage(browser, url, { viewport, permissions, clock } = {}) {
  const context = await browser.newContext({ ...(viewport ? { viewport } : {}), permissions: permissions || [] });
  if (clock) await context.clock.install();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
  await page.goto(url);
  return { context, page, problems };
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Runs the native CLI (built by `make bundle`) and parses its JSON output. */
export function murmur(...args) {
  const bin = join(BIN_DIR, 'murmur');
  return JSON.parse(execFileSync(bin, args, { encoding: 'utf8' }));
}

/**
 * Starts a devnet of `nodes` service nodes (target/debug/murmur-node, built by `cargo test
 * --no-run`) on consecutive free loopback ports. Returns { info, dir, advance, stop } where
 * `info` is its devnet.json (seeds, operator_pubkey, nodes), usable as the app's config.json,
 * and `advance(ms)` moves every node's clock forward (`devnet --test-clock`, on its stdin).
 */
export async function startDevnet(nodes = 9, extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-devnet-'));
  // Consecutive ports (the nodes', then the file server's): try random bases until all are free.
  let base;
  for (let tries = 0; tries < 50 && base === undefined; tries++) {
    const candidate = 30000 + Math.floor(Math.random() * 20000);
    const ok = await Promise.all([...Array(nodes + 1).keys()].map((i) => portFree(candidate + i)));
    if (ok.every(Boolean)) base = candidate;
  }
  if (base === undefined) throw new Error('no run of free ports for the devnet');
  const bin = join(BIN_DIR, 'murmur-node');
  const proc = spawn(bin, ['devnet', '--nodes', String(nodes), '--base-port', String(base), '--dir', dir, '--test-clock', ...extraArgs],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  // stdout: the start line, then one `clock advanced MS` per advance, in order.
  const acks = [];
  let pending = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk) => {
    pending += chunk;
    for (let i; (i = pending.indexOf('\n')) >= 0; pending = pending.slice(i + 1)) {
      if (pending.startsWith('clock advanced ')) acks.shift()?.(pending.slice(0, i));
    }
  });
  const advance = (ms) => new Promise((resolve) => {
    acks.push(resolve);
    proc.stdin.write(`advance ${Math.round(ms)}\n`);
  });
  const stop = () => new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) { rmSync(dir, { recursive: true, force: true }); return resolve(); }
    proc.once('exit', () => { rmSync(dir, { recursive: true, force: true }); resolve(); });
    proc.stdin.end();
    proc.kill('SIGTERM');
  });
  try {
    await waitForHttp(`http://127.0.0.1:${base + nodes - 1}/network`, 30000);
  } catch (err) {
    await stop();
    throw err;
  }
  const info = JSON.parse(readFileSync(join(dir, 'devnet.json'), 'utf8'));
  return { info, dir, advance, stop };
}

function portFree(port) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Runs the native CLI with a home and returns its stdout (text). */
export function murmurText(home, ...args) {
  return murmurWithInput(home, '', ...args);
}

/** Runs the native CLI with a home and `input` on stdin; returns its stdout (text). */
export function murmurWithInput(home, input, ...args) {
  const bin = join(BIN_DIR, 'murmur');
  return execFileSync(bin, ['--home', home, ...args], { encoding: 'utf8', input, maxBuffer: 16 << 20 });
}

/** A new CLI identity in a fresh home: { home, id, phrase }. Remove `home` when done. */
export function newCliUser(name) {
  const home = mkdtempSync(join(tmpdir(), `murmur-e2e-${name}-`));
  const lines = murmurText(home, 'identity', 'new').split('\n');
  return { home, id: lines[0].replace('Session ID: ', '').trim(), phrase: lines[2].trim() };
}

/**
 * What a chat test needs: a devnet of `nodes`, the bundle served pointing at it, a browser,
 * and a CLI identity per name in `names` (`devnetArgs` go to `murmur-node devnet`). Returns { devnet, network, server, browser, users,
 * stop }, where `network` is the devnet file for `murmur --network-file`.
 */
export async function startWorld(names, nodes = 9, devnetArgs = []) {
  const world = { users: {} };
  world.stop = async () => {
    await world.browser?.close(); await world.server?.stop(); await world.devnet?.stop();
    for (const { home } of Object.values(world.users)) rmSync(home, { recursive: true, force: true });
  };
  try {
    world.devnet = await startDevnet(nodes, devnetArgs);
    world.network = join(world.devnet.dir, 'devnet.json');
    world.server = await serveBundle(world.devnet.info);
    world.browser = await launchBrowser();
    for (const name of names) world.users[name] = newCliUser(name);
  } catch (err) {
    await world.stop();
    throw err;
  }
  return world;
}

/**
 * Tries to run script the way an XSS would — an inline <script> element and an inline event
 * handler — and reports whether either ran and which CSP directives the page reported.
 * (eval is not tried: code Playwright evaluates is exempt from the page's CSP; the header
 * checks cover 'unsafe-eval'.)
 */
export async function injectInlineScripts(page) {
  return page.evaluate(async () => {
    const violations = [];
    document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
    const script = document.createElement('script');
    script.textContent = 'window.__injected = 1';
    document.body.append(script);
    const img = document.createElement('img');
    img.setAttribute('src', 'x');
    img.setAttribute('onerror', 'window.__injected = 2');
    document.body.append(img);
    await new Promise((r) => setTimeout(r, 300));
    return { injected: window.__injected, violations };
  });
}
