//! DDEX DSR files: their own parser, the same lines and totals.

use std::path::{Path, PathBuf};

use oas_platform::module::Failure;
use oas_sales::format::{self, Line};

use crate::failure::{internal, rejected};
use crate::imported::{Imported, imported};
use crate::ledger::{Context, Ledger};
use crate::lines::{Batch, Constants, LinesFile};
use crate::rates::{Params, Rates};

/// Imports the DSR file at `clean`; `others` are the other files of
/// its message, if it was sent in several. Only this file's lines are
/// imported, with their share of the message's summary revenue: each
/// file of a message is a sales file of its own.
pub fn import(
    clean: &Path,
    others: &[(u32, PathBuf)],
    params: &Params,
    constants: Constants,
    parquet: &Path,
) -> Result<Imported, Failure> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|e| internal("reading the cleaned file", e))
    };
    let own = oas_sales::dsr::read(&read(clean)?).map_err(|e| rejected(e.to_string()))?;
    let number = own.file_number();
    if own.number_of_files() > 1 && others.is_empty() {
        return Err(rejected(format!(
            "This is file {number} of {} of DDEX DSR message {}, whose other files OAS does not know: upload them (or this file again), each as a file of its own or all in one ZIP.",
            own.number_of_files(),
            own.message_id()
        )));
    }
    let mut parts = vec![own];
    for (part_number, path) in others {
        let part = oas_sales::dsr::read(&read(path)?).map_err(|e| {
            rejected(format!(
                "File {part_number} of this DSR message cannot be read: {e}"
            ))
        })?;
        parts.push(part);
    }
    let mut report = oas_sales::dsr::combine(parts).map_err(|e| rejected(e.to_string()))?;
    report.lines.retain(|line| line.file_number == number);
    let file_period = params
        .reporting_period
        .clone()
        .or_else(|| report.usage_start.as_deref().map(|d| d[..7].to_owned()));
    let file_currency = report
        .currency
        .clone()
        .or_else(|| report.lines.first().and_then(|l| l.currency.clone()));
    let context = Context {
        rates: Rates::new(params, file_currency)?,
        file_period: file_period.clone(),
        default_currency: report.currency.clone(),
    };
    let out = LinesFile::create(parquet, constants)
        .map_err(|e| internal("creating the Parquet file", e))?;
    let mut ledger = Ledger::default();
    let mut batch = Batch::new(BATCH);
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
        let number = l.line_number as i64;
        ledger.take(&context, number, &line, &mut batch)?;
        if batch.len() == BATCH {
            ledger.finish_block(&mut batch);
            write(&out, std::mem::replace(&mut batch, Batch::new(BATCH)))?;
        }
    }
    ledger.finish_block(&mut batch);
    if !batch.is_empty() {
        write(&out, batch)?;
    }
    out.finish().map_err(|e| internal("writing Parquet", e))?;
    imported(
        ledger,
        "ddex-dsr",
        "DDEX DSR flat file",
        &params.base_currency,
        file_period,
        "The DSR file has no usage lines.",
    )
}

/// Lines per row group.
const BATCH: usize = 65_536;

fn write(out: &LinesFile, batch: Batch) -> Result<(), Failure> {
    let group = out
        .encode(batch)
        .map_err(|e| internal("encoding Parquet", e))?;
    out.write(group).map_err(|e| internal("writing Parquet", e))
}
