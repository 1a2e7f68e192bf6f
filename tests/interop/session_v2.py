#!/usr/bin/env python3
"""An independent Session protocol v2 peer, written from ../shared/protocol/SESSION-V2.md and
SESSION-PROTOCOL.md (not from Murmur's Rust): PyNaCl for X25519, Ed25519, BLAKE2b and
XChaCha20-Poly1305; kyber-py for ML-KEM-768; hashlib for SHA3-256 and SHAKE256.

It talks to a devnet's nodes with direct `POST /storage_rpc/v1` calls on loopback (no onion
requests) and keeps its state in a JSON file:

    session_v2.py --devnet devnet.json --state peer.json new           -> prints the Session ID
    session_v2.py ... publish                 makes an account key, publishes the -21 record
    session_v2.py ... send --to 05.. --text T [--nopfs]   v2 with forward secrecy (or without)
    session_v2.py ... inbox                   JSON lines {"from","text","protocol"} of v2 messages

What it covers: seed expansion, the -21 record (XEd25519 sign and verify), v2 PFS and non-PFS
sealing and opening (KISS hint, ML-KEM-768, the X-Wing-style combiner, SHAKE256 key/nonce, the
signed inner dict, padding), the storage RPC's signed store/retrieve, the swarm mapping, and a
minimal Content protobuf. Not covered: v1, onion requests, the device group.
"""

import argparse
import base64
import hashlib
import json
import os
import sys
import time
import urllib.request

import nacl.bindings as nb
from kyber_py.ml_kem import ML_KEM_768

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493

# ---------------------------------------------------------------- primitives (§0)


def b2b(n, data, key=b"", person=b""):
    return hashlib.blake2b(data, digest_size=n, key=key, person=person).digest()


def shake(domain, data, n):
    return hashlib.shake_256(domain + data).digest(n)


def sha3(data):
    return hashlib.sha3_256(data).digest()


def dh(secret, public):
    out = nb.crypto_scalarmult(secret, public)
    if out == bytes(32):
        raise ValueError("all-zero X25519 result")
    return out


def aead_seal(key, nonce, msg):
    return nb.crypto_aead_xchacha20poly1305_ietf_encrypt(msg, None, nonce, key)


def aead_open(key, nonce, ct):
    return nb.crypto_aead_xchacha20poly1305_ietf_decrypt(ct, None, nonce, key)


# ---------------------------------------------------------------- bencode (oxenc dialect)


def benc(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, bytes):
        return b"%d:" % len(v) + v
    if isinstance(v, list):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    if isinstance(v, dict):
        return b"d" + b"".join(benc(k) + benc(v[k]) for k in sorted(v)) + b"e"
    raise TypeError(v)


def bdec(data, i=0):
    """Returns (value, end); dicts as lists of (key, value, key_offset) to keep signed prefixes."""
    c = data[i : i + 1]
    if c == b"i":
        j = data.index(b"e", i)
        return int(data[i + 1 : j]), j + 1
    if c.isdigit():
        j = data.index(b":", i)
        n = int(data[i:j])
        return data[j + 1 : j + 1 + n], j + 1 + n
    if c == b"l":
        out, i = [], i + 1
        while data[i : i + 1] != b"e":
            v, i = bdec(data, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        out, start, i = [], i, i + 1
        while data[i : i + 1] != b"e":
            at = i
            k, i = bdec(data, i)
            v, i = bdec(data, i)
            out.append((k, v, at - start))
        return out, i + 1
    raise ValueError("not bencode")


def field(d, key):
    for k, v, _ in d:
        if k == key:
            return v
    return None


def signed_prefix(raw, d, key):
    for k, _, at in d:
        if k == key:
            return raw[:at]
    raise ValueError("no signature")


# ---------------------------------------------------------------- identity and keys (§1)


class Identity:
    def __init__(self, seed):
        self.seed = seed
        self.ed_pk, self.ed_sk = nb.crypto_sign_seed_keypair(seed)
        self.x_sk = nb.crypto_sign_ed25519_sk_to_curve25519(self.ed_sk)
        self.x_pk = nb.crypto_sign_ed25519_pk_to_curve25519(self.ed_pk)
        self.sid = b"\x05" + self.x_pk

    def sign(self, msg):
        return nb.crypto_sign(msg, self.ed_sk)[:64]


def account_keys(seed):
    out = shake(b"SessionAccountKeys", seed, 96)
    x_sec = out[:32]
    ek, dk = ML_KEM_768._keygen_internal(out[32:64], out[64:96])
    return {"x_sec": x_sec, "x": nb.crypto_scalarmult_base(x_sec), "m": ek, "dk": dk}


def ed_from_x(u_bytes):
    """The positive Ed25519 key of an X25519 key: y = (u - 1) / (u + 1), sign bit 0."""
    u = int.from_bytes(u_bytes, "little") % P
    y = (u - 1) * pow(u + 1, P - 2, P) % P
    return y.to_bytes(32, "little")


def scalar(b64bytes):
    return nb.crypto_core_ed25519_scalar_reduce(b64bytes + bytes(64 - len(b64bytes)))


def xed_sign(x_sec, msg):
    """XEd25519 with the X25519 secret: the positive alternative (§0)."""
    clamped = bytearray(x_sec)
    clamped[0] &= 248
    clamped[31] &= 127
    clamped[31] |= 64
    a = scalar(bytes(clamped))
    big_a = nb.crypto_scalarmult_ed25519_base_noclamp(a)
    if big_a[31] & 0x80:
        a = nb.crypto_core_ed25519_scalar_negate(a)
        big_a = nb.crypto_scalarmult_ed25519_base_noclamp(a)
    r = scalar(b2b(64, a + msg + os.urandom(64), person=b"xed25519signatur"))
    big_r = nb.crypto_scalarmult_ed25519_base_noclamp(r)
    h = scalar(hashlib.sha512(big_r + big_a + msg).digest())
    s = nb.crypto_core_ed25519_scalar_add(r, nb.crypto_core_ed25519_scalar_mul(h, a))
    return big_r + s


def xed_verify(x_pub, msg, sig):
    try:
        nb.crypto_sign_open(sig + msg, ed_from_x(x_pub))
        return True
    except Exception:
        return False


def record_encode(ident, keys):
    body = b"d" + benc(b"M") + benc(keys["m"]) + benc(b"X") + benc(keys["x"])
    return body + benc(b"~") + benc(xed_sign(ident.x_sk, body)) + b"e"


def record_parse(owner_sid, data):
    d, end = bdec(data)
    if end != len(data):
        raise ValueError("trailing bytes")
    m, x, sig = field(d, b"M"), field(d, b"X"), field(d, b"~")
    if len(m or b"") != 1184 or len(x or b"") != 32 or len(sig or b"") != 64:
        raise ValueError("bad record")
    if not xed_verify(owner_sid[1:], signed_prefix(data, d, b"~"), sig):
        raise ValueError("bad record signature")
    return {"x": x, "m": m}


# ---------------------------------------------------------------- v2 direct messages (§3, §4)

LABEL = bytes.fromhex("5c2e2f2f5e5c")
HEADER = 2 + 2 + 32 + 1088


def inner_dict(sender, to_sid, content):
    body = b"d" + benc(b"S") + benc(sender.ed_pk) + benc(b"c") + benc(content)
    sig = sender.sign(b2b(64, body, key=to_sid, person=b"SessionV2Message"))
    return body + benc(b"~") + benc(sig) + b"e"


def frame(ki, e_pub, ct, kn, inner):
    total = max(1536, HEADER + 16 + len(inner))
    total = (total + 255) // 256 * 256
    padded = inner + bytes(total - HEADER - 16 - len(inner))
    return b"\x00\x02" + ki + e_pub + ct + aead_seal(kn[:32], kn[32:], padded)


def seal_pfs(sender, to_sid, keys, content):
    s = to_sid[1:]
    e = os.urandom(32)
    e_pub = nb.crypto_scalarmult_base(e)
    kiss = b2b(2, e_pub + s, key=dh(e, s), person=b"Session-Msg-KISS")
    ki = bytes(a ^ b for a, b in zip(keys["m"][:2], kiss))
    ss_m, ct = ML_KEM_768._encaps_internal(keys["m"], os.urandom(32))
    ss_x = dh(e, keys["x"])
    ss = sha3(ss_m + ss_x + e_pub + keys["x"] + LABEL)
    kn = shake(b"SessionV2MessageSS", ss, 56)
    return frame(ki, e_pub, ct, kn, inner_dict(sender, to_sid, content))


def seal_nopfs(sender, to_sid, content):
    r = to_sid[1:]
    e = os.urandom(32)
    e_pub = nb.crypto_scalarmult_base(e)
    ss = sha3(dh(e, r) + r + e_pub + b"SessionV2NonPFS")
    kn = shake(b"SessionV2NonPFSSS", ss, 56)
    return frame(os.urandom(2), e_pub, os.urandom(1088), kn, inner_dict(sender, to_sid, content))


def read_inner(ident, padded):
    inner = padded.rstrip(b"\x00")
    d, end = bdec(inner)
    if end != len(inner):
        raise ValueError("bytes after the inner dict")
    sender_ed, content, sig = field(d, b"S"), field(d, b"c"), field(d, b"~")
    signed = signed_prefix(inner, d, b"~")
    nb.crypto_sign_open(sig + b2b(64, signed, key=ident.sid, person=b"SessionV2Message"), sender_ed)
    return b"\x05" + nb.crypto_sign_ed25519_pk_to_curve25519(sender_ed), content


def open_v2(ident, held, data):
    if len(data) < 1536 or data[:2] != b"\x00\x02":
        raise ValueError("not a v2 message")
    ki, e_pub, ct, body = data[2:4], data[4:36], data[36:HEADER], data[HEADER:]
    dh_s = dh(ident.x_sk, e_pub)
    kiss = b2b(2, e_pub + ident.x_pk, key=dh_s, person=b"Session-Msg-KISS")
    prefix = bytes(a ^ b for a, b in zip(ki, kiss))
    for keys in held:
        if keys["m"][:2] != prefix:
            continue
        ss_m = ML_KEM_768.decaps(keys["dk"], ct)
        ss = sha3(ss_m + dh(keys["x_sec"], e_pub) + e_pub + keys["x"] + LABEL)
        kn = shake(b"SessionV2MessageSS", ss, 56)
        try:
            padded = aead_open(kn[:32], kn[32:], body)
        except Exception:
            continue
        return read_inner(ident, padded) + ("v2",)
    ss = sha3(dh_s + ident.x_pk + e_pub + b"SessionV2NonPFS")
    kn = shake(b"SessionV2NonPFSSS", ss, 56)
    return read_inner(ident, aead_open(kn[:32], kn[32:], body)) + ("v2-nopfs",)


# ---------------------------------------------------------------- Content protobuf (minimal)


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pb_field(num, value):
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    return varint(num << 3 | 2) + varint(len(value)) + value


def pb_parse(data):
    out, i = {}, 0
    while i < len(data):
        key, i = read_varint(data, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, i = read_varint(data, i)
        elif wire == 2:
            n, i = read_varint(data, i)
            value, i = data[i : i + n], i + n
        elif wire == 1:
            value, i = data[i : i + 8], i + 8
        elif wire == 5:
            value, i = data[i : i + 4], i + 4
        else:
            raise ValueError("protobuf wire type")
        out.setdefault(num, value)
    return out


def read_varint(data, i):
    n = shift = 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def content(text, sent_ms):
    # Content { dataMessage = 1 { body = 1, timestamp = 7 }, sigTimestamp = 15 }
    dm = pb_field(1, text.encode()) + pb_field(7, sent_ms)
    return pb_field(1, dm) + pb_field(15, sent_ms)


# ---------------------------------------------------------------- storage RPC, direct (§2.1, §4)


class Network:
    def __init__(self, devnet_file):
        with open(devnet_file) as f:
            self.nodes = json.load(f)["nodes"]

    def swarm_of(self, sid):
        pk = sid[1:]
        space = 0
        for i in range(4):
            space ^= int.from_bytes(pk[8 * i : 8 * i + 8], "big")
        ids = sorted({n["swarm_id"] for n in self.nodes})
        if len(ids) == 1:
            chosen = ids[0]
        else:
            right = next((s for s in ids if s >= space), ids[0])
            left = ids[ids.index(right) - 1]
            m = 2**64
            chosen = right if (right - space) % m < (space - left) % m else left
        return [n for n in self.nodes if n["swarm_id"] == chosen]

    def rpc(self, sid, method, params):
        last = None
        for node in self.swarm_of(sid):
            body = json.dumps({"method": method, "params": params}).encode()
            request = urllib.request.Request(
                node["url"] + "/storage_rpc/v1",
                data=body,
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as reply:
                    return json.loads(reply.read())
            except Exception as e:  # the next member
                last = e
        raise RuntimeError(f"no swarm member answered: {last}")

    def store(self, ident_or_none, sid, namespace, data, ttl_ms):
        now = int(time.time() * 1000)
        params = {
            "pubkey": sid.hex(),
            "namespace": namespace,
            "timestamp": now,
            "ttl": ttl_ms,
            "data": base64.b64encode(data).decode(),
        }
        if ident_or_none is not None:
            ns = "" if namespace == 0 else str(namespace)
            sig = ident_or_none.sign(f"store{ns}{now}".encode())
            params["signature"] = base64.b64encode(sig).decode()
            params["pubkey_ed25519"] = ident_or_none.ed_pk.hex()
        return self.rpc(sid, "store", params)

    def retrieve(self, ident_or_none, sid, namespace):
        now = int(time.time() * 1000)
        params = {"pubkey": sid.hex(), "namespace": namespace, "last_hash": "", "timestamp": now}
        if ident_or_none is not None:
            ns = "" if namespace == 0 else str(namespace)
            sig = ident_or_none.sign(f"retrieve{ns}{now}".encode())
            params["signature"] = base64.b64encode(sig).decode()
            params["pubkey_ed25519"] = ident_or_none.ed_pk.hex()
        reply = self.rpc(sid, "retrieve", params)
        return [base64.b64decode(m["data"]) for m in reply["messages"]]


# ---------------------------------------------------------------- commands


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--devnet", required=True)
    ap.add_argument("--state", required=True)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("new")
    sub.add_parser("publish")
    send = sub.add_parser("send")
    send.add_argument("--to", required=True)
    send.add_argument("--text", required=True)
    send.add_argument("--nopfs", action="store_true")
    sub.add_parser("inbox")
    args = ap.parse_args()
    net = Network(args.devnet)

    if args.cmd == "new":
        state = {"seed": os.urandom(32).hex(), "account_seeds": []}
        with open(args.state, "w") as f:
            json.dump(state, f)
        print(Identity(bytes.fromhex(state["seed"])).sid.hex())
        return
    with open(args.state) as f:
        state = json.load(f)
    ident = Identity(bytes.fromhex(state["seed"]))
    held = [account_keys(bytes.fromhex(s)) for s in state["account_seeds"]]

    if args.cmd == "publish":
        seed = os.urandom(32)
        state["account_seeds"].insert(0, seed.hex())
        net.store(ident, ident.sid, -21, record_encode(ident, account_keys(seed)), 30 * 86400 * 1000)
        with open(args.state, "w") as f:
            json.dump(state, f)
        print(json.dumps({"published": True}))
    elif args.cmd == "send":
        to = bytes.fromhex(args.to)
        body = content(args.text, int(time.time() * 1000))
        if args.nopfs:
            data, protocol = seal_nopfs(ident, to, body), "v2-nopfs"
        else:
            records = net.retrieve(None, to, -21)
            keys = None
            for r in reversed(records):  # the last valid one wins
                try:
                    keys = record_parse(to, r)
                    break
                except Exception:
                    continue
            if keys is None:
                sys.exit("the recipient publishes no valid v2 keys")
            data, protocol = seal_pfs(ident, to, keys, body), "v2"
        net.store(None, to, 0, data, 14 * 86400 * 1000)
        print(json.dumps({"protocol": protocol}))
    elif args.cmd == "inbox":
        for data in net.retrieve(ident, ident.sid, 0):
            if data[:1] != b"\x00":
                continue  # v1: not this peer's business
            sender, c, protocol = open_v2(ident, held, data)
            dm = pb_parse(pb_parse(c)[1])
            print(json.dumps({"from": sender.hex(), "text": dm[1].decode(), "protocol": protocol}))


if __name__ == "__main__":
    main()
