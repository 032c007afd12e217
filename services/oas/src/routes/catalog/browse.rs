//! Reading the catalog by release and by artist, and the usage still
//! waiting for it across files.

use std::collections::HashMap;

use actix_web::{HttpRequest, get, web};
use oas_db::catalog::{
    self, ArtistRow, ReleaseFilter, ReleaseRow, TrackSummary, UsageFilter, UsageRow,
};
use oas_domain::access::Permission;
use oas_domain::money::Amount;
use oas_sales::{ids, names};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{CandidateOut, StoredCandidate, TrackOut, TrackRef, organisation_for};
use crate::auth::Authenticated;
use crate::http::ApiError;
use crate::http::error::ErrorBody;
use crate::http::pagination::{Page, PageQuery, Pagination};
use crate::state::AppState;

/// A catalog release.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseOut {
    pub id: i64,
    pub upc: Option<String>,
    pub title: String,
    pub artist: String,
    pub label: Option<String>,
    pub catalog_number: Option<String>,
    /// `YYYY-MM-DD` when the catalog gave a date it could read.
    pub release_date: Option<String>,
    /// How many catalog tracks are on it.
    pub tracks: i64,
    /// `import`, `usage` or `manual`.
    pub source: String,
}

impl ReleaseOut {
    fn of(r: ReleaseRow, tracks: i64) -> Self {
        ReleaseOut {
            id: r.id,
            upc: r.upc,
            title: r.title,
            artist: r.artist,
            label: r.label,
            catalog_number: r.catalog_number,
            release_date: r.release_date,
            tracks,
            source: r.source,
        }
    }
}

/// A catalog release with its tracks.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseDetail {
    pub id: i64,
    pub upc: Option<String>,
    pub title: String,
    pub artist: String,
    pub label: Option<String>,
    pub catalog_number: Option<String>,
    pub release_date: Option<String>,
    pub source: String,
    pub tracks: Vec<TrackOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReleaseQuery {
    /// The organisation; the caller's active one by default.
    pub organisation: Option<i64>,
    /// Words of the title or artist (case and accents ignored), or a UPC
    /// or catalog number as written.
    #[param(max_length = 200)]
    pub search: Option<String>,
    /// A UPC or EAN (a UPC and its EAN find the same release).
    #[param(max_length = 20, pattern = r"^[0-9]{8,14}$")]
    pub upc: Option<String>,
    /// A label's name (case and accents ignored).
    #[param(max_length = 200)]
    pub label: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
}

fn at_most(name: &str, value: &Option<String>, max: usize) -> Result<(), ApiError> {
    if value.as_ref().is_some_and(|v| v.chars().count() > max) {
        return Err(ApiError::bad_request(format!(
            "{name} may have at most {max} characters."
        )));
    }
    Ok(())
}

/// The organisation's releases, in the order they were added, each with
/// its number of tracks.
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(ReleaseQuery),
    responses(
        (status = 200, description = "A page of releases", body = Page<ReleaseOut>),
        (status = 400, description = "Invalid filter, or no organisation given or active", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's", body = ErrorBody),
    ),
)]
#[get("/api/catalog/releases/")]
pub async fn list_releases(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<ReleaseQuery>,
) -> Result<web::Json<Page<ReleaseOut>>, ApiError> {
    let ReleaseQuery {
        organisation,
        search,
        upc,
        label,
        page,
        page_size,
    } = query.into_inner();
    at_most("search", &search, 200)?;
    at_most("upc", &upc, 20)?;
    at_most("label", &label, 200)?;
    let org = organisation_for(&state, &auth, organisation, Permission::View).await?;
    let search = search
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let filter = ReleaseFilter {
        search_key: search.as_deref().map(names::fold),
        search_text: search,
        gtin: match upc {
            Some(raw) => Some(ids::gtin14(&raw).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{raw:?} is not a UPC or EAN (its check digit fails, or it is not 8 to 14 digits)."
                ))
            })?),
            None => None,
        },
        label_key: label.as_deref().map(names::fold),
    };
    let pagination = Pagination::new(&PageQuery { page, page_size }, &state.settings)?;
    let (offset, limit) = (pagination.offset(), pagination.limit());
    let (rows, count) = state
        .db
        .run(move |conn| ReleaseRow::page(conn, org, &filter, offset, limit))
        .await?;
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        count as u64,
        rows.into_iter()
            .map(|(r, tracks)| ReleaseOut::of(r, tracks))
            .collect(),
    )?))
}

/// One release of the caller's organisations, with its tracks.
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Release id"), super::OrganisationQuery),
    responses(
        (status = 200, description = "The release", body = ReleaseDetail),
        (status = 400, description = "No organisation given or active", body = ErrorBody),
        (status = 404, description = "No such release in the organisation", body = ErrorBody),
    ),
)]
#[get("/api/catalog/releases/{id}/")]
pub async fn get_release(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    query: web::Query<super::OrganisationQuery>,
) -> Result<web::Json<ReleaseDetail>, ApiError> {
    let org = organisation_for(&state, &auth, query.organisation, Permission::View).await?;
    let id = *id;
    let (release, tracks) = state
        .db
        .run(move |conn| {
            let release = ReleaseRow::find(conn, org, id)?;
            let tracks = release.tracks(conn)?;
            Ok::<_, oas_db::DbError>((release, tracks))
        })
        .await?;
    Ok(web::Json(ReleaseDetail {
        id: release.id,
        upc: release.upc,
        title: release.title,
        artist: release.artist,
        label: release.label,
        catalog_number: release.catalog_number,
        release_date: release.release_date,
        source: release.source,
        tracks: tracks.into_iter().map(TrackOut::from).collect(),
    }))
}

/// A catalog artist.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArtistOut {
    pub id: i64,
    pub name: String,
    /// Tracks and releases credited to the artist.
    pub tracks: i64,
    pub releases: i64,
    /// `import`, `usage` or `manual`: where the artist was first seen.
    pub source: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArtistQuery {
    /// The organisation; the caller's active one by default.
    pub organisation: Option<i64>,
    /// Words of the name (case and accents ignored).
    #[param(max_length = 200)]
    pub search: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
}

/// The organisation's artists by name, with their track and release
/// counts.
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(ArtistQuery),
    responses(
        (status = 200, description = "A page of artists", body = Page<ArtistOut>),
        (status = 400, description = "Invalid filter, or no organisation given or active", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's", body = ErrorBody),
    ),
)]
#[get("/api/catalog/artists/")]
pub async fn list_artists(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<ArtistQuery>,
) -> Result<web::Json<Page<ArtistOut>>, ApiError> {
    let ArtistQuery {
        organisation,
        search,
        page,
        page_size,
    } = query.into_inner();
    at_most("search", &search, 200)?;
    let org = organisation_for(&state, &auth, organisation, Permission::View).await?;
    let search = search.map(|s| names::fold(&s)).filter(|s| !s.is_empty());
    let pagination = Pagination::new(&PageQuery { page, page_size }, &state.settings)?;
    let (offset, limit) = (pagination.offset(), pagination.limit());
    let (rows, count) = state
        .db
        .run(move |conn| ArtistRow::page(conn, org, search.as_deref(), offset, limit))
        .await?;
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        count as u64,
        rows.into_iter()
            .map(|a| ArtistOut {
                id: a.id,
                name: a.name,
                tracks: a.tracks,
                releases: a.releases,
                source: a.source,
            })
            .collect(),
    )?))
}

/// A recording the organisation's files report and the catalog does not
/// yet account for, over every file it appears in.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnmatchedOut {
    /// A usage item of it (the one with the most revenue): name it as
    /// `item_id` to make a rule.
    pub item_id: i64,
    pub artist: String,
    pub track_title: String,
    pub release_title: String,
    pub isrc: String,
    pub upc: String,
    /// `review` when some file has a candidate for it, else `unmatched`.
    #[schema(example = "review")]
    pub status: String,
    /// How many files report it.
    pub files: i64,
    pub lines: i64,
    pub quantity: i64,
    /// Revenue at stake, in the base currency, exact decimal text.
    #[schema(example = "1204.5")]
    pub revenue: String,
    /// The closest tracks and their scores.
    pub candidates: Vec<CandidateOut>,
    /// Why it was not matched.
    pub reason: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnmatchedQuery {
    /// The organisation; the caller's active one by default.
    pub organisation: Option<i64>,
    /// A month, `YYYY-MM`: only files reporting or covering it.
    #[param(value_type = Option<String>, pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub period: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
}

/// Waiting items gathered by recording: summed over files, most revenue
/// first.
struct Group {
    top: UsageRow,
    files: std::collections::BTreeSet<i64>,
    lines: i64,
    quantity: i64,
    revenue: Amount,
    review: bool,
}

fn group_waiting(items: Vec<UsageRow>) -> Result<Vec<Group>, ApiError> {
    let mut groups: Vec<Group> = Vec::new();
    let mut at: HashMap<(String, String, String, String), usize> = HashMap::new();
    // An item a rule says never to match is decided, not waiting.
    for item in items
        .into_iter()
        .filter(|i| i.match_type.as_deref() != Some("rule"))
    {
        let revenue = Amount::parse(&item.revenue).map_err(ApiError::internal)?;
        let key = (
            item.artist_key.clone(),
            item.title_key.clone(),
            item.isrc_key.clone(),
            item.gtin_key.clone(),
        );
        let index = *at.entry(key).or_insert_with(|| {
            groups.push(Group {
                files: Default::default(),
                lines: 0,
                quantity: 0,
                revenue: Amount::ZERO,
                review: false,
                top: item.clone(),
            });
            groups.len() - 1
        });
        let group = &mut groups[index];
        group.files.insert(item.file_id);
        group.lines += item.lines;
        group.quantity += item.quantity;
        group.revenue = group
            .revenue
            .checked_add(revenue)
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the revenue overflows")))?;
        group.review |= item.status == "review";
    }
    groups.sort_by(|a, b| b.revenue.cmp(&a.revenue).then(a.top.id.cmp(&b.top.id)));
    Ok(groups)
}

/// Usage in review or unmatched across the organisation's files, one
/// entry per recording, the most revenue at stake first (items a rule says
/// never to match are decided, and not listed).
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(UnmatchedQuery),
    responses(
        (status = 200, description = "A page of recordings waiting for the catalog", body = Page<UnmatchedOut>),
        (status = 400, description = "Invalid filter, or no organisation given or active", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's", body = ErrorBody),
    ),
)]
#[get("/api/catalog/unmatched/")]
pub async fn list_unmatched(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<UnmatchedQuery>,
) -> Result<web::Json<Page<UnmatchedOut>>, ApiError> {
    let UnmatchedQuery {
        organisation,
        period,
        page,
        page_size,
    } = query.into_inner();
    if let Some(period) = &period
        && chrono::NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d").is_err()
    {
        return Err(ApiError::bad_request(format!(
            "period {period:?} is not a month (YYYY-MM)."
        )));
    }
    let org = organisation_for(&state, &auth, organisation, Permission::View).await?;
    let pagination = Pagination::new(&PageQuery { page, page_size }, &state.settings)?;
    let filter = UsageFilter {
        period_from: period.clone(),
        period_to: period,
        statuses: vec!["review", "unmatched"],
    };
    let items = state
        .db
        .run(move |conn| catalog::usage(conn, org, &filter))
        .await?;
    let groups = group_waiting(items)?;
    let count = groups.len() as u64;
    let page: Vec<Group> = groups
        .into_iter()
        .skip(pagination.offset() as usize)
        .take(pagination.limit() as usize)
        .collect();
    let wanted: Vec<i64> = page
        .iter()
        .flat_map(|g| super::candidates_in(&g.top.candidates))
        .map(|c| c.track_id)
        .collect();
    let tracks: HashMap<i64, TrackRef> = state
        .db
        .run(move |conn| TrackSummary::of(conn, org, &wanted))
        .await?
        .into_iter()
        .map(|t| (t.id, TrackRef::from(t)))
        .collect();
    let results = page
        .into_iter()
        .map(|g| {
            let candidates = super::candidates_in(&g.top.candidates)
                .into_iter()
                .filter_map(|c: StoredCandidate| {
                    tracks.get(&c.track_id).map(|track| CandidateOut {
                        track: track.clone(),
                        score: c.score,
                    })
                })
                .collect();
            UnmatchedOut {
                item_id: g.top.id,
                status: if g.review { "review" } else { "unmatched" }.to_owned(),
                files: g.files.len() as i64,
                lines: g.lines,
                quantity: g.quantity,
                revenue: g.revenue.to_string(),
                candidates,
                artist: g.top.artist,
                track_title: g.top.track_title,
                release_title: g.top.release_title,
                isrc: g.top.isrc,
                upc: g.top.upc,
                reason: g.top.reason,
            }
        })
        .collect();
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        count,
        results,
    )?))
}
