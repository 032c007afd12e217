//! Reading processed sales: a file's snapshot, the organisation's summary.

use actix_web::{get, web};
use oas_domain::access::Permission;
use oas_platform::snapshots::{Dimension, SnapshotRow, SnapshotStore};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access;
use crate::auth::Authenticated;
use crate::http::ApiError;
use crate::http::error::{ErrorBody, ErrorCode};
use crate::state::AppState;

/// One group of a snapshot.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupOut {
    #[schema(example = "Fleetwood Mac")]
    pub name: String,
    /// What identifies the group: an ISRC, a UPC, a code or a normalised name.
    pub key: String,
    pub isrc: Option<String>,
    pub upc: Option<String>,
    /// In the file's currency, exact.
    #[schema(example = "12.345678")]
    pub revenue: String,
    /// In the organisation's base currency, exact.
    #[schema(example = "11.357")]
    pub base_revenue: String,
    pub quantity: i64,
}

impl From<SnapshotRow> for GroupOut {
    fn from(r: SnapshotRow) -> Self {
        Self {
            name: r.name,
            // A title and an artist are kept apart by a unit separator in
            // the store; shown with a dash.
            key: r.key.replace('\u{1f}', " – "),
            isrc: r.isrc,
            upc: r.upc,
            revenue: r.revenue.to_string(),
            base_revenue: r.base_revenue.to_string(),
            quantity: r.quantity,
        }
    }
}

/// A file's totals and groups, each list by revenue, highest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SnapshotOut {
    pub file: i64,
    pub currency: String,
    pub base_currency: String,
    pub reporting_period: Option<String>,
    pub lines: i64,
    pub total_revenue: String,
    pub total_base_revenue: String,
    pub total_quantity: i64,
    #[serde(rename = "byArtist")]
    pub by_artist: Vec<GroupOut>,
    #[serde(rename = "byDSP")]
    pub by_dsp: Vec<GroupOut>,
    #[serde(rename = "byTerritory")]
    pub by_territory: Vec<GroupOut>,
    #[serde(rename = "byTrack")]
    pub by_track: Vec<GroupOut>,
    #[serde(rename = "byRelease")]
    pub by_release: Vec<GroupOut>,
    /// How many groups each list has in all, of which `limit` from
    /// `offset` are shown.
    pub counts: GroupCounts,
}

/// The number of groups of each dimension.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct GroupCounts {
    #[serde(rename = "byArtist")]
    pub by_artist: i64,
    #[serde(rename = "byDSP")]
    pub by_dsp: i64,
    #[serde(rename = "byTerritory")]
    pub by_territory: i64,
    #[serde(rename = "byTrack")]
    pub by_track: i64,
    #[serde(rename = "byRelease")]
    pub by_release: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SnapshotQuery {
    /// Groups per list (default 100, at most 1000): large files have
    /// hundreds of thousands of tracks.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Groups to skip in each list.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// A processed file's totals by artist, DSP, territory, track and release.
#[utoipa::path(
    tag = "files",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "File id"), SnapshotQuery),
    responses(
        (status = 200, description = "The snapshot", body = SnapshotOut),
        (status = 400, description = "Invalid limit or offset", body = ErrorBody),
        (status = 404, description = "No such file of the caller's organisations, or not processed yet", body = ErrorBody),
    ),
)]
#[get("/api/files/salesfiles/{id}/snapshot/")]
pub async fn file_snapshot(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    query: web::Query<SnapshotQuery>,
) -> Result<web::Json<SnapshotOut>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    let offset = query.offset.unwrap_or(0);
    if !(1..=1000).contains(&limit) || offset < 0 {
        return Err(ApiError::bad_request(
            "limit must be 1 to 1000 and offset not negative.",
        ));
    }
    let file = super::files::file_for(&state, &auth, *id, Permission::View).await?;
    let snapshots = state.snapshots.as_ref();
    let totals = snapshots
        .totals(file.id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                "This file has no snapshot yet: it appears once the file is processed.",
            )
        })?;
    let mut lists = Vec::with_capacity(Dimension::ALL.len());
    let mut counts = GroupCounts::default();
    for dimension in Dimension::ALL {
        let (rows, total) = snapshots
            .rows(file.id, dimension, offset, limit)
            .await
            .map_err(ApiError::internal)?;
        *match dimension {
            Dimension::Artist => &mut counts.by_artist,
            Dimension::Dsp => &mut counts.by_dsp,
            Dimension::Territory => &mut counts.by_territory,
            Dimension::Track => &mut counts.by_track,
            Dimension::Release => &mut counts.by_release,
        } = total;
        lists.push(rows.into_iter().map(GroupOut::from).collect::<Vec<_>>());
    }
    let mut lists = lists.into_iter();
    let mut next = || lists.next().unwrap_or_default();
    Ok(web::Json(SnapshotOut {
        file: file.id,
        currency: totals.currency,
        base_currency: totals.base_currency,
        reporting_period: totals.period,
        lines: totals.lines,
        total_revenue: totals.revenue.to_string(),
        total_base_revenue: totals.base_revenue.to_string(),
        total_quantity: totals.quantity,
        by_artist: next(),
        by_dsp: next(),
        by_territory: next(),
        by_track: next(),
        by_release: next(),
        counts,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryOut {
    /// Files processed.
    pub files: i64,
    pub artists: i64,
    pub releases: i64,
    pub tracks: i64,
    /// Total gross in the organisation's base currency, exact.
    #[schema(example = "15230.55")]
    pub total_gross: String,
}

/// The active organisation's figures across every processed file.
#[utoipa::path(
    tag = "files",
    security(("api_key" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The summary", body = SummaryOut),
        (status = 400, description = "No active organisation", body = ErrorBody),
    ),
)]
#[get("/api/sales/summary/")]
pub async fn sales_summary(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<web::Json<SummaryOut>, ApiError> {
    let organisation = auth
        .user
        .active_organisation_id
        .ok_or_else(|| ApiError::bad_request("Make an organisation active first."))?;
    let org = access::require(&state, &auth, organisation, Permission::View)
        .await?
        .organisation;
    let summary = state
        .snapshots
        .summary(org.id)
        .await
        .map_err(ApiError::internal)?;
    Ok(web::Json(SummaryOut {
        files: summary.files,
        artists: summary.artists,
        releases: summary.releases,
        tracks: summary.tracks,
        total_gross: summary.total_gross.to_string(),
    }))
}
