-- Revocations reach every member of a swarm, also one that was down when they were forwarded
-- (SESSION-GROUPS.md §8.5): each group owner's signed revoke/unrevoke request is kept as it
-- came, for swarm peers to read at catch-up and check again themselves.
CREATE TABLE subaccount_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- arrival order here: the cursor peers read by
    account BLOB NOT NULL,
    timestamp INTEGER NOT NULL,            -- the owner's signed time
    request TEXT NOT NULL UNIQUE           -- the signed request, JSON
);
CREATE INDEX subaccount_changes_by_account ON subaccount_changes (account, timestamp);

-- An unrevocation now stays as a row (revoked = 0) at the owner's time, so that an older
-- revocation read later cannot undo it; revoked_at is the owner's time of the latest change.
ALTER TABLE revoked_subaccounts ADD COLUMN revoked INTEGER NOT NULL DEFAULT 1;

-- How far this node has read each swarm peer's subaccount_changes.
CREATE TABLE peer_subaccount_cursors (
    peer   TEXT    PRIMARY KEY,     -- peer Ed25519 hex
    cursor INTEGER NOT NULL
);
