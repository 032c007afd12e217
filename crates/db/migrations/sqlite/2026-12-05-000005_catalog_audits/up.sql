-- A catalog audit: the catalog checked on its own and against the usage
-- of the files reporting in a period (all files when no period is given).
-- `counts` holds the findings of each kind (JSON); the findings themselves
-- are a gzipped CSV file in storage (`result_key`); `revenue_at_stake`
-- is exact decimal text in the base currency.
CREATE TABLE catalog_audits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    period_from TEXT,
    period_to TEXT,
    status TEXT NOT NULL,
    status_cause TEXT,
    counts TEXT,
    findings BIGINT,
    revenue_at_stake TEXT,
    result_key TEXT,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX catalog_audits_org_idx ON catalog_audits (organisation_id, id);
