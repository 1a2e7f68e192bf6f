// The Web Locks calls of tabs.rs. Asks for the profile's lock (`takeOver`: steal it from the
// tab holding it; else only if free). Resolves to the function that releases it, to null when
// another tab holds it, or to a no-op where the browser has no Web Locks (every tab is active
// then). `onLost` runs if another tab takes the lock over later.
export async function claimLock(name, takeOver, onLost) {
  const locks = navigator.locks;
  if (!locks) return () => {};
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  const granted = await new Promise((answer) => {
    locks.request(name, takeOver ? { steal: true } : { ifAvailable: true }, (lock) => {
      answer(lock !== null);
      return lock ? held : undefined;
    }).catch(onLost);
  });
  return granted ? release : null;
}
