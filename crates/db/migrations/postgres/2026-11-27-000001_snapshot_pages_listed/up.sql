-- A page's groups as arrays, [key, name, isrc, upc, revenue, base_revenue,
-- quantity], the base-currency revenue null where it is the revenue.
UPDATE snapshot_pages SET body = (
    SELECT json_agg(json_build_array(
        r.value ->> 'key',
        r.value ->> 'name',
        r.value ->> 'isrc',
        r.value ->> 'upc',
        r.value ->> 'revenue',
        NULLIF(r.value ->> 'base_revenue', r.value ->> 'revenue'),
        (r.value ->> 'quantity')::bigint
    ) ORDER BY r.n)::text
    FROM json_array_elements(snapshot_pages.body::json) WITH ORDINALITY AS r(value, n)
)
WHERE json_typeof(body::json -> 0) = 'object';
