DROP TABLE statement_recoupments;
DROP TABLE statements;
