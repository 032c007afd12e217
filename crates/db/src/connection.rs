use diesel::connection::SimpleConnection;
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
}
