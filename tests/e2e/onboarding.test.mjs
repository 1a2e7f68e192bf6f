// Onboarding in a real browser against the release bundle served by nginx: create an account,
// confirm its recovery phrase, and restore one, with the results checked against the native core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { serveBundle, launchBrowser, openPage, screenshot, murmur, injectInlineScripts } from './harness.mjs';

const SESSION_ID = /^05[0-9a-f]{64}$/;
let server; let browser;

before(async () => { server = await serveBundle(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

test('create an account: Session ID, QR code, recovery phrase with reveal and confirm', async () => {
  const { context, page, problems } = await openPage(browser, server.url);
  await page.getByRole('heading', { name: 'Murmur' }).waitFor();
  await screenshot(page, 'welcome-desktop');
  await page.getByRole('button', { name: 'Create account' }).click();

  const sessionId = (await page.getByTestId('session-id').textContent()).trim();
  assert.match(sessionId, SESSION_ID);
  assert.equal(await page.getByRole('img', { name: 'QR code of a link to chat with you' }).count(), 1);
  // The phrase stays hidden until asked for.
  assert.equal(await page.getByTestId('recovery-phrase').count(), 0);
  await page.getByRole('button', { name: 'Reveal recovery phrase' }).click();
  const words = await page.getByTestId('recovery-phrase').locator('li').allTextContents();
  assert.equal(words.length, 13);
  await screenshot(page, 'create-revealed-desktop');

  // The phrase made in WASM restores the same Session ID in the native core.
  assert.equal(murmur('inspect', 'mnemonic', '--decode', words.join(' ')).session_id, sessionId);

  await page.getByRole('button', { name: 'I have written it down' }).click();
  await page.getByLabel('Word 3').fill(words[9]);
  await page.getByLabel('Word 10').fill(words[2]);
  await page.getByRole('button', { name: 'Confirm' }).click();
  if (words[2].slice(0, 3) !== words[9].slice(0, 3)) {
    await page.getByText('Those words do not match').waitFor();
  }
  await page.getByLabel('Word 3').fill(words[2]);
  await page.getByLabel('Word 10').fill(words[9]);
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('heading', { name: 'Where should your messages live?' }).waitFor();
  assert.equal((await page.getByTestId('session-id').textContent()).trim(), sessionId);
  assert.deepEqual(problems, []);
  await context.close();
});

test('restore from "abbey" x13 gives the Session ID of the all-zero seed', async () => {
  const expected = murmur('inspect', 'session-id', '--seed', '00'.repeat(32)).session_id;
  const { context, page, problems } = await openPage(browser, server.url, { viewport: { width: 390, height: 844 } });
  await page.getByRole('button', { name: 'Restore from recovery phrase' }).click();
  const box = page.getByLabel('Recovery phrase (13 words)');
  const restore = page.getByRole('button', { name: 'Restore', exact: true });

  // An unknown word is flagged as soon as it is finished, and Restore stays disabled.
  await box.pressSequentially('abbey zzzz ');
  await page.getByText('Word 2 is not a recovery word.').waitFor();
  assert.equal(await restore.isDisabled(), true);

  await box.fill('');
  await box.pressSequentially(Array(13).fill('abbey').join(' '));
  await page.getByText('Phrase is valid.').waitFor();
  assert.equal((await page.getByTestId('session-id').textContent()).trim(), expected);
  await screenshot(page, 'restore-valid-phone');
  await restore.click();
  await page.getByRole('heading', { name: 'Where should your messages live?' }).waitFor();
  assert.equal((await page.getByTestId('session-id').textContent()).trim(), expected);
  assert.deepEqual(problems, []);
  await context.close();
});

test('the recovery word list is fetched only on the way to create or restore, and a wrong copy is refused', async () => {
  const { context, page, problems } = await openPage(browser, server.url);
  const fetched = [];
  page.on('request', (r) => { if (r.url().endsWith('/wordlist_english.txt')) fetched.push(r.url()); });
  await page.getByRole('heading', { name: 'Murmur' }).waitFor();
  assert.equal(fetched.length, 0, 'not part of the start');

  // A copy with one word changed, then a missing file: a clear error, and the welcome screen stays.
  const list = readFileSync(new URL('../../core/src/keys/wordlist_english.txt', import.meta.url), 'utf8');
  await page.route('**/wordlist_english.txt', (route) => route.fulfill({ contentType: 'text/plain', body: list.replace('abbey', 'abbot') }));
  await page.getByRole('button', { name: 'Restore from recovery phrase' }).click();
  await page.getByRole('alert').filter({ hasText: 'does not match this version of Murmur' }).waitFor();
  await page.unroute('**/wordlist_english.txt');
  await page.route('**/wordlist_english.txt', (route) => route.fulfill({ status: 404, body: '' }));
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('alert').filter({ hasText: 'did not load (HTTP 404)' }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Murmur' }).count(), 1);
  assert.equal(await page.getByTestId('session-id').count(), 0, 'no account was made');

  // The real file: restore goes on, and the error is gone.
  await page.unroute('**/wordlist_english.txt');
  await page.getByRole('button', { name: 'Restore from recovery phrase' }).click();
  await page.getByLabel('Recovery phrase (13 words)').fill(Array(13).fill('abbey').join(' '));
  await page.getByText('Phrase is valid.').waitFor();
  assert.equal(fetched.length, 3);
  // Only the browser's own report of the 404 reached the console.
  assert.deepEqual(problems.filter((p) => !/404/.test(p)), []);
  await context.close();
});

test('a wrong checksum word is refused with a clear message', async () => {
  const { context, page, problems } = await openPage(browser, server.url);
  await page.getByRole('button', { name: 'Restore from recovery phrase' }).click();
  await page.getByLabel('Recovery phrase (13 words)').fill(`${Array(12).fill('abbey').join(' ')} amaze`);
  await page.getByText('the checksum word does not match').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Restore', exact: true }).isDisabled(), true);
  assert.deepEqual(problems, []);
  await context.close();
});

test('the page runs under a strict CSP that blocks injected scripts', async () => {
  const response = await fetch(server.url);
  const csp = response.headers.get('content-security-policy');
  assert.ok(csp, 'a Content-Security-Policy header');
  assert.doesNotMatch(csp, /'unsafe-inline'|'unsafe-eval'|\*/);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
  assert.match(csp, /connect-src 'self' http:\/\/127\.0\.0\.1:9(;|$)/, 'only this origin and the configured nodes');
  assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(response.headers.get('cache-control'), 'no-store', 'index.html is never cached');
  assert.doesNotMatch(await response.text(), /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script in index.html');

  const { context, page, problems } = await openPage(browser, server.url);
  await page.getByRole('heading', { name: 'Murmur' }).waitFor();
  const outcome = await injectInlineScripts(page);
  assert.equal(outcome.injected, undefined, 'neither injected script ran');
  assert.ok(outcome.violations.includes('script-src-elem'), `violations: ${outcome.violations}`);
  assert.ok(problems.some((p) => /Content Security Policy/.test(p)), 'the browser reported the violation');
  await context.close();
});
