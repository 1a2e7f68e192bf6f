// Links in messages, made clickable safely: every `.message .text` added to the page has its
// http(s) URLs wrapped in anchors that open in a new tab with no opener and no referrer.
// Nothing is fetched for them (no previews). Text stays text: nodes are built with
// createTextNode and textContent, never from HTML. Watching the page here, rather than in each
// rendered message, costs the wasm one call.
const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"]+/gi;
// Punctuation that ends a sentence rather than the URL ("see https://a.example/x.").
const TRAILING = /[.,;:!?'»”’)\]}]$/;
const count = (s, c) => s.split(c).length - 1;

function linkify(el) {
  const text = el.textContent;
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    let url = match[0];
    while (TRAILING.test(url)) {
      // A closing parenthesis belongs to the URL when it closes one the URL opened
      // ("(see https://en.wikipedia.org/wiki/Foo_(bar))").
      if (url.endsWith(')') && count(url, '(') >= count(url, ')')) break;
      url = url.slice(0, -1);
    }
    let href;
    try { href = new URL(url).href; } catch { continue; }
    parts.push(document.createTextNode(text.slice(last, match.index)));
    const a = document.createElement('a');
    a.href = href;
    a.textContent = url;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    parts.push(a);
    last = match.index + url.length;
  }
  if (!parts.length) return;
  parts.push(document.createTextNode(text.slice(last)));
  el.replaceChildren(...parts);
}

export function linkMessages() {
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType !== Node.ELEMENT_NODE) continue;
        if (node.matches('.message .text')) linkify(node);
        else node.querySelectorAll('.message .text').forEach(linkify);
      }
    }
  }).observe(document.body, { childList: true, subtree: true });
}
