// The page-level calls of page.rs that are plain property sets and history calls: one JS line
// each here, where the same through web-sys is a handful of imports and checks in the wasm.
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
