//! The importer module: reads a cleaned report as a stream, maps every line
//! to the standard sales line with the file's format, converts it to the
//! organisation's base currency, writes the lines as Parquet under the
//! organisation and period, and saves the file's snapshot.
//!
//! Nothing is skipped: a line that cannot be read fails the import with its
//! line number and column, so a snapshot always reconciles to its source.

pub mod lines;
pub mod totals;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use oas_domain::job::{Job, Module};
use oas_domain::money::{Amount, parse_rate};
use oas_platform::config::Settings;
use oas_platform::module::{Failure, ModuleInfo};
use oas_platform::snapshots::{Snapshot, SnapshotTotals};
use oas_platform::storage::{AnyStorage, ObjectKey, ObjectStore};
use oas_sales::format::{self, FormatSpec, Line, Mapper};
use serde::{Deserialize, Serialize};

use lines::{Extra, LineWriter};
use totals::Totals;

pub const INFO: ModuleInfo = ModuleInfo {
    module: Module::Importer,
    about: "maps a cleaned report to standard sales lines, writes them as Parquet and saves the file's snapshot",
    actions: &["import", "reimport"],
    params: "clean (the uploads module's output), formats, base_currency, file_rate, rates, reporting_period, lines_prefix",
};

/// A failure that is the file's fault: its message is the file's cause.
pub const REJECTED: &str = "rejected";

fn rejected(message: impl Into<String>) -> Failure {
    Failure::new(REJECTED, message)
}

fn internal(what: &str, e: impl std::fmt::Display) -> Failure {
    Failure::new("internal", format!("{what}: {e}"))
}

/// What the uploads module reported.
#[derive(Debug, Clone, Deserialize)]
pub struct CleanOutput {
    pub kind: String,
    pub clean_key: String,
    #[serde(default)]
    pub preamble: Vec<(String, String)>,
    /// The upload itself is the clean copy (see the uploads module).
    #[serde(default)]
    pub as_uploaded: bool,
    #[serde(default)]
    pub skip_lines: usize,
    #[serde(default)]
    pub delimiter: Option<String>,
    /// Data lines in the clean copy.
    #[serde(default)]
    pub rows: Option<u64>,
    /// SHA-256 of the upload as it was cleaned.
    #[serde(default)]
    pub content_hash: Option<String>,
}

/// An organisation's rate from a currency to its base currency.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RateParam {
    pub currency: String,
    /// `YYYY-MM`.
    pub period: String,
    pub rate: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Params {
    pub clean: CleanOutput,
    /// The organisation's own formats first, then the built-ins.
    pub formats: Vec<FormatSpec>,
    pub base_currency: String,
    /// The file's own rate (file currency to base), if set.
    #[serde(default)]
    pub file_rate: Option<String>,
    #[serde(default)]
    pub rates: Vec<RateParam>,
    /// The file's reporting period, if the operator gave one.
    #[serde(default)]
    pub reporting_period: Option<String>,
    /// Where Parquet lines go, e.g. `org-7/lines`.
    pub lines_prefix: String,
}

/// Exchange rates as the import needs them: to the base currency, by
/// currency and period.
pub struct Rates {
    base: String,
    file_rate: Option<rust_decimal::Decimal>,
    /// Per currency, rates by period.
    by_currency: HashMap<String, BTreeMap<String, rust_decimal::Decimal>>,
    /// The file's currency, once a line names it.
    file_currency: Option<String>,
}

impl Rates {
    pub fn new(params: &Params) -> Result<Rates, Failure> {
        let file_rate = match &params.file_rate {
            Some(raw) => Some(parse_rate(raw).map_err(|e| {
                rejected(format!("The file's exchange rate is not usable: {}", e.0))
            })?),
            None => None,
        };
        let mut by_currency: HashMap<String, BTreeMap<String, rust_decimal::Decimal>> =
            HashMap::new();
        for r in &params.rates {
            if let Ok(rate) = parse_rate(&r.rate) {
                by_currency
                    .entry(r.currency.to_ascii_uppercase())
                    .or_default()
                    .insert(r.period.clone(), rate);
            }
        }
        Ok(Rates {
            base: params.base_currency.to_ascii_uppercase(),
            file_rate,
            by_currency,
            file_currency: None,
        })
    }

    /// The rate from `currency` to the base for a line of `period`: 1 for
    /// the base itself; the file's rate for the file's currency; else the
    /// organisation's rate for that month, or the latest month before it.
    pub fn rate(
        &mut self,
        currency: &str,
        period: Option<&str>,
    ) -> Result<rust_decimal::Decimal, String> {
        if currency == self.base {
            return Ok(rust_decimal::Decimal::ONE);
        }
        let file_currency = self
            .file_currency
            .get_or_insert_with(|| currency.to_owned());
        if let Some(rate) = self.file_rate
            && file_currency == currency
        {
            return Ok(rate);
        }
        let found = self
            .by_currency
            .get(currency)
            .and_then(|periods| match period {
                Some(p) => periods.range(..=p.to_owned()).next_back().map(|(_, r)| *r),
                None => periods.values().next_back().copied(),
            });
        found.ok_or_else(|| {
            format!(
                "No exchange rate from {currency} to {base}{for_period}: set the file's exchange_rate, or the organisation's rate for {currency}.",
                base = self.base,
                for_period = period.map(|p| format!(" for {p}")).unwrap_or_default(),
            )
        })
    }
}

/// What an import found.
#[derive(Debug, Serialize)]
pub struct Imported {
    pub format: String,
    pub format_name: String,
    pub lines: i64,
    pub currency: String,
    pub base_currency: String,
    /// The single rate used, when there was one.
    pub rate: Option<String>,
    pub total: Amount,
    pub base_total: Amount,
    pub quantity: i64,
    pub artists: usize,
    pub period: Option<String>,
    #[serde(skip)]
    pub totals: Totals,
}

/// Reads one line's amount and converts it, adding it to `totals` and the
/// Parquet writer.
struct Sink {
    rates: Rates,
    totals: Totals,
    writer: LineWriter,
    currencies: BTreeMap<String, i64>,
    /// The first rate used for each currency.
    used_rates: BTreeMap<String, (rust_decimal::Decimal, String)>,
    /// Whether some currency was converted at more than one rate.
    several_rates: bool,
    /// The latest sale or reporting period of the lines.
    latest_period: Option<String>,
    file_period: Option<String>,
    default_currency: Option<String>,
}

impl Sink {
    fn new(
        params: &Params,
        organisation_id: i64,
        file_id: i64,
        parquet: &Path,
        file_period: Option<String>,
        default_currency: Option<String>,
    ) -> Result<Sink, Failure> {
        Ok(Sink {
            rates: Rates::new(params)?,
            totals: Totals::default(),
            writer: LineWriter::create(parquet, organisation_id, file_id, &params.base_currency)
                .map_err(|e| internal("creating the Parquet file", e))?,
            currencies: BTreeMap::new(),
            used_rates: BTreeMap::new(),
            several_rates: false,
            latest_period: None,
            file_period,
            default_currency,
        })
    }

    /// Closes the Parquet file and sums up; `empty` is the cause when no
    /// line was taken.
    fn finish(
        self,
        format: &str,
        format_name: &str,
        base_currency: &str,
        empty: &str,
    ) -> Result<(Imported, bool), Failure> {
        let wrote = self
            .writer
            .finish()
            .map_err(|e| internal("writing Parquet", e))?;
        let totals = self.totals;
        if totals.lines == 0 {
            return Err(rejected(empty));
        }
        let currency = self
            .currencies
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(",");
        Ok((
            Imported {
                format: format.to_owned(),
                format_name: format_name.to_owned(),
                lines: totals.lines,
                currency,
                base_currency: base_currency.to_owned(),
                rate: single_rate(&self.used_rates, self.several_rates),
                total: totals.revenue,
                base_total: totals.base_revenue,
                quantity: totals.quantity,
                artists: totals.artists(),
                period: self.file_period.or(self.latest_period),
                totals,
            },
            wrote,
        ))
    }

    fn take(&mut self, line_number: i64, line: Line) -> Result<(), Failure> {
        let at = |problem: String| rejected(format!("Line {line_number}: {problem}"));
        let amount = Amount::parse(&line.net_revenue).map_err(|e| at(e.0))?;
        let currency = match line
            .currency
            .as_deref()
            .or(self.default_currency.as_deref())
        {
            Some(c) => c,
            None => {
                return Err(rejected(
                    "The file names no currency: no currency column or preamble value, and its format has none.",
                ));
            }
        };
        if !self.currencies.contains_key(currency)
            && oas_domain::money::CurrencyCode::parse(currency).is_err()
        {
            return Err(at(format!(
                "{currency:?} is not an ISO 4217 currency code."
            )));
        }
        let line_period = line
            .sale_period
            .as_deref()
            .or(line.reporting_period.as_deref());
        if let Some(p) = line_period
            && self.latest_period.as_deref().is_none_or(|l| p > l)
        {
            self.latest_period = Some(p.to_owned());
        }
        let period = self.file_period.as_deref().or(line_period);
        let rate = self.rates.rate(currency, period).map_err(rejected)?;
        let base = amount
            .convert(rate)
            .ok_or_else(|| at("the amount is too large to convert".into()))?;
        self.totals.add(&line, amount, base);
        // The base amount as text; at rate 1 it is the amount as written.
        let base_revenue = if rate == rust_decimal::Decimal::ONE {
            line.net_revenue.clone()
        } else {
            base.to_string()
        };
        if !self.currencies.contains_key(currency) {
            self.currencies.insert(currency.to_owned(), 0);
            self.used_rates
                .insert(currency.to_owned(), (rate, rate.to_string()));
        }
        if let Some(count) = self.currencies.get_mut(currency) {
            *count += 1;
        }
        let rate_text = match self.used_rates.get(currency) {
            Some((first, text)) if *first == rate => text.clone(),
            _ => {
                self.several_rates = true;
                rate.to_string()
            }
        };
        let currency = currency.to_owned();
        let file_period = self.file_period.clone();
        self.writer
            .push(
                line,
                Extra {
                    line_number,
                    period: file_period.as_deref(),
                    currency: &currency,
                    rate: &rate_text,
                    base_revenue,
                },
            )
            .map_err(|e| internal("writing Parquet", e))
    }
}

/// A cell that cleaning leaves empty: spaces, NULs, zero-width characters.
fn blank(cell: &str) -> bool {
    cell.chars().all(|c| {
        c.is_whitespace()
            || matches!(
                c,
                '\0' | '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}'
            )
    })
}

/// Lines mapped before they are handed over to be summed and written.
const MAP_BATCH: usize = 4096;

/// The one rate a file was converted at, if it was one.
fn single_rate(
    used: &BTreeMap<String, (rust_decimal::Decimal, String)>,
    several: bool,
) -> Option<String> {
    match (used.len(), several) {
        (1, false) => used.values().next().map(|(_, text)| text.clone()),
        _ => None,
    }
}

/// Imports a cleaned table (CSV with its header first) into `parquet`.
///
/// An upload that stood as its own clean copy could have been replaced
/// since it was cleaned (uploaded again, then refused): its bytes are
/// hashed alongside the import, and different bytes fail it, whatever else
/// the import found.
pub fn import_table(
    clean: &Path,
    preamble: &[(String, String)],
    params: &Params,
    organisation_id: i64,
    file_id: i64,
    parquet: &Path,
) -> Result<(Imported, bool), Failure> {
    let expected = params
        .clean
        .content_hash
        .clone()
        .filter(|_| params.clean.as_uploaded);
    let hashing = expected.as_ref().map(|_| {
        let path = clean.to_owned();
        std::thread::spawn(move || oas_platform::storage::content_hash(&path))
    });
    let imported = import_rows(clean, preamble, params, organisation_id, file_id, parquet);
    if let (Some(expected), Some(hashing)) = (expected, hashing) {
        let found = hashing
            .join()
            .map_err(|_| internal("hashing", "the hashing thread failed"))?
            .map_err(|e| internal("hashing", e))?;
        if found != expected {
            return Err(rejected(
                "The uploaded bytes changed after the file was cleaned: process it with the action \"clean\" again.",
            ));
        }
    }
    imported
}

fn import_rows(
    clean: &Path,
    preamble: &[(String, String)],
    params: &Params,
    organisation_id: i64,
    file_id: i64,
    parquet: &Path,
) -> Result<(Imported, bool), Failure> {
    // A clean copy is comma-separated with its header first; an upload that
    // was already clean is read as it came, past its preamble.
    let mut file = std::io::BufReader::with_capacity(
        1 << 20,
        std::fs::File::open(clean).map_err(|e| internal("reading the cleaned file", e))?,
    );
    let as_uploaded = params.clean.as_uploaded;
    if as_uploaded {
        let mut skipped = Vec::new();
        for _ in 0..params.clean.skip_lines {
            skipped.clear();
            std::io::BufRead::read_until(&mut file, b'\n', &mut skipped)
                .map_err(|e| internal("reading the cleaned file", e))?;
        }
    }
    let delimiter = match params.clean.delimiter.as_deref() {
        Some(d) if as_uploaded && d.len() == 1 => d.as_bytes()[0],
        _ => b',',
    };
    let last_row = if as_uploaded {
        params.clean.rows.unwrap_or(u64::MAX)
    } else {
        u64::MAX
    };
    let line_offset = if as_uploaded {
        params.clean.skip_lines as i64
    } else {
        0
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(file);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| internal("reading the header", e))?
        .iter()
        .map(str::to_owned)
        .collect();
    let spec = format::detect(&params.formats, &header).map_err(|e| rejected(e.to_string()))?;
    let mapper = Mapper::new(spec, &header, preamble);
    let file_period = params
        .reporting_period
        .clone()
        .or_else(|| mapper.preamble_period());
    let default_currency = mapper
        .preamble_value(format::Field::Currency)
        .map(|c| c.to_ascii_uppercase())
        .or_else(|| spec.currency.clone());
    let mut sink = Sink::new(
        params,
        organisation_id,
        file_id,
        parquet,
        file_period,
        default_currency,
    )?;
    // One thread reads and maps lines, this one converts, sums and writes
    // them; batches pass between the two through a short queue.
    let (batches, receive) = std::sync::mpsc::sync_channel::<Result<Vec<(i64, Line)>, Failure>>(4);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut record = csv::StringRecord::new();
            let mut line_number: i64 = 1;
            let mut rows: u64 = 0;
            let mut batch = Vec::with_capacity(MAP_BATCH);
            loop {
                if rows == last_row {
                    break;
                }
                match reader.read_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) if record.iter().all(blank) => continue,
                    Ok(true) => rows += 1,
                    Err(e) => {
                        let _ =
                            batches.send(Err(rejected(format!("Line {}: {e}", line_number + 1))));
                        return;
                    }
                }
                // The line in the file as stored, counting its preamble.
                line_number = record
                    .position()
                    .map_or(line_number + 1, |p| p.line() as i64 + line_offset);
                match mapper.line(&record) {
                    Ok(line) => batch.push((line_number, line)),
                    Err(e) => {
                        let _ = batches.send(Err(rejected(format!("Line {line_number}: {e}"))));
                        return;
                    }
                }
                if batch.len() == MAP_BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(MAP_BATCH));
                    if batches.send(Ok(full)).is_err() {
                        return;
                    }
                }
            }
            let _ = batches.send(Ok(batch));
        });
        for batch in receive {
            for (line_number, line) in batch? {
                sink.take(line_number, line)?;
            }
        }
        Ok::<(), Failure>(())
    })?;
    sink.finish(
        &spec.slug,
        &spec.name,
        &params.base_currency,
        "The file has no sales lines.",
    )
}

pub async fn run(job: Job, settings: Settings) -> Result<serde_json::Value, Failure> {
    let params: Params = serde_json::from_value(job.params.clone())
        .map_err(|e| Failure::new("invalid_params", e.to_string()))?;
    let Some(file_id) = job.file_id else {
        return Err(Failure::new("invalid_params", "the job names no file"));
    };
    let organisation_id = job.org_id;
    let storage = AnyStorage::for_module(&settings)
        .await
        .map_err(|e| internal("storage", e))?;
    let work = tempfile::tempdir().map_err(|e| internal("temporary folder", e))?;
    let clean_path = work.path().join("clean");
    let clean_key =
        ObjectKey::parse(&params.clean.clean_key).map_err(|e| internal("clean key", e))?;
    storage
        .download(&clean_key, &clean_path)
        .await
        .map_err(|e| internal("downloading the cleaned file", e))?;
    let parquet_path = work.path().join("lines.parquet");
    let blocking_params = params.clone();
    let parquet = parquet_path.clone();
    let (imported, wrote) = tokio::task::spawn_blocking(move || {
        if blocking_params.clean.kind == "dsr" {
            dsr::import(
                &clean_path,
                &blocking_params,
                organisation_id,
                file_id,
                &parquet,
            )
        } else {
            import_table(
                &clean_path,
                &blocking_params.clean.preamble,
                &blocking_params,
                organisation_id,
                file_id,
                &parquet,
            )
        }
    })
    .await
    .map_err(|e| internal("importing", e))??;

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
    if wrote {
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
        rows: imported.totals.rows().into_iter().collect(),
    };
    save_snapshot(&settings, &snapshot).await?;
    let mut output = serde_json::to_value(&imported).map_err(|e| internal("output", e))?;
    output["parquet_key"] = parquet_key.as_str().into();
    tracing::info!(lines = imported.lines, format = %imported.format, "imported");
    Ok(output)
}

async fn save_snapshot(settings: &Settings, snapshot: &Snapshot) -> Result<(), Failure> {
    use oas_platform::snapshots::{MongoSnapshots, SnapshotStore, SqlSnapshots};
    use secrecy::ExposeSecret;
    match &settings.snapshots_url {
        Some(uri) => {
            let store = MongoSnapshots::connect(uri.expose_secret())
                .await
                .map_err(|e| internal("the snapshot store", e))?;
            store
                .save(snapshot)
                .await
                .map_err(|e| internal("saving the snapshot", e))
        }
        None => {
            let db = oas_db::Database::new(
                &settings.database_url,
                oas_db::PoolSettings {
                    max_size: 2,
                    ..Default::default()
                },
            )
            .map_err(|e| internal("the database", e))?;
            let store = SqlSnapshots::new(db.clone());
            let saved = store
                .save(snapshot)
                .await
                .map_err(|e| internal("saving the snapshot", e));
            db.close();
            saved
        }
    }
}

mod dsr {
    //! DDEX DSR files: their own parser, the same lines and totals.

    use super::*;

    pub fn import(
        clean: &Path,
        params: &Params,
        organisation_id: i64,
        file_id: i64,
        parquet: &Path,
    ) -> Result<(Imported, bool), Failure> {
        let text =
            std::fs::read_to_string(clean).map_err(|e| internal("reading the cleaned file", e))?;
        let report = oas_sales::dsr::parse(&text).map_err(|e| rejected(e.to_string()))?;
        if report.number_of_files > 1 {
            return Err(rejected(format!(
                "This DSR is file {} of {} of message {}; messages split over several files are not imported yet: ask the sender for the report in one file.",
                report.file_number, report.number_of_files, report.message_id
            )));
        }
        let file_period = params
            .reporting_period
            .clone()
            .or_else(|| report.usage_start.as_deref().map(|d| d[..7].to_owned()));
        let mut sink = Sink::new(
            params,
            organisation_id,
            file_id,
            parquet,
            file_period.clone(),
            report.currency.clone(),
        )?;
        for l in report.lines {
            let line = Line {
                reporting_period: file_period.clone(),
                sale_period: l.start.as_deref().map(|d| d[..7].to_owned()),
                sale_start: l.start,
                sale_end: l.end,
                dsp: l.dsp,
                sub_service: l.service,
                territory: l.territory,
                artist: l.artist,
                release_title: l.release_title,
                track_title: l.title,
                isrc: l.isrc,
                upc: l.upc,
                label: None,
                catalog_number: None,
                sale_type: Some(format::SaleType::Stream),
                quantity: l.quantity,
                gross_revenue: None,
                net_revenue: l.revenue,
                currency: l.currency,
            };
            sink.take(l.line_number as i64, line)?;
        }
        sink.finish(
            "ddex-dsr",
            "DDEX DSR flat file",
            &params.base_currency,
            "The DSR file has no usage lines.",
        )
    }
}
