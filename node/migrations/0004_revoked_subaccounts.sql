-- Group member tokens the group's owner revoked (SESSION-GROUPS.md §8.5): a request presenting
-- one is refused (except retrieves in the "unrevocable" namespaces, -11 …). At most 50 per
-- account; the oldest go first.
CREATE TABLE revoked_subaccounts (
    account BLOB NOT NULL,
    token BLOB NOT NULL,
    revoked_at INTEGER NOT NULL,
    PRIMARY KEY (account, token)
) WITHOUT ROWID;
