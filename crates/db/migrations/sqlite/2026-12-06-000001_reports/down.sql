DROP TABLE report_snapshots;
DROP TABLE reports;
