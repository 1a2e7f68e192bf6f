// Runs every crypto workload twice in this page — murmur-core compiled to wasm, and libsodium.js
// (what Session Desktop uses) — after checking that the libsodium.js side produces bytes
// murmur-core accepts, so both sides do the same work. Leaves the figures in window.benchResult
// (or the reason in window.benchError). Query: ?ms=TARGET_MS_PER_RUN&rounds=N
import init, { Bench } from '/pkg/murmur_bench.js';
import sodium from '/sodium/libsodium-wrappers.mjs';

const params = new URLSearchParams(location.search);
const TARGET_MS = Number(params.get('ms') || 400);
const ROUNDS = Number(params.get('rounds') || 3);

const hex = (s) => sodium.from_hex(s);
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};
const utf8 = new TextEncoder();

/** `[len u32 LE][blob][json]`, the onion layers' framing. */
function combined(blob, json) {
  const text = utf8.encode(JSON.stringify(json));
  const out = new Uint8Array(4 + blob.length + text.length);
  new DataView(out.buffer).setUint32(0, blob.length, true);
  out.set(blob, 4);
  out.set(text, 4 + blob.length);
  return out;
}

/** One xchacha20 layer to a hop: ephemeral X25519, key = BLAKE2b-32(shared ‖ eph ‖ hop). */
function encryptForHop(hopX25519, plain) {
  const secret = sodium.randombytes_buf(32);
  const ephemeral = sodium.crypto_scalarmult_base(secret);
  const shared = sodium.crypto_scalarmult(secret, hopX25519);
  const key = sodium.crypto_generichash(32, concat(shared, ephemeral, hopX25519), null);
  const nonce = sodium.randombytes_buf(24);
  const ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, null, null, nonce, key);
  return { ephemeral, ct: concat(nonce, ct) };
}

function buildOnion(f) {
  let { ephemeral, ct } = encryptForHop(f.dest.x25519, combined(f.payload, { headers: '' }));
  let route = { destination: f.dest.ed25519hex };
  for (const hop of [...f.path].reverse()) {
    route.ephemeral_key = sodium.to_hex(ephemeral);
    route.enc_type = 'xchacha20';
    ({ ephemeral, ct } = encryptForHop(hop.x25519, combined(ct, route)));
    route = { destination: hop.ed25519hex };
  }
  return combined(ct, { ephemeral_key: sodium.to_hex(ephemeral), enc_type: 'xchacha20' });
}

function sealMessage(f) {
  const signed = concat(f.messagePlain, f.sender.publicKey, f.recipientPk);
  const sig = sodium.crypto_sign_detached(signed, f.sender.privateKey);
  return sodium.crypto_box_seal(concat(f.messagePlain, f.sender.publicKey, sig), f.recipientPk);
}

function openMessage(f, sealed) {
  const inner = sodium.crypto_box_seal_open(sealed, f.recipientPk, f.recipientSk);
  const n = inner.length - 96;
  const plain = inner.subarray(0, n);
  const senderEd = inner.subarray(n, n + 32);
  const sig = inner.subarray(n + 32);
  if (!sodium.crypto_sign_verify_detached(sig, concat(plain, senderEd, f.recipientPk), senderEd)) {
    throw new Error('bad signature');
  }
  return { plain, sender: sodium.crypto_sign_ed25519_pk_to_curve25519(senderEd) };
}

/** Argon2id of the passphrase with the vault's parameters (libsodium's has one lane), then
 * XChaCha20-Poly1305 opening of the wrapped data key: what unlocking does. */
function vaultUnlock(raw) {
  if (raw.kdf_lanes !== 1) throw new Error('libsodium Argon2id has one lane');
  const kek = sodium.crypto_pwhash(32, raw.passphrase, hex(raw.kdf_salt), raw.kdf_passes,
    raw.kdf_memory_kib * 1024, sodium.crypto_pwhash_ALG_ARGON2ID13);
  const wrapped = sodium.from_base64(raw.wrapped_key, sodium.base64_variants.ORIGINAL);
  return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, wrapped.subarray(24),
    utf8.encode('murmur-vault-key'), wrapped.subarray(0, 24), kek);
}

/** libsodium's secretstream over `stream` in 32 KiB messages, the last FINAL: the header, then
 * the messages (an attachment without its `S`). libsodium picks the header itself. */
function pushStream(key, stream) {
  const { state, header } = sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
  const parts = [header];
  for (let at = 0; at < stream.length; at += 32768) {
    const end = Math.min(at + 32768, stream.length);
    const tag = end === stream.length
      ? sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
      : sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    parts.push(sodium.crypto_secretstream_xchacha20poly1305_push(state, stream.subarray(at, end), null, tag));
  }
  return concat(...parts);
}

/** The inverse: header, then messages of 32 KiB + 17; returns the plaintext stream. */
function pullStream(key, sealed) {
  const state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(sealed.subarray(0, 24), key);
  const parts = [];
  for (let at = 24; at < sealed.length; at += 32785) {
    const r = sodium.crypto_secretstream_xchacha20poly1305_pull(state, sealed.subarray(at, Math.min(at + 32785, sealed.length)));
    if (!r) throw new Error('secretstream pull failed');
    parts.push(r.message);
  }
  return concat(...parts);
}

/** ops/s of `run(n)` (n operations per call): grow n to ~TARGET_MS/4, then time ~TARGET_MS. */
function opsPerSecond(run) {
  let n = 1;
  let ms = 0;
  for (;;) {
    const t0 = performance.now();
    run(n);
    ms = performance.now() - t0;
    if (ms >= TARGET_MS / 4) break;
    n *= 2;
  }
  const reps = Math.max(1, Math.round((n * TARGET_MS) / ms));
  const t0 = performance.now();
  run(reps);
  return reps / ((performance.now() - t0) / 1000);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  await init();
  await sodium.ready;
  const bench = new Bench();
  const raw = JSON.parse(bench.fixture_json());
  const f = {
    x25519Secret: hex(raw.x25519_secret),
    x25519Peer: hex(raw.x25519_peer),
    signer: sodium.crypto_sign_seed_keypair(hex(raw.ed25519_seed)),
    toSign: hex(raw.to_sign),
    signature: hex(raw.signature),
    aeadKey: hex(raw.aead_key),
    plain1k: new Uint8Array(1024).fill(0x61),
    plain64k: new Uint8Array(64 * 1024).fill(0x62),
    path: raw.path.map((h) => ({ x25519: hex(h.x25519), ed25519hex: h.ed25519 })),
    dest: { x25519: hex(raw.destination.x25519), ed25519hex: raw.destination.ed25519 },
    payload: utf8.encode(raw.store_rpc),
    sender: sodium.crypto_sign_seed_keypair(hex(raw.sender_ed25519_seed)),
    recipientPk: hex(raw.recipient_x25519_public),
    recipientSk: hex(raw.recipient_x25519_secret),
    messagePlain: hex(raw.message_plain),
    messageSealed: hex(raw.message_sealed),
  };
  f.attachmentKey = hex(raw.attachment_key);
  f.attachmentSealed = hex(raw.attachment_sealed_1m);
  f.attachmentStream = bench.attachment_stream_1m();
  const nonce = sodium.randombytes_buf(24);
  f.sealed64k = concat(nonce,
    sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(f.plain64k, null, null, nonce, f.aeadKey));

  // Same work on both sides: libsodium.js output must be what murmur-core produces or accepts.
  const checks = {
    ed25519_same_signature: sodium.to_hex(sodium.crypto_sign_detached(f.toSign, f.signer.privateKey)) === raw.signature,
    aead_opens_in_murmur: bench.check_aead_1k(concat(nonce,
      sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(f.plain1k, null, null, nonce, f.aeadKey))),
    onion_peels_in_murmur: bench.check_onion(buildOnion(f)),
    message_opens_in_murmur: bench.check_message(sealMessage(f)),
    vault_key_unwraps_in_libsodium: vaultUnlock(raw) !== null,
    secretstream_opens_in_murmur: bench.check_secretstream(pushStream(f.attachmentKey, f.attachmentStream)),
    murmur_attachment_opens_in_libsodium: pullStream(f.attachmentKey, f.attachmentSealed.subarray(1)).length === f.attachmentStream.length,
    murmur_message_opens_in_libsodium: sodium.to_hex(openMessage(f, f.messageSealed).plain) === raw.message_plain,
  };
  const failed = Object.entries(checks).filter(([, ok]) => !ok).map(([k]) => k);
  if (failed.length) throw new Error(`cross-checks failed: ${failed.join(', ')}`);

  const libsodium = {
    x25519: () => sodium.crypto_scalarmult(f.x25519Secret, f.x25519Peer),
    ed25519_sign: () => sodium.crypto_sign_detached(f.toSign, f.signer.privateKey),
    ed25519_verify: () => {
      if (!sodium.crypto_sign_verify_detached(f.signature, f.toSign, f.signer.publicKey)) throw new Error('verify');
    },
    xchacha20poly1305_seal_1k: () => {
      const n = sodium.randombytes_buf(24);
      return concat(n, sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(f.plain1k, null, null, n, f.aeadKey));
    },
    xchacha20poly1305_seal_64k: () => {
      const n = sodium.randombytes_buf(24);
      return concat(n, sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(f.plain64k, null, null, n, f.aeadKey));
    },
    xchacha20poly1305_open_64k: () => sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null, f.sealed64k.subarray(24), null, f.sealed64k.subarray(0, 24), f.aeadKey),
    onion_build_3_hops: () => buildOnion(f),
    message_seal: () => sealMessage(f),
    message_open: () => openMessage(f, f.messageSealed),
    vault_unlock_argon2id: () => vaultUnlock(raw),
    attachment_seal_1m: () => pushStream(f.attachmentKey, f.attachmentStream),
    attachment_open_1m: () => pullStream(f.attachmentKey, f.attachmentSealed.subarray(1)),
  };
  // Protocol v2 has no libsodium.js counterpart (libsodium has no ML-KEM, and the registry
  // serves no JS ML-KEM we could put beside it): its anchor is v1 in this same page.
  const noJs = new Set(['v2_message_seal', 'v2_message_open']);
  const [v1Bytes, v2Bytes] = bench.message_sizes();
  const result = { checks, target_ms: TARGET_MS, rounds: ROUNDS, ops: {}, sizes: { v1: v1Bytes, v2: v2Bytes } };
  for (const op of Bench.ops()) {
    const js = libsodium[op];
    if (!js && !noJs.has(op)) throw new Error(`no libsodium.js workload for ${op}`);
    const wasm = [];
    const sod = [];
    for (let r = 0; r < ROUNDS; r++) {
      wasm.push(opsPerSecond((n) => bench.run(op, n)));
      if (js) sod.push(opsPerSecond((n) => { for (let i = 0; i < n; i++) js(); }));
    }
    result.ops[op] = { murmur_wasm: median(wasm), libsodium_js: js ? median(sod) : null };
    document.getElementById('log').textContent = JSON.stringify(result, null, 1);
  }
  window.benchResult = result;
}

main().catch((err) => { window.benchError = String(err && err.stack || err); });
