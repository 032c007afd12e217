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
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
                if connection_lost(info.message()) =>
            {
                Self::Unavailable(info.message().to_owned())
            }
            // SQLite: another writer held the lock beyond the busy timeout.
            // It passes; the request may be tried again.
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
                if info.message() == "database is locked" =>
            {
                Self::Unavailable("the database was locked by another writer for too long".into())
            }
            // A rollback that could not be sent: the connection went away
            // in the middle of a transaction.
            DieselError::BrokenTransactionManager => {
                Self::Unavailable("the connection broke in the middle of a transaction".into())
            }
            other => Self::Query(other),
        }
    }
}

/// Whether libpq's message says the connection to the server went away
/// (the server restarted, a proxy or the network dropped it): a passing
/// failure, not a wrong query.
fn connection_lost(message: &str) -> bool {
    const LOST: [&str; 8] = [
        "server closed the connection",
        "no connection to the server",
        "connection to server was lost",
        "could not receive data from server",
        "could not send data to server",
        "terminating connection",
        "ssl syscall error",
        "connection reset by peer",
    ];
    let message = message.to_ascii_lowercase();
    LOST.iter().any(|lost| message.contains(lost))
}

impl DbError {
    /// Whether a unique constraint whose name contains `needle` refused the write.
    pub fn is_conflict_on(&self, needle: &str) -> bool {
        matches!(self, Self::Conflict(what) if what.contains(needle))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(message: &str) -> DbError {
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_owned())).into()
    }

    #[test]
    fn a_lost_connection_is_passing_and_a_wrong_query_is_not() {
        for lost in [
            "server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally",
            "no connection to the server\n",
            "could not receive data from server: Connection reset by peer",
            "SSL SYSCALL error: EOF detected",
        ] {
            assert!(matches!(unknown(lost), DbError::Unavailable(_)), "{lost}");
        }
        assert!(matches!(
            unknown("database is locked"),
            DbError::Unavailable(_)
        ));
        assert!(matches!(
            DbError::from(DieselError::BrokenTransactionManager),
            DbError::Unavailable(_)
        ));
        assert!(matches!(
            unknown("column \"nope\" does not exist"),
            DbError::Query(_)
        ));
    }
}
