-- A page's groups back as objects.
UPDATE snapshot_pages SET body = (
    SELECT json_group_array(json_object(
        'key', json_extract(r.value, '$[0]'),
        'name', json_extract(r.value, '$[1]'),
        'isrc', json_extract(r.value, '$[2]'),
        'upc', json_extract(r.value, '$[3]'),
        'revenue', json_extract(r.value, '$[4]'),
        'base_revenue', COALESCE(json_extract(r.value, '$[5]'), json_extract(r.value, '$[4]')),
        'quantity', json_extract(r.value, '$[6]')
    ) ORDER BY r.key)
    FROM json_each(snapshot_pages.body) r
)
WHERE json_type(body, '$[0]') = 'array';
