//! A catalog import's life:
//!
//! ```text
//! create (presigned URL)         -> UPLOADING
//! process                        -> PROCESSING  (uploads module cleans it,
//!                                                then catalogue-matching reads it)
//!   read into the catalog        -> DONE
//!   any failure                  -> FAILED, with a cause; processed again
//!                                   once its bytes are right
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The file types a catalog comes in.
pub const CATALOG_FILE_TYPES: [&str; 5] = ["CSV", "TSV", "TXT", "XLS", "XLSX"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ImportStatus {
    Initialized,
    Uploading,
    Processing,
    Done,
    Failed,
}

impl ImportStatus {
    pub const ALL: [ImportStatus; 5] = [
        ImportStatus::Initialized,
        ImportStatus::Uploading,
        ImportStatus::Processing,
        ImportStatus::Done,
        ImportStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Initialized => "INITIALIZED",
            ImportStatus::Uploading => "UPLOADING",
            ImportStatus::Processing => "PROCESSING",
            ImportStatus::Done => "DONE",
            ImportStatus::Failed => "FAILED",
        }
    }
}

impl fmt::Display for ImportStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ImportStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImportStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown status {s:?}"))
    }
}

/// Whether an import in `status` can be processed, and if not, why.
pub fn process(status: ImportStatus) -> Result<ImportStatus, &'static str> {
    match status {
        ImportStatus::Uploading | ImportStatus::Failed => Ok(ImportStatus::Processing),
        ImportStatus::Initialized => {
            Err("Its bytes are not uploaded yet: PUT them to its presigned URL first.")
        }
        ImportStatus::Processing => Err("It is being processed: wait until it ends."),
        ImportStatus::Done => Err("It is done: to import the catalog again, create a new import."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_uploaded_or_failed_import_is_processed() {
        for status in ImportStatus::ALL {
            let allowed = matches!(status, ImportStatus::Uploading | ImportStatus::Failed);
            assert_eq!(process(status).is_ok(), allowed, "{status}");
            assert_eq!(status.as_str().parse::<ImportStatus>().unwrap(), status);
        }
    }
}
