-- A statement of account of a payee under a contract (the version it
-- used) for a period, or a plain sales statement of an artist or a label
-- (`subject`, no contract). Amounts are exact decimal text in
-- `currency`, in whole minor units. DRAFT statements are recalculated;
-- APPROVED and SENT ones never change, and the next period opens with the
-- last approved one's `carried_forward`. A correction names the
-- statement it supersedes.
CREATE TABLE statements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    contract_id BIGINT REFERENCES contracts (id) ON DELETE RESTRICT,
    contract_version BIGINT,
    payee_id BIGINT REFERENCES payees (id) ON DELETE RESTRICT,
    subject TEXT,
    period_from TEXT NOT NULL,
    period_to TEXT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    status_cause TEXT,
    opening_balance TEXT,
    earnings TEXT,
    costs_recouped TEXT,
    closing_balance TEXT,
    payable TEXT,
    carried_forward TEXT,
    unattributed TEXT,
    line_count BIGINT,
    supersedes BIGINT REFERENCES statements (id) ON DELETE SET NULL,
    csv_key TEXT,
    pdf_key TEXT,
    job_id TEXT,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    approved_at TIMESTAMP,
    sent_at TIMESTAMP
);
CREATE INDEX statements_org_idx ON statements (organisation_id, id);
CREATE INDEX statements_account_idx ON statements (contract_id, payee_id, period_to);

-- What a statement recouped of each cost: summed over approved statements,
-- what is left to recoup.
CREATE TABLE statement_recoupments (
    statement_id BIGINT NOT NULL REFERENCES statements (id) ON DELETE CASCADE,
    cost_id BIGINT NOT NULL REFERENCES contract_costs (id) ON DELETE RESTRICT,
    amount TEXT NOT NULL,
    PRIMARY KEY (statement_id, cost_id)
);
