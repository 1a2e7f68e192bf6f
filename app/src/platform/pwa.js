// The page's side of the service worker (public/sw.js), called from pwa.rs: register it, say
// when a newly deployed version has installed and waits, and switch to it when asked.
export function registerWorker(onUpdate) {
  const container = navigator.serviceWorker;
  if (!container) return;
  container.register('sw.js').then((registration) => {
    // A version waiting matters only when one already controls this page.
    const waits = () => registration.waiting && container.controller && onUpdate();
    const watch = (worker) => worker?.addEventListener('statechange', waits);
    waits();
    watch(registration.installing);
    registration.addEventListener('updatefound', () => watch(registration.installing));
    // A tab left open for days still hears of a new deployment.
    setInterval(() => registration.update().catch(() => {}), 3600 * 1000);
  }).catch(() => {});
}

export function applyUpdate() {
  const container = navigator.serviceWorker;
  container.addEventListener('controllerchange', () => location.reload());
  container.getRegistration().then((registration) => registration?.waiting?.postMessage('update'));
}
