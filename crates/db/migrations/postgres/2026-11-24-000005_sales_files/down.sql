DROP TABLE sales_files;
