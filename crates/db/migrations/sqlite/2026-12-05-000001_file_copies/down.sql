DROP INDEX sales_files_lines_hash_idx;
ALTER TABLE sales_files DROP COLUMN uploaded_bytes;
ALTER TABLE sales_files DROP COLUMN rates_used;
ALTER TABLE sales_files DROP COLUMN duplicate_of;
ALTER TABLE sales_files DROP COLUMN lines_hash;
