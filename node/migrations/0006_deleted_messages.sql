-- Hashes an account's owner deleted (delete, delete_all, delete_before), remembered so that
-- the message cannot come back: a forward or a catch-up page that crossed the delete on its
-- way here — the store arriving after the delete — is not kept. Forgotten at `until` (ms),
-- when no copy of the message can be alive anywhere; at most ACCOUNT_QUOTA_MESSAGES per
-- account, the soonest forgotten go first.
CREATE TABLE deleted_messages (
    account BLOB    NOT NULL,   -- 33 bytes, as in messages
    hash    TEXT    NOT NULL,
    until   INTEGER NOT NULL,
    PRIMARY KEY (account, hash)
) WITHOUT ROWID;
CREATE INDEX deleted_messages_by_account ON deleted_messages (account, until);
CREATE INDEX deleted_messages_by_until ON deleted_messages (until);
