//! The organisation's catalog (artists, labels, releases, tracks), its
//! remembered match rules, and each sales file's usage items with their
//! match.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{catalog_releases, catalog_tracks, match_rules, usage_items};
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
    pub fn of(conn: &mut DbConnection, organisation_id: i64, ids: &[i64]) -> Result<Vec<Self>, DbError> {
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
