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
            let web::Json(mut value) = value.await?;
            // Every body is an object: serde would also read a struct from
            // an array of its fields' values.
            if !value.is_object() {
                let mut errors = FieldErrors::new();
                errors.insert(
                    NON_FIELD_ERRORS.to_owned(),
                    vec!["Send a JSON object.".to_owned()],
                );
                return Err(ApiError::validation(errors).into());
            }
            let mut nul = FieldErrors::new();
            nul_characters(&value, "", &mut nul);
            if !nul.is_empty() {
                return Err(ApiError::validation(nul).into());
            }
            whole_numbers(&mut value);
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

/// Fields whose text holds the NUL character (`\u0000`), by path: no text
/// of OAS may (PostgreSQL cannot store it, and no name or title means it).
fn nul_characters(value: &serde_json::Value, path: &str, errors: &mut FieldErrors) {
    const MESSAGE: &str = "Null characters are not allowed.";
    let field = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        serde_json::Value::String(text) if text.contains('\0') => {
            let at = if path.is_empty() {
                NON_FIELD_ERRORS
            } else {
                path
            };
            errors
                .entry(at.to_owned())
                .or_default()
                .push(MESSAGE.to_owned());
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                nul_characters(item, &field(&i.to_string()), errors);
            }
        }
        serde_json::Value::Object(fields) => {
            for (key, item) in fields {
                if key.contains('\0') {
                    errors
                        .entry(NON_FIELD_ERRORS.to_owned())
                        .or_default()
                        .push(MESSAGE.to_owned());
                } else {
                    nul_characters(item, &field(key), errors);
                }
            }
        }
        _ => {}
    }
}

/// Numbers written with a zero fraction (`3.0`) read as the whole numbers
/// they are, as JSON Schema counts them: a field that takes an integer
/// takes them too.
fn whole_numbers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|_| number.is_f64())
                && float.fract() == 0.0
            {
                // Within ±2^53 a float is an exact integer; beyond, the
                // conversions saturate and the value stays a float.
                if (-9_007_199_254_740_992.0..=9_007_199_254_740_992.0).contains(&float) {
                    *number = serde_json::Number::from(float as i64);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// serde's messages, without the position suffix that means nothing here,
/// and with Rust's type names in words.
/// A deserializer's message in words a client reads: no Rust type names.
pub(crate) fn type_message(message: &str) -> String {
    let trimmed = message.split(" at line ").next().unwrap_or(message);
    let mut text = trimmed.to_owned();
    for (rust, words) in [
        ("expected u64", "expected a whole number, not negative"),
        ("expected u32", "expected a whole number, not negative"),
        ("expected u16", "expected a whole number, not negative"),
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected i64", "expected a whole number"),
        ("expected i32", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
        ("invalid type: floating point", "invalid type: the number"),
        ("invalid type: integer", "invalid type: the number"),
        ("invalid digit found in string", "expected a whole number"),
        (
            "cannot parse integer from empty string",
            "expected a whole number, not nothing",
        ),
        (
            "number too large to fit in target type",
            "the number is too large",
        ),
        (
            "number too small to fit in target type",
            "the number is too small",
        ),
        ("invalid float literal", "expected a number"),
        (
            "provided string was not `true` or `false`",
            "expected true or false",
        ),
        ("expected a map", "expected an object"),
        ("expected a sequence", "expected a list"),
        ("BTreeMap", "an object"),
        ("HashMap", "an object"),
    ] {
        text = text.replace(rust, words);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_written_with_a_fraction_read_as_integers() {
        let mut value = serde_json::json!({"hold_ms": 2136004.0, "rate": 1.5, "list": [3.0, -2.0]});
        whole_numbers(&mut value);
        assert_eq!(
            value,
            serde_json::json!({"hold_ms": 2136004, "rate": 1.5, "list": [3, -2]})
        );
        let mut huge = serde_json::json!(1e300);
        whole_numbers(&mut huge);
        assert!(huge.is_f64(), "beyond 2^53 a float stays a float");
    }

    #[test]
    fn text_with_a_nul_character_is_named_by_its_field() {
        let value = serde_json::json!({
            "name": "a\0b",
            "payees": [{"share": "0.5"}, {"note": "\0"}],
            "fine": "a\\u0000 written out",
            "x\0": 1,
        });
        let mut errors = FieldErrors::new();
        nul_characters(&value, "", &mut errors);
        let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(fields, ["name", "non_field_errors", "payees.1.note"]);
        assert_eq!(errors["name"], ["Null characters are not allowed."]);
        let mut none = FieldErrors::new();
        nul_characters(&serde_json::json!({"a": ["b", {"c": "d"}]}), "", &mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn messages_name_types_in_words() {
        let message =
            type_message("invalid type: floating point `2.5`, expected u64 at line 1 column 9");
        assert_eq!(
            message,
            "Invalid type: the number `2.5`, expected a whole number, not negative."
        );
    }
}
