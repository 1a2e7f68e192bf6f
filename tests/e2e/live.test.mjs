// Live delivery in the browser (waiting retrieves through 3-hop paths) against a 9-node
// devnet: two tabs chat and the header says "live" while a wait is held; a tab hidden long
// enough stops waiting (nothing held open) and polls, and shown again waits once more. And a
// whole chat driven from the keyboard alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { murmurText, openPage, startWorld } from './harness.mjs';
import { send, startChat, startTemporary, waitForText } from './ui.mjs';

let world;

before(async () => { world = await startWorld(['a', 'b', 'k']); });
after(async () => { await world?.stop(); });

/** The requests of `page` in flight now, as milliseconds since each started. */
function inFlight(page) {
  const started = new Map();
  page.on('request', (r) => { if (r.method() === 'POST') started.set(r, Date.now()); });
  const done = (r) => started.delete(r);
  page.on('requestfinished', done);
  page.on('requestfailed', done);
  return () => [...started.values()].map((t) => Date.now() - t);
}

/** Makes the page's tab look hidden (or visible again) to the app. */
async function setHidden(page, hidden) {
  await page.evaluate((h) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}


test('two tabs chat live; a hidden tab stops waiting and resumes when shown', async () => {
  const { users, browser, server } = world;
  const A = await openPage(browser, server.url);
  const B = await openPage(browser, server.url);
  const pending = inFlight(B.page);
  await startTemporary(A.page, users.a.phrase);
  await startTemporary(B.page, users.b.phrase);
  await startChat(A.page, users.b.id);
  await startChat(B.page, users.a.id);

  // Live: a wait is held open (a request in flight for seconds), and a message answers it.
  await B.page.locator('.link-state[data-state="live"]').waitFor({ timeout: 20000 });
  await B.page.waitForTimeout(3000);
  assert.ok(pending().some((ms) => ms >= 2000), `a wait is held: ${pending()}`);
  await send(A.page, 'live hello');
  await waitForText(B.page, 'live hello');
  await send(B.page, 'live reply');
  await waitForText(A.page, 'live reply');

  // Hidden long enough: the held wait is dropped and the tab polls.
  await setHidden(B.page, true);
  await B.page.locator('.link-state[data-state="polling"]').waitFor({ timeout: 30000 });
  await B.page.waitForTimeout(2000);
  assert.deepEqual(pending().filter((ms) => ms >= 1500), [], 'nothing is held open while hidden');
  // A message sent meanwhile still arrives (by the 15 s poll).
  await send(A.page, 'while hidden');
  await waitForText(B.page, 'while hidden', 30000);

  // Shown again: it waits again at once.
  await setHidden(B.page, false);
  await B.page.locator('.link-state[data-state="live"]').waitFor({ timeout: 10000 });
  await B.page.waitForTimeout(3000);
  assert.ok(pending().some((ms) => ms >= 2000), `a wait is held again: ${pending()}`);
  await send(A.page, 'shown again');
  await waitForText(B.page, 'shown again');
  assert.deepEqual(A.problems, []);
  assert.deepEqual(B.problems, []);
  await A.context.close();
  await B.context.close();
});

/** Presses Tab (Shift+Tab when `back`) until the focused element is `name` (its accessible
 * label, text or id); fails when it cannot be reached within `limit` presses. */
async function tabTo(page, name, { back = false, limit = 40 } = {}) {
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const here = await page.evaluate(() => {
      const e = document.activeElement;
      return [e.getAttribute('aria-label'), e.textContent.trim(), e.id];
    });
    if (here.includes(name)) return;
  }
  throw new Error(`"${name}" is not reachable with the keyboard`);
}

test('a whole chat works from the keyboard alone', async () => {
  const { users, browser, server, network } = world;
  const A = await openPage(browser, server.url);
  await startTemporary(A.page, users.a.phrase);
  const keys = (k) => A.page.keyboard.press(k);

  // New chat → the Session ID → Enter opens the chat.
  await tabTo(A.page, 'New chat');
  await keys('Enter');
  await tabTo(A.page, 'new-peer');
  await A.page.keyboard.type(users.k.id);
  await keys('Enter');
  await A.page.getByTestId('peer-id').filter({ hasText: users.k.id }).waitFor();

  // The composer: type, Enter sends; Shift+Enter is a new line.
  await tabTo(A.page, 'composer');
  await A.page.keyboard.type('typed, not clicked');
  await keys('Shift+Enter');
  await A.page.keyboard.type('second line');
  await keys('Enter');
  await A.page.locator('.message.out .meta', { hasText: 'Sent' }).first().waitFor({ timeout: 20000 });
  const inbox = murmurText(users.k.home, '--network-file', network, 'inbox', '--json');
  assert.ok(inbox.includes(JSON.stringify('typed, not clicked\nsecond line').slice(1, -1)), 'the CLI user got it');
  murmurText(users.k.home, '--network-file', network, 'send', '--to', users.a.id, 'answer from a terminal');
  await waitForText(A.page, 'answer from a terminal');

  // Settings and back, by keyboard.
  await tabTo(A.page, 'Settings', { back: true });
  await keys('Enter');
  await A.page.getByRole('heading', { name: 'Settings' }).waitFor();
  await tabTo(A.page, 'Back');
  await keys('Enter');
  await A.page.getByTestId('peer-id').filter({ hasText: users.k.id }).waitFor();
  assert.deepEqual(A.problems, []);
  await A.context.close();
});
