//! A sales file's life, as the seed documents describe it:
//!
//! ```text
//! create                         -> INITIALIZED
//! upload (presigned URL)         -> UPLOADING
//! clean                          -> UPLOADED -> CLEANING   (uploads module)
//!   cleaned                      -> CLEANED -> PROCESSING  (importer module)
//!   imported                     -> PROCESSED -> FINALIZED  (catalogue-matching module;
//!                                   at once without a catalog; a failed
//!                                   match leaves it PROCESSED, with a cause)
//! match (a processed file)       -> matched again, status kept
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
    /// Match the file's usage items to the catalog (again).
    Match,
}

impl FileAction {
    pub const ALL: [FileAction; 5] = [
        FileAction::Upload,
        FileAction::Clean,
        FileAction::Import,
        FileAction::Reimport,
        FileAction::Match,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FileAction::Upload => "upload",
            FileAction::Clean => "clean",
            FileAction::Import => "import",
            FileAction::Reimport => "reimport",
            FileAction::Match => "match",
        }
    }
}

/// What a file holds that an action can start from, beside its status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Inputs {
    /// Its bytes as uploaded are stored.
    pub upload: bool,
    /// A cleaned table the importer can read.
    pub cleaned: bool,
    /// It was an archive, now expanded into files of its own (which are
    /// imported, not the archive).
    pub archive: bool,
}

/// An action that does not fit the file: why, and which action does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Cannot {action} a file whose status is {status}. {hint}")]
pub struct Conflict {
    pub action: &'static str,
    pub status: FileStatus,
    pub hint: &'static str,
}

// What a refusal tells the operator to do instead.
const WAIT: &str = "A module is working on it: wait until it ends.";
const UPLOAD_FIRST: &str = "Upload its bytes first: process it with the action \"upload\" and PUT them to the URL it answers.";
const CLEAN_FIRST: &str = "Clean it first: process it with the action \"clean\".";
const IMPORT_IT: &str =
    "It is cleaned and waits for its import: process it with the action \"import\".";
const REIMPORT_IT: &str =
    "It was cleaned already: to import it again, process it with the action \"reimport\".";
const ARCHIVE: &str = "It is an archive, expanded into files of their own: process those instead.";
const FAILED_AT_CLEANING: &str = "It failed before it was cleaned: process it with the action \"clean\" to clean it again, or \"upload\" to replace its bytes.";
const NOTHING_STORED: &str =
    "None of its bytes are stored: process it with the action \"upload\" to send them again.";
const CREATE_NEW: &str = "Its bytes were cleaned already: to send other bytes, create a new file.";
const NOT_IMPORTED: &str =
    "It has no imported lines to match: process it with the action \"reimport\" first.";
const CLEAN_COPY_GONE: &str =
    "Its clean copy is not found: create a new file and upload the report again.";

/// What an action does to a file: its status while the action runs, and the
/// module it starts (if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub status: FileStatus,
    pub module: Option<Module>,
}

/// Decides an operator's action on a file in `status` holding `inputs`. A
/// failed file can be processed again from the first stage it has input
/// for: new bytes (`upload`), its upload cleaned again (`clean`), or its
/// clean copy imported again (`reimport`). A refusal says which action
/// fits instead.
pub fn act(status: FileStatus, action: FileAction, inputs: Inputs) -> Result<Step, Conflict> {
    use FileStatus::*;
    let refuse = |hint| {
        Err(Conflict {
            action: action.as_str(),
            status,
            hint,
        })
    };
    let go = |status, module| Ok(Step { status, module });
    if status.is_busy() {
        return refuse(WAIT);
    }
    match action {
        // A new upload URL while nothing has been cleaned yet, or to start over.
        FileAction::Upload => match status {
            Initialized | Uploading | Uploaded | Failed => go(Uploading, None),
            _ => refuse(CREATE_NEW),
        },
        FileAction::Clean => match status {
            Uploading | Uploaded | Failed if inputs.upload => go(Cleaning, Some(Module::Uploads)),
            Initialized | Uploading | Uploaded => refuse(UPLOAD_FIRST),
            Failed => refuse(NOTHING_STORED),
            _ if inputs.archive => refuse(ARCHIVE),
            Cleaned => refuse(IMPORT_IT),
            _ => refuse(REIMPORT_IT),
        },
        FileAction::Import => match status {
            Cleaned if inputs.cleaned => go(Processing, Some(Module::Importer)),
            Initialized | Uploading => refuse(UPLOAD_FIRST),
            Uploaded => refuse(CLEAN_FIRST),
            _ if inputs.archive => refuse(ARCHIVE),
            Cleaned => refuse(CLEAN_COPY_GONE),
            _ if inputs.cleaned => refuse(REIMPORT_IT),
            Failed if inputs.upload => refuse(FAILED_AT_CLEANING),
            Failed => refuse(NOTHING_STORED),
            _ => refuse(CLEAN_COPY_GONE),
        },
        FileAction::Reimport => match status {
            Processed | Finalized | Failed if inputs.cleaned => {
                go(Reimport, Some(Module::Importer))
            }
            Initialized | Uploading => refuse(UPLOAD_FIRST),
            Uploaded => refuse(CLEAN_FIRST),
            _ if inputs.archive => refuse(ARCHIVE),
            Cleaned if inputs.cleaned => refuse(IMPORT_IT),
            Failed if inputs.upload => refuse(FAILED_AT_CLEANING),
            Failed => refuse(NOTHING_STORED),
            _ => refuse(CLEAN_COPY_GONE),
        },
        // Matching reads the imported lines; the file keeps its status.
        FileAction::Match => match status {
            Processed | Finalized if !inputs.archive => go(status, Some(Module::CatalogueMatching)),
            Initialized | Uploading => refuse(UPLOAD_FIRST),
            Uploaded => refuse(CLEAN_FIRST),
            _ if inputs.archive => refuse(ARCHIVE),
            Cleaned if inputs.cleaned => refuse(IMPORT_IT),
            Failed if inputs.cleaned => refuse(NOT_IMPORTED),
            Failed if inputs.upload => refuse(FAILED_AT_CLEANING),
            Failed => refuse(NOTHING_STORED),
            _ => refuse(CLEAN_COPY_GONE),
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
        (Processing | Reimport, Module::Importer, true) => {
            after(Processed, Some(FileAction::Match))
        }
        (Cleaning, Module::Uploads, false) | (Processing | Reimport, Module::Importer, false) => {
            after(Failed, None)
        }
        // A match that fails leaves the file where it was, with the cause:
        // its lines stand, and it can be matched again.
        (Processed | Finalized, Module::CatalogueMatching, true) => after(Finalized, None),
        (Processed | Finalized, Module::CatalogueMatching, false) => after(status, None),
        _ => None,
    }
}

/// Where a run that found its file is not a sales report leaves a member
/// of an archive (a statement or a reference table in a distributor's
/// bundle): at the stage it reached, saying why, rather than FAILED; it
/// can be taken on from there like any file at that stage.
pub fn skipped(status: FileStatus, module: Module) -> Option<FileStatus> {
    use FileStatus::*;
    match (status, module) {
        (Cleaning, Module::Uploads) => Some(Uploaded),
        (Processing | Reimport, Module::Importer) => Some(Cleaned),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::FileStatus::*;
    use super::*;

    /// Every combination of what a file may hold.
    fn all_inputs() -> Vec<Inputs> {
        let mut all = Vec::new();
        for bits in 0..8u8 {
            all.push(Inputs {
                upload: bits & 1 != 0,
                cleaned: bits & 2 != 0,
                archive: bits & 4 != 0,
            });
        }
        all
    }

    /// What a file in `status` can really hold.
    fn possible(status: FileStatus, inputs: Inputs) -> bool {
        match status {
            Initialized => inputs == Inputs::default(),
            Uploading => !inputs.cleaned && !inputs.archive,
            Uploaded | Cleaning => inputs.upload && !inputs.cleaned && !inputs.archive,
            Cleaned => inputs.upload && (inputs.cleaned != inputs.archive),
            Processing | Processed | Finalized | Reimport => inputs.cleaned != inputs.archive,
            Failed => !(inputs.cleaned && inputs.archive),
        }
    }

    #[test]
    fn every_action_from_every_status() {
        for status in FileStatus::ALL {
            for inputs in all_inputs() {
                for action in FileAction::ALL {
                    let allowed = match action {
                        FileAction::Upload => {
                            [Initialized, Uploading, Uploaded, Failed].contains(&status)
                        }
                        FileAction::Clean => {
                            [Uploading, Uploaded, Failed].contains(&status) && inputs.upload
                        }
                        FileAction::Import => status == Cleaned && inputs.cleaned,
                        FileAction::Reimport => {
                            [Processed, Finalized, Failed].contains(&status) && inputs.cleaned
                        }
                        FileAction::Match => {
                            [Processed, Finalized].contains(&status) && !inputs.archive
                        }
                    };
                    let decided = act(status, action, inputs);
                    assert_eq!(
                        decided.is_ok(),
                        allowed,
                        "{action:?} from {status} with {inputs:?}"
                    );
                    if let Err(conflict) = decided {
                        assert!(conflict.to_string().starts_with(&format!(
                            "Cannot {} a file whose status is {status}. ",
                            action.as_str()
                        )));
                    }
                }
            }
        }
        let uploaded = Inputs {
            upload: true,
            ..Inputs::default()
        };
        assert_eq!(
            act(Uploaded, FileAction::Clean, uploaded).unwrap(),
            Step {
                status: Cleaning,
                module: Some(Module::Uploads)
            }
        );
        let cleaned = Inputs {
            upload: true,
            cleaned: true,
            archive: false,
        };
        assert_eq!(
            act(Finalized, FileAction::Reimport, cleaned)
                .unwrap()
                .module,
            Some(Module::Importer)
        );
    }

    /// Each refusal of a file that can really be, names an action that
    /// fits the same file, or none when waiting or a new file is the way.
    #[test]
    fn a_refusal_names_an_action_that_fits() {
        for status in FileStatus::ALL {
            for inputs in all_inputs().into_iter().filter(|i| possible(status, *i)) {
                for action in FileAction::ALL {
                    let Err(conflict) = act(status, action, inputs) else {
                        continue;
                    };
                    let named: Vec<FileAction> = FileAction::ALL
                        .into_iter()
                        .filter(|a| conflict.hint.contains(&format!("\"{}\"", a.as_str())))
                        .collect();
                    let no_way_but_waiting_or_anew = status.is_busy()
                        || [CREATE_NEW, CLEAN_COPY_GONE, ARCHIVE].contains(&conflict.hint);
                    assert_eq!(
                        named.is_empty(),
                        no_way_but_waiting_or_anew,
                        "{conflict} ({inputs:?})"
                    );
                    for other in named {
                        assert!(
                            act(status, other, inputs).is_ok(),
                            "{conflict} names {other:?}, which does not fit either ({inputs:?})"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_file_that_failed_starts_again_from_the_first_stage_it_has_input_for() {
        let failed_at_cleaning = Inputs {
            upload: true,
            ..Inputs::default()
        };
        assert!(act(Failed, FileAction::Clean, failed_at_cleaning).is_ok());
        assert!(act(Failed, FileAction::Upload, failed_at_cleaning).is_ok());
        let refused = act(Failed, FileAction::Reimport, failed_at_cleaning).unwrap_err();
        assert!(
            refused.to_string().contains("failed before it was cleaned"),
            "{refused}"
        );
        let failed_at_import = Inputs {
            upload: true,
            cleaned: true,
            archive: false,
        };
        assert_eq!(
            act(Failed, FileAction::Reimport, failed_at_import)
                .unwrap()
                .status,
            Reimport
        );
        let archive = Inputs {
            upload: true,
            cleaned: false,
            archive: true,
        };
        let refused = act(Finalized, FileAction::Reimport, archive).unwrap_err();
        assert!(refused.to_string().contains("archive"), "{refused}");
    }

    #[test]
    fn runs_move_the_file_on_or_fail_it_and_late_events_change_nothing() {
        assert_eq!(
            after_run(Cleaning, Module::Uploads, true).unwrap().status,
            Cleaned
        );
        let cleaned = after_run(Cleaning, Module::Uploads, true).unwrap();
        assert_eq!(cleaned.then, Some(FileAction::Import));
        let inputs = Inputs {
            upload: true,
            cleaned: true,
            archive: false,
        };
        assert_eq!(
            act(cleaned.status, FileAction::Import, inputs)
                .unwrap()
                .module,
            Some(Module::Importer),
            "what follows a run is an action like an operator's"
        );
        let imported = after_run(Processing, Module::Importer, true).unwrap();
        assert_eq!(
            imported,
            After {
                status: Processed,
                then: Some(FileAction::Match)
            }
        );
        assert_eq!(
            act(imported.status, FileAction::Match, inputs).unwrap(),
            Step {
                status: Processed,
                module: Some(Module::CatalogueMatching)
            }
        );
        assert_eq!(
            after_run(Reimport, Module::Importer, true).unwrap().status,
            Processed
        );
        assert_eq!(
            after_run(Processed, Module::CatalogueMatching, true)
                .unwrap()
                .status,
            Finalized
        );
        assert_eq!(
            after_run(Processed, Module::CatalogueMatching, false)
                .unwrap()
                .status,
            Processed,
            "a failed match leaves the lines standing"
        );
        assert_eq!(
            after_run(Finalized, Module::CatalogueMatching, false)
                .unwrap()
                .status,
            Finalized
        );
        assert_eq!(
            after_run(Reimport, Module::CatalogueMatching, true),
            None,
            "a match overtaken by a reimport"
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
