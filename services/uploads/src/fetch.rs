//! The `fetch` action: what a pasted link or a saved source holds, listed
//! (folders walked to a depth limit), the files of a supported type
//! downloaded into storage, each with its content hash, for the gateway to
//! make sales files of. The link is read from the batch's record, never
//! from the job, so its credentials are in no job, task override or log.
//!
//! A fetch that fails half-way keeps what it stored: the output says why it
//! stopped and names every file it did not fetch.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use oas_db::Database;
use oas_db::fetches::{FetchBatch, Source, SourceEntry};
use oas_db::organisations::Organisation;
use oas_domain::fetch::{DriveKind, FetchKeys, Link, parse_link};
use oas_domain::file::type_of_name;
use oas_domain::job::contract::fetch::{Fetched, Output, Params, Skipped};
use oas_domain::job::{FailureCode, Job};
use oas_platform::config::Settings;
use oas_platform::fetch::{Guard, Saved};
use oas_platform::module::Failure;
use oas_platform::storage::{AnyStorage, ObjectKey, ObjectStore};
use secrecy::ExposeSecret;

use crate::drive::{self, Drive, DriveError};
use crate::dropbox::{Dropbox, DropboxError};
use crate::ftp;

/// How long one request may take (a download of a large report included).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15 * 60);

fn failure(code: FailureCode, what: &str, e: impl std::fmt::Display) -> Failure {
    Failure::new(code, format!("{what}: {e}"))
}

fn rejected(message: impl Into<String>) -> Failure {
    Failure::new(FailureCode::Rejected, message)
}

/// A file found, not yet fetched.
#[derive(Debug, Clone)]
pub struct Found {
    pub name: String,
    /// Below the link, `/`-separated.
    pub path: String,
    pub size: Option<u64>,
    pub modified: Option<String>,
    pub how: How,
}

/// How a found file's bytes are asked for.
#[derive(Debug, Clone)]
pub enum How {
    Drive(drive::Item),
    /// The path inside the shared link; `None`: the link is the file.
    Dropbox(Option<String>),
    /// The full path on the server.
    Ftp(String),
}

/// What a listing found: files to fetch, files left, and why it ended
/// early, if it did.
#[derive(Debug, Default)]
pub struct Listing {
    pub found: Vec<Found>,
    pub skipped: Vec<Skipped>,
    pub stopped: Option<String>,
}

impl Listing {
    pub(crate) fn skip(&mut self, name: &str, path: &str, kind: &str, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            name: name.to_owned(),
            path: path.to_owned(),
            kind: kind.to_owned(),
            reason: reason.into(),
            size: None,
            modified: None,
            content_hash: None,
        });
    }

    /// A file in a folder: taken when OAS reads its type, else listed.
    pub(crate) fn offer(&mut self, found: Found) {
        if type_of_name(&found.name).is_some() {
            self.found.push(found);
        } else {
            let reason = format!(
                "{} is not a sales report OAS reads (CSV, TXT, TSV, XLS, XLSX, ZIP or GZ).",
                found.name
            );
            self.skip(&found.name, &found.path, "unsupported", reason);
        }
    }
}

/// A link to a single file must name a report, not an archive: archives
/// belong inside folders.
pub(crate) fn single(found: Found) -> Result<Listing, Failure> {
    match type_of_name(&found.name) {
        Some("ZIP") => Err(rejected(format!(
            "{} is a ZIP file: a link may not point at one. Put it in a folder and share the folder.",
            found.name
        ))),
        Some(_) => Ok(Listing {
            found: vec![found],
            ..Default::default()
        }),
        None => Err(rejected(format!(
            "{} is not a sales report OAS reads (CSV, TXT, TSV, XLS, XLSX or GZ).",
            found.name
        ))),
    }
}

/// The limits of one fetch.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_files: usize,
    pub max_depth: usize,
    pub max_file_bytes: u64,
}

pub async fn run(job: Job, settings: Settings) -> Result<serde_json::Value, Failure> {
    let params: Params = serde_json::from_value(job.params.clone())
        .map_err(|e| Failure::new(FailureCode::InvalidParams, e.to_string()))?;
    let target = params.target.trim_end_matches('/').to_owned();
    ObjectKey::parse(&format!("{target}/0"))
        .map_err(|e| failure(FailureCode::InvalidParams, "target", e))?;
    let pool = oas_db::PoolSettings {
        max_size: 1,
        ..Default::default()
    };
    let db = Database::new(&settings.database_url, pool)
        .map_err(|e| failure(FailureCode::Internal, "the database", e))?;
    let (batch_id, org_id) = (params.batch, job.org_id);
    let (batch, organisation, source, entries) = db
        .run(move |conn| {
            let batch = FetchBatch::find(conn, batch_id)?;
            let organisation = Organisation::find(conn, batch.organisation_id)?;
            let (source, entries) = match batch.source_id {
                Some(id) => (Some(Source::find(conn, id)?), SourceEntry::of(conn, id)?),
                None => (None, Vec::new()),
            };
            Ok::<_, oas_db::DbError>((batch, organisation, source, entries))
        })
        .await
        .map_err(|e| failure(FailureCode::InvalidParams, "the batch", e))?;
    if batch.organisation_id != org_id {
        return Err(Failure::new(
            FailureCode::InvalidParams,
            "the batch is another organisation's",
        ));
    }
    let url = match (&source, &batch.secret_url) {
        (Some(source), _) => source.secret_url.clone(),
        (None, Some(url)) => url.clone(),
        (None, None) => {
            return Err(Failure::new(
                FailureCode::InvalidParams,
                "the batch names no link",
            ));
        }
    };
    let link = parse_link(&url).map_err(|e| rejected(e.to_string()))?;
    let keys = FetchKeys::of_settings(&organisation.settings);
    let limits = Limits {
        max_files: settings.fetch.max_files,
        max_depth: settings.fetch.max_depth,
        max_file_bytes: settings.max_upload_bytes,
    };
    let guard = Guard::new(settings.fetch.allow_private.clone(), REQUEST_TIMEOUT);
    let storage = AnyStorage::for_module(&settings)
        .await
        .map_err(|e| failure(FailureCode::Internal, "storage", e))?;
    let fetcher = Fetcher::new(&link, &settings, &keys, guard, source.as_ref())?;
    let listing = fetcher.list(&link, limits).await?;
    let seen = Seen::of(&entries);
    let mut output = fetch_all(&fetcher, listing, &seen, limits, &storage, &target).await?;
    output.host_key = fetcher.host_key();
    tracing::info!(
        fetched = output.fetched.len(),
        skipped = output.skipped.len(),
        stopped = output.stopped.is_some(),
        "fetched"
    );
    serde_json::to_value(&output).map_err(|e| failure(FailureCode::Internal, "output", e))
}

/// What a source has seen: by path, its size and modification time; and
/// every content hash.
#[derive(Debug, Default)]
pub struct Seen {
    by_path: HashMap<String, (u64, String)>,
    hashes: HashSet<String>,
}

impl Seen {
    pub fn of(entries: &[SourceEntry]) -> Self {
        Self {
            by_path: entries
                .iter()
                .map(|e| {
                    (
                        e.path.clone(),
                        (u64::try_from(e.size).unwrap_or(0), e.modified.clone()),
                    )
                })
                .collect(),
            hashes: entries.iter().map(|e| e.content_hash.clone()).collect(),
        }
    }

    /// Whether the file at `path` is as seen (same size and time).
    fn unchanged(&self, found: &Found) -> bool {
        match (self.by_path.get(&found.path), found.size, &found.modified) {
            (Some((size, modified)), Some(now_size), Some(now_modified)) => {
                *size == now_size && modified == now_modified
            }
            _ => false,
        }
    }
}

/// Downloads what the listing found, within the limits; a file that cannot
/// be fetched is listed with why, and the others still are.
async fn fetch_all(
    fetcher: &Fetcher,
    listing: Listing,
    seen: &Seen,
    limits: Limits,
    storage: &AnyStorage,
    target: &str,
) -> Result<Output, Failure> {
    let Listing {
        found,
        mut skipped,
        stopped,
    } = listing;
    let work =
        tempfile::tempdir().map_err(|e| failure(FailureCode::Internal, "temporary folder", e))?;
    let mut fetched: Vec<Fetched> = Vec::new();
    // The content fetched so far, by hash: where it was found.
    let mut hashes: HashMap<String, String> = HashMap::new();
    let skip = |found: &Found, kind: &str, reason: String| Skipped {
        name: found.name.clone(),
        path: found.path.clone(),
        kind: kind.to_owned(),
        reason,
        size: found.size,
        modified: found.modified.clone(),
        content_hash: None,
    };
    for found in found {
        if seen.unchanged(&found) {
            skipped.push(skip(
                &found,
                "seen",
                "Fetched before, unchanged since.".to_owned(),
            ));
            continue;
        }
        if fetched.len() >= limits.max_files {
            let reason = format!(
                "Not fetched: one fetch takes at most {} files; the next one takes the rest.",
                limits.max_files
            );
            skipped.push(skip(&found, "too_many", reason));
            continue;
        }
        if found.size == Some(0) {
            skipped.push(skip(&found, "empty", "The file is empty.".to_owned()));
            continue;
        }
        if found.size.is_some_and(|size| size > limits.max_file_bytes) {
            let reason = format!(
                "Larger than the {} bytes a sales file may be.",
                limits.max_file_bytes
            );
            skipped.push(skip(&found, "too_large", reason));
            continue;
        }
        // Straight to disk, hashed on the way: a report of any size
        // takes no more memory than a buffer.
        let path = work.path().join("download");
        let saved = match fetcher.download(&found, &path, limits.max_file_bytes).await {
            Ok(saved) => saved,
            Err(why) => {
                skipped.push(skip(&found, "not_fetched", format!("Not fetched: {why}")));
                continue;
            }
        };
        if saved.size == 0 {
            skipped.push(skip(&found, "empty", "The file is empty.".to_owned()));
            continue;
        }
        let content_hash = saved.content_hash;
        let repeated = if seen.hashes.contains(&content_hash) {
            Some(("seen", "The same content was fetched before.".to_owned()))
        } else {
            hashes.get(&content_hash).map(|other| {
                let reason = format!("The same content as {other}, fetched with it.");
                ("duplicate", reason)
            })
        };
        if let Some((kind, reason)) = repeated {
            let mut left = skip(&found, kind, reason);
            left.size = Some(saved.size);
            left.content_hash = Some(content_hash);
            skipped.push(left);
            continue;
        }
        hashes.insert(content_hash.clone(), found.path.clone());
        let index = fetched.len();
        let key = ObjectKey::parse(&format!("{target}/{index}"))
            .map_err(|e| failure(FailureCode::InvalidParams, "target", e))?;
        storage
            .put_file(&key, &path)
            .await
            .map_err(|e| failure(FailureCode::Internal, "storage", e))?;
        let _ = tokio::fs::remove_file(&path).await;
        fetched.push(Fetched {
            name: found.name,
            path: found.path,
            size: saved.size,
            modified: found.modified,
            key: key.as_str().to_owned(),
            content_hash,
        });
    }
    Ok(Output {
        fetched,
        skipped,
        stopped,
        host_key: None,
    })
}

/// A reader of one kind of link.
pub enum Fetcher {
    Drive(Drive),
    Dropbox { client: Dropbox, link: String },
    Ftp(ftp::Ftp),
}

impl Fetcher {
    fn new(
        link: &Link,
        settings: &Settings,
        keys: &FetchKeys,
        guard: Guard,
        source: Option<&Source>,
    ) -> Result<Self, Failure> {
        match link {
            Link::Drive { .. } => {
                let key = keys
                    .google_api_key
                    .clone()
                    .or_else(|| {
                        settings
                            .fetch
                            .google_api_key
                            .as_ref()
                            .map(|k| k.expose_secret().to_owned())
                    })
                    .ok_or_else(|| {
                        rejected(
                            "Google Drive links are read with a Google API key: set one in the organisation's settings (fetch.google_api_key).",
                        )
                    })?;
                Ok(Fetcher::Drive(Drive::new(
                    settings.fetch.drive_api.clone(),
                    key,
                    guard,
                )))
            }
            Link::Dropbox { url, .. } => {
                let pair = match (&keys.dropbox_app_key, &keys.dropbox_app_secret) {
                    (Some(key), Some(secret)) => Some((key.clone(), secret.clone())),
                    _ => settings
                        .fetch
                        .dropbox_app_key
                        .clone()
                        .zip(settings.fetch.dropbox_app_secret.as_ref())
                        .map(|(key, secret)| (key, secret.expose_secret().to_owned())),
                };
                let (key, secret) = pair.ok_or_else(|| {
                    rejected(
                        "Dropbox links are read with a Dropbox app's key and secret: set them in the organisation's settings (fetch.dropbox_app_key, fetch.dropbox_app_secret).",
                    )
                })?;
                Ok(Fetcher::Dropbox {
                    client: Dropbox::new(
                        settings.fetch.dropbox_api.clone(),
                        settings.fetch.dropbox_content.clone(),
                        &key,
                        &secret,
                        guard,
                    ),
                    link: url.clone(),
                })
            }
            Link::Ftp { .. } => Ok(Fetcher::Ftp(ftp::Ftp::new(
                link,
                guard,
                source.and_then(|s| s.host_key.clone()),
                settings.fetch.ca_file.clone(),
            )?)),
        }
    }

    /// Everything the link holds, within the depth limit.
    async fn list(&self, link: &Link, limits: Limits) -> Result<Listing, Failure> {
        match (self, link) {
            (
                Fetcher::Drive(drive),
                Link::Drive {
                    id,
                    kind,
                    resource_key,
                },
            ) => list_drive(drive, id, *kind, resource_key.as_deref(), limits).await,
            (Fetcher::Dropbox { client, link }, Link::Dropbox { .. }) => {
                list_dropbox(client, link, limits).await
            }
            (Fetcher::Ftp(ftp), Link::Ftp { .. }) => ftp.list(limits).await,
            _ => Err(Failure::new(
                FailureCode::Internal,
                "the link and its reader disagree",
            )),
        }
    }

    async fn download(&self, found: &Found, to: &Path, max_bytes: u64) -> Result<Saved, String> {
        match (self, &found.how) {
            (Fetcher::Drive(drive), How::Drive(item)) => drive
                .download(item, to, max_bytes)
                .await
                .map_err(|e| e.to_string()),
            (Fetcher::Dropbox { client, link }, How::Dropbox(path)) => client
                .download(link, path.as_deref(), to, max_bytes)
                .await
                .map_err(|e| e.to_string()),
            (Fetcher::Ftp(ftp), How::Ftp(path)) => ftp.download(path, to, max_bytes).await,
            _ => Err("the file and its reader disagree".to_owned()),
        }
    }

    fn host_key(&self) -> Option<String> {
        match self {
            Fetcher::Ftp(ftp) => ftp.host_key(),
            _ => None,
        }
    }
}

fn drive_failure(e: DriveError) -> Failure {
    match e {
        DriveError::NotShared(_) | DriveError::RateLimited => rejected(e.to_string()),
        DriveError::Fetch(oas_platform::fetch::FetchError::Refused(why)) => rejected(why),
        other => failure(FailureCode::Internal, "Google Drive", other),
    }
}

/// A Drive item's name as stored: a Google Sheet is exported as XLSX.
fn drive_name(item: &drive::Item) -> String {
    if item.mime_type == drive::SHEET && type_of_name(&item.name) != Some("XLSX") {
        format!("{}.xlsx", item.name)
    } else {
        item.name.clone()
    }
}

fn drive_found(item: drive::Item, path: String) -> Found {
    Found {
        name: drive_name(&item),
        path,
        size: item.size.as_deref().and_then(|s| s.parse().ok()),
        modified: item.modified_time.clone(),
        how: How::Drive(item),
    }
}

async fn list_drive(
    drive: &Drive,
    id: &str,
    kind: DriveKind,
    key: Option<&str>,
    limits: Limits,
) -> Result<Listing, Failure> {
    let top = drive.item(id, key).await.map_err(drive_failure)?;
    if top.mime_type != drive::FOLDER {
        if kind == DriveKind::Folder {
            return Err(rejected("The link names a folder, but the item is a file."));
        }
        let name = drive_name(&top);
        return single(drive_found(top, name));
    }
    let mut listing = Listing::default();
    // Folders to walk: the item, its path, its depth. A folder reached
    // twice (through a shortcut) is walked once.
    let mut folders = vec![(top.clone(), String::new(), 0usize)];
    let mut walked = HashSet::new();
    while let Some((folder, path, depth)) = folders.pop() {
        if !walked.insert(folder.id.clone()) {
            continue;
        }
        let children = match drive
            .children(&folder.id, folder.resource_key.as_deref())
            .await
        {
            Ok(children) => children,
            Err(e) => {
                let at = if path.is_empty() {
                    "the folder"
                } else {
                    path.as_str()
                };
                if path.is_empty() {
                    return Err(drive_failure(e));
                }
                listing.stopped = Some(format!("{at} could not be listed: {e}"));
                listing.skip(
                    &folder.name,
                    &path,
                    "not_fetched",
                    format!("Not listed: {e}"),
                );
                continue;
            }
        };
        for child in children {
            let child = if child.mime_type == drive::SHORTCUT {
                match drive.item(&child.id, child.resource_key.as_deref()).await {
                    Ok(target) => target,
                    Err(e) => {
                        let at = join(&path, &child.name);
                        listing.skip(
                            &child.name,
                            &at,
                            "not_fetched",
                            format!("The shortcut's target cannot be read: {e}"),
                        );
                        continue;
                    }
                }
            } else {
                child
            };
            let at = join(&path, &drive_name(&child));
            if child.mime_type == drive::FOLDER {
                if depth + 1 > limits.max_depth {
                    let reason = format!(
                        "A folder more than {} level(s) below the link is not walked.",
                        limits.max_depth
                    );
                    listing.skip(&child.name, &at, "too_deep", reason);
                } else {
                    folders.push((child, at, depth + 1));
                }
            } else if child.mime_type.starts_with("application/vnd.google-apps.")
                && child.mime_type != drive::SHEET
            {
                let reason = format!(
                    "{} is a Google document that is not a spreadsheet: OAS reads sales reports.",
                    child.name
                );
                listing.skip(&child.name, &at, "unsupported", reason);
            } else {
                listing.offer(drive_found(child, at));
            }
        }
    }
    listing.found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(listing)
}

pub(crate) fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}/{name}")
    }
}

fn dropbox_failure(e: DropboxError) -> Failure {
    match e {
        DropboxError::Link(_) | DropboxError::Credentials => rejected(e.to_string()),
        DropboxError::Fetch(oas_platform::fetch::FetchError::Refused(why)) => rejected(why),
        other => failure(FailureCode::Internal, "Dropbox", other),
    }
}

async fn list_dropbox(client: &Dropbox, link: &str, limits: Limits) -> Result<Listing, Failure> {
    let top = client.metadata(link).await.map_err(dropbox_failure)?;
    if !top.is_folder() {
        return single(Found {
            name: top.name.clone(),
            path: top.name.clone(),
            size: top.size,
            modified: top.server_modified.clone(),
            how: How::Dropbox(None),
        });
    }
    let mut listing = Listing::default();
    let mut folders = vec![(String::new(), 0usize)];
    while let Some((path, depth)) = folders.pop() {
        let entries = match client.list(link, &path).await {
            Ok(entries) => entries,
            Err(e) if path.is_empty() => return Err(dropbox_failure(e)),
            Err(e) => {
                let shown = path.trim_start_matches('/');
                listing.stopped = Some(format!("{shown} could not be listed: {e}"));
                listing.skip(shown, shown, "not_fetched", format!("Not listed: {e}"));
                continue;
            }
        };
        for entry in entries {
            let inner = format!("{path}/{}", entry.name);
            let at = inner.trim_start_matches('/').to_owned();
            if entry.is_folder() {
                if depth + 1 > limits.max_depth {
                    let reason = format!(
                        "A folder more than {} level(s) below the link is not walked.",
                        limits.max_depth
                    );
                    listing.skip(&entry.name, &at, "too_deep", reason);
                } else {
                    folders.push((inner, depth + 1));
                }
            } else if entry.tag == "file" {
                listing.offer(Found {
                    name: entry.name.clone(),
                    path: at,
                    size: entry.size,
                    modified: entry.server_modified.clone(),
                    how: How::Dropbox(Some(inner)),
                });
            }
        }
    }
    listing.found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use oas_domain::fetch::Allowed;
    use oas_platform::storage::LocalStorage;
    use oas_platform::storage::signing::UrlSigner;

    use super::*;
    use crate::testing::{Routes, fake};

    const LIMITS: Limits = Limits {
        max_files: 2,
        max_depth: 4,
        max_file_bytes: 1 << 20,
    };

    fn meta(id: &str, name: &str, mime: &str, size: Option<u64>) -> String {
        match size {
            Some(size) => format!(
                r#"{{"id":"{id}","name":"{name}","mimeType":"{mime}","size":"{size}","modifiedTime":"2024-02-01T00:00:00Z"}}"#
            ),
            None => format!(r#"{{"id":"{id}","name":"{name}","mimeType":"{mime}"}}"#),
        }
    }

    /// A folder whose subfolder cannot be listed and one of whose files
    /// cannot be read, beside files that can: what can be is fetched, the
    /// rest named with why.
    #[tokio::test]
    async fn a_failure_half_way_keeps_what_was_fetched_and_names_the_rest() {
        let listing = format!(
            r#"{{"files":[{},{},{},{},{},{}]}}"#,
            meta("A", "jan.csv", "text/csv", Some(8)),
            meta("B", "feb.csv", "text/csv", Some(8)),
            meta("C", "mar.csv", "text/csv", Some(8)),
            meta("E", "empty.csv", "text/csv", Some(0)),
            meta("S", "broken", drive::FOLDER, None),
            meta(
                "D",
                "notes.doc",
                "application/vnd.google-apps.document",
                None
            ),
        );
        let routes: Routes = [
            ("/d/files/TOP", meta("TOP", "Reports", drive::FOLDER, None)),
            ("/d/files/A#media", "a,b\n1,2\n".to_owned()),
            ("/d/files/C#media", "a,b\n1,2\n".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), vec![(200, v)]))
        .chain([
            // Feb cannot be downloaded; the top folder is listed, then the
            // subfolder cannot be.
            (
                "/d/files/B#media".to_owned(),
                vec![(500, "boom".to_owned())],
            ),
            (
                "/d/files".to_owned(),
                vec![(200, listing), (500, "boom".to_owned())],
            ),
        ])
        .collect();
        let (base, _) = fake(routes, "d/").await;
        let guard = Guard::new(Allowed::parse("127.0.0.1").unwrap(), Duration::from_secs(5));
        let drive = Drive::new(base, "k".to_owned(), guard);
        let listing = list_drive(&drive, "TOP", DriveKind::Folder, None, LIMITS)
            .await
            .unwrap();
        let stopped = listing
            .stopped
            .clone()
            .expect("the subfolder was not listed");
        assert!(stopped.contains("broken"), "{stopped}");
        let reader = Fetcher::Drive(drive);
        let dir = tempfile::tempdir().unwrap();
        let storage = AnyStorage::Local(
            LocalStorage::new(
                dir.path().to_owned(),
                url::Url::parse("http://127.0.0.1/").unwrap(),
                UrlSigner::new(b"test"),
            )
            .unwrap(),
        );
        let seen = Seen::default();
        let output = fetch_all(&reader, listing, &seen, LIMITS, &storage, "org-1/fetches/1")
            .await
            .unwrap();
        let fetched: Vec<&str> = output.fetched.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(fetched, ["jan.csv"]);
        let kinds: Vec<(&str, &str)> = output
            .skipped
            .iter()
            .map(|s| (s.path.as_str(), s.kind.as_str()))
            .collect();
        for wanted in [
            ("broken", "not_fetched"),
            ("feb.csv", "not_fetched"),
            ("mar.csv", "duplicate"),
            ("empty.csv", "empty"),
            ("notes.doc", "unsupported"),
        ] {
            assert!(kinds.contains(&wanted), "{wanted:?} in {kinds:?}");
        }
        // What was fetched is stored, with its hash.
        let stored = std::fs::read(dir.path().join("org-1/fetches/1/0")).unwrap();
        assert_eq!(stored, b"a,b\n1,2\n");
        assert!(output.fetched[0].content_hash.starts_with("blake3:"));
    }

    #[test]
    fn seen_files_are_known_by_path_size_and_time() {
        let entry = SourceEntry {
            source_id: 1,
            path: "jan.csv".into(),
            size: 8,
            modified: "2024-02-01T00:00:00Z".into(),
            content_hash: "blake3:x".into(),
            seen_at: chrono::NaiveDateTime::default(),
        };
        let seen = Seen::of(&[entry]);
        let found = |size, modified: &str| Found {
            name: "jan.csv".into(),
            path: "jan.csv".into(),
            size: Some(size),
            modified: Some(modified.to_owned()),
            how: How::Ftp("/jan.csv".into()),
        };
        assert!(seen.unchanged(&found(8, "2024-02-01T00:00:00Z")));
        assert!(!seen.unchanged(&found(9, "2024-02-01T00:00:00Z")));
        assert!(!seen.unchanged(&found(8, "2024-03-01T00:00:00Z")));
        assert!(seen.hashes.contains("blake3:x"));
    }
}
