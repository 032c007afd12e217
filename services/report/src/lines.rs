//! A report written line by line: each processed file's Parquet lines are
//! read a few row groups at a time, each line of the period is joined to
//! its usage item's match, and a line of the report's kind is written to
//! the CSV and added to its totals and snapshot. Memory stays a slice of
//! one file, that file's items and the snapshot's groups, whatever the
//! period's size.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use foldhash::fast::RandomState;
use oas_domain::job::contract::report::{By, Kind, Source};
use oas_domain::money::Amount;
use oas_lines::matches::item_key;
pub use oas_lines::matches::{FileMatches, Item, Standing};
use oas_platform::snapshots::{Dimension, ReportGroups, SnapshotRow};
use oas_sales::cells::text;
use oas_sales::names::{ITEM_FIELDS, fold};
use polars::prelude::*;

use crate::sink::Gzipped;

/// The line's columns a report reads, besides [`ITEM_FIELDS`].
const COLUMNS: [&str; 18] = [
    "line",
    "reporting_period",
    "sale_period",
    "sale_start",
    "sale_end",
    "dsp",
    "sub_service",
    "territory",
    "label",
    "catalog_number",
    "sale_type",
    "quantity",
    "gross_revenue",
    "net_revenue",
    "currency",
    "exchange_rate",
    "base_revenue",
    "base_currency",
];

/// The header every report starts with: the line as the standard says,
/// where it came from, its amounts in the file's and the base currency.
pub const LINE_HEADER: [&str; 25] = [
    "source_file",
    "source_file_id",
    "line",
    "reporting_period",
    "sale_period",
    "sale_start",
    "sale_end",
    "dsp",
    "sub_service",
    "territory",
    "artist",
    "release_title",
    "track_title",
    "isrc",
    "upc",
    "label",
    "catalog_number",
    "sale_type",
    "quantity",
    "gross_revenue",
    "net_revenue",
    "currency",
    "exchange_rate",
    "base_revenue",
    "base_currency",
];

/// What a monthly report adds: the catalog's track and release matched.
pub const MONTHLY_HEADER: [&str; 10] = [
    "match_type",
    "track_id",
    "release_id",
    "catalog_isrc",
    "catalog_upc",
    "catalog_title",
    "catalog_version",
    "catalog_artist",
    "catalog_release",
    "catalog_label",
];

/// What an unmatched report adds: where the item stands, and why.
pub const UNMATCHED_HEADER: [&str; 2] = ["match_status", "reason"];

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the lines of {file} cannot be read: {error}")]
    Lines { file: String, error: PolarsError },
    #[error("line {line} of {file}: the amount {amount:?} is not an exact decimal")]
    Amount {
        file: String,
        line: i64,
        amount: String,
    },
    #[error("the report's revenue overflows")]
    Overflow,
    #[error(
        "the lines are in two base currencies, {0} and {1}: reimport the files of the older one"
    )]
    BaseCurrencies(String, String),
    #[error("writing the report: {0}")]
    Write(#[from] std::io::Error),
    #[error("writing the report: {0}")]
    Csv(#[from] csv::Error),
}

/// What a report asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub kind: Kind,
    /// Months `YYYY-MM`, inclusive.
    pub period_from: String,
    pub period_to: String,
    pub by: By,
}

/// One snapshot group as it is summed.
#[derive(Debug, Clone)]
struct Group {
    key: String,
    name: String,
    isrc: Option<String>,
    upc: Option<String>,
    revenue: Amount,
    quantity: i64,
}

/// A dimension's groups: found by the line's value as written (`seen`),
/// then by its normalised key (`at`), so each distinct value is
/// normalised once.
#[derive(Debug, Default)]
struct Groups {
    seen: HashMap<String, usize, RandomState>,
    at: HashMap<String, usize, RandomState>,
    groups: Vec<Group>,
}

impl Groups {
    /// Adds a line to the group of `raw`, made by `make` (its key, name,
    /// ISRC and UPC) the first time `raw` is seen.
    fn add(
        &mut self,
        raw: &str,
        revenue: Amount,
        quantity: i64,
        make: impl FnOnce() -> (String, String, Option<String>, Option<String>),
    ) {
        let index = match self.seen.get(raw) {
            Some(&index) => index,
            None => {
                let (key, name, isrc, upc) = make();
                let next = self.groups.len();
                let index = *self.at.entry(key.clone()).or_insert(next);
                if index == next {
                    self.groups.push(Group {
                        key,
                        name,
                        isrc,
                        upc,
                        revenue: Amount::ZERO,
                        quantity: 0,
                    });
                }
                self.seen.insert(raw.to_owned(), index);
                index
            }
        };
        let group = &mut self.groups[index];
        group.revenue += revenue;
        group.quantity += quantity;
    }

    /// The highest `limit` groups, and how many there are.
    fn top(self, limit: usize) -> ReportGroups {
        let count = self.groups.len() as i64;
        let mut groups = self.groups;
        groups.sort_unstable_by(|a, b| b.revenue.cmp(&a.revenue).then_with(|| a.key.cmp(&b.key)));
        groups.truncate(limit);
        ReportGroups {
            count,
            top: groups
                .into_iter()
                .map(|g| SnapshotRow {
                    key: g.key,
                    name: g.name,
                    isrc: g.isrc,
                    upc: g.upc,
                    revenue: g.revenue,
                    base_revenue: g.revenue,
                    quantity: g.quantity,
                })
                .collect(),
        }
    }
}

/// What a report came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub rows: u64,
    /// In the base currency.
    pub total: Amount,
    pub quantity: i64,
    pub currency: Option<String>,
    /// In each file currency.
    pub by_currency: BTreeMap<String, Amount>,
    /// Lines of the period in the files read, of either kind, and what
    /// they add up to in the base currency: the monthly and the unmatched
    /// report of a period share these.
    pub period_lines: u64,
    pub period_total: Amount,
    /// Bytes of the gzipped file.
    pub bytes: u64,
    pub groups: BTreeMap<Dimension, ReportGroups>,
}

/// A report being written.
pub struct Report {
    spec: Spec,
    out: csv::Writer<Gzipped>,
    rows: u64,
    total: Amount,
    quantity: i64,
    currency: Option<String>,
    by_currency: BTreeMap<String, Amount>,
    period_lines: u64,
    period_total: Amount,
    groups: [Groups; 5],
    /// Reused for keys.
    key: String,
}

/// The key and name of a track or release group of a line not matched:
/// its identifier when it has one, else its folded title and artist.
fn own_group(title: &str, artist: &str, id: &str) -> (String, String) {
    let key = if id.is_empty() {
        format!("{}\u{1f}{}", fold(title), fold(artist))
    } else {
        id.to_owned()
    };
    (key, title.to_owned())
}

fn place(dimension: Dimension) -> usize {
    match dimension {
        Dimension::Artist => 0,
        Dimension::Dsp => 1,
        Dimension::Territory => 2,
        Dimension::Track => 3,
        Dimension::Release => 4,
    }
}

impl Report {
    /// Starts a report of `spec`, written gzipped to `path`.
    pub fn create(spec: Spec, path: &Path) -> Result<Self, ReportError> {
        let mut out = csv::WriterBuilder::new()
            .flexible(false)
            .from_writer(Gzipped::create(path)?);
        let mut header: Vec<&str> = LINE_HEADER.to_vec();
        match spec.kind {
            Kind::Monthly => header.extend(MONTHLY_HEADER),
            Kind::Unmatched => header.extend(UNMATCHED_HEADER),
        }
        out.write_record(&header)?;
        Ok(Self {
            spec,
            out,
            rows: 0,
            total: Amount::ZERO,
            quantity: 0,
            currency: None,
            by_currency: BTreeMap::new(),
            period_lines: 0,
            period_total: Amount::ZERO,
            groups: Default::default(),
            key: String::new(),
        })
    }

    /// Reads the lines of `source` (its Parquet file at `parquet`), and
    /// writes those of the period and of the report's kind.
    pub fn add_file(
        &mut self,
        source: &Source,
        parquet: &Path,
        matches: &FileMatches,
    ) -> Result<(), ReportError> {
        self.add_file_by(source, parquet, matches, oas_lines::SLICE_ROWS)
    }

    /// [`Report::add_file`], reading `slice_rows` lines at a time (whole
    /// row groups).
    fn add_file_by(
        &mut self,
        source: &Source,
        parquet: &Path,
        matches: &FileMatches,
        slice_rows: usize,
    ) -> Result<(), ReportError> {
        let mut columns: Vec<&str> = ITEM_FIELDS.to_vec();
        columns.extend(COLUMNS);
        oas_lines::for_each_slice(parquet, &columns, slice_rows, |frame| {
            self.add_slice(source, frame, matches)
        })
        .map_err(|e| match e {
            SliceError::Polars(error) => ReportError::Lines {
                file: source.name.clone(),
                error,
            },
            SliceError::Report(e) => e,
        })
    }

    fn add_slice(
        &mut self,
        source: &Source,
        frame: &DataFrame,
        matches: &FileMatches,
    ) -> Result<(), SliceError> {
        let items = oas_lines::texts(frame, &ITEM_FIELDS)?;
        let texts = oas_lines::texts(
            frame,
            &[
                "reporting_period",
                "sale_period",
                "sale_start",
                "sale_end",
                "dsp",
                "sub_service",
                "territory",
                "label",
                "catalog_number",
                "sale_type",
                "gross_revenue",
                "net_revenue",
                "currency",
                "exchange_rate",
                "base_revenue",
                "base_currency",
            ],
        )?;
        let line = oas_lines::numbers(frame, "line")?;
        let quantity = oas_lines::numbers(frame, "quantity")?;
        let mut item_iters: Vec<_> = items.iter().map(|c| c.iter()).collect();
        let mut text_iters: Vec<_> = texts.iter().map(|c| c.iter()).collect();
        let file_id = source.file_id.to_string();
        let waiting = Item::waiting();
        for (number, quantity) in line.iter().zip(quantity.iter()) {
            let mut item = [""; 5];
            for (value, iter) in item.iter_mut().zip(item_iters.iter_mut()) {
                *value = iter.next().flatten().unwrap_or_default();
            }
            let mut v = [""; 16];
            let mut present = [false; 16];
            for ((value, there), iter) in v
                .iter_mut()
                .zip(present.iter_mut())
                .zip(text_iters.iter_mut())
            {
                if let Some(text) = iter.next().flatten() {
                    *value = text;
                    *there = true;
                }
            }
            let [
                reporting_period,
                sale_period,
                sale_start,
                sale_end,
                dsp,
                sub_service,
                territory,
                label,
                catalog_number,
                sale_type,
                gross,
                net,
                currency,
                rate,
                base,
                base_currency,
            ] = v;
            let number = number.unwrap_or_default();
            let quantity = quantity.unwrap_or_default();
            let reporting = if present[0] {
                Some(reporting_period)
            } else {
                source.period.as_deref()
            };
            let month = match self.spec.by {
                By::Reporting => reporting,
                By::Sale if present[1] => Some(sale_period),
                By::Sale => reporting,
            };
            let Some(month) = month else { continue };
            if month < self.spec.period_from.as_str() || month > self.spec.period_to.as_str() {
                continue;
            }
            let amount = |text: &str| {
                Amount::parse(text).map_err(|_| ReportError::Amount {
                    file: source.name.clone(),
                    line: number,
                    amount: text.to_owned(),
                })
            };
            let base_amount = amount(if present[14] { base } else { "0" })?;
            self.period_lines += 1;
            self.period_total = self
                .period_total
                .checked_add(base_amount)
                .ok_or(ReportError::Overflow)?;

            item_key(item, &mut self.key);
            let found = matches.get(self.key.as_str()).unwrap_or(&waiting);
            let belongs = match self.spec.kind {
                Kind::Monthly => found.standing == Standing::Matched,
                Kind::Unmatched => found.standing != Standing::Matched,
            };
            if !belongs {
                continue;
            }
            let net_amount = amount(net)?;
            if present[15] {
                match &self.currency {
                    None => self.currency = Some(base_currency.to_owned()),
                    Some(known) if known != base_currency => {
                        return Err(ReportError::BaseCurrencies(
                            known.clone(),
                            base_currency.to_owned(),
                        )
                        .into());
                    }
                    Some(_) => {}
                }
            }
            let in_currency = self
                .by_currency
                .entry(currency.to_owned())
                .or_insert(Amount::ZERO);
            *in_currency = in_currency
                .checked_add(net_amount)
                .ok_or(ReportError::Overflow)?;
            self.rows += 1;
            self.total = self
                .total
                .checked_add(base_amount)
                .ok_or(ReportError::Overflow)?;
            self.quantity += quantity;

            let [artist, track_title, release_title, isrc, upc] = item;
            let out = &mut self.out;
            out.write_field(text(&source.name).as_bytes())?;
            out.write_field(&file_id)?;
            out.write_field(number.to_string())?;
            for cell in [
                reporting.unwrap_or_default(),
                if present[1] { sale_period } else { "" },
                sale_start,
                sale_end,
                dsp,
                sub_service,
                territory,
                artist,
                release_title,
                track_title,
                isrc,
                upc,
                label,
                catalog_number,
                sale_type,
            ] {
                out.write_field(text(cell).as_bytes())?;
            }
            out.write_field(quantity.to_string())?;
            // Amounts as written: exact decimal text, never a formula.
            out.write_field(gross)?;
            out.write_field(net)?;
            out.write_field(text(currency).as_bytes())?;
            out.write_field(rate)?;
            out.write_field(if present[14] { base } else { "0" })?;
            out.write_field(text(base_currency).as_bytes())?;
            match self.spec.kind {
                Kind::Monthly => {
                    let entry = found.entry.as_deref();
                    out.write_field(found.match_type.as_deref().unwrap_or_default())?;
                    out.write_field(entry.map(|e| e.track_id.to_string()).unwrap_or_default())?;
                    out.write_field(
                        entry
                            .and_then(|e| e.release_id)
                            .map(|id| id.to_string())
                            .unwrap_or_default(),
                    )?;
                    for cell in [
                        entry.and_then(|e| e.isrc.as_deref()),
                        entry.and_then(|e| e.upc.as_deref()),
                        entry.map(|e| e.title.as_str()),
                        entry.and_then(|e| e.version.as_deref()),
                        entry.map(|e| e.artist.as_str()),
                        entry.and_then(|e| e.release_title.as_deref()),
                        entry.and_then(|e| e.label()),
                    ] {
                        out.write_field(text(cell.unwrap_or_default()).as_bytes())?;
                    }
                }
                Kind::Unmatched => {
                    out.write_field(found.standing.as_str())?;
                    out.write_field(text(&found.reason).as_bytes())?;
                }
            }
            out.write_record(None::<&[u8]>)?;

            self.group(found, item, [dsp, territory], base_amount, quantity);
        }
        Ok(())
    }

    /// Adds a written line to its group of each dimension: a matched line
    /// by the catalog's artist, track and release, another by its own.
    fn group(
        &mut self,
        found: &Item,
        [artist, track_title, release_title, isrc, upc]: [&str; 5],
        [dsp, territory]: [&str; 2],
        revenue: Amount,
        quantity: i64,
    ) {
        let entry = found
            .entry
            .as_deref()
            .filter(|_| found.standing == Standing::Matched);
        let named = |value: &str| {
            let key = fold(value);
            let key = if key.is_empty() {
                "unknown".to_owned()
            } else {
                key
            };
            let name = if value.is_empty() {
                "Unknown".to_owned()
            } else {
                value.to_owned()
            };
            (key, name, None, None)
        };
        let artist_name = entry.map_or(artist, |e| e.artist.as_str());
        self.groups[place(Dimension::Artist)]
            .add(artist_name, revenue, quantity, || named(artist_name));
        self.groups[place(Dimension::Dsp)].add(dsp, revenue, quantity, || named(dsp));
        self.groups[place(Dimension::Territory)].add(territory, revenue, quantity, || {
            let code = if territory.is_empty() {
                "unknown"
            } else {
                territory
            };
            (code.to_owned(), code.to_owned(), None, None)
        });
        let key = &mut self.key;
        match entry {
            Some(e) => {
                key.clear();
                key.push_str("track ");
                key.push_str(&e.track_id.to_string());
                self.groups[place(Dimension::Track)].add(key, revenue, quantity, || {
                    (
                        e.isrc
                            .clone()
                            .unwrap_or_else(|| format!("track {}", e.track_id)),
                        e.title.clone(),
                        e.isrc.clone(),
                        e.upc.clone(),
                    )
                });
                key.clear();
                match e.release_id {
                    Some(id) => {
                        key.push_str("release ");
                        key.push_str(&id.to_string());
                    }
                    None => key.push_str("no release"),
                }
                self.groups[place(Dimension::Release)].add(key, revenue, quantity, || {
                    match (&e.upc, e.release_id) {
                        (Some(upc), _) => (
                            upc.clone(),
                            e.release_title.clone().unwrap_or_else(|| upc.clone()),
                            None,
                            Some(upc.clone()),
                        ),
                        (None, Some(id)) => (
                            format!("release {id}"),
                            e.release_title.clone().unwrap_or_default(),
                            None,
                            None,
                        ),
                        (None, None) => ("unknown".into(), "Unknown".into(), None, None),
                    }
                });
            }
            None => {
                item_key([track_title, artist, isrc, "", ""], key);
                self.groups[place(Dimension::Track)].add(key, revenue, quantity, || {
                    let (key, name) = own_group(track_title, artist, isrc);
                    (
                        key,
                        name,
                        Some(isrc.to_owned()).filter(|i| !i.is_empty()),
                        None,
                    )
                });
                item_key([release_title, artist, upc, "", ""], key);
                self.groups[place(Dimension::Release)].add(key, revenue, quantity, || {
                    let (key, name) = own_group(release_title, artist, upc);
                    (
                        key,
                        name,
                        None,
                        Some(upc.to_owned()).filter(|u| !u.is_empty()),
                    )
                });
            }
        }
    }

    /// Ends the file; its totals and snapshot groups (the `top` highest of
    /// each dimension).
    pub fn finish(self, top: usize) -> Result<Written, ReportError> {
        let gzip = self.out.into_inner().map_err(|e| e.into_error())?;
        let bytes = gzip.finish()?;
        let [artist, dsp, territory, track, release] = self.groups;
        let groups = BTreeMap::from([
            (Dimension::Artist, artist.top(top)),
            (Dimension::Dsp, dsp.top(top)),
            (Dimension::Territory, territory.top(top)),
            (Dimension::Track, track.top(top)),
            (Dimension::Release, release.top(top)),
        ]);
        Ok(Written {
            rows: self.rows,
            total: self.total,
            quantity: self.quantity,
            currency: self.currency,
            by_currency: self.by_currency,
            period_lines: self.period_lines,
            period_total: self.period_total,
            bytes,
            groups,
        })
    }
}

/// A slice's failure: reading it, or what it holds.
enum SliceError {
    Polars(PolarsError),
    Report(ReportError),
}

impl From<PolarsError> for SliceError {
    fn from(e: PolarsError) -> Self {
        SliceError::Polars(e)
    }
}

impl From<ReportError> for SliceError {
    fn from(e: ReportError) -> Self {
        SliceError::Report(e)
    }
}

impl From<csv::Error> for SliceError {
    fn from(e: csv::Error) -> Self {
        SliceError::Report(e.into())
    }
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::io::Read;

    use super::*;
    use oas_db::catalog::{CatalogEntry, ItemMatch};

    /// One line: (line, reporting, sale, artist, title, isrc, currency,
    /// net, base).
    type Row = (
        i64,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    );

    fn write_lines(path: &Path, rows: &[Row]) {
        let column = |f: fn(&Row) -> &'static str| -> Vec<Option<&'static str>> {
            rows.iter()
                .map(|r| Some(f(r)).filter(|v| !v.is_empty()))
                .collect()
        };
        let n = rows.len();
        let mut frame = DataFrame::new(
            n,
            vec![
                Column::new("organisation_id".into(), vec![1i64; n]),
                Column::new("file_id".into(), vec![7i64; n]),
                Column::new("line".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
                Column::new("reporting_period".into(), column(|r| r.1)),
                Column::new("sale_period".into(), column(|r| r.2)),
                Column::new("sale_start".into(), vec![None::<&str>; n]),
                Column::new("sale_end".into(), vec![None::<&str>; n]),
                Column::new("dsp".into(), vec![Some("Spotify"); n]),
                Column::new("sub_service".into(), vec![None::<&str>; n]),
                Column::new("territory".into(), vec![Some("GB"); n]),
                Column::new("artist".into(), column(|r| r.3)),
                Column::new("release_title".into(), vec![Some("An Album"); n]),
                Column::new("track_title".into(), column(|r| r.4)),
                Column::new("isrc".into(), column(|r| r.5)),
                Column::new("upc".into(), vec![None::<&str>; n]),
                Column::new("label".into(), vec![Some("-Label"); n]),
                Column::new("catalog_number".into(), vec![None::<&str>; n]),
                Column::new("sale_type".into(), vec![Some("stream"); n]),
                Column::new("gross_revenue".into(), vec![None::<&str>; n]),
                Column::new("net_revenue".into(), column(|r| r.7)),
                Column::new("currency".into(), column(|r| r.6)),
                Column::new("exchange_rate".into(), vec![Some("1.25"); n]),
                Column::new("base_revenue".into(), column(|r| r.8)),
                Column::new("quantity".into(), vec![3i64; n]),
                Column::new("base_currency".into(), vec![Some("USD"); n]),
            ],
        )
        .unwrap();
        ParquetWriter::new(File::create(path).unwrap())
            .with_row_group_size(Some(2))
            .finish(&mut frame)
            .unwrap();
    }

    fn item(artist: &str, title: &str, isrc: &str, status: &str, track: Option<i64>) -> ItemMatch {
        ItemMatch {
            artist: artist.into(),
            track_title: title.into(),
            release_title: "An Album".into(),
            isrc: isrc.into(),
            upc: String::new(),
            status: status.into(),
            match_type: (status == "matched").then(|| "isrc".into()),
            track_id: track,
            reason: format!("{status} by the test"),
        }
    }

    fn entry(id: i64, title: &str) -> Arc<CatalogEntry> {
        Arc::new(CatalogEntry {
            track_id: id,
            isrc: Some("GBAAA0000001".into()),
            title: title.into(),
            version: None,
            artist: "The Band".into(),
            track_label: None,
            release_id: Some(40),
            upc: Some("5012345678900".into()),
            release_title: Some("An Album".into()),
            release_label: Some("@Label".into()),
        })
    }

    const ROWS: [Row; 7] = [
        (
            1,
            "2024-01",
            "2023-12",
            "The Band",
            "Song",
            "GBAAA0000001",
            "GBP",
            "1.1",
            "1.375",
        ),
        (
            2,
            "2024-01",
            "2024-01",
            "The Band",
            "Song",
            "GBAAA0000001",
            "GBP",
            "0.000000001",
            "0.00000000125",
        ),
        (
            3,
            "2024-01",
            "",
            "=cmd|' /C calc'!A0",
            "@SUM(A1)",
            "",
            "USD",
            "-0.5",
            "-0.5",
        ),
        (
            4, "2024-01", "2024-01", "Someone", "Waiting", "", "USD", "2", "2",
        ),
        (5, "", "2024-02", "Nobody", "Nowhere", "", "USD", "7", "7"),
        (
            6,
            "2024-02",
            "2024-01",
            "The Band",
            "Song",
            "GBAAA0000001",
            "GBP",
            "4",
            "5",
        ),
        (
            7,
            "2024-01",
            "2024-01",
            "Someone",
            "In Review",
            "",
            "USD",
            "0.25",
            "0.25",
        ),
    ];

    fn matches() -> FileMatches {
        let catalog = HashMap::from([(9, entry(9, "Song (Remastered)"))]);
        FileMatches::new(
            vec![
                item("The Band", "Song", "GBAAA0000001", "matched", Some(9)),
                item("=cmd|' /C calc'!A0", "@SUM(A1)", "", "unmatched", None),
                item("Someone", "In Review", "", "review", Some(9)),
            ],
            &catalog,
        )
    }

    fn source(period: Option<&str>) -> Source {
        Source {
            file_id: 7,
            name: "+report.csv".into(),
            parquet_key: "org-1/lines/2024-01/file-7.parquet".into(),
            period: period.map(str::to_owned),
        }
    }

    fn run(
        kind: Kind,
        from: &str,
        to: &str,
        by: By,
    ) -> (Written, Vec<csv::StringRecord>, csv::StringRecord) {
        let dir = tempfile::tempdir().unwrap();
        let lines = dir.path().join("lines.parquet");
        write_lines(&lines, &ROWS);
        let out = dir.path().join("report.csv.gz");
        let spec = Spec {
            kind,
            period_from: from.into(),
            period_to: to.into(),
            by,
        };
        let mut report = Report::create(spec, &out).unwrap();
        report
            .add_file_by(&source(Some("2024-01")), &lines, &matches(), 3)
            .unwrap();
        let written = report.finish(100).unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(File::open(&out).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers().unwrap().clone();
        let rows = reader.records().map(Result::unwrap).collect();
        (written, rows, header)
    }

    fn a(text: &str) -> Amount {
        Amount::parse(text).unwrap()
    }

    #[test]
    fn monthly_and_unmatched_hold_each_line_of_the_period_once_and_add_up() {
        let (monthly, m_rows, m_header) = run(Kind::Monthly, "2024-01", "2024-01", By::Reporting);
        let (unmatched, u_rows, u_header) =
            run(Kind::Unmatched, "2024-01", "2024-01", By::Reporting);
        // Lines 1-5 and 7 report in January (5 through the file's period);
        // 6 in February.
        assert_eq!((monthly.period_lines, unmatched.period_lines), (6, 6));
        assert_eq!(monthly.rows + unmatched.rows, 6);
        assert_eq!(monthly.total + unmatched.total, monthly.period_total);
        assert_eq!(monthly.period_total, a("10.12500000125"));
        assert_eq!(monthly.total, a("1.37500000125"), "to the last digit");
        assert_eq!(
            monthly.by_currency,
            BTreeMap::from([("GBP".to_owned(), a("1.100000001"))])
        );
        assert_eq!(unmatched.total, a("8.75"));
        assert_eq!(monthly.currency.as_deref(), Some("USD"));

        let column = |header: &csv::StringRecord, name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .unwrap_or_else(|| panic!("{name}"))
        };
        let lines = |rows: &[csv::StringRecord], header: &csv::StringRecord| -> Vec<String> {
            rows.iter()
                .map(|r| r[column(header, "line")].to_owned())
                .collect()
        };
        assert_eq!(lines(&m_rows, &m_header), ["1", "2"]);
        assert_eq!(lines(&u_rows, &u_header), ["3", "4", "5", "7"]);
        let m = &m_rows[0];
        assert_eq!(&m[column(&m_header, "catalog_title")], "Song (Remastered)");
        assert_eq!(&m[column(&m_header, "track_id")], "9");
        assert_eq!(&m[column(&m_header, "release_id")], "40");
        assert_eq!(
            &m[column(&m_header, "catalog_label")],
            "'@Label",
            "a formula, quoted"
        );
        assert_eq!(&m[column(&m_header, "match_type")], "isrc");
        assert_eq!(&m[column(&m_header, "base_revenue")], "1.375");
        assert_eq!(&m[column(&m_header, "exchange_rate")], "1.25");
        assert_eq!(&m[column(&m_header, "source_file")], "'+report.csv");
        assert_eq!(&m[column(&m_header, "label")], "'-Label");
        // Amounts as written, a negative one too.
        let formula = &u_rows[0];
        assert_eq!(&formula[column(&u_header, "artist")], "'=cmd|' /C calc'!A0");
        assert_eq!(&formula[column(&u_header, "track_title")], "'@SUM(A1)");
        assert_eq!(&formula[column(&u_header, "net_revenue")], "-0.5");
        assert_eq!(&formula[column(&u_header, "match_status")], "unmatched");
        assert_eq!(&u_rows[1][column(&u_header, "match_status")], "not_matched");
        assert_eq!(&u_rows[3][column(&u_header, "match_status")], "review");
        // A line without its own month takes the file's.
        assert_eq!(&u_rows[2][column(&u_header, "reporting_period")], "2024-01");
        assert_eq!(m_header.len(), LINE_HEADER.len() + MONTHLY_HEADER.len());
        assert_eq!(u_header.len(), LINE_HEADER.len() + UNMATCHED_HEADER.len());
    }

    #[test]
    fn by_sale_a_line_counts_in_the_month_of_its_sale() {
        let (monthly, rows, header) = run(Kind::Monthly, "2024-01", "2024-01", By::Sale);
        let at = header.iter().position(|h| h == "line").unwrap();
        // Line 1 was sold in December, line 6 in January.
        let lines: Vec<&str> = rows.iter().map(|r| &r[at]).collect();
        assert_eq!(lines, ["2", "6"]);
        assert_eq!(monthly.total, a("5.00000000125"));
        // Line 3 has no sale month: its reporting month counts.
        let (unmatched, rows, header) = run(Kind::Unmatched, "2024-01", "2024-01", By::Sale);
        let at = header.iter().position(|h| h == "line").unwrap();
        let lines: Vec<&str> = rows.iter().map(|r| &r[at]).collect();
        assert_eq!(lines, ["3", "4", "7"]);
        assert_eq!(monthly.period_total, unmatched.period_total);
    }

    #[test]
    fn the_snapshot_groups_add_up_to_the_report() {
        let (monthly, _, _) = run(Kind::Monthly, "2024-01", "2024-02", By::Reporting);
        let tracks = &monthly.groups[&Dimension::Track];
        assert_eq!(tracks.count, 1);
        assert_eq!(tracks.top[0].name, "Song (Remastered)");
        assert_eq!(tracks.top[0].isrc.as_deref(), Some("GBAAA0000001"));
        let (unmatched, _, _) = run(Kind::Unmatched, "2024-01", "2024-02", By::Reporting);
        for written in [&monthly, &unmatched] {
            for (dimension, groups) in &written.groups {
                let sum: Amount = groups.top.iter().map(|g| g.revenue).sum();
                assert_eq!(sum, written.total, "{dimension:?}");
                let quantity: i64 = groups.top.iter().map(|g| g.quantity).sum();
                assert_eq!(quantity, written.quantity, "{dimension:?}");
            }
        }
        assert_eq!(unmatched.groups[&Dimension::Artist].count, 3);
    }

    #[test]
    fn a_period_without_lines_is_a_header_alone() {
        let (written, rows, header) = run(Kind::Monthly, "2030-01", "2030-12", By::Reporting);
        assert_eq!((written.rows, written.period_lines), (0, 0));
        assert!(rows.is_empty());
        assert_eq!(header.len(), LINE_HEADER.len() + MONTHLY_HEADER.len());
        assert_eq!(written.currency, None);
    }

    #[test]
    fn a_lines_file_that_is_not_parquet_is_a_clear_failure() {
        let dir = tempfile::tempdir().unwrap();
        let lines = dir.path().join("lines.parquet");
        std::fs::write(&lines, b"not parquet").unwrap();
        let spec = Spec {
            kind: Kind::Monthly,
            period_from: "2024-01".into(),
            period_to: "2024-01".into(),
            by: By::Reporting,
        };
        let mut report = Report::create(spec, &dir.path().join("r.csv.gz")).unwrap();
        let error = report
            .add_file(&source(None), &lines, &FileMatches::default())
            .unwrap_err();
        assert!(error.to_string().contains("+report.csv"), "{error}");
    }
}
