// Self-hosting: the bundle behind a real nginx running the config scripts/render-nginx.mjs
// renders from nginx/murmur.conf.template — TLS with a test certificate, HTTP redirected,
// strict CSP naming the network's nodes, HSTS, hashed assets immutable, index.html and
// config.json never cached, wasm served compressed as application/wasm, a node reverse-proxied
// under /node/ — an injected inline script blocked, and a chat through it in Chromium with a
// CLI user on the other end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, freePort, launchBrowser, murmurText, newCliUser, startDevnet, injectInlineScripts } from './harness.mjs';
import { startTemporary, startChat, send } from './ui.mjs';

let devnet; let browser; let nginx; let rundir; let https; let http; let cert;
const users = {};

/** GET over TLS to 127.0.0.1 as `localhost`, trusting only the test certificate. */
function get(path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', servername: 'localhost', port: https, path, headers, ca: cert }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  devnet = await startDevnet(9);
  rundir = mkdtempSync(join(tmpdir(), 'murmur-selfhost-'));
  const dist = join(rundir, 'dist');
  cpSync(join(ROOT, 'dist'), dist, { recursive: true });
  writeFileSync(join(dist, 'config.json'), JSON.stringify(devnet.info));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', join(rundir, 'key.pem'), '-out', join(rundir, 'cert.pem')], { stdio: 'ignore' });
  cert = readFileSync(join(rundir, 'cert.pem'));
  [https, http] = [await freePort(), await freePort()];
  const rendered = execFileSync('node', [join(ROOT, 'scripts', 'render-nginx.mjs'), '--domain', 'localhost',
    '--dist', dist, '--cert', join(rundir, 'cert.pem'), '--key', join(rundir, 'key.pem'),
    '--https-listen', `127.0.0.1:${https}`, '--http-listen', `127.0.0.1:${http}`,
    '--node-proxy', devnet.info.seeds[0]], { encoding: 'utf8' });
  writeFileSync(join(rundir, 'murmur.conf'), rendered);
  // The main nginx.conf a distribution ships, reduced to what a loopback test needs.
  writeFileSync(join(rundir, 'nginx.conf'), `daemon off;
${process.getuid() === 0 ? 'user root root;' : ''}
worker_processes 1;
pid ${rundir}/nginx.pid;
error_log ${rundir}/error.log warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${rundir}/${t};`).join(' ')}
    include ${rundir}/murmur.conf;
}
`);
  const nginxBin = ['/usr/sbin/nginx', 'nginx'].find((b) => { try { execFileSync(b, ['-v'], { stdio: 'ignore' }); return true; } catch { return false; } });
  execFileSync(nginxBin, ['-t', '-q', '-c', join(rundir, 'nginx.conf'), '-p', rundir, '-e', join(rundir, 'error.log')]);
  nginx = spawn(nginxBin, ['-c', join(rundir, 'nginx.conf'), '-p', rundir, '-e', join(rundir, 'error.log')], { stdio: 'inherit' });
  for (let i = 0; i < 100; i++) {
    try { await get('/'); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  browser = await launchBrowser();
  for (const who of ['a', 'c']) users[who] = newCliUser(who);
});
after(async () => {
  await browser?.close();
  if (nginx && nginx.exitCode === null) { const gone = new Promise((r) => nginx.once('exit', r)); nginx.kill('SIGTERM'); await gone; }
  await devnet?.stop();
  if (rundir) rmSync(rundir, { recursive: true, force: true });
  for (const { home } of Object.values(users)) rmSync(home, { recursive: true, force: true });
});

test('the rendered config serves the bundle with the promised headers', async () => {
  // Plain HTTP only redirects.
  const redirect = await new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port: http, path: '/some/where', headers: { host: 'localhost' } }, resolve)
      .on('error', reject).end();
  });
  assert.equal(redirect.statusCode, 301);
  assert.equal(redirect.headers.location, `https://localhost:${https}/some/where`);

  const index = await get('/');
  assert.equal(index.status, 200);
  const csp = index.headers['content-security-policy'];
  assert.doesNotMatch(csp, /'unsafe-inline'|'unsafe-eval'|\*/);
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
  for (const node of devnet.info.nodes) assert.ok(csp.includes(new URL(node.url).origin), `connect-src names ${node.url}`);
  assert.match(index.headers['strict-transport-security'], /max-age=\d{7,}/);
  assert.equal(index.headers['cache-control'], 'no-store');
  assert.equal(index.headers['referrer-policy'], 'no-referrer');
  assert.equal((await get('/config.json')).headers['cache-control'], 'no-store');
  assert.equal(index.headers.server, 'nginx', 'no version in the Server header');

  const wasmName = readdirSync(join(ROOT, 'dist')).find((f) => f.endsWith('_bg.wasm'));
  const wasm = await get(`/${wasmName}`, { 'accept-encoding': 'gzip' });
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers['content-type'], 'application/wasm');
  assert.equal(wasm.headers['content-encoding'], 'gzip');
  assert.equal(wasm.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.ok(wasm.headers['content-security-policy'], 'assets carry the headers too');

  // The node behind /node/ answers with the network's signed manifest.
  const manifest = await get('/node/network');
  assert.equal(manifest.status, 200);
  assert.ok(JSON.parse(manifest.body.toString()).signature, 'a signed manifest');
});

test('a chat works through the self-hosted bundle', async () => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
  await page.goto(`https://localhost:${https}/`);
  await page.getByRole('heading', { name: 'Murmur' }).waitFor();
  // The rendered CSP stops an injected script; the browser reports it (and only that).
  const outcome = await injectInlineScripts(page);
  assert.equal(outcome.injected, undefined, 'no injected script ran');
  assert.ok(outcome.violations.includes('script-src-elem'), `violations: ${outcome.violations}`);
  assert.ok(problems.length > 0 && problems.every((p) => /Content Security Policy/.test(p)), problems.join('\n'));
  problems.length = 0;
  await startTemporary(page, users.a.phrase);
  await startChat(page, users.c.id);
  await send(page, 'hello over TLS');
  await page.locator('.message.out .meta', { hasText: 'Sent' }).first().waitFor({ timeout: 20000 });
  const network = join(devnet.dir, 'devnet.json');
  const inbox = murmurText(users.c.home, '--network-file', network, 'inbox', '--json');
  assert.deepEqual(inbox.trim().split('\n').map((l) => JSON.parse(l).text), ['hello over TLS']);
  assert.deepEqual(problems, []);
  await context.close();
});
