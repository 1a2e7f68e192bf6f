// Accessibility (issue 22): axe-core checks every screen a user can reach without the network —
// welcome, create, restore, storage choice, unlock, the messenger with a chat open, a message's
// details and actions, the new-chat form, settings and the log-out confirmation — in the light and the dark theme, and finds no
// serious or critical violation of WCAG 2.1 A/AA.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import { serveBundle, launchBrowser, openPage, newCliUser, pageErrors } from './harness.mjs';
import { restoreInto, startChat } from './ui.mjs';

const PHRASE = Array(13).fill('abbey').join(' ');
const PASS = 'correct horse battery';
let server; let browser;

before(async () => { server = await serveBundle(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

/** "screen (theme): rule — target" for each serious or critical violation on the page now. */
async function violations(page, screen) {
  const found = [];
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    const { violations: all } = await new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
      .analyze();
    for (const v of all.filter((x) => x.impact === 'serious' || x.impact === 'critical')) {
      for (const node of v.nodes) found.push(`${screen} (${colorScheme}): ${v.id} — ${node.target.join(' ')}`);
    }
  }
  return found;
}

test('every screen passes axe in both themes', { timeout: 4 * 60_000 }, async () => {
  const { context, page, problems } = await openPage(browser, server.url);
  const peer = newCliUser('a11y-peer');
  const found = [];
  await page.getByRole('button', { name: 'Create account' }).waitFor();
  found.push(...await violations(page, 'welcome'));

  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Your new account' }).waitFor();
  found.push(...await violations(page, 'create'));
  await page.getByRole('button', { name: 'Back' }).first().click();

  await restoreInto(page, PHRASE);
  found.push(...await violations(page, 'storage choice'));
  await page.getByLabel('Passphrase', { exact: true }).fill(PASS);
  await page.getByLabel('Passphrase again').fill(PASS);
  await page.getByRole('button', { name: 'Keep history on this device' }).click();
  await page.getByRole('heading', { name: 'Chats' }).waitFor();
  found.push(...await violations(page, 'messenger'));

  await page.getByRole('button', { name: 'New chat' }).click();
  await page.getByLabel('Their Session ID').fill('05 not an id');
  found.push(...await violations(page, 'new chat (with an error)'));
  await startChat(page, peer.id);
  found.push(...await violations(page, 'chat'));
  // A message (offline here, so it fails) and its details and actions.
  const composer = page.getByLabel('Message', { exact: true });
  await composer.fill('hello from an unreachable network');
  await composer.press('Enter');
  await page.locator('.message.out .meta', { hasText: 'Failed' }).waitFor({ timeout: 60000 });
  await page.getByRole('button', { name: 'More', exact: true }).click();
  await page.getByRole('group', { name: 'Message', exact: true }).getByText('Not sent').waitFor();
  found.push(...await violations(page, 'message details'));
  await page.getByRole('button', { name: 'Close' }).click();

  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  found.push(...await violations(page, 'settings'));
  await page.getByRole('button', { name: 'Log out' }).click();
  found.push(...await violations(page, 'log-out confirmation'));

  await page.reload();
  await page.getByRole('heading', { name: 'Unlock Murmur' }).waitFor();
  found.push(...await violations(page, 'unlock'));

  // Restore, reached from a fresh origin.
  const other = await openPage(browser, server.url);
  await other.page.getByRole('button', { name: 'Restore from recovery phrase' }).click();
  await other.page.getByLabel('Recovery phrase (13 words)').waitFor();
  found.push(...await violations(other.page, 'restore'));

  assert.deepEqual(found, []);
  assert.deepEqual(pageErrors(problems), []);
  assert.deepEqual(pageErrors(other.problems), []);
  await other.context.close();
  await context.close();
  rmSync(peer.home, { recursive: true, force: true });
});
