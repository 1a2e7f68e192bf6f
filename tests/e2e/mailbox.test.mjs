// A full mailbox (Byzantine-nodes issue, attack 4): nodes hold at most a quota of messages per
// account, so one sender cannot fill a swarm for everyone. Here the quota is 3: the browser
// user's fourth message to the same person is marked Failed with "Their mailbox is full; try
// later.", while a message to someone else still goes, and the CLI says the same.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BIN_DIR, openPage, murmurText, startWorld } from './harness.mjs';
import { send, startChat, startTemporary } from './ui.mjs';

let world;

before(async () => { world = await startWorld(['a', 'b', 'c'], 6, ['--account-max-count', '3']); });
after(async () => { await world?.stop(); });

test('a full mailbox is said plainly in the browser and the CLI; other mailboxes still take messages', async () => {
  const { users, browser, network, server } = world;
  const A = await openPage(browser, server.url);
  await startTemporary(A.page, users.a.phrase);
  await startChat(A.page, users.b.id);
  for (const text of ['one', 'two', 'three']) {
    await send(A.page, text);
    await A.page.locator('.messages .message', { hasText: text }).getByText('Sent').waitFor({ timeout: 30000 });
  }
  await send(A.page, 'four');
  await A.page.getByText('Their mailbox is full; try later.').waitFor({ timeout: 30000 });
  await A.page.locator('.messages .message', { hasText: 'four' }).getByText('Failed').waitFor();

  // Another mailbox is not affected.
  await startChat(A.page, users.c.id);
  await send(A.page, 'to C');
  await A.page.locator('.messages .message', { hasText: 'to C' }).getByText('Sent').waitFor({ timeout: 30000 });
  const inbox = murmurText(users.c.home, '--network-file', network, 'inbox');
  assert.match(inbox, /to C/);

  // The CLI, to the same full mailbox.
  const out = spawnSync(join(BIN_DIR, 'murmur'),
    ['--home', users.c.home, 'send', '--to', users.b.id, 'from the CLI'], { encoding: 'utf8' });
  assert.notEqual(out.status, 0);
  assert.match(out.stderr, /their mailbox is full; try later/);
  await A.context.close();
});
