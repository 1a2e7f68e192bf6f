// The Notification API calls of notify.rs: a few lines here, where the same through web-sys is
// a handful of imports and checks in the wasm.
const supported = () => 'Notification' in window;

export function permitted() { return supported() && Notification.permission === 'granted'; }

export async function requestPermission() {
  return supported() && (await Notification.requestPermission()) === 'granted';
}

// A click brings the tab forward and asks the app (an `OPEN_CHAT` event on window) to open the
// conversation: the ID stays in this closure, never in the address or the browser's history.
export function show(title, body, peer) {
  const n = new Notification(title, { body, tag: 'murmur-message' });
  n.onclick = () => {
    window.focus();
    n.close();
    dispatchEvent(new CustomEvent('murmur-open-chat', { detail: peer }));
  };
}
