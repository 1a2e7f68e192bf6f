// IndexedDB for idb.rs: one database per profile, version 1, holding one object store,
// "records", of Uint8Array values under string keys. Plain browser calls, a line or a few
// each: the same through a crate was ~17 KB of wasm, plus float formatting for its error text.
// Every failure rejects with a string: the browser's exception name and message.
const RECORDS = 'records';

const why = (e) => (e ? `${e.name}: ${e.message}` : 'the browser raised an unexpected error');

// The result of an IDBRequest, or its error.
const done = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(why(request.error));
});

// The result of the request `start` makes, or why it could not be made or failed.
const attempt = (start) => {
  try {
    return done(start());
  } catch (e) {
    return Promise.reject(why(e));
  }
};

// Opens (creating on first use) the database `name`. When another tab deletes it (logout
// there), this connection closes, so the delete is not blocked, and the page reloads: it has
// no profile any more.
export function openDb(name) {
  return attempt(() => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = (event) => {
      if (event.oldVersion < 1) request.result.createObjectStore(RECORDS);
    };
    return request;
  }).then((db) => {
    db.onversionchange = () => {
      db.close();
      location.reload();
    };
    return db;
  });
}

export function closeDb(db) { db.close(); }

// The value under `key`, or undefined.
export function getRecord(db, key) {
  return attempt(() => db.transaction(RECORDS).objectStore(RECORDS).get(key));
}

export function allKeys(db) {
  return attempt(() => db.transaction(RECORDS).objectStore(RECORDS).getAllKeys());
}

// Puts `values[i]` under `keys[i]` in one readwrite transaction: all are committed, or none
// (a failed put aborts the transaction). Resolves once committed.
export function putRecords(db, keys, values) {
  return new Promise((resolve, reject) => {
    let tx;
    try {
      tx = db.transaction(RECORDS, 'readwrite');
      tx.oncomplete = () => resolve();
      tx.onerror = tx.onabort = () => reject(why(tx.error));
      const records = tx.objectStore(RECORDS);
      keys.forEach((key, i) => records.put(values[i], key));
      tx.commit?.();
    } catch (e) {
      // A put that throws (the puts before it would commit): none of them is kept.
      try { tx?.abort(); } catch { /* already finished */ }
      reject(why(e));
    }
  });
}

// Deletes the database `name` with everything in it (waiting while a connection blocks it).
export function deleteDb(name) {
  return attempt(() => indexedDB.deleteDatabase(name)).then(() => {});
}

// The names of this origin's databases, without opening (so without creating) any.
export function databaseNames() {
  if (!indexedDB.databases) return Promise.reject('IndexedDB cannot list databases');
  return indexedDB.databases().then((list) => list.map((info) => info.name), (e) => Promise.reject(why(e)));
}
