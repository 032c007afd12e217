//! Organisations: create, list, read, update, make active, activate or
//! deactivate; with members, contacts and settings in the submodules.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{NaiveDateTime, Utc};
use oas_db::organisations::{NewOrganisation, Organisation, OrganisationChanges};
use oas_db::users::User;
use oas_db::{DbConnection, DbError};
use oas_domain::access::{Permission, Role};
use oas_domain::money::CurrencyCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::views::UserRef;
use crate::access::{self, OrgAccess};
use crate::auth::Authenticated;
use crate::http::error::{ErrorBody, FieldErrors};
use crate::http::pagination::{Page, PageQuery, Pagination};
use crate::http::time::utc;
use crate::http::{ApiError, ApiJson};
use crate::state::AppState;

pub mod contacts;
pub mod members;
pub mod settings;

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationOut {
    pub id: i64,
    /// The first owner, who registered the organisation unless ownership moved.
    pub owner: Option<UserRef>,
    #[schema(example = "Acme Corp")]
    pub name: String,
    #[schema(example = "USD")]
    pub base_currency: String,
    #[schema(example = json!(["USD", "EUR", "MXN"]))]
    pub currencies: Vec<String>,
    pub image: Option<String>,
    pub is_active: bool,
    /// The caller's role in this organisation.
    #[schema(value_type = String, example = "owner")]
    pub role: Role,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

fn currencies_of(organisation: &Organisation) -> Vec<String> {
    serde_json::from_str(&organisation.currencies).unwrap_or_default()
}

/// The response for `organisation` as seen with `role`.
fn view(
    conn: &mut DbConnection,
    organisation: Organisation,
    role: Role,
) -> Result<OrganisationOut, DbError> {
    let owner = Organisation::owner(conn, organisation.id, Role::Owner.as_str())?;
    Ok(OrganisationOut {
        id: organisation.id,
        owner: owner.as_ref().map(UserRef::from),
        currencies: currencies_of(&organisation),
        name: organisation.name,
        base_currency: organisation.base_currency,
        image: organisation.image,
        is_active: organisation.is_active,
        role,
        created_at: organisation.created_at,
        updated_at: organisation.updated_at,
    })
}

async fn respond(
    state: &AppState,
    organisation: Organisation,
    role: Role,
) -> Result<OrganisationOut, ApiError> {
    Ok(state
        .db
        .run(move |conn| view(conn, organisation, role))
        .await?)
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganisation {
    #[validate(required, length(min = 1, max = 200))]
    #[schema(
        example = "Acme Corp",
        required = true,
        nullable = false,
        pattern = r"\S",
        min_length = 1,
        max_length = 200
    )]
    pub name: Option<String>,
    /// ISO 4217 code of the currency reports are converted to.
    #[validate(required, length(min = 1, max = 10))]
    #[schema(example = "USD", required = true, nullable = false, value_type = String, schema_with = crate::http::schema::currency)]
    pub base_currency: Option<String>,
    /// ISO 4217 codes of every currency the organisation deals in, each
    /// once; the base currency is always among them (added when missing).
    #[validate(required, length(max = 50))]
    #[schema(example = json!(["USD", "EUR", "MXN"]), required = true, nullable = false, value_type = Vec<String>, schema_with = crate::http::schema::currencies)]
    pub currencies: Option<Vec<String>>,
    /// URL of the organisation's logo.
    #[validate(url, length(max = 2048))]
    #[schema(format = "uri", max_length = 2048)]
    pub image: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganisation {
    #[validate(length(min = 1, max = 200))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// ISO 4217; must be among the currencies (those given, else the
    /// organisation's), and is added to them when missing.
    #[validate(length(min = 1, max = 10))]
    #[schema(value_type = Option<String>, schema_with = crate::http::schema::currency_or_null)]
    pub base_currency: Option<String>,
    /// Replaces the list; the base currency is always among them.
    #[validate(length(max = 50))]
    #[schema(value_type = Option<Vec<String>>, schema_with = crate::http::schema::currencies_or_null)]
    pub currencies: Option<Vec<String>>,
    /// A URL, or null to remove the image.
    #[validate(url, length(max = 2048))]
    #[serde(default, deserialize_with = "present")]
    #[schema(format = "uri", max_length = 2048)]
    pub image: Option<Option<String>>,
}

/// Tells an explicit `null` (`Some(None)`) from an absent field (`None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Checks the currency pair of fields together: valid codes, no repeats.
/// The base currency is always among the list: added first when missing.
/// Returns (base, list) normalised to upper case.
fn check_currencies(base: &str, list: &[String]) -> Result<(String, Vec<String>), ApiError> {
    let mut errors = FieldErrors::new();
    let base = match CurrencyCode::parse(base) {
        Ok(code) => Some(code.code().to_owned()),
        Err(e) => {
            errors.entry("base_currency".into()).or_default().push(e.0);
            None
        }
    };
    let mut codes: Vec<String> = Vec::with_capacity(list.len());
    for raw in list {
        match CurrencyCode::parse(raw) {
            Ok(code) if codes.iter().any(|c| c == code.code()) => {
                errors
                    .entry("currencies".into())
                    .or_default()
                    .push(format!("{} is listed twice.", code.code()));
            }
            Ok(code) => codes.push(code.code().to_owned()),
            Err(e) => errors.entry("currencies".into()).or_default().push(e.0),
        }
    }
    if let Some(base) = &base
        && !codes.contains(base)
    {
        codes.insert(0, base.clone());
    }
    match base {
        Some(base) if errors.is_empty() => Ok((base, codes)),
        _ => Err(ApiError::validation(errors)),
    }
}

/// Register an organisation. The caller becomes its owner, and it becomes
/// their active organisation if they had none.
#[utoipa::path(
    tag = "organisations",
    security(("api_key" = []), ("bearer" = [])),
    request_body = CreateOrganisation,
    responses(
        (status = 201, description = "Created", body = OrganisationOut),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
    ),
)]
#[post("/api/organisations/")]
pub async fn create_organisation(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<CreateOrganisation>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(CreateOrganisation {
        name,
        base_currency,
        currencies,
        image,
    }) = body;
    let (base, codes) = check_currencies(
        &base_currency.unwrap_or_default(),
        &currencies.unwrap_or_default(),
    )?;
    let name = name.unwrap_or_default().trim().to_owned();
    if name.is_empty() {
        return Err(ApiError::field("name", "This field may not be blank."));
    }
    let creator = auth.user.clone();
    let currencies = serde_json::to_string(&codes).map_err(ApiError::internal)?;
    let out = state
        .db
        .transaction(move |conn| {
            let now = Utc::now().naive_utc();
            let organisation = Organisation::create(
                conn,
                &NewOrganisation {
                    name: &name,
                    base_currency: &base,
                    currencies: &currencies,
                    image: image.as_deref(),
                    settings: "{}",
                    created_by: Some(creator.id),
                    created_at: now,
                    updated_at: now,
                },
                creator.id,
                Role::Owner.as_str(),
            )?;
            if creator.active_organisation_id.is_none() {
                User::set_active_organisation(conn, creator.id, Some(organisation.id))?;
            }
            view(conn, organisation, Role::Owner)
        })
        .await?;
    Ok(HttpResponse::Created().json(out))
}

/// The organisations the caller belongs to, by name.
#[utoipa::path(
    tag = "organisations",
    security(("api_key" = []), ("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of organisations", body = Page<OrganisationOut>),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
    ),
)]
#[get("/api/organisations/")]
pub async fn list_organisations(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<OrganisationOut>>, ApiError> {
    let pagination = Pagination::new(&query, &state.settings)?;
    let (user_id, offset, limit) = (auth.user.id, pagination.offset(), pagination.limit());
    let (results, total) = state
        .db
        .run(move |conn| {
            let (rows, total) = Organisation::list_for_user(conn, user_id, offset, limit)?;
            let mut results = Vec::with_capacity(rows.len());
            for (organisation, role) in rows {
                // Roles are only ever written from `Role::as_str`; an unreadable
                // one grants the least.
                let role = role.parse::<Role>().unwrap_or(Role::Viewer);
                results.push(view(conn, organisation, role)?);
            }
            Ok((results, total))
        })
        .await?;
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        total as u64,
        results,
    )?))
}

/// One organisation.
#[utoipa::path(
    tag = "organisations",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The organisation", body = OrganisationOut),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 404, description = "Not found, or not a member", body = ErrorBody,
            example = json!({"detail": "Organization not found."})),
    ),
)]
#[get("/api/organisations/{id}/")]
pub async fn get_organisation(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<OrganisationOut>, ApiError> {
    let OrgAccess {
        organisation, role, ..
    } = access::require(&state, &auth, *id, Permission::View).await?;
    Ok(web::Json(respond(&state, organisation, role).await?))
}

/// Change name, currencies or image (owners and admins).
#[utoipa::path(
    tag = "organisations",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id")),
    request_body = UpdateOrganisation,
    responses(
        (status = 200, description = "Updated", body = OrganisationOut),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 403, description = "The caller's role may not", body = ErrorBody),
        (status = 404, description = "Not found, or not a member", body = ErrorBody),
    ),
)]
#[patch("/api/organisations/{id}/")]
pub async fn update_organisation(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ApiJson<UpdateOrganisation>,
) -> Result<web::Json<OrganisationOut>, ApiError> {
    let OrgAccess {
        organisation, role, ..
    } = access::require(&state, &auth, *id, Permission::Update).await?;
    let ApiJson(UpdateOrganisation {
        name,
        base_currency,
        currencies,
        image,
    }) = body;
    let mut changes = OrganisationChanges::at(Utc::now().naive_utc());
    if base_currency.is_some() || currencies.is_some() {
        let base = base_currency.unwrap_or_else(|| organisation.base_currency.clone());
        let list = currencies.unwrap_or_else(|| currencies_of(&organisation));
        let (base, codes) = check_currencies(&base, &list)?;
        changes.base_currency = Some(base);
        changes.currencies = Some(serde_json::to_string(&codes).map_err(ApiError::internal)?);
    }
    if let Some(name) = name {
        let name = name.trim().to_owned();
        if name.is_empty() {
            return Err(ApiError::field("name", "This field may not be blank."));
        }
        changes.name = Some(name);
    }
    changes.image = image;
    let id = organisation.id;
    let out = state
        .db
        .run(move |conn| {
            let updated = Organisation::update(conn, id, &changes)?;
            view(conn, updated, role)
        })
        .await?;
    Ok(web::Json(out))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MakeActiveResponse {
    #[schema(example = "Organization \"Acme Corp\" is now your active organization.")]
    pub message: String,
}

/// Make this the caller's active organisation: the one files and reports
/// use when none is named.
#[utoipa::path(
    tag = "organisations",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "Now active", body = MakeActiveResponse),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 404, description = "Not found, or not a member", body = ErrorBody,
            example = json!({"detail": "Organization not found."})),
        (status = 409, description = "The organisation is deactivated", body = ErrorBody),
    ),
)]
#[post("/api/organisations/{id}/make_active/")]
pub async fn make_active(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<MakeActiveResponse>, ApiError> {
    let OrgAccess { organisation, .. } =
        access::require(&state, &auth, *id, Permission::View).await?;
    if !organisation.is_active {
        return Err(ApiError::conflict(
            "This organization is deactivated: reactivate it first.",
        ));
    }
    let (user_id, organisation_id) = (auth.user.id, organisation.id);
    state
        .db
        .run(move |conn| User::set_active_organisation(conn, user_id, Some(organisation_id)))
        .await?;
    Ok(web::Json(MakeActiveResponse {
        message: format!(
            "Organization \"{}\" is now your active organization.",
            organisation.name
        ),
    }))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// `false` deactivates: the organisation stays readable, but cannot be
    /// made active and its files are not processed.
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub is_active: Option<bool>,
}

/// Activate or deactivate the organisation (owners only).
#[utoipa::path(
    tag = "organisations",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id")),
    request_body = StatusRequest,
    responses(
        (status = 200, description = "Status changed", body = OrganisationOut),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 403, description = "Only owners may", body = ErrorBody),
        (status = 404, description = "Not found, or not a member", body = ErrorBody),
    ),
)]
#[post("/api/organisations/{id}/status/")]
pub async fn set_status(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ApiJson<StatusRequest>,
) -> Result<web::Json<OrganisationOut>, ApiError> {
    let OrgAccess {
        organisation, role, ..
    } = access::require(&state, &auth, *id, Permission::ChangeStatus).await?;
    let mut changes = OrganisationChanges::at(Utc::now().naive_utc());
    changes.is_active = body.0.is_active;
    let id = organisation.id;
    let out = state
        .db
        .run(move |conn| {
            let updated = Organisation::update(conn, id, &changes)?;
            view(conn, updated, role)
        })
        .await?;
    Ok(web::Json(out))
}
