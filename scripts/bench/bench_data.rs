//! The benchmarks' usage items and catalog (`report_bench prepare` writes
//! them), read back as a module reads them from the database. Shared by
//! the report and statement benchmarks (`#[path]`-included: examples of
//! two crates).

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use oas_db::catalog::{CatalogEntry, ItemMatch};
use oas_lines::matches::FileMatches;
use polars::prelude::*;

/// The catalog's text columns, in the order they are written and read.
pub const CATALOG_TEXT: [&str; 7] = [
    "isrc",
    "title",
    "version",
    "artist",
    "label",
    "upc",
    "release_title",
];

fn texts(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(frame
        .column(name)?
        .cast(&DataType::String)?
        .str()?
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect())
}

fn ids(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i64>>> {
    Ok(frame.column(name)?.i64()?.iter().collect())
}

/// The items and catalog as the module reads them from the database.
pub fn matches(dir: &Path) -> PolarsResult<FileMatches> {
    let read = |name: &str| -> PolarsResult<DataFrame> {
        let file = File::open(dir.join(name)).map_err(|e| PolarsError::IO {
            error: Arc::new(e),
            msg: None,
        })?;
        ParquetReader::new(file).finish()
    };
    let catalog = read("catalog.parquet")?;
    let mut entries: HashMap<i64, Arc<CatalogEntry>> = HashMap::new();
    let c: Vec<Vec<Option<String>>> = CATALOG_TEXT
        .iter()
        .map(|name| texts(&catalog, name))
        .collect::<PolarsResult<_>>()?;
    let track_ids = ids(&catalog, "track_id")?;
    let release_ids = ids(&catalog, "release_id")?;
    for (i, id) in track_ids.iter().enumerate() {
        let Some(id) = *id else { continue };
        entries.insert(
            id,
            Arc::new(CatalogEntry {
                track_id: id,
                isrc: c[0][i].clone(),
                title: c[1][i].clone().unwrap_or_default(),
                version: c[2][i].clone(),
                artist: c[3][i].clone().unwrap_or_default(),
                track_label: c[4][i].clone(),
                release_id: release_ids[i],
                upc: c[5][i].clone(),
                release_title: c[6][i].clone(),
                release_label: None,
            }),
        );
    }
    let items = read("items.parquet")?;
    let t: Vec<Vec<Option<String>>> = [
        "artist",
        "track_title",
        "release_title",
        "isrc",
        "upc",
        "status",
        "match_type",
        "reason",
    ]
    .iter()
    .map(|name| texts(&items, name))
    .collect::<PolarsResult<_>>()?;
    let tracks = ids(&items, "track_id")?;
    let rows = (0..items.height())
        .map(|i| {
            let get = |c: usize| t[c][i].clone().unwrap_or_default();
            ItemMatch {
                artist: get(0),
                track_title: get(1),
                release_title: get(2),
                isrc: get(3),
                upc: get(4),
                status: get(5),
                match_type: t[6][i].clone(),
                track_id: tracks[i],
                reason: get(7),
            }
        })
        .collect();
    Ok(FileMatches::new(rows, &entries))
}
