//! The OpenAPI 3 document, generated from the handlers' annotations and
//! completed by the rules every route follows (`contract`), and the
//! interactive docs that render it.

pub mod contract;

use actix_web::{App, HttpResponse, get, web};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::http::error::ErrorBody;
use crate::state::AppState;

pub const DOCUMENT_PATH: &str = "/api/openapi.json";
pub const DOCS_PATH: &str = "/api/docs/";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "OAS",
        description = "Sales-report ingestion and royalty accounting for record labels and distributors.\n\n\
            Authenticate with `Authorization: Bearer <access token>` or `X-Api-Key: <key>`. \
            Errors are `{\"detail\": \"...\"}`, with `errors` per field for validation.",
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "operations", description = "Health, readiness, metrics and this document"),
        (name = "auth", description = "Signing in and out, tokens, registration"),
        (name = "api keys", description = "The caller's API keys"),
        (name = "registrations", description = "Requests for an account, approved or denied by staff"),
        (name = "files", description = "Sales files: create, upload, clean, import, reimport"),
        (name = "catalog", description = "The master catalog, each file's usage items matched to it, remembered corrections"),
        (name = "reports", description = "Monthly and unmatched reports of a period's sales lines, as gzipped CSV files behind 24-hour links"),
        (name = "statements", description = "Payees, contracts and royalty statements"),
        (name = "dashboard", description = "The organisation's figures over a range of months"),
        (name = "formats", description = "Report formats: the built-ins and an organisation's own mappings"),
        (name = "jobs", description = "Module runs and their completion events"),
        (name = "storage", description = "Presigned upload and download URLs of the local object store"),
        (name = "users", description = "Accounts: administration by staff, and the caller's own"),
        (name = "organisations", description = "Organisations, their members, contacts and settings"),
    ),
    modifiers(&SecuritySchemes),
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
        );
    }
}

/// The document: the base above plus every route in [`crate::routes::configure`].
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// The document as served: [`document`], completed (`contract::complete`).
pub fn document_json() -> serde_json::Value {
    let mut doc = serde_json::to_value(document()).unwrap_or_default();
    // A format's shape is described by the crate that reads it.
    doc["components"]["schemas"]["FormatBody"] = crate::routes::formats::body_schema();
    doc["components"]["schemas"]["AddMember"]["oneOf"] =
        crate::routes::organisations::members::add_member_one_of();
    contract::complete(&mut doc);
    doc
}

/// This document, as JSON.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3 document of this API", content_type = "application/json", body = Object)),
)]
#[get("/api/openapi.json")]
pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi_json.to_string())
}
