-- The file server's files: each one's bytes are on disk at files/<id[0..2]>/<id>.
CREATE TABLE files (
    id       TEXT    PRIMARY KEY,   -- Session's deduplicating ID of the bytes (44 base64url)
    size     INTEGER NOT NULL,      -- bytes
    uploaded INTEGER NOT NULL,      -- ms since the epoch, of the latest upload of these bytes
    expiry   INTEGER NOT NULL,      -- ms since the epoch; never served at or after this instant
    uploader TEXT    NOT NULL       -- who it counts against: the address it came from (a relay)
);
CREATE INDEX files_by_expiry ON files (expiry);
CREATE INDEX files_by_uploader ON files (uploader);
