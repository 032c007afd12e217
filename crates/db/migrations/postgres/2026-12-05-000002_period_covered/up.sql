-- The months a file's lines cover, first and last (`YYYY-MM`): a quarterly
-- or multi-month report shows them beside its reporting_period.
ALTER TABLE sales_files ADD COLUMN period_from TEXT;
ALTER TABLE sales_files ADD COLUMN period_to TEXT;
