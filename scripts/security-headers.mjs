// security-headers CONFIG_JSON: prints the nginx add_header lines for the loopback server
// (scripts/serve-bundle): the strict CSP with connect-src = page + the config's nodes.
import { readFileSync } from 'node:fs';
import { nodeOrigins, securityHeaders, addHeaderLines } from './lib/headers.mjs';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
console.log(addHeaderLines(securityHeaders(nodeOrigins(config))));
