DROP TABLE formats;
