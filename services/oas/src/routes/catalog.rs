//! The catalog and matching: each sales file's usage items with their
//! match and its reason.

use actix_web::{HttpRequest, get, web};
use oas_db::catalog::{TrackSummary, UsageItemRecord};
use oas_domain::access::Permission;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Authenticated;
use crate::http::error::ErrorBody;
use crate::http::pagination::{Page, PageQuery, Pagination};
use crate::http::ApiError;
use crate::routes::files::file_for;
use crate::state::AppState;

/// What a usage item's match names of a catalog track.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackRef {
    pub id: i64,
    pub isrc: Option<String>,
    pub title: String,
    pub version: Option<String>,
    pub artist: String,
}

impl From<TrackSummary> for TrackRef {
    fn from(t: TrackSummary) -> Self {
        TrackRef {
            id: t.id,
            isrc: t.isrc,
            title: t.title,
            version: t.version,
            artist: t.artist,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateOut {
    pub track: TrackRef,
    /// 0 to 1.
    pub score: f64,
}

/// A usage item of a file: the distinct artist, track title, release
/// title, ISRC and UPC of its lines, what they add up to, and its match.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageItemOut {
    pub id: i64,
    pub artist: String,
    pub track_title: String,
    pub release_title: String,
    pub isrc: String,
    pub upc: String,
    pub lines: i64,
    pub quantity: i64,
    /// In the base currency, exact decimal text.
    #[schema(example = "12.5")]
    pub revenue: String,
    /// `matched`, `review` or `unmatched`.
    #[schema(example = "matched")]
    pub status: String,
    /// `rule`, `isrc`, `upc_title`, `catalog_number`, `exact_text` or
    /// `fuzzy`; null when nothing came close.
    pub match_type: Option<String>,
    /// 0 to 1.
    pub confidence: f64,
    pub track: Option<TrackRef>,
    /// The closest tracks and their scores (for review).
    pub candidates: Vec<CandidateOut>,
    /// Why it matched, or why not.
    pub reason: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MatchesQuery {
    /// `matched`, `review` or `unmatched`.
    #[param(value_type = Option<String>, pattern = "^(matched|review|unmatched)$")]
    pub status: Option<String>,
    /// `-revenue` (the default: most at stake first) or `revenue`.
    #[param(value_type = Option<String>, pattern = "^-?revenue$")]
    pub ordering: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
}

const STATUSES: [&str; 3] = ["matched", "review", "unmatched"];

/// A file's usage items and their match, most revenue first.
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "File id"), MatchesQuery),
    responses(
        (status = 200, description = "A page of the file's usage items", body = Page<UsageItemOut>),
        (status = 400, description = "Invalid filter", body = ErrorBody),
        (status = 404, description = "No such file of the caller's organisations", body = ErrorBody),
    ),
)]
#[get("/api/files/salesfiles/{id}/matches/")]
pub async fn file_matches(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    query: web::Query<MatchesQuery>,
) -> Result<web::Json<Page<UsageItemOut>>, ApiError> {
    let MatchesQuery {
        status,
        ordering,
        page,
        page_size,
    } = query.into_inner();
    if let Some(status) = &status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(ApiError::bad_request(format!(
            "Unknown status {status:?}: choose one of {}.",
            STATUSES.join(", ")
        )));
    }
    let ascending = match ordering.as_deref() {
        None | Some("-revenue") => false,
        Some("revenue") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Unknown ordering {other:?}: choose revenue or -revenue."
            )));
        }
    };
    let file = file_for(&state, &auth, *id, Permission::View).await?;
    let pagination = Pagination::new(&PageQuery { page, page_size }, &state.settings)?;
    let (offset, limit) = (pagination.offset(), pagination.limit());
    let (file_id, org) = (file.id, file.organisation_id);
    let (rows, count, tracks) = state
        .db
        .run(move |conn| {
            let (rows, count) = UsageItemRecord::page_for_file(
                conn,
                file_id,
                status.as_deref(),
                ascending,
                offset,
                limit,
            )?;
            let mut ids: Vec<i64> = rows.iter().filter_map(|r| r.track_id).collect();
            for row in &rows {
                ids.extend(candidates_of(row).iter().map(|c| c.track_id));
            }
            ids.sort_unstable();
            ids.dedup();
            let tracks = TrackSummary::of(conn, org, &ids)?;
            Ok::<_, oas_db::DbError>((rows, count, tracks))
        })
        .await?;
    let tracks: std::collections::HashMap<i64, TrackRef> = tracks
        .into_iter()
        .map(|t| (t.id, TrackRef::from(t)))
        .collect();
    let results = rows
        .into_iter()
        .map(|row| item_out(row, &tracks))
        .collect();
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        count as u64,
        results,
    )?))
}

#[derive(Debug, Deserialize)]
struct StoredCandidate {
    track_id: i64,
    score: f64,
}

fn candidates_of(row: &UsageItemRecord) -> Vec<StoredCandidate> {
    serde_json::from_str(&row.candidates).unwrap_or_default()
}

fn item_out(row: UsageItemRecord, tracks: &std::collections::HashMap<i64, TrackRef>) -> UsageItemOut {
    let candidates = candidates_of(&row)
        .into_iter()
        .filter_map(|c| {
            tracks.get(&c.track_id).map(|track| CandidateOut {
                track: track.clone(),
                score: c.score,
            })
        })
        .collect();
    UsageItemOut {
        id: row.id,
        track: row.track_id.and_then(|id| tracks.get(&id).cloned()),
        artist: row.artist,
        track_title: row.track_title,
        release_title: row.release_title,
        isrc: row.isrc,
        upc: row.upc,
        lines: row.lines,
        quantity: row.quantity,
        revenue: row.revenue,
        status: row.status,
        match_type: row.match_type,
        confidence: row.confidence,
        candidates,
        reason: row.reason,
    }
}
