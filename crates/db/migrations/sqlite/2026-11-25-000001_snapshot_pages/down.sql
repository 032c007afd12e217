CREATE TABLE snapshot_rows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id BIGINT NOT NULL REFERENCES snapshots (file_id) ON DELETE CASCADE,
    organisation_id BIGINT NOT NULL,
    dimension TEXT NOT NULL,
    -- Position by base-currency revenue, highest first.
    position INTEGER NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    isrc TEXT,
    upc TEXT,
    revenue TEXT NOT NULL,
    base_revenue TEXT NOT NULL,
    quantity BIGINT NOT NULL
);
CREATE INDEX snapshot_rows_file_dimension_idx ON snapshot_rows (file_id, dimension, position);
CREATE INDEX snapshot_rows_organisation_dimension_idx ON snapshot_rows (organisation_id, dimension, key);

-- Every page's rows back in place, positions counted across the pages.
INSERT INTO snapshot_rows
    (file_id, organisation_id, dimension, position, key, name, isrc, upc, revenue, base_revenue, quantity)
SELECT
    p.file_id,
    p.organisation_id,
    p.dimension,
    (SELECT COALESCE(SUM(e.row_count), 0) FROM snapshot_pages e
        WHERE e.file_id = p.file_id AND e.dimension = p.dimension AND e.page < p.page) + r.key,
    json_extract(r.value, '$.key'),
    json_extract(r.value, '$.name'),
    json_extract(r.value, '$.isrc'),
    json_extract(r.value, '$.upc'),
    json_extract(r.value, '$.revenue'),
    json_extract(r.value, '$.base_revenue'),
    json_extract(r.value, '$.quantity')
FROM snapshot_pages p, json_each(p.body) r;

DROP TABLE snapshot_pages;
