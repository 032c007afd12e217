DROP INDEX jobs_continued_at_idx;
ALTER TABLE jobs DROP COLUMN continue_after;
ALTER TABLE jobs DROP COLUMN continued_at;
