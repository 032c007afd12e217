//! Standard sales lines to Parquet. Lines are gathered into column batches
//! ([`Batch`]); a batch becomes a row group, encoded and compressed by
//! whichever thread built it ([`LinesFile::encode`]), and row groups are
//! written to the file in the order of the lines ([`LinesFile::write`]).
//! Memory stays bounded by the batches in flight, whatever the file's size.
//!
//! Amounts are exact decimal text: a report's 31-digit amounts do not fit
//! Parquet's 38-digit decimals once a total's integer digits are allowed for.

use std::fs::File;
use std::path::Path;

use polars::io::parquet::write::{BatchedWriter, RowGroupIterColumns, get_encodings};
use polars::prelude::*;
use polars_parquet::read::ParquetError;
use polars_parquet::write::{
    CompressedPage, Compressor, DynIter, DynStreamingIterator, Encoding, FallibleStreamingIterator,
    ParquetType, Version, WriteOptions, array_to_columns, to_parquet_schema,
};

use oas_sales::format::Line;

use crate::ledger::Entry;

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

/// Columns of (nearly) one value per line.
const DISTINCT: [&str; 4] = ["line", "gross_revenue", "net_revenue", "base_revenue"];

/// What every line of the file shares.
#[derive(Debug, Clone)]
pub struct Constants {
    pub organisation_id: i64,
    pub file_id: i64,
    pub base_currency: String,
}

/// Lines as columns, built value by value without a string per value.
pub struct Batch {
    line: Vec<i64>,
    quantity: Vec<i64>,
    text: [Text; TEXT_COLUMNS.len()],
    capacity: usize,
}

/// A text column being built. Many hold one value on every line of a file
/// (its period, store, currency, rate): such a column is only counted, and
/// made whole at the end, until a line brings another value.
enum Text {
    Same(Option<String>, usize),
    Varied(StringChunkedBuilder),
}

impl Text {
    fn push(&mut self, value: Option<&str>, name: &str, capacity: usize) {
        match self {
            Text::Varied(builder) => builder.append_option(value),
            Text::Same(same, count) if same.as_deref() == value => *count += 1,
            Text::Same(same, count) if *count == 0 => {
                *same = value.map(str::to_owned);
                *count = 1;
            }
            Text::Same(same, count) => {
                let mut builder = StringChunkedBuilder::new(name.into(), capacity.max(*count + 1));
                for _ in 0..*count {
                    builder.append_option(same.as_deref());
                }
                builder.append_option(value);
                *self = Text::Varied(builder);
            }
        }
    }

    fn finish(self, name: &str) -> Column {
        match self {
            Text::Varied(builder) => builder.finish().into_column(),
            Text::Same(Some(value), count) => {
                StringChunked::full(name.into(), &value, count).into_column()
            }
            Text::Same(None, count) => StringChunked::full_null(name.into(), count).into_column(),
        }
    }
}

impl Batch {
    pub fn new(capacity: usize) -> Batch {
        Batch {
            line: Vec::with_capacity(capacity),
            quantity: Vec::with_capacity(capacity),
            text: std::array::from_fn(|_| Text::Same(None, 0)),
            capacity,
        }
    }

    pub fn len(&self) -> usize {
        self.line.len()
    }

    pub fn is_empty(&self) -> bool {
        self.line.is_empty()
    }

    /// Adds line `number` as its ledger accounted for it; `period` is the
    /// file's reporting period, for lines that do not name one.
    pub fn push(&mut self, number: i64, line: &Line, period: Option<&str>, entry: &Entry<'_>) {
        self.line.push(number);
        self.quantity.push(line.quantity);
        let values: [Option<&str>; TEXT_COLUMNS.len()] = [
            line.reporting_period.as_deref().or(period),
            line.sale_period.as_deref(),
            line.sale_start.as_deref(),
            line.sale_end.as_deref(),
            line.dsp.as_deref(),
            line.sub_service.as_deref(),
            line.territory.as_deref(),
            line.artist.as_deref(),
            line.release_title.as_deref(),
            line.track_title.as_deref(),
            line.isrc.as_deref(),
            line.upc.as_deref(),
            line.label.as_deref(),
            line.catalog_number.as_deref(),
            line.sale_type.map(|t| t.as_str()),
            line.gross_revenue.as_deref(),
            Some(&line.net_revenue),
            Some(entry.currency),
            Some(entry.rate),
            Some(entry.base_revenue),
        ];
        for ((column, value), name) in self.text.iter_mut().zip(values).zip(TEXT_COLUMNS) {
            column.push(value, name, self.capacity);
        }
    }

    /// The batch as a frame of the lines' schema.
    pub fn into_frame(self, constants: &Constants) -> PolarsResult<DataFrame> {
        let height = self.line.len();
        let mut all = Vec::with_capacity(TEXT_COLUMNS.len() + 5);
        all.push(Column::new(
            "organisation_id".into(),
            vec![constants.organisation_id; height],
        ));
        all.push(Column::new(
            "file_id".into(),
            vec![constants.file_id; height],
        ));
        all.push(Column::new("line".into(), self.line));
        for (column, name) in self.text.into_iter().zip(TEXT_COLUMNS) {
            all.push(column.finish(name));
        }
        all.push(Column::new("quantity".into(), self.quantity));
        all.push(
            StringChunked::full("base_currency".into(), &constants.base_currency, height)
                .into_column(),
        );
        DataFrame::new(height, all)
    }
}

/// A row group, encoded and compressed, ready to be written.
pub struct RowGroup {
    /// Each column's pages.
    columns: Vec<Vec<CompressedPage>>,
}

/// Pages already compressed, handed to the file writer one by one.
struct Pages {
    pages: std::vec::IntoIter<CompressedPage>,
    current: Option<CompressedPage>,
}

impl FallibleStreamingIterator for Pages {
    type Item = CompressedPage;
    type Error = PolarsError;

    fn advance(&mut self) -> Result<(), PolarsError> {
        self.current = self.pages.next();
        Ok(())
    }

    fn get(&self) -> Option<&CompressedPage> {
        self.current.as_ref()
    }
}

/// The Parquet file of a file's lines. Shared by the threads that encode
/// row groups; one of them writes them, in order.
pub struct LinesFile {
    writer: BatchedWriter<File>,
    fields: Vec<ParquetType>,
    encodings: Vec<Vec<Encoding>>,
    options: WriteOptions,
    pub constants: Constants,
}

impl LinesFile {
    pub fn create(path: &Path, constants: Constants) -> PolarsResult<LinesFile> {
        let compression = ParquetCompression::Snappy;
        let schema = Batch::new(0).into_frame(&constants)?.schema().clone();
        let arrow = schema.to_arrow(CompatLevel::newest());
        let fields = to_parquet_schema(&arrow)?.fields().to_vec();
        // Columns whose values nearly all differ are written plain, without
        // first estimating whether a dictionary would pay.
        let encodings = arrow
            .iter_values()
            .zip(get_encodings(&arrow).iter())
            .map(
                |(field, encoding)| match DISTINCT.contains(&field.name.as_str()) {
                    true => vec![Encoding::Plain],
                    false => encoding.clone(),
                },
            )
            .collect();
        let options = WriteOptions {
            // Null counts only: min and max of text columns cost a
            // comparison per value and prune nothing (a file's lines are
            // already foldered by period).
            statistics: StatisticsOptions {
                min_value: false,
                max_value: false,
                distinct_count: false,
                null_count: true,
                binary_statistics_truncate_length: None,
            },
            version: Version::V1,
            compression: compression.into(),
            data_page_size: None,
        };
        let writer = ParquetWriter::new(File::create(path)?)
            .with_compression(compression)
            .with_statistics(options.statistics)
            .set_parallel(false)
            .batched(&schema)?;
        Ok(LinesFile {
            writer,
            fields,
            encodings,
            options,
            constants,
        })
    }

    /// Encodes and compresses a batch on the calling thread, as one row
    /// group.
    pub fn encode(&self, batch: Batch) -> PolarsResult<RowGroup> {
        let frame = batch.into_frame(&self.constants)?;
        let mut columns = Vec::with_capacity(self.fields.len());
        for chunk in frame.iter_chunks(CompatLevel::newest(), false) {
            if !columns.is_empty() {
                return Err(polars_err!(ComputeError: "a batch of lines is one chunk"));
            }
            for ((array, field), encoding) in chunk
                .columns()
                .iter()
                .zip(&self.fields)
                .zip(&self.encodings)
            {
                for pages in array_to_columns(array, field.clone(), self.options, encoding)? {
                    let pages = pages.map(|page| {
                        page.map_err(|e| ParquetError::FeatureNotSupported(e.to_string()))
                    });
                    let compressed =
                        Compressor::new_from_vec(pages, self.options.compression, vec![])
                            .collect::<Result<Vec<_>, ParquetError>>()?;
                    columns.push(compressed);
                }
            }
        }
        Ok(RowGroup { columns })
    }

    /// Appends an encoded row group to the file.
    pub fn write(&self, group: RowGroup) -> PolarsResult<()> {
        let columns: RowGroupIterColumns<'static, PolarsError> =
            DynIter::new(group.columns.into_iter().map(|pages| {
                Ok(DynStreamingIterator::new(Pages {
                    pages: pages.into_iter(),
                    current: None,
                }))
            }));
        self.writer.write_row_groups(vec![columns])
    }

    /// Writes the footer.
    pub fn finish(self) -> PolarsResult<()> {
        self.writer.finish().map(|_| ())
    }
}

/// A lines file read back whole, with its `line` column (for tests).
#[cfg(test)]
pub(crate) fn read_back(path: &Path) -> (DataFrame, Vec<i64>) {
    #[allow(clippy::unwrap_used)]
    let frame = ParquetReader::new(File::open(path).unwrap())
        .finish()
        .unwrap();
    #[allow(clippy::unwrap_used)]
    let lines = frame
        .column("line")
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    (frame, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_encoded_apart_are_read_back_in_the_order_written() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("lines.parquet");
        let constants = Constants {
            organisation_id: 7,
            file_id: 9,
            base_currency: "EUR".into(),
        };
        let file = LinesFile::create(&path, constants).unwrap();
        let batch_of = |first: i64, count: i64| {
            let mut batch = Batch::new(count as usize);
            for n in first..first + count {
                let line = Line {
                    artist: Some(format!("artist {n}")),
                    quantity: n,
                    net_revenue: format!("0.{n}"),
                    label: Some(if n % 3 == 0 { "B" } else { "A" }.to_owned()),
                    ..Line::default()
                };
                let entry = Entry {
                    currency: "USD",
                    rate: "0.9",
                    base_revenue: "0",
                };
                batch.push(n, &line, Some("2024-01"), &entry);
            }
            batch
        };
        // Encoded out of order, written in order.
        let second = file.encode(batch_of(4, 3)).unwrap();
        let first = file.encode(batch_of(1, 3)).unwrap();
        file.write(first).unwrap();
        file.write(second).unwrap();
        file.finish().unwrap();

        let (frame, lines) = read_back(&path);
        assert_eq!(frame.height(), 6);
        assert_eq!(lines, [1, 2, 3, 4, 5, 6]);
        let artist = frame.column("artist").unwrap().str().unwrap().get(5);
        assert_eq!(artist, Some("artist 6"));
        let period = frame
            .column("reporting_period")
            .unwrap()
            .str()
            .unwrap()
            .get(0);
        assert_eq!(period, Some("2024-01"), "the file's period fills in");
        let currency: Vec<Option<&str>> = frame
            .column("currency")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(currency, [Some("USD"); 6], "a column of one value");
        let labels: Vec<Option<&str>> = frame
            .column("label")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        let (a, b) = (Some("A"), Some("B"));
        assert_eq!(labels, [a, a, b, a, a, b], "one value, then another");
        let titles = frame.column("track_title").unwrap().str().unwrap();
        assert_eq!(titles.null_count(), 6, "a column of none");
        let base = frame.column("base_currency").unwrap().str().unwrap().get(3);
        assert_eq!(base, Some("EUR"));
        assert_eq!(frame.width(), 25);
    }
}
