DROP TABLE contract_costs;
DROP TABLE contract_versions;
DROP TABLE contracts;
