// The installable app (issue 22): the service worker is registered for a kept profile only,
// never in a temporary session; it precaches the bundle it was installed with, so the app
// starts offline to its unlock screen (and unlocks); a newly deployed bundle is announced
// ("A new version of Murmur is available") and taken only when the user presses Reload; logout
// removes the worker and its cache.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveBundle, launchBrowser, openPage } from './harness.mjs';
import { EMPTY_ORIGIN, logOutAndSurvey, startKept, startTemporary } from './ui.mjs';

const PHRASE = Array(13).fill('abbey').join(' ');
const PASS = 'correct horse battery';
let server; let browser;

before(async () => { server = await serveBundle(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

// Offline, every network load fails too: only page errors count here.
const pageErrorsOffline = (problems) => problems.filter((p) => !p.includes('net::ERR_'));
const workers = (page) => page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length);
const cached = (page) => page.evaluate(async () => {
  const names = await caches.keys();
  const urls = names.length ? (await (await caches.open(names[0])).keys()).map((r) => new URL(r.url).pathname) : [];
  return { names, urls };
});

test('a temporary session installs nothing', async () => {
  const { context, page, problems } = await openPage(browser, server.url);
  await startTemporary(page, PHRASE);
  await page.waitForTimeout(1500);
  assert.equal(await workers(page), 0);
  assert.deepEqual((await cached(page)).names, []);
  assert.deepEqual(pageErrorsOffline(problems), []);
  await context.close();
});

test('a kept profile starts offline, and takes a new version only when asked', async () => {
  const { context, page, problems } = await openPage(browser, server.url);
  await startKept(page, PHRASE, PASS);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 20000 });
  const first = await cached(page);
  assert.equal(first.names.length, 1);
  for (const file of ['/index.html', '/config.json', '/wordlist_english.txt', '/sw.js']) {
    assert.equal(first.urls.includes(file), file !== '/sw.js', `${file} precached: ${file !== '/sw.js'}`);
  }
  assert.ok(first.urls.some((u) => /_bg\.wasm$/.test(u)), 'the wasm is precached');
  assert.ok(first.urls.some((u) => /\/loader-[0-9a-f]{16}\.js$/.test(u)), 'the loader is precached');

  // Offline: the app starts to its unlock screen and opens the history.
  await context.setOffline(true);
  await page.reload();
  await page.getByRole('heading', { name: 'Unlock Murmur' }).waitFor();
  await page.getByLabel('Passphrase', { exact: true }).fill(PASS);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.getByRole('heading', { name: 'Chats' }).waitFor();
  // The recovery word list (fetched only when a screen needs it) comes from the precache too.
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Passphrase', { exact: true }).fill(PASS);
  await page.getByRole('button', { name: 'Show recovery phrase' }).click();
  const words = await page.getByTestId('recovery-phrase').locator('li').allTextContents();
  assert.equal(words.join(' '), PHRASE);
  await context.setOffline(false);

  // A new deployment: its sw.js differs. The running page keeps its version and says so.
  const sw = join(server.dir, 'sw.js');
  writeFileSync(sw, readFileSync(sw, 'utf8').replace(/const VERSION = '[0-9a-f]+'/, "const VERSION = 'feedfacefeedface'"));
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
  await page.getByText('A new version of Murmur is available.').waitFor({ timeout: 20000 });
  assert.deepEqual((await cached(page)).names.filter((n) => n === first.names[0]), first.names, 'the old version still serves');
  await page.getByRole('button', { name: 'Reload' }).click();
  await page.getByRole('heading', { name: 'Unlock Murmur' }).waitFor();
  assert.deepEqual((await cached(page)).names, ['murmur-feedfacefeedface'], 'the new version took over after the reload');
  await page.getByLabel('Passphrase', { exact: true }).fill(PASS);
  await page.getByRole('button', { name: 'Unlock' }).click();

  // Logout removes the worker and its cache.
  assert.deepEqual(await logOutAndSurvey(page), EMPTY_ORIGIN);
  assert.deepEqual(pageErrorsOffline(problems), []);
  await context.close();
});
