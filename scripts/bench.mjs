// make bench: runs every benchmark of the project, then prints one table — figure, value, the
// anchor it is compared with (measured in the same run unless marked as a budget), and the
// ratio — and writes it with the machine description and the command behind each row to
// BENCHMARKS.md (between the bench markers; text around them is kept). QUICK=1 runs a
// one-minute subset and writes target/BENCHMARKS-quick.md instead. Loopback only.
import { spawn, execSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../tests/e2e/harness.mjs';

const QUICK = process.env.QUICK === '1';
const LEVELS = QUICK ? ['10000', '100000'] : ['10000', '100000', '1000000'];
// Each step: the command a reader can run alone, its settings (full, quick), and the prefix of
// the figures it reports.
const steps = [
  {
    name: 'crypto', cmd: 'scripts/bench-crypto', prefix: '',
    env: QUICK ? { BENCH_CRYPTO_NATIVE_SECONDS: '0.2', BENCH_CRYPTO_WARMUP_SECONDS: '0.1', BENCH_CRYPTO_MS: '80', BENCH_CRYPTO_ROUNDS: '1' } : {},
  },
  { name: 'node', cmd: 'scripts/bench-node', prefix: 'node.', env: { BENCH_SECONDS: QUICK ? '3' : '10' } },
  {
    name: 'scale', cmd: 'scripts/bench-scale', prefix: '',
    env: { BENCH_SCALE_LEVELS: LEVELS.join(' '), BENCH_SCALE_SECONDS: QUICK ? '2' : '5' },
  },
  { name: 'latency', cmd: 'scripts/bench-latency', prefix: '', env: { BENCH_MESSAGES: QUICK ? '100' : '1000' } },
  { name: 'files', cmd: 'scripts/bench-files', prefix: '', env: { BENCH_FILE_SIZES: QUICK ? '10000000' : '10000000,100000000' } },
  { name: 'groups', cmd: 'scripts/bench-groups', prefix: '', env: { BENCH_GROUP_MESSAGES: QUICK ? '5' : '20' } },
  {
    name: 'app', cmd: 'node scripts/bench-app.mjs', prefix: '',
    env: {
      MURMUR_BIN_DIR: join(ROOT, 'target', 'node'),
      ...(QUICK ? { RUNS: '3', BENCH_BROWSER_MESSAGES: '60', BENCH_CONVERSATION: '1000', BENCH_SENDERS: '2' } : {}),
    },
  },
];

const values = {};
const commands = {};
const started = Date.now();
for (const step of steps) {
  const envText = Object.entries(step.env).filter(([k]) => k !== 'MURMUR_BIN_DIR')
    .map(([k, v]) => `${k}=${v.includes(' ') ? `'${v}'` : v}`).join(' ');
  commands[step.name] = `${envText ? `${envText} ` : ''}${step.cmd}`;
  console.log(`\n== ${step.name}: ${commands[step.name]}`);
  const t0 = Date.now();
  await new Promise((resolve, reject) => {
    const p = spawn('bash', ['-c', step.cmd], { cwd: ROOT, env: { ...process.env, ...step.env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let buffered = '';
    p.stdout.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        if (line.startsWith('BENCH ')) {
          const { key, value } = JSON.parse(line.slice(6));
          values[step.prefix + key] = value;
        } else {
          console.log(line);
        }
      }
    });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${step.name} failed (exit ${code})`))));
  });
  console.log(`== ${step.name}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

// Anchors that are files rather than runs: libsodium.js as an app would ship it.
{
  const { gzipSync, brotliCompressSync, constants } = await import('node:zlib');
  const files = [
    'node_modules/libsodium-wrappers-sumo/dist/modules-sumo-esm/libsodium-wrappers.mjs',
    'node_modules/libsodium-sumo/dist/modules-sumo-esm/libsodium-sumo.mjs',
  ].map((f) => readFileSync(join(ROOT, f)));
  const sum = (f) => files.reduce((n, d) => n + f(d), 0);
  values['libsodium.raw'] = sum((d) => d.length);
  values['libsodium.gzip'] = sum((d) => gzipSync(d, { level: 9 }).length);
  values['libsodium.brotli'] = sum((d) => brotliCompressSync(d, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length);
}

const rows = [];
const v = (key) => {
  if (!(key in values)) throw new Error(`no figure ${key} was reported`);
  return values[key];
};
// row(figure, value key or number, unit, anchor label, anchor key or number, step)
function row(figure, value, unit, anchorLabel, anchor, step) {
  const val = typeof value === 'number' ? value : v(value);
  const anc = anchor === null ? null : typeof anchor === 'number' ? anchor : v(anchor);
  rows.push({ figure, value: val, unit, anchorLabel, anchor: anc, command: commands[step] || step });
}

const ops = [
  ['x25519', 'X25519 shared secret'],
  ['ed25519_sign', 'Ed25519 sign (256 B)'],
  ['ed25519_verify', 'Ed25519 verify (256 B)'],
  ['xchacha20poly1305_seal_1k', 'XChaCha20-Poly1305 seal 1 KiB'],
  ['xchacha20poly1305_seal_64k', 'XChaCha20-Poly1305 seal 64 KiB'],
  ['xchacha20poly1305_open_64k', 'XChaCha20-Poly1305 open 64 KiB'],
  ['onion_build_3_hops', 'Build a 3-hop onion request (store RPC)'],
  ['message_seal', 'Seal a v1 message (sign + sealed box)'],
  ['message_open', 'Open a v1 message (open + verify)'],
  ['vault_unlock_argon2id', 'Vault unlock (Argon2id 19 MiB, 2 passes)'],
  ['attachment_seal_1m', 'Encrypt a 1 MiB attachment (secretstream, S format)'],
  ['attachment_open_1m', 'Decrypt a 1 MiB attachment'],
];
for (const [op, label] of ops) {
  row(`${label} — murmur-core wasm, Chromium`, `crypto.${op}.wasm`, 'ops/s', 'libsodium.js, same page', `crypto.${op}.libsodium`, 'crypto');
}
row('Seal a v2 message (PFS + post-quantum) — murmur-core wasm, Chromium', 'crypto.v2_message_seal.wasm', 'ops/s', 'v1 seal, same page', 'crypto.message_seal.wasm', 'crypto');
row('Open a v2 message — murmur-core wasm, Chromium', 'crypto.v2_message_open.wasm', 'ops/s', 'v1 open, same page', 'crypto.message_open.wasm', 'crypto');
row('A 100-character text sealed as v2 (before the Envelope wrapper)', 'crypto.message_bytes.v2', 'bytes', 'the same Content sealed as v1', 'crypto.message_bytes.v1', 'crypto');
for (const [op, label] of [...ops, ['v2_message_seal', 'Seal a v2 message'], ['v2_message_open', 'Open a v2 message']]) {
  row(`${label} — murmur-core native`, `crypto.${op}.native`, 'ops/s', 'murmur-core wasm (above)', `crypto.${op}.wasm`, 'crypto');
}

for (const size of QUICK ? ['10mb'] : ['10mb', '100mb']) {
  const mb = size.replace('mb', ' MB');
  row(`Upload a ${mb} file through 3-hop onion (encrypt + parts)`, `files.${size}.onion_up`, 'MB/s', 'same parts direct to the file server', `files.${size}.direct_up`, 'files');
  row(`Download a ${mb} file through 3-hop onion (check + decrypt)`, `files.${size}.onion_down`, 'MB/s', 'same parts direct from the file server', `files.${size}.direct_down`, 'files');
}

row('Storage ceiling: Storage::store, no HTTP', 'node.sqlite.store.rps', 'stores/s', '(ceiling)', null, 'node');
row('HTTP ceiling: nginx static 200, 32 connections', 'node.static.rps', 'req/s', '(ceiling)', null, 'node');
row('Node store, direct (replicated to 2 peers)', 'node.store.rps', 'req/s', 'storage ceiling', 'node.sqlite.store.rps', 'node');
row('Node store p50, direct', 'node.store.p50', 'ms', 'nginx static p50', 'node.static.p50', 'node');
row('Node store p99, direct', 'node.store.p99', 'ms', 'nginx static p99', 'node.static.p99', 'node');
row('Node store p99, direct, paced at half that rate', 'node.half-load-store.p99', 'ms', 'target 25 ms (not measured)', 25, 'node');
row('Node store p50, direct, paced at half that rate', 'node.half-load-store.p50', 'ms', 'store p50, direct, unpaced', 'node.store.p50', 'node');
row('Node retrieve, direct', 'node.retrieve.rps', 'req/s', 'HTTP ceiling', 'node.static.rps', 'node');
row('Node retrieve p50, direct', 'node.retrieve.p50', 'ms', 'nginx static p50', 'node.static.p50', 'node');
row('Node retrieve p99, direct', 'node.retrieve.p99', 'ms', 'nginx static p99', 'node.static.p99', 'node');
row('Node store via 3-hop onion', 'node.onion-store.rps', 'req/s', 'store, direct', 'node.store.rps', 'node');
row('Node store p50 via 3-hop onion', 'node.onion-store.p50', 'ms', 'store p50, direct', 'node.store.p50', 'node');
row('Node store p99 via 3-hop onion', 'node.onion-store.p99', 'ms', 'store p99, direct', 'node.store.p99', 'node');
row('Node retrieve via 3-hop onion', 'node.onion-retrieve.rps', 'req/s', 'retrieve, direct', 'node.retrieve.rps', 'node');
row('Node retrieve p50 via 3-hop onion', 'node.onion-retrieve.p50', 'ms', 'retrieve p50, direct', 'node.retrieve.p50', 'node');
row('Node retrieve p99 via 3-hop onion', 'node.onion-retrieve.p99', 'ms', 'retrieve p99, direct', 'node.retrieve.p99', 'node');
// Byzantine nodes, attack 3: the same load while one host attacks node 0 (the attacker's
// connection count and byte rate are fixed by bench-node and reported as measured).
row('Attacker: slowloris connections held to node 0 (mean)', 'node.attack.slowloris', 'connections', '(fixed: 1,000 asked)', null, 'node');
row('Attacker: 10 MiB junk onion bodies streamed at node 0', 'node.attack.body_mib_per_s', 'MiB/s', '(fixed: 40 MiB/s asked)', null, 'node');
row('Node store, direct, under that attack', 'node.attacked-store.rps', 'req/s', 'store, direct, unattacked (≥ 0.8 wanted)', 'node.store.rps', 'node');
row('Node retrieve, direct, under that attack', 'node.attacked-retrieve.rps', 'req/s', 'retrieve, direct, unattacked (≥ 0.8 wanted)', 'node.retrieve.rps', 'node');
row('Node store p99 under that attack', 'node.attacked-store.p99', 'ms', 'store p99, unattacked', 'node.store.p99', 'node');
row('Devnet process peak RSS under that attack (all 6 nodes)', 'node.attacked.rss_mib', 'MiB', 'budget 256 MiB per node (not measured)', 256, 'node');

row('Waiting retrieves held at once by one node (its own process; HTTP/2, as relays hold them)', 'node.waiters.h2.held', 'waits', 'target 10,000 (not measured)', 10000, 'node');
row('Node RSS holding them (HTTP/2)', 'node.waiters.h2.rss_mib', 'MiB', 'budget 200 MiB (not measured)', 200, 'node');
row('Waiting retrieves held at once, each on its own HTTP/1.1 connection', 'node.waiters.h1.held', 'waits', 'target 10,000 (not measured)', 10000, 'node');
row('Node RSS holding them (HTTP/1.1)', 'node.waiters.h1.rss_mib', 'MiB', 'budget 200 MiB (not measured)', 200, 'node');

row(`Send → receive p50, native CLI, ${QUICK ? 100 : 1000} messages (live)`, 'latency.p50', 'ms', 'store ack p50 (3-hop onion)', 'latency.ack.p50', 'latency');
row('Send → receive p99, native CLI', 'latency.p99', 'ms', 'store ack p99 (3-hop onion)', 'latency.ack.p99', 'latency');
row('Requests per idle client per minute, one swarm followed (live)', 'latency.idle_requests_per_min', 'requests', 'browser polling every 2 s: 30 (not measured)', 30, 'latency');
row(`Send → visible p50, browser → browser, ${QUICK ? 60 : 1000} messages (live)`, 'app.browser_latency.p50', 'ms', 'native CLI p50', 'latency.p50', 'app');
row('Send → visible p99, browser → browser', 'app.browser_latency.p99', 'ms', 'native CLI p99', 'latency.p99', 'app');

row('Message to a 100-member group: sent (3-hop onion, 2 acks), p50', 'groups.send.p50', 'ms', '1:1 message sent, p50', 'groups.direct_send.p50', 'groups');
row('Message to a 100-member group: until all 99 members read it, p50', 'groups.all_read.p50', 'ms', '1:1 message until read, p50', 'groups.direct_read.p50', 'groups');
row('Message to a 100-member group: until all 99 read it, p99', 'groups.all_read.p99', 'ms', '1:1 message until read, p99', 'groups.direct_read.p99', 'groups');
row('Remove a member of 100 (kicked notice, revoke, rekey, Members)', 'groups.remove.ms', 'ms', 'a group message sent, p50', 'groups.send.p50', 'groups');
row('Bytes the admin posts to remove a member of 100 (onion requests)', 'groups.remove.bytes', 'bytes', '(no anchor)', null, 'groups');
row('Key message for 99 members (after that removal)', 'groups.key_message.bytes', 'bytes', 'a node stores at most 76,800 B (limit)', 76800, 'groups');
row('First v2 message to a new contact (−21 fetch + forward-secret send)', 'v2.first_send.ms', 'ms', 'the next messages to them, p50', 'v2.next_send.p50', 'groups');

row('Release bundle, raw', 'app.bundle.raw', 'bytes', 'libsodium.js alone (sumo, ESM)', 'libsodium.raw', 'app');
row('Release bundle, gzip (zlib level 9)', 'app.bundle.gzip', 'bytes', 'libsodium.js alone, gzip', 'libsodium.gzip', 'app');
row('Release bundle, brotli 11', 'app.bundle.brotli', 'bytes', 'libsodium.js alone, brotli', 'libsodium.brotli', 'app');
row('Release wasm alone, GNU gzip -9 (the budget\'s measure; zlib level 9 is ~2 KB more)', 'app.wasm.gzip', 'bytes', 'budget 350 KiB', 350 * 1024, 'app');
row('Cold load to interactive welcome', 'app.cold_load', 'ms', 'budget 1,000 ms (not measured)', 1000, 'app');
row('Unlock (Argon2id + open + first render)', 'app.unlock', 'ms', 'Argon2id unlock alone, wasm', 1000 / v('crypto.vault_unlock_argon2id.wasm'), 'app');
row(`Open a conversation of ${QUICK ? '1,000' : '10,000'} messages (timed in the page)`, 'app.open_conversation', 'ms', 'budget 100 ms (not measured)', 100, 'app');
row('  the same, timed from the harness (adds its round trips)', 'app.open_conversation.harness', 'ms', 'timed in the page', 'app.open_conversation', 'app');
row(`Search all ${QUICK ? '1,000' : '10,000'} messages on this device (decrypt and scan, match the oldest)`, 'app.search', 'ms', 'opening that conversation', 'app.open_conversation', 'app');
row(`Interaction to next paint (p98), typing and scrolling in that conversation`, 'app.inp.p98', 'ms', 'budget 200 ms (not measured)', 200, 'app');
row('  of which input delay + event handlers (main thread), p98', 'app.inp.main_thread.p98', 'ms', 'budget 200 ms (not measured)', 200, 'app');
for (const preset of ['desktop', 'mobile']) {
  for (const [key, name] of [['performance', 'performance'], ['accessibility', 'accessibility'], ['best-practices', 'best practices']]) {
    row(`Lighthouse ${preset}, ${name} (welcome screen)`, `app.lighthouse.${preset}.${key}`, 'score', 'target 95 (not measured)', 95, 'app');
  }
}

const [first, last] = [LEVELS[0], LEVELS[LEVELS.length - 1]];
for (const level of LEVELS) {
  const n = Number(level).toLocaleString('en-US');
  row(`Store p50 with ${n} stored (1 node, 8 connections)`, `scale.${level}.store.p50`, 'ms', `p50 at ${Number(first).toLocaleString('en-US')}`, `scale.${first}.store.p50`, 'scale');
  row(`Store p99 with ${n} stored`, `scale.${level}.store.p99`, 'ms', `p99 at ${Number(first).toLocaleString('en-US')}`, `scale.${first}.store.p99`, 'scale');
}
const per100k = (key) => ((v(`scale.${last}.${key}`) - v(`scale.${first}.${key}`)) * 100000) / (Number(last) - Number(first));
row('Node memory per 100,000 stored messages', per100k('rss') * 1024, 'bytes', `node RSS at ${Number(first).toLocaleString('en-US')}`, v(`scale.${first}.rss`) * 1024, 'scale');
row('Database size per 100,000 messages of 1 KiB', per100k('db'), 'bytes', 'their data alone (100,000 KiB)', 102_400_000, 'scale');

// Output.
const number = (x, unit) => {
  if (unit === 'bytes') return x >= 1e6 ? `${(x / 1048576).toFixed(1)} MiB` : `${(x / 1024).toFixed(1)} KiB`;
  if (unit === 'ms') return `${x < 10 ? x.toFixed(2) : Math.round(x).toLocaleString('en-US')} ms`;
  return `${Math.round(x).toLocaleString('en-US')} ${unit}`;
};
const ratio = (r) => (r.anchor === null ? '—' : `${(r.value / r.anchor).toFixed(2)}×`);
const table = rows.map((r) => [r.figure, number(r.value, r.unit),
  r.anchor === null ? r.anchorLabel : `${r.anchorLabel}: ${number(r.anchor, r.unit)}`, ratio(r)]);
const widths = [0, 1, 2, 3].map((i) => Math.max(...table.map((t) => t[i].length), 6));
console.log('');
console.log(['figure', 'value', 'anchor', 'ratio'].map((h, i) => h.padEnd(widths[i])).join('  '));
for (const t of table) console.log(t.map((c, i) => (i === 1 || i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  '));
const minutes = ((Date.now() - started) / 60000).toFixed(1);
console.log(`\nmake bench${QUICK ? ' QUICK=1' : ''}: ${minutes} min`);

const sh = (cmd) => { try { return execSync(cmd, { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { return 'unknown'; } };
const machine = [
  `- CPU: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores; memory ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${sh('uname -sr')}`,
  `- ${sh('rustc --version')}; Chromium ${sh('/usr/bin/chromium --version 2>/dev/null').replace(/^Chromium /, '')}; ${sh('nginx -v 2>&1')}; Node.js ${process.version}`,
  `- commit ${sh('git rev-parse --short HEAD')}${sh('git status --porcelain') ? ' (with uncommitted changes)' : ''}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; \`make bench${QUICK ? ' QUICK=1' : ''}\` took ${minutes} min`,
  '- Everything on one machine and on loopback: load generators, nodes, nginx and the browser share the cores.',
].join('\n');
const md = [
  '<!-- bench:begin (written by `make bench`; edit outside the markers) -->',
  machine,
  '',
  '| Figure | Value | Anchor | Ratio | Command |',
  '|---|---:|---|---:|---|',
  ...rows.map((r, i) => `| ${table[i][0]} | ${table[i][1]} | ${table[i][2]} | ${table[i][3]} | \`${r.command}\` |`),
  '<!-- bench:end -->',
].join('\n');
const out = QUICK ? join(ROOT, 'target', 'BENCHMARKS-quick.md') : join(ROOT, 'BENCHMARKS.md');
mkdirSync(join(ROOT, 'target'), { recursive: true });
const previous = existsSync(out) ? readFileSync(out, 'utf8') : '';
const kept = previous.match(/^([\s\S]*?)<!-- bench:begin[\s\S]*?<!-- bench:end -->([\s\S]*)$/);
writeFileSync(out, kept ? `${kept[1]}${md}${kept[2]}` : `# Benchmarks\n\n${md}\n`);
console.log(`written to ${out}`);
