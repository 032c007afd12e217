//! A sales file's life, as the seed documents describe it:
//!
//! ```text
//! create                         -> INITIALIZED
//! upload (presigned URL)         -> UPLOADING
//! clean                          -> UPLOADED -> CLEANING   (uploads module)
//!   cleaned                      -> CLEANED -> PROCESSING  (importer module)
//!   imported                     -> PROCESSED -> FINALIZED
//! import (a cleaned file)        -> PROCESSING
//! reimport (a processed file)    -> REIMPORT -> PROCESSING (replaces, never adds)
//! any failure                    -> FAILED, with a cause
//! ```
//!
//! Every transition is decided here; the API answers 409 when an action
//! does not fit the file's status.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::job::Module;

/// The file types the seed lists, and archives of them.
pub const FILE_TYPES: [&str; 7] = ["CSV", "TXT", "TSV", "XLS", "XLSX", "ZIP", "GZ"];

/// The type a file's name says it is, if it is one of [`FILE_TYPES`].
pub fn type_of_name(name: &str) -> Option<&'static str> {
    let (_, extension) = name.rsplit_once('.')?;
    FILE_TYPES
        .into_iter()
        .find(|t| t.eq_ignore_ascii_case(extension))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FileStatus {
    Initialized,
    Uploading,
    Uploaded,
    Cleaning,
    Cleaned,
    Processing,
    Processed,
    Finalized,
    Failed,
    Reimport,
}

impl FileStatus {
    pub const ALL: [FileStatus; 10] = [
        FileStatus::Initialized,
        FileStatus::Uploading,
        FileStatus::Uploaded,
        FileStatus::Cleaning,
        FileStatus::Cleaned,
        FileStatus::Processing,
        FileStatus::Processed,
        FileStatus::Finalized,
        FileStatus::Failed,
        FileStatus::Reimport,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Initialized => "INITIALIZED",
            FileStatus::Uploading => "UPLOADING",
            FileStatus::Uploaded => "UPLOADED",
            FileStatus::Cleaning => "CLEANING",
            FileStatus::Cleaned => "CLEANED",
            FileStatus::Processing => "PROCESSING",
            FileStatus::Processed => "PROCESSED",
            FileStatus::Finalized => "FINALIZED",
            FileStatus::Failed => "FAILED",
            FileStatus::Reimport => "REIMPORT",
        }
    }

    /// A module is working on the file.
    pub fn is_busy(self) -> bool {
        matches!(
            self,
            FileStatus::Cleaning | FileStatus::Processing | FileStatus::Reimport
        )
    }
}

impl fmt::Display for FileStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FileStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FileStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown status {s:?}"))
    }
}

/// What an operator asks of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileAction {
    Upload,
    Clean,
    Import,
    Reimport,
}

impl FileAction {
    pub const ALL: [FileAction; 4] = [
        FileAction::Upload,
        FileAction::Clean,
        FileAction::Import,
        FileAction::Reimport,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FileAction::Upload => "upload",
            FileAction::Clean => "clean",
            FileAction::Import => "import",
            FileAction::Reimport => "reimport",
        }
    }
}

/// An action that does not fit the file's status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Cannot {action} a file whose status is {status}.")]
pub struct Conflict {
    pub action: &'static str,
    pub status: FileStatus,
}

/// What an action does to a file: its status while the action runs, and the
/// module it starts (if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub status: FileStatus,
    pub module: Option<Module>,
}

/// Decides an operator's action.
pub fn act(status: FileStatus, action: FileAction) -> Result<Step, Conflict> {
    use FileStatus::*;
    let conflict = || Conflict {
        action: action.as_str(),
        status,
    };
    match action {
        // A new upload URL while nothing has been cleaned yet, or to start over.
        FileAction::Upload => match status {
            Initialized | Uploading | Uploaded | Failed => Ok(Step {
                status: Uploading,
                module: None,
            }),
            _ => Err(conflict()),
        },
        FileAction::Clean => match status {
            Uploading | Uploaded => Ok(Step {
                status: Cleaning,
                module: Some(Module::Uploads),
            }),
            _ => Err(conflict()),
        },
        FileAction::Import => match status {
            Cleaned => Ok(Step {
                status: Processing,
                module: Some(Module::Importer),
            }),
            _ => Err(conflict()),
        },
        FileAction::Reimport => match status {
            Processed | Finalized | Failed => Ok(Step {
                status: Reimport,
                module: Some(Module::Importer),
            }),
            _ => Err(conflict()),
        },
    }
}

/// What a finished run leaves the file at, and the action that then
/// follows by itself, if any (decided with [`act`] like an operator's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct After {
    pub status: FileStatus,
    pub then: Option<FileAction>,
}

/// What a module run's end does to the file it worked on. `None` when the
/// file has moved on meanwhile (a late or stray event changes nothing).
pub fn after_run(status: FileStatus, module: Module, succeeded: bool) -> Option<After> {
    use FileStatus::*;
    let after = |status, then| Some(After { status, then });
    match (status, module, succeeded) {
        (Cleaning, Module::Uploads, true) => after(Cleaned, Some(FileAction::Import)),
        (Processing | Reimport, Module::Importer, true) => after(Finalized, None),
        (Cleaning, Module::Uploads, false) | (Processing | Reimport, Module::Importer, false) => {
            after(Failed, None)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::FileStatus::*;
    use super::*;

    #[test]
    fn every_action_from_every_status() {
        for status in FileStatus::ALL {
            for action in FileAction::ALL {
                let allowed = match action {
                    FileAction::Upload => {
                        [Initialized, Uploading, Uploaded, Failed].contains(&status)
                    }
                    FileAction::Clean => [Uploading, Uploaded].contains(&status),
                    FileAction::Import => status == Cleaned,
                    FileAction::Reimport => [Processed, Finalized, Failed].contains(&status),
                };
                let decided = act(status, action);
                assert_eq!(decided.is_ok(), allowed, "{action:?} from {status}");
                if let Err(conflict) = decided {
                    assert_eq!(
                        conflict.to_string(),
                        format!(
                            "Cannot {} a file whose status is {status}.",
                            action.as_str()
                        )
                    );
                }
            }
        }
        assert_eq!(
            act(Uploaded, FileAction::Clean).unwrap(),
            Step {
                status: Cleaning,
                module: Some(Module::Uploads)
            }
        );
        assert_eq!(
            act(Finalized, FileAction::Reimport).unwrap().module,
            Some(Module::Importer)
        );
    }

    #[test]
    fn runs_move_the_file_on_or_fail_it_and_late_events_change_nothing() {
        assert_eq!(
            after_run(Cleaning, Module::Uploads, true).unwrap().status,
            Cleaned
        );
        let cleaned = after_run(Cleaning, Module::Uploads, true).unwrap();
        assert_eq!(cleaned.then, Some(FileAction::Import));
        assert_eq!(
            act(cleaned.status, FileAction::Import).unwrap().module,
            Some(Module::Importer),
            "what follows a run is an action like an operator's"
        );
        assert_eq!(
            after_run(Processing, Module::Importer, true)
                .unwrap()
                .status,
            Finalized
        );
        assert_eq!(
            after_run(Reimport, Module::Importer, true).unwrap().status,
            Finalized
        );
        assert_eq!(
            after_run(Cleaning, Module::Uploads, false).unwrap().status,
            Failed
        );
        assert_eq!(
            after_run(Processing, Module::Importer, false)
                .unwrap()
                .status,
            Failed
        );
        assert_eq!(
            after_run(Finalized, Module::Importer, true),
            None,
            "a late event"
        );
        assert_eq!(
            after_run(Processing, Module::Uploads, true),
            None,
            "another module's event"
        );
        assert_eq!(after_run(Failed, Module::Importer, false), None);
    }

    #[test]
    fn a_file_type_is_read_from_its_name_without_case() {
        assert_eq!(type_of_name("report.xlsx"), Some("XLSX"));
        assert_eq!(type_of_name("Report.Tsv"), Some("TSV"));
        assert_eq!(type_of_name("notes.pdf"), None);
        assert_eq!(type_of_name("no-extension"), None);
    }

    #[test]
    fn statuses_are_the_seed_names() {
        for status in FileStatus::ALL {
            assert_eq!(status.as_str().parse::<FileStatus>().unwrap(), status);
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
    }
}
