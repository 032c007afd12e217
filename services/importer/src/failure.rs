//! How an import fails: the file's fault (its cause, for the operator) or
//! the module's own.

use oas_domain::job::FailureCode;
use oas_platform::module::Failure;

/// A failure that is the file's fault: its message is the file's cause.
pub(crate) fn rejected(message: impl Into<String>) -> Failure {
    Failure::new(FailureCode::Rejected, message)
}

/// A failure of the module itself, with what it was doing.
pub(crate) fn internal(what: &str, e: impl std::fmt::Display) -> Failure {
    Failure::new(FailureCode::Internal, format!("{what}: {e}"))
}
