-- A copy of a report already imported is recognised by its lines, not
-- only its bytes: `lines_hash` is the fingerprint of what an import read
-- (its groups and their exact sums, whatever the encoding, compression or
-- layout of the upload), and `duplicate_of` names the file a copy repeats
-- (cleared when that file is deleted: SQLite cannot drop a column that a
-- foreign key names, so neither engine has one here).
ALTER TABLE sales_files ADD COLUMN lines_hash TEXT;
ALTER TABLE sales_files ADD COLUMN duplicate_of BIGINT;
CREATE INDEX sales_files_lines_hash_idx ON sales_files (organisation_id, lines_hash);
-- The rates an import converted lines at, by currency and month (JSON):
-- a rate borrowed from another month is never silent.
ALTER TABLE sales_files ADD COLUMN rates_used TEXT;
-- The size of the bytes uploaded, read when cleaning starts (`filesize` is
-- what the client declared, and bounds what the upload may be).
ALTER TABLE sales_files ADD COLUMN uploaded_bytes BIGINT;
