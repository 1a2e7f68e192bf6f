// The page-level calls of page.rs that are plain browser calls (visibility, local dates,
// storage, history, title): a line or a few each here, where the same through web-sys is a
// handful of imports and checks in the wasm.
export function tabHidden() { return document.hidden; }
export function localDay(ms) { return new Date(ms).toDateString(); }
export function localTime(ms) {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}
export function requestPersistentStorage() { navigator.storage?.persist().catch(() => {}); }
export async function storageIsPersistent() { return navigator.storage?.persisted(); }

// Logout's steps before IndexedDB (page.rs deletes that last): the service workers first, as
// one still running could fill a cache again, then Cache Storage and Web Storage. Every step
// is tried; the first failure's text is returned.
export async function wipeWebState() {
  let first;
  const note = (what, e) => { first ??= `${what}: ${e}`; };
  try {
    for (const registration of await navigator.serviceWorker?.getRegistrations() ?? []) {
      await registration.unregister().catch((e) => note('service worker', e));
    }
  } catch (e) { note('service worker', e); }
  try {
    for (const name of self.caches ? await caches.keys() : []) {
      await caches.delete(name).catch((e) => note('Cache Storage', e));
    }
  } catch (e) { note('Cache Storage', e); }
  for (const storage of ['localStorage', 'sessionStorage']) {
    try { window[storage].clear(); } catch (e) { note('Web Storage', e); }
  }
  return first;
}
// A file served beside the bundle (the recovery word list): its text, or a rejection with a
// string saying why.
export function fetchText(name) {
  return fetch(name, { credentials: 'omit' })
    .then((r) => (r.ok ? r.text() : Promise.reject(`HTTP ${r.status}`)))
    .catch((e) => Promise.reject(String(e)));
}
export function pushScreen(kind) { history.pushState(kind, ''); }
export function replaceScreen(kind) { history.replaceState(kind, ''); }
export function goBack() { history.back(); }
export function setTitle(title) { document.title = title; }
export function setTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}
export function chatLink(id) { return `${location.href.split('#')[0]}#/chat/${id}`; }
export function takeChatLink() {
  const link = /^#\/chat\/(.+)$/.exec(location.hash);
  if (!link) return undefined;
  history.replaceState(null, '', location.pathname + location.search);
  return link[1];
}
// Brings a message found by a search into view once its page is drawn (up to 3 s), marked
// `found` for the stylesheet, and focuses it so a screen reader reads it.
// The `data-id` of the list row whose button marked with attribute `marker` the click `event`
// landed on, or undefined.
export function clickedRow(event, marker) {
  const button = event.target instanceof Element && event.target.hasAttribute(marker) ? event.target : null;
  return button?.closest('li[data-id]')?.dataset.id;
}
export function reveal(id) {
  const until = Date.now() + 3000;
  const look = () => {
    const li = [...document.querySelectorAll('.messages .message')].find((m) => m.dataset.id === id);
    if (li) {
      document.querySelector('.messages .found')?.classList.remove('found');
      li.classList.add('found');
      li.tabIndex = -1;
      li.scrollIntoView({ block: 'center' });
      li.focus({ preventScroll: true });
    } else if (Date.now() < until) setTimeout(look, 50);
  };
  look();
}
