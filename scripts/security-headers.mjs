// security-headers CONFIG_JSON: prints nginx add_header lines for the web app — a strict
// Content-Security-Policy whose connect-src is this origin plus the origins of the network's
// nodes named in the app's config.json (`seeds`, and `nodes[].url` when present), and the
// other headers a page holding private messages should send.
import { readFileSync } from 'node:fs';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const urls = [...(config.seeds || []), ...(config.nodes || []).map((n) => n.url)];
const origins = [...new Set(urls.map((u) => new URL(u).origin))];
for (const o of origins) {
  if (!/^https?:\/\/[A-Za-z0-9.:[\]-]+$/.test(o)) throw new Error(`refusing odd node origin ${o}`);
}
const csp = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self'",
  "manifest-src 'self'",
  `connect-src 'self' ${origins.join(' ')}`.trim(),
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
const headers = [
  ['Content-Security-Policy', csp],
  ['Referrer-Policy', 'no-referrer'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
  ['Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
];
for (const [name, value] of headers) console.log(`add_header ${name} "${value}" always;`);
