ALTER TABLE sales_files DROP COLUMN period_to;
ALTER TABLE sales_files DROP COLUMN period_from;
