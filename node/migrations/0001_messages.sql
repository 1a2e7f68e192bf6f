-- Messages held for accounts in this node's swarm. `id` gives the order `retrieve` returns them
-- in (arrival order) and is the cursor for `last_hash` and for peer catch-up.
CREATE TABLE messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account     BLOB    NOT NULL,   -- 33 bytes: network prefix + key
    namespace   INTEGER NOT NULL,
    hash        TEXT    NOT NULL,   -- base64 BLAKE2b-32, SESSION-PROTOCOL.md §4.4
    timestamp   INTEGER NOT NULL,   -- ms, as the sender stated it
    expiry      INTEGER NOT NULL,   -- ms; never returned at or after this instant
    data        BLOB    NOT NULL,
    swarm_space INTEGER NOT NULL,   -- the account's swarm-space position (u64 bits as i64)
    UNIQUE (account, namespace, hash)
);
CREATE INDEX messages_by_account ON messages (account, namespace, id);
CREATE INDEX messages_by_expiry ON messages (expiry);
