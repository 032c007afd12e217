//! Royalty contracts: payees and their shares, the catalog they cover,
//! the rates they pay, a minimum payout and a currency; each change a new
//! version. And the advances and costs recouped from a contract's
//! earnings.

use std::collections::BTreeSet;

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{NaiveDateTime, Utc};
use oas_db::contracts::{Contract, ContractCost, ContractVersion, NewContractCost};
use oas_db::organisations::Organisation;
use oas_db::payees::Payee;
use oas_domain::access::Permission;
use oas_domain::money::{Amount, CurrencyCode};
use oas_domain::statement::{
    Basis, ContractTerms, PayeeShare, Scope, ScopeKind, Term, check_rate, check_shares,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::access;
use crate::auth::Authenticated;
use crate::http::error::{ErrorBody, FieldErrors};
use crate::http::pagination::{Page, PageQuery, Pagination};
use crate::http::time::utc;
use crate::http::{ApiError, ApiJson};
use crate::routes::catalog::organisation_for;
use crate::routes::payees::OrganisationOnly;
use crate::state::AppState;

/// A payee's share of a contract.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayeeShareIo {
    /// The payee's id.
    pub payee: i64,
    /// More than 0, at most 1, as exact decimal text; a contract's shares
    /// add up to exactly 1.
    #[schema(example = "0.5", pattern = r"^(0(\.[0-9]+)?|1(\.0+)?)$")]
    pub share: String,
}

/// What the contract covers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeIo {
    /// `artist`, `label`, `release` (by UPC) or `track` (by ISRC).
    #[schema(example = "artist", pattern = "^(artist|label|release|track)$")]
    pub kind: String,
    #[schema(example = "Ana Lima", min_length = 1, max_length = 500)]
    pub value: String,
}

/// A rate for the lines of some stores, territories and sale types (any,
/// when a list is absent or empty).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermIo {
    #[serde(default)]
    pub dsps: Vec<String>,
    /// ISO 3166 alpha-2 codes.
    #[serde(default)]
    pub territories: Vec<String>,
    #[serde(default)]
    pub sale_types: Vec<String>,
    /// `net` (the default) or `gross`.
    #[schema(example = "net", pattern = "^(net|gross)$")]
    pub basis: Option<String>,
    /// From 0 to 1, as exact decimal text.
    #[schema(example = "0.2", pattern = r"^(0(\.[0-9]+)?|1(\.0+)?)$")]
    pub rate: String,
}

/// A contract to make, or what changes in one (fields left out stay).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractIn {
    #[schema(
        example = "Ana Lima – recording agreement",
        min_length = 1,
        max_length = 200
    )]
    pub name: Option<String>,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_items = 1, max_items = 100)]
    pub payees: Option<Vec<PayeeShareIo>>,
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_items = 1, max_items = 1000)]
    pub scope: Option<Vec<ScopeIo>>,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_items = 1, max_items = 100)]
    pub terms: Option<Vec<TermIo>>,
    /// Exact decimal text in the contract's currency; 0 by default.
    #[schema(example = "50")]
    pub min_payout: Option<String>,
    /// ISO 4217; the organisation's base currency by default.
    #[schema(example = "EUR", pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContractOut {
    pub id: i64,
    pub name: String,
    pub payees: Vec<PayeeShareIo>,
    pub scope: Vec<ScopeIo>,
    pub terms: Vec<TermIo>,
    pub min_payout: String,
    pub currency: String,
    /// Each change makes a new version; statements name the one they used.
    pub version: i64,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

fn out(contract: Contract, version: &ContractVersion) -> Result<ContractOut, ApiError> {
    let terms: ContractTerms = serde_json::from_str(&version.body).map_err(ApiError::internal)?;
    Ok(ContractOut {
        id: contract.id,
        name: contract.name,
        payees: terms
            .payees
            .iter()
            .map(|p| PayeeShareIo {
                payee: p.payee,
                share: p.share.normalize().to_string(),
            })
            .collect(),
        scope: terms
            .scope
            .iter()
            .map(|s| ScopeIo {
                kind: s.kind.as_str().to_owned(),
                value: s.value.clone(),
            })
            .collect(),
        terms: terms
            .terms
            .iter()
            .map(|t| TermIo {
                dsps: t.dsps.clone(),
                territories: t.territories.clone(),
                sale_types: t.sale_types.clone(),
                basis: Some(
                    match t.basis {
                        Basis::Net => "net",
                        Basis::Gross => "gross",
                    }
                    .to_owned(),
                ),
                rate: t.rate.normalize().to_string(),
            })
            .collect(),
        min_payout: terms.min_payout.to_string(),
        currency: terms.currency,
        version: contract.version,
        created_at: contract.created_at,
        updated_at: contract.updated_at,
    })
}

fn add(errors: &mut FieldErrors, field: &str, message: impl Into<String>) {
    errors
        .entry(field.to_owned())
        .or_default()
        .push(message.into());
}

fn decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    text.parse().ok()
}

/// The contract's name and terms from `body` over `current` (a change),
/// checked: every error named by its field. `payees` are the
/// organisation's payee ids.
fn terms_of(
    body: ContractIn,
    current: Option<(&str, &ContractTerms)>,
    payees: &BTreeSet<i64>,
    base_currency: &str,
) -> Result<(String, ContractTerms), ApiError> {
    let mut errors = FieldErrors::new();
    let name = match (body.name, current) {
        (Some(name), _) => {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 200 {
                add(&mut errors, "name", "From 1 to 200 characters.");
            }
            name
        }
        (None, Some((name, _))) => name.to_owned(),
        (None, None) => {
            add(&mut errors, "name", "This field is required.");
            String::new()
        }
    };
    let currency = match (body.currency, current) {
        (Some(code), _) => match CurrencyCode::parse(&code) {
            Ok(code) => code.code().to_owned(),
            Err(e) => {
                add(&mut errors, "currency", e.0);
                String::new()
            }
        },
        (None, Some((_, terms))) => terms.currency.clone(),
        (None, None) => base_currency.to_owned(),
    };
    let min_payout = match (body.min_payout, current) {
        (Some(text), _) => match Amount::parse(&text) {
            Ok(amount) if !amount.is_negative() => amount,
            _ => {
                add(
                    &mut errors,
                    "min_payout",
                    "An amount of 0 or more, as decimal text.",
                );
                Amount::ZERO
            }
        },
        (None, Some((_, terms))) => terms.min_payout,
        (None, None) => Amount::ZERO,
    };
    let shares: Vec<PayeeShare> = match (body.payees, current) {
        (Some(given), _) => {
            let mut shares = Vec::new();
            let mut seen = BTreeSet::new();
            for p in given {
                if !payees.contains(&p.payee) {
                    add(
                        &mut errors,
                        "payees",
                        format!("No payee {} in the organisation.", p.payee),
                    );
                }
                if !seen.insert(p.payee) {
                    add(
                        &mut errors,
                        "payees",
                        format!("Payee {} is named twice.", p.payee),
                    );
                }
                match decimal(&p.share) {
                    Some(share) => shares.push(PayeeShare {
                        payee: p.payee,
                        share,
                    }),
                    None => add(
                        &mut errors,
                        "payees",
                        format!("{:?} is not a share.", p.share),
                    ),
                }
            }
            if let Err(e) = check_shares(&shares.iter().map(|s| s.share).collect::<Vec<_>>()) {
                add(&mut errors, "payees", e.to_string());
            }
            shares
        }
        (None, Some((_, terms))) => terms.payees.clone(),
        (None, None) => {
            add(&mut errors, "payees", "This field is required.");
            Vec::new()
        }
    };
    let scope: Vec<Scope> = match (body.scope, current) {
        (Some(given), _) => {
            if given.is_empty() {
                add(&mut errors, "scope", "Name what the contract covers.");
            }
            let mut scope = Vec::new();
            for s in given {
                let Some(kind) = ScopeKind::ALL.into_iter().find(|k| k.as_str() == s.kind) else {
                    add(
                        &mut errors,
                        "scope",
                        format!("{:?} is not artist, label, release or track.", s.kind),
                    );
                    continue;
                };
                let value = match kind {
                    ScopeKind::Track => oas_sales::ids::isrc(&s.value),
                    ScopeKind::Release => oas_sales::ids::upc(&s.value),
                    ScopeKind::Artist | ScopeKind::Label => {
                        let value = s.value.trim();
                        (!value.is_empty() && value.chars().count() <= 500)
                            .then(|| value.to_owned())
                    }
                };
                match value {
                    Some(value) => scope.push(Scope { kind, value }),
                    None => add(
                        &mut errors,
                        "scope",
                        format!(
                            "{:?} is not a valid {}.",
                            s.value,
                            match kind {
                                ScopeKind::Track => "ISRC",
                                ScopeKind::Release => "UPC or EAN",
                                _ => "name",
                            }
                        ),
                    ),
                }
            }
            scope
        }
        (None, Some((_, terms))) => terms.scope.clone(),
        (None, None) => {
            add(&mut errors, "scope", "This field is required.");
            Vec::new()
        }
    };
    let terms: Vec<Term> = match (body.terms, current) {
        (Some(given), _) => {
            if given.is_empty() {
                add(&mut errors, "terms", "A contract has at least one rate.");
            }
            let mut terms = Vec::new();
            for t in given {
                let basis = match t.basis.as_deref() {
                    None | Some("net") => Basis::Net,
                    Some("gross") => Basis::Gross,
                    Some(other) => {
                        add(
                            &mut errors,
                            "terms",
                            format!("{other:?} is not net or gross."),
                        );
                        Basis::Net
                    }
                };
                let Some(rate) = decimal(&t.rate) else {
                    add(&mut errors, "terms", format!("{:?} is not a rate.", t.rate));
                    continue;
                };
                if let Err(e) = check_rate(rate) {
                    add(&mut errors, "terms", e.to_string());
                }
                let clean = |list: Vec<String>| -> Vec<String> {
                    list.into_iter()
                        .map(|v| v.trim().to_owned())
                        .filter(|v| !v.is_empty())
                        .collect()
                };
                terms.push(Term {
                    dsps: clean(t.dsps),
                    territories: clean(t.territories)
                        .into_iter()
                        .map(|v| v.to_ascii_uppercase())
                        .collect(),
                    sale_types: clean(t.sale_types),
                    basis,
                    rate,
                });
            }
            terms
        }
        (None, Some((_, terms))) => terms.terms.clone(),
        (None, None) => {
            add(&mut errors, "terms", "This field is required.");
            Vec::new()
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok((
        name,
        ContractTerms {
            currency,
            min_payout,
            payees: shares,
            scope,
            terms,
        },
    ))
}

/// The organisation's payee ids and base currency.
async fn payees_and_base(state: &AppState, org: i64) -> Result<(BTreeSet<i64>, String), ApiError> {
    Ok(state
        .db
        .run(move |conn| {
            let base = Organisation::find(conn, org)?.base_currency;
            let (payees, _) = Payee::page(conn, org, None, 0, i64::MAX)?;
            Ok::<_, oas_db::DbError>((payees.into_iter().map(|p| p.id).collect(), base))
        })
        .await?)
}

/// Make a contract (version 1).
#[utoipa::path(
    tag = "statements",
    security(("api_key" = []), ("bearer" = [])),
    params(OrganisationOnly),
    request_body = ContractIn,
    responses(
        (status = 201, description = "Made", body = ContractOut),
        (status = 400, description = "Invalid input: shares not adding up to 1, a rate outside 0 to 1, an unknown payee…", body = ErrorBody),
        (status = 403, description = "The caller's role may not manage statements", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's", body = ErrorBody),
    ),
)]
#[post("/api/contracts/")]
pub async fn create_contract(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<OrganisationOnly>,
    body: ApiJson<ContractIn>,
) -> Result<HttpResponse, ApiError> {
    let org =
        organisation_for(&state, &auth, query.organisation, Permission::CreateReports).await?;
    let (payees, base) = payees_and_base(&state, org).await?;
    let (name, terms) = terms_of(body.0, None, &payees, &base)?;
    let json = serde_json::to_string(&terms).map_err(ApiError::internal)?;
    let by = auth.user.id;
    let (contract, version) = state
        .db
        .run(move |conn| {
            Contract::insert(conn, org, &name, &json, Some(by), Utc::now().naive_utc())
        })
        .await?;
    Ok(HttpResponse::Created().json(out(contract, &version)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContractsQuery {
    /// The organisation; the caller's active one by default.
    pub organisation: Option<i64>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
}

/// The organisation's contracts, by name, each at its current version.
#[utoipa::path(
    tag = "statements",
    security(("api_key" = []), ("bearer" = [])),
    params(ContractsQuery),
    responses(
        (status = 200, description = "A page of contracts", body = Page<ContractOut>),
        (status = 400, description = "A bad page, or no organisation given or active", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's, or no such page", body = ErrorBody),
    ),
)]
#[get("/api/contracts/")]
pub async fn list_contracts(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<ContractsQuery>,
) -> Result<web::Json<Page<ContractOut>>, ApiError> {
    let ContractsQuery {
        organisation,
        page,
        page_size,
    } = query.into_inner();
    let org = organisation_for(&state, &auth, organisation, Permission::View).await?;
    let pagination = Pagination::new(&PageQuery { page, page_size }, &state.settings)?;
    let (offset, limit) = (pagination.offset(), pagination.limit());
    let (rows, total) = state
        .db
        .run(move |conn| Contract::page(conn, org, offset, limit))
        .await?;
    let results = rows
        .into_iter()
        .map(|(c, v)| out(c, &v))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        total as u64,
        results,
    )?))
}

/// The contract of the caller's organisations with this id, at its
/// current version.
async fn contract_for(
    state: &AppState,
    auth: &Authenticated,
    id: i64,
    permission: Permission,
) -> Result<(Contract, ContractVersion), ApiError> {
    let (contract, version) = state
        .db
        .run(move |conn| {
            let contract = Contract::find(conn, id)?;
            let version = Contract::version(conn, id, contract.version)?;
            Ok::<_, oas_db::DbError>((contract, version))
        })
        .await?;
    access::require_for_object(state, auth, contract.organisation_id, permission).await?;
    Ok((contract, version))
}

/// One contract, at its current version.
#[utoipa::path(
    tag = "statements",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Contract id")),
    responses(
        (status = 200, description = "The contract", body = ContractOut),
        (status = 404, description = "No such contract of the caller's organisations", body = ErrorBody),
    ),
)]
#[get("/api/contracts/{id}/")]
pub async fn get_contract(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<ContractOut>, ApiError> {
    let (contract, version) = contract_for(&state, &auth, *id, Permission::View).await?;
    Ok(web::Json(out(contract, &version)?))
}

/// Change a contract: the fields given replace the current version's, in
/// a new version (statements made before keep naming theirs).
#[utoipa::path(
    tag = "statements",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Contract id")),
    request_body = ContractIn,
    responses(
        (status = 200, description = "Changed: the new version", body = ContractOut),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 403, description = "The caller's role may not manage statements", body = ErrorBody),
        (status = 404, description = "No such contract of the caller's organisations", body = ErrorBody),
        (status = 409, description = "Changed by someone else meanwhile", body = ErrorBody),
    ),
)]
#[patch("/api/contracts/{id}/")]
pub async fn update_contract(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ApiJson<ContractIn>,
) -> Result<web::Json<ContractOut>, ApiError> {
    let (contract, version) = contract_for(&state, &auth, *id, Permission::CreateReports).await?;
    let current: ContractTerms = serde_json::from_str(&version.body).map_err(ApiError::internal)?;
    let (payees, base) = payees_and_base(&state, contract.organisation_id).await?;
    let (name, terms) = terms_of(body.0, Some((&contract.name, &current)), &payees, &base)?;
    if name == contract.name && terms == current {
        return Ok(web::Json(out(contract, &version)?));
    }
    let json = serde_json::to_string(&terms).map_err(ApiError::internal)?;
    let (id, from, by) = (contract.id, contract.version, auth.user.id);
    let (contract, version) = state
        .db
        .run(move |conn| {
            Contract::revise(
                conn,
                id,
                from,
                &name,
                &json,
                Some(by),
                Utc::now().naive_utc(),
            )
        })
        .await?;
    Ok(web::Json(out(contract, &version)?))
}

/// An advance or a cost against a contract.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CostIn {
    /// `advance` or `cost`.
    #[schema(example = "advance", pattern = "^(advance|cost)$")]
    pub kind: String,
    #[schema(example = "Signing advance", max_length = 500)]
    pub description: Option<String>,
    /// More than 0, exact decimal text, in the contract's currency.
    #[schema(example = "1000")]
    pub amount: String,
    /// The contract's currency, when given.
    #[schema(example = "EUR", pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
    /// `YYYY-MM-DD`: costs are recouped in date order.
    #[schema(example = "2026-01-15", format = Date)]
    pub date: String,
    /// The share earnings repay, 0 to 1 (1 by default).
    #[schema(example = "1", pattern = r"^(0(\.[0-9]+)?|1(\.0+)?)$")]
    pub recoupable: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CostOut {
    pub id: i64,
    pub contract: i64,
    pub kind: String,
    pub description: String,
    pub amount: String,
    pub currency: String,
    pub date: String,
    pub recoupable: String,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

impl From<ContractCost> for CostOut {
    fn from(c: ContractCost) -> Self {
        Self {
            id: c.id,
            contract: c.contract_id,
            kind: c.kind,
            description: c.description,
            amount: c.amount,
            currency: c.currency,
            date: c.date,
            recoupable: c.recoupable,
            created_at: c.created_at,
        }
    }
}

/// Record an advance or a cost against a contract.
#[utoipa::path(
    tag = "statements",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Contract id")),
    request_body = CostIn,
    responses(
        (status = 201, description = "Recorded", body = CostOut),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 403, description = "The caller's role may not manage statements", body = ErrorBody),
        (status = 404, description = "No such contract of the caller's organisations", body = ErrorBody),
    ),
)]
#[post("/api/contracts/{id}/costs/")]
pub async fn create_cost(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ApiJson<CostIn>,
) -> Result<HttpResponse, ApiError> {
    let (contract, version) = contract_for(&state, &auth, *id, Permission::CreateReports).await?;
    let terms: ContractTerms = serde_json::from_str(&version.body).map_err(ApiError::internal)?;
    let body = body.0;
    let mut errors = FieldErrors::new();
    if !["advance", "cost"].contains(&body.kind.as_str()) {
        add(&mut errors, "kind", "Either \"advance\" or \"cost\".");
    }
    let description = body.description.unwrap_or_default().trim().to_owned();
    if description.chars().count() > 500 {
        add(&mut errors, "description", "At most 500 characters.");
    }
    let amount = match Amount::parse(&body.amount) {
        Ok(a) if a > Amount::ZERO => a,
        _ => {
            add(&mut errors, "amount", "An amount above 0, as decimal text.");
            Amount::ZERO
        }
    };
    let places = CurrencyCode::parse(&terms.currency).map_or(2, |c| c.minor_units());
    if amount != amount.round_dp(places) {
        add(
            &mut errors,
            "amount",
            format!("At most {places} decimal places in {}.", terms.currency),
        );
    }
    if let Some(currency) = &body.currency
        && !currency.trim().eq_ignore_ascii_case(&terms.currency)
    {
        add(
            &mut errors,
            "currency",
            format!("Costs are in the contract's currency, {}.", terms.currency),
        );
    }
    let date = chrono::NaiveDate::parse_from_str(body.date.trim(), "%Y-%m-%d");
    if date.is_err() {
        add(&mut errors, "date", "A date, YYYY-MM-DD.");
    }
    let recoupable = match body.recoupable.as_deref().map(decimal) {
        None => Decimal::ONE,
        Some(Some(share)) if share >= Decimal::ZERO && share <= Decimal::ONE => share,
        Some(_) => {
            add(
                &mut errors,
                "recoupable",
                "A share from 0 to 1, as decimal text.",
            );
            Decimal::ONE
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let date = date
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let (org, contract_id) = (contract.organisation_id, contract.id);
    let (amount, recoupable) = (amount.to_string(), recoupable.normalize().to_string());
    let cost = state
        .db
        .run(move |conn| {
            ContractCost::insert(
                conn,
                &NewContractCost {
                    organisation_id: org,
                    contract_id,
                    kind: &body.kind,
                    description: &description,
                    amount: &amount,
                    currency: &terms.currency,
                    date: &date,
                    recoupable: &recoupable,
                    created_at: Utc::now().naive_utc(),
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(CostOut::from(cost)))
}

/// A contract's advances and costs, in date order.
#[utoipa::path(
    tag = "statements",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Contract id"), PageQuery),
    responses(
        (status = 200, description = "A page of costs", body = Page<CostOut>),
        (status = 400, description = "A bad page", body = ErrorBody),
        (status = 404, description = "No such contract of the caller's organisations, or no such page", body = ErrorBody),
    ),
)]
#[get("/api/contracts/{id}/costs/")]
pub async fn list_costs(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<CostOut>>, ApiError> {
    let (contract, _) = contract_for(&state, &auth, *id, Permission::View).await?;
    let pagination = Pagination::new(&query, &state.settings)?;
    let (offset, limit) = (pagination.offset(), pagination.limit());
    let contract_id = contract.id;
    let (rows, total) = state
        .db
        .run(move |conn| ContractCost::page(conn, contract_id, offset, limit))
        .await?;
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        total as u64,
        rows.into_iter().map(CostOut::from).collect(),
    )?))
}
