// Chat in real browsers against a 9-node devnet: two browser users and a CLI user talk; a kept
// history survives a reload behind its passphrase; hostile text stays text; logging out of a
// temporary session leaves the origin empty.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openPage, screenshot, murmurText, startWorld } from './harness.mjs';
import { EMPTY_ORIGIN, indexedDbRecords, logOutAndSurvey, restoreInto, send, shownTexts, startChat, startTemporary, waitForText } from './ui.mjs';

let world; let users; let browser; let network; let devnet; let server;

before(async () => {
  world = await startWorld(['a', 'b', 'c']);
  ({ users, browser, network, devnet, server } = world);
});
after(async () => { await world?.stop(); });

test('two browsers and a CLI user talk; history survives a reload; text stays text', async () => {
  const A = await openPage(browser, server.url);
  const B = await openPage(browser, server.url, { viewport: { width: 390, height: 844 } });
  for (const p of [A, B]) p.page.on('dialog', (d) => { p.problems.push(`dialog: ${d.message()}`); d.dismiss(); });

  // A: temporary session. B: kept history behind a passphrase, at phone width.
  await restoreInto(A.page, users.a.phrase);
  await A.page.getByRole('button', { name: 'Temporary session' }).click();
  await A.page.getByText('Temporary session: nothing is saved on this device').waitFor();
  await restoreInto(B.page, users.b.phrase);
  await B.page.getByLabel('Passphrase', { exact: true }).fill('short');
  await B.page.getByLabel('Passphrase again').fill('short');
  await B.page.getByRole('button', { name: 'Keep history on this device' }).click();
  await B.page.getByText('Use at least 8 characters.').waitFor();
  await B.page.getByLabel('Passphrase', { exact: true }).fill('correct horse battery');
  await B.page.getByLabel('Passphrase again').fill('correct horse battery');
  await B.page.getByRole('button', { name: 'Keep history on this device' }).click();
  await B.page.getByRole('button', { name: 'Settings' }).waitFor();

  // A starts a chat with B: the Session ID is checked as it is typed.
  await A.page.getByRole('button', { name: 'New chat' }).click();
  const newChat = A.page.getByLabel('Their Session ID');
  await newChat.fill(users.b.id.slice(0, 20));
  await A.page.getByText('a Session ID is 66 hex characters').waitFor();
  await newChat.fill(users.b.id);
  await A.page.getByRole('button', { name: 'Start chat' }).click();
  await send(A.page, 'Hello B, over three hops');
  await A.page.locator('.message.out .meta', { hasText: 'Sent' }).first().waitFor({ timeout: 20000 });

  // B sees the conversation appear with an unread count, opens it and answers.
  const fromA = B.page.getByRole('button', { name: /Hello B, over three hops/ });
  await fromA.waitFor({ timeout: 20000 });
  // The tab's title counts the unread message, and drops the count once it is read.
  await B.page.waitForFunction(() => document.title === '(1) Murmur');
  await fromA.click();
  await waitForText(B.page, 'Hello B, over three hops');
  await B.page.waitForFunction(() => document.title === 'Murmur');
  await send(B.page, 'Hi A! From a phone-sized window');
  await waitForText(A.page, 'Hi A! From a phone-sized window');

  // Hostile text arrives as visible text and runs nothing.
  const hostile = ['<img src=x onerror=alert(1)>', '<script>window.__pwned = 1</script>',
    '<svg onload=alert(2)></svg>', 'javascript:alert(3)'];
  for (const text of hostile) await send(A.page, text);
  await waitForText(B.page, 'javascript:alert(3)');
  const atB = await shownTexts(B.page);
  for (const text of hostile) assert.ok(atB.includes(text), `${text} shown as text`);
  assert.equal(await B.page.locator('.messages img, .messages script, .messages svg').count(), 0);
  assert.equal(await B.page.evaluate(() => window.__pwned), undefined);

  // A CLI user writes to A.
  murmurText(users.c.home, '--network-file', network, 'send', '--to', users.a.id, 'hi from a terminal');
  const fromC = A.page.getByRole('button', { name: /hi from a terminal/ });
  await fromC.waitFor({ timeout: 20000 });
  await fromC.click();
  await waitForText(A.page, 'hi from a terminal');
  for (const [scheme, suffix] of [['light', ''], ['dark', '-dark']]) {
    for (const [p, name] of [[A.page, 'chat-desktop'], [B.page, 'chat-phone']]) {
      await p.emulateMedia({ colorScheme: scheme });
      await screenshot(p, name + suffix);
    }
  }
  for (const p of [A.page, B.page]) await p.emulateMedia({ colorScheme: 'light' });

  // B reloads: the unlock screen; a wrong passphrase is refused; the right one brings it all back.
  await B.page.reload();
  await B.page.getByRole('heading', { name: 'Unlock Murmur' }).waitFor();
  await B.page.getByLabel('Passphrase').fill('wrong horse battery');
  await B.page.getByRole('button', { name: 'Unlock' }).click();
  await B.page.getByText('Wrong passphrase.').waitFor();
  await B.page.getByLabel('Passphrase').fill('correct horse battery');
  await B.page.getByRole('button', { name: 'Unlock' }).click();
  await B.page.getByRole('button', { name: /javascript:alert\(3\)/ }).click();
  await waitForText(B.page, 'Hello B, over three hops');
  assert.ok((await shownTexts(B.page)).includes('Hi A! From a phone-sized window'));

  // Settings: the recovery phrase only behind the passphrase; the passphrase can be changed.
  await B.page.getByRole('button', { name: 'Settings' }).click();
  await B.page.getByLabel('Passphrase', { exact: true }).fill('wrong horse battery');
  await B.page.getByRole('button', { name: 'Show recovery phrase' }).click();
  await B.page.getByText('Wrong passphrase.').waitFor();
  await B.page.getByLabel('Passphrase', { exact: true }).fill('correct horse battery');
  await B.page.getByRole('button', { name: 'Show recovery phrase' }).click();
  await B.page.getByTestId('recovery-phrase').waitFor();
  const words = await B.page.getByTestId('recovery-phrase').locator('li').allTextContents();
  assert.equal(words.join(' '), users.b.phrase);
  await B.page.getByLabel('Current passphrase').fill('not it at all');
  await B.page.getByLabel('New passphrase', { exact: true }).fill('a brand new passphrase');
  await B.page.getByLabel('New passphrase again').fill('a brand new passphrase');
  await B.page.getByRole('button', { name: 'Change passphrase' }).click();
  await B.page.getByRole('status').filter({ hasText: 'Wrong passphrase.' }).waitFor();
  await B.page.getByLabel('Current passphrase').fill('correct horse battery');
  await B.page.getByRole('button', { name: 'Change passphrase' }).click();
  await B.page.getByText('Passphrase changed.').waitFor();
  await B.page.reload();
  await B.page.getByLabel('Passphrase').fill('correct horse battery');
  await B.page.getByRole('button', { name: 'Unlock' }).click();
  await B.page.getByText('Wrong passphrase.').waitFor();
  await B.page.getByLabel('Passphrase').fill('a brand new passphrase');
  await B.page.getByRole('button', { name: 'Unlock' }).click();
  await B.page.getByRole('button', { name: 'Settings' }).waitFor();

  // At rest: nothing readable in B's IndexedDB.
  const dump = await indexedDbRecords(B.page);
  assert.ok(dump.length > 3, 'B keeps records');
  const asText = dump.map(([k, v]) => k + Buffer.from(v).toString('latin1')).join('\n');
  for (const secret of ['Hello B', 'phone-sized', 'onerror', users.a.id, users.b.id, users.a.id.slice(2), users.b.id.slice(2)]) {
    assert.ok(!asText.includes(secret), `"${secret.slice(0, 12)}…" is not stored in clear`);
  }

  // A logs out of the temporary session: the origin is left empty.
  assert.deepEqual(await logOutAndSurvey(A.page), EMPTY_ORIGIN);

  assert.deepEqual(A.problems, []);
  assert.deepEqual(B.problems, []);
  await A.context.close();
  await B.context.close();
});

test('a message shows "Sending" while the network is slow, then "Sent"', async () => {
  const A = await openPage(browser, server.url);
  await startTemporary(A.page, users.a.phrase);
  await startChat(A.page, users.c.id);
  // Every onion request now takes 1.5 s more: the delivery state must be visible meanwhile.
  let slowed = 0;
  await A.page.route('**/onion_req/v2', async (route) => {
    slowed += 1;
    await new Promise((r) => setTimeout(r, 1500));
    await route.continue();
  });
  await send(A.page, 'a slow one');
  const meta = A.page.locator('.message.out', { hasText: 'a slow one' }).locator('.meta');
  await meta.filter({ hasText: 'Sending' }).waitFor({ timeout: 5000 });
  await meta.filter({ hasText: 'Sent' }).waitFor({ timeout: 30000 });
  assert.ok(slowed > 0, 'the requests went through the slowed route');
  assert.deepEqual(A.problems, []);
  await A.context.close();
});
