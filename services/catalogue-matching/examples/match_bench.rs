//! The matching benchmark's OAS side (`make bench`, scripts/bench/matching.sh).
//!
//! `generate DIR --tracks N --items M --lines L [--seed S]` writes a catalog
//! (`catalog.csv`) and the lines of a sales file (`lines.parquet`, the
//! importer's columns) whose items are the accuracy set's, written as
//! stores write them, two thirds with an ISRC; every item is repeated
//! over `L / M` lines with its own amounts, and `expect.json` holds the
//! lines' exact total.
//!
//! `match DIR` does what the module's `match` action does, without the
//! database: reads the catalog and the lines, finds the items, matches
//! them, sums them; and prints one JSON line of figures.
//!
//! `accuracy [--tracks N --items M --seed S]` prints the cascade's precision
//! and recall on the labelled set of the accuracy test, at any size.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use oas_catalogue_matching::accuracy::{Set, evaluate};
use oas_catalogue_matching::matcher::{CatalogTrack, Index, Thresholds};
use oas_catalogue_matching::{items, match_items, summarise};
use oas_domain::money::Amount;
use polars::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let option = |name: &str, default: u64| -> Result<u64> {
        match args.iter().position(|a| a == name) {
            Some(at) => Ok(args.get(at + 1).ok_or("a value")?.parse()?),
            None => Ok(default),
        }
    };
    match args.first().map(String::as_str) {
        Some("generate") => {
            let dir = PathBuf::from(args.get(1).ok_or("generate DIR")?);
            generate(
                &dir,
                option("--tracks", 100_000)? as usize,
                option("--items", 100_000)? as usize,
                option("--lines", 1_000_000)? as usize,
                option("--seed", 17)?,
            )
        }
        Some("match") => run(Path::new(args.get(1).ok_or("match DIR")?)),
        Some("accuracy") => {
            // The labelled set of the accuracy test, at any size.
            let set = Set::generate(
                option("--seed", 17)?,
                option("--tracks", 20_000)? as usize,
                option("--items", 20_000)? as usize,
            );
            println!("{}", evaluate(&set, Thresholds::default()));
            Ok(())
        }
        _ => Err(
            "usage: match_bench generate DIR [--tracks N --items M --lines L --seed S] \
             | match DIR | accuracy [--tracks N --items M --seed S]"
                .into(),
        ),
    }
}

fn generate(dir: &Path, tracks: usize, items: usize, lines: usize, seed: u64) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let set = Set::generate(seed, tracks, items);
    let mut rng = StdRng::seed_from_u64(seed + 1);
    let mut writer = csv::Writer::from_path(dir.join("catalog.csv"))?;
    writer.write_record([
        "id",
        "isrc",
        "title",
        "version",
        "artist",
        "upc",
        "catalog_number",
    ])?;
    for t in &set.catalog {
        writer.write_record([
            t.id.to_string().as_str(),
            t.isrc.as_deref().unwrap_or_default(),
            &t.title,
            t.version.as_deref().unwrap_or_default(),
            &t.artist,
            t.gtin.as_deref().unwrap_or_default(),
            t.catalog_number.as_deref().unwrap_or_default(),
        ])?;
    }
    writer.flush()?;
    // Two thirds of the items carry an ISRC, as real reports do: the
    // items the set wrote without one get their track's, in turn.
    let by_id: BTreeMap<i64, &CatalogTrack> = set.catalog.iter().map(|t| (t.id, t)).collect();
    let mut usages: Vec<_> = set
        .items
        .iter()
        .map(|i| (i.usage.clone(), i.truth))
        .collect();
    let with_isrc = usages.iter().filter(|(u, _)| !u.isrc.is_empty()).count();
    let mut wanted = (usages.len() * 2 / 3).saturating_sub(with_isrc);
    for (usage, truth) in &mut usages {
        if wanted == 0 {
            break;
        }
        if usage.isrc.is_empty()
            && let Some(isrc) = truth
                .and_then(|id| by_id.get(&id))
                .and_then(|t| t.isrc.clone())
        {
            usage.isrc = isrc;
            wanted -= 1;
        }
    }
    let per_item = (lines / usages.len().max(1)).max(1);
    let count = per_item * usages.len();
    let mut columns: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut quantity = Vec::with_capacity(count);
    let mut line = Vec::with_capacity(count);
    let mut total = Amount::ZERO;
    for (n, (usage, _)) in usages.iter().enumerate() {
        for k in 0..per_item {
            for (name, value) in [
                ("artist", &usage.artist),
                ("track_title", &usage.track_title),
                ("release_title", &usage.release_title),
                ("isrc", &usage.isrc),
                ("upc", &usage.upc),
                ("catalog_number", &usage.catalog_number),
            ] {
                columns.entry(name).or_default().push(value.clone());
            }
            let amount = format!("0.{:012}", rng.random_range(1..5_000_000_000u64));
            total = total
                .checked_add(Amount::parse(&amount)?)
                .ok_or("overflow")?;
            columns.entry("base_revenue").or_default().push(amount);
            quantity.push(rng.random_range(1..100i64));
            line.push((n * per_item + k) as i64 + 2);
        }
    }
    let mut frame: Vec<Column> = vec![Column::new("line".into(), line)];
    for (name, values) in columns {
        frame.push(Column::new(name.into(), values));
    }
    frame.push(Column::new("quantity".into(), quantity));
    let mut frame = DataFrame::new(count, frame)?;
    let file = std::fs::File::create(dir.join("lines.parquet"))?;
    ParquetWriter::new(file).finish(&mut frame)?;
    std::fs::write(
        dir.join("expect.json"),
        serde_json::json!({"lines": count, "items": usages.len(), "tracks": set.catalog.len(), "total": total.to_string()}).to_string(),
    )?;
    Ok(())
}

fn run(dir: &Path) -> Result<()> {
    let started = Instant::now();
    let mut reader = csv::Reader::from_path(dir.join("catalog.csv"))?;
    let text = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
    let mut tracks = Vec::new();
    for record in reader.records() {
        let record = record?;
        let get = |at: usize| record.get(at).unwrap_or_default();
        tracks.push(CatalogTrack {
            id: get(0).parse()?,
            isrc: text(get(1)),
            title: get(2).to_owned(),
            version: text(get(3)),
            artist: get(4).to_owned(),
            gtin: text(get(5)),
            catalog_number: text(get(6)),
        });
    }
    let read = started.elapsed().as_secs_f64();
    let items = items::read(&dir.join("lines.parquet"))?;
    let lines_read = started.elapsed().as_secs_f64();
    let index = Index::new(&tracks, Vec::new(), Thresholds::default());
    let indexed = started.elapsed().as_secs_f64();
    let outcomes = match_items(&index, &items, None);
    let matched = summarise(&items, &outcomes, tracks.is_empty()).map_err(|e| e.message)?;
    let seconds = started.elapsed().as_secs_f64();
    let total = [
        matched.matched_revenue,
        matched.review_revenue,
        matched.unmatched_revenue,
    ]
    .into_iter()
    .sum::<Amount>();
    let lines: i64 = items.iter().map(|i| i.lines).sum();
    println!(
        "{}",
        serde_json::json!({
            "seconds": seconds,
            "catalog_seconds": read,
            "lines_seconds": lines_read - read,
            "index_seconds": indexed - lines_read,
            "match_seconds": seconds - indexed,
            "lines": lines,
            "items": matched.items,
            "matched": matched.matched,
            "review": matched.review,
            "unmatched": matched.unmatched,
            "by_type": matched.by_type,
            "total": total.to_string(),
        })
    );
    Ok(())
}
