-- The organisation's master catalog: artists, labels, releases and their
-- tracks. `source` says where an item came from: `import` (a catalog
-- file), `usage` (generated from sales lines) or `manual`. Identifiers
-- are kept as given (`upc`, `isrc`) beside the keys matching uses:
-- `gtin` (GTIN-14, so a UPC and its EAN are one release) and folded
-- artist and title keys (oas_sales::names).
CREATE TABLE catalog_artists (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX catalog_artists_key_idx ON catalog_artists (organisation_id, name_key);

CREATE TABLE catalog_labels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX catalog_labels_key_idx ON catalog_labels (organisation_id, name_key);

CREATE TABLE catalog_releases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    upc TEXT,
    gtin TEXT,
    title TEXT NOT NULL,
    artist TEXT NOT NULL,
    artist_id BIGINT REFERENCES catalog_artists (id) ON DELETE SET NULL,
    label TEXT,
    label_id BIGINT REFERENCES catalog_labels (id) ON DELETE SET NULL,
    catalog_number TEXT,
    release_date TEXT,
    title_key TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX catalog_releases_org_idx ON catalog_releases (organisation_id, id);
CREATE INDEX catalog_releases_gtin_idx ON catalog_releases (organisation_id, gtin);

CREATE TABLE catalog_tracks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    release_id BIGINT REFERENCES catalog_releases (id) ON DELETE SET NULL,
    isrc TEXT,
    title TEXT NOT NULL,
    version TEXT,
    artist TEXT NOT NULL,
    artist_id BIGINT REFERENCES catalog_artists (id) ON DELETE SET NULL,
    label TEXT,
    title_key TEXT NOT NULL,
    artist_key TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX catalog_tracks_org_idx ON catalog_tracks (organisation_id, id);
CREATE INDEX catalog_tracks_isrc_idx ON catalog_tracks (organisation_id, isrc);
CREATE INDEX catalog_tracks_release_idx ON catalog_tracks (release_id);
CREATE INDEX catalog_tracks_text_idx ON catalog_tracks (organisation_id, artist_key, title_key);

-- Remembered corrections: an item (its folded artist and title, and the
-- identifiers the rule requires) matched to a track, or never matched
-- (track_id NULL); scoped to a source (a report format) or not.
CREATE TABLE match_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    artist TEXT NOT NULL,
    track_title TEXT NOT NULL,
    isrc TEXT,
    upc TEXT,
    artist_key TEXT NOT NULL,
    title_key TEXT NOT NULL,
    isrc_key TEXT NOT NULL,
    gtin_key TEXT NOT NULL,
    track_id BIGINT REFERENCES catalog_tracks (id) ON DELETE CASCADE,
    source TEXT,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX match_rules_key_idx ON match_rules (organisation_id, artist_key, title_key);

-- A sales file's usage items (the distinct artist, track title, release
-- title, ISRC and UPC of its lines) with their sums and their match.
-- `revenue` is exact decimal text in the base currency; `revenue_rank`
-- only orders items by revenue at stake and is never summed.
CREATE TABLE usage_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    file_id BIGINT NOT NULL REFERENCES sales_files (id) ON DELETE CASCADE,
    artist TEXT NOT NULL,
    track_title TEXT NOT NULL,
    release_title TEXT NOT NULL,
    isrc TEXT NOT NULL,
    upc TEXT NOT NULL,
    catalog_number TEXT NOT NULL,
    artist_key TEXT NOT NULL,
    title_key TEXT NOT NULL,
    isrc_key TEXT NOT NULL,
    gtin_key TEXT NOT NULL,
    lines BIGINT NOT NULL,
    quantity BIGINT NOT NULL,
    revenue TEXT NOT NULL,
    revenue_rank DOUBLE NOT NULL,
    status TEXT NOT NULL,
    match_type TEXT,
    confidence DOUBLE NOT NULL,
    track_id BIGINT REFERENCES catalog_tracks (id) ON DELETE SET NULL,
    rule_id BIGINT REFERENCES match_rules (id) ON DELETE SET NULL,
    candidates TEXT NOT NULL,
    reason TEXT NOT NULL,
    source TEXT,
    matched_at TIMESTAMP NOT NULL
);
CREATE INDEX usage_items_file_idx ON usage_items (file_id, status, revenue_rank);
CREATE INDEX usage_items_org_idx ON usage_items (organisation_id, status);
CREATE INDEX usage_items_key_idx ON usage_items (organisation_id, artist_key, title_key);
CREATE INDEX usage_items_track_idx ON usage_items (track_id);
