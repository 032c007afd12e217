//! `ApiJson<T>`: a JSON body deserialized and validated, with every problem
//! reported against its field: `{"detail": "Invalid input.", "errors":
//! {"email": ["Enter a valid email address."]}}`.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationError, ValidationErrors, ValidationErrorsKind};

use super::ApiError;
use super::error::FieldErrors;

/// Errors that concern the body as a whole rather than one field.
pub const NON_FIELD_ERRORS: &str = "non_field_errors";

pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ApiJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // The standard extractor enforces content type, size and syntax.
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let web::Json(value) = value.await?;
            let parsed: T = serde_path_to_error::deserialize(value).map_err(|e| {
                let path = e.path().to_string();
                let field = if path == "." {
                    NON_FIELD_ERRORS.to_owned()
                } else {
                    path
                };
                let mut errors = FieldErrors::new();
                errors.insert(field, vec![type_message(&e.into_inner().to_string())]);
                ApiError::validation(errors)
            })?;
            parsed
                .validate()
                .map_err(|e| ApiError::validation(field_errors(&e)))?;
            Ok(ApiJson(parsed))
        })
    }
}

/// serde's messages, without the position suffix that means nothing here.
fn type_message(message: &str) -> String {
    let trimmed = message.split(" at line ").next().unwrap_or(message);
    let mut text = trimmed.to_owned();
    if let Some(first) = text.get(..1) {
        text.replace_range(..1, &first.to_uppercase());
    }
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

/// Flattens validator's errors to `field` or `parent.child` keys.
pub fn field_errors(errors: &ValidationErrors) -> FieldErrors {
    let mut out = FieldErrors::new();
    collect(errors, "", &mut out);
    out
}

fn collect(errors: &ValidationErrors, prefix: &str, out: &mut FieldErrors) {
    for (field, kind) in errors.errors() {
        let key = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        let key = if key == "__all__" {
            NON_FIELD_ERRORS.to_owned()
        } else {
            key
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                out.entry(key).or_default().extend(list.iter().map(message));
            }
            ValidationErrorsKind::Struct(inner) => collect(inner, &key, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect(inner, &format!("{key}.{index}"), out);
                }
            }
        }
    }
}

/// The error's own message, else a sentence for its code.
pub fn message(error: &ValidationError) -> String {
    if let Some(message) = &error.message {
        return message.to_string();
    }
    let param = |name: &str| error.params.get(name).map(ToString::to_string);
    match error.code.as_ref() {
        "required" => "This field is required.".into(),
        "length" => match (param("min"), param("max")) {
            (Some(min), None) if min == "1" => "This field may not be blank.".into(),
            (Some(min), None) => format!("Ensure this field has at least {min} characters."),
            (None, Some(max)) => format!("Ensure this field has no more than {max} characters."),
            (Some(min), Some(max)) => format!("Ensure this field has {min} to {max} characters."),
            (None, None) => "This field has the wrong length.".into(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("Ensure this value is between {min} and {max}."),
            (Some(min), None) => format!("Ensure this value is at least {min}."),
            (None, Some(max)) => format!("Ensure this value is at most {max}."),
            (None, None) => "This value is out of range.".into(),
        },
        "email" => "Enter a valid email address.".into(),
        "url" => "Enter a valid URL.".into(),
        other => format!("Invalid value ({other})."),
    }
}

/// A validation error carrying a ready sentence, for custom validators.
pub fn invalid(message: impl Into<Cow<'static, str>>) -> ValidationError {
    let mut error = ValidationError::new("invalid");
    error.message = Some(message.into());
    error
}
