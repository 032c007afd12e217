DROP TABLE source_entries;
DROP TABLE fetch_batches;
DROP TABLE sources;
