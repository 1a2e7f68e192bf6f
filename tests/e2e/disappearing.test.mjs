// Disappearing messages on a 9-node devnet, in real time: A sets a 5-minute timer, and the
// message vanishes from both A's and B's screens (and the conversation list) when it is due,
// not before; a message sent before the timer was set stays.
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

test('a 5-minute message vanishes on both sides on time', { timeout: 10 * 60_000 }, async () => {
  const A = await openPage(browser, server.url);
  const B = await openPage(browser, server.url);
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

  // Gone from both within a minute of being due, and not before.
  const gone = (page) => page.locator('.messages .message .text', { hasText: 'this one vanishes' })
    .waitFor({ state: 'detached', timeout: TIMER_MS + 60_000 });
  await Promise.all([gone(A.page), gone(B.page)]);
  const after = Date.now() - sentAt;
  assert.ok(after >= TIMER_MS - 5_000, `vanished after ${after} ms, before the 5 minutes`);
  for (const p of [A, B]) {
    assert.deepEqual(await shownTexts(p.page), ['this one stays']);
    assert.equal(await p.page.getByRole('button', { name: /this one vanishes/ }).count(), 0, 'not in the list');
    assert.deepEqual(p.problems, []);
  }
});
