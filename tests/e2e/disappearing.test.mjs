// Disappearing messages on a 9-node devnet: A sets a 5-minute timer, and the message vanishes
// from both A's and B's screens (and the conversation list) when it is due, not before; a
// message sent before the timer was set stays. Expiry runs on network time, which the app
// learns from the nodes' replies, so the test moves both clocks together — the devnet's
// (`--test-clock`) and each browser's (Playwright's clock) — instead of waiting 5 minutes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, startWorld } from './harness.mjs';
import { startTemporary, startChat, send, shownTexts, waitForText } from './ui.mjs';

let world; let users; let browser; let network; let devnet; let server;

before(async () => {
  world = await startWorld(['a', 'b']);
  ({ users, browser, network, devnet, server } = world);
});
after(async () => { await world?.stop(); });

const TIMER_MS = 300_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('a 5-minute message vanishes on both sides on time', { timeout: 3 * 60_000 }, async () => {
  const A = await openPage(browser, server.url, { clock: true });
  const B = await openPage(browser, server.url, { clock: true });
  // Network time and both browsers' time jump forward by `ms` together.
  const forward = async (ms) => {
    await devnet.advance(ms);
    await Promise.all([A, B].map((p) => p.page.clock.fastForward(ms)));
  };
  await startTemporary(A.page, users.a.phrase);
  await startTemporary(B.page, users.b.phrase);
  await startChat(A.page, users.b.id);
  await send(A.page, 'this one stays');
  await A.page.getByLabel('Disappearing messages').selectOption('300');
  const sentAt = Date.now();
  await send(A.page, 'this one vanishes');
  await A.page.locator('.message.out', { hasText: 'this one vanishes' }).locator('.meta', { hasText: 'Sent' }).waitFor({ timeout: 20000 });
  await B.page.getByRole('button', { name: /this one vanishes/ }).click({ timeout: 20000 });
  await waitForText(B.page, 'this one vanishes');
  assert.deepEqual(await shownTexts(B.page), ['this one stays', 'this one vanishes']);

  // Ten seconds before it is due (counting the real time since it was sent), and after a few
  // polls at that time, both still show it.
  await forward(TIMER_MS - 10_000 - (Date.now() - sentAt));
  await sleep(4_000);
  for (const p of [A, B]) {
    assert.ok((await shownTexts(p.page)).includes('this one vanishes'), 'shown until it is due');
  }
  // Twenty seconds on, it is due: gone from both.
  await forward(20_000);
  const gone = (page) => page.locator('.messages .message .text', { hasText: 'this one vanishes' })
    .waitFor({ state: 'detached', timeout: 30_000 });
  await Promise.all([gone(A.page), gone(B.page)]);
  for (const p of [A, B]) {
    assert.deepEqual(await shownTexts(p.page), ['this one stays']);
    assert.equal(await p.page.getByRole('button', { name: /this one vanishes/ }).count(), 0, 'not in the list');
    assert.deepEqual(p.problems, []);
  }
});
