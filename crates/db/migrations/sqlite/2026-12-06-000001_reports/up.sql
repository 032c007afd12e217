-- A report of the sales lines of a period (`kind` monthly: matched to
-- the catalog; unmatched: not), written by the report module (`job_id`,
-- its run) as a gzipped CSV file in storage (`result_key`). `by_period`
-- says which month of a line counts (reporting or sale); `files` the file
-- ids asked for (JSON), all the period's files when null. Amounts are
-- exact decimal text in `currency`, the organisation's base currency.
CREATE TABLE reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    period_from TEXT NOT NULL,
    period_to TEXT NOT NULL,
    by_period TEXT NOT NULL,
    files TEXT,
    status TEXT NOT NULL,
    status_cause TEXT,
    row_count BIGINT,
    total_revenue TEXT,
    currency TEXT,
    quantity BIGINT,
    result_key TEXT,
    job_id TEXT,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX reports_org_idx ON reports (organisation_id, id);

-- A report's snapshot in the OAS database (when MongoDB does not hold
-- snapshots): its totals by artist, DSP, territory, track and release,
-- the highest of each, as one JSON document.
CREATE TABLE report_snapshots (
    report_id BIGINT PRIMARY KEY,
    organisation_id BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
