use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use secrecy::ExposeSecret;

use crate::{DatabaseUrl, DbError};

/// A connection to either engine. Repository functions take
/// `&mut DbConnection` and are written once for both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// Settings every SQLite connection of the pool gets: enforced foreign keys,
/// WAL so readers never block the writer, a wait instead of an immediate
/// "database is locked" when two writers meet, and a page cache of up to
/// 32 MiB (a file's snapshot rows are written in one transaction).
const SQLITE_PRAGMAS: &str = "PRAGMA foreign_keys = ON; \
     PRAGMA busy_timeout = 10000; \
     PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; \
     PRAGMA cache_size = -32768;";

impl DbConnection {
    /// Opens a connection to the engine the URL's scheme names, creating the
    /// SQLite file (and its folder) on first use.
    pub fn open(url: &DatabaseUrl) -> Result<Self, DbError> {
        match url {
            DatabaseUrl::Postgres(secret) => PgConnection::establish(secret.expose_secret())
                .map(Self::Postgres)
                .map_err(|e| DbError::Unavailable(format!("cannot connect to PostgreSQL: {e}"))),
            DatabaseUrl::Sqlite(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        DbError::Unavailable(format!("cannot create {}: {e}", parent.display()))
                    })?;
                }
                let path_str = path.to_str().ok_or_else(|| {
                    DbError::Unavailable(format!("{} is not a UTF-8 path", path.display()))
                })?;
                let mut conn = SqliteConnection::establish(path_str).map_err(|e| {
                    DbError::Unavailable(format!("cannot open {}: {e}", path.display()))
                })?;
                conn.batch_execute(SQLITE_PRAGMAS)?;
                Ok(Self::Sqlite(conn))
            }
        }
    }

    /// Runs `f` in one transaction: all of it or none of it. Every
    /// transaction of the repository is one of these, never diesel's own.
    ///
    /// On SQLite the outermost one takes the write lock as it begins
    /// (`BEGIN IMMEDIATE`). A deferred transaction reads from a snapshot and
    /// asks for the lock at its first write; if another connection wrote in
    /// between, SQLite refuses at once with "database is locked" (WAL's
    /// snapshot rule), whatever the busy timeout. Taken at the start, the
    /// lock is waited for like any other write. PostgreSQL's transactions
    /// are unchanged; a nested call is a savepoint on both.
    pub fn write_transaction<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Self) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        type Manager = <DbConnection as Connection>::TransactionManager;
        let outermost = Manager::transaction_manager_status_mut(self)
            .transaction_depth()?
            .is_none();
        match self {
            Self::Sqlite(inner) if outermost => {
                AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?
            }
            _ => Manager::begin_transaction(self)?,
        }
        match f(self) {
            Ok(value) => {
                Manager::commit_transaction(self)?;
                Ok(value)
            }
            // As diesel's own: the caller's error wins unless the rollback
            // itself failed for another reason than a broken manager.
            Err(error) => match Manager::rollback_transaction(self) {
                Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
                Err(rollback) => Err(rollback.into()),
            },
        }
    }
}
