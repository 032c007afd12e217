-- A page's groups as arrays, [key, name, isrc, upc, revenue, base_revenue,
-- quantity], the base-currency revenue null where it is the revenue.
UPDATE snapshot_pages SET body = (
    SELECT json_group_array(json_array(
        json_extract(r.value, '$.key'),
        json_extract(r.value, '$.name'),
        json_extract(r.value, '$.isrc'),
        json_extract(r.value, '$.upc'),
        json_extract(r.value, '$.revenue'),
        NULLIF(json_extract(r.value, '$.base_revenue'), json_extract(r.value, '$.revenue')),
        json_extract(r.value, '$.quantity')
    ) ORDER BY r.key)
    FROM json_each(snapshot_pages.body) r
)
WHERE json_type(body, '$[0]') = 'object';
