//! A processed file made ready to read: its Parquet lines downloaded to a
//! work folder, its usage items' matches and the catalog tracks they name
//! read from the database (each track once for a whole run).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use oas_db::catalog::CatalogEntry;
use oas_domain::job::contract::report::Source;
use oas_platform::storage::{AnyStorage, ObjectKey, ObjectStore, StorageError};

use crate::matches::FileMatches;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The file's lines are gone from storage: the operator reimports it.
    #[error(
        "The imported lines of {name} (file {file_id}) are not found: reimport it, then ask again."
    )]
    Missing { name: String, file_id: i64 },
    #[error("parquet_key: {0}")]
    Key(String),
    #[error("reading the lines: {0}")]
    Storage(#[from] StorageError),
    #[error("reading the matches: {0}")]
    Database(#[from] oas_db::DbError),
}

/// How a module's run fails on a file it cannot read: a file gone from
/// storage is the operator's to mend (its cause says how); a key that is
/// not one is the job's; anything else is OAS's own.
impl From<FetchError> for oas_platform::module::Failure {
    fn from(e: FetchError) -> Self {
        use oas_domain::job::FailureCode;
        let code = match e {
            FetchError::Missing { .. } => FailureCode::Rejected,
            FetchError::Key(_) => FailureCode::InvalidParams,
            FetchError::Storage(_) | FetchError::Database(_) => FailureCode::Internal,
        };
        Self::new(code, e.to_string())
    }
}

/// A file ready to read.
#[derive(Debug)]
pub struct Fetched {
    /// Its lines, in the work folder (removed when dropped).
    pub parquet: PathBuf,
    pub matches: FileMatches,
}

impl Drop for Fetched {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.parquet);
    }
}

/// Downloads the lines of `source` (a file of organisation `org`) into
/// `dir`, and reads its items' matches; the catalog tracks they name that
/// `catalog` does not hold yet are added to it.
pub async fn fetch(
    storage: &AnyStorage,
    db: &oas_db::Database,
    org: i64,
    source: &Source,
    catalog: &mut HashMap<i64, Arc<CatalogEntry>>,
    dir: &Path,
) -> Result<Fetched, FetchError> {
    let parquet = dir.join(format!("lines-{}.parquet", source.file_id));
    let key = ObjectKey::parse(&source.parquet_key).map_err(|e| FetchError::Key(e.to_string()))?;
    storage
        .download(&key, &parquet)
        .await
        .map_err(|e| match e {
            StorageError::NotFound(_) => FetchError::Missing {
                name: source.name.clone(),
                file_id: source.file_id,
            },
            other => FetchError::Storage(other),
        })?;
    // Removes the download if what follows fails.
    let mut fetched = Fetched {
        parquet,
        matches: FileMatches::default(),
    };
    let file_id = source.file_id;
    let mut known: Vec<i64> = catalog.keys().copied().collect();
    known.sort_unstable();
    let (items, entries) = db
        .run(move |conn| {
            let items = oas_db::catalog::item_matches(conn, org, file_id)?;
            let mut wanted: Vec<i64> = items.iter().filter_map(|i| i.track_id).collect();
            wanted.sort_unstable();
            wanted.dedup();
            wanted.retain(|id| known.binary_search(id).is_err());
            let entries = oas_db::catalog::catalog_entries(conn, org, &wanted)?;
            Ok::<_, oas_db::DbError>((items, entries))
        })
        .await?;
    for entry in entries {
        catalog.insert(entry.track_id, Arc::new(entry));
    }
    fetched.matches = FileMatches::new(items, catalog);
    Ok(fetched)
}
