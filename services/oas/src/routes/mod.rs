//! Every route of the API, registered through utoipa-actix-web: a handler
//! can only be added here if it carries `#[utoipa::path]`, so the OpenAPI
//! document describes every route by construction (and a test checks the
//! source for routes added any other way).

use utoipa_actix_web::service_config::ServiceConfig;

pub mod ops;

pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(ops::healthz)
        .service(ops::readyz)
        .service(ops::metrics)
        .service(crate::openapi::openapi_json);
}
