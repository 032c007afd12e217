-- A royalty contract. Its terms (payees and shares, scope, rates, minimum
-- payout, currency) are kept version by version in `contract_versions`
-- as JSON, never changed once written: a change makes a new version, and
-- a statement names the version it used. `version` is the current one.
CREATE TABLE contracts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX contracts_org_idx ON contracts (organisation_id, id);

CREATE TABLE contract_versions (
    contract_id BIGINT NOT NULL REFERENCES contracts (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (contract_id, version)
);

-- Advances and costs against a contract, in exact decimal text;
-- `recoupable` is the share (0 to 1) that earnings repay.
CREATE TABLE contract_costs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    contract_id BIGINT NOT NULL REFERENCES contracts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    date TEXT NOT NULL,
    recoupable TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX contract_costs_contract_idx ON contract_costs (contract_id, date, id);
