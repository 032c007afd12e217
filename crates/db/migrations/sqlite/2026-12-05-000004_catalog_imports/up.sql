-- A run names its subject when it is not a sales file: a catalog import
-- (later a report, a statement). `file_id` still names a file's runs.
ALTER TABLE jobs ADD COLUMN subject_kind TEXT;
ALTER TABLE jobs ADD COLUMN subject_id BIGINT;
CREATE INDEX jobs_subject_idx ON jobs (subject_kind, subject_id);

-- A catalog file an external service provides, uploaded through a
-- presigned URL, cleaned like a sales report, then read into the catalog
-- (`merge` adds and updates; `replace` also removes imported tracks the
-- file no longer has). `column_names` is the organisation's own mapping of
-- catalog fields to its column names (JSON), `rejected` the rows or
-- identifiers left out, with the reason (JSON, the first thousand).
CREATE TABLE catalog_imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    filetype TEXT NOT NULL,
    filesize BIGINT NOT NULL,
    mode TEXT NOT NULL,
    column_names TEXT,
    status TEXT NOT NULL,
    status_cause TEXT,
    created_count BIGINT,
    updated_count BIGINT,
    unchanged_count BIGINT,
    removed_count BIGINT,
    rejected TEXT,
    rejected_count BIGINT,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX catalog_imports_org_idx ON catalog_imports (organisation_id, id);
