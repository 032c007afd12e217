//! The uploads module: fetches an uploaded report from storage, cleans it
//! ([`clean`]) and stores the result beside it for the importer.
//!
//! Params and output: `oas_domain::job::contract::uploads`.

pub mod clean;
pub mod drive;
pub mod dropbox;
pub mod fetch;
pub mod ftp;
#[cfg(test)]
mod testing;

use oas_domain::job::contract::uploads::{self, Output, Params};
use oas_domain::job::{FailureCode, Job, Module};
use oas_platform::config::Settings;
use oas_platform::module::{Failure, ModuleInfo};
use oas_platform::storage::{AnyStorage, ObjectKey, ObjectStore};

pub use clean::{Cleaned, Limits, Refusal};

pub const INFO: ModuleInfo = ModuleInfo {
    module: Module::Uploads,
    about: "cleans an uploaded sales report into one UTF-8 CSV (or expands an archive); fetches the reports a Drive, Dropbox or FTP link holds",
    actions: &[uploads::ACTION, oas_domain::job::contract::fetch::ACTION],
    params: "clean: source (object key), target (folder key), max_expanded_bytes, max_members, max_ratio; fetch: batch (id), target (folder key)",
};

fn internal(what: &str) -> impl Fn(String) -> Failure + '_ {
    move |e| Failure::new(FailureCode::Internal, format!("{what}: {e}"))
}

pub async fn run(job: Job, settings: Settings) -> Result<serde_json::Value, Failure> {
    if job.action == oas_domain::job::contract::fetch::ACTION {
        return fetch::run(job, settings).await;
    }
    let params: Params = serde_json::from_value(job.params.clone())
        .map_err(|e| Failure::new(FailureCode::InvalidParams, e.to_string()))?;
    let source = ObjectKey::parse(&params.source)
        .map_err(|e| Failure::new(FailureCode::InvalidParams, e.to_string()))?;
    let target = params.target.trim_end_matches('/').to_owned();
    let defaults = Limits::default();
    let limits = Limits {
        max_expanded_bytes: params
            .max_expanded_bytes
            .unwrap_or(defaults.max_expanded_bytes),
        max_members: params.max_members.unwrap_or(defaults.max_members),
        max_ratio: params.max_ratio.unwrap_or(defaults.max_ratio),
    };
    let storage = AnyStorage::for_module(&settings)
        .await
        .map_err(|e| internal("storage")(e.to_string()))?;
    let work = tempfile::tempdir().map_err(|e| internal("temporary folder")(e.to_string()))?;
    let original = work.path().join("original");
    match storage.download(&source, &original).await {
        Ok(_) => {}
        Err(oas_platform::storage::StorageError::NotFound(_)) => {
            return Err(Failure::new(
                FailureCode::Rejected,
                "No bytes were uploaded for this file: upload them to the presigned URL first.",
            ));
        }
        Err(e) => return Err(internal("download")(e.to_string())),
    }
    let folder = work.path().to_owned();
    let cleaning = original.clone();
    let cleaned = tokio::task::spawn_blocking(move || {
        let original = cleaning;
        // Hash on a second core while cleaning reads the same file.
        std::thread::scope(|scope| {
            let hashing = scope.spawn(|| oas_platform::storage::content_hash(&original));
            let cleaned = clean::clean(&original, &folder, &limits)
                .map_err(|refusal| Failure::new(refusal.code(), refusal.to_string()));
            let hash = hashing
                .join()
                .map_err(|_| internal("hash")("the hashing thread failed".to_owned()))?
                .map_err(|e| internal("hash")(e.to_string()))?;
            Ok::<_, Failure>((hash, cleaned?))
        })
    })
    .await
    .map_err(|e| internal("cleaning")(e.to_string()))?;
    let (content_hash, cleaned) = cleaned?;
    let key = |name: &str| {
        ObjectKey::parse(&format!("{target}/{name}")).map_err(|e| internal("key")(e.to_string()))
    };
    let cleaned = match cleaned {
        Cleaned::Table(table) => {
            let (clean_key, own_copy) = match &table {
                // Local storage keeps its own copy of the very bytes
                // cleaned: a link, which costs nothing, so the import need
                // not check them again. On S3 a copy would send them
                // again: there the upload stands as its own clean copy,
                // and the import checks its hash.
                table if table.as_uploaded && matches!(storage, AnyStorage::Local(_)) => {
                    let clean_key = key("clean.txt")?;
                    put(&storage, &clean_key, &original).await?;
                    (clean_key.as_str().to_owned(), true)
                }
                table if table.as_uploaded => (source.as_str().to_owned(), false),
                table => {
                    let clean_key = key("clean.csv")?;
                    put(&storage, &clean_key, &table.facts.path).await?;
                    (clean_key.as_str().to_owned(), false)
                }
            };
            uploads::Cleaned::Table(uploads::Table {
                source_type: table.facts.source_type,
                encoding: table.facts.encoding,
                clean_key,
                delimiter: table.delimiter,
                header: table.header,
                preamble: table.preamble,
                rows: table.rows,
                trailing_lines: table.trailing_lines,
                sheet: table.sheet,
                skip_lines: table.skip_lines,
                as_uploaded: table.as_uploaded,
                data_end: table.data_end,
                own_copy,
            })
        }
        Cleaned::Dsr(dsr) => {
            let clean_key = key("clean.txt")?;
            put(&storage, &clean_key, &dsr.facts.path).await?;
            uploads::Cleaned::Dsr(uploads::Dsr {
                source_type: dsr.facts.source_type,
                encoding: dsr.facts.encoding,
                clean_key: clean_key.as_str().to_owned(),
                message: dsr.message,
            })
        }
        Cleaned::Archive(archive) => {
            let mut members = Vec::with_capacity(archive.members.len());
            for (index, member) in archive.members.into_iter().enumerate() {
                let member_key = key(&format!("members/{index}"))?;
                put(&storage, &member_key, &member.path).await?;
                members.push(uploads::Member {
                    name: member.name,
                    size: member.size,
                    key: member_key.as_str().to_owned(),
                });
            }
            let skipped = archive
                .skipped
                .into_iter()
                .map(|s| uploads::Skipped {
                    name: s.name,
                    reason: s.reason,
                })
                .collect();
            uploads::Cleaned::Archive(uploads::Archive { members, skipped })
        }
    };
    let output = Output {
        content_hash,
        cleaned,
    };
    tracing::info!(kind = output.cleaned.kind(), "cleaned");
    serde_json::to_value(&output).map_err(|e| internal("output")(e.to_string()))
}

async fn put(storage: &AnyStorage, key: &ObjectKey, path: &std::path::Path) -> Result<(), Failure> {
    storage
        .put_file(key, path)
        .await
        .map_err(|e| internal("upload")(e.to_string()))
}
