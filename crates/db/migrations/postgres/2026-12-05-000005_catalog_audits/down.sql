DROP TABLE catalog_audits;
