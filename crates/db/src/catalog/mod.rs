//! The organisation's catalog (artists, labels, releases, tracks), its
//! remembered match rules, and each sales file's usage items with their
//! match.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{
    catalog_artists, catalog_imports, catalog_labels, catalog_releases, catalog_tracks,
    match_rules, usage_items,
};
use crate::{DbConnection, DbError};

mod audits;
mod lists;
mod report_rows;
mod rules;

pub use audits::{CatalogAuditChange, CatalogAuditRecord, NewCatalogAudit};
pub use lists::{ArtistRow, AuditRelease, AuditTrack, ReleaseFilter, ReleaseRow, for_audit};
pub use report_rows::{
    CatalogEntry, ItemMatch, catalog_entries, files_with_items, item_matches, waiting_revenue,
};
pub use rules::{Covered, NewRuleFields, UsageFilter, UsageRow, usage, usage_item};

/// Rows written per statement on PostgreSQL.
const BATCH: usize = 1000;

/// A catalog track as matching reads it: with its release's GTIN and
/// catalog number.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct TrackForMatching {
    pub id: i64,
    pub isrc: Option<String>,
    pub title: String,
    pub version: Option<String>,
    pub artist: String,
    pub gtin: Option<String>,
    pub catalog_number: Option<String>,
}

impl TrackForMatching {
    /// Every track of the organisation's catalog, in id order.
    pub fn all(conn: &mut DbConnection, organisation_id: i64) -> Result<Vec<Self>, DbError> {
        Ok(catalog_tracks::table
            .left_join(catalog_releases::table)
            .filter(catalog_tracks::organisation_id.eq(organisation_id))
            .order(catalog_tracks::id.asc())
            .select((
                catalog_tracks::id,
                catalog_tracks::isrc,
                catalog_tracks::title,
                catalog_tracks::version,
                catalog_tracks::artist,
                catalog_releases::gtin.nullable(),
                catalog_releases::catalog_number.nullable(),
            ))
            .load(conn)?)
    }
}

/// Whether the organisation has any catalog track.
pub fn has_catalog(conn: &mut DbConnection, organisation_id: i64) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        catalog_tracks::table.filter(catalog_tracks::organisation_id.eq(organisation_id)),
    ))
    .get_result(conn)?)
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = match_rules)]
pub struct RuleRecord {
    pub id: i64,
    pub organisation_id: i64,
    pub artist: String,
    pub track_title: String,
    pub isrc: Option<String>,
    pub upc: Option<String>,
    pub artist_key: String,
    pub title_key: String,
    pub isrc_key: String,
    pub gtin_key: String,
    pub track_id: Option<i64>,
    pub source: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = match_rules)]
pub struct NewRule<'a> {
    pub organisation_id: i64,
    pub artist: &'a str,
    pub track_title: &'a str,
    pub isrc: Option<&'a str>,
    pub upc: Option<&'a str>,
    pub artist_key: &'a str,
    pub title_key: &'a str,
    pub isrc_key: &'a str,
    pub gtin_key: &'a str,
    pub track_id: Option<i64>,
    pub source: Option<&'a str>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
}

impl RuleRecord {
    pub fn all(conn: &mut DbConnection, organisation_id: i64) -> Result<Vec<Self>, DbError> {
        Ok(match_rules::table
            .filter(match_rules::organisation_id.eq(organisation_id))
            .order(match_rules::id.asc())
            .select(RuleRecord::as_select())
            .load(conn)?)
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = usage_items)]
pub struct UsageItemRecord {
    pub id: i64,
    pub organisation_id: i64,
    pub file_id: i64,
    pub artist: String,
    pub track_title: String,
    pub release_title: String,
    pub isrc: String,
    pub upc: String,
    pub catalog_number: String,
    pub artist_key: String,
    pub title_key: String,
    pub isrc_key: String,
    pub gtin_key: String,
    pub lines: i64,
    pub quantity: i64,
    pub revenue: String,
    pub revenue_rank: f64,
    pub status: String,
    pub match_type: Option<String>,
    pub confidence: f64,
    pub track_id: Option<i64>,
    pub rule_id: Option<i64>,
    pub candidates: String,
    pub reason: String,
    pub source: Option<String>,
    pub matched_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Insertable)]
#[diesel(table_name = usage_items)]
pub struct NewUsageItem {
    pub organisation_id: i64,
    pub file_id: i64,
    pub artist: String,
    pub track_title: String,
    pub release_title: String,
    pub isrc: String,
    pub upc: String,
    pub catalog_number: String,
    pub artist_key: String,
    pub title_key: String,
    pub isrc_key: String,
    pub gtin_key: String,
    pub lines: i64,
    pub quantity: i64,
    pub revenue: String,
    pub revenue_rank: f64,
    pub status: String,
    pub match_type: Option<String>,
    pub confidence: f64,
    pub track_id: Option<i64>,
    pub rule_id: Option<i64>,
    pub candidates: String,
    pub reason: String,
    pub source: Option<String>,
    pub matched_at: NaiveDateTime,
}

impl UsageItemRecord {
    /// Replaces a file's usage items with `items`, in one transaction: a
    /// file is matched whole or not at all.
    pub fn replace_for_file(
        conn: &mut DbConnection,
        file_id: i64,
        items: &[NewUsageItem],
    ) -> Result<(), DbError> {
        conn.write_transaction(|conn| {
            diesel::delete(usage_items::table.filter(usage_items::file_id.eq(file_id)))
                .execute(conn)?;
            for chunk in items.chunks(BATCH) {
                match conn {
                    DbConnection::Postgres(pg) => {
                        diesel::insert_into(usage_items::table)
                            .values(chunk)
                            .execute(pg)?;
                    }
                    DbConnection::Sqlite(lite) => {
                        for item in chunk {
                            diesel::insert_into(usage_items::table)
                                .values(item)
                                .execute(lite)?;
                        }
                    }
                }
            }
            Ok(())
        })
    }

    /// A file's items, `status` among them when given, most revenue first
    /// (or least, `ascending`), a page at a time; and how many there are.
    pub fn page_for_file(
        conn: &mut DbConnection,
        file_id: i64,
        status: Option<&str>,
        ascending: bool,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Self>, i64), DbError> {
        let filtered = || {
            let mut query = usage_items::table
                .filter(usage_items::file_id.eq(file_id))
                .into_boxed();
            if let Some(status) = status {
                query = query.filter(usage_items::status.eq(status.to_owned()));
            }
            query
        };
        let count = filtered().count().get_result(conn)?;
        let mut query = filtered();
        query = if ascending {
            query.order((usage_items::revenue_rank.asc(), usage_items::id.asc()))
        } else {
            query.order((usage_items::revenue_rank.desc(), usage_items::id.asc()))
        };
        let rows = query
            .offset(offset)
            .limit(limit)
            .select(UsageItemRecord::as_select())
            .load(conn)?;
        Ok((rows, count))
    }
}

/// What a list shows of a catalog track.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct TrackSummary {
    pub id: i64,
    pub isrc: Option<String>,
    pub title: String,
    pub version: Option<String>,
    pub artist: String,
}

impl TrackSummary {
    /// The organisation's tracks among `ids`.
    pub fn of(
        conn: &mut DbConnection,
        organisation_id: i64,
        ids: &[i64],
    ) -> Result<Vec<Self>, DbError> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH) {
            found.extend(
                catalog_tracks::table
                    .filter(catalog_tracks::organisation_id.eq(organisation_id))
                    .filter(catalog_tracks::id.eq_any(chunk))
                    .select((
                        catalog_tracks::id,
                        catalog_tracks::isrc,
                        catalog_tracks::title,
                        catalog_tracks::version,
                        catalog_tracks::artist,
                    ))
                    .load::<TrackSummary>(conn)?,
            );
        }
        Ok(found)
    }
}

/// A catalog track as the API shows it, with its release.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct TrackRow {
    pub id: i64,
    pub organisation_id: i64,
    pub isrc: Option<String>,
    pub title: String,
    pub version: Option<String>,
    pub artist: String,
    pub label: Option<String>,
    pub source: String,
    pub release_id: Option<i64>,
    pub release_upc: Option<String>,
    pub release_title: Option<String>,
}

/// A track to add or change, its keys computed by the caller.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrackFields {
    pub isrc: Option<String>,
    pub title: String,
    pub version: Option<String>,
    pub artist: String,
    pub label: Option<String>,
    pub title_key: String,
    pub artist_key: String,
}

/// A release to find by its GTIN (or make).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReleaseFields {
    pub upc: Option<String>,
    pub gtin: Option<String>,
    pub title: String,
    pub title_key: String,
    pub artist: String,
    pub label: Option<String>,
}

/// Which tracks a list shows.
#[derive(Debug, Clone, Default)]
pub struct TrackFilter {
    /// Folded words found in the title or the artist, or an ISRC.
    pub search: Option<String>,
    pub isrc: Option<String>,
    /// A folded artist key.
    pub artist_key: Option<String>,
}

/// A LIKE pattern finding `search` anywhere, its wildcards taken as text.
fn like_pattern(search: &str) -> String {
    format!("%{}%", search.replace(['%', '_'], ""))
}

macro_rules! track_columns {
    () => {
        (
            catalog_tracks::id,
            catalog_tracks::organisation_id,
            catalog_tracks::isrc,
            catalog_tracks::title,
            catalog_tracks::version,
            catalog_tracks::artist,
            catalog_tracks::label,
            catalog_tracks::source,
            catalog_tracks::release_id,
            catalog_releases::upc.nullable(),
            catalog_releases::title.nullable(),
        )
    };
}

impl TrackRow {
    pub fn find(conn: &mut DbConnection, organisation_id: i64, id: i64) -> Result<Self, DbError> {
        Ok(catalog_tracks::table
            .left_join(catalog_releases::table)
            .filter(catalog_tracks::organisation_id.eq(organisation_id))
            .filter(catalog_tracks::id.eq(id))
            .select(track_columns!())
            .first(conn)?)
    }

    /// The tracks of release `release_id`, by id.
    pub fn of_release(
        conn: &mut DbConnection,
        organisation_id: i64,
        release_id: i64,
    ) -> Result<Vec<Self>, DbError> {
        Ok(catalog_tracks::table
            .left_join(catalog_releases::table)
            .filter(catalog_tracks::organisation_id.eq(organisation_id))
            .filter(catalog_tracks::release_id.eq(release_id))
            .order(catalog_tracks::id.asc())
            .select(track_columns!())
            .load(conn)?)
    }

    /// A page of the organisation's tracks, by id, and how many match.
    pub fn page(
        conn: &mut DbConnection,
        organisation_id: i64,
        filter: &TrackFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Self>, i64), DbError> {
        let filtered = || {
            let mut query = catalog_tracks::table
                .left_join(catalog_releases::table)
                .filter(catalog_tracks::organisation_id.eq(organisation_id))
                .into_boxed();
            if let Some(search) = &filter.search {
                let like = like_pattern(search);
                query = query.filter(
                    catalog_tracks::title_key
                        .like(like.clone())
                        .or(catalog_tracks::artist_key.like(like))
                        .or(catalog_tracks::isrc.eq(search.to_uppercase())),
                );
            }
            if let Some(isrc) = &filter.isrc {
                query = query.filter(catalog_tracks::isrc.eq(isrc.clone()));
            }
            if let Some(artist) = &filter.artist_key {
                query = query.filter(catalog_tracks::artist_key.eq(artist.clone()));
            }
            query
        };
        let count = filtered().count().get_result(conn)?;
        let rows = filtered()
            .order(catalog_tracks::id.asc())
            .offset(offset)
            .limit(limit)
            .select(track_columns!())
            .load(conn)?;
        Ok((rows, count))
    }

    /// Adds a track by hand (`source` manual), on the release `release`
    /// names (found by GTIN, else made), in one transaction.
    pub fn insert(
        conn: &mut DbConnection,
        organisation_id: i64,
        fields: &TrackFields,
        release: Option<&ReleaseFields>,
        source: &str,
        at: NaiveDateTime,
    ) -> Result<Self, DbError> {
        conn.write_transaction(|conn| {
            let artist_id = artist_id(
                conn,
                organisation_id,
                &fields.artist,
                &fields.artist_key,
                source,
                at,
            )?;
            let release_id = match release {
                Some(release) => Some(release_id(
                    conn,
                    organisation_id,
                    release,
                    artist_id,
                    source,
                    at,
                )?),
                None => None,
            };
            let id: i64 = diesel::insert_into(catalog_tracks::table)
                .values((
                    catalog_tracks::organisation_id.eq(organisation_id),
                    catalog_tracks::release_id.eq(release_id),
                    catalog_tracks::isrc.eq(&fields.isrc),
                    catalog_tracks::title.eq(&fields.title),
                    catalog_tracks::version.eq(&fields.version),
                    catalog_tracks::artist.eq(&fields.artist),
                    catalog_tracks::artist_id.eq(artist_id),
                    catalog_tracks::label.eq(&fields.label),
                    catalog_tracks::title_key.eq(&fields.title_key),
                    catalog_tracks::artist_key.eq(&fields.artist_key),
                    catalog_tracks::source.eq(source),
                    catalog_tracks::created_at.eq(at),
                    catalog_tracks::updated_at.eq(at),
                ))
                .returning(catalog_tracks::id)
                .get_result(conn)?;
            TrackRow::find(conn, organisation_id, id)
        })
    }

    /// Changes a track's fields.
    pub fn update(
        conn: &mut DbConnection,
        organisation_id: i64,
        id: i64,
        fields: &TrackFields,
        at: NaiveDateTime,
    ) -> Result<Self, DbError> {
        conn.write_transaction(|conn| {
            let artist_id = artist_id(
                conn,
                organisation_id,
                &fields.artist,
                &fields.artist_key,
                "manual",
                at,
            )?;
            let changed = diesel::update(
                catalog_tracks::table
                    .filter(catalog_tracks::organisation_id.eq(organisation_id))
                    .filter(catalog_tracks::id.eq(id)),
            )
            .set((
                catalog_tracks::isrc.eq(&fields.isrc),
                catalog_tracks::title.eq(&fields.title),
                catalog_tracks::version.eq(&fields.version),
                catalog_tracks::artist.eq(&fields.artist),
                catalog_tracks::artist_id.eq(artist_id),
                catalog_tracks::label.eq(&fields.label),
                catalog_tracks::title_key.eq(&fields.title_key),
                catalog_tracks::artist_key.eq(&fields.artist_key),
                catalog_tracks::updated_at.eq(at),
            ))
            .execute(conn)?;
            if changed == 0 {
                return Err(DbError::NotFound);
            }
            TrackRow::find(conn, organisation_id, id)
        })
    }

    /// Deletes a track. The usage items matched to it keep their lines and
    /// become unmatched, saying why; rules naming it go with it.
    pub fn delete(
        conn: &mut DbConnection,
        organisation_id: i64,
        id: i64,
        at: NaiveDateTime,
    ) -> Result<usize, DbError> {
        conn.write_transaction(|conn| {
            let track = TrackRow::find(conn, organisation_id, id)?;
            let reason = format!(
                "Its catalog track {id} (\"{}\" by {}) was deleted.",
                track.title, track.artist
            );
            let unmatched = diesel::update(
                usage_items::table
                    .filter(usage_items::organisation_id.eq(organisation_id))
                    .filter(usage_items::track_id.eq(id)),
            )
            .set((
                usage_items::status.eq("unmatched"),
                usage_items::match_type.eq(None::<String>),
                usage_items::confidence.eq(0.0),
                usage_items::track_id.eq(None::<i64>),
                usage_items::rule_id.eq(None::<i64>),
                usage_items::reason.eq(reason),
                usage_items::matched_at.eq(at),
            ))
            .execute(conn)?;
            diesel::delete(catalog_tracks::table.filter(catalog_tracks::id.eq(id)))
                .execute(conn)?;
            Ok(unmatched)
        })
    }
}

/// The id of the organisation's artist with `key`, made when new.
fn artist_id(
    conn: &mut DbConnection,
    organisation_id: i64,
    name: &str,
    key: &str,
    source: &str,
    at: NaiveDateTime,
) -> Result<Option<i64>, DbError> {
    if key.is_empty() {
        return Ok(None);
    }
    let found: Option<i64> = catalog_artists::table
        .filter(catalog_artists::organisation_id.eq(organisation_id))
        .filter(catalog_artists::name_key.eq(key))
        .select(catalog_artists::id)
        .first(conn)
        .optional()?;
    if let Some(id) = found {
        return Ok(Some(id));
    }
    Ok(Some(
        diesel::insert_into(catalog_artists::table)
            .values((
                catalog_artists::organisation_id.eq(organisation_id),
                catalog_artists::name.eq(name),
                catalog_artists::name_key.eq(key),
                catalog_artists::source.eq(source),
                catalog_artists::created_at.eq(at),
            ))
            .returning(catalog_artists::id)
            .get_result(conn)?,
    ))
}

/// The id of the organisation's release with the GTIN (or, without one,
/// the title and artist) of `release`, made when new.
fn release_id(
    conn: &mut DbConnection,
    organisation_id: i64,
    release: &ReleaseFields,
    artist_id: Option<i64>,
    source: &str,
    at: NaiveDateTime,
) -> Result<i64, DbError> {
    let mut query = catalog_releases::table
        .filter(catalog_releases::organisation_id.eq(organisation_id))
        .into_boxed();
    query = match &release.gtin {
        Some(gtin) => query.filter(catalog_releases::gtin.eq(gtin.clone())),
        None => query
            .filter(catalog_releases::gtin.is_null())
            .filter(catalog_releases::title_key.eq(release.title_key.clone()))
            .filter(catalog_releases::artist.eq(release.artist.clone())),
    };
    if let Some(id) = query
        .select(catalog_releases::id)
        .first::<i64>(conn)
        .optional()?
    {
        return Ok(id);
    }
    Ok(diesel::insert_into(catalog_releases::table)
        .values((
            catalog_releases::organisation_id.eq(organisation_id),
            catalog_releases::upc.eq(&release.upc),
            catalog_releases::gtin.eq(&release.gtin),
            catalog_releases::title.eq(&release.title),
            catalog_releases::artist.eq(&release.artist),
            catalog_releases::artist_id.eq(artist_id),
            catalog_releases::label.eq(&release.label),
            catalog_releases::title_key.eq(&release.title_key),
            catalog_releases::source.eq(source),
            catalog_releases::created_at.eq(at),
            catalog_releases::updated_at.eq(at),
        ))
        .returning(catalog_releases::id)
        .get_result(conn)?)
}

/// The organisation a catalog track belongs to.
pub fn track_organisation(conn: &mut DbConnection, id: i64) -> Result<i64, DbError> {
    Ok(catalog_tracks::table
        .find(id)
        .select(catalog_tracks::organisation_id)
        .first(conn)?)
}

/// A catalog file's row, checked and keyed by the module.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportRow {
    pub isrc: Option<String>,
    pub upc: Option<String>,
    pub gtin: Option<String>,
    pub title: String,
    pub version: Option<String>,
    pub artist: String,
    pub release_title: Option<String>,
    pub label: Option<String>,
    pub catalog_number: Option<String>,
    pub release_date: Option<String>,
    pub title_key: String,
    pub artist_key: String,
    pub release_title_key: Option<String>,
    pub label_key: Option<String>,
    /// The folded version: a track is known by its ISRC, else by its
    /// release, title, artist and version.
    pub version_key: String,
}

/// How an import treats what the catalog already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportWrite {
    /// Adds new tracks and releases, updates known ones.
    Merge,
    /// As `Merge`, and removes the tracks of the same source the rows no
    /// longer have.
    Replace,
    /// Adds new tracks and releases only; known ones stay as they are (a
    /// catalog generated from usage never overrides one given).
    AddOnly,
}

/// What an import did to the catalog's tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub removed: u64,
}

/// A stored track as an import compares it.
#[derive(Debug, Clone, Queryable)]
struct KnownTrack {
    id: i64,
    release_id: Option<i64>,
    isrc: Option<String>,
    title: String,
    version: Option<String>,
    artist: String,
    label: Option<String>,
    title_key: String,
    artist_key: String,
    source: String,
}

#[derive(Debug, Clone, Queryable)]
struct KnownRelease {
    id: i64,
    upc: Option<String>,
    gtin: Option<String>,
    title: String,
    artist: String,
    label: Option<String>,
    catalog_number: Option<String>,
    release_date: Option<String>,
    title_key: String,
}

/// Reads `rows` into the organisation's catalog in one transaction: a
/// track is found by its ISRC, else by its release, title, artist and
/// version, and updated or added; a release by its GTIN, else by its
/// title and artist. `replace` also removes the tracks earlier imports
/// added that the rows no longer have (tracks added by hand or generated
/// from usage stay); their usage items become unmatched, saying why.
pub fn import(
    conn: &mut DbConnection,
    organisation_id: i64,
    rows: &[ImportRow],
    write: ImportWrite,
    source: &str,
    at: NaiveDateTime,
) -> Result<ImportCounts, DbError> {
    use std::collections::{HashMap, HashSet};
    conn.write_transaction(|conn| {
        let mut counts = ImportCounts::default();
        let releases: Vec<KnownRelease> = catalog_releases::table
            .filter(catalog_releases::organisation_id.eq(organisation_id))
            .select((
                catalog_releases::id,
                catalog_releases::upc,
                catalog_releases::gtin,
                catalog_releases::title,
                catalog_releases::artist,
                catalog_releases::label,
                catalog_releases::catalog_number,
                catalog_releases::release_date,
                catalog_releases::title_key,
            ))
            .load(conn)?;
        let mut release_by_gtin: HashMap<String, KnownRelease> = HashMap::new();
        let mut release_by_text: HashMap<(String, String), KnownRelease> = HashMap::new();
        for release in releases {
            match &release.gtin {
                Some(gtin) => {
                    release_by_gtin.insert(gtin.clone(), release);
                }
                None => {
                    release_by_text
                        .insert((release.title_key.clone(), release.artist.clone()), release);
                }
            }
        }
        let tracks: Vec<KnownTrack> = catalog_tracks::table
            .filter(catalog_tracks::organisation_id.eq(organisation_id))
            .select((
                catalog_tracks::id,
                catalog_tracks::release_id,
                catalog_tracks::isrc,
                catalog_tracks::title,
                catalog_tracks::version,
                catalog_tracks::artist,
                catalog_tracks::label,
                catalog_tracks::title_key,
                catalog_tracks::artist_key,
                catalog_tracks::source,
            ))
            .load(conn)?;
        let version_key = |v: &Option<String>| v.as_deref().unwrap_or_default().to_lowercase();
        let mut track_by_isrc: HashMap<String, usize> = HashMap::new();
        let mut track_by_text: HashMap<(Option<i64>, String, String, String), usize> =
            HashMap::new();
        for (at, track) in tracks.iter().enumerate() {
            if let Some(isrc) = &track.isrc {
                track_by_isrc.entry(isrc.clone()).or_insert(at);
            }
            track_by_text
                .entry((
                    track.release_id,
                    track.title_key.clone(),
                    track.artist_key.clone(),
                    version_key(&track.version),
                ))
                .or_insert(at);
        }
        let mut tracks = tracks;
        let mut seen: HashSet<i64> = HashSet::new();
        let mut artists: HashMap<String, Option<i64>> = HashMap::new();
        let mut labels: HashMap<String, i64> = HashMap::new();
        for row in rows {
            let artist_id = match artists.get(&row.artist_key) {
                Some(id) => *id,
                None => {
                    let id = artist_id(
                        conn,
                        organisation_id,
                        &row.artist,
                        &row.artist_key,
                        source,
                        at,
                    )?;
                    artists.insert(row.artist_key.clone(), id);
                    id
                }
            };
            let label_id = match (&row.label, &row.label_key) {
                (Some(label), Some(key)) if !key.is_empty() => Some(match labels.get(key) {
                    Some(id) => *id,
                    None => {
                        let id = label_id(conn, organisation_id, label, key, source, at)?;
                        labels.insert(key.clone(), id);
                        id
                    }
                }),
                _ => None,
            };
            // The release, when the row names one. Its artist is the first
            // row's: the tracks of a compilation each name their own.
            let release_id =
                match (&row.gtin, &row.release_title) {
                    (None, None) => None,
                    _ => {
                        let title = row
                            .release_title
                            .clone()
                            .unwrap_or_else(|| row.title.clone());
                        let title_key = row
                            .release_title_key
                            .clone()
                            .unwrap_or_else(|| row.title_key.clone());
                        let known = match &row.gtin {
                            Some(gtin) => release_by_gtin.get(gtin),
                            None => release_by_text.get(&(title_key.clone(), row.artist.clone())),
                        };
                        match known {
                            Some(release) => {
                                let changed = write != ImportWrite::AddOnly
                                    && (release.title != title
                                        || (row.upc.is_some() && release.upc != row.upc)
                                        || (row.label.is_some() && release.label != row.label)
                                        || (row.catalog_number.is_some()
                                            && release.catalog_number != row.catalog_number)
                                        || (row.release_date.is_some()
                                            && release.release_date != row.release_date));
                                if changed {
                                    diesel::update(catalog_releases::table.find(release.id))
                                        .set((
                                            catalog_releases::title.eq(&title),
                                            catalog_releases::title_key.eq(&title_key),
                                            catalog_releases::upc
                                                .eq(row.upc.clone().or(release.upc.clone())),
                                            catalog_releases::label
                                                .eq(row.label.clone().or(release.label.clone())),
                                            catalog_releases::label_id.eq(label_id),
                                            catalog_releases::catalog_number.eq(row
                                                .catalog_number
                                                .clone()
                                                .or(release.catalog_number.clone())),
                                            catalog_releases::release_date.eq(row
                                                .release_date
                                                .clone()
                                                .or(release.release_date.clone())),
                                            catalog_releases::updated_at.eq(at),
                                        ))
                                        .execute(conn)?;
                                }
                                let id = release.id;
                                let updated = KnownRelease {
                                    id,
                                    upc: row.upc.clone().or(release.upc.clone()),
                                    gtin: release.gtin.clone(),
                                    title: title.clone(),
                                    artist: release.artist.clone(),
                                    label: row.label.clone().or(release.label.clone()),
                                    catalog_number: row
                                        .catalog_number
                                        .clone()
                                        .or(release.catalog_number.clone()),
                                    release_date: row
                                        .release_date
                                        .clone()
                                        .or(release.release_date.clone()),
                                    title_key: title_key.clone(),
                                };
                                match &row.gtin {
                                    Some(gtin) => release_by_gtin.insert(gtin.clone(), updated),
                                    None => release_by_text
                                        .insert((title_key, row.artist.clone()), updated),
                                };
                                Some(id)
                            }
                            None => {
                                let id: i64 = diesel::insert_into(catalog_releases::table)
                                    .values((
                                        catalog_releases::organisation_id.eq(organisation_id),
                                        catalog_releases::upc.eq(&row.upc),
                                        catalog_releases::gtin.eq(&row.gtin),
                                        catalog_releases::title.eq(&title),
                                        catalog_releases::artist.eq(&row.artist),
                                        catalog_releases::artist_id.eq(artist_id),
                                        catalog_releases::label.eq(&row.label),
                                        catalog_releases::label_id.eq(label_id),
                                        catalog_releases::catalog_number.eq(&row.catalog_number),
                                        catalog_releases::release_date.eq(&row.release_date),
                                        catalog_releases::title_key.eq(&title_key),
                                        catalog_releases::source.eq(source),
                                        catalog_releases::created_at.eq(at),
                                        catalog_releases::updated_at.eq(at),
                                    ))
                                    .returning(catalog_releases::id)
                                    .get_result(conn)?;
                                let known = KnownRelease {
                                    id,
                                    upc: row.upc.clone(),
                                    gtin: row.gtin.clone(),
                                    title,
                                    artist: row.artist.clone(),
                                    label: row.label.clone(),
                                    catalog_number: row.catalog_number.clone(),
                                    release_date: row.release_date.clone(),
                                    title_key: title_key.clone(),
                                };
                                match &row.gtin {
                                    Some(gtin) => release_by_gtin.insert(gtin.clone(), known),
                                    None => release_by_text
                                        .insert((title_key, row.artist.clone()), known),
                                };
                                Some(id)
                            }
                        }
                    }
                };
            let text_key = (
                release_id,
                row.title_key.clone(),
                row.artist_key.clone(),
                row.version_key.clone(),
            );
            // By its ISRC; else by its names, unless both name an ISRC
            // (two ISRCs are two recordings, whatever their titles).
            let known = row
                .isrc
                .as_ref()
                .and_then(|isrc| track_by_isrc.get(isrc))
                .or_else(|| {
                    track_by_text
                        .get(&text_key)
                        .filter(|&&at| row.isrc.is_none() || tracks[at].isrc.is_none())
                })
                .copied();
            match known {
                Some(index) => {
                    let track = &tracks[index];
                    if !seen.insert(track.id) {
                        // The same track twice in the file: the first row stands.
                        counts.unchanged += 1;
                        continue;
                    }
                    let changed = write != ImportWrite::AddOnly
                        && (track.title != row.title
                            || track.version != row.version
                            || track.artist != row.artist
                            || (row.isrc.is_some() && track.isrc != row.isrc)
                            || (row.label.is_some() && track.label != row.label)
                            || (release_id.is_some() && track.release_id != release_id));
                    if changed {
                        diesel::update(catalog_tracks::table.find(track.id))
                            .set((
                                catalog_tracks::title.eq(&row.title),
                                catalog_tracks::version.eq(&row.version),
                                catalog_tracks::artist.eq(&row.artist),
                                catalog_tracks::artist_id.eq(artist_id),
                                catalog_tracks::isrc.eq(row.isrc.clone().or(track.isrc.clone())),
                                catalog_tracks::label.eq(row.label.clone().or(track.label.clone())),
                                catalog_tracks::release_id.eq(release_id.or(track.release_id)),
                                catalog_tracks::title_key.eq(&row.title_key),
                                catalog_tracks::artist_key.eq(&row.artist_key),
                                catalog_tracks::updated_at.eq(at),
                            ))
                            .execute(conn)?;
                        counts.updated += 1;
                    } else {
                        counts.unchanged += 1;
                    }
                }
                None => {
                    let id: i64 = diesel::insert_into(catalog_tracks::table)
                        .values((
                            catalog_tracks::organisation_id.eq(organisation_id),
                            catalog_tracks::release_id.eq(release_id),
                            catalog_tracks::isrc.eq(&row.isrc),
                            catalog_tracks::title.eq(&row.title),
                            catalog_tracks::version.eq(&row.version),
                            catalog_tracks::artist.eq(&row.artist),
                            catalog_tracks::artist_id.eq(artist_id),
                            catalog_tracks::label.eq(&row.label),
                            catalog_tracks::title_key.eq(&row.title_key),
                            catalog_tracks::artist_key.eq(&row.artist_key),
                            catalog_tracks::source.eq(source),
                            catalog_tracks::created_at.eq(at),
                            catalog_tracks::updated_at.eq(at),
                        ))
                        .returning(catalog_tracks::id)
                        .get_result(conn)?;
                    seen.insert(id);
                    let index = tracks.len();
                    tracks.push(KnownTrack {
                        id,
                        release_id,
                        isrc: row.isrc.clone(),
                        title: row.title.clone(),
                        version: row.version.clone(),
                        artist: row.artist.clone(),
                        label: row.label.clone(),
                        title_key: row.title_key.clone(),
                        artist_key: row.artist_key.clone(),
                        source: source.to_owned(),
                    });
                    if let Some(isrc) = &row.isrc {
                        track_by_isrc.entry(isrc.clone()).or_insert(index);
                    }
                    track_by_text.entry(text_key).or_insert(index);
                    counts.created += 1;
                }
            }
        }
        if write == ImportWrite::Replace {
            let gone: Vec<&KnownTrack> = tracks
                .iter()
                .filter(|t| t.source == source && !seen.contains(&t.id))
                .collect();
            for track in gone {
                let reason = format!(
                    "Its catalog track {} (\"{}\" by {}) was removed by a catalog import.",
                    track.id, track.title, track.artist
                );
                diesel::update(
                    usage_items::table
                        .filter(usage_items::organisation_id.eq(organisation_id))
                        .filter(usage_items::track_id.eq(track.id)),
                )
                .set((
                    usage_items::status.eq("unmatched"),
                    usage_items::match_type.eq(None::<String>),
                    usage_items::confidence.eq(0.0),
                    usage_items::track_id.eq(None::<i64>),
                    usage_items::rule_id.eq(None::<i64>),
                    usage_items::reason.eq(reason),
                    usage_items::matched_at.eq(at),
                ))
                .execute(conn)?;
                diesel::delete(catalog_tracks::table.find(track.id)).execute(conn)?;
                counts.removed += 1;
            }
        }
        Ok(counts)
    })
}

/// The id of the organisation's label with `key`, made when new.
fn label_id(
    conn: &mut DbConnection,
    organisation_id: i64,
    name: &str,
    key: &str,
    source: &str,
    at: NaiveDateTime,
) -> Result<i64, DbError> {
    let found: Option<i64> = catalog_labels::table
        .filter(catalog_labels::organisation_id.eq(organisation_id))
        .filter(catalog_labels::name_key.eq(key))
        .select(catalog_labels::id)
        .first(conn)
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    Ok(diesel::insert_into(catalog_labels::table)
        .values((
            catalog_labels::organisation_id.eq(organisation_id),
            catalog_labels::name.eq(name),
            catalog_labels::name_key.eq(key),
            catalog_labels::source.eq(source),
            catalog_labels::created_at.eq(at),
        ))
        .returning(catalog_labels::id)
        .get_result(conn)?)
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = catalog_imports)]
pub struct CatalogImportRecord {
    pub id: i64,
    pub organisation_id: i64,
    pub filename: String,
    pub filetype: String,
    pub filesize: i64,
    pub mode: String,
    pub column_names: Option<String>,
    pub status: String,
    pub status_cause: Option<String>,
    pub created_count: Option<i64>,
    pub updated_count: Option<i64>,
    pub unchanged_count: Option<i64>,
    pub removed_count: Option<i64>,
    pub rejected: Option<String>,
    pub rejected_count: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = catalog_imports)]
pub struct NewCatalogImport<'a> {
    pub organisation_id: i64,
    pub filename: &'a str,
    pub filetype: &'a str,
    pub filesize: i64,
    pub mode: &'a str,
    pub column_names: Option<&'a str>,
    pub status: &'a str,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What an import's end writes.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = catalog_imports)]
pub struct CatalogImportChange {
    pub status: Option<String>,
    pub status_cause: Option<Option<String>>,
    pub created_count: Option<Option<i64>>,
    pub updated_count: Option<Option<i64>>,
    pub unchanged_count: Option<Option<i64>>,
    pub removed_count: Option<Option<i64>>,
    pub rejected: Option<Option<String>>,
    pub rejected_count: Option<Option<i64>>,
    pub updated_at: Option<NaiveDateTime>,
}

impl CatalogImportRecord {
    pub fn insert(conn: &mut DbConnection, new: &NewCatalogImport<'_>) -> Result<Self, DbError> {
        let id: i64 = diesel::insert_into(catalog_imports::table)
            .values(new)
            .returning(catalog_imports::id)
            .get_result(conn)?;
        Self::find(conn, id)
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> Result<Self, DbError> {
        Ok(catalog_imports::table
            .find(id)
            .select(CatalogImportRecord::as_select())
            .first(conn)?)
    }

    /// Applies `change` if the import is still `from`; `false` if it moved on.
    pub fn transition(
        conn: &mut DbConnection,
        id: i64,
        from: &str,
        change: &CatalogImportChange,
    ) -> Result<bool, DbError> {
        let changed = diesel::update(
            catalog_imports::table
                .filter(catalog_imports::id.eq(id))
                .filter(catalog_imports::status.eq(from)),
        )
        .set(change)
        .execute(conn)?;
        Ok(changed == 1)
    }
}
