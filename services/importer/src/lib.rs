//! The importer module: reads a cleaned report as a stream, maps every line
//! to the standard sales line with the file's format, converts it to the
//! organisation's base currency, writes the lines as Parquet under the
//! organisation and period, and saves the file's snapshot.
//!
//! Nothing is skipped: a line that cannot be read fails the import with its
//! line number and column, so a snapshot always reconciles to its source.

pub mod dimension;
mod dsr;
mod failure;
pub mod imported;
pub mod ledger;
pub mod lines;
pub mod rates;
#[cfg(test)]
mod reference;
pub mod table;
pub mod totals;

use std::path::Path;

use oas_domain::job::contract::{importer, uploads};
use oas_domain::job::{FailureCode, Job, Module};
#[cfg(test)]
use oas_domain::money::Amount;
use oas_platform::config::Settings;
use oas_platform::module::{Failure, ModuleInfo};
use oas_platform::snapshots::{Snapshot, SnapshotTotals};
use oas_platform::storage::{AnyStorage, ObjectKey, ObjectStore};

use failure::{internal, rejected};
use imported::Imported;
use lines::Constants;
pub use rates::{Params, Rates};

pub const INFO: ModuleInfo = ModuleInfo {
    module: Module::Importer,
    about: "maps a cleaned report to standard sales lines, writes them as Parquet and saves the file's snapshot",
    actions: &[importer::IMPORT, importer::REIMPORT],
    params: "clean (the uploads module's output), formats, base_currency, file_rate, rates, reporting_period, lines_prefix",
};

/// Imports a cleaned table (its header after `skip_lines` lines).
///
/// An upload that stood as its own clean copy (on S3) could have been
/// replaced since it was cleaned (uploaded again, then refused): its bytes
/// are hashed as the import reads them (read apart only when the import
/// failed before reading), and different bytes fail it, whatever else the
/// import found.
pub fn import_table(
    clean: &Path,
    table: &uploads::Table,
    params: &Params,
    constants: Constants,
    parquet: &Path,
) -> Result<Imported, Failure> {
    let as_uploaded = table.as_uploaded;
    let expected =
        Some(params.clean.content_hash.clone()).filter(|_| as_uploaded && !table.own_copy);
    // A clean copy is comma-separated with its header first; an upload that
    // was already clean is read as it came, past its preamble.
    let source = table::Source {
        path: clean,
        skip_lines: if as_uploaded { table.skip_lines } else { 0 },
        delimiter: match table.delimiter.as_bytes() {
            [d] if as_uploaded => *d,
            _ => b',',
        },
        data_end: table.data_end.filter(|_| as_uploaded),
        rows: Some(table.rows),
        block: table::BLOCK,
        hash: expected.is_some(),
    };
    let mut hashed = None;
    let imported = table::import(
        &source,
        &table.preamble,
        params,
        constants,
        parquet,
        &mut hashed,
    );
    if let Some(expected) = expected {
        let found = match hashed {
            Some(found) => found,
            None => {
                oas_platform::storage::content_hash(clean).map_err(|e| internal("hashing", e))?
            }
        };
        if found != expected {
            return Err(rejected(
                "The uploaded bytes changed after the file was cleaned: process it with the action \"clean\" again.",
            ));
        }
    }
    imported
}

pub async fn run(job: Job, settings: Settings) -> Result<serde_json::Value, Failure> {
    let params: Params = serde_json::from_value(job.params.clone())
        .map_err(|e| Failure::new(FailureCode::InvalidParams, e.to_string()))?;
    let Some(file_id) = job.file_id else {
        return Err(Failure::new(
            FailureCode::InvalidParams,
            "the job names no file",
        ));
    };
    let Some(clean_key) = params.clean.cleaned.clean_key() else {
        return Err(Failure::new(
            FailureCode::InvalidParams,
            "an archive is not imported: its members are",
        ));
    };
    let organisation_id = job.org_id;
    let storage = AnyStorage::for_module(&settings)
        .await
        .map_err(|e| internal("storage", e))?;
    let work = tempfile::tempdir().map_err(|e| internal("temporary folder", e))?;
    let clean_path = work.path().join("clean");
    let clean_key = ObjectKey::parse(clean_key).map_err(|e| internal("clean key", e))?;
    storage
        .download(&clean_key, &clean_path)
        .await
        .map_err(|e| internal("downloading the cleaned file", e))?;
    // The other files of a DSR message, each in a folder of its own.
    let mut other_parts = Vec::new();
    for part in &params.message_parts {
        let key = ObjectKey::parse(&part.clean_key).map_err(|e| internal("clean key", e))?;
        let path = work.path().join(format!("part-{}", part.file_number));
        storage.download(&key, &path).await.map_err(|e| {
            internal(
                &format!("downloading file {} of the DSR message", part.file_number),
                e,
            )
        })?;
        other_parts.push((part.file_number, path));
    }
    let parquet_path = work.path().join("lines.parquet");
    let blocking_params = params.clone();
    let parquet = parquet_path.clone();
    let constants = Constants {
        organisation_id,
        file_id,
        base_currency: params.base_currency.clone(),
    };
    let started = std::time::Instant::now();
    let mut imported = tokio::task::spawn_blocking(move || match &blocking_params.clean.cleaned {
        uploads::Cleaned::Dsr(_) => dsr::import(
            &clean_path,
            &other_parts,
            &blocking_params,
            constants,
            &parquet,
        ),
        uploads::Cleaned::Table(table) => {
            import_table(&clean_path, table, &blocking_params, constants, &parquet)
        }
        uploads::Cleaned::Archive(_) => Err(Failure::new(
            FailureCode::InvalidParams,
            "an archive is not imported: its members are",
        )),
    })
    .await
    .map_err(|e| internal("importing", e))??;

    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        "lines read and written"
    );
    // Replace the file's earlier lines, wherever their period put them.
    let prefix = params.lines_prefix.trim_end_matches('/');
    let suffix = oas_platform::storage::lines_suffix(file_id);
    storage
        .delete_matching(&format!("{prefix}/"), &suffix)
        .await
        .map_err(|e| internal("removing earlier lines", e))?;
    let period_folder = imported
        .period
        .clone()
        .unwrap_or_else(|| "unknown".to_owned());
    let parquet_key = ObjectKey::parse(&format!("{prefix}/{period_folder}{suffix}"))
        .map_err(|e| internal("lines key", e))?;
    // An import that took no line fails before here: there are lines.
    {
        storage
            .put_file(&parquet_key, &parquet_path)
            .await
            .map_err(|e| internal("storing the lines", e))?;
    }

    let snapshot = Snapshot {
        totals: SnapshotTotals {
            file_id,
            organisation_id,
            currency: imported.currency.clone(),
            base_currency: imported.base_currency.clone(),
            period: imported.period.clone(),
            lines: imported.lines,
            revenue: imported.total,
            base_revenue: imported.base_total,
            quantity: imported.quantity,
        },
        rows: std::mem::take(&mut imported.totals)
            .rows()
            .into_iter()
            .collect(),
    };
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "lines stored");
    let fingerprint = snapshot.fingerprint();
    save_snapshot(&settings, &snapshot).await?;
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "snapshot saved");
    tracing::info!(lines = imported.lines, format = %imported.format, "imported");
    let output = importer::Output {
        format: imported.format,
        format_name: imported.format_name,
        lines: imported.lines,
        currency: imported.currency,
        base_currency: imported.base_currency,
        rate: imported.rate,
        total: imported.total,
        base_total: imported.base_total,
        quantity: imported.quantity,
        artists: imported.artists as u64,
        period: imported.period,
        period_from: imported.months.as_ref().map(|(from, _)| from.clone()),
        period_to: imported.months.as_ref().map(|(_, to)| to.clone()),
        reporting_from: imported.reported.as_ref().map(|(from, _)| from.clone()),
        reporting_to: imported.reported.as_ref().map(|(_, to)| to.clone()),
        parquet_key: parquet_key.as_str().to_owned(),
        fingerprint: Some(fingerprint),
        rates_used: imported.rates_used,
    };
    serde_json::to_value(&output).map_err(|e| internal("output", e))
}

async fn save_snapshot(settings: &Settings, snapshot: &Snapshot) -> Result<(), Failure> {
    use oas_platform::snapshots::{AnySnapshots, SnapshotStore};
    let store = AnySnapshots::open(settings, None)
        .await
        .map_err(|e| internal("the snapshot store", e))?;
    store
        .save(snapshot)
        .await
        .map_err(|e| internal("saving the snapshot", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Imports `text`, cleaned as uploaded when its hash was `hash`, from
    /// the upload itself or from cleaning's own copy.
    fn import_cleaned(text: &str, hash: &str, own_copy: bool) -> Result<Imported, Failure> {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("clean");
        std::fs::write(&path, text).unwrap();
        let formats: serde_json::Value =
            serde_json::from_str(oas_sales::format::BUILTIN_JSON).unwrap();
        let params: Params = serde_json::from_value(serde_json::json!({
            "clean": {
                "kind": "table",
                "source_type": "text",
                "encoding": "UTF-8",
                "clean_key": "org-1/files/1/clean.txt",
                "header": ["dsp", "territory", "artist", "track_title", "quantity", "net_revenue", "currency"],
                "rows": 1,
                "as_uploaded": true,
                "delimiter": ",",
                "content_hash": hash,
                "own_copy": own_copy,
            },
            "formats": formats,
            "base_currency": "USD",
            "lines_prefix": "org-1/lines",
        }))
        .unwrap();
        let uploads::Cleaned::Table(table) = &params.clean.cleaned else {
            panic!("a table")
        };
        let constants = Constants {
            organisation_id: 1,
            file_id: 1,
            base_currency: "USD".into(),
        };
        import_table(
            &path,
            table,
            &params,
            constants,
            &folder.path().join("lines.parquet"),
        )
    }

    #[test]
    fn an_upload_read_as_its_own_clean_copy_must_still_be_the_bytes_cleaned() {
        let cleaned = "dsp,territory,artist,track_title,quantity,net_revenue,currency\n\
                       Spotify,DE,Ann,Song,2,0.50,USD\n";
        let replaced = cleaned.replace("0.50", "9.50");
        let mut hasher = oas_platform::storage::ContentHasher::default();
        hasher.update(cleaned.as_bytes());
        let hash = hasher.finish();
        let imported = import_cleaned(cleaned, &hash, false).unwrap();
        assert_eq!(imported.total, Amount::parse("0.50").unwrap());
        let failure = import_cleaned(&replaced, &hash, false).expect_err("other bytes fail");
        assert_eq!(failure.code, FailureCode::Rejected);
        assert!(
            failure
                .message
                .contains("changed after the file was cleaned"),
            "{}",
            failure.message
        );
        // Cleaning's own copy is the bytes it cleaned: not hashed again.
        let own = import_cleaned(&replaced, &hash, true).unwrap();
        assert_eq!(own.total, Amount::parse("9.50").unwrap());
    }
}
