//! The people to write to at an organisation (royalties desk, legal, …).

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{NaiveDateTime, Utc};
use oas_db::organisations::{Contact, ContactChanges, NewContact};
use oas_domain::access::Permission;
use oas_domain::identity::Email;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::access;
use crate::auth::Authenticated;
use crate::http::error::ErrorBody;
use crate::http::json::invalid;
use crate::http::pagination::{Page, PageQuery, Pagination};
use crate::http::time::utc;
use crate::http::{ApiError, ApiJson};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactOut {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub phone: String,
    /// What the contact is for, e.g. "royalties".
    pub role: String,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

impl From<Contact> for ContactOut {
    fn from(c: Contact) -> Self {
        Self {
            id: c.id,
            name: c.name,
            email: c.email,
            phone: c.phone,
            role: c.role,
            created_at: c.created_at,
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

fn valid_phone(value: &str) -> Result<(), ValidationError> {
    let plausible = value
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if plausible {
        Ok(())
    } else {
        Err(invalid(
            "Enter a phone number: digits, spaces and + - ( ) . only.",
        ))
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContact {
    #[validate(required, length(min = 1, max = 200))]
    #[schema(
        example = "Royalties desk",
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 200
    )]
    pub name: Option<String>,
    /// An email address, or empty.
    #[validate(length(max = 254), custom(function = "valid_email"))]
    #[schema(value_type = Option<String>, schema_with = crate::http::schema::email_or_empty)]
    pub email: Option<String>,
    /// Digits, spaces and `+ - ( ) .`.
    #[validate(length(max = 50), custom(function = "valid_phone"))]
    #[schema(max_length = 50, pattern = r"^[0-9 +().-]*$")]
    pub phone: Option<String>,
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub role: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateContact {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// An email address, or empty.
    #[validate(length(max = 254), custom(function = "valid_email"))]
    #[schema(value_type = Option<String>, schema_with = crate::http::schema::email_or_empty)]
    pub email: Option<String>,
    /// Digits, spaces and `+ - ( ) .`.
    #[validate(length(max = 50), custom(function = "valid_phone"))]
    #[schema(max_length = 50, pattern = r"^[0-9 +().-]*$")]
    pub phone: Option<String>,
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub role: Option<String>,
}

/// The organisation's contacts.
#[utoipa::path(
    tag = "organisations",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id"), PageQuery),
    responses(
        (status = 200, description = "A page of contacts", body = Page<ContactOut>),
        (status = 404, description = "Not found, or not a member", body = ErrorBody),
    ),
)]
#[get("/api/organisations/{id}/contacts/")]
pub async fn list_contacts(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<ContactOut>>, ApiError> {
    let org = access::require(&state, &auth, *id, Permission::View)
        .await?
        .organisation;
    let pagination = Pagination::new(&query, &state.settings)?;
    let (offset, limit) = (pagination.offset(), pagination.limit());
    let (rows, total) = state
        .db
        .run(move |conn| Contact::list(conn, org.id, offset, limit))
        .await?;
    let results = rows.into_iter().map(ContactOut::from).collect();
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        total as u64,
        results,
    )?))
}

/// Add a contact (owners and admins).
#[utoipa::path(
    tag = "organisations",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id")),
    request_body = CreateContact,
    responses(
        (status = 201, description = "Added", body = ContactOut),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 403, description = "The caller's role may not", body = ErrorBody),
        (status = 404, description = "Not found, or not a member", body = ErrorBody),
    ),
)]
#[post("/api/organisations/{id}/contacts/")]
pub async fn create_contact(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ApiJson<CreateContact>,
) -> Result<HttpResponse, ApiError> {
    let org = access::require(&state, &auth, *id, Permission::ManageContacts)
        .await?
        .organisation;
    let ApiJson(CreateContact {
        name,
        email,
        phone,
        role,
    }) = body;
    let contact = state
        .db
        .run(move |conn| {
            Contact::insert(
                conn,
                &NewContact {
                    organisation_id: org.id,
                    name: name.unwrap_or_default().trim(),
                    email: email.unwrap_or_default().trim(),
                    phone: phone.unwrap_or_default().trim(),
                    role: role.unwrap_or_default().trim(),
                    created_at: Utc::now().naive_utc(),
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(ContactOut::from(contact)))
}

/// Change a contact (owners and admins).
#[utoipa::path(
    tag = "organisations",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id"), ("contact_id" = i64, Path, description = "Contact id")),
    request_body = UpdateContact,
    responses(
        (status = 200, description = "Updated", body = ContactOut),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 403, description = "The caller's role may not", body = ErrorBody),
        (status = 404, description = "No such contact here", body = ErrorBody),
    ),
)]
#[patch("/api/organisations/{id}/contacts/{contact_id}/")]
pub async fn update_contact(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(i64, i64)>,
    body: ApiJson<UpdateContact>,
) -> Result<web::Json<ContactOut>, ApiError> {
    let (org_id, contact_id) = path.into_inner();
    let org = access::require(&state, &auth, org_id, Permission::ManageContacts)
        .await?
        .organisation;
    let ApiJson(UpdateContact {
        name,
        email,
        phone,
        role,
    }) = body;
    let trim = |v: Option<String>| v.map(|s| s.trim().to_owned());
    let changes = ContactChanges {
        name: trim(name),
        email: trim(email),
        phone: trim(phone),
        role: trim(role),
    };
    let contact = state
        .db
        .run(move |conn| Contact::update(conn, org.id, contact_id, &changes))
        .await?;
    Ok(web::Json(ContactOut::from(contact)))
}

/// Remove a contact (owners and admins).
#[utoipa::path(
    tag = "organisations",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id"), ("contact_id" = i64, Path, description = "Contact id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "The caller's role may not", body = ErrorBody),
        (status = 404, description = "No such contact here", body = ErrorBody),
    ),
)]
#[delete("/api/organisations/{id}/contacts/{contact_id}/")]
pub async fn delete_contact(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (org_id, contact_id) = path.into_inner();
    let org = access::require(&state, &auth, org_id, Permission::ManageContacts)
        .await?
        .organisation;
    state
        .db
        .run(move |conn| Contact::delete(conn, org.id, contact_id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
