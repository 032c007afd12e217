//! Timestamps are stored as naive UTC and shown as RFC 3339 with `Z`.

use chrono::NaiveDateTime;
use serde::Serializer;

pub fn utc<S: Serializer>(value: &NaiveDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(
        &value
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    )
}

pub fn utc_opt<S: Serializer>(
    value: &Option<NaiveDateTime>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => utc(value, serializer),
        None => serializer.serialize_none(),
    }
}
