-- Per-file summaries (the SQL snapshot store). One header per file, one row
-- per group; money as exact decimal text.
CREATE TABLE snapshots (
    file_id BIGINT PRIMARY KEY,
    organisation_id BIGINT NOT NULL,
    currency TEXT NOT NULL,
    base_currency TEXT NOT NULL,
    -- The file's reporting period (YYYY-MM), when known.
    period TEXT,
    lines BIGINT NOT NULL,
    revenue TEXT NOT NULL,
    base_revenue TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX snapshots_organisation_idx ON snapshots (organisation_id);

CREATE TABLE snapshot_rows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id BIGINT NOT NULL REFERENCES snapshots (file_id) ON DELETE CASCADE,
    organisation_id BIGINT NOT NULL,
    dimension TEXT NOT NULL,
    -- Position by base-currency revenue, highest first.
    position INTEGER NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    isrc TEXT,
    upc TEXT,
    revenue TEXT NOT NULL,
    base_revenue TEXT NOT NULL,
    quantity BIGINT NOT NULL
);
CREATE INDEX snapshot_rows_file_dimension_idx ON snapshot_rows (file_id, dimension, position);
CREATE INDEX snapshot_rows_organisation_dimension_idx ON snapshot_rows (organisation_id, dimension, key);
