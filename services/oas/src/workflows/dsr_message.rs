//! DDEX DSR messages sent in several files (`1of2`, `2of2`): every file
//! carries the message's summary records, whose revenue is shared across
//! the lines of all its files, so a file is imported once every file of
//! its message is cleaned, and each import reads the others' clean copies.

use oas_db::dsr_messages::MessagePart as StoredPart;
use oas_db::jobs::JobRecord;
use oas_db::sales_files::{SalesFile, StatusChange};
use oas_domain::file::{FileAction, FileStatus};
use oas_domain::job::Module;
use oas_domain::job::contract::importer::OtherPart;
use oas_domain::job::contract::uploads::{self, MessagePart};

use super::files::{self, has_clean_copy};
use crate::background::{BackgroundError, BackgroundResult};
use crate::state::AppState;

/// Records which file of which message a cleaned file is (`part`, from its
/// `HEAD`), or forgets it when it is not one of several. Answers why the
/// file is refused instead: another file of the organisation already is
/// that file of that message (imported twice, its lines would count twice).
pub async fn record_part(
    state: &AppState,
    file: &SalesFile,
    part: Option<&MessagePart>,
) -> BackgroundResult<Option<String>> {
    let part = part.map(|part| StoredPart {
        file_id: file.id,
        organisation_id: file.organisation_id,
        sender: part.sender.clone(),
        message_id: part.message_id.clone(),
        file_number: i32::try_from(part.file_number).unwrap_or(i32::MAX),
        number_of_files: i32::try_from(part.number_of_files).unwrap_or(i32::MAX),
    });
    let (file_id, organisation_id) = (file.id, file.organisation_id);
    let refused = state
        .db
        .run(move |conn| {
            let Some(part) = part else {
                StoredPart::forget(conn, file_id)?;
                return Ok(None);
            };
            let files = StoredPart::files_of(conn, organisation_id, &part)?;
            let already = files.iter().find(|(other, found)| {
                other.file_number == part.file_number
                    && found.id != file_id
                    && has_clean_copy(found)
            });
            if let Some((_, found)) = already {
                StoredPart::forget(conn, file_id)?;
                return Ok(Some(format!(
                    "File {} of DDEX DSR message {} was already uploaded as file {} ({}); imported twice, its lines would count twice. Delete one of the two.",
                    part.file_number, part.message_id, found.id, found.filename
                )));
            }
            StoredPart::save(conn, &part)?;
            Ok::<_, oas_db::DbError>(None)
        })
        .await?;
    Ok(refused)
}

/// A file of a DDEX DSR message sent in several files, and the message's
/// other files as far as they are cleaned.
struct Message {
    part: StoredPart,
    /// The cleaned file of each other file number.
    others: Vec<(i32, SalesFile)>,
    /// The file numbers that have no cleaned file yet.
    missing: Vec<i32>,
    /// Other cleaned files of the same number, or of the same message with
    /// another count of files: the operator must choose.
    conflicts: Vec<(StoredPart, SalesFile)>,
}

/// File numbers named in a cause, at most.
const NAMED: usize = 10;

impl Message {
    /// Why the file cannot be imported yet, if it cannot.
    fn waiting(&self) -> Option<String> {
        let part = &self.part;
        let this = format!(
            "File {} of {} of DDEX DSR message {}",
            part.file_number, part.number_of_files, part.message_id
        );
        if let Some((other, file)) = self.conflicts.first() {
            return Some(match other.number_of_files == part.number_of_files {
                true => format!(
                    "{this} was also uploaded as file {} ({}): delete one of the two, then import this one.",
                    file.id, file.filename
                ),
                false => format!(
                    "{this}: file {} ({}) says the message has {} files. Delete the file that is wrong, then import this one.",
                    file.id, file.filename, other.number_of_files
                ),
            });
        }
        if self.missing.is_empty() {
            return None;
        }
        let mut named: Vec<String> = self
            .missing
            .iter()
            .take(NAMED)
            .map(i32::to_string)
            .collect();
        if self.missing.len() > NAMED {
            named.push(format!("and {} more", self.missing.len() - NAMED));
        }
        Some(format!(
            "{this}: it is imported once every file of the message is cleaned, as the message's summary revenue is shared across its files. Still to upload and clean: file {}.",
            named.join(", ")
        ))
    }
}

/// The message `file` is one file of, if it is one of several.
async fn message_of(state: &AppState, file: &SalesFile) -> BackgroundResult<Option<Message>> {
    let (file_id, organisation_id) = (file.id, file.organisation_id);
    let message = state
        .db
        .run(move |conn| {
            let Some(part) = StoredPart::of_file(conn, file_id)? else {
                return Ok(None);
            };
            let files = StoredPart::files_of(conn, organisation_id, &part)?;
            let conflicts = files
                .iter()
                .filter(|(other, file)| {
                    file.id != file_id
                        && has_clean_copy(file)
                        && (other.number_of_files != part.number_of_files
                            || other.file_number == part.file_number)
                })
                .cloned()
                .collect();
            let (mut others, mut missing) = (Vec::new(), Vec::new());
            for number in (1..=part.number_of_files).filter(|n| *n != part.file_number) {
                // The newest cleaned file of that number.
                let found = files.iter().find(|(other, file)| {
                    other.file_number == number
                        && other.number_of_files == part.number_of_files
                        && has_clean_copy(file)
                });
                match found {
                    Some((_, file)) => others.push((number, file.clone())),
                    None => missing.push(number),
                }
            }
            Ok::<_, oas_db::DbError>(Some(Message {
                part,
                others,
                missing,
                conflicts,
            }))
        })
        .await?;
    Ok(message)
}

/// Why a file cannot be imported yet: a file of a DDEX DSR message whose
/// other files are not all cleaned.
pub async fn waiting_for(state: &AppState, file: &SalesFile) -> BackgroundResult<Option<String>> {
    Ok(message_of(state, file)
        .await?
        .and_then(|message| message.waiting()))
}

/// For a file just cleaned that is one file of a DDEX DSR message: when the
/// message is whole, starts the import of its other files that waited for
/// it, and the reimport of those imported before (the shares of the
/// summary revenue depend on every file's lines), and answers `true` (the
/// file's own import may start); else says in the file's `status_cause`
/// what it waits for and answers `false`.
///
/// Files cleaned at the same time each look after their own move to
/// CLEANED, so the last to look finds the message whole; a file whose
/// import another has started meanwhile is not started twice (its move
/// from CLEANED fails).
pub async fn start_message(state: &AppState, file: &SalesFile) -> BackgroundResult<bool> {
    let Some(message) = message_of(state, file).await? else {
        return Ok(true);
    };
    if let Some(cause) = message.waiting() {
        let change = StatusChange {
            status_cause: Some(Some(cause)),
            ..Default::default()
        };
        files::transition(state, file.id, FileStatus::Cleaned, change).await?;
        return Ok(false);
    }
    for (_, other) in &message.others {
        let (from, action) = match other.status.parse::<FileStatus>() {
            Ok(FileStatus::Cleaned) => (FileStatus::Cleaned, FileAction::Import),
            Ok(status @ (FileStatus::Processed | FileStatus::Finalized)) => {
                (status, FileAction::Reimport)
            }
            _ => continue,
        };
        files::start_next(state, other, from, action).await;
    }
    Ok(true)
}

/// The clean copies of the other files of the file's DDEX DSR message, if
/// it is one of several; refused while they are not all cleaned.
pub async fn other_parts(state: &AppState, file: &SalesFile) -> BackgroundResult<Vec<OtherPart>> {
    let Some(message) = message_of(state, file).await? else {
        return Ok(Vec::new());
    };
    if let Some(cause) = message.waiting() {
        return Err(BackgroundError::Refused(cause));
    }
    let mut parts = Vec::new();
    for (number, other) in message.others {
        let other_id = other.id;
        let output = state
            .db
            .run(move |conn| JobRecord::latest_output(conn, other_id, Module::Uploads.as_str()))
            .await?;
        let key = output
            .as_deref()
            .and_then(|o| serde_json::from_str::<uploads::Output>(o).ok())
            .and_then(|o| o.cleaned.clean_key().map(str::to_owned))
            .ok_or_else(|| {
                BackgroundError::Refused(format!(
                    "File {number} of DDEX DSR message {} ({}, file {other_id}) has no cleaned copy: process it with the action \"clean\" again.",
                    message.part.message_id, other.filename
                ))
            })?;
        parts.push(OtherPart {
            file_number: u32::try_from(number).unwrap_or_default(),
            clean_key: key,
        });
    }
    Ok(parts)
}
