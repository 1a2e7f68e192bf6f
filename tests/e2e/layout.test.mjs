// The messenger's layout (issue 22): two panes on a wide screen, one part at a time on a phone
// with Back (the app's button and the browser's) stepping through them; settings and the
// new-chat form as screens of their own; the theme following the system unless picked in
// settings; a `#/chat/05…` link opening that chat; a draft per conversation. No network is
// needed for any of it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { serveBundle, launchBrowser, openPage, newCliUser, pageErrors } from './harness.mjs';
import { EMPTY_ORIGIN, logOutAndSurvey, startChat, startKept, startTemporary } from './ui.mjs';

const PHRASE = Array(13).fill('abbey').join(' ');
const PASS = 'correct horse battery';
let server; let browser;

before(async () => { server = await serveBundle(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

const PHONE = { width: 390, height: 844 };
const visible = (page, role, name) => page.getByRole(role, { name, exact: true }).isVisible();

test('each conversation keeps what was typed in it', async () => {
  const { context, page, problems } = await openPage(browser, server.url);
  const [x, y] = [newCliUser('draft-x'), newCliUser('draft-y')];
  await startTemporary(page, PHRASE);
  const composer = page.getByLabel('Message', { exact: true });
  await startChat(page, x.id);
  await composer.fill('half a thought for x');
  await startChat(page, y.id);
  assert.equal(await composer.inputValue(), '', 'not carried into another conversation');
  await composer.fill('for y');
  await page.getByRole('button', { name: new RegExp(x.id.slice(0, 8)) }).click();
  await page.getByTestId('peer-id').filter({ hasText: x.id }).waitFor();
  assert.equal(await composer.inputValue(), 'half a thought for x');
  await page.getByRole('button', { name: new RegExp(y.id.slice(0, 8)) }).click();
  await page.getByTestId('peer-id').filter({ hasText: y.id }).waitFor();
  assert.equal(await composer.inputValue(), 'for y');
  assert.deepEqual(pageErrors(problems), []);
  await context.close();
  for (const u of [x, y]) rmSync(u.home, { recursive: true, force: true });
});

test('on a phone one part shows at a time, and Back steps through them', async () => {
  const { context, page, problems } = await openPage(browser, server.url, { viewport: PHONE });
  const peer = newCliUser('layout-peer');
  await startKept(page, PHRASE, PASS);
  assert.ok(await visible(page, 'heading', 'Chats'), 'the list shows');
  assert.equal(await page.getByRole('region', { name: 'Conversation' }).isVisible(), false);

  // The new-chat form is a screen: Back (the browser's) returns to the list.
  await page.getByRole('button', { name: 'New chat' }).click();
  await page.getByRole('heading', { name: 'New chat' }).waitFor();
  assert.equal(await visible(page, 'heading', 'Chats'), false, 'the list is covered');
  await page.goBack();
  await page.getByRole('heading', { name: 'Chats' }).waitFor();

  // A chat covers the list; the app's Back returns to it; Forward opens the same chat again.
  await startChat(page, peer.id);
  assert.equal(await visible(page, 'heading', 'Chats'), false);
  await page.getByRole('button', { name: 'Back', exact: true }).click();
  await page.getByRole('heading', { name: 'Chats' }).waitFor();
  assert.equal(await page.getByTestId('peer-id').count(), 0, 'nothing is open behind the list');
  await page.goForward();
  await page.getByTestId('peer-id').filter({ hasText: peer.id }).waitFor();
  await page.goBack();
  await page.getByRole('heading', { name: 'Chats' }).waitFor();

  // Settings is a screen too, with its own Back.
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  assert.equal(await visible(page, 'heading', 'Chats'), false);
  await page.getByRole('button', { name: 'Back', exact: true }).click();
  await page.getByRole('heading', { name: 'Chats' }).waitFor();
  assert.ok(!page.url().includes(peer.id), 'no Session ID in the address');
  assert.deepEqual(pageErrors(problems), []);
  await context.close();
  rmSync(peer.home, { recursive: true, force: true });
});

test('on a wide screen the list stays beside the chat, settings and the new-chat form', async () => {
  const { context, page, problems } = await openPage(browser, server.url);
  const peer = newCliUser('layout-wide');
  await startKept(page, PHRASE, PASS);
  await startChat(page, peer.id);
  assert.ok(await visible(page, 'heading', 'Chats'));
  assert.equal(await page.getByRole('button', { name: 'Back', exact: true }).isVisible(), false,
    'no Back in a chat beside the list');
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  assert.ok(await visible(page, 'heading', 'Chats'));
  assert.equal(await page.getByTestId('peer-id').count(), 0, 'settings take the chat\'s place');
  // The browser's Back returns to the chat that was open.
  await page.goBack();
  await page.getByTestId('peer-id').filter({ hasText: peer.id }).waitFor();
  assert.deepEqual(pageErrors(problems), []);
  await context.close();
  rmSync(peer.home, { recursive: true, force: true });
});

test('the theme follows the system unless picked; a chat link opens its chat after unlocking', async () => {
  const { context, page, problems } = await openPage(browser, server.url);
  const peer = newCliUser('layout-link');
  const background = () => page.evaluate(() => getComputedStyle(document.querySelector('.messenger, .card')).backgroundColor
    + '|' + getComputedStyle(document.documentElement).backgroundColor);
  await page.emulateMedia({ colorScheme: 'light' });
  await startKept(page, PHRASE, PASS);
  const light = await background();
  await page.emulateMedia({ colorScheme: 'dark' });
  const dark = await background();
  assert.notEqual(light, dark, 'the system theme is followed');

  // Picked light: the system's dark no longer applies, and it holds after a reload and unlock.
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Theme').selectOption('light');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
  assert.equal(await background(), light);

  // A chat link: the app opens on the unlock screen, then in that chat; the link leaves the address.
  await page.goto(`${server.url}#/chat/${peer.id}`);
  await page.reload();
  await page.getByLabel('Passphrase', { exact: true }).fill(PASS);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.getByTestId('peer-id').filter({ hasText: peer.id }).waitFor();
  assert.equal(await page.evaluate(() => location.hash), '');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
  assert.equal(await background(), light);

  // Logging out returns the page to the system's theme.
  assert.deepEqual(await logOutAndSurvey(page), EMPTY_ORIGIN);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), undefined);
  assert.deepEqual(pageErrors(problems), []);
  await context.close();
  rmSync(peer.home, { recursive: true, force: true });
});
