// The HTTP headers the web app is served with, shared by the loopback nginx (make run, tests)
// and the self-hosting config (nginx/murmur.conf.template): a strict Content-Security-Policy
// whose connect-src is the page's origin plus the network's node origins, and the other
// headers a page holding private messages should send.

/** The node origins named by an app config.json: `seeds` and, when present, `nodes[].url`. */
export function nodeOrigins(config) {
  const urls = [...(config.seeds || []), ...(config.nodes || []).map((n) => n.url)];
  const origins = [...new Set(urls.map((u) => new URL(u).origin))];
  for (const o of origins) {
    if (!/^https?:\/\/[A-Za-z0-9.:[\]-]+$/.test(o)) throw new Error(`refusing odd node origin ${o}`);
  }
  return origins;
}

/** [name, value] pairs; `hsts` adds Strict-Transport-Security (only ever sent over TLS). */
export function securityHeaders(origins, { hsts = false } = {}) {
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
  return [
    ['Content-Security-Policy', csp],
    ['Referrer-Policy', 'no-referrer'],
    ['X-Content-Type-Options', 'nosniff'],
    ['X-Frame-Options', 'DENY'],
    ['Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()'],
    ['Cross-Origin-Opener-Policy', 'same-origin'],
    ...(hsts ? [['Strict-Transport-Security', 'max-age=63072000; includeSubDomains']] : []),
  ];
}

/** nginx `add_header` lines for `headers`. */
export function addHeaderLines(headers) {
  return headers.map(([name, value]) => `add_header ${name} "${value}" always;`).join('\n');
}
