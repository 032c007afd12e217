use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What a repository call can fail with. Callers match on the first three;
/// anything in `Query` is unexpected and ends as an opaque server error.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("record not found")]
    NotFound,
    /// A unique constraint refused the write; holds the constraint or message.
    #[error("already exists ({0})")]
    Conflict(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Query(DieselError),
}

impl From<DieselError> for DbError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => Self::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => Self::Conflict(
                info.constraint_name()
                    .map(str::to_owned)
                    .unwrap_or_else(|| info.message().to_owned()),
            ),
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                Self::Unavailable(info.message().to_owned())
            }
            other => Self::Query(other),
        }
    }
}

impl DbError {
    /// Whether a unique constraint whose name contains `needle` refused the write.
    pub fn is_conflict_on(&self, needle: &str) -> bool {
        matches!(self, Self::Conflict(what) if what.contains(needle))
    }
}
