//! Remembered corrections: an item matched to a track (or never matched),
//! applied by every later match, and to past files on request with a
//! preview of what would move.

use std::collections::{BTreeSet, HashMap};

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::Utc;
use oas_db::catalog::{self, NewRuleFields, RuleRecord, TrackSummary};
use oas_db::sales_files::SalesFile;
use oas_domain::access::Permission;
use oas_domain::money::Amount;
use oas_sales::{ids, names::ItemKey};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{MatchResponse, OrganisationQuery, TrackRef, organisation_for, rematch};
use crate::auth::Authenticated;
use crate::http::error::{ErrorBody, ErrorCode};
use crate::http::pagination::{Page, PageQuery, Pagination};
use crate::http::{ApiError, ApiJson};
use crate::state::AppState;

/// The item a rule is for, as the files report it.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleItem {
    #[validate(length(min = 1, max = 500))]
    #[schema(example = "Beatles, The", min_length = 1, max_length = 500)]
    pub artist: String,
    #[validate(length(min = 1, max = 500))]
    #[schema(
        example = "Here Comes The Sun - Remastered",
        min_length = 1,
        max_length = 500
    )]
    pub track_title: String,
    /// When given, the rule covers only items with this ISRC.
    #[validate(length(max = 20))]
    #[schema(example = "GBAYE0601690", max_length = 20)]
    pub isrc: Option<String>,
    /// When given, the rule covers only items with this UPC or EAN.
    #[validate(length(max = 20))]
    #[schema(max_length = 20)]
    pub upc: Option<String>,
}

/// Reads a field that must be present but may be null.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

/// A correction to remember.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRule {
    /// The item by its names and identifiers; or give `item_id`.
    #[validate(nested)]
    pub item: Option<RuleItem>,
    /// A usage item (from a file's matches or the unmatched list) whose
    /// names and identifiers the rule takes. Items are stored again each
    /// time their file is matched: use an id read since.
    #[schema(minimum = 1)]
    pub item_id: Option<i64>,
    /// The catalog track to match the item to; null: never match it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, required = true)]
    pub track: Option<Option<i64>>,
    /// `organisation` (the default: every file) or `source` (only files of
    /// the item's report format).
    #[validate(length(max = 20))]
    #[schema(value_type = Option<String>, schema_with = scope_schema)]
    pub scope: Option<String>,
    /// The report format a `source` rule is for, when `item` is given
    /// (with `item_id`, the item's own).
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub source: Option<String>,
}

fn scope_schema() -> utoipa::openapi::Object {
    crate::http::schema::one_of(&["organisation", "source"], true)
}

/// A remembered correction.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleOut {
    pub id: i64,
    pub item: RuleItem,
    /// The track the item is matched to; null: never matched.
    pub track: Option<TrackRef>,
    /// `organisation` or `source`.
    pub scope: String,
    /// The report format a `source` rule is for.
    pub source: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::DateTime<Utc>,
}

fn rule_out(rule: RuleRecord, tracks: &HashMap<i64, TrackRef>) -> RuleOut {
    RuleOut {
        id: rule.id,
        track: rule.track_id.and_then(|id| tracks.get(&id).cloned()),
        scope: if rule.source.is_some() {
            "source"
        } else {
            "organisation"
        }
        .to_owned(),
        source: rule.source,
        item: RuleItem {
            artist: rule.artist,
            track_title: rule.track_title,
            isrc: rule.isrc,
            upc: rule.upc,
        },
        created_at: rule.created_at.and_utc(),
    }
}

async fn tracks_of(
    state: &AppState,
    org: i64,
    rules: &[RuleRecord],
) -> Result<HashMap<i64, TrackRef>, ApiError> {
    let ids: Vec<i64> = rules.iter().filter_map(|r| r.track_id).collect();
    Ok(state
        .db
        .run(move |conn| TrackSummary::of(conn, org, &ids))
        .await?
        .into_iter()
        .map(|t| (t.id, TrackRef::from(t)))
        .collect())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RulesQuery {
    /// The organisation; the caller's active one by default.
    pub organisation: Option<i64>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
}

/// The organisation's remembered corrections, newest first.
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(RulesQuery),
    responses(
        (status = 200, description = "A page of rules", body = Page<RuleOut>),
        (status = 400, description = "No organisation given or active", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's", body = ErrorBody),
    ),
)]
#[get("/api/catalog/rules/")]
pub async fn list_rules(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<RulesQuery>,
) -> Result<web::Json<Page<RuleOut>>, ApiError> {
    let RulesQuery {
        organisation,
        page,
        page_size,
    } = query.into_inner();
    let org = organisation_for(&state, &auth, organisation, Permission::View).await?;
    let pagination = Pagination::new(&PageQuery { page, page_size }, &state.settings)?;
    let (offset, limit) = (pagination.offset(), pagination.limit());
    let (rules, count) = state
        .db
        .run(move |conn| RuleRecord::page(conn, org, offset, limit))
        .await?;
    let tracks = tracks_of(&state, org, &rules).await?;
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        count as u64,
        rules.into_iter().map(|r| rule_out(r, &tracks)).collect(),
    )?))
}

/// The rule's fields from the request: the item's keys as matching folds
/// them, the track checked to be the organisation's.
async fn rule_fields(
    state: &AppState,
    org: i64,
    request: CreateRule,
) -> Result<NewRuleFields, ApiError> {
    let Some(track) = request.track else {
        return Err(ApiError::field(
            "track",
            "Name the catalog track (its id), or null never to match the item.",
        ));
    };
    let by_source = match request.scope.as_deref().unwrap_or("organisation") {
        "organisation" => false,
        "source" => true,
        _ => return Err(ApiError::field("scope", "Choose organisation or source.")),
    };
    // Identifiers given by hand are checked; a usage item's are taken as
    // its file reports them (matching keys only those that hold).
    let (artist, track_title, isrc, upc, item_source) = match (request.item, request.item_id) {
        (Some(item), None) => {
            let isrc = item
                .isrc
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty());
            let upc = item
                .upc
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty());
            if let Some(raw) = &isrc
                && ids::isrc(raw).is_none()
            {
                return Err(ApiError::field(
                    "item.isrc",
                    format!("{raw:?} is not an ISRC (CC-XXX-YY-NNNNN)."),
                ));
            }
            if let Some(raw) = &upc
                && ids::gtin14(raw).is_none()
            {
                return Err(ApiError::field(
                    "item.upc",
                    format!("{raw:?} is not a UPC or EAN (its check digit fails)."),
                ));
            }
            (item.artist, item.track_title, isrc, upc, None)
        }
        (None, Some(id)) => {
            let item = state
                .db
                .run(move |conn| catalog::usage_item(conn, org, id))
                .await
                .map_err(|e| match e {
                    oas_db::DbError::NotFound => ApiError::new(
                        ErrorCode::NotFound,
                        format!("Usage item {id} is not found in the organisation."),
                    ),
                    other => other.into(),
                })?;
            let some = |s: String| Some(s).filter(|s| !s.trim().is_empty());
            (
                item.artist,
                item.track_title,
                some(item.isrc),
                some(item.upc),
                item.source,
            )
        }
        _ => {
            return Err(ApiError::bad_request(
                "Give the item either by its names (item) or as a usage item (item_id), one of the two.",
            ));
        }
    };
    let key = ItemKey::new(&artist, &track_title, isrc.as_deref(), upc.as_deref());
    if key.title.is_empty() {
        return Err(ApiError::field(
            "item.track_title",
            "A title of letters or digits: matching ignores the rest.",
        ));
    }
    let source = match (by_source, request.source, item_source) {
        (false, _, _) => None,
        (true, Some(source), _) => Some(source),
        (true, None, Some(source)) => Some(source),
        (true, None, None) => {
            return Err(ApiError::field(
                "source",
                "A rule scoped to a source names the report format it is for.",
            ));
        }
    };
    if let Some(id) = track {
        state
            .db
            .run(move |conn| catalog::TrackRow::find(conn, org, id))
            .await
            .map_err(|e| match e {
                oas_db::DbError::NotFound => ApiError::new(
                    ErrorCode::NotFound,
                    format!("Track {id} is not found in the organisation's catalog."),
                ),
                other => other.into(),
            })?;
    }
    Ok(NewRuleFields {
        artist,
        track_title,
        isrc,
        upc,
        artist_key: key.artist,
        title_key: key.title,
        isrc_key: key.isrc,
        gtin_key: key.gtin,
        track_id: track,
        source,
    })
}

/// Remember a correction: every later match of the organisation's files
/// applies it before anything else. Past files keep their match until the
/// rule is applied to them (`/apply/`) or they are matched again.
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(OrganisationQuery),
    request_body = CreateRule,
    responses(
        (status = 201, description = "Remembered", body = RuleOut),
        (status = 400, description = "Invalid input, or no organisation given or active", body = ErrorBody),
        (status = 403, description = "The caller's role may not change the catalog", body = ErrorBody),
        (status = 404, description = "No such organisation, usage item or track of the organisation", body = ErrorBody),
        (status = 409, description = "A rule for the same item and scope exists", body = ErrorBody),
    ),
)]
#[post("/api/catalog/rules/")]
pub async fn create_rule(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<OrganisationQuery>,
    body: ApiJson<CreateRule>,
) -> Result<HttpResponse, ApiError> {
    let org = organisation_for(&state, &auth, query.organisation, Permission::ProcessFiles).await?;
    let fields = rule_fields(&state, org, body.0).await?;
    let created_by = auth.user.id;
    let now = Utc::now().naive_utc();
    let rule = state
        .db
        .run(move |conn| {
            if let Some(same) = RuleRecord::same(conn, org, &fields)? {
                return Ok(Err(same.id));
            }
            RuleRecord::insert(conn, org, &fields, Some(created_by), now).map(Ok)
        })
        .await?
        .map_err(|id| {
            ApiError::new(
                ErrorCode::Conflict,
                format!("Rule {id} is for the same item and scope: delete it first to change it."),
            )
        })?;
    let tracks = tracks_of(&state, org, std::slice::from_ref(&rule)).await?;
    Ok(HttpResponse::Created().json(rule_out(rule, &tracks)))
}

/// A rule of the organisation (404 otherwise).
async fn rule_for(
    state: &AppState,
    auth: &Authenticated,
    organisation: Option<i64>,
    id: i64,
    permission: Permission,
) -> Result<RuleRecord, ApiError> {
    let org = organisation_for(state, auth, organisation, permission).await?;
    Ok(state
        .db
        .run(move |conn| RuleRecord::find(conn, org, id))
        .await?)
}

/// Forget a rule. Items it decided keep their match until their files are
/// matched again.
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Rule id"), OrganisationQuery),
    responses(
        (status = 204, description = "Forgotten"),
        (status = 400, description = "No organisation given or active", body = ErrorBody),
        (status = 403, description = "The caller's role may not change the catalog", body = ErrorBody),
        (status = 404, description = "No such rule in the organisation", body = ErrorBody),
    ),
)]
#[delete("/api/catalog/rules/{id}/")]
pub async fn delete_rule(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    query: web::Query<OrganisationQuery>,
) -> Result<HttpResponse, ApiError> {
    let rule = rule_for(
        &state,
        &auth,
        query.organisation,
        *id,
        Permission::ProcessFiles,
    )
    .await?;
    state
        .db
        .run(move |conn| RuleRecord::delete(conn, rule.organisation_id, rule.id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyRule {
    /// True: only say what would move.
    #[serde(default)]
    pub preview: bool,
}

/// What applying a rule to past files moves.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleReach {
    /// Files with an item the rule would change.
    pub files: i64,
    /// Their lines.
    pub lines: i64,
    /// Their revenue, in the base currency, exact decimal text.
    #[schema(example = "310.25")]
    pub revenue: String,
}

/// A rule applied: what moves, and the files being matched again.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleApplied {
    pub files: i64,
    pub lines: i64,
    #[schema(example = "310.25")]
    pub revenue: String,
    /// The runs matching the files again, and files that cannot be now.
    #[serde(flatten)]
    pub runs: MatchResponse,
}

/// Apply a rule to past files: `{"preview": true}` answers what would move
/// (files, lines, revenue) and changes nothing; `{}` matches those files
/// again.
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Rule id"), OrganisationQuery),
    request_body = ApplyRule,
    responses(
        (status = 200, description = "Preview: what would move", body = RuleReach),
        (status = 202, description = "Applied: the files are being matched again", body = RuleApplied),
        (status = 400, description = "Invalid input, or no organisation given or active", body = ErrorBody),
        (status = 403, description = "The caller's role may not change the catalog", body = ErrorBody),
        (status = 404, description = "No such rule in the organisation", body = ErrorBody),
    ),
)]
#[post("/api/catalog/rules/{id}/apply/")]
pub async fn apply_rule(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    query: web::Query<OrganisationQuery>,
    body: ApiJson<ApplyRule>,
) -> Result<HttpResponse, ApiError> {
    let permission = if body.0.preview {
        Permission::View
    } else {
        Permission::ProcessFiles
    };
    let rule = rule_for(&state, &auth, query.organisation, *id, permission).await?;
    let (covered, rule) = state
        .db
        .run(move |conn| rule.covered(conn).map(|c| (c, rule)))
        .await?;
    let moving: Vec<_> = covered
        .into_iter()
        .filter(|c| c.moves_under(&rule))
        .collect();
    let files: BTreeSet<i64> = moving.iter().map(|c| c.file_id).collect();
    let lines = moving.iter().map(|c| c.lines).sum();
    let mut revenue = Amount::ZERO;
    for item in &moving {
        let amount = Amount::parse(&item.revenue).map_err(ApiError::internal)?;
        revenue = revenue
            .checked_add(amount)
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the revenue overflows")))?;
    }
    let reach = RuleReach {
        files: files.len() as i64,
        lines,
        revenue: revenue.to_string(),
    };
    if body.0.preview {
        return Ok(HttpResponse::Ok().json(reach));
    }
    let ids: Vec<i64> = files.into_iter().collect();
    let files: Vec<SalesFile> = state
        .db
        .run(move |conn| {
            ids.iter()
                .map(|&id| SalesFile::find(conn, id))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let runs = rematch(&state, files).await?;
    Ok(HttpResponse::Accepted().json(RuleApplied {
        files: reach.files,
        lines: reach.lines,
        revenue: reach.revenue,
        runs,
    }))
}
