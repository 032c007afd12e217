//! Statements of account: asked for by period (every contract of the
//! organisation, some, or a sales statement of one artist or label),
//! calculated by the statement module as DRAFTs, approved (locked, and
//! what the next period opens from), corrected by a new statement that
//! supersedes an approved one, and sent to their payees.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{NaiveDateTime, Utc};
use oas_db::contracts::Contract;
use oas_db::organisations::Organisation;
use oas_db::statements::{
    APPROVED, AccountOf, DRAFT, FAILED, NewStatement, PENDING, SENT, StatementChange,
    StatementFilter, StatementRecord,
};
use oas_domain::access::Permission;
use oas_domain::job::contract::report::By;
use oas_domain::money::Amount;
use oas_domain::statement::ContractTerms;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::access;
use crate::auth::Authenticated;
use crate::http::error::ErrorBody;
use crate::http::pagination::{Page, PageQuery, Pagination};
use crate::http::time::{utc, utc_opt};
use crate::http::{ApiError, ApiJson};
use crate::routes::catalog::{OrganisationQuery, files_named, months, organisation_for};
use crate::routes::reports::{Selection, names, select, still_busy};
use crate::state::AppState;
use crate::workflows::statements::{self as workflow, SendError};

/// Ask for the statements of a period.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct StatementRequest {
    /// The first month, YYYY-MM.
    #[schema(example = "2026-01", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub period_from: String,
    /// The last month, YYYY-MM; `period_from` by default.
    #[schema(example = "2026-03", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub period_to: Option<String>,
    /// The contracts to state; every contract of the organisation by
    /// default.
    #[schema(min_items = 1)]
    pub contracts: Option<Vec<i64>>,
    /// A sales statement of this artist (every line of theirs at 100%, no
    /// contract).
    #[validate(length(min = 1, max = 200))]
    pub artist: Option<String>,
    /// A sales statement of this label.
    #[validate(length(min = 1, max = 200))]
    pub label: Option<String>,
}

/// What a correction changes of the statement it supersedes.
#[derive(Debug, Serialize, ToSchema)]
pub struct Difference {
    pub earnings: String,
    pub closing_balance: String,
    pub payable: String,
}

/// What a statement recouped of one cost.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoupedOut {
    pub cost: i64,
    pub amount: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatementOut {
    pub id: i64,
    /// The payee (none for a sales statement).
    pub payee: Option<i64>,
    pub contract: Option<i64>,
    pub contract_version: Option<i64>,
    /// A sales statement's artist or label: `artist:<name>`, `label:<name>`.
    pub subject: Option<String>,
    pub period_from: String,
    pub period_to: String,
    /// ISO 4217: the contract's currency (the base currency for a sales
    /// statement).
    pub currency: String,
    /// PENDING (being calculated), DRAFT, APPROVED, SENT or FAILED.
    pub status: String,
    /// Why it failed, or what it leaves out (lines in scope not matched,
    /// claimed twice, without a term or a rate), or what it corrects.
    pub status_cause: Option<String>,
    /// Exact decimal text in `currency`, whole minor units.
    pub opening_balance: Option<String>,
    pub earnings: Option<String>,
    pub costs_recouped: Option<String>,
    pub closing_balance: Option<String>,
    pub payable: Option<String>,
    pub carried_forward: Option<String>,
    /// Base-currency revenue of lines in scope but not matched to the
    /// catalog: not counted.
    pub unattributed: Option<String>,
    /// Lines of the CSV.
    pub lines: Option<i64>,
    /// The approved statement this one corrects, and by how much.
    pub supersedes: Option<i64>,
    pub difference: Option<Difference>,
    pub recouped: Vec<RecoupedOut>,
    /// Links to the files (valid 24 hours; a fresh pair on each read).
    pub pdf_url: Option<String>,
    pub csv_url: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<chrono::DateTime<Utc>>,
    /// The run calculating it.
    pub job: Option<String>,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub approved_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<NaiveDateTime>,
}

impl From<StatementRecord> for StatementOut {
    fn from(s: StatementRecord) -> Self {
        Self {
            id: s.id,
            payee: s.payee_id,
            contract: s.contract_id,
            contract_version: s.contract_version,
            subject: s.subject,
            period_from: s.period_from,
            period_to: s.period_to,
            currency: s.currency,
            status: s.status,
            status_cause: s.status_cause,
            opening_balance: s.opening_balance,
            earnings: s.earnings,
            costs_recouped: s.costs_recouped,
            closing_balance: s.closing_balance,
            payable: s.payable,
            carried_forward: s.carried_forward,
            unattributed: s.unattributed,
            lines: s.line_count,
            supersedes: s.supersedes,
            difference: None,
            recouped: Vec::new(),
            pdf_url: None,
            csv_url: None,
            expires_at: None,
            job: s.job_id,
            created_at: s.created_at,
            approved_at: s.approved_at,
            sent_at: s.sent_at,
        }
    }
}

/// `now − then` of two stored amounts.
fn change(now: Option<&str>, then: Option<&str>) -> Option<String> {
    let now = Amount::parse_total(now?).ok()?;
    let then = Amount::parse_total(then?).ok()?;
    Some((now + -then).to_string())
}

/// A statement as one read shows it: with what it recouped, what it
/// corrects and fresh links to its files.
async fn shown(state: &AppState, statement: StatementRecord) -> Result<StatementOut, ApiError> {
    let (id, corrected) = (statement.id, statement.supersedes);
    let (recouped, superseded) = state
        .db
        .run(move |conn| {
            let recouped = StatementRecord::recoupments(conn, id)?;
            let superseded = corrected
                .map(|id| StatementRecord::find(conn, id))
                .transpose()?;
            Ok::<_, oas_db::DbError>((recouped, superseded))
        })
        .await?;
    let links = match statement.status.as_str() {
        DRAFT | APPROVED | SENT => workflow::links(state, &statement).await?,
        _ => None,
    };
    let difference = superseded
        .filter(|_| statement.earnings.is_some())
        .map(|old| Difference {
            earnings: change(statement.earnings.as_deref(), old.earnings.as_deref())
                .unwrap_or_default(),
            closing_balance: change(
                statement.closing_balance.as_deref(),
                old.closing_balance.as_deref(),
            )
            .unwrap_or_default(),
            payable: change(statement.payable.as_deref(), old.payable.as_deref())
                .unwrap_or_default(),
        });
    let mut out = StatementOut::from(statement);
    out.difference = difference;
    out.recouped = recouped
        .into_iter()
        .map(|r| RecoupedOut {
            cost: r.cost_id,
            amount: r.amount,
        })
        .collect();
    if let Some(links) = links {
        out.pdf_url = Some(links.pdf);
        out.csv_url = Some(links.csv);
        out.expires_at = Some(links.expires_at);
    }
    Ok(out)
}

/// Statements asked for: what runs, and what the period leaves out.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementsStarted {
    pub statements: Vec<StatementOut>,
    /// The run calculating them.
    pub job: String,
    /// Files of the period not read, and why.
    pub notes: Vec<String>,
}

/// One account to state, as the request names it.
enum Wanted {
    Payee {
        contract: i64,
        version: i64,
        payee: i64,
        currency: String,
    },
    Subject {
        subject: String,
        currency: String,
    },
}

/// Ask for the statements of a period: one per contract and payee (every
/// contract of the organisation, or those named), or a sales statement of
/// an artist or a label. Each is calculated by the statement module as a
/// DRAFT; a draft of the same period is recalculated, and an approved one
/// is corrected by a new statement that supersedes it.
#[utoipa::path(
    tag = "statements",
    security(("api_key" = []), ("bearer" = [])),
    params(OrganisationQuery),
    request_body = StatementRequest,
    responses(
        (status = 202, description = "Asked for: follow each at /api/statements/{id}/", body = StatementsStarted),
        (status = 400, description = "A malformed period, both contracts and a subject, or no organisation given or active", body = ErrorBody),
        (status = 403, description = "The caller's role may not ask for statements", body = ErrorBody),
        (status = 404, description = "No such organisation, or a contract not of it", body = ErrorBody),
        (status = 409, description = "No contract to state, a statement of the period being calculated, or months already stated by an approved statement of another period", body = ErrorBody),
    ),
)]
#[post("/api/statements/")]
pub async fn create_statements(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<OrganisationQuery>,
    body: ApiJson<StatementRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let from = request.period_from.clone();
    let to = request
        .period_to
        .clone()
        .unwrap_or_else(|| request.period_from.clone());
    months(&Some(from.clone()), &Some(to.clone()))?;
    let subject = match (&request.artist, &request.label) {
        (Some(_), Some(_)) => {
            return Err(ApiError::field(
                "label",
                "A sales statement is of an artist or of a label, not both.",
            ));
        }
        (Some(artist), None) => Some(format!("artist:{}", artist.trim())),
        (None, Some(label)) => Some(format!("label:{}", label.trim())),
        (None, None) => None,
    };
    if subject.is_some() && request.contracts.is_some() {
        return Err(ApiError::field(
            "contracts",
            "Name contracts, or an artist or label for a sales statement, not both.",
        ));
    }
    if subject.as_deref().is_some_and(|s| s.ends_with(':')) {
        return Err(ApiError::field("artist", "A name, not only spaces."));
    }
    if request.contracts.as_ref().is_some_and(Vec::is_empty) {
        return Err(ApiError::field(
            "contracts",
            "Name at least one contract, or leave it out for every contract.",
        ));
    }
    let org =
        organisation_for(&state, &auth, query.organisation, Permission::CreateReports).await?;

    let named = request.contracts.clone();
    let (base, contracts) = state
        .db
        .run(move |conn| {
            let base = Organisation::find(conn, org)?.base_currency;
            Ok::<_, oas_db::DbError>((base, Contract::current(conn, org)?))
        })
        .await?;
    let mut wanted = Vec::new();
    if let Some(subject) = subject {
        wanted.push(Wanted::Subject {
            subject,
            currency: base.clone(),
        });
    } else {
        if let Some(named) = &named
            && let Some(missing) = named
                .iter()
                .find(|id| !contracts.iter().any(|(c, _)| c.id == **id))
        {
            return Err(ApiError::new(
                crate::http::error::ErrorCode::NotFound,
                format!("Contract {missing} is not one of the organisation's."),
            ));
        }
        for (contract, version) in &contracts {
            if named.as_ref().is_some_and(|n| !n.contains(&contract.id)) {
                continue;
            }
            let terms: ContractTerms =
                serde_json::from_str(&version.body).map_err(ApiError::internal)?;
            for payee in &terms.payees {
                wanted.push(Wanted::Payee {
                    contract: contract.id,
                    version: contract.version,
                    payee: payee.payee,
                    currency: terms.currency.clone(),
                });
            }
        }
        if wanted.is_empty() {
            return Err(ApiError::conflict(
                "The organisation has no contract to state: add one at /api/contracts/, or ask for a sales statement of an artist or a label.",
            ));
        }
    }

    // The statements: a draft (or a failed one) of the same period is
    // calculated again, an approved one corrected by a new statement.
    let created_by = auth.user.id;
    let (period_from, period_to) = (from.clone(), to.clone());
    let records = state
        .db
        .transaction(move |conn| {
            {
                let now = Utc::now().naive_utc();
                // Checked before anything is written: a refusal writes
                // nothing.
                let mut accounts = Vec::new();
                for want in &wanted {
                    let (account, contract_id, version, payee_id, subject, currency) = match want {
                        Wanted::Payee {
                            contract,
                            version,
                            payee,
                            currency,
                        } => {
                            if let Some(stated) = StatementRecord::overlapping_approved(
                                conn,
                                *contract,
                                *payee,
                                &period_from,
                                &period_to,
                            )? {
                                return Ok(Err(format!(
                                    "Statement {} of payee {payee} under contract {contract} ({} to {}) is approved and holds some of these months: ask for its period, or one outside it.",
                                    stated.id, stated.period_from, stated.period_to
                                )));
                            }
                            (
                                AccountOf::Payee {
                                    contract: *contract,
                                    payee: *payee,
                                },
                                Some(*contract),
                                Some(*version),
                                Some(*payee),
                                None,
                                currency.as_str(),
                            )
                        }
                        Wanted::Subject { subject, currency } => (
                            AccountOf::Subject(subject),
                            None,
                            None,
                            None,
                            Some(subject.as_str()),
                            currency.as_str(),
                        ),
                    };
                    let existing =
                        StatementRecord::of_account(conn, org, &account, &period_from, &period_to)?;
                    let latest = existing.into_iter().next();
                    if let Some(busy) = latest.as_ref().filter(|s| s.status == PENDING) {
                        return Ok(Err(format!(
                            "Statement {} of this period is being calculated: wait for it, then ask again.",
                            busy.id
                        )));
                    }
                    accounts.push((latest, contract_id, version, payee_id, subject, currency));
                }
                let mut records = Vec::new();
                for (latest, contract_id, version, payee_id, subject, currency) in accounts {
                    let latest = latest.as_ref();
                    if let Some(draft) =
                        latest.filter(|s| s.status == DRAFT || s.status == FAILED)
                    {
                        let again = StatementChange {
                            status: Some(PENDING.to_owned()),
                            status_cause: Some(None),
                            contract_version: Some(version),
                            job_id: Some(None),
                            updated_at: Some(now),
                            ..Default::default()
                        };
                        StatementRecord::transition(conn, draft.id, &draft.status, &again)?;
                        records.push(StatementRecord::find(conn, draft.id)?);
                        continue;
                    }
                    let supersedes = latest
                        .filter(|s| s.status == APPROVED || s.status == SENT)
                        .map(|s| s.id);
                    records.push(StatementRecord::insert(
                        conn,
                        &NewStatement {
                            organisation_id: org,
                            contract_id,
                            contract_version: version,
                            payee_id,
                            subject,
                            period_from: &period_from,
                            period_to: &period_to,
                            currency,
                            status: PENDING,
                            supersedes,
                            created_by: Some(created_by),
                            created_at: now,
                            updated_at: now,
                        },
                    )?);
                }
                Ok::<_, oas_db::DbError>(Ok(records))
            }
        })
        .await?
        .map_err(ApiError::conflict)?;

    // The lines they are calculated from: the period's processed files,
    // by the month each line was reported in.
    let candidates = files_named(&state, org, None).await?;
    let Selection {
        sources,
        unimported,
        undated,
        ..
    } = select(&state, candidates, By::Reporting, &from, &to).await?;
    let busy = still_busy(&state, org, &from, &to).await?;
    let mut notes = Vec::new();
    if !busy.is_empty() {
        notes.push(format!(
            "{} file(s) of the period are still being processed and are not counted: {}. Ask again once they are processed to recalculate the drafts.",
            busy.len(),
            names(&busy)
        ));
    }
    if !unimported.is_empty() {
        notes.push(format!(
            "{} processed file(s) have no imported lines to read and are not counted: {}. Reimport them.",
            unimported.len(),
            names(&unimported)
        ));
    }
    if !undated.is_empty() {
        notes.push(format!(
            "{} processed file(s) say no month, so no period's statement holds their lines: {}.",
            undated.len(),
            names(&undated)
        ));
    }
    let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
    let job = match workflow::start(&state, org, ids.clone(), &from, &to, sources).await {
        Ok(job) => job,
        Err(e) => {
            workflow::fail_pending(
                &state,
                ids,
                format!("The statements could not be started: {e}."),
            )
            .await?;
            return Err(e.into());
        }
    };
    let statements = records
        .into_iter()
        .map(|r| {
            let mut out = StatementOut::from(r);
            out.job = Some(job.id.clone());
            out
        })
        .collect();
    Ok(HttpResponse::Accepted().json(StatementsStarted {
        statements,
        job: job.id,
        notes,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementsQuery {
    /// The organisation; the caller's active one by default.
    pub organisation: Option<i64>,
    /// Statements of this payee.
    pub payee: Option<i64>,
    /// Statements under this contract.
    pub contract: Option<i64>,
    /// Statements whose period holds this month, YYYY-MM.
    #[param(value_type = Option<String>, pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2026-01")]
    pub period: Option<String>,
    /// PENDING, DRAFT, APPROVED, SENT or FAILED.
    #[param(value_type = Option<String>, pattern = "^(PENDING|DRAFT|APPROVED|SENT|FAILED)$")]
    pub status: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
}

const STATUSES: [&str; 5] = [PENDING, DRAFT, APPROVED, SENT, FAILED];

/// The organisation's statements, newest first.
#[utoipa::path(
    tag = "statements",
    security(("api_key" = []), ("bearer" = [])),
    params(StatementsQuery),
    responses(
        (status = 200, description = "A page of statements", body = Page<StatementOut>),
        (status = 400, description = "A bad filter or page, or no organisation given or active", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's, or no such page", body = ErrorBody),
    ),
)]
#[get("/api/statements/")]
pub async fn list_statements(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<StatementsQuery>,
) -> Result<web::Json<Page<StatementOut>>, ApiError> {
    let query = query.into_inner();
    if let Some(status) = &query.status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(ApiError::field(
            "status",
            "One of PENDING, DRAFT, APPROVED, SENT, FAILED.",
        ));
    }
    months(&query.period, &None)?;
    let org = organisation_for(&state, &auth, query.organisation, Permission::View).await?;
    let pagination = Pagination::new(
        &PageQuery {
            page: query.page,
            page_size: query.page_size,
        },
        &state.settings,
    )?;
    let (offset, limit) = (pagination.offset(), pagination.limit());
    let filter = StatementFilter {
        payee: query.payee,
        contract: query.contract,
        status: query.status,
        period: query.period,
    };
    let (rows, total) = state
        .db
        .run(move |conn| StatementRecord::page(conn, org, &filter, offset, limit))
        .await?;
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        total as u64,
        rows.into_iter().map(StatementOut::from).collect(),
    )?))
}

/// The statement of the caller's organisations with this id.
async fn statement_for(
    state: &AppState,
    auth: &Authenticated,
    id: i64,
    permission: Permission,
) -> Result<StatementRecord, ApiError> {
    let statement = state
        .db
        .run(move |conn| StatementRecord::find(conn, id))
        .await?;
    access::require_for_object(state, auth, statement.organisation_id, permission).await?;
    Ok(statement)
}

/// One statement: its figures, what it recouped, what it corrects, and
/// links to its PDF and CSV (valid 24 hours, fresh on each read).
#[utoipa::path(
    tag = "statements",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Statement id")),
    responses(
        (status = 200, description = "The statement", body = StatementOut),
        (status = 404, description = "No such statement of the caller's organisations", body = ErrorBody),
    ),
)]
#[get("/api/statements/{id}/")]
pub async fn get_statement(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<StatementOut>, ApiError> {
    let statement = statement_for(&state, &auth, *id, Permission::View).await?;
    Ok(web::Json(shown(&state, statement).await?))
}

/// Approve a DRAFT statement: it is locked (nothing recalculated later
/// changes it) and the next period of its payee's account opens from it.
#[utoipa::path(
    tag = "statements",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Statement id")),
    responses(
        (status = 200, description = "Approved", body = StatementOut),
        (status = 403, description = "The caller's role may not approve statements", body = ErrorBody),
        (status = 404, description = "No such statement of the caller's organisations", body = ErrorBody),
        (status = 409, description = "The statement is not a DRAFT", body = ErrorBody),
    ),
)]
#[post("/api/statements/{id}/approve/")]
pub async fn approve_statement(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<StatementOut>, ApiError> {
    let statement = statement_for(&state, &auth, *id, Permission::CreateReports).await?;
    let id = statement.id;
    let now = Utc::now().naive_utc();
    let approve = StatementChange {
        status: Some(APPROVED.to_owned()),
        approved_at: Some(Some(now)),
        updated_at: Some(now),
        ..Default::default()
    };
    let approved = state
        .db
        .run(move |conn| StatementRecord::transition(conn, id, DRAFT, &approve))
        .await?;
    if !approved {
        return Err(ApiError::conflict(format!(
            "The statement is {}: only a DRAFT is approved.",
            statement.status
        )));
    }
    let statement = state
        .db
        .run(move |conn| StatementRecord::find(conn, id))
        .await?;
    Ok(web::Json(shown(&state, statement).await?))
}

/// Email the payee of an approved statement links to its PDF and CSV
/// (valid 24 hours); a sent statement can be sent again with fresh links.
#[utoipa::path(
    tag = "statements",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Statement id")),
    responses(
        (status = 200, description = "Sent", body = StatementOut),
        (status = 403, description = "The caller's role may not send statements", body = ErrorBody),
        (status = 404, description = "No such statement of the caller's organisations", body = ErrorBody),
        (status = 409, description = "Not approved, a sales statement (no payee), or a payee without an email address", body = ErrorBody),
        (status = 503, description = "The mail server cannot be reached: send it again later", body = ErrorBody),
    ),
)]
#[post("/api/statements/{id}/send/")]
pub async fn send_statement(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<StatementOut>, ApiError> {
    let statement = statement_for(&state, &auth, *id, Permission::CreateReports).await?;
    if statement.status != APPROVED && statement.status != SENT {
        return Err(ApiError::conflict(format!(
            "The statement is {}: approve it before sending it.",
            statement.status
        )));
    }
    match workflow::send(&state, &statement).await {
        Ok(()) => {}
        Err(SendError::Failed(e)) => return Err(e.into()),
        Err(other) => return Err(ApiError::conflict(other.to_string())),
    }
    let id = statement.id;
    let statement = state
        .db
        .run(move |conn| StatementRecord::find(conn, id))
        .await?;
    Ok(web::Json(shown(&state, statement).await?))
}
