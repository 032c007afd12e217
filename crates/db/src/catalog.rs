//! The organisation's catalog (artists, labels, releases, tracks), its
//! remembered match rules, and each sales file's usage items with their
//! match.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{catalog_artists, catalog_releases, catalog_tracks, match_rules, usage_items};
use crate::{DbConnection, DbError};

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
        conn.transaction(|conn| {
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
                let like = format!("%{}%", search.replace('%', "").replace('_', ""));
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
        conn.transaction(|conn| {
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
        conn.transaction(|conn| {
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
        conn.transaction(|conn| {
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
