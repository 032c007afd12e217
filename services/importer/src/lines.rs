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

pub struct LineWriter {
    organisation_id: i64,
    file_id: i64,
    base_currency: String,
    columns: Columns,
    file: Option<File>,
    writer: Option<polars::io::parquet::write::BatchedWriter<File>>,
    pub written: u64,
}

impl LineWriter {
    pub fn create(
        path: &Path,
        organisation_id: i64,
        file_id: i64,
        base_currency: &str,
    ) -> std::io::Result<LineWriter> {
        Ok(LineWriter {
            organisation_id,
            file_id,
            base_currency: base_currency.to_owned(),
            columns: Columns::default(),
            file: Some(File::create(path)?),
            writer: None,
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
        let columns = std::mem::take(&mut self.columns);
        let height = columns.line.len();
        if height == 0 {
            return Ok(());
        }
        let mut all = vec![
            Column::new("organisation_id".into(), vec![self.organisation_id; height]),
            Column::new("file_id".into(), vec![self.file_id; height]),
            Column::new("line".into(), columns.line),
        ];
        for (name, values) in TEXT_COLUMNS.iter().zip(columns.text) {
            all.push(Column::new((*name).into(), values));
        }
        all.push(Column::new("quantity".into(), columns.quantity));
        all.push(Column::new(
            "base_currency".into(),
            vec![self.base_currency.clone(); height],
        ));
        let frame = DataFrame::new(height, all)?;
        if self.writer.is_none() {
            let file = self
                .file
                .take()
                .ok_or_else(|| polars_err!(ComputeError: "the Parquet file is closed"))?;
            let writer = ParquetWriter::new(file)
                .with_compression(ParquetCompression::Zstd(None))
                .batched(frame.schema())?;
            self.writer = Some(writer);
        }
        if let Some(writer) = &mut self.writer {
            writer.write_batch(&frame)?;
        }
        self.written += height as u64;
        Ok(())
    }

    /// Writes what is held and closes the file; `false` when no line was
    /// ever written (and so no file made).
    pub fn finish(mut self) -> PolarsResult<bool> {
        self.flush()?;
        match self.writer.take() {
            Some(writer) => {
                writer.finish()?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}
