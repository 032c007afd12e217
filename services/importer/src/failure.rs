//! How an import fails: the file's fault (its cause, for the operator) or
//! the module's own.

use oas_domain::job::FailureCode;
use oas_platform::module::Failure;

/// A failure that is the file's fault: its message is the file's cause.
pub(crate) fn rejected(message: impl Into<String>) -> Failure {
    Failure::new(FailureCode::Rejected, message)
}

/// A file that is readable but not a sales report of any known format.
pub(crate) fn not_a_sales_report(message: impl Into<String>) -> Failure {
    Failure::new(FailureCode::NotASalesReport, message)
}

/// A failure of the module itself, with what it was doing.
pub(crate) fn internal(what: &str, e: impl std::fmt::Display) -> Failure {
    Failure::new(FailureCode::Internal, format!("{what}: {e}"))
}
