// Living in a conversation, against a 9-node devnet: a long conversation renders a bounded
// window of pages and pages back, and search finds a message in it; notifications say only what the user allowed (a click opens
// the conversation) and only when they are not looking; contacts can be renamed and blocked;
// a kept profile locks after the idle time (Playwright's clock moves the page's time; the
// network keeps real time).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPage, murmurText, murmurWithInput, startWorld } from './harness.mjs';
import { startTemporary, startKept, startChat, send, shownTexts, waitForText } from './ui.mjs';

let world; let users; let browser; let network; let devnet; let server;

before(async () => {
  // Each test has its own recipient, so none sees another's messages still on the network.
  world = await startWorld(['a', 'b', 'c', 'n', 'k', 'l', 'm', 'd', 'e']);
  ({ users, browser, network, devnet, server } = world);
});
after(async () => { await world?.stop(); });

const fromC = (text) => murmurText(users.c.home, '--network-file', network, 'send', '--to', users.n.id, text);

/** A page allowed to notify, recording each notification the app shows (`window.__notes`:
 * title and body; `window.__last`: the newest) while the real constructor still runs. */
async function notifyingPage() {
  const P = await openPage(browser, server.url, { permissions: ['notifications'] });
  await P.page.addInitScript(() => {
    const Real = window.Notification;
    window.__notes = [];
    window.Notification = class extends Real {
      constructor(title, options) { super(title, options); window.__notes.push({ title, body: options?.body }); window.__last = this; }
    };
  });
  await P.page.reload();
  return P;
}

test('a conversation of 420 messages renders at most two pages, pages back, and is searched', async () => {
  const A = await openPage(browser, server.url);
  await startTemporary(A.page, users.a.phrase);
  const lines = Array.from({ length: 420 }, (_, i) => `long ${i}`).join('\n');
  murmurWithInput(users.b.home, lines, '--network-file', network, 'send', '--to', users.a.id, '-');
  const conv = A.page.getByRole('button', { name: /long 419/ });
  await conv.waitFor({ timeout: 60000 });
  await conv.click();
  await waitForText(A.page, 'long 419');
  // Pages of 200: the newest two (200..399 and 400..419) are shown, nothing older.
  let texts = await shownTexts(A.page);
  assert.equal(texts.length, 220);
  assert.deepEqual([texts[0], texts.at(-1)], ['long 200', 'long 419']);
  await A.page.getByRole('button', { name: 'Earlier messages' }).click();
  await waitForText(A.page, 'long 0');
  texts = await shownTexts(A.page);
  assert.equal(texts.length, 400, 'still two pages');
  assert.deepEqual([texts[0], texts.at(-1)], ['long 0', 'long 399']);
  assert.equal(await A.page.getByRole('button', { name: 'Earlier messages' }).count(), 0);
  await A.page.getByRole('button', { name: 'Later messages' }).click();
  await waitForText(A.page, 'long 419');
  assert.equal((await shownTexts(A.page)).length, 220);

  // "Jump to latest": offered once scrolled up more than a screen, or paged back; it returns
  // to the newest at the bottom.
  const jump = A.page.getByRole('button', { name: 'Jump to latest' });
  const list = A.page.locator('.messages');
  const atBottom = () => list.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 2);
  await A.page.waitForFunction(() => { const el = document.querySelector('.messages'); return el.scrollHeight - el.scrollTop - el.clientHeight < 2; });
  assert.equal(await jump.count(), 0, 'not at the bottom already');
  await list.evaluate((el) => { el.scrollTop = 0; });
  await jump.click();
  await A.page.waitForFunction(() => { const el = document.querySelector('.messages'); return el.scrollHeight - el.scrollTop - el.clientHeight < 2; });
  assert.ok(await atBottom());
  await A.page.getByRole('button', { name: 'Earlier messages' }).click();
  await waitForText(A.page, 'long 0');
  await jump.click();
  await waitForText(A.page, 'long 419');
  assert.equal(await A.page.getByRole('button', { name: 'Later messages' }).count(), 0, 'back at the newest window');

  // Search: each conversation's newest match, listed in place of the conversations; opening it
  // shows the page of the match, with the match in view and focused.
  murmurText(users.c.home, '--network-file', network, 'send', '--to', users.a.id, 'a long way from C');
  await A.page.getByRole('button', { name: /a long way from C/ }).waitFor({ timeout: 60000 });
  const search = A.page.getByRole('searchbox', { name: 'Search messages' });
  await search.fill('LONG 12');
  await search.press('Enter');
  const hit = A.page.getByRole('button', { name: /long 129/ });
  await hit.waitFor();
  assert.equal(await A.page.getByRole('button', { name: /a long way/ }).count(), 0, 'no match there');
  await hit.click();
  await A.page.waitForFunction(() => document.activeElement?.matches('.messages .found'));
  assert.equal(await A.page.locator('.messages .found .text').textContent(), 'long 129');
  texts = await shownTexts(A.page);
  assert.deepEqual([texts[0], texts.at(-1)], ['long 0', 'long 399'], 'the page of the match and the next');
  await search.fill('WAY from');
  await search.press('Enter');
  await A.page.getByRole('button', { name: /a long way from C/ }).waitFor();
  assert.equal(await A.page.getByRole('button', { name: /long \d/ }).count(), 0);
  await search.fill('nothing like this');
  await search.press('Enter');
  await A.page.getByText('No messages found.').waitFor();
  // Emptying the field brings the conversations back.
  await search.fill('');
  await A.page.getByRole('button', { name: /long 419/ }).waitFor();
  await A.page.getByRole('button', { name: /a long way from C/ }).waitFor();
  assert.deepEqual(A.problems, []);
  await A.context.close();
});

test('notifications follow the chosen mode; contacts are renamed and blocked', async () => {
  const A = await notifyingPage();
  await startTemporary(A.page, users.n.phrase);
  const notes = () => A.page.evaluate(() => window.__notes);
  const waitNotes = (n) => A.page.waitForFunction((k) => window.__notes.length >= k, n, { timeout: 30000 });

  // Off by default: a message arrives, no notification.
  fromC('first, unannounced');
  await A.page.getByRole('button', { name: /first, unannounced/ }).waitFor({ timeout: 20000 });
  assert.deepEqual(await notes(), []);

  // Without names or text.
  await A.page.getByRole('button', { name: 'Settings' }).click();
  await A.page.getByLabel('Notify me of new messages').selectOption('private');
  fromC('secret words');
  await waitNotes(1);
  assert.deepEqual(await notes(), [{ title: 'Murmur', body: 'New message' }]);

  // With name and preview.
  await A.page.getByLabel('Notify me of new messages').selectOption('preview');
  fromC('a preview of this');
  await waitNotes(2);
  const second = (await notes())[1];
  assert.equal(second.body, 'a preview of this');
  assert.ok(users.c.id.startsWith(second.title.split('…')[0]), 'titled with the short ID');

  // A click on it (as the browser delivers one) leaves settings for that conversation; the
  // address never carries whom it is with.
  await A.page.evaluate(() => window.__last.dispatchEvent(new Event('click')));
  await A.page.getByTestId('peer-id').filter({ hasText: users.c.id }).waitFor();
  await waitForText(A.page, 'a preview of this');
  assert.ok(!(await A.page.evaluate(() => location.href)).includes(users.c.id));
  // All three were unread: "New messages" sits above the oldest of them.
  assert.equal(await A.page.locator('.unread-mark + .message .text').textContent(), 'first, unannounced');
  assert.equal(await A.page.locator('.unread-mark').count(), 1);

  // Looking at the conversation in a visible tab: no notification.
  await A.page.getByRole('button', { name: /a preview of this/ }).click();
  await A.page.getByRole('button', { name: 'Rename' }).click();
  await A.page.getByLabel('Contact name').fill('Carol <b>C</b>');
  await A.page.getByRole('button', { name: 'Save' }).click();
  await A.page.getByRole('heading', { name: 'Carol <b>C</b>' }).waitFor();
  await A.page.getByRole('button', { name: /Carol <b>C<\/b>/ }).waitFor();
  fromC('while you look');
  await waitForText(A.page, 'while you look');
  assert.equal((await notes()).length, 2);

  // Blocked: C's messages are dropped on arrival and do not come back after unblocking.
  await A.page.getByRole('button', { name: 'Block', exact: true }).click();
  await A.page.getByText('Block? Their messages will be dropped.').waitFor();
  await A.page.getByRole('button', { name: 'Block', exact: true }).click();
  await A.page.getByText('You blocked this contact.').waitFor();
  fromC('dropped while blocked');
  // Polls run every 2 s; give it several before unblocking.
  await A.page.waitForTimeout(6000);
  // Settings lists whom you blocked; Unblock there.
  await A.page.getByRole('button', { name: 'Settings' }).click();
  const blockedList = A.page.locator('.blocked li');
  assert.deepEqual(await blockedList.allTextContents(), ['Carol <b>C</b>Unblock']);
  await A.page.getByRole('button', { name: 'Unblock Carol <b>C</b>' }).click();
  await A.page.getByText('You have blocked no one.').waitFor();
  await A.page.getByRole('button', { name: 'Back', exact: true }).click();
  await A.page.getByLabel('Message', { exact: true }).waitFor();
  fromC('after unblocking');
  await waitForText(A.page, 'after unblocking');
  const texts = await shownTexts(A.page);
  assert.ok(!texts.includes('dropped while blocked'), 'the blocked message was dropped');
  assert.deepEqual(texts.slice(-2), ['while you look', 'after unblocking']);
  assert.deepEqual(A.problems, []);
  await A.context.close();
});

test('a muted conversation neither notifies nor counts; archived ones wait aside; a deleted one is gone', async () => {
  const M = await notifyingPage();
  await startTemporary(M.page, users.m.phrase);
  const toM = (text) => murmurText(users.c.home, '--network-file', network, 'send', '--to', users.m.id, text);
  const notes = () => M.page.evaluate(() => window.__notes.map((n) => n.body));
  const settings = M.page.getByRole('button', { name: 'Settings' });
  const conv = (text) => M.page.getByRole('button', { name: new RegExp(text) });
  await settings.click();
  await M.page.getByLabel('Notify me of new messages').selectOption('preview');

  toM('before muting');
  await M.page.waitForFunction(() => window.__notes.length === 1, null, { timeout: 30000 });
  assert.equal(await M.page.title(), '(1) Murmur');
  await conv('before muting').click();
  await M.page.getByRole('button', { name: 'Mute', exact: true, pressed: false }).click();
  await M.page.getByRole('button', { name: 'Mute', exact: true, pressed: true }).waitFor();
  await M.page.getByRole('button', { name: /\(muted\)/ }).waitFor();

  // Muted, and not looking at it: the message comes in silently and the title leaves it out.
  await settings.click();
  toM('while muted');
  await conv('while muted').waitFor({ timeout: 30000 });
  assert.match(await conv('while muted').textContent(), /1$/, 'counted as unread in the list');
  assert.equal(await M.page.title(), 'Murmur');
  assert.deepEqual(await notes(), ['before muting']);

  // Archived: out of the list, behind "Archived"; news keeps it there while it is muted.
  await conv('while muted').click();
  await M.page.getByRole('button', { name: 'Archive', exact: true, pressed: false }).click();
  await conv('while muted').waitFor({ state: 'hidden' });
  const archived = M.page.getByRole('button', { name: 'Archived', exact: true });
  await archived.click();
  await conv('while muted').waitFor();
  await archived.click();
  await conv('while muted').waitFor({ state: 'hidden' });
  await settings.click();
  toM('muted and archived');
  await M.page.waitForTimeout(6000);
  await archived.click();
  await conv('muted and archived').waitFor({ timeout: 30000 });
  // Unmuted, a message brings it back to the chats, and notifies.
  await conv('muted and archived').click();
  await M.page.getByRole('button', { name: 'Mute', exact: true, pressed: true }).click();
  await M.page.getByRole('button', { name: 'Mute', exact: true, pressed: false }).waitFor();
  await settings.click();
  toM('back from the archive');
  await M.page.waitForFunction(() => window.__notes.length === 2, null, { timeout: 30000 });
  await conv('back from the archive').waitFor();
  assert.equal(await archived.isVisible(), false, 'nothing archived: no button');

  // Deleted: the chat closes and leaves the list; a new message starts it afresh.
  await conv('back from the archive').click();
  await waitForText(M.page, 'before muting');
  await M.page.getByRole('button', { name: 'Delete chat' }).click();
  await M.page.getByText('Delete all its messages on this device?').waitFor();
  await M.page.getByRole('button', { name: 'Delete', exact: true }).click();
  await M.page.getByText('Choose a conversation').waitFor();
  await conv('back from the archive').waitFor({ state: 'detached' });
  toM('after deleting');
  await conv('after deleting').click({ timeout: 30000 });
  await waitForText(M.page, 'after deleting');
  assert.deepEqual(await shownTexts(M.page), ['after deleting']);
  assert.deepEqual(M.problems, []);
  await M.context.close();
});

test("a message's details, copy, and delete for everyone or for me: gone from both sides or one, and from the swarm", async () => {
  const D = await openPage(browser, server.url, { permissions: ['clipboard-read', 'clipboard-write'] });
  await startTemporary(D.page, users.d.phrase);
  const e = (...args) => murmurText(users.e.home, '--network-file', network, ...args);
  const lines = (text) => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const inbox = () => lines(e('inbox', '--json'));
  // What a home restored from `phrase` finds in that account's swarm now.
  const inSwarm = (phrase) => {
    const home = mkdtempSync(join(tmpdir(), 'murmur-e2e-restored-'));
    try {
      murmurWithInput(home, `${phrase}\n`, 'identity', 'restore');
      // (An unsend request itself stays in the swarm for its TTL, as in Session.)
      return lines(murmurText(home, '--network-file', network, 'inbox', '--json')).filter((m) => !m.unsend).map((m) => m.text);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  };
  const row = (text) => D.page.locator('.message', { hasText: text });
  const panel = D.page.getByRole('group', { name: 'Message', exact: true });
  const more = (text) => row(text).getByRole('button', { name: 'More', exact: true }).click();
  await startChat(D.page, users.e.id);
  await send(D.page, 'see you at noon');
  await send(D.page, 'oops, wrong chat');
  await row('oops, wrong chat').locator('.meta', { hasText: 'Sent' }).waitFor({ timeout: 30000 });
  const got = inbox();
  assert.deepEqual(got.map((m) => m.text), ['see you at noon', 'oops, wrong chat']);

  // Details: the text, its hash as E received it, its protection; Copy puts the text on the
  // clipboard; Close keeps the message.
  await more('oops, wrong chat');
  await panel.getByText(got[1].hash).waitFor();
  await panel.getByText('Classic (Session v1)', { exact: false }).waitFor();
  await panel.getByRole('button', { name: 'Copy text' }).click();
  await panel.getByText('Copied.').waitFor();
  assert.equal(await D.page.evaluate(() => navigator.clipboard.readText()), 'oops, wrong chat');
  await panel.getByRole('button', { name: 'Close' }).click();
  await panel.waitFor({ state: 'detached' });
  await more('oops, wrong chat');
  await panel.getByRole('button', { name: 'Delete for everyone' }).click();
  await row('oops, wrong chat').waitFor({ state: 'detached', timeout: 30000 });
  await panel.waitFor({ state: 'detached' });
  assert.deepEqual(await shownTexts(D.page), ['see you at noon']);
  await D.page.getByRole('button', { name: /see you at noon/ }).waitFor();
  // E's next read deletes its copy, in E's swarm too.
  assert.deepEqual(inbox().map((m) => m.unsend?.hash), [got[1].hash]);
  assert.deepEqual(inSwarm(users.e.phrase), ['see you at noon']);

  // The other way: E takes back a message D's browser shows; it leaves D's list.
  const [mine] = lines(e('send', '--to', users.d.id, '--json', 'mine to take back'));
  await waitForText(D.page, 'mine to take back', 30000);
  await more('mine to take back');
  await panel.getByText(mine.hash).waitFor();
  await panel.getByRole('button', { name: 'Close' }).click();
  assert.equal(e('delete', '--hash', mine.hash, '--everyone').trim(), 'deleted for everyone');
  await row('mine to take back').waitFor({ state: 'detached', timeout: 30000 });

  // For me: their message leaves D's list and D's swarm; only ours can go for everyone.
  e('send', '--to', users.d.id, 'just between us');
  await waitForText(D.page, 'just between us', 30000);
  await more('just between us');
  assert.equal(await panel.getByRole('button', { name: 'Delete for everyone' }).count(), 0, 'not for their messages');
  await panel.getByRole('button', { name: 'Delete for me' }).click();
  await row('just between us').waitFor({ state: 'detached' });
  assert.deepEqual(await shownTexts(D.page), ['see you at noon']);
  assert.deepEqual(inSwarm(users.d.phrase), []);
  assert.deepEqual(D.problems, []);
  await D.context.close();
});

test('links in messages open in a new tab with no opener or referrer; nothing is fetched for them', async () => {
  const L = await openPage(browser, server.url);
  const elsewhere = [];
  L.context.on('request', (r) => { if (!r.url().startsWith('http://127.0.0.1:')) elsewhere.push(r.url()); });
  await startTemporary(L.page, users.l.phrase);
  const here = `${server.url}favicon.svg`;
  const text = `see https://example.org/a?b=1. or (https://en.wikipedia.org/wiki/Foo_(bar)), ${here} ` +
    'but not javascript:alert(1), <b>bold</b> or ftp://example.org/f';
  murmurText(users.c.home, '--network-file', network, 'send', '--to', users.l.id, text);
  const conv = L.page.getByRole('button', { name: /see https/ });
  await conv.waitFor({ timeout: 30000 });
  await conv.click();
  const shown = L.page.locator('.messages .message .text').first();
  await shown.locator('a').first().waitFor();
  assert.equal(await shown.textContent(), text, 'the text is unchanged, markup shown as text');
  const links = await shown.locator('a').evaluateAll((as) => as.map((a) => [a.getAttribute('href'), a.textContent, a.target, a.rel]));
  const link = (href, shownAs = href) => [href, shownAs, '_blank', 'noopener noreferrer'];
  assert.deepEqual(links, [
    link('https://example.org/a?b=1'),
    link('https://en.wikipedia.org/wiki/Foo_(bar)'),
    link(here),
  ]);
  // The one on this host opens in a new tab that cannot reach back, and is sent no referrer.
  const [opened, request] = await Promise.all([
    L.context.waitForEvent('page'),
    L.context.waitForEvent('request', (r) => r.url() === here),
    shown.getByRole('link', { name: here }).click(),
  ]);
  await opened.waitForLoadState();
  assert.equal(await opened.evaluate(() => window.opener), null);
  assert.equal((await request.allHeaders()).referer, undefined);
  assert.deepEqual(elsewhere, [], 'nothing fetched beyond this machine');
  assert.deepEqual(L.problems, []);
  await L.context.close();
});

test('a kept profile locks after 15 idle minutes, not before', async () => {
  const B = await openPage(browser, server.url, { clock: true });
  await startKept(B.page, users.k.phrase, 'correct horse battery');
  await B.page.clock.fastForward('14:00');
  await B.page.waitForTimeout(500);
  assert.equal(await B.page.getByRole('heading', { name: 'Unlock Murmur' }).count(), 0, 'not locked at 14 min');
  await B.page.clock.fastForward('02:00');
  await B.page.getByRole('heading', { name: 'Unlock Murmur' }).waitFor({ timeout: 15000 });
  // Unlocking again works; activity restarts the count.
  await B.page.getByLabel('Passphrase').fill('correct horse battery');
  await B.page.getByRole('button', { name: 'Unlock' }).click();
  await B.page.getByRole('button', { name: 'Settings' }).waitFor();
  assert.deepEqual(B.problems, []);
  await B.context.close();
});
