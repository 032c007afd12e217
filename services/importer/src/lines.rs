//! Standard sales lines to Parquet, written in batches as they stream past
//! so memory stays bounded whatever the file's size. Amounts are exact
//! decimal text: a report's 31-digit amounts do not fit Parquet's 38-digit
//! decimals once a total's integer digits are allowed for.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use oas_sales::format::Line;

/// Lines held before a batch is written.
pub const BATCH: usize = 65_536;

/// What a written line carries beyond the mapped [`Line`].
pub struct Extra<'a> {
    pub line_number: i64,
    pub period: Option<&'a str>,
    pub currency: &'a str,
    pub rate: &'a str,
    pub base_revenue: String,
}

#[derive(Default)]
struct Columns {
    line: Vec<i64>,
    text: [Vec<Option<String>>; TEXT_COLUMNS.len()],
    quantity: Vec<i64>,
}

const TEXT_COLUMNS: [&str; 20] = [
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
    "gross_revenue",
    "net_revenue",
    "currency",
    "exchange_rate",
    "base_revenue",
];

/// Writes lines to a Parquet file on a thread of its own: building the
/// columns, compressing and writing overlap with reading and summing.
pub struct LineWriter {
    columns: Columns,
    sender: Option<std::sync::mpsc::SyncSender<Columns>>,
    /// Emptied columns back from the writer, reused for the next batch.
    spare: std::sync::mpsc::Receiver<Columns>,
    thread: Option<std::thread::JoinHandle<PolarsResult<bool>>>,
    pub written: u64,
}

/// What every line of the file shares.
struct Constants {
    organisation_id: i64,
    file_id: i64,
    base_currency: String,
}

impl LineWriter {
    pub fn create(
        path: &Path,
        organisation_id: i64,
        file_id: i64,
        base_currency: &str,
    ) -> std::io::Result<LineWriter> {
        let file = File::create(path)?;
        let constants = Constants {
            organisation_id,
            file_id,
            base_currency: base_currency.to_owned(),
        };
        let (sender, batches) = std::sync::mpsc::sync_channel::<Columns>(2);
        let (returns, spare) = std::sync::mpsc::sync_channel::<Columns>(2);
        let thread = std::thread::Builder::new()
            .name("parquet".into())
            .spawn(move || write_all(file, &constants, batches, returns))?;
        Ok(LineWriter {
            columns: Columns::default(),
            sender: Some(sender),
            spare,
            thread: Some(thread),
            written: 0,
        })
    }

    pub fn push(&mut self, line: Line, extra: Extra<'_>) -> PolarsResult<()> {
        let c = &mut self.columns;
        c.line.push(extra.line_number);
        c.quantity.push(line.quantity);
        let values = [
            line.reporting_period
                .or_else(|| extra.period.map(str::to_owned)),
            line.sale_period,
            line.sale_start,
            line.sale_end,
            line.dsp,
            line.sub_service,
            line.territory,
            line.artist,
            line.release_title,
            line.track_title,
            line.isrc,
            line.upc,
            line.label,
            line.catalog_number,
            line.sale_type.map(|t| t.as_str().to_owned()),
            line.gross_revenue,
            Some(line.net_revenue),
            Some(extra.currency.to_owned()),
            Some(extra.rate.to_owned()),
            Some(extra.base_revenue),
        ];
        for (column, value) in c.text.iter_mut().zip(values) {
            column.push(value);
        }
        if c.line.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> PolarsResult<()> {
        if self.columns.line.is_empty() {
            return Ok(());
        }
        let fresh = self.spare.try_recv().unwrap_or_default();
        let columns = std::mem::replace(&mut self.columns, fresh);
        let height = columns.line.len() as u64;
        let sent = self
            .sender
            .as_ref()
            .is_some_and(|s| s.send(columns).is_ok());
        if !sent {
            // The writer stopped: its own error says why.
            return Err(self
                .join()
                .err()
                .unwrap_or_else(|| polars_err!(ComputeError: "the Parquet writer stopped")));
        }
        self.written += height;
        Ok(())
    }

    fn join(&mut self) -> PolarsResult<bool> {
        self.sender = None;
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(polars_err!(ComputeError: "the Parquet writer failed"))),
            None => Ok(false),
        }
    }

    /// Writes what is held and closes the file; `false` when no line was
    /// ever written (and so no file made).
    pub fn finish(mut self) -> PolarsResult<bool> {
        self.flush()?;
        self.join()
    }
}

/// The writer thread: each batch of columns becomes a row group.
fn write_all(
    file: File,
    constants: &Constants,
    batches: std::sync::mpsc::Receiver<Columns>,
    returns: std::sync::mpsc::SyncSender<Columns>,
) -> PolarsResult<bool> {
    let mut writer: Option<polars::io::parquet::write::BatchedWriter<File>> = None;
    let mut file = Some(file);
    for mut columns in batches {
        let frame = frame_of(&columns, constants)?;
        columns.line.clear();
        columns.quantity.clear();
        columns.text.iter_mut().for_each(Vec::clear);
        // Full or gone, the reader does without: it makes new columns.
        let _ = returns.try_send(columns);
        if writer.is_none() {
            let file = file
                .take()
                .ok_or_else(|| polars_err!(ComputeError: "the Parquet file is closed"))?;
            writer = Some(
                ParquetWriter::new(file)
                    .with_compression(ParquetCompression::Snappy)
                    .batched(frame.schema())?,
            );
        }
        if let Some(writer) = &mut writer {
            writer.write_batch(&frame)?;
        }
    }
    match writer {
        Some(writer) => {
            writer.finish()?;
            Ok(true)
        }
        None => Ok(false),
    }
}

fn frame_of(columns: &Columns, constants: &Constants) -> PolarsResult<DataFrame> {
    let height = columns.line.len();
    let mut all = vec![
        Column::new(
            "organisation_id".into(),
            vec![constants.organisation_id; height],
        ),
        Column::new("file_id".into(), vec![constants.file_id; height]),
        Column::new("line".into(), columns.line.as_slice()),
    ];
    for (name, values) in TEXT_COLUMNS.iter().zip(&columns.text) {
        all.push(Column::new((*name).into(), values.as_slice()));
    }
    all.push(Column::new("quantity".into(), columns.quantity.as_slice()));
    all.push(Column::new(
        "base_currency".into(),
        vec![constants.base_currency.clone(); height],
    ));
    DataFrame::new(height, all)
}
