//! The local object store's presigned URLs, served by the gateway. Only a
//! request carrying a valid signature for its method and key, before the
//! expiry, reads or writes; anything else is 403 and changes nothing. With
//! S3 storage these routes answer 404: presigned URLs go to S3 itself.

use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{HttpResponse, get, put, web};
use oas_db::sales_files::SalesFile;
use oas_platform::storage::signing::SignatureError;
use oas_platform::storage::{
    AnyStorage, LocalStorage, ObjectKey, ObjectStore, PresignMethod, StorageError,
};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::ApiError;
use crate::http::error::{ErrorBody, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Signed {
    /// The method the URL was signed for.
    #[serde(rename = "X-OAS-Method")]
    #[param(rename = "X-OAS-Method")]
    pub method: Option<String>,
    /// Unix time after which the URL no longer works.
    #[serde(rename = "X-OAS-Expires")]
    #[param(rename = "X-OAS-Expires")]
    pub expires: Option<i64>,
    #[serde(rename = "X-OAS-Signature")]
    #[param(rename = "X-OAS-Signature")]
    pub signature: Option<String>,
}

fn refused(detail: &'static str) -> ApiError {
    ApiError::new(ErrorCode::Forbidden, detail)
}

/// The local store and the key, if this request's signature holds.
fn authorise<'a>(
    state: &'a AppState,
    key: &str,
    signed: &Signed,
    method: PresignMethod,
) -> Result<(&'a LocalStorage, ObjectKey), ApiError> {
    let AnyStorage::Local(local) = state.storage.as_ref() else {
        return Err(ApiError::not_found());
    };
    let key = ObjectKey::parse(key).map_err(|_| ApiError::not_found())?;
    let (Some(signed_method), Some(expires), Some(signature)) =
        (&signed.method, signed.expires, &signed.signature)
    else {
        return Err(refused("This URL is not signed."));
    };
    if signed_method != method.as_str() {
        return Err(refused("This URL was signed for another method."));
    }
    local
        .verify(method, &key, expires, signature)
        .map_err(|e| match e {
            SignatureError::Expired => refused("This URL has expired."),
            SignatureError::Invalid => refused("This URL's signature does not match."),
        })?;
    Ok((local, key))
}

/// Upload an object through a presigned URL (local storage only).
#[utoipa::path(
    tag = "storage",
    path = "/api/storage/{key}",
    params(("key" = String, Path, description = "Object key"), Signed),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "Stored"),
        (status = 403, description = "Unsigned, tampered, expired or signed for another method", body = ErrorBody),
        (status = 404, description = "Not local storage, or an invalid key", body = ErrorBody),
        (status = 413, description = "Larger than the file's declared filesize, or OAS_MAX_UPLOAD_BYTES", body = ErrorBody),
    ),
)]
#[put("/api/storage/{key:.*}")]
pub async fn upload_object(
    state: web::Data<AppState>,
    key: web::Path<String>,
    signed: web::Query<Signed>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (local, key) = authorise(&state, &key, &signed, PresignMethod::Put)?;
    let limit = match declared_size(&state, &key).await? {
        Some(declared) => declared.min(state.settings.max_upload_bytes),
        None => state.settings.max_upload_bytes,
    };
    match local.write_stream(&key, payload, limit).await {
        Ok(_) => Ok(HttpResponse::Ok().finish()),
        Err(StorageError::TooLarge(limit)) => Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("The file is larger than the {limit}-byte limit."),
        )),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// The size declared for the sales file whose upload `key` is, if it is one.
async fn declared_size(state: &AppState, key: &ObjectKey) -> Result<Option<u64>, ApiError> {
    let Some((organisation, file)) = oas_platform::storage::original_of(key) else {
        return Ok(None);
    };
    let declared = state
        .db
        .run(move |conn| SalesFile::declared_size(conn, organisation, file))
        .await?;
    Ok(declared.map(|size| u64::try_from(size).unwrap_or(0)))
}

/// Download an object through a presigned URL (local storage only).
#[utoipa::path(
    tag = "storage",
    path = "/api/storage/{key}",
    params(("key" = String, Path, description = "Object key"), Signed),
    responses(
        (status = 200, description = "The object's bytes", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 403, description = "Unsigned, tampered, expired or signed for another method", body = ErrorBody),
        (status = 404, description = "No such object", body = ErrorBody),
    ),
)]
#[get("/api/storage/{key:.*}")]
pub async fn download_object(
    state: web::Data<AppState>,
    key: web::Path<String>,
    signed: web::Query<Signed>,
) -> Result<HttpResponse, ApiError> {
    let (local, key) = authorise(&state, &key, &signed, PresignMethod::Get)?;
    let size = local
        .head(&key)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(ApiError::not_found)?;
    let reader = local.get(&key).await.map_err(|e| match e {
        StorageError::NotFound(_) => ApiError::not_found(),
        other => ApiError::internal(other),
    })?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/octet-stream"))
        .insert_header((CONTENT_LENGTH, size))
        .streaming(tokio_util::io::ReaderStream::new(reader)))
}
