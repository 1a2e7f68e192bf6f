-- What each account holds, for the per-account quota: kept exact by triggers on every insert
-- and delete of a message (message data is never updated in place), filled from what is
-- stored when this migration runs.
CREATE TABLE account_usage (
    account BLOB    PRIMARY KEY,    -- 33 bytes, as in messages
    count   INTEGER NOT NULL,
    bytes   INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO account_usage (account, count, bytes)
    SELECT account, COUNT(*), SUM(length(data)) FROM messages GROUP BY account;
CREATE TRIGGER account_usage_insert AFTER INSERT ON messages BEGIN
    INSERT INTO account_usage (account, count, bytes) VALUES (NEW.account, 1, length(NEW.data))
        ON CONFLICT (account) DO UPDATE SET count = count + 1, bytes = bytes + length(NEW.data);
END;
CREATE TRIGGER account_usage_delete AFTER DELETE ON messages BEGIN
    UPDATE account_usage SET count = count - 1, bytes = bytes - length(OLD.data)
        WHERE account = OLD.account;
    DELETE FROM account_usage WHERE account = OLD.account AND count <= 0;
END;
