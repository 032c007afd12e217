DROP TABLE snapshot_rows;
DROP TABLE snapshots;
