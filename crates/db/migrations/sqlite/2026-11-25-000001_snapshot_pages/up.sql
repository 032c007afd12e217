-- A snapshot's groups in ranked pages instead of one row per group: a page
-- holds up to 500 consecutive groups of one dimension, highest base revenue
-- first, as a JSON array of rows (`body`) beside a JSON array of their keys
-- (`keys`, for the organisation's distinct counts). A file of a million
-- lines and sixty thousand groups is written as about 130 rows, not sixty
-- thousand, and a page of the snapshot API reads one or two of them.
CREATE TABLE snapshot_pages (
    file_id BIGINT NOT NULL REFERENCES snapshots (file_id) ON DELETE CASCADE,
    organisation_id BIGINT NOT NULL,
    dimension TEXT NOT NULL,
    -- The page's place in the dimension's ranking, from 0.
    page INTEGER NOT NULL,
    row_count INTEGER NOT NULL,
    keys TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (file_id, dimension, page)
);
CREATE INDEX snapshot_pages_organisation_dimension_idx ON snapshot_pages (organisation_id, dimension);

-- Snapshots saved before keep their rows, 500 to a page in their order.
INSERT INTO snapshot_pages (file_id, organisation_id, dimension, page, row_count, keys, body)
SELECT
    file_id,
    organisation_id,
    dimension,
    position / 500,
    COUNT(*),
    json_group_array(key ORDER BY position),
    json_group_array(
        json_object(
            'key', key,
            'name', name,
            'isrc', isrc,
            'upc', upc,
            'revenue', revenue,
            'base_revenue', base_revenue,
            'quantity', quantity
        ) ORDER BY position
    )
FROM snapshot_rows
GROUP BY file_id, organisation_id, dimension, position / 500;

DROP TABLE snapshot_rows;
