// Steps through the app's screens, shared by the e2e tests. Each finds elements the way a
// user (or a screen reader) would: by role, label and visible text.

/** Welcome → restore from `phrase` → the storage choice. */
export async function restoreInto(page, phrase) {
  await page.getByRole('button', { name: 'Restore from recovery phrase' }).click();
  await page.getByLabel('Recovery phrase (13 words)').fill(phrase);
  await page.getByRole('button', { name: 'Restore', exact: true }).click();
  await page.getByRole('heading', { name: 'Where should your messages live?' }).waitFor();
}

/** Restores `phrase` into a temporary session. */
export async function startTemporary(page, phrase) {
  await restoreInto(page, phrase);
  await page.getByRole('button', { name: 'Temporary session' }).click();
  await page.getByRole('button', { name: 'Settings' }).waitFor();
}

/** Restores `phrase` into a kept profile under `passphrase`. */
export async function startKept(page, phrase, passphrase) {
  await restoreInto(page, phrase);
  await page.getByLabel('Passphrase', { exact: true }).fill(passphrase);
  await page.getByLabel('Passphrase again').fill(passphrase);
  await page.getByRole('button', { name: 'Keep history on this device' }).click();
  await page.getByRole('button', { name: 'Settings' }).waitFor();
}

/** Opens (or creates) the conversation with Session ID `id` from the "New chat" form. */
export async function startChat(page, id) {
  await page.getByRole('button', { name: 'New chat' }).click();
  await page.getByLabel('Their Session ID').fill(id);
  await page.getByRole('button', { name: 'Start chat' }).click();
  await page.getByTestId('peer-id').filter({ hasText: id }).waitFor();
}

export async function send(page, text) {
  const composer = page.getByLabel('Message', { exact: true });
  await composer.fill(text);
  await composer.press('Enter');
}

/** The texts of the open conversation's messages, in order. */
export async function shownTexts(page) {
  return page.locator('.messages .message .text').allTextContents();
}

export async function waitForText(page, text, timeout = 20000) {
  await page.locator('.messages .message .text', { hasText: text }).first().waitFor({ timeout });
}

/** Every IndexedDB record of the page's origin, as [key, bytes] pairs (the at-rest audit). */
export async function indexedDbRecords(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const { name } of await indexedDB.databases()) {
      const db = await new Promise((res, rej) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      for (const store of db.objectStoreNames) {
        const os = db.transaction(store).objectStore(store);
        const [keys, values] = await Promise.all([os.getAllKeys(), os.getAll()].map((req) => new Promise((res) => { req.onsuccess = () => res(req.result); })));
        keys.forEach((k, i) => out.push([String(k), Array.from(new Uint8Array(values[i].buffer ?? values[i]))]));
      }
      db.close();
    }
    return out;
  });
}

/** Settings → Log out → erase; returns what the origin still holds (all zero / empty when clean). */
export async function logOutAndSurvey(page) {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: 'Log out and erase' }).click();
  await page.getByRole('heading', { name: 'Murmur' }).waitFor();
  return page.evaluate(async () => ({
    databases: (await indexedDB.databases()).length,
    caches: (await caches.keys()).length,
    local: localStorage.length,
    session: sessionStorage.length,
    cookies: document.cookie,
    workers: (await navigator.serviceWorker?.getRegistrations?.() ?? []).length,
  }));
}

/** What logOutAndSurvey returns for an empty origin. */
export const EMPTY_ORIGIN = { databases: 0, caches: 0, local: 0, session: 0, cookies: '', workers: 0 };
