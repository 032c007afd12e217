//! The catalog's releases and artists as the API lists them, each with
//! how many tracks (and releases) it has.

use std::collections::HashMap;

use diesel::prelude::*;

use super::{TrackRow, like_pattern};
use crate::schema::{catalog_artists, catalog_labels, catalog_releases, catalog_tracks};
use crate::{DbConnection, DbError};

/// A release as the API shows it.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct ReleaseRow {
    pub id: i64,
    pub organisation_id: i64,
    pub upc: Option<String>,
    pub title: String,
    pub artist: String,
    pub label: Option<String>,
    pub catalog_number: Option<String>,
    pub release_date: Option<String>,
    pub source: String,
}

macro_rules! release_columns {
    () => {
        (
            catalog_releases::id,
            catalog_releases::organisation_id,
            catalog_releases::upc,
            catalog_releases::title,
            catalog_releases::artist,
            catalog_releases::label,
            catalog_releases::catalog_number,
            catalog_releases::release_date,
            catalog_releases::source,
        )
    };
}

/// Which releases a list shows.
#[derive(Debug, Clone, Default)]
pub struct ReleaseFilter {
    /// Folded words of the title or the artist.
    pub search_key: Option<String>,
    /// A UPC or catalog number as written.
    pub search_text: Option<String>,
    /// A GTIN-14 (a UPC or EAN keyed).
    pub gtin: Option<String>,
    /// A folded label name.
    pub label_key: Option<String>,
}

impl ReleaseRow {
    pub fn find(conn: &mut DbConnection, organisation_id: i64, id: i64) -> Result<Self, DbError> {
        Ok(catalog_releases::table
            .filter(catalog_releases::organisation_id.eq(organisation_id))
            .filter(catalog_releases::id.eq(id))
            .select(release_columns!())
            .first(conn)?)
    }

    /// A page of the organisation's releases, by id, each with its number
    /// of tracks; and how many match.
    pub fn page(
        conn: &mut DbConnection,
        organisation_id: i64,
        filter: &ReleaseFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<(Self, i64)>, i64), DbError> {
        let filtered = || {
            let mut query = catalog_releases::table
                .filter(catalog_releases::organisation_id.eq(organisation_id))
                .into_boxed();
            if let (Some(search), Some(text)) = (&filter.search_key, &filter.search_text) {
                let like = like_pattern(search);
                let artists = catalog_artists::table
                    .filter(catalog_artists::organisation_id.eq(organisation_id))
                    .filter(catalog_artists::name_key.like(like.clone()))
                    .select(catalog_artists::id.nullable());
                query = query.filter(
                    catalog_releases::title_key
                        .like(like)
                        .or(catalog_releases::artist_id.eq_any(artists))
                        .or(catalog_releases::upc.eq(text.clone()))
                        .or(catalog_releases::catalog_number.eq(text.clone())),
                );
            }
            if let Some(gtin) = &filter.gtin {
                query = query.filter(catalog_releases::gtin.eq(gtin.clone()));
            }
            if let Some(label) = &filter.label_key {
                let labels = catalog_labels::table
                    .filter(catalog_labels::organisation_id.eq(organisation_id))
                    .filter(catalog_labels::name_key.eq(label.clone()))
                    .select(catalog_labels::id.nullable());
                query = query.filter(catalog_releases::label_id.eq_any(labels));
            }
            query
        };
        let count = filtered().count().get_result(conn)?;
        let rows: Vec<ReleaseRow> = filtered()
            .order(catalog_releases::id.asc())
            .offset(offset)
            .limit(limit)
            .select(release_columns!())
            .load(conn)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let counts: HashMap<i64, i64> = catalog_tracks::table
            .filter(catalog_tracks::release_id.eq_any(&ids))
            .group_by(catalog_tracks::release_id)
            .select((catalog_tracks::release_id, diesel::dsl::count_star()))
            .load::<(Option<i64>, i64)>(conn)?
            .into_iter()
            .filter_map(|(id, n)| id.map(|id| (id, n)))
            .collect();
        let rows = rows
            .into_iter()
            .map(|r| {
                let tracks = counts.get(&r.id).copied().unwrap_or(0);
                (r, tracks)
            })
            .collect();
        Ok((rows, count))
    }

    /// The release's tracks, by id.
    pub fn tracks(&self, conn: &mut DbConnection) -> Result<Vec<TrackRow>, DbError> {
        TrackRow::of_release(conn, self.organisation_id, self.id)
    }
}

/// An artist as the API lists it, with its counts.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtistRow {
    pub id: i64,
    pub name: String,
    pub source: String,
    pub tracks: i64,
    pub releases: i64,
}

impl ArtistRow {
    /// A page of the organisation's artists, by name, with how many
    /// tracks and releases name each; and how many match `search` (folded
    /// words of the name).
    pub fn page(
        conn: &mut DbConnection,
        organisation_id: i64,
        search: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Self>, i64), DbError> {
        let filtered = || {
            let mut query = catalog_artists::table
                .filter(catalog_artists::organisation_id.eq(organisation_id))
                .into_boxed();
            if let Some(search) = search {
                query = query.filter(catalog_artists::name_key.like(like_pattern(search)));
            }
            query
        };
        let count = filtered().count().get_result(conn)?;
        let rows: Vec<(i64, String, String)> = filtered()
            .order((catalog_artists::name_key.asc(), catalog_artists::id.asc()))
            .offset(offset)
            .limit(limit)
            .select((
                catalog_artists::id,
                catalog_artists::name,
                catalog_artists::source,
            ))
            .load(conn)?;
        let ids: Vec<Option<i64>> = rows.iter().map(|r| Some(r.0)).collect();
        let tracks: HashMap<i64, i64> = catalog_tracks::table
            .filter(catalog_tracks::artist_id.eq_any(&ids))
            .group_by(catalog_tracks::artist_id)
            .select((catalog_tracks::artist_id, diesel::dsl::count_star()))
            .load::<(Option<i64>, i64)>(conn)?
            .into_iter()
            .filter_map(|(id, n)| id.map(|id| (id, n)))
            .collect();
        let releases: HashMap<i64, i64> = catalog_releases::table
            .filter(catalog_releases::artist_id.eq_any(&ids))
            .group_by(catalog_releases::artist_id)
            .select((catalog_releases::artist_id, diesel::dsl::count_star()))
            .load::<(Option<i64>, i64)>(conn)?
            .into_iter()
            .filter_map(|(id, n)| id.map(|id| (id, n)))
            .collect();
        let rows = rows
            .into_iter()
            .map(|(id, name, source)| ArtistRow {
                id,
                name,
                source,
                tracks: tracks.get(&id).copied().unwrap_or(0),
                releases: releases.get(&id).copied().unwrap_or(0),
            })
            .collect();
        Ok((rows, count))
    }
}

/// A catalog track as an audit reads it.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct AuditTrack {
    pub id: i64,
    pub isrc: Option<String>,
    pub title: String,
    pub version: Option<String>,
    pub artist: String,
    pub release_id: Option<i64>,
}

/// A catalog release as an audit reads it.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct AuditRelease {
    pub id: i64,
    pub upc: Option<String>,
    pub gtin: Option<String>,
    pub title: String,
    pub artist: String,
}

/// The organisation's whole catalog, by id, as an audit reads it.
pub fn for_audit(
    conn: &mut DbConnection,
    organisation_id: i64,
) -> Result<(Vec<AuditTrack>, Vec<AuditRelease>), DbError> {
    let tracks = catalog_tracks::table
        .filter(catalog_tracks::organisation_id.eq(organisation_id))
        .order(catalog_tracks::id.asc())
        .select((
            catalog_tracks::id,
            catalog_tracks::isrc,
            catalog_tracks::title,
            catalog_tracks::version,
            catalog_tracks::artist,
            catalog_tracks::release_id,
        ))
        .load(conn)?;
    let releases = catalog_releases::table
        .filter(catalog_releases::organisation_id.eq(organisation_id))
        .order(catalog_releases::id.asc())
        .select((
            catalog_releases::id,
            catalog_releases::upc,
            catalog_releases::gtin,
            catalog_releases::title,
            catalog_releases::artist,
        ))
        .load(conn)?;
    Ok((tracks, releases))
}
