//! The catalog and matching: each sales file's usage items with their
//! match and its reason, the catalog's tracks, releases and artists, its
//! imports, and the rules that remember corrections.

mod browse;
mod rules;
mod tasks;

pub use browse::{get_release, list_artists, list_releases, list_unmatched};
pub use rules::{apply_rule, create_rule, delete_rule, list_rules};
pub use tasks::{generate_catalog, get_audit, start_audit};
pub(crate) use tasks::{in_period, months};

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::Utc;
use oas_db::catalog::{
    self, CatalogImportRecord, NewCatalogImport, ReleaseFields, TrackFields, TrackFilter, TrackRow,
    TrackSummary, UsageItemRecord,
};
use oas_db::sales_files::{ListFilter, SalesFile};
use oas_domain::access::Permission;
use oas_domain::catalog::{CATALOG_FILE_TYPES, ImportStatus};
use oas_domain::file::{FileAction, FileStatus};
use oas_domain::job::contract::catalogue_matching::CATALOG_FIELDS;
use oas_platform::storage::{ObjectStore, PresignMethod};
use oas_sales::{ids, names};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::access;
use crate::auth::Authenticated;
use crate::background::BackgroundError;
use crate::http::error::{ErrorBody, FieldErrors};
use crate::http::pagination::{Page, PageQuery, Pagination};
use crate::http::{ApiError, ApiJson};
use crate::routes::files::file_for;
use crate::state::AppState;
use crate::workflows::files::{self as file_workflow, Acted};

/// Most files one request reads or matches again.
const MAX_FILES: i64 = 10_000;

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
    let results = rows.into_iter().map(|row| item_out(row, &tracks)).collect();
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

/// The candidates a usage item keeps, as JSON text.
fn candidates_in(stored: &str) -> Vec<StoredCandidate> {
    serde_json::from_str(stored).unwrap_or_default()
}

fn candidates_of(row: &UsageItemRecord) -> Vec<StoredCandidate> {
    candidates_in(&row.candidates)
}

fn item_out(
    row: UsageItemRecord,
    tracks: &std::collections::HashMap<i64, TrackRef>,
) -> UsageItemOut {
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

/// The organisation a catalog route works on: `?organisation=`, else the
/// caller's active one.
pub(crate) async fn organisation_for(
    state: &AppState,
    auth: &Authenticated,
    organisation: Option<i64>,
    permission: Permission,
) -> Result<i64, ApiError> {
    let organisation = organisation
        .or(auth.user.active_organisation_id)
        .ok_or_else(|| ApiError::bad_request("Name an organisation, or make one active first."))?;
    Ok(access::require(state, auth, organisation, permission)
        .await?
        .organisation
        .id)
}

/// A release as a track names it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReleaseRef {
    pub id: i64,
    pub upc: Option<String>,
    pub title: String,
}

/// A catalog track.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackOut {
    pub id: i64,
    pub isrc: Option<String>,
    pub title: String,
    /// "Live", "Radio Edit", … (null for the original).
    pub version: Option<String>,
    pub artist: String,
    pub release: Option<ReleaseRef>,
    pub label: Option<String>,
    /// `import`, `usage` or `manual`.
    pub source: String,
    /// What was left out of a track added by hand, and why (an identifier
    /// that fails its check).
    pub warnings: Vec<String>,
}

impl From<TrackRow> for TrackOut {
    fn from(t: TrackRow) -> Self {
        TrackOut {
            id: t.id,
            isrc: t.isrc,
            title: t.title,
            version: t.version,
            artist: t.artist,
            release: t.release_id.map(|id| ReleaseRef {
                id,
                upc: t.release_upc,
                title: t.release_title.unwrap_or_default(),
            }),
            label: t.label,
            source: t.source,
            warnings: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrackQuery {
    /// The organisation; the caller's active one by default.
    pub organisation: Option<i64>,
    /// Words of the title or artist (case and accents ignored), or an ISRC.
    #[param(max_length = 200)]
    pub search: Option<String>,
    /// An ISRC (dashes and case ignored).
    #[param(
        max_length = 20,
        pattern = r"^[A-Za-z]{2}-?[A-Za-z0-9]{3}-?[0-9]{2}-?[0-9]{5}$"
    )]
    pub isrc: Option<String>,
    /// An artist's name (case and accents ignored).
    #[param(max_length = 200)]
    pub artist: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
}

/// The organisation's catalog tracks, in the order they were added.
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(TrackQuery),
    responses(
        (status = 200, description = "A page of tracks", body = Page<TrackOut>),
        (status = 400, description = "Invalid filter, or no organisation given or active", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's", body = ErrorBody),
    ),
)]
#[get("/api/catalog/tracks/")]
pub async fn list_tracks(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<TrackQuery>,
) -> Result<web::Json<Page<TrackOut>>, ApiError> {
    let TrackQuery {
        organisation,
        search,
        isrc,
        artist,
        page,
        page_size,
    } = query.into_inner();
    let org = organisation_for(&state, &auth, organisation, Permission::View).await?;
    for (name, value, max) in [
        ("search", &search, 200),
        ("isrc", &isrc, 20),
        ("artist", &artist, 200),
    ] {
        if value.as_ref().is_some_and(|v| v.chars().count() > max) {
            return Err(ApiError::bad_request(format!(
                "{name} may have at most {max} characters."
            )));
        }
    }
    let filter = TrackFilter {
        search: search
            .map(|s| {
                let isrc = ids::isrc(&s);
                isrc.unwrap_or_else(|| names::fold(&s))
            })
            .filter(|s| !s.is_empty()),
        isrc: match isrc {
            Some(raw) => Some(ids::isrc(&raw).ok_or_else(|| {
                ApiError::bad_request(format!("{raw:?} is not an ISRC (CC-XXX-YY-NNNNN)."))
            })?),
            None => None,
        },
        artist_key: artist.map(|a| names::artists(&a).key),
    };
    let pagination = Pagination::new(&PageQuery { page, page_size }, &state.settings)?;
    let (offset, limit) = (pagination.offset(), pagination.limit());
    let (rows, count) = state
        .db
        .run(move |conn| TrackRow::page(conn, org, &filter, offset, limit))
        .await?;
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        count as u64,
        rows.into_iter().map(TrackOut::from).collect(),
    )?))
}

/// A track added by hand.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackIn {
    #[validate(required, length(min = 1, max = 500))]
    #[schema(example = "Here Comes the Sun", min_length = 1, max_length = 500, pattern = r"\S", required = true, nullable = false, value_type = String)]
    pub title: Option<String>,
    #[validate(required, length(min = 1, max = 500))]
    #[schema(example = "The Beatles", min_length = 1, max_length = 500, pattern = r"\S", required = true, nullable = false, value_type = String)]
    pub artist: Option<String>,
    /// CC-XXX-YY-NNNNN (dashes and case ignored).
    #[validate(length(max = 20))]
    #[schema(
        example = "GBAYE0601498",
        max_length = 20,
        pattern = r"^[A-Za-z]{2}-?[A-Za-z0-9]{3}-?[0-9]{2}-?[0-9]{5}$"
    )]
    pub isrc: Option<String>,
    /// "Live", "Radio Edit", …
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub version: Option<String>,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub label: Option<String>,
    /// The release's UPC or EAN (its check digit is checked).
    #[validate(length(max = 20))]
    #[schema(example = "602517646483", max_length = 20)]
    pub upc: Option<String>,
    /// The release's title (the track's by default).
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub release_title: Option<String>,
}

/// A track's fields to change; those left out are kept.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackPatch {
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub title: Option<String>,
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub artist: Option<String>,
    #[validate(length(max = 20))]
    #[schema(
        max_length = 20,
        pattern = r"^[A-Za-z]{2}-?[A-Za-z0-9]{3}-?[0-9]{2}-?[0-9]{5}$"
    )]
    pub isrc: Option<String>,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub version: Option<String>,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub label: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganisationQuery {
    /// The organisation; the caller's active one by default.
    pub organisation: Option<i64>,
}

/// Text of at most `max` characters after trimming; empty is none.
fn text(
    field: &str,
    value: Option<String>,
    max: usize,
    errors: &mut FieldErrors,
) -> Option<String> {
    let value = value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())?;
    if value.chars().count() > max {
        errors.entry(field.to_owned()).or_default().push(format!(
            "Ensure this field has no more than {max} characters."
        ));
        return None;
    }
    Some(value)
}

/// The fields of a track, checked; `current` fills what a change leaves out.
fn track_fields(
    body: TrackIn,
    current: Option<&TrackRow>,
) -> Result<(TrackFields, Option<ReleaseFields>, Vec<String>), ApiError> {
    let mut errors = FieldErrors::new();
    // A title or artist given blank is refused, never read as "keep".
    for (field, value) in [("title", &body.title), ("artist", &body.artist)] {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            errors
                .entry(field.into())
                .or_default()
                .push("This field may not be blank.".into());
        }
    }
    let title =
        text("title", body.title, 500, &mut errors).or_else(|| current.map(|c| c.title.clone()));
    let artist =
        text("artist", body.artist, 500, &mut errors).or_else(|| current.map(|c| c.artist.clone()));
    let isrc = match body.isrc {
        // Given, it must be one (an empty one too: the schema's pattern
        // refuses it).
        Some(raw) => match ids::isrc(&raw) {
            Some(code) => Some(code),
            None => {
                errors.entry("isrc".into()).or_default().push(
                    "Not an ISRC: two letters, three letters or digits, two digits, five digits (CC-XXX-YY-NNNNN).".into(),
                );
                None
            }
        },
        None => current.and_then(|c| c.isrc.clone()),
    };
    let version = text("version", body.version, 200, &mut errors)
        .or_else(|| current.and_then(|c| c.version.clone()));
    let label = text("label", body.label, 500, &mut errors)
        .or_else(|| current.and_then(|c| c.label.clone()));
    // A UPC or EAN that fails its check is left out, and the answer says
    // so, as a catalog import leaves it out of its row.
    let mut warnings = Vec::new();
    let upc = text("upc", body.upc, 20, &mut errors);
    let (upc, gtin) = match upc {
        Some(raw) => match ids::gtin14(&raw) {
            Some(gtin) => (Some(raw), Some(gtin)),
            None => {
                warnings.push(format!(
                    "The UPC {raw:?} is not a UPC or EAN with a right check digit: the track was added without it."
                ));
                (None, None)
            }
        },
        None => (None, None),
    };
    let release_title = text("release_title", body.release_title, 500, &mut errors);
    for (field, value) in [("title", &title), ("artist", &artist)] {
        if value.is_none() && !errors.contains_key(field) {
            errors
                .entry(field.into())
                .or_default()
                .push("This field is required.".into());
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let (title, artist) = (title.unwrap_or_default(), artist.unwrap_or_default());
    let release = (upc.is_some() || release_title.is_some()).then(|| {
        let release_title = release_title.unwrap_or_else(|| title.clone());
        ReleaseFields {
            upc: upc.clone(),
            gtin,
            title_key: names::fold(&release_title),
            title: release_title,
            artist: artist.clone(),
            label: label.clone(),
        }
    });
    Ok((
        TrackFields {
            title_key: names::title(&title).base,
            artist_key: names::artists(&artist).key,
            isrc,
            title,
            version,
            artist,
            label,
        },
        release,
        warnings,
    ))
}

/// Add a track to the catalog by hand.
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(OrganisationQuery),
    request_body = TrackIn,
    responses(
        (status = 201, description = "Added", body = TrackOut),
        (status = 400, description = "Invalid input, or no organisation given or active", body = ErrorBody),
        (status = 403, description = "The caller's role may not change the catalog", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's", body = ErrorBody),
    ),
)]
#[post("/api/catalog/tracks/")]
pub async fn create_track(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<OrganisationQuery>,
    body: ApiJson<TrackIn>,
) -> Result<HttpResponse, ApiError> {
    let org = organisation_for(&state, &auth, query.organisation, Permission::ProcessFiles).await?;
    let (fields, release, warnings) = track_fields(body.0, None)?;
    let now = Utc::now().naive_utc();
    let track = state
        .db
        .run(move |conn| TrackRow::insert(conn, org, &fields, release.as_ref(), "manual", now))
        .await?;
    let mut track = TrackOut::from(track);
    track.warnings = warnings;
    Ok(HttpResponse::Created().json(track))
}

/// A track of one of the caller's organisations (404 otherwise).
async fn track_for(
    state: &AppState,
    auth: &Authenticated,
    id: i64,
    permission: Permission,
) -> Result<TrackRow, ApiError> {
    let org = state
        .db
        .run(move |conn| catalog::track_organisation(conn, id))
        .await?;
    access::require_for_object(state, auth, org, permission).await?;
    Ok(state
        .db
        .run(move |conn| TrackRow::find(conn, org, id))
        .await?)
}

/// One catalog track.
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Track id")),
    responses(
        (status = 200, description = "The track", body = TrackOut),
        (status = 404, description = "No such track of the caller's organisations", body = ErrorBody),
    ),
)]
#[get("/api/catalog/tracks/{id}/")]
pub async fn get_track(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<TrackOut>, ApiError> {
    Ok(web::Json(
        track_for(&state, &auth, *id, Permission::View)
            .await?
            .into(),
    ))
}

/// Change a track's title, artist, ISRC, version or label. Files already
/// matched keep their match until they are matched again.
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Track id")),
    request_body = TrackPatch,
    responses(
        (status = 200, description = "Changed", body = TrackOut),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 403, description = "The caller's role may not change the catalog", body = ErrorBody),
        (status = 404, description = "No such track of the caller's organisations", body = ErrorBody),
    ),
)]
#[patch("/api/catalog/tracks/{id}/")]
pub async fn update_track(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ApiJson<TrackPatch>,
) -> Result<web::Json<TrackOut>, ApiError> {
    let current = track_for(&state, &auth, *id, Permission::ProcessFiles).await?;
    let TrackPatch {
        title,
        artist,
        isrc,
        version,
        label,
    } = body.0;
    let change = TrackIn {
        title,
        artist,
        isrc,
        version,
        label,
        ..TrackIn::default()
    };
    let (fields, _, _) = track_fields(change, Some(&current))?;
    let (org, id) = (current.organisation_id, current.id);
    let now = Utc::now().naive_utc();
    let track = state
        .db
        .run(move |conn| TrackRow::update(conn, org, id, &fields, now))
        .await?;
    Ok(web::Json(track.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrackDeleted {
    pub id: i64,
    /// Usage items that were matched to it and are now unmatched (their
    /// sales lines are untouched).
    pub unmatched_items: u64,
}

/// Delete a track. The sales lines stay; usage items matched to it become
/// unmatched, saying why; rules naming it are forgotten.
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Track id")),
    responses(
        (status = 200, description = "Deleted", body = TrackDeleted),
        (status = 403, description = "The caller's role may not change the catalog", body = ErrorBody),
        (status = 404, description = "No such track of the caller's organisations", body = ErrorBody),
    ),
)]
#[delete("/api/catalog/tracks/{id}/")]
pub async fn delete_track(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<TrackDeleted>, ApiError> {
    let current = track_for(&state, &auth, *id, Permission::ProcessFiles).await?;
    let (org, id) = (current.organisation_id, current.id);
    let now = Utc::now().naive_utc();
    let unmatched = state
        .db
        .run(move |conn| TrackRow::delete(conn, org, id, now))
        .await?;
    Ok(web::Json(TrackDeleted {
        id,
        unmatched_items: unmatched as u64,
    }))
}

/// Files to match again.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchRequest {
    /// File ids; every processed file of the organisation when absent.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_items = 1, max_items = 1000)]
    pub files: Option<Vec<i64>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchStarted {
    pub file: i64,
    /// The module run, at /api/jobs/{id}/.
    pub job: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchRefused {
    pub file: i64,
    /// Why, and which action fits.
    pub detail: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchResponse {
    pub started: Vec<MatchStarted>,
    pub refused: Vec<MatchRefused>,
}

/// Match files again (after a catalog import or a change of rules): the
/// files named, or every PROCESSED and FINALIZED file of the organisation.
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(OrganisationQuery),
    request_body = MatchRequest,
    responses(
        (status = 202, description = "Runs started; files that cannot be matched now are listed with the reason", body = MatchResponse),
        (status = 400, description = "Invalid input, or no organisation given or active", body = ErrorBody),
        (status = 403, description = "The caller's role may not process files", body = ErrorBody),
        (status = 404, description = "No such organisation, or a file not of it", body = ErrorBody),
    ),
)]
#[post("/api/catalog/match/")]
pub async fn match_files(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<OrganisationQuery>,
    body: ApiJson<MatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let org = organisation_for(&state, &auth, query.organisation, Permission::ProcessFiles).await?;
    let files = files_named(&state, org, body.0.files).await?;
    Ok(HttpResponse::Accepted().json(rematch(&state, files).await?))
}

/// The organisation's files among `ids` (404 naming the first that is
/// not one of them), or, without ids, every PROCESSED and FINALIZED one.
pub(crate) async fn files_named(
    state: &AppState,
    org: i64,
    ids: Option<Vec<i64>>,
) -> Result<Vec<SalesFile>, ApiError> {
    let Some(mut ids) = ids else {
        let mut files = Vec::new();
        for status in [FileStatus::Processed, FileStatus::Finalized] {
            let (rows, _) = state
                .db
                .run(move |conn| {
                    let filter = ListFilter {
                        status: Some(status.as_str()),
                        ..Default::default()
                    };
                    SalesFile::list(conn, org, &filter, 0, MAX_FILES)
                })
                .await?;
            files.extend(rows);
        }
        return Ok(files);
    };
    ids.sort_unstable();
    ids.dedup();
    let found = state
        .db
        .run(move |conn| {
            ids.iter()
                .map(|&id| match SalesFile::find(conn, id) {
                    Ok(file) => Ok((id, Some(file))),
                    Err(oas_db::DbError::NotFound) => Ok((id, None)),
                    Err(e) => Err(e),
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let mut files = Vec::with_capacity(found.len());
    for (id, file) in found {
        match file {
            Some(file) if file.organisation_id == org => files.push(file),
            _ => {
                return Err(ApiError::new(
                    crate::http::error::ErrorCode::NotFound,
                    format!("File {id} is not found in the organisation."),
                ));
            }
        }
    }
    Ok(files)
}

/// Matches `files` again, each as far as its status allows.
async fn rematch(state: &AppState, files: Vec<SalesFile>) -> Result<MatchResponse, ApiError> {
    let mut answer = MatchResponse {
        started: Vec::new(),
        refused: Vec::new(),
    };
    for file in files {
        match file_workflow::act(state, &file, FileAction::Match).await {
            Ok(Acted::Started { job, .. }) => answer.started.push(MatchStarted {
                file: file.id,
                job: job.id,
            }),
            Ok(Acted::Upload { .. }) => {}
            Err(BackgroundError::Refused(detail)) => answer.refused.push(MatchRefused {
                file: file.id,
                detail,
            }),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(answer)
}

/// A catalog file to import.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCatalogImport {
    #[validate(required, length(min = 1, max = 255))]
    #[schema(
        example = "catalog-2026-12.xlsx",
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 255
    )]
    pub filename: Option<String>,
    /// CSV, TSV, TXT, XLS or XLSX.
    #[validate(required, length(min = 1, max = 10))]
    #[schema(example = "XLSX", required = true, nullable = false, value_type = String, schema_with = catalog_type_schema)]
    pub filetype: Option<String>,
    /// The declared size in bytes: processing refuses more. The upload link
    /// takes at most the deployment's upload limit (413 beyond it).
    #[validate(required, range(min = 1))]
    #[schema(required = true, nullable = false, minimum = 1)]
    pub filesize: Option<i64>,
    /// `merge` (the default) adds and updates; `replace` also removes the
    /// imported tracks the file no longer has.
    #[validate(length(max = 10))]
    #[schema(value_type = Option<String>, schema_with = mode_schema)]
    pub mode: Option<String>,
    /// The organisation's own column names, by catalog field (`isrc`,
    /// `upc`, `track_title`, `version`, `release_title`, `artist`,
    /// `label`, `catalog_number`, `release_date`); the usual names
    /// otherwise.
    #[schema(value_type = Option<Object>, schema_with = columns_schema)]
    pub columns: Option<std::collections::BTreeMap<String, String>>,
}

/// `columns`: a column name (1 to 200 characters, not only spaces) for any
/// of the catalog fields, and nothing else.
fn columns_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, SchemaType, Type};
    let mut object =
        ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::Object, Type::Null]));
    for field in CATALOG_FIELDS {
        object = object.property(
            field,
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::String))
                .min_length(Some(1))
                .max_length(Some(200))
                .pattern(Some(r"\S")),
        );
    }
    object
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .examples([serde_json::json!({"track_title": "Werk", "artist": "Künstler"})])
        .build()
}

fn catalog_type_schema() -> utoipa::openapi::Object {
    crate::http::schema::one_of(&CATALOG_FILE_TYPES, false)
}

fn mode_schema() -> utoipa::openapi::Object {
    crate::http::schema::one_of(&["merge", "replace"], true)
}

/// A catalog import.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogImportOut {
    pub id: i64,
    pub filename: String,
    pub filetype: String,
    pub filesize: i64,
    /// `merge` or `replace`.
    pub mode: String,
    /// INITIALIZED, UPLOADING, PROCESSING, DONE or FAILED.
    #[schema(example = "UPLOADING")]
    pub status: String,
    pub status_cause: Option<String>,
    /// Tracks added, updated, unchanged and removed (once DONE).
    pub created: Option<i64>,
    pub updated: Option<i64>,
    pub unchanged: Option<i64>,
    pub removed: Option<i64>,
    /// Rows or identifiers left out, with the reason (the first thousand).
    pub rejected: Vec<RejectedOut>,
    pub rejected_count: Option<i64>,
    /// At creation: PUT the file's bytes here before it expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presigned_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<chrono::DateTime<Utc>>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: chrono::DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RejectedOut {
    /// The row's line (the header is line 1).
    pub line: u64,
    pub reason: String,
}

impl From<CatalogImportRecord> for CatalogImportOut {
    fn from(r: CatalogImportRecord) -> Self {
        CatalogImportOut {
            id: r.id,
            rejected: r
                .rejected
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok())
                .unwrap_or_default(),
            filename: r.filename,
            filetype: r.filetype,
            filesize: r.filesize,
            mode: r.mode,
            status: r.status,
            status_cause: r.status_cause,
            created: r.created_count,
            updated: r.updated_count,
            unchanged: r.unchanged_count,
            removed: r.removed_count,
            rejected_count: r.rejected_count,
            presigned_url: None,
            expires_at: None,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// Create a catalog import: answers the presigned URL to PUT the file to
/// (it is then UPLOADING), then process it.
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(OrganisationQuery),
    request_body = CreateCatalogImport,
    responses(
        (status = 201, description = "Created, UPLOADING: PUT the bytes to presigned_url", body = CatalogImportOut),
        (status = 400, description = "Invalid input, or no organisation given or active", body = ErrorBody),
        (status = 403, description = "The caller's role may not change the catalog", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's", body = ErrorBody),
    ),
)]
#[post("/api/catalog/imports/")]
pub async fn create_catalog_import(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<OrganisationQuery>,
    body: ApiJson<CreateCatalogImport>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let filetype = request
        .filetype
        .unwrap_or_default()
        .trim()
        .to_ascii_uppercase();
    if !CATALOG_FILE_TYPES.contains(&filetype.as_str()) {
        return Err(ApiError::field(
            "filetype",
            format!("Choose one of {}.", CATALOG_FILE_TYPES.join(", ")),
        ));
    }
    let mode = request.mode.unwrap_or_else(|| "merge".into());
    if !["merge", "replace"].contains(&mode.as_str()) {
        return Err(ApiError::field("mode", "Choose merge or replace."));
    }
    // As for sales files, the upload link takes at most
    // OAS_MAX_UPLOAD_BYTES (413), and processing refuses more bytes than
    // declared.
    let filesize = request.filesize.unwrap_or_default();
    let columns = request.columns.unwrap_or_default();
    let mut errors = FieldErrors::new();
    for (field, name) in &columns {
        if !CATALOG_FIELDS.contains(&field.as_str()) {
            errors
                .entry(format!("columns.{field}"))
                .or_default()
                .push(format!(
                    "Not a catalog field: choose among {}.",
                    CATALOG_FIELDS.join(", ")
                ));
        } else if name.trim().is_empty() || name.chars().count() > 200 {
            errors
                .entry(format!("columns.{field}"))
                .or_default()
                .push("A column name of 1 to 200 characters.".into());
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let org = organisation_for(&state, &auth, query.organisation, Permission::ProcessFiles).await?;
    let filename = request.filename.unwrap_or_default();
    let columns = (!columns.is_empty())
        .then(|| serde_json::to_string(&columns))
        .transpose()
        .map_err(ApiError::internal)?;
    let created_by = auth.user.id;
    let now = Utc::now().naive_utc();
    let import = state
        .db
        .run(move |conn| {
            CatalogImportRecord::insert(
                conn,
                &NewCatalogImport {
                    organisation_id: org,
                    filename: &filename,
                    filetype: &filetype,
                    filesize,
                    mode: &mode,
                    column_names: columns.as_deref(),
                    status: ImportStatus::Uploading.as_str(),
                    created_by: Some(created_by),
                    created_at: now,
                    updated_at: now,
                },
            )
        })
        .await?;
    let key =
        oas_platform::storage::catalog_import_key(org, import.id).map_err(ApiError::internal)?;
    let url = state
        .storage
        .presign(PresignMethod::Put, &key, state.settings.upload_url_ttl)
        .await
        .map_err(ApiError::internal)?;
    let mut out = CatalogImportOut::from(import);
    out.presigned_url = Some(url.url);
    out.expires_at = Some(url.expires_at);
    Ok(HttpResponse::Created().json(out))
}

/// An import of one of the caller's organisations (404 otherwise).
async fn import_for(
    state: &AppState,
    auth: &Authenticated,
    id: i64,
    permission: Permission,
) -> Result<CatalogImportRecord, ApiError> {
    let import = state
        .db
        .run(move |conn| CatalogImportRecord::find(conn, id))
        .await?;
    access::require_for_object(state, auth, import.organisation_id, permission).await?;
    Ok(import)
}

/// One catalog import: its status and, once DONE, what it did.
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Catalog import id")),
    responses(
        (status = 200, description = "The import", body = CatalogImportOut),
        (status = 404, description = "No such import of the caller's organisations", body = ErrorBody),
    ),
)]
#[get("/api/catalog/imports/{id}/")]
pub async fn get_catalog_import(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<CatalogImportOut>, ApiError> {
    Ok(web::Json(
        import_for(&state, &auth, *id, Permission::View)
            .await?
            .into(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProcessImportResponse {
    pub id: i64,
    #[schema(example = "PROCESSING")]
    pub status: String,
    /// The first module run (cleaning), at /api/jobs/{id}/.
    pub job: String,
}

/// Process an uploaded catalog import: the file is cleaned, then read into
/// the catalog (`import_catalog`).
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Catalog import id")),
    responses(
        (status = 202, description = "Started", body = ProcessImportResponse),
        (status = 403, description = "The caller's role may not change the catalog", body = ErrorBody),
        (status = 404, description = "No such import of the caller's organisations", body = ErrorBody),
        (status = 409, description = "Not uploaded yet, being processed, or done", body = ErrorBody),
    ),
)]
#[post("/api/catalog/imports/{id}/process/")]
pub async fn process_catalog_import(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let import = import_for(&state, &auth, *id, Permission::ProcessFiles).await?;
    let job = crate::workflows::catalog_import::process(&state, &import).await?;
    Ok(HttpResponse::Accepted().json(ProcessImportResponse {
        id: import.id,
        status: ImportStatus::Processing.as_str().to_owned(),
        job: job.id,
    }))
}
