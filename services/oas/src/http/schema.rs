//! Schemas the derives cannot write: closed lists of values (the file
//! types, statuses, ISO 4217 currencies, IANA time zones), for fields whose
//! Rust type is a plain string.

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{Array, Object};

/// A string that is one of `values` (or null, when `nullable`).
pub fn one_of(values: &[&str], nullable: bool) -> Object {
    let kind = match nullable {
        true => SchemaType::from_iter([Type::String, Type::Null]),
        false => SchemaType::Type(Type::String),
    };
    let mut values: Vec<Option<&str>> = values.iter().copied().map(Some).collect();
    if nullable {
        values.push(None);
    }
    ObjectBuilder::new()
        .schema_type(kind)
        .enum_values(Some(values))
        .build()
}

/// An ISO 4217 currency code.
pub fn currency() -> Object {
    one_of(&oas_domain::money::currency_codes(), false)
}

/// An ISO 4217 currency code, or null.
pub fn currency_or_null() -> Object {
    one_of(&oas_domain::money::currency_codes(), true)
}

/// The IANA time zone names `oas_domain::identity::parse_timezone` accepts, or null.
pub fn timezone_or_null() -> Object {
    let names: Vec<&str> = oas_domain::identity::timezone_names().collect();
    one_of(&names, true)
}

/// Up to 50 ISO 4217 codes, each once (null when `nullable`).
fn currency_list(nullable: bool) -> Array {
    let kind = match nullable {
        true => SchemaType::from_iter([Type::Array, Type::Null]),
        false => SchemaType::Type(Type::Array),
    };
    ArrayBuilder::new()
        .schema_type(kind)
        .items(currency())
        .max_items(Some(50))
        .unique_items(true)
        .build()
}

pub fn currencies() -> Array {
    currency_list(false)
}

pub fn currencies_or_null() -> Array {
    currency_list(true)
}

/// A member's role: `owner`, `admin`, `member` or `viewer`.
pub fn role() -> Object {
    one_of(&["owner", "admin", "member", "viewer"], false)
}

/// An email address, empty, or null (an optional contact detail).
pub fn email_or_empty() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, SchemaFormat};
    AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::String))
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
                .max_length(Some(254)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::String))
                .max_length(Some(0)),
        )
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)))
        .build()
        .into()
}
