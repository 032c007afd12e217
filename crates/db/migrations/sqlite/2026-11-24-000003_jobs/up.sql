-- Module runs: one row per job, from launch to its completion event (or timeout).
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    module TEXT NOT NULL,
    action TEXT NOT NULL,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    file_id BIGINT,
    -- queued, running, succeeded, failed, timed_out
    status TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    output TEXT,
    error_code TEXT,
    error_message TEXT,
    -- ECS task ARN, or local:<pid>
    task_ref TEXT,
    exit_code INTEGER,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    deadline_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_status_deadline_idx ON jobs (status, deadline_at);
CREATE INDEX jobs_organisation_idx ON jobs (organisation_id);
