DROP TABLE catalog_imports;
DROP INDEX jobs_subject_idx;
ALTER TABLE jobs DROP COLUMN subject_id;
ALTER TABLE jobs DROP COLUMN subject_kind;
