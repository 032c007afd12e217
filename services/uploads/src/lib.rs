//! The uploads module: fetches an uploaded report from storage, cleans it
//! ([`clean`]) and stores the result beside it for the importer.
//!
//! Params: `source` (the uploaded object's key), `target` (the folder key
//! the results go under), and optionally `max_expanded_bytes`,
//! `max_members`, `max_ratio` (archive limits).

pub mod clean;
mod sheets;

use oas_domain::job::{Job, Module};
use oas_platform::config::Settings;
use oas_platform::module::{Failure, ModuleInfo};
use oas_platform::storage::{AnyStorage, ObjectKey, ObjectStore};
use serde::Deserialize;

pub use clean::{Cleaned, Limits, Refusal};

pub const INFO: ModuleInfo = ModuleInfo {
    module: Module::Uploads,
    about: "cleans an uploaded sales report into one UTF-8 CSV (or expands an archive)",
    actions: &["clean"],
    params: "source (object key), target (folder key), max_expanded_bytes, max_members, max_ratio",
};

/// A failure that is the file's fault: its message is the file's cause.
pub const REJECTED: &str = "rejected";

#[derive(Debug, Deserialize)]
struct Params {
    source: String,
    target: String,
    max_expanded_bytes: Option<u64>,
    max_members: Option<usize>,
    max_ratio: Option<u64>,
}

fn internal(what: &str) -> impl Fn(String) -> Failure + '_ {
    move |e| Failure::new("internal", format!("{what}: {e}"))
}

pub async fn run(job: Job, settings: Settings) -> Result<serde_json::Value, Failure> {
    let params: Params = serde_json::from_value(job.params.clone())
        .map_err(|e| Failure::new("invalid_params", e.to_string()))?;
    let source = ObjectKey::parse(&params.source)
        .map_err(|e| Failure::new("invalid_params", e.to_string()))?;
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
                REJECTED,
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
                .map_err(|refusal| Failure::new(REJECTED, refusal.to_string()));
            let hash = hashing
                .join()
                .map_err(|_| internal("hash")("the hashing thread failed".to_owned()))?
                .map_err(|e| internal("hash")(e.to_string()))?;
            Ok::<_, Failure>((hash, cleaned?))
        })
    })
    .await
    .map_err(|e| internal("cleaning")(e.to_string()))?;
    let (hash, cleaned) = cleaned?;
    let key = |name: &str| {
        ObjectKey::parse(&format!("{target}/{name}")).map_err(|e| internal("key")(e.to_string()))
    };
    let mut output =
        serde_json::to_value(&cleaned).map_err(|e| internal("output")(e.to_string()))?;
    match &cleaned {
        // Local storage keeps its own copy of the very bytes cleaned: a
        // link, which costs nothing, so the import need not check them
        // again. On S3 a copy would send them again: there the upload
        // stands as its own clean copy, and the import checks its hash.
        Cleaned::Table(table) if table.as_uploaded && matches!(storage, AnyStorage::Local(_)) => {
            let clean_key = key("clean.txt")?;
            put(&storage, &clean_key, &original).await?;
            output["clean_key"] = clean_key.as_str().into();
            output["own_copy"] = true.into();
        }
        Cleaned::Table(table) if table.as_uploaded => {
            output["clean_key"] = source.as_str().into();
        }
        Cleaned::Table(table) => {
            let clean_key = key("clean.csv")?;
            put(&storage, &clean_key, &table.facts.path).await?;
            output["clean_key"] = clean_key.as_str().into();
        }
        Cleaned::Dsr(dsr) => {
            let clean_key = key("clean.txt")?;
            put(&storage, &clean_key, &dsr.facts.path).await?;
            output["clean_key"] = clean_key.as_str().into();
        }
        Cleaned::Archive(archive) => {
            for (index, member) in archive.members.iter().enumerate() {
                let member_key = key(&format!("members/{index}"))?;
                put(&storage, &member_key, &member.path).await?;
                output["members"][index]["key"] = member_key.as_str().into();
            }
        }
    }
    output["content_hash"] = hash.into();
    tracing::info!(kind = %output["kind"], "cleaned");
    Ok(output)
}

async fn put(storage: &AnyStorage, key: &ObjectKey, path: &std::path::Path) -> Result<(), Failure> {
    storage
        .put_file(key, path)
        .await
        .map_err(|e| internal("upload")(e.to_string()))
}
