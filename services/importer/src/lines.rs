//! Standard sales lines to Parquet. Lines are gathered into column batches
//! ([`Batch`]); a batch becomes a row group, encoded and compressed by
//! whichever thread built it ([`LinesFile::encode`]), and row groups are
//! written to the file in the order of the lines ([`LinesFile::write`]).
//! Memory stays bounded by the batches in flight, whatever the file's size.
//!
//! Amounts are exact decimal text: a report's 31-digit amounts do not fit
//! Parquet's 38-digit decimals once a total's integer digits are allowed for.

use std::fs::File;
use std::hash::BuildHasher;
use std::path::Path;

use hashbrown::HashTable;
use polars::io::parquet::write::{BatchedWriter, RowGroupIterColumns, get_encodings};
use polars::prelude::*;
use polars_arrow::array::{Array, DictionaryArray, MutablePlString, PrimitiveArray, Utf8ViewArray};
use polars_arrow::bitmap::MutableBitmap;
use polars_arrow::datatypes::{ArrowDataType, IntegerType};
use polars_parquet::read::ParquetError;
use polars_parquet::write::{
    CompressedPage, CompressionOptions, Compressor, DynIter, DynStreamingIterator, Encoding,
    FallibleStreamingIterator, ParquetType, Version, WriteOptions, array_to_columns,
    to_parquet_schema,
};

use oas_sales::format::Line;

use crate::dimension::Valued;
use oas_platform::snapshots::Dimension;

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

/// Text columns of (nearly) one value per line: amounts. They are written
/// plain, the others as dictionaries.
const DISTINCT: [&str; 3] = ["gross_revenue", "net_revenue", "base_revenue"];

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
    /// Whether each text column is one of [`DISTINCT`].
    distinct: [bool; TEXT_COLUMNS.len()],
    capacity: usize,
    /// Every line so far has had its base-currency amount written as its
    /// amount (rate 1): the base column is the amount column, not built.
    base_is_revenue: bool,
}

/// One line, accounted: what its Parquet row adds to the mapped line.
pub struct Entry<'a> {
    pub currency: &'a str,
    pub rate: &'a str,
    /// The amount, as text.
    pub net_revenue: &'a str,
    /// The amount in the base currency, as text.
    pub base_revenue: &'a str,
    /// The base amount is the amount, as written (rate 1).
    pub base_is_revenue: bool,
}

/// The places of the amount and the base-currency amount among the text
/// columns.
const NET_REVENUE: usize = column("net_revenue");
const TRACK_TITLE: usize = column("track_title");
const RELEASE_TITLE: usize = column("release_title");
const UPC: usize = column("upc");
const BASE_REVENUE: usize = column("base_revenue");

/// The column a snapshot dimension's groups are keyed by: the artist,
/// store and territory, the ISRC a track is keyed by when it has one and
/// the UPC a release is keyed by when it has one.
const fn group_column(dimension: Dimension) -> usize {
    match dimension {
        Dimension::Artist => ARTIST,
        Dimension::Dsp => DSP,
        Dimension::Territory => TERRITORY,
        Dimension::Track => ISRC,
        Dimension::Release => UPC,
    }
}

const ARTIST: usize = column("artist");
const DSP: usize = column("dsp");
const TERRITORY: usize = column("territory");
const ISRC: usize = column("isrc");

// Every column named above is one of the text columns.
const _: () = {
    assert!(NET_REVENUE < BASE_REVENUE && BASE_REVENUE < TEXT_COLUMNS.len());
    assert!(ARTIST < TEXT_COLUMNS.len() && DSP < TEXT_COLUMNS.len());
    assert!(TERRITORY < TEXT_COLUMNS.len() && ISRC < TEXT_COLUMNS.len());
    assert!(UPC < TEXT_COLUMNS.len());
};

/// The place of text column `name`: past the last if there is none.
const fn column(name: &str) -> usize {
    let mut at = 0;
    while at < TEXT_COLUMNS.len() {
        let (a, b) = (TEXT_COLUMNS[at].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut i = 0;
            while i < a.len() && a[i] == b[i] {
                i += 1;
            }
            if i == a.len() {
                return at;
            }
        }
        at += 1;
    }
    at
}

/// A text column being built. Many hold one value on every line of a file
/// (its period, store, currency, rate): such a column is only counted, and
/// written as a dictionary of that one value, until a line brings another.
/// Then a column of (nearly) one value per line, an amount, is built as
/// plain text; any other is built as a dictionary.
#[derive(Clone)]
enum Text {
    Same(Option<String>, usize),
    Varied(MutablePlString),
    /// A repeating column's values as they come, made a dictionary at the
    /// end of the block ([`Batch::seal`]).
    Raw(Raw),
    Dictionary(Dictionary),
}

/// A repeating column's values, end to end, as lines bring them. Its
/// dictionary is built at the end of the block, one column at a time
/// ([`Batch::seal`]): each column's table then has the processor's cache
/// to itself, where looking every line's values up as it comes reads
/// seven tables a line, far apart, and waits on memory for most of them.
#[derive(Clone, Default)]
struct Raw {
    text: String,
    /// Where each line's value ends in `text`.
    ends: Vec<u32>,
    /// Which lines have a value: made at the first line without one.
    validity: Option<MutableBitmap>,
}

impl Raw {
    fn with_capacity(capacity: usize) -> Raw {
        Raw {
            text: String::with_capacity(capacity * 16),
            ends: Vec::with_capacity(capacity),
            validity: None,
        }
    }

    fn push(&mut self, value: Option<&str>) {
        match value {
            Some(value) => {
                self.text.push_str(value);
                if let Some(validity) = &mut self.validity {
                    validity.push(true);
                }
            }
            None => {
                let lines = self.ends.len();
                let validity = self.validity.get_or_insert_with(|| {
                    let mut bits = MutableBitmap::with_capacity(lines + 1);
                    bits.extend_constant(lines, true);
                    bits
                });
                validity.push(false);
            }
        }
        // A block's text is far below 4 GiB.
        self.ends
            .push(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
    }

    fn into_dictionary(self) -> Dictionary {
        let mut dictionary = Dictionary::with_capacity(self.ends.len());
        let mut start = 0usize;
        for (line, &end) in self.ends.iter().enumerate() {
            let end = end as usize;
            let valid = self.validity.as_ref().is_none_or(|v| v.get(line));
            dictionary.push(self.text.get(start..end).filter(|_| valid));
            start = end;
        }
        dictionary
    }
}

impl Text {
    /// Adds a line's value.
    fn push(&mut self, value: Option<&str>, distinct: bool, capacity: usize) {
        match self {
            Text::Varied(builder) => builder.push(value),
            Text::Dictionary(dictionary) => dictionary.push(value),
            Text::Raw(raw) => raw.push(value),
            Text::Same(same, count) if same.as_deref() == value => *count += 1,
            Text::Same(same, count) if *count == 0 => {
                *same = value.map(str::to_owned);
                *count = 1;
            }
            Text::Same(same, count) if distinct => {
                let mut builder = MutablePlString::with_capacity(capacity.max(*count + 1));
                for _ in 0..*count {
                    builder.push(same.as_deref());
                }
                builder.push(value);
                *self = Text::Varied(builder);
            }
            Text::Same(same, count) => {
                let mut raw = Raw::with_capacity(capacity.max(*count + 1));
                for _ in 0..*count {
                    raw.push(same.as_deref());
                }
                raw.push(value);
                *self = Text::Raw(raw);
            }
        }
    }

    fn finish(self) -> PolarsResult<Box<dyn Array>> {
        match self {
            Text::Varied(builder) => Ok(Utf8ViewArray::from(builder).boxed()),
            Text::Dictionary(dictionary) => dictionary.finish(),
            Text::Raw(raw) => raw.into_dictionary().finish(),
            Text::Same(value, count) => constant(value.as_deref(), count),
        }
    }
}

/// A text column as a dictionary, built from a block's values at its end
/// ([`Raw`]): each distinct value is stored once, in the order first
/// seen, and each line holds its value's index. One lookup a line (none
/// when a line repeats the line before's value, as sorted reports do),
/// where letting the Parquet writer find the dictionary looks each value
/// up twice.
#[derive(Clone)]
struct Dictionary {
    /// The distinct values, by their hash. Each slot holds where its value
    /// is in `text`, so a lookup reads the slot and the text, nothing else.
    table: HashTable<Slot>,
    hasher: foldhash::fast::RandomState,
    /// The distinct values, end to end, in the order first seen.
    text: String,
    /// Where each distinct value ends in `text`.
    ends: Vec<u32>,
    /// The line (in the block) each distinct value was first on.
    first: Vec<u32>,
    keys: Vec<u32>,
    /// Which lines have a value: made at the first line without one.
    validity: Option<MutableBitmap>,
    /// The last line's value.
    last: Option<Slot>,
}

/// A distinct value: its index, and where it is in [`Dictionary::text`].
#[derive(Debug, Clone, Copy)]
struct Slot {
    index: u32,
    start: u32,
    end: u32,
}

impl Slot {
    fn of(self, text: &str) -> &str {
        text.get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }
}

impl Dictionary {
    fn with_capacity(capacity: usize) -> Dictionary {
        Dictionary {
            table: HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
            text: String::new(),
            ends: Vec::new(),
            first: Vec::new(),
            keys: Vec::with_capacity(capacity),
            validity: None,
            last: None,
        }
    }

    fn push(&mut self, value: Option<&str>) {
        let Some(value) = value else {
            let validity = self.validity.get_or_insert_with(|| {
                let mut bits = MutableBitmap::with_capacity(self.keys.capacity());
                bits.extend_constant(self.keys.len(), true);
                bits
            });
            validity.push(false);
            self.keys.push(0);
            return;
        };
        let slot = match self.last {
            Some(last) if last.of(&self.text) == value => last,
            _ => self.slot_of(value),
        };
        self.last = Some(slot);
        self.keys.push(slot.index);
        if let Some(validity) = &mut self.validity {
            validity.push(true);
        }
    }

    fn slot_of(&mut self, value: &str) -> Slot {
        let Dictionary {
            table,
            hasher,
            text,
            ends,
            first,
            keys,
            ..
        } = self;
        let hash = hasher.hash_one(value);
        if let Some(&slot) = table.find(hash, |slot| slot.of(text) == value) {
            return slot;
        }
        // A block's text is far below 4 GiB: its values' offsets fit.
        let offset = |at: usize| u32::try_from(at).unwrap_or(u32::MAX);
        let slot = Slot {
            index: offset(ends.len()),
            start: offset(text.len()),
            end: offset(text.len() + value.len()),
        };
        text.push_str(value);
        ends.push(slot.end);
        first.push(u32::try_from(keys.len()).unwrap_or(u32::MAX));
        table.insert_unique(hash, slot, |slot| hasher.hash_one(slot.of(text)));
        slot
    }

    fn finish(self) -> PolarsResult<Box<dyn Array>> {
        // The values lie end to end, in index order.
        let values: Vec<&str> = self
            .ends
            .iter()
            .scan(0, |start, &end| {
                let value = self.text.get(*start as usize..end as usize);
                *start = end;
                value
            })
            .collect();
        let values = Utf8ViewArray::from_slice_values(values);
        let keys = PrimitiveArray::<u32>::new(
            ArrowDataType::UInt32,
            self.keys.into(),
            self.validity.map(Into::into),
        );
        Ok(DictionaryArray::try_new(dictionary_type(), keys, values.boxed())?.boxed())
    }
}

fn dictionary_type() -> ArrowDataType {
    ArrowDataType::Dictionary(
        IntegerType::UInt32,
        Box::new(ArrowDataType::Utf8View),
        false,
    )
}

/// A text column of `count` times `value`, as a dictionary of that one
/// value: its keys encode to next to nothing, and the writer has no
/// dictionary to find.
fn constant(value: Option<&str>, count: usize) -> PolarsResult<Box<dyn Array>> {
    let keys = match value {
        Some(_) => PrimitiveArray::<u32>::from_vec(vec![0; count]),
        None => PrimitiveArray::<u32>::new_null(ArrowDataType::UInt32, count),
    };
    let values = Utf8ViewArray::from_slice_values([value.unwrap_or_default()]);
    Ok(DictionaryArray::try_new(dictionary_type(), keys, values.boxed())?.boxed())
}

/// The lines' schema, in the order [`Batch::into_arrays`] builds columns.
fn schema() -> Schema {
    let mut fields = vec![
        Field::new("organisation_id".into(), DataType::Int64),
        Field::new("file_id".into(), DataType::Int64),
        Field::new("line".into(), DataType::Int64),
    ];
    fields.extend(
        TEXT_COLUMNS
            .iter()
            .map(|name| Field::new((*name).into(), DataType::String)),
    );
    fields.push(Field::new("quantity".into(), DataType::Int64));
    fields.push(Field::new("base_currency".into(), DataType::String));
    Schema::from_iter(fields)
}

/// A text column's values in a block, as the snapshot's groups read them
/// ([`crate::totals::Totals::finish_block`]): its distinct values, in the
/// order first seen, and each line's.
pub(crate) struct ColumnValues<'b>(&'b Text);

impl<'b> ColumnValues<'b> {
    /// Distinct values.
    pub fn len(&self) -> usize {
        match self.0 {
            Text::Same(Some(_), count) if *count > 0 => 1,
            Text::Dictionary(dictionary) => dictionary.ends.len(),
            _ => 0,
        }
    }

    /// Distinct value `index`, and the line it is first on.
    pub fn value(&self, index: usize) -> Option<(&'b str, usize)> {
        match self.0 {
            Text::Same(Some(value), _) if index == 0 => Some((value.as_str(), 0)),
            Text::Dictionary(dictionary) => {
                let start = match index {
                    0 => 0,
                    _ => *dictionary.ends.get(index - 1)?,
                };
                let end = *dictionary.ends.get(index)?;
                let first = *dictionary.first.get(index)? as usize;
                Some((dictionary.text.get(start as usize..end as usize)?, first))
            }
            _ => None,
        }
    }

    /// The index of line `line`'s value, if it has one.
    pub fn key(&self, line: usize) -> Option<u32> {
        match self.0 {
            Text::Same(Some(_), count) if line < *count => Some(0),
            Text::Dictionary(dictionary) => {
                let valid = dictionary.validity.as_ref().is_none_or(|v| v.get(line));
                dictionary.keys.get(line).copied().filter(|_| valid)
            }
            _ => None,
        }
    }
}

impl Batch {
    /// The values of the column `dimension`'s groups are keyed by
    /// ([`group_column`]).
    pub(crate) fn group_values(&self, dimension: Dimension) -> Option<ColumnValues<'_>> {
        self.text.get(group_column(dimension)).map(ColumnValues)
    }

    /// Line `line`'s value in text column `column`, once the block is
    /// sealed, if it has one.
    fn value_at(&self, column: usize, line: usize) -> Option<&str> {
        let values = ColumnValues(self.text.get(column)?);
        let key = values.key(line)?;
        values.value(key as usize).map(|(text, _)| text)
    }

    pub(crate) fn track_title(&self, line: usize) -> Option<&str> {
        self.value_at(TRACK_TITLE, line)
    }

    pub(crate) fn release_title(&self, line: usize) -> Option<&str> {
        self.value_at(RELEASE_TITLE, line)
    }

    pub(crate) fn upc(&self, line: usize) -> Option<&str> {
        self.value_at(UPC, line)
    }

    /// Builds the dictionaries of the block's repeating columns, one
    /// column at a time ([`Raw`]). The snapshot's groups read them next
    /// ([`crate::totals::Totals::finish_block`]).
    pub(crate) fn seal(&mut self) {
        for column in &mut self.text {
            if let Text::Raw(raw) = column {
                *column = Text::Dictionary(std::mem::take(raw).into_dictionary());
            }
        }
    }

    /// The number of line `line` of the block.
    pub(crate) fn number(&self, line: usize) -> i64 {
        self.line.get(line).copied().unwrap_or_default()
    }

    pub fn new(capacity: usize) -> Batch {
        Batch {
            line: Vec::with_capacity(capacity),
            quantity: Vec::with_capacity(capacity),
            text: std::array::from_fn(|_| Text::Same(None, 0)),
            distinct: std::array::from_fn(|at| DISTINCT.contains(&TEXT_COLUMNS[at])),
            capacity,
            base_is_revenue: true,
        }
    }

    pub fn len(&self) -> usize {
        self.line.len()
    }

    pub fn is_empty(&self) -> bool {
        self.line.is_empty()
    }

    /// Adds line `number` as its ledger accounted for it; `period` is the
    /// file's reporting period, for lines that do not name one. Returns
    /// whether the line has a value in each snapshot dimension's column.
    pub fn push(
        &mut self,
        number: i64,
        line: &Line,
        period: Option<&str>,
        entry: &Entry<'_>,
    ) -> Valued {
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
            Some(entry.net_revenue),
            Some(entry.currency),
            Some(entry.rate),
            Some(entry.base_revenue),
        ];
        if self.base_is_revenue && !entry.base_is_revenue {
            // The first converted line: the lines before it had their
            // amounts as base amounts.
            self.text[BASE_REVENUE] = self.text[NET_REVENUE].clone();
            self.base_is_revenue = false;
        }
        let valued = Valued::from_fn(|dimension| values[group_column(dimension)].is_some());
        let columns = self.text.iter_mut().zip(values).zip(self.distinct);
        for (at, ((column, value), distinct)) in columns.enumerate() {
            if at == BASE_REVENUE && self.base_is_revenue {
                continue;
            }
            column.push(value, distinct, self.capacity);
        }
        valued
    }

    /// The batch's columns, in the order of [`schema`].
    fn into_arrays(self, constants: &Constants) -> PolarsResult<Vec<Box<dyn Array>>> {
        let height = self.line.len();
        let mut all: Vec<Box<dyn Array>> = Vec::with_capacity(TEXT_COLUMNS.len() + 5);
        all.push(PrimitiveArray::from_vec(vec![constants.organisation_id; height]).boxed());
        all.push(PrimitiveArray::from_vec(vec![constants.file_id; height]).boxed());
        all.push(PrimitiveArray::from_vec(self.line).boxed());
        let first_text = all.len();
        for (at, column) in self.text.into_iter().enumerate() {
            let array = match (at, self.base_is_revenue, all.get(first_text + NET_REVENUE)) {
                // Arrays share their buffers: the amounts are not copied.
                (BASE_REVENUE, true, Some(amounts)) => amounts.clone(),
                _ => column.finish()?,
            };
            all.push(array);
        }
        all.push(PrimitiveArray::from_vec(self.quantity).boxed());
        all.push(constant(Some(&constants.base_currency), height)?);
        Ok(all)
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
    compressions: Vec<CompressionOptions>,
    options: WriteOptions,
    pub constants: Constants,
}

impl LinesFile {
    pub fn create(path: &Path, constants: Constants) -> PolarsResult<LinesFile> {
        let compression = ParquetCompression::Snappy;
        let schema = schema();
        let arrow = schema.to_arrow(CompatLevel::newest());
        let fields = to_parquet_schema(&arrow)?.fields().to_vec();
        // Amounts, nearly all different, are written plain, without first
        // estimating whether a dictionary would pay; line numbers, one
        // more each line, as deltas (next to nothing).
        let encodings = arrow
            .iter_values()
            .zip(get_encodings(&arrow).iter())
            .map(|(field, encoding)| match field.name.as_str() {
                "line" => vec![Encoding::DeltaBinaryPacked],
                name if DISTINCT.contains(&name) => vec![Encoding::Plain],
                _ => encoding.clone(),
            })
            .collect();
        // Amounts are digits in no order, which Snappy (matching repeated
        // runs, with no entropy coding) cannot shorten, and line numbers
        // as deltas are next to nothing: those are stored as encoded.
        let compressions = arrow
            .iter_values()
            .map(|field| match field.name.as_str() {
                name if name == "line" || DISTINCT.contains(&name) => {
                    CompressionOptions::Uncompressed
                }
                _ => compression.into(),
            })
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
            compressions,
            options,
            constants,
        })
    }

    /// Encodes and compresses a batch on the calling thread, as one row
    /// group.
    pub fn encode(&self, batch: Batch) -> PolarsResult<RowGroup> {
        let arrays = batch.into_arrays(&self.constants)?;
        let mut columns = Vec::with_capacity(self.fields.len());
        let columns_of = arrays
            .iter()
            .zip(&self.fields)
            .zip(&self.encodings)
            .zip(&self.compressions);
        for (((array, field), encoding), &compression) in columns_of {
            // A column of one value is a dictionary, whatever its kind.
            let encoding = match array.dtype() {
                ArrowDataType::Dictionary(..) => &[Encoding::RleDictionary][..],
                _ => encoding,
            };
            for pages in array_to_columns(array, field.clone(), self.options, encoding)? {
                let pages = pages
                    .map(|page| page.map_err(|e| ParquetError::FeatureNotSupported(e.to_string())));
                let compressed = Compressor::new_from_vec(pages, compression, vec![])
                    .collect::<Result<Vec<_>, ParquetError>>()?;
                columns.push(compressed);
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

    /// A text column of lines read back.
    fn texts<'f>(frame: &'f DataFrame, name: &str) -> Vec<Option<&'f str>> {
        frame.column(name).unwrap().str().unwrap().iter().collect()
    }

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
                    // Values, repeated and not, and lines without one.
                    isrc: (n != 2 && n != 5).then(|| format!("GBAYE{}", n / 2)),
                    upc: (n > 4).then(|| "0602517646489".to_owned()),
                    ..Line::default()
                };
                // Lines 1 to 4 at rate 1, later ones converted.
                let converted = format!("9.{n}");
                let entry = match n > 4 {
                    true => Entry {
                        currency: "GBP",
                        rate: "0.9",
                        net_revenue: &line.net_revenue,
                        base_revenue: &converted,
                        base_is_revenue: false,
                    },
                    false => Entry {
                        currency: "USD",
                        rate: "1",
                        net_revenue: &line.net_revenue,
                        base_revenue: &line.net_revenue,
                        base_is_revenue: true,
                    },
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
        let currency: Vec<Option<&str>> = texts(&frame, "currency");
        let usd = Some("USD");
        let gbp = Some("GBP");
        assert_eq!(
            currency,
            [usd, usd, usd, usd, gbp, gbp],
            "one value, then another"
        );
        let base: Vec<Option<&str>> = texts(&frame, "base_revenue");
        assert_eq!(
            base,
            ["0.1", "0.2", "0.3", "0.4", "9.5", "9.6"].map(Some),
            "base amounts: the amounts, in a batch at rate 1 and before its first converted line"
        );
        let labels: Vec<Option<&str>> = texts(&frame, "label");
        let (a, b) = (Some("A"), Some("B"));
        assert_eq!(labels, [a, a, b, a, a, b], "one value, then another");
        let isrcs: Vec<Option<&str>> = texts(&frame, "isrc");
        assert_eq!(
            isrcs,
            [
                Some("GBAYE0"),
                None,
                Some("GBAYE1"),
                Some("GBAYE2"),
                None,
                Some("GBAYE3")
            ],
            "a dictionary with lines without a value"
        );
        let upcs: Vec<Option<&str>> = texts(&frame, "upc");
        let upc = Some("0602517646489");
        assert_eq!(upcs, [None, None, None, None, upc, upc], "none, then one");
        let amounts: Vec<Option<&str>> = texts(&frame, "net_revenue");
        assert_eq!(
            amounts,
            ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6"].map(Some),
            "amounts, plain"
        );
        let titles = frame.column("track_title").unwrap().str().unwrap();
        assert_eq!(titles.null_count(), 6, "a column of none");
        let base = frame.column("base_currency").unwrap().str().unwrap().get(3);
        assert_eq!(base, Some("EUR"));
        assert_eq!(frame.width(), 25);
    }
}
