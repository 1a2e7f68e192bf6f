// Two tabs on one kept profile (Byzantine-nodes issue, point 12): one tab at a time uses it
// (Web Locks), the other says so and may take over, which locks the first; logging out in one
// tab while the other holds the database open erases everything (the other tab closes its
// connection and reloads) instead of hanging.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveBundle, launchBrowser, openPage, pageErrors } from './harness.mjs';
import { EMPTY_ORIGIN, logOutAndSurvey, startKept } from './ui.mjs';

const PHRASE = Array(13).fill('abbey').join(' ');
const PASS = 'correct horse battery';
let server; let browser;

before(async () => { server = await serveBundle(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

async function unlock(page) {
  await page.getByRole('heading', { name: 'Unlock Murmur' }).waitFor();
  await page.getByLabel('Passphrase', { exact: true }).fill(PASS);
  await page.getByRole('button', { name: 'Unlock' }).click();
}

test('one tab uses a kept profile; another may take over; logout with both open erases all', async () => {
  const first = await openPage(browser, server.url);
  await startKept(first.page, PHRASE, PASS);

  // A second tab of the same browser profile: same origin, same database.
  const second = await first.context.newPage();
  await second.goto(server.url);
  await unlock(second);
  await second.getByRole('heading', { name: 'Murmur is open in another tab' }).waitFor();
  assert.equal(await first.page.getByRole('button', { name: 'Settings' }).count(), 1, 'the first tab goes on');

  // Taking over locks the first tab.
  await second.getByRole('button', { name: 'Use it here' }).click();
  await second.getByRole('button', { name: 'Settings' }).waitFor();
  await first.page.getByRole('heading', { name: 'Unlock Murmur' }).waitFor();

  // The first tab unlocks again and waits, holding the database open.
  await unlock(first.page);
  await first.page.getByRole('heading', { name: 'Murmur is open in another tab' }).waitFor();

  // Logout in the second tab: the first closes its connection and reloads; nothing is left.
  assert.deepEqual(await logOutAndSurvey(second), EMPTY_ORIGIN);
  await first.page.getByRole('button', { name: 'Restore from recovery phrase' }).waitFor();
  // The network here is deliberately unreachable (a seed on a port browsers refuse).
  assert.deepEqual(pageErrors(first.problems), []);
  await first.context.close();
});
