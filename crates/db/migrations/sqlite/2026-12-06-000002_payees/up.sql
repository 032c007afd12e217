-- Who an organisation pays royalties to: an artist, a producer, a label.
-- `currency` is the ISO 4217 code the payee is paid in.
CREATE TABLE payees (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    address TEXT NOT NULL,
    tax_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX payees_org_idx ON payees (organisation_id, id);
