// render-nginx: writes the self-hosting nginx config for the web app (nginx/murmur.conf.template)
// to stdout. The CSP's connect-src is the page plus every node origin in the bundle's
// config.json, so re-render when the network's nodes change.
//
//   node scripts/render-nginx.mjs --domain chat.example.org --dist /srv/murmur/dist \
//     --cert /etc/ssl/murmur/fullchain.pem --key /etc/ssl/murmur/privkey.pem \
//     [--config DIST/config.json] [--https-listen 443] [--http-listen 80] \
//     [--node-proxy http://127.0.0.1:22100] [--brotli auto|on|off] > /etc/nginx/conf.d/murmur.conf
//
// --node-proxy serves a node at https://DOMAIN/node/ (for networks whose nodes sit behind the
// app's host; give that node the URL https://DOMAIN/node in the manifest).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { nodeOrigins, securityHeaders, addHeaderLines } from './lib/headers.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
  options: {
    domain: { type: 'string' }, dist: { type: 'string' }, config: { type: 'string' },
    cert: { type: 'string' }, key: { type: 'string' },
    'https-listen': { type: 'string', default: '443' }, 'http-listen': { type: 'string', default: '80' },
    'node-proxy': { type: 'string' }, brotli: { type: 'string', default: 'auto' },
  },
});
const fail = (why) => { console.error(`render-nginx: ${why}`); process.exit(2); };
for (const name of ['domain', 'dist', 'cert', 'key']) if (!opt[name]) fail(`--${name} is required`);
if (!/^[A-Za-z0-9.-]+$/.test(opt.domain)) fail(`--domain ${opt.domain} is not a host name`);
const dist = resolve(opt.dist);
const configPath = opt.config || join(dist, 'config.json');
if (!existsSync(configPath)) fail(`${configPath} is missing: build the bundle and write its config.json first`);
const config = JSON.parse(readFileSync(configPath, 'utf8'));
if (!config.seeds?.length) fail(`${configPath} names no seed nodes`);
for (const p of [dist, opt.cert, opt.key]) if (/[\s;{}"'$]/.test(p)) fail(`unsafe character in path ${p}`);

const httpsPort = opt['https-listen'].split(':').pop();
const brotli = opt.brotli === 'on' || (opt.brotli === 'auto' && existsSync('/etc/nginx/modules-enabled')
  && readdirSync('/etc/nginx/modules-enabled').some((f) => f.includes('brotli')));
const indent = (text, n) => text.split('\n').map((l) => ' '.repeat(n) + l).join('\n');
const headers = addHeaderLines(securityHeaders(nodeOrigins(config), { hsts: true }));

let proxy = '';
if (opt['node-proxy']) {
  const upstream = new URL(opt['node-proxy']);
  if (!/^https?:$/.test(upstream.protocol)) fail('--node-proxy must be an http(s) URL');
  proxy = `
    # A node of the network behind this host: its URL in the manifest is https://${opt.domain}/node
    location /node/ {
        proxy_pass ${upstream.origin}/;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $proxy_host;
        # Set, not appended: the node (trusted_proxies = ["127.0.0.1"]) charges its rate
        # limit to this address, and a client-sent header must not choose it.
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_read_timeout 60s;
        client_max_body_size 2m;
    }
`;
}

const out = readFileSync(join(ROOT, 'nginx', 'murmur.conf.template'), 'utf8')
  .replaceAll('@DOMAIN@', opt.domain)
  .replaceAll('@DIST@', dist)
  .replaceAll('@CERT@', resolve(opt.cert))
  .replaceAll('@KEY@', resolve(opt.key))
  .replaceAll('@HTTPS_LISTEN@', opt['https-listen'])
  .replaceAll('@HTTP_LISTEN@', opt['http-listen'])
  .replaceAll('@HTTPS_PORT_SUFFIX@', httpsPort === '443' ? '' : `:${httpsPort}`)
  .replaceAll('@BROTLI@', brotli
    ? '    brotli on;\n    brotli_types application/wasm application/javascript text/css application/json image/svg+xml text/plain;\n'
    : '')
  .replaceAll('@SERVER_HEADERS@', indent(headers, 4))
  .replaceAll('@LOCATION_HEADERS@', indent(headers, 8))
  .replaceAll('@NODE_PROXY@', proxy);
process.stdout.write(out);
