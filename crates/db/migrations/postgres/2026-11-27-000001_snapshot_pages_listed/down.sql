-- A page's groups back as objects.
UPDATE snapshot_pages SET body = (
    SELECT json_agg(json_build_object(
        'key', r.value ->> 0,
        'name', r.value ->> 1,
        'isrc', r.value ->> 2,
        'upc', r.value ->> 3,
        'revenue', r.value ->> 4,
        'base_revenue', COALESCE(r.value ->> 5, r.value ->> 4),
        'quantity', (r.value ->> 6)::bigint
    ) ORDER BY r.n)::text
    FROM json_array_elements(snapshot_pages.body::json) WITH ORDINALITY AS r(value, n)
)
WHERE json_typeof(body::json -> 0) = 'array';
