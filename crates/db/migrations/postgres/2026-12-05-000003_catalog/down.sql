DROP TABLE usage_items;
DROP TABLE match_rules;
DROP TABLE catalog_tracks;
DROP TABLE catalog_releases;
DROP TABLE catalog_labels;
DROP TABLE catalog_artists;
