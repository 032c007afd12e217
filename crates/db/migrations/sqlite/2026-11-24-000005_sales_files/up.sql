-- Sales files, with the fields of the seed documents. Decimals as exact text.
CREATE TABLE sales_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    filetype TEXT NOT NULL,
    filesize BIGINT NOT NULL,
    mongo_db_id TEXT NOT NULL,
    status TEXT NOT NULL,
    total_rows BIGINT,
    total_artists BIGINT,
    status_cause TEXT,
    error_message TEXT,
    total_local TEXT,
    reporting_period TEXT,
    upload_mode TEXT NOT NULL,
    response_module TEXT NOT NULL,
    module_response TEXT,
    exchange_rate TEXT,
    -- SHA-256 of the uploaded bytes, to notice the same file uploaded twice.
    content_hash TEXT,
    -- The archive this file was expanded from, for members of a ZIP.
    parent_id BIGINT REFERENCES sales_files (id) ON DELETE CASCADE,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX sales_files_uuid_key ON sales_files (uuid);
CREATE INDEX sales_files_organisation_status_idx ON sales_files (organisation_id, status);
CREATE INDEX sales_files_content_hash_idx ON sales_files (organisation_id, content_hash);
