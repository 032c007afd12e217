//! Payees: whom the organisation pays royalties to (artists, producers,
//! labels), named on contracts and statements.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{NaiveDateTime, Utc};
use oas_db::organisations::Organisation;
use oas_db::payees::{NewPayee, Payee, PayeeChanges};
use oas_domain::access::Permission;
use oas_domain::identity::Email;
use oas_domain::money::CurrencyCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use crate::access;
use crate::auth::Authenticated;
use crate::http::error::ErrorBody;
use crate::http::json::invalid;
use crate::http::pagination::{Page, PageQuery, Pagination};
use crate::http::time::utc;
use crate::http::{ApiError, ApiJson};
use crate::routes::catalog::organisation_for;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct PayeeOut {
    pub id: i64,
    #[schema(example = "Ana Lima")]
    pub name: String,
    pub email: String,
    pub address: String,
    pub tax_id: String,
    /// The ISO 4217 code the payee is paid in.
    #[schema(example = "EUR")]
    pub currency: String,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

impl From<Payee> for PayeeOut {
    fn from(p: Payee) -> Self {
        Self {
            id: p.id,
            name: p.name,
            email: p.email,
            address: p.address,
            tax_id: p.tax_id,
            currency: p.currency,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

fn valid_email(value: &str) -> Result<(), ValidationError> {
    if value.is_empty() || Email::parse(value).is_ok() {
        Ok(())
    } else {
        Err(invalid("Enter a valid email address."))
    }
}

fn valid_currency(value: &str) -> Result<(), ValidationError> {
    CurrencyCode::parse(value)
        .map(|_| ())
        .map_err(|e| invalid(e.0))
}

fn valid_name(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        Err(invalid("A payee has a name."))
    } else {
        Ok(())
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePayee {
    #[validate(required, length(min = 1, max = 200), custom(function = "valid_name"))]
    #[schema(
        example = "Ana Lima",
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 200,
        pattern = r"\S"
    )]
    pub name: Option<String>,
    /// Where statements are sent: an email address, or empty.
    #[validate(length(max = 254), custom(function = "valid_email"))]
    #[schema(value_type = Option<String>, schema_with = crate::http::schema::email_or_empty)]
    pub email: Option<String>,
    /// The postal address printed on statements.
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub address: Option<String>,
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub tax_id: Option<String>,
    /// An ISO 4217 code; the organisation's base currency by default.
    #[validate(custom(function = "valid_currency"))]
    #[schema(example = "EUR", pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePayee {
    #[validate(length(min = 1, max = 200), custom(function = "valid_name"))]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    /// An email address, or empty.
    #[validate(length(max = 254), custom(function = "valid_email"))]
    #[schema(value_type = Option<String>, schema_with = crate::http::schema::email_or_empty)]
    pub email: Option<String>,
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub address: Option<String>,
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub tax_id: Option<String>,
    /// An ISO 4217 code.
    #[validate(custom(function = "valid_currency"))]
    #[schema(example = "EUR", pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PayeesQuery {
    /// The organisation; the caller's active one by default.
    pub organisation: Option<i64>,
    /// Payees whose name or email contains this.
    pub search: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganisationOnly {
    /// The organisation; the caller's active one by default.
    pub organisation: Option<i64>,
}

/// The organisation's payees, by name.
#[utoipa::path(
    tag = "statements",
    security(("api_key" = []), ("bearer" = [])),
    params(PayeesQuery),
    responses(
        (status = 200, description = "A page of payees", body = Page<PayeeOut>),
        (status = 400, description = "A bad page, or no organisation given or active", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's, or no such page", body = ErrorBody),
    ),
)]
#[get("/api/payees/")]
pub async fn list_payees(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<PayeesQuery>,
) -> Result<web::Json<Page<PayeeOut>>, ApiError> {
    let PayeesQuery {
        organisation,
        search,
        page,
        page_size,
    } = query.into_inner();
    let org = organisation_for(&state, &auth, organisation, Permission::View).await?;
    let pagination = Pagination::new(&PageQuery { page, page_size }, &state.settings)?;
    let (offset, limit) = (pagination.offset(), pagination.limit());
    let search = search
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let (rows, total) = state
        .db
        .run(move |conn| Payee::page(conn, org, search.as_deref(), offset, limit))
        .await?;
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        total as u64,
        rows.into_iter().map(PayeeOut::from).collect(),
    )?))
}

/// Add a payee.
#[utoipa::path(
    tag = "statements",
    security(("api_key" = []), ("bearer" = [])),
    params(OrganisationOnly),
    request_body = CreatePayee,
    responses(
        (status = 201, description = "Added", body = PayeeOut),
        (status = 400, description = "Invalid input, or no organisation given or active", body = ErrorBody),
        (status = 403, description = "The caller's role may not manage statements", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's", body = ErrorBody),
    ),
)]
#[post("/api/payees/")]
pub async fn create_payee(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<OrganisationOnly>,
    body: ApiJson<CreatePayee>,
) -> Result<HttpResponse, ApiError> {
    let org =
        organisation_for(&state, &auth, query.organisation, Permission::CreateReports).await?;
    let ApiJson(CreatePayee {
        name,
        email,
        address,
        tax_id,
        currency,
    }) = body;
    let payee = state
        .db
        .run(move |conn| {
            let currency = match currency {
                Some(code) => code.trim().to_ascii_uppercase(),
                None => Organisation::find(conn, org)?.base_currency,
            };
            let now = Utc::now().naive_utc();
            Payee::insert(
                conn,
                &NewPayee {
                    organisation_id: org,
                    name: name.unwrap_or_default().trim(),
                    email: email.unwrap_or_default().trim(),
                    address: address.unwrap_or_default().trim(),
                    tax_id: tax_id.unwrap_or_default().trim(),
                    currency: &currency,
                    created_at: now,
                    updated_at: now,
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(PayeeOut::from(payee)))
}

/// The payee of the caller's organisations with this id.
async fn payee_for(
    state: &AppState,
    auth: &Authenticated,
    id: i64,
    permission: Permission,
) -> Result<Payee, ApiError> {
    let payee = state.db.run(move |conn| Payee::find(conn, id)).await?;
    access::require_for_object(state, auth, payee.organisation_id, permission).await?;
    Ok(payee)
}

/// One payee.
#[utoipa::path(
    tag = "statements",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Payee id")),
    responses(
        (status = 200, description = "The payee", body = PayeeOut),
        (status = 404, description = "No such payee of the caller's organisations", body = ErrorBody),
    ),
)]
#[get("/api/payees/{id}/")]
pub async fn get_payee(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<PayeeOut>, ApiError> {
    let payee = payee_for(&state, &auth, *id, Permission::View).await?;
    Ok(web::Json(PayeeOut::from(payee)))
}

/// Change a payee.
#[utoipa::path(
    tag = "statements",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Payee id")),
    request_body = UpdatePayee,
    responses(
        (status = 200, description = "Changed", body = PayeeOut),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 403, description = "The caller's role may not manage statements", body = ErrorBody),
        (status = 404, description = "No such payee of the caller's organisations", body = ErrorBody),
    ),
)]
#[patch("/api/payees/{id}/")]
pub async fn update_payee(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ApiJson<UpdatePayee>,
) -> Result<web::Json<PayeeOut>, ApiError> {
    let payee = payee_for(&state, &auth, *id, Permission::CreateReports).await?;
    let ApiJson(UpdatePayee {
        name,
        email,
        address,
        tax_id,
        currency,
    }) = body;
    let trim = |v: Option<String>| v.map(|s| s.trim().to_owned());
    let changes = PayeeChanges {
        name: trim(name),
        email: trim(email),
        address: trim(address),
        tax_id: trim(tax_id),
        currency: currency.map(|c| c.trim().to_ascii_uppercase()),
        updated_at: Some(Utc::now().naive_utc()),
    };
    let id = payee.id;
    let payee = state
        .db
        .run(move |conn| Payee::update(conn, id, &changes))
        .await?;
    Ok(web::Json(PayeeOut::from(payee)))
}

/// Remove a payee.
#[utoipa::path(
    tag = "statements",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Payee id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "The caller's role may not manage statements", body = ErrorBody),
        (status = 404, description = "No such payee of the caller's organisations", body = ErrorBody),
        (status = 409, description = "The payee is on a contract or has statements", body = ErrorBody),
    ),
)]
#[delete("/api/payees/{id}/")]
pub async fn delete_payee(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let payee = payee_for(&state, &auth, *id, Permission::CreateReports).await?;
    let (id, org) = (payee.id, payee.organisation_id);
    // A payee a contract names, or a statement was made for, stays: the
    // statements must still say whom they were for.
    let held = state
        .db
        .transaction(move |conn| {
            for (contract, version) in oas_db::contracts::Contract::current(conn, org)? {
                let terms: Option<oas_domain::statement::ContractTerms> =
                    serde_json::from_str(&version.body).ok();
                if terms.is_some_and(|t| t.payees.iter().any(|p| p.payee == id)) {
                    return Ok(Some(format!(
                        "The payee is on contract {} ({}): take them off it first.",
                        contract.id, contract.name
                    )));
                }
            }
            let statements = oas_db::statements::StatementRecord::count_for_payee(conn, id)?;
            if statements > 0 {
                return Ok(Some(format!(
                    "The payee has {statements} statement(s), which must keep saying whom they were for."
                )));
            }
            Payee::delete(conn, id)?;
            Ok(None)
        })
        .await?;
    if let Some(why) = held {
        return Err(ApiError::conflict(why));
    }
    Ok(HttpResponse::NoContent().finish())
}
