//! The conventions every route follows.
//!
//! Error policy: handlers return `Result<_, ApiError>`. Expected failures
//! (bad input, missing object, wrong state) are built with the helper
//! constructors and answered with `{"detail": …}` (plus `errors` per field for
//! validation). Anything unexpected becomes [`ApiError::internal`]: logged in
//! full with the request id, answered with an opaque 500.

pub mod context;
pub mod cors;
pub mod error;
pub mod extract;
pub mod fallback;
pub mod json;
pub mod metrics;
pub mod pagination;
pub mod schema;
pub mod time;

pub use error::ApiError;
pub use json::ApiJson;
