//! Automatic uploads: a batch fetches what a pasted link or a saved source
//! holds, in one run of the uploads module (`fetch`); when it ends, each
//! file fetched becomes a sales file of the batch's upload mode, stored and
//! cleaned as a manual upload is, a file already imported is listed as a
//! copy, and the batch is DONE (or FAILED, saying why). Saved sources are
//! polled on their schedule; one failing three times in a row is paused
//! and its owner emailed.

use std::time::Duration;

use chrono::Utc;
use oas_db::fetches::{
    self as batches, BatchChange, FetchBatch, NewFetchBatch, Source, SourceChange, SourceEntry,
};
use oas_db::jobs::JobRecord;
use oas_db::organisations::Membership;
use oas_db::sales_files::{NewSalesFile, SalesFile};
use oas_db::users::User;
use oas_domain::fetch::Link;
use oas_domain::file::{FileAction, FileStatus, type_of_name};
use oas_domain::job::Module;
use oas_domain::job::contract::fetch;
use oas_platform::storage::{ObjectKey, ObjectStore};
use serde::{Deserialize, Serialize};

use super::{failure_cause, files, output_of};
use crate::background::{BackgroundError, BackgroundResult};
use crate::mail::Email;
use crate::runs::{self, Launch, Subject};
use crate::state::AppState;

/// Failed polls in a row after which a source is paused.
pub const PAUSE_AFTER: i64 = 3;
/// How often due sources are looked for.
const POLL_EVERY: Duration = Duration::from_secs(30);

/// The upload mode of a link's files.
pub fn upload_mode(link: &Link) -> &'static str {
    match link {
        Link::Drive { .. } => "GOOGLE_DRIVE",
        Link::Dropbox { .. } => "DROPBOX",
        Link::Ftp { .. } => "FTP",
    }
}

/// A link as shown: without its password.
pub fn shown_url(raw: &str) -> String {
    match url::Url::parse(raw.trim()) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(None);
            }
            url.to_string()
        }
        Err(_) => String::new(),
    }
}

/// One thing a batch found, as its record keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub name: String,
    pub path: String,
    #[serde(default)]
    pub size: Option<u64>,
    /// The sales file it became.
    #[serde(default)]
    pub file: Option<i64>,
    /// Why it was not made a file: `unsupported`, `zip_link`, `too_large`,
    /// `too_deep`, `too_many`, `seen`, `not_fetched`, `duplicate`.
    #[serde(default)]
    pub skipped: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    /// The file it repeats, for a `duplicate`.
    #[serde(default)]
    pub duplicate_of: Option<i64>,
}

pub fn items_of(batch: &FetchBatch) -> Vec<Item> {
    serde_json::from_str(&batch.items).unwrap_or_default()
}

/// Records a batch and starts its run.
pub async fn begin(
    state: &AppState,
    organisation_id: i64,
    source: Option<&Source>,
    secret_url: Option<&str>,
    created_by: Option<i64>,
) -> BackgroundResult<FetchBatch> {
    let url = match (source, secret_url) {
        (Some(source), _) => source.secret_url.clone(),
        (None, Some(url)) => url.to_owned(),
        (None, None) => return Err(BackgroundError::refused("No link to fetch.")),
    };
    let link =
        oas_domain::fetch::parse_link(&url).map_err(|e| BackgroundError::refused(e.to_string()))?;
    let shown = shown_url(&url);
    let mode = upload_mode(&link).to_owned();
    let source_id = source.map(|s| s.id);
    let secret = secret_url.map(str::to_owned);
    let batch = state
        .db
        .run(move |conn| {
            let now = Utc::now().naive_utc();
            FetchBatch::insert(
                conn,
                &NewFetchBatch {
                    organisation_id,
                    source_id,
                    url: &shown,
                    secret_url: if source_id.is_some() {
                        None
                    } else {
                        secret.as_deref()
                    },
                    upload_mode: &mode,
                    status: batches::FETCHING,
                    created_by,
                    created_at: now,
                    updated_at: now,
                },
            )
        })
        .await?;
    let target = format!("org-{organisation_id}/fetches/{}", batch.id);
    let params = fetch::Params {
        batch: batch.id,
        target,
    };
    let job = runs::launch(
        state,
        Launch {
            module: Module::Uploads,
            action: fetch::ACTION.to_owned(),
            organisation_id,
            subject: Subject::Batch(batch.id),
            params: serde_json::to_value(params).map_err(BackgroundError::final_)?,
        },
    )
    .await?;
    let (id, job_id) = (batch.id, job.id.clone());
    let batch = state
        .db
        .run(move |conn| {
            FetchBatch::set_job(conn, id, &job_id)?;
            FetchBatch::find(conn, id)
        })
        .await?;
    Ok(batch)
}

/// The fetch of batch `id` ended.
pub async fn ended(state: &AppState, job: &JobRecord, id: i64) -> BackgroundResult<()> {
    let batch = match state.db.run(move |conn| FetchBatch::find(conn, id)).await {
        Ok(batch) => batch,
        Err(oas_db::DbError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if batch.status != batches::FETCHING {
        return Ok(());
    }
    let Some(output) = output_of::<fetch::Output>(job)? else {
        let cause = failure_cause(job, |code| {
            format!("The link could not be read ({code}). Try again.")
        });
        return fail(state, &batch, cause).await;
    };
    let mut items = items_of(&batch);
    let mut made = Vec::new();
    for fetched in &output.fetched {
        if items.iter().any(|i| i.path == fetched.path) {
            // Made by an earlier attempt that stopped half-way.
            continue;
        }
        let item = make_file(state, &batch, fetched).await?;
        if let Some(file) = &item.1 {
            made.push(file.clone());
        }
        items.push(item.0);
        save_items(state, batch.id, &items).await?;
    }
    for skipped in &output.skipped {
        if items.iter().any(|i| i.path == skipped.path) {
            continue;
        }
        items.push(Item {
            name: skipped.name.clone(),
            path: skipped.path.clone(),
            size: skipped.size,
            file: None,
            skipped: Some(skipped.kind.clone()),
            reason: Some(skipped.reason.clone()),
            duplicate_of: None,
        });
    }
    let cause = summary(&items, output.stopped.as_deref());
    let change = BatchChange {
        status: Some(batches::DONE.to_owned()),
        status_cause: Some(Some(cause)),
        items: Some(serde_json::to_string(&items).map_err(BackgroundError::final_)?),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    };
    let batch_id = batch.id;
    state
        .db
        .run(move |conn| FetchBatch::transition(conn, batch_id, batches::FETCHING, &change))
        .await?;
    if let Some(source_id) = batch.source_id {
        remember(state, source_id, &output).await?;
    }
    for file in made {
        files::start_next(state, &file, FileStatus::Uploaded, FileAction::Clean).await;
    }
    Ok(())
}

async fn save_items(state: &AppState, id: i64, items: &[Item]) -> BackgroundResult<()> {
    let change = BatchChange {
        items: Some(serde_json::to_string(items).map_err(BackgroundError::final_)?),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    };
    state
        .db
        .run(move |conn| FetchBatch::transition(conn, id, batches::FETCHING, &change))
        .await?;
    Ok(())
}

/// A fetched file becomes a sales file, its bytes copied inside the store
/// to where an upload's go; a copy of a file the organisation already has
/// is listed as one instead.
async fn make_file(
    state: &AppState,
    batch: &FetchBatch,
    fetched: &fetch::Fetched,
) -> BackgroundResult<(Item, Option<SalesFile>)> {
    let from = ObjectKey::parse(&fetched.key)?;
    let (org, hash) = (batch.organisation_id, fetched.content_hash.clone());
    let same = state
        .db
        .run(move |conn| SalesFile::same_content(conn, org, &hash, 0))
        .await?;
    let mut item = Item {
        name: fetched.name.clone(),
        path: fetched.path.clone(),
        size: Some(fetched.size),
        file: None,
        skipped: None,
        reason: None,
        duplicate_of: None,
    };
    if let Some(same) = same {
        item.skipped = Some("duplicate".to_owned());
        item.reason = Some(format!(
            "The same content is already file {} ({}).",
            same.id, same.filename
        ));
        item.duplicate_of = Some(same.id);
        state.storage.delete(&from).await?;
        return Ok((item, None));
    }
    let filetype = type_of_name(&fetched.name).unwrap_or("TXT").to_owned();
    let name: String = fetched.name.chars().take(255).collect();
    let reference: String = fetched.path.chars().take(255).collect();
    let size = i64::try_from(fetched.size).unwrap_or(i64::MAX);
    let (mode, created_by) = (batch.upload_mode.clone(), batch.created_by);
    let file = state
        .db
        .run(move |conn| {
            let now = Utc::now().naive_utc();
            files::insert_with_fresh_reference(
                conn,
                &NewSalesFile {
                    uuid: "",
                    organisation_id: org,
                    filename: &name,
                    filetype: &filetype,
                    filesize: size,
                    mongo_db_id: &reference,
                    status: FileStatus::Uploaded.as_str(),
                    reporting_period: None,
                    upload_mode: &mode,
                    response_module: files::PENDING,
                    exchange_rate: None,
                    parent_id: None,
                    created_by,
                    created_at: now,
                    updated_at: now,
                },
            )
        })
        .await?;
    let stored = async {
        let to = oas_platform::storage::original_key(org, file.id)?;
        state.storage.copy(&from, &to).await?;
        state.storage.delete(&from).await
    }
    .await;
    if let Err(e) = stored {
        let id = file.id;
        if let Err(undo) = state.db.run(move |conn| SalesFile::delete(conn, id)).await {
            tracing::warn!(file.id = id, error = %undo, "a fetched file without bytes was left");
        }
        return Err(e.into());
    }
    item.file = Some(file.id);
    Ok((item, Some(file)))
}

/// How a batch's findings stand, in words.
pub fn summary(items: &[Item], stopped: Option<&str>) -> String {
    let made = items.iter().filter(|i| i.file.is_some()).count();
    let copies = items
        .iter()
        .filter(|i| i.skipped.as_deref() == Some("duplicate"))
        .count();
    let seen = items
        .iter()
        .filter(|i| i.skipped.as_deref() == Some("seen"))
        .count();
    let other = items.len() - made - copies - seen;
    let mut text = format!(
        "Found {} file(s): {made} fetched and being processed, {copies} already imported, {seen} fetched before, {other} not taken.",
        items.len()
    );
    if items.is_empty() {
        text = "Nothing to fetch: the link holds no file.".to_owned();
    } else if made == 0 && copies == 0 && seen == 0 {
        text.push_str(" Nothing in it is a sales report OAS reads.");
    }
    if let Some(stopped) = stopped {
        text.push_str(&format!(" Not everything could be read: {stopped}"));
    }
    text
}

/// A batch that fetched nothing, with why; its source counts a failure.
async fn fail(state: &AppState, batch: &FetchBatch, cause: String) -> BackgroundResult<()> {
    let change = BatchChange {
        status: Some(batches::FAILED.to_owned()),
        status_cause: Some(Some(cause.clone())),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    };
    let id = batch.id;
    let changed = state
        .db
        .run(move |conn| FetchBatch::transition(conn, id, batches::FETCHING, &change))
        .await?;
    if let (true, Some(source_id)) = (changed, batch.source_id) {
        source_failed(state, source_id, cause).await?;
    }
    Ok(())
}

/// A source's poll failed: counted, and at the third in a row the source
/// is paused and its owner told.
async fn source_failed(state: &AppState, id: i64, cause: String) -> BackgroundResult<()> {
    let Ok(source) = state.db.run(move |conn| Source::find(conn, id)).await else {
        return Ok(());
    };
    let failures = source.failures + 1;
    let pause = failures >= PAUSE_AFTER && !source.paused;
    let change = SourceChange {
        failures: Some(failures),
        paused: pause.then_some(true),
        status_cause: Some(Some(cause.clone())),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    };
    let source = state
        .db
        .run(move |conn| Source::update(conn, id, &change))
        .await?;
    if pause {
        tracing::warn!(
            source.id = id,
            "a source failed {PAUSE_AFTER} times in a row: paused"
        );
        if let Err(e) = email_paused(state, &source, &cause).await {
            tracing::warn!(source.id = id, error = %e, "cannot email that the source is paused");
        }
    }
    Ok(())
}

async fn email_paused(state: &AppState, source: &Source, cause: &str) -> anyhow::Result<()> {
    let Some(user_id) = source.created_by else {
        return Ok(());
    };
    let organisation_id = source.organisation_id;
    let (user, member) = state
        .db
        .run(move |conn| {
            let user = User::find(conn, user_id)?;
            let member = Membership::organisation_for_user(conn, organisation_id, user_id)?
                .and_then(|(_, membership)| membership)
                .is_some();
            Ok::<_, oas_db::DbError>((user, member))
        })
        .await?;
    if !member || !user.is_active {
        return Ok(());
    }
    let body = format!(
        "OAS could not fetch from the source \"{name}\" ({url}) {PAUSE_AFTER} times in a row, and has paused it.\n\n\
         The last time: {cause}\n\n\
         When it is fixed, resume it: PATCH /api/sources/{id}/ with {{\"paused\": false}}\n",
        name = source.name,
        url = source.url,
        id = source.id,
    );
    state
        .mailer
        .send(Email {
            to: user.email,
            subject: format!("OAS: the source \"{}\" is paused", source.name),
            body,
        })
        .await?;
    Ok(())
}

/// A poll that ended: what it fetched (or found unchanged by content) is
/// remembered, the failures forgotten, and an SFTP key seen first pinned.
async fn remember(state: &AppState, id: i64, output: &fetch::Output) -> BackgroundResult<()> {
    let now = Utc::now().naive_utc();
    let mut entries: Vec<SourceEntry> = output
        .fetched
        .iter()
        .map(|f| SourceEntry {
            source_id: id,
            path: f.path.clone(),
            size: i64::try_from(f.size).unwrap_or(i64::MAX),
            modified: f.modified.clone().unwrap_or_default(),
            content_hash: f.content_hash.clone(),
            seen_at: now,
        })
        .collect();
    entries.extend(output.skipped.iter().filter_map(|s| {
        Some(SourceEntry {
            source_id: id,
            path: s.path.clone(),
            size: i64::try_from(s.size?).unwrap_or(i64::MAX),
            modified: s.modified.clone().unwrap_or_default(),
            content_hash: s.content_hash.clone()?,
            seen_at: now,
        })
    }));
    let host_key = output.host_key.clone();
    state
        .db
        .run(move |conn| {
            for entry in &entries {
                SourceEntry::record(conn, entry)?;
            }
            let source = Source::find(conn, id)?;
            let change = SourceChange {
                failures: Some(0),
                status_cause: Some(None),
                host_key: match (&source.host_key, host_key) {
                    (None, Some(key)) => Some(Some(key)),
                    _ => None,
                },
                updated_at: Some(now),
                ..Default::default()
            };
            Source::update(conn, id, &change)
        })
        .await?;
    Ok(())
}

/// Polls the sources that are due, for as long as the runtime lives.
pub fn spawn_polls(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = poll_due(&state).await {
                tracing::warn!(error = %e, "cannot poll the sources due");
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    })
}

/// Starts a batch for every source due now whose last one has ended;
/// returns how many started.
pub async fn poll_due(state: &AppState) -> BackgroundResult<usize> {
    let now = Utc::now().naive_utc();
    let due = state
        .db
        .run(move |conn| Source::claim_due(conn, now, 32))
        .await?;
    let mut started = 0;
    for source in due {
        let id = source.id;
        let busy = state
            .db
            .run(move |conn| FetchBatch::latest_of(conn, id))
            .await?
            .is_some_and(|b| b.status == batches::FETCHING);
        if busy {
            continue;
        }
        match begin(
            state,
            source.organisation_id,
            Some(&source),
            None,
            source.created_by,
        )
        .await
        {
            Ok(_) => started += 1,
            Err(e) => {
                tracing::warn!(source.id = id, error = %e, "a source's poll did not start");
                source_failed(state, id, format!("The poll did not start: {e}")).await?;
            }
        }
    }
    Ok(started)
}
