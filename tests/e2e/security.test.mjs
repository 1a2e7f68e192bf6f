// Hostile text in a real browser against a 9-node devnet: an XSS corpus (script tags, event
// handlers, javascript: URLs, SVG/MathML, bidi overrides, zero-width characters) sent by a CLI
// user renders as inert text; a 1 MB message is refused in the composer with a clear error and
// a 59 KB one goes through; nothing readable sits in IndexedDB; logging out of a kept profile
// leaves the origin empty.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, murmurText, murmurWithInput, startWorld } from './harness.mjs';
import { EMPTY_ORIGIN, indexedDbRecords, logOutAndSurvey, startKept, send, shownTexts, waitForText } from './ui.mjs';

let world;
before(async () => { world = await startWorld(['b', 'c']); });
after(async () => { await world?.stop(); });

const CORPUS = [
  '<script>window.__pwned = 1</script>',
  '<img src=x onerror="window.__pwned = 2">',
  '<svg onload="window.__pwned = 3"><script>window.__pwned = 4</script></svg>',
  '<a href="javascript:window.__pwned = 5">click me</a>',
  'javascript:window.__pwned = 6',
  '<iframe srcdoc="<script>parent.__pwned = 7</script>"></iframe>',
  '<body onload="window.__pwned = 8">',
  '<math><mi xlink:href="javascript:window.__pwned = 9">x</mi></math>',
  '"><style>* { display: none }</style>',
  '{{constructor.constructor("window.__pwned = 10")()}}',
  '&lt;b&gt;entities&lt;/b&gt; &amp; &#60;script&#62;',
  '[link](javascript:window.__pwned = 11)',
  '\u202Egnp.exe\u202C after a right-to-left override',
  'zero\u200Bwidth\u200Cand\u200Djoiners\uFEFF',
  '\u2066isolate\u2069 and an Arabic letter mark \u061C',
];

test('hostile text renders inert; long messages are bounded; at rest and after logout nothing is left', { timeout: 5 * 60_000 }, async () => {
  const { users, network, browser, server } = world;
  const B = await openPage(browser, server.url);
  B.page.on('dialog', (d) => { B.problems.push(`dialog: ${d.message()}`); d.dismiss(); });
  await startKept(B.page, users.b.phrase, 'a long enough passphrase');

  // A Session ID with a zero-width space in it is refused, not taken for someone else's.
  await B.page.getByRole('button', { name: 'New chat' }).click();
  await B.page.getByLabel('Their Session ID').fill(users.c.id.slice(0, 30) + '\u200B' + users.c.id.slice(30));
  assert.equal(await B.page.getByRole('button', { name: 'Start chat' }).isDisabled(), true);
  assert.notEqual((await B.page.locator('#new-peer-status').textContent()).trim(), '', 'an error is shown');
  assert.equal(await B.page.getByTestId('peer-id').count(), 0, 'no conversation opened');

  // C (a terminal) sends the corpus, one message per line.
  murmurWithInput(users.c.home, CORPUS.join('\n') + '\n', '--network-file', network, 'send', '--to', users.b.id, '-');
  const fromC = B.page.getByRole('button', { name: /Arabic letter mark/ });
  await fromC.waitFor({ timeout: 30000 });
  await fromC.click();
  await waitForText(B.page, 'Arabic letter mark');
  assert.deepEqual(await shownTexts(B.page), CORPUS, 'every message shown exactly as sent, as text');
  const inside = await B.page.locator('.messages').evaluate((el) => ({
    elements: [...el.querySelectorAll('img, script, svg, iframe, a, math, style, body')].length,
    links: [...el.querySelectorAll('[href], [src], [srcdoc]')].length,
    handlers: [...el.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
  }));
  assert.deepEqual(inside, { elements: 0, links: 0, handlers: 0 });
  assert.equal(await B.page.evaluate(() => window.__pwned), undefined, 'no script ran');
  // Bidi controls stay inside their message.
  const bidi = await B.page.locator('.messages .message .text').first().evaluate((el) => ({
    dir: el.getAttribute('dir'), unicodeBidi: getComputedStyle(el).unicodeBidi,
  }));
  assert.deepEqual(bidi, { dir: 'auto', unicodeBidi: 'isolate' });

  // 1 MB: refused in the composer, with the reason, and kept there to be shortened.
  const composer = B.page.getByLabel('Message', { exact: true });
  await composer.fill('x'.repeat(1_000_000));
  await B.page.getByRole('alert').filter({ hasText: 'This message is too long to send' }).waitFor();
  assert.equal(await B.page.getByRole('button', { name: 'Send' }).isDisabled(), true);
  await composer.press('Enter');
  assert.equal(await B.page.locator('.messages .message.out').count(), 0, 'nothing sent');
  assert.equal((await composer.inputValue()).length, 1_000_000, 'the text is kept');
  // Just under the limit (59 KB of markup) goes through and arrives intact.
  const long = '<img src=x onerror=alert(1)>'.repeat(2100).slice(0, 59_000);
  await send(B.page, long);
  await B.page.locator('.message.out .meta', { hasText: 'Sent' }).first().waitFor({ timeout: 30000 });
  const inbox = JSON.parse(`[${murmurText(users.c.home, '--network-file', network, 'inbox', '--json').trim().split('\n').join(',')}]`);
  assert.ok(inbox.some((m) => m.text === long), 'C received the 59 KB message intact');
  assert.equal(await B.page.evaluate(() => window.__pwned), undefined);

  // At rest: none of it readable in IndexedDB.
  const stored = (await indexedDbRecords(B.page))
    .map(([k, v]) => k + Buffer.from(v).toString('latin1')).join('\n');
  assert.ok(stored.length > 1000, 'B keeps records');
  for (const secret of ['__pwned', 'onerror', 'gnp.exe', 'joiners', users.c.id, users.c.id.slice(2), users.b.id.slice(2)]) {
    assert.ok(!stored.includes(secret), `"${secret.slice(0, 12)}…" is not stored in clear`);
  }

  // Logging out of the kept profile leaves the origin empty.
  assert.deepEqual(await logOutAndSurvey(B.page), EMPTY_ORIGIN);
  await B.page.reload();
  await B.page.getByRole('button', { name: 'Create account' }).waitFor();

  assert.deepEqual(B.problems, []);
  await B.context.close();
});
