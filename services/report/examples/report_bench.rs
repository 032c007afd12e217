//! The report benchmark's OAS side (`scripts/bench/report.sh`).
//!
//! `report_bench prepare DIR`: from the imported lines in
//! `DIR/lines.parquet` (the importer's output), the file's usage items
//! (keyed as matching keys them: the five item fields as written), eight in ten
//! matched to a catalog track, one waiting for review, one unmatched,
//! written to `DIR/items.parquet` with the catalog to `DIR/catalog.parquet`;
//! and what each kind of report must add up to, exactly, in
//! `DIR/expect.json`.
//!
//! `report_bench report DIR KIND PERIOD`: the report module's work on
//! them, as a run does it after reading the matches from the database:
//! the items and catalog read, the lines streamed, joined and written to
//! `DIR/oas-KIND.csv.gz`. Prints what it wrote as JSON.

#[path = "../../../scripts/bench/bench_data.rs"]
mod bench_data;

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

use oas_domain::job::contract::report::{By, Kind, Source};
use oas_domain::money::Amount;
use oas_report::lines::{Report, Spec};
use oas_sales::names::ITEM_FIELDS;
use polars::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["prepare", dir] => prepare(Path::new(dir)),
        ["report", dir, kind, period] => report(Path::new(dir), kind, period),
        _ => Err("usage: report_bench prepare DIR | report DIR monthly|unmatched YYYY-MM".into()),
    }
}

const FILE_ID: i64 = 1;

/// A usage item of the lines: its five fields (as written, a missing one
/// empty), its lines and their base-currency revenue.
struct Item {
    fields: [String; 5],
    lines: i64,
    revenue: Amount,
}

/// The items of the lines in `parquet`, in the order each first appears,
/// as matching keys them.
fn items(parquet: &Path) -> Result<Vec<Item>, Box<dyn std::error::Error>> {
    let mut at: HashMap<[String; 5], usize> = HashMap::new();
    let mut items: Vec<Item> = Vec::new();
    let mut columns = ITEM_FIELDS.to_vec();
    columns.push("base_revenue");
    oas_lines::for_each_slice::<Box<dyn std::error::Error>>(
        parquet,
        &columns,
        oas_lines::SLICE_ROWS,
        |slice| {
            let texts = oas_lines::texts(slice, &columns)?;
            let mut iters: Vec<_> = texts.iter().map(|c| c.iter()).collect();
            for _ in 0..slice.height() {
                let mut values = iters
                    .iter_mut()
                    .map(|i| i.next().flatten().unwrap_or_default());
                let fields: [String; 5] =
                    std::array::from_fn(|_| values.next().unwrap_or_default().to_owned());
                let revenue = Amount::parse(values.next().unwrap_or("0"))?;
                let index = *at.entry(fields.clone()).or_insert_with(|| {
                    items.push(Item {
                        fields,
                        lines: 0,
                        revenue: Amount::ZERO,
                    });
                    items.len() - 1
                });
                items[index].lines += 1;
                items[index].revenue += revenue;
            }
            Ok(())
        },
    )?;
    Ok(items)
}

fn prepare(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let items = items(&dir.join("lines.parquet"))?;
    let n = items.len();
    let mut columns: [Vec<String>; 5] = Default::default();
    let (mut status, mut match_type, mut track, mut reason) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut catalog: [Vec<Option<String>>; 7] = Default::default();
    let (mut track_ids, mut release_ids) = (Vec::new(), Vec::new());
    let (mut monthly, mut unmatched) = (Amount::ZERO, Amount::ZERO);
    let (mut monthly_lines, mut unmatched_lines) = (0i64, 0i64);
    for (i, item) in items.iter().enumerate() {
        let [artist, track_title, release_title, isrc, upc] = &item.fields;
        for (column, value) in columns.iter_mut().zip(&item.fields) {
            column.push(value.clone());
        }
        let (s, t) = match i % 10 {
            8 => ("review", None),
            9 => ("unmatched", None),
            _ => ("matched", Some(i as i64 + 1)),
        };
        status.push(s);
        match_type.push(t.map(|_| "isrc"));
        track.push(t);
        reason.push(format!("{s} for the benchmark"));
        if let Some(id) = t {
            monthly += item.revenue;
            monthly_lines += item.lines;
            track_ids.push(id);
            release_ids.push(Some(id / 5 + 1));
            for (column, value) in catalog.iter_mut().zip([
                Some(isrc.clone()).filter(|v| !v.is_empty()),
                Some(format!("{track_title} (catalog)")),
                None,
                Some(artist.clone()),
                Some("A Label".to_owned()),
                Some(upc.clone()).filter(|v| !v.is_empty()),
                Some(release_title.clone()),
            ]) {
                column.push(value);
            }
        } else {
            unmatched += item.revenue;
            unmatched_lines += item.lines;
        }
    }
    let text = |name: &str, values: &[String]| Column::new(name.into(), values);
    let mut frame = DataFrame::new(
        n,
        vec![
            Column::new("file_id".into(), vec![FILE_ID; n]),
            text("artist", &columns[0]),
            text("track_title", &columns[1]),
            text("release_title", &columns[2]),
            text("isrc", &columns[3]),
            text("upc", &columns[4]),
            Column::new("status".into(), status),
            Column::new("match_type".into(), match_type),
            Column::new("track_id".into(), track),
            Column::new("reason".into(), reason),
        ],
    )?;
    ParquetWriter::new(File::create(dir.join("items.parquet"))?).finish(&mut frame)?;
    let m = track_ids.len();
    let mut catalog_columns = vec![Column::new("track_id".into(), track_ids)];
    for (name, values) in bench_data::CATALOG_TEXT.iter().zip(catalog) {
        catalog_columns.push(Column::new((*name).into(), values));
    }
    catalog_columns.push(Column::new("release_id".into(), release_ids));
    let mut frame = DataFrame::new(m, catalog_columns)?;
    ParquetWriter::new(File::create(dir.join("catalog.parquet"))?).finish(&mut frame)?;
    let expect = serde_json::json!({
        "items": n,
        "monthly": {"rows": monthly_lines, "total": monthly.to_string()},
        "unmatched": {"rows": unmatched_lines, "total": unmatched.to_string()},
        "total": (monthly + unmatched).to_string(),
    });
    std::fs::write(
        dir.join("expect.json"),
        serde_json::to_string_pretty(&expect)?,
    )?;
    println!("{expect}");
    Ok(())
}

fn report(dir: &Path, kind: &str, period: &str) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let kind = match kind {
        "monthly" => Kind::Monthly,
        "unmatched" => Kind::Unmatched,
        other => return Err(format!("unknown kind {other}").into()),
    };
    let matches = bench_data::matches(dir)?;
    let read = started.elapsed().as_secs_f64();
    let out: PathBuf = dir.join(format!("oas-{}.csv.gz", kind.as_str()));
    let spec = Spec {
        kind,
        period_from: period.to_owned(),
        period_to: period.to_owned(),
        by: By::Reporting,
    };
    let mut report = Report::create(spec, &out)?;
    let source = Source {
        file_id: FILE_ID,
        name: "report.txt".into(),
        parquet_key: "org-1/lines/file-1.parquet".into(),
        period: Some(period.to_owned()),
    };
    report.add_file(&source, &dir.join("lines.parquet"), &matches)?;
    let written = report.finish(oas_platform::snapshots::REPORT_TOP)?;
    println!(
        "{}",
        serde_json::json!({
            "kind": kind.as_str(),
            "rows": written.rows,
            "total": written.total.to_string(),
            "period_lines": written.period_lines,
            "bytes": written.bytes,
            "items_seconds": read,
            "seconds": started.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}
