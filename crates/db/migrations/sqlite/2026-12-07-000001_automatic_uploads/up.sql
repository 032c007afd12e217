-- A place OAS fetches sales reports from by itself, on a schedule: a
-- Google Drive folder, a Dropbox shared folder, an FTP, FTPS or SFTP path.
-- `url` is shown (credentials removed); `secret_url` is what the
-- uploads module reads (credentials included) and is never answered.
-- `host_key` pins an SFTP server's key, taken on first contact when not
-- given. `failures` counts failed polls in a row: at three the source is
-- paused and its owner told.
CREATE TABLE sources (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    secret_url TEXT NOT NULL,
    upload_mode TEXT NOT NULL,
    every_seconds BIGINT NOT NULL,
    host_key TEXT,
    paused BOOLEAN NOT NULL DEFAULT FALSE,
    failures BIGINT NOT NULL DEFAULT 0,
    status_cause TEXT,
    next_poll_at TIMESTAMP NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX sources_org_idx ON sources (organisation_id, id);
CREATE INDEX sources_due_idx ON sources (paused, next_poll_at);

-- One fetch of a link or a source's poll: what was found (`items`, JSON:
-- each file with the sales file it became, or why it was skipped) and how
-- it ended. A batch of a pasted link keeps the link in `secret_url`; a
-- source's batch reads its source's.
CREATE TABLE fetch_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    source_id BIGINT REFERENCES sources (id) ON DELETE SET NULL,
    url TEXT NOT NULL,
    secret_url TEXT,
    upload_mode TEXT NOT NULL,
    status TEXT NOT NULL,
    status_cause TEXT,
    items TEXT NOT NULL DEFAULT '[]',
    job_id TEXT,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX fetch_batches_org_idx ON fetch_batches (organisation_id, id);

-- What a source's polls have seen, by path: its size and modification
-- time, then its content hash, so a poll fetches only what is new.
CREATE TABLE source_entries (
    source_id BIGINT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    size BIGINT NOT NULL,
    modified TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    PRIMARY KEY (source_id, path)
);
