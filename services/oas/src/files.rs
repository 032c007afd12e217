//! What module runs do to the sales file they work on: the gateway side of
//! the file's status machine (`oas_domain::file`).

use chrono::Utc;
use oas_db::dsr_messages::MessagePart;
use oas_db::formats::FormatRecord;
use oas_db::jobs::{self as job_status, JobRecord};
use oas_db::organisations::{ExchangeRate, Organisation};
use oas_db::sales_files::{NewSalesFile, SalesFile, StatusChange};
use oas_domain::file::{FileStatus, after_run};
use oas_domain::job::Module;
use oas_platform::storage::{ObjectKey, ObjectStore};
use serde_json::{Value, json};

use crate::http::ApiError;
use crate::jobs::{self, Launch};
use crate::state::AppState;

/// Applies a finished run to its file, if it has one: the file moves on
/// (starting the next module), or fails with the run's reason. A file that
/// has moved on meanwhile is left alone.
pub async fn after_job(state: &AppState, job: &JobRecord) -> Result<(), ApiError> {
    let Some(file_id) = job.file_id else {
        return Ok(());
    };
    let Ok(module) = job.module.parse::<Module>() else {
        return Ok(());
    };
    let file = match state
        .db
        .run(move |conn| SalesFile::find(conn, file_id))
        .await
    {
        Ok(file) => file,
        Err(oas_db::DbError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let Ok(status) = file.status.parse::<FileStatus>() else {
        return Ok(());
    };
    let succeeded = job.status == job_status::SUCCEEDED;
    let output: Value = job
        .output
        .as_deref()
        .and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or(Value::Null);
    if succeeded && module == Module::Uploads && status == FileStatus::Cleaning {
        if let Some(hash) = output["content_hash"].as_str() {
            let (hash, org) = (hash.to_owned(), file.organisation_id);
            let duplicate = state
                .db
                .run(move |conn| {
                    let change = StatusChange {
                        content_hash: Some(Some(hash.clone())),
                        ..Default::default()
                    };
                    SalesFile::transition(conn, file_id, FileStatus::Cleaning.as_str(), &change)?;
                    SalesFile::same_content(conn, org, &hash, file_id)
                })
                .await?;
            if let Some(other) = duplicate {
                let cause = format!(
                    "The same report was already uploaded as file {} ({}). To import it again anyway, process this file with the action \"reimport\".",
                    other.id, other.filename
                );
                return fail(state, file_id, status, module, &cause, &cause).await;
            }
        }
        if output["kind"] == "archive" {
            let Err(e) = expand(state, &file, &output).await else {
                return Ok(());
            };
            // Never left CLEANING: the archive fails, saying why; members
            // already made stay, each a file of its own.
            tracing::warn!(file_id, error = %e, "the archive could not be expanded");
            let cause = format!(
                "The archive was read but its files could not all be stored as files of their own ({e}). Process it with the action \"clean\" to try again."
            );
            return fail(state, file_id, status, module, &cause, &e.to_string()).await;
        }
    }
    if succeeded
        && module == Module::Uploads
        && status == FileStatus::Cleaning
        && let Some(cause) = record_message_part(state, &file, &output["message"]).await?
    {
        return fail(state, file_id, status, module, &cause, &cause).await;
    }
    let Some(step) = after_run(status, module, succeeded) else {
        tracing::info!(file_id, job_id = %job.id, status = %status, "file has moved on; run outcome not applied");
        return Ok(());
    };
    let mut change = StatusChange {
        status: Some(step.status.as_str().to_owned()),
        module_response: Some(Some(format!("{module}: {}", job.status))),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    };
    if step.status == FileStatus::Failed {
        let message = job
            .error_message
            .clone()
            .unwrap_or_else(|| format!("The {module} module failed."));
        change.status_cause = Some(Some(cause(module, job)));
        change.error_message = Some(Some(message));
    } else {
        change.status_cause = Some(None);
        change.error_message = Some(None);
    }
    if succeeded && module == Module::Importer {
        change.status_cause = Some(left_out(&job.params));
        change.total_rows = Some(output["lines"].as_i64());
        change.total_artists = Some(output["artists"].as_i64());
        change.total_local = Some(output["total"].as_str().map(str::to_owned));
        if file.reporting_period.is_none() {
            change.reporting_period = Some(output["period"].as_str().map(str::to_owned));
        }
        // The rate the import used stays in its job's output: written into
        // the file's own exchange_rate it would override the organisation's
        // corrected rates at the next reimport.
    }
    let from = status.as_str();
    let moved = state
        .db
        .run(move |conn| SalesFile::transition(conn, file_id, from, &change))
        .await?;
    if !moved {
        return Ok(());
    }
    if step.module == Some(Module::Importer) && !start_message(state, &file).await? {
        return Ok(());
    }
    if let Some(next) = step.module {
        // The event itself is applied; a next run that cannot start has
        // already failed the file with its reason.
        if let Err(e) = start(
            state,
            &file,
            step.status,
            FileStatus::Processing,
            next,
            "import",
        )
        .await
        {
            tracing::warn!(file_id, error = %e, "the next run did not start");
        }
    }
    Ok(())
}

/// Records which file of which DDEX DSR message a cleaned file is, when
/// the message was sent in several files (`message`, the uploads module's
/// word); forgets it otherwise. Answers why the file is refused instead:
/// another file of the organisation already is that file of that message
/// (imported twice, its lines would count twice).
async fn record_message_part(
    state: &AppState,
    file: &SalesFile,
    message: &Value,
) -> Result<Option<String>, ApiError> {
    let number = |name: &str| message[name].as_i64().and_then(|n| i32::try_from(n).ok());
    let part = match (
        message["message_id"].as_str(),
        number("file_number"),
        number("number_of_files"),
    ) {
        (Some(id), Some(file_number), Some(number_of_files)) if number_of_files > 1 => {
            Some(MessagePart {
                file_id: file.id,
                organisation_id: file.organisation_id,
                sender: message["sender"].as_str().unwrap_or_default().to_owned(),
                message_id: id.to_owned(),
                file_number,
                number_of_files,
            })
        }
        _ => None,
    };
    let (file_id, organisation_id) = (file.id, file.organisation_id);
    let refused = state
        .db
        .run(move |conn| {
            let Some(part) = part else {
                MessagePart::forget(conn, file_id)?;
                return Ok(None);
            };
            let files = MessagePart::files_of(conn, organisation_id, &part)?;
            let already = files.iter().find(|(other, found)| {
                other.file_number == part.file_number
                    && found.id != file_id
                    && has_clean_copy(found)
            });
            if let Some((_, found)) = already {
                MessagePart::forget(conn, file_id)?;
                return Ok(Some(format!(
                    "File {} of DDEX DSR message {} was already uploaded as file {} ({}); imported twice, its lines would count twice. Delete one of the two.",
                    part.file_number, part.message_id, found.id, found.filename
                )));
            }
            MessagePart::save(conn, &part)?;
            Ok::<_, oas_db::DbError>(None)
        })
        .await?;
    Ok(refused)
}

/// A file of a DDEX DSR message sent in several files, and the message's
/// other files as far as they are cleaned.
struct Message {
    part: MessagePart,
    /// The cleaned file of each other file number.
    others: Vec<(i32, SalesFile)>,
    /// The file numbers that have no cleaned file yet.
    missing: Vec<i32>,
    /// Other cleaned files of the same number, or of the same message with
    /// another count of files: the operator must choose.
    conflicts: Vec<(MessagePart, SalesFile)>,
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

/// Whether a file of a message has a clean copy to import: it is cleaned
/// or further on, or only its import failed.
fn has_clean_copy(file: &SalesFile) -> bool {
    match file.status.parse::<FileStatus>() {
        Ok(
            FileStatus::Cleaned
            | FileStatus::Processing
            | FileStatus::Processed
            | FileStatus::Finalized
            | FileStatus::Reimport,
        ) => true,
        Ok(FileStatus::Failed) => file
            .module_response
            .as_deref()
            .is_some_and(|r| r.starts_with(Module::Importer.as_str())),
        _ => false,
    }
}

/// The message `file` is one file of, if it is one of several.
async fn message_of(state: &AppState, file: &SalesFile) -> Result<Option<Message>, ApiError> {
    let (file_id, organisation_id) = (file.id, file.organisation_id);
    let message = state
        .db
        .run(move |conn| {
            let Some(part) = MessagePart::of_file(conn, file_id)? else {
                return Ok(None);
            };
            let files = MessagePart::files_of(conn, organisation_id, &part)?;
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
pub async fn waiting_for(state: &AppState, file: &SalesFile) -> Result<Option<String>, ApiError> {
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
async fn start_message(state: &AppState, file: &SalesFile) -> Result<bool, ApiError> {
    let Some(message) = message_of(state, file).await? else {
        return Ok(true);
    };
    if let Some(cause) = message.waiting() {
        let change = StatusChange {
            status_cause: Some(Some(cause)),
            ..Default::default()
        };
        let id = file.id;
        state
            .db
            .run(move |conn| SalesFile::transition(conn, id, FileStatus::Cleaned.as_str(), &change))
            .await?;
        return Ok(false);
    }
    for (_, other) in &message.others {
        let (from, to, action) = match other.status.parse::<FileStatus>() {
            Ok(FileStatus::Cleaned) => (FileStatus::Cleaned, FileStatus::Processing, "import"),
            Ok(status @ (FileStatus::Processed | FileStatus::Finalized)) => {
                (status, FileStatus::Reimport, "reimport")
            }
            _ => continue,
        };
        let started = start(state, other, from, to, Module::Importer, action).await;
        if let Err(e) = started {
            tracing::info!(file_id = other.id, error = %e, "a file of the message was not started");
        }
    }
    Ok(true)
}

/// What an import left out, in the words of the file's `status_cause`:
/// the lines cleaning found after the table (a summary block).
fn left_out(params: &str) -> Option<String> {
    let params: Value = serde_json::from_str(params).ok()?;
    let trailing = params["clean"]["trailing_lines"]
        .as_u64()
        .filter(|n| *n > 0)?;
    Some(format!(
        "Imported. {trailing} line(s) after the table, below a blank line and shaped otherwise, were taken for a summary block and left out."
    ))
}

/// Fails the file with `cause`.
async fn fail(
    state: &AppState,
    file_id: i64,
    from: FileStatus,
    module: Module,
    cause: &str,
    message: &str,
) -> Result<(), ApiError> {
    let change = StatusChange {
        status: Some(FileStatus::Failed.as_str().to_owned()),
        status_cause: Some(Some(cause.to_owned())),
        error_message: Some(Some(message.to_owned())),
        module_response: Some(Some(format!("{module}: {}", job_status::SUCCEEDED))),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    };
    let from = from.as_str();
    state
        .db
        .run(move |conn| SalesFile::transition(conn, file_id, from, &change))
        .await?;
    Ok(())
}

/// An archive's members become files of their own, linked to it, each
/// cleaned in turn; the archive itself is then done.
async fn expand(state: &AppState, archive: &SalesFile, output: &Value) -> Result<(), ApiError> {
    let members = output["members"].as_array().cloned().unwrap_or_default();
    let mut made = Vec::new();
    for member in &members {
        let (Some(name), Some(key)) = (member["name"].as_str(), member["key"].as_str()) else {
            continue;
        };
        let size = member["size"].as_i64().unwrap_or(0);
        let filetype = name
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_uppercase())
            .filter(|ext| crate::routes::files::FILE_TYPES.contains(&ext.as_str()))
            .unwrap_or_else(|| "TXT".to_owned());
        let (name, parent) = (name.to_owned(), archive.clone());
        let uuid = crate::routes::files::short_id();
        let child = state
            .db
            .run(move |conn| {
                let now = Utc::now().naive_utc();
                SalesFile::insert(
                    conn,
                    &NewSalesFile {
                        uuid: &uuid,
                        organisation_id: parent.organisation_id,
                        filename: &name,
                        filetype: &filetype,
                        filesize: size,
                        mongo_db_id: &parent.mongo_db_id,
                        status: FileStatus::Uploaded.as_str(),
                        reporting_period: parent.reporting_period.as_deref(),
                        upload_mode: &parent.upload_mode,
                        response_module: &parent.response_module,
                        exchange_rate: parent.exchange_rate.as_deref(),
                        parent_id: Some(parent.id),
                        created_by: parent.created_by,
                        created_at: now,
                        updated_at: now,
                    },
                )
            })
            .await?;
        let stored = match (
            ObjectKey::parse(key).map_err(ApiError::internal),
            crate::routes::files::original_key(&child),
        ) {
            // Inside the store (a hard link, a server-side copy): no
            // member's bytes pass through the gateway.
            (Ok(from), Ok(to)) => state
                .storage
                .copy(&from, &to)
                .await
                .map_err(ApiError::internal),
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        if let Err(e) = stored {
            // A member without its bytes is not a file: its record goes too.
            let id = child.id;
            if let Err(undo) = state.db.run(move |conn| SalesFile::delete(conn, id)).await {
                tracing::warn!(file_id = id, error = %undo, "a member without bytes was left");
            }
            return Err(e);
        }
        made.push(child);
    }
    let mut cause = format!(
        "The archive was expanded into {} file(s): {}.",
        made.len(),
        made.iter()
            .map(|c| format!("{} (file {})", c.filename, c.id))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(skipped) = output["skipped"].as_array().filter(|s| !s.is_empty()) {
        let skipped: Vec<String> = skipped
            .iter()
            .map(|s| {
                format!(
                    "{} ({})",
                    s["name"].as_str().unwrap_or("?"),
                    s["reason"].as_str().unwrap_or("skipped")
                )
            })
            .collect();
        cause.push_str(&format!(" Not taken: {}.", skipped.join(", ")));
    }
    let change = StatusChange {
        status: Some(FileStatus::Finalized.as_str().to_owned()),
        status_cause: Some(Some(cause)),
        error_message: Some(None),
        module_response: Some(Some(format!(
            "{}: {}",
            Module::Uploads,
            job_status::SUCCEEDED
        ))),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    };
    let id = archive.id;
    state
        .db
        .run(move |conn| SalesFile::transition(conn, id, FileStatus::Cleaning.as_str(), &change))
        .await?;
    for child in made {
        // A member whose run cannot start has been failed with the reason;
        // the others still start.
        if let Err(e) = start(
            state,
            &child,
            FileStatus::Uploaded,
            FileStatus::Cleaning,
            Module::Uploads,
            "clean",
        )
        .await
        {
            tracing::warn!(file_id = child.id, error = %e, "a member's cleaning did not start");
        }
    }
    Ok(())
}

/// A short cause for the file's `status_cause`: the module's own words when
/// the file itself was at fault.
fn cause(module: Module, job: &JobRecord) -> String {
    if job.error_code.as_deref() == Some("rejected")
        && let Some(message) = &job.error_message
    {
        return message.clone();
    }
    match job.status.as_str() {
        job_status::TIMED_OUT => format!("The {module} module did not finish in time."),
        _ => match job.error_code.as_deref() {
            Some("launch_failed") => format!("The {module} module could not start."),
            Some(code) => format!("The {module} module failed ({code})."),
            None => format!("The {module} module failed."),
        },
    }
}

/// Moves the file from `from` to `to` and launches `module` on it.
pub async fn start(
    state: &AppState,
    file: &SalesFile,
    from: FileStatus,
    to: FileStatus,
    module: Module,
    action: &str,
) -> Result<JobRecord, ApiError> {
    let change = StatusChange {
        status: Some(to.as_str().to_owned()),
        status_cause: Some(None),
        error_message: Some(None),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    };
    let file_id = file.id;
    let moved = state
        .db
        .run(move |conn| SalesFile::transition(conn, file_id, from.as_str(), &change))
        .await?;
    if !moved {
        return Err(ApiError::conflict(
            "The file changed meanwhile; read it again.",
        ));
    }
    let params = match params(state, file, module).await {
        Ok(params) => params,
        Err(e) => {
            let cause = e.to_string();
            fail(state, file_id, to, module, &cause, &cause).await?;
            return Err(e);
        }
    };
    jobs::launch(
        state,
        Launch {
            module,
            action: action.to_owned(),
            organisation_id: file.organisation_id,
            file_id: Some(file.id),
            params,
        },
    )
    .await
}

/// Why a file cannot be imported before it is cleaned.
pub const NOT_CLEANED: &str =
    "No cleaned copy of the file is known: process it with the action \"clean\" first.";

/// The clean copies of the other files of the file's DDEX DSR message, if
/// it is one of several; a conflict while they are not all cleaned.
async fn message_parts(state: &AppState, file: &SalesFile) -> Result<Vec<Value>, ApiError> {
    let Some(message) = message_of(state, file).await? else {
        return Ok(Vec::new());
    };
    if let Some(cause) = message.waiting() {
        return Err(ApiError::conflict(cause));
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
            .and_then(|o| serde_json::from_str::<Value>(o).ok())
            .and_then(|o| o["clean_key"].as_str().map(str::to_owned))
            .ok_or_else(|| {
                ApiError::conflict(format!(
                    "File {number} of DDEX DSR message {} ({}, file {other_id}) has no cleaned copy: process it with the action \"clean\" again.",
                    message.part.message_id, other.filename
                ))
            })?;
        parts.push(json!({"file_number": number, "clean_key": key}));
    }
    Ok(parts)
}

/// What a module needs to know about the file.
async fn params(state: &AppState, file: &SalesFile, module: Module) -> Result<Value, ApiError> {
    let prefix = format!("org-{}/files/{}", file.organisation_id, file.id);
    match module {
        Module::Uploads => Ok(json!({
            "source": crate::routes::files::original_key(file)?.as_str(),
            "target": prefix,
            "max_expanded_bytes": state.settings.max_upload_bytes.saturating_mul(10),
        })),
        Module::Importer => {
            let (file_id, org_id) = (file.id, file.organisation_id);
            let (clean, org, formats, rates) = state
                .db
                .run(move |conn| {
                    let clean = JobRecord::latest_output(conn, file_id, Module::Uploads.as_str())?;
                    let org = Organisation::find(conn, org_id)?;
                    let formats = FormatRecord::usable_by(conn, org_id)?;
                    let rates = ExchangeRate::list(conn, org_id)?;
                    Ok::<_, oas_db::DbError>((clean, org, formats, rates))
                })
                .await?;
            let clean: Value = clean
                .as_deref()
                .and_then(|c| serde_json::from_str::<Value>(c).ok())
                .filter(|c| c["clean_key"].is_string())
                .ok_or_else(|| ApiError::conflict(NOT_CLEANED))?;
            let message_parts = message_parts(state, file).await?;
            let formats: Vec<Value> = formats
                .iter()
                .filter_map(|f| serde_json::from_str(&f.spec).ok())
                .collect();
            let rates: Vec<Value> = rates
                .iter()
                .filter(|r| r.to_currency == org.base_currency)
                .map(|r| json!({"currency": r.from_currency, "period": r.period, "rate": r.rate}))
                .collect();
            Ok(json!({
                "clean": clean,
                "formats": formats,
                "base_currency": org.base_currency,
                "file_rate": file.exchange_rate,
                "rates": rates,
                "reporting_period": file.reporting_period,
                "lines_prefix": oas_platform::storage::lines_prefix(file.organisation_id),
                "message_parts": message_parts,
            }))
        }
        _ => Ok(json!({})),
    }
}
