-- What happens after a module run ends is carried out by the gateway's
-- workflows, apart from recording the end: `continued_at` says it was
-- carried out, and `continue_after` holds off another attempt (while one is
-- under way, or after a passing failure). Runs that ended before this
-- migration count as carried out.
ALTER TABLE jobs ADD COLUMN continued_at TIMESTAMP;
ALTER TABLE jobs ADD COLUMN continue_after TIMESTAMP;
UPDATE jobs SET continued_at = finished_at WHERE status NOT IN ('queued', 'running');
CREATE INDEX jobs_continued_at_idx ON jobs (continued_at);
