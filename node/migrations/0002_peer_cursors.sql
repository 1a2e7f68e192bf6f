-- How far this node has read each swarm peer's messages table (the peer's `id`), so catch-up
-- after a restart fetches only what was missed.
CREATE TABLE peer_cursors (
    peer   TEXT    PRIMARY KEY,     -- peer Ed25519 hex
    cursor INTEGER NOT NULL
);
