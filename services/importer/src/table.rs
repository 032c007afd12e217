//! Tables: a cleaned report imported on every core.
//!
//! One thread reads the file in blocks and cuts each at the end of its last
//! whole record (a line end outside quotes). Workers, one per core, each
//! take a block, read its records, map them to standard lines, account for
//! them in a ledger of their own and encode them as a Parquet row group.
//! The row groups are written in the blocks' order, and the ledgers are
//! merged at the end (`oas_sales::pipeline::in_file_order`). The first
//! fault in the file's order fails the import, as a line-by-line reading
//! would have.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use oas_platform::module::Failure;
use oas_platform::storage::ContentHasher;
use oas_sales::format::{self, Cells, Line, Mapper, SplitLine};
use oas_sales::pipeline::{Spares, in_file_order};
use oas_sales::sniff::Scanner;

use crate::failure::{internal, not_a_sales_report, rejected};
use crate::imported::Imported;
use crate::ledger::{Context, Ledger};
use crate::lines::{Batch, Constants, LinesFile, RowGroup};
use crate::rates::{Params, Rates};

/// Bytes read at a time: a block is one row group.
pub const BLOCK: usize = 8 << 20;

/// Where the table lies in the cleaned file.
pub struct Source<'a> {
    pub path: &'a Path,
    /// Lines before the header (a preamble left in place).
    pub skip_lines: usize,
    pub delimiter: u8,
    /// Where the data ends (a trailing summary block after it), if before
    /// the end of the file.
    pub data_end: Option<u64>,
    /// Data lines the cleaning counted, to be found again.
    pub rows: Option<u64>,
    /// Bytes read at a time ([`BLOCK`]).
    pub block: usize,
    /// Whether to hash the whole file as it is read (its content hash).
    pub hash: bool,
}

/// A cell that cleaning leaves empty: spaces, NULs, zero-width characters.
pub fn blank(cell: &str) -> bool {
    cell.chars()
        .all(|c| c.is_whitespace() || oas_sales::decode::invisible(c))
}

fn reading(e: impl std::fmt::Display) -> Failure {
    internal("reading the cleaned file", e)
}

/// A block of whole records, with the line its first byte is on.
struct Block {
    bytes: Vec<u8>,
    /// Line ends before the block.
    lines_before: i64,
}

/// What a worker made of a block.
struct Done {
    group: Option<RowGroup>,
    rows: u64,
}

/// Cuts `data` after its last whole record: `None` when it holds none.
fn cut(data: &[u8], delimiter: u8, fields: &mut Vec<u8>, ends: &mut Vec<usize>) -> Option<usize> {
    if memchr::memchr(b'"', data).is_none() {
        // No quotes: every line end ends a record.
        return memchr::memrchr(b'\n', data)
            .or_else(|| memchr::memrchr(b'\r', data))
            .map(|at| at + 1);
    }
    // Quotes may hold line ends: read the records to find the last end.
    let mut reader = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let (mut at, mut last) = (0usize, None);
    loop {
        let (result, read, _, _) = reader.read_record(&data[at..], fields, ends);
        at += read;
        match result {
            csv_core::ReadRecordResult::Record => last = Some(at),
            csv_core::ReadRecordResult::OutputFull => fields.resize(fields.len() * 2 + 1024, 0),
            csv_core::ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2 + 64, 0),
            csv_core::ReadRecordResult::InputEmpty | csv_core::ReadRecordResult::End => {
                return last;
            }
        }
    }
}

/// Reads the lines before the data: the preamble and the header. Returns
/// the header and the file's bytes before the data.
fn header(source: &Source<'_>) -> Result<(Vec<String>, Vec<u8>), Failure> {
    let mut file = BufReader::with_capacity(1 << 16, File::open(source.path).map_err(reading)?);
    let mut offset = 0u64;
    let mut skipped = Vec::new();
    for _ in 0..source.skip_lines {
        skipped.clear();
        offset += file.read_until(b'\n', &mut skipped).map_err(reading)? as u64;
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(source.delimiter)
        .from_reader(file);
    let mut record = csv::StringRecord::new();
    if !reader
        .read_record(&mut record)
        .map_err(|e| rejected(format!("The header cannot be read: {e}")))?
    {
        return Err(rejected("The file has no header."));
    }
    let header = record.iter().map(str::to_owned).collect();
    let data = offset + reader.position().byte();
    let mut head = Vec::new();
    File::open(source.path)
        .and_then(|file| file.take(data).read_to_end(&mut head))
        .map_err(reading)?;
    Ok((header, head))
}

/// The currency of the first line, which an exchange rate given for the
/// file is taken to be from.
fn first_currency(block: &[u8], delimiter: u8, mapper: &Mapper) -> Option<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(block);
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).ok()? {
        if !record.iter().all(blank) {
            return mapper.line(&record).ok()?.currency;
        }
    }
    None
}

/// The file from the data's offset, in blocks of whole records.
struct Blocks {
    file: File,
    delimiter: u8,
    size: usize,
    /// Bytes of data left to read.
    left: u64,
    carry: Vec<u8>,
    lines_before: i64,
    fields: Vec<u8>,
    ends: Vec<usize>,
    /// The file's hash so far: every byte before the next to read.
    hasher: Option<ContentHasher>,
}

impl Blocks {
    /// The data after `head`, the file's bytes up to the end of its header.
    fn open(source: &Source<'_>, head: &[u8]) -> Result<Blocks, Failure> {
        let mut file = File::open(source.path).map_err(reading)?;
        let size = file.metadata().map_err(reading)?.len();
        let end = source.data_end.unwrap_or(size).min(size);
        let offset = head.len() as u64;
        let hasher = source.hash.then(|| {
            let mut hasher = ContentHasher::default();
            hasher.update(head);
            hasher
        });
        // The header's own line ends, and any blank lines before it.
        let lines_before = memchr::memchr_iter(b'\n', head).count() as i64;
        file.seek(SeekFrom::Start(offset)).map_err(reading)?;
        Ok(Blocks {
            file,
            delimiter: source.delimiter,
            size: source.block.max(1),
            left: end.saturating_sub(offset),
            carry: Vec::new(),
            lines_before,
            fields: vec![0; 1 << 16],
            ends: vec![0; 256],
            hasher,
        })
    }

    /// The whole file's hash, once the rest of it (what lies after the
    /// data, or after a fault) is read too.
    fn finish_hash(self) -> Result<Option<String>, Failure> {
        let Some(mut hasher) = self.hasher else {
            return Ok(None);
        };
        hasher.read_from(self.file).map_err(reading)?;
        Ok(Some(hasher.finish()))
    }

    /// The next block, filled into `buffer` (a spare one, emptied).
    fn next(&mut self, mut buffer: Vec<u8>) -> Result<Option<Block>, Failure> {
        buffer.clear();
        buffer.append(&mut self.carry);
        loop {
            let want = self.size.max(buffer.len() + self.size / 2 + 1);
            let room = (want - buffer.len()).min(usize::try_from(self.left).unwrap_or(usize::MAX));
            let start = buffer.len();
            // Read into the spare room without clearing it first.
            buffer.reserve(room);
            (&mut self.file)
                .take(room as u64)
                .read_to_end(&mut buffer)
                .map_err(reading)?;
            let filled = buffer.len();
            if let Some(hasher) = self.hasher.as_mut() {
                hasher.update(&buffer[start..filled]);
            }
            self.left -= (filled - start) as u64;
            let at_end = self.left == 0 || filled == start;
            if at_end {
                if buffer.is_empty() {
                    return Ok(None);
                }
                break;
            }
            if let Some(at) = cut(&buffer, self.delimiter, &mut self.fields, &mut self.ends) {
                self.carry.extend_from_slice(&buffer[at..]);
                buffer.truncate(at);
                break;
            }
            // A record longer than the block: read on.
        }
        let block = Block {
            lines_before: self.lines_before,
            bytes: buffer,
        };
        self.lines_before += memchr::memchr_iter(b'\n', &block.bytes).count() as i64;
        Ok(Some(block))
    }
}

/// The records of a block, each with the line it starts on.
enum Records<'b> {
    /// No quotes and no lone CR: a record is a line, split at delimiters.
    Plain {
        bytes: &'b [u8],
        /// The block as text, when it is all valid UTF-8 (checked once).
        text: Option<&'b str>,
        at: usize,
        line: i64,
        /// The block's lines and cells.
        scanner: Scanner<'b>,
    },
    Csv {
        reader: csv::Reader<&'b [u8]>,
        block: &'b Block,
    },
}

impl<'b> Records<'b> {
    fn new(block: &'b Block, delimiter: u8) -> Records<'b> {
        let bytes = &block.bytes[..];
        let plain = memchr::memchr(b'"', bytes).is_none()
            && memchr::memchr_iter(b'\r', bytes).all(|at| bytes.get(at + 1) == Some(&b'\n'));
        if plain {
            return Records::Plain {
                bytes,
                text: std::str::from_utf8(bytes).ok(),
                at: 0,
                line: block.lines_before,
                scanner: Scanner::lines(bytes, delimiter),
            };
        }
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(bytes);
        Records::Csv { reader, block }
    }

    /// Reads the next record and returns its line, or `None` at the
    /// block's end: a quote-free line is split in place, its cells'
    /// places put in `bounds` and its text returned; any other record is
    /// read into `record`.
    fn next(
        &mut self,
        record: &mut csv::StringRecord,
        bounds: &mut Vec<(usize, usize)>,
    ) -> Result<Option<(i64, Option<&'b str>)>, Failure> {
        match self {
            Records::Plain {
                bytes,
                text: whole,
                at,
                line,
                scanner,
            } => loop {
                if *at >= bytes.len() {
                    return Ok(None);
                }
                let start = *at;
                let (end, next) = scanner.line(start, bounds);
                *at = next;
                *line += 1;
                if end == start {
                    // A blank line, which a CSV reader skips.
                    continue;
                }
                // Line ends are ASCII: the block's text splits at them.
                let text = match whole.and_then(|w| w.get(start..end)) {
                    Some(text) => text,
                    None => std::str::from_utf8(&bytes[start..end]).map_err(|e| {
                        rejected(format!(
                            "Line {line}: invalid UTF-8 after byte {}",
                            e.valid_up_to()
                        ))
                    })?,
                };
                return Ok(Some((*line, Some(text))));
            },
            Records::Csv { reader, block } => {
                let before = reader.position().clone();
                match reader.read_record(record) {
                    Ok(false) => return Ok(None),
                    Ok(true) => {}
                    Err(e) => {
                        let line = e.position().map_or(block.lines_before + 1, |p| {
                            block.lines_before + p.line() as i64
                        });
                        return Err(rejected(format!("Line {line}: {e}")));
                    }
                }
                // The record's own line: past the blank lines and the line
                // end of the record before that the reader passed over first.
                let start = usize::try_from(before.byte()).unwrap_or(usize::MAX);
                let end = usize::try_from(reader.position().byte()).unwrap_or(usize::MAX);
                let after_cr = start > 0 && block.bytes.get(start - 1) == Some(&b'\r');
                let consumed = block.bytes.get(start..end).unwrap_or_default();
                let lead = oas_sales::sniff::lead(consumed, after_cr);
                let line = block.lines_before + (before.line() + lead.line_ends) as i64;
                Ok(Some((line, None)))
            }
        }
    }
}

/// Maps, accounts for and encodes one block.
/// `numbered`: the first column is the upload's line of each row
/// ([`oas_sales::sniff::SOURCE_LINE`]).
fn work(
    block: &Block,
    delimiter: u8,
    numbered: bool,
    mapper: &Mapper,
    context: &Context,
    ledger: &mut Ledger,
    out: &LinesFile,
) -> Result<Done, Failure> {
    let mut records = Records::new(block, delimiter);
    let mut record = csv::StringRecord::new();
    let mut bounds = Vec::new();
    let mut line = Line::default();
    // A guess at the lines in the block.
    let mut batch = Batch::new(block.bytes.len() / 128 + 1);
    let mut rows = 0u64;
    let mut take_lines = || -> Result<(), Failure> {
        while let Some((number, text)) = records.next(&mut record, &mut bounds)? {
            let row = match text {
                Some(text) => Row::Split(SplitLine {
                    text,
                    bounds: &bounds,
                }),
                None => Row::Read(&record),
            };
            if (0..row.len()).all(|at| row.cell(at).is_none_or(blank)) {
                continue;
            }
            // A rewritten clean copy says which line of the upload each row
            // came from.
            let number = match numbered {
                true => row.cell(0).and_then(|n| n.parse().ok()).unwrap_or(number),
                false => number,
            };
            rows += 1;
            mapper
                .line_into(&row, &mut line)
                .map_err(|e| rejected(format!("Line {number}: {e}")))?;
            ledger.take(context, number, &line, &mut batch)?;
        }
        Ok(())
    };
    let taken = take_lines();
    // The block's lines are accounted for, even before a fault.
    ledger.finish_block(&mut batch);
    taken?;
    let group = if batch.is_empty() {
        None
    } else {
        Some(
            out.encode(batch)
                .map_err(|e| internal("encoding Parquet", e))?,
        )
    };
    Ok(Done { group, rows })
}

/// A record as the mapper reads it: split in place, or read by a CSV reader.
enum Row<'r> {
    Split(SplitLine<'r>),
    Read(&'r csv::StringRecord),
}

impl Cells for Row<'_> {
    fn len(&self) -> usize {
        match self {
            Row::Split(split) => split.len(),
            Row::Read(record) => record.len(),
        }
    }

    fn cell(&self, position: usize) -> Option<&str> {
        match self {
            Row::Split(split) => split.cell(position),
            Row::Read(record) => record.get(position),
        }
    }
}

/// Imports the table of `source` into the Parquet file at `parquet`.
/// With [`Source::hash`], `hashed` receives the file's content hash once
/// the file has been read to its end, whether the import succeeds or not.
pub fn import(
    source: &Source<'_>,
    preamble: &[(String, String)],
    params: &Params,
    constants: Constants,
    parquet: &Path,
    hashed: &mut Option<String>,
) -> Result<Imported, Failure> {
    let (header, head) = header(source)?;
    let numbered = header
        .first()
        .is_some_and(|h| h == oas_sales::sniff::SOURCE_LINE);
    let spec =
        format::detect(&params.formats, &header).map_err(|e| not_a_sales_report(e.to_string()))?;
    let mapper = Mapper::new(spec, &header, preamble);
    let file_period = params
        .reporting_period
        .clone()
        .or_else(|| mapper.preamble_period());
    let default_currency = mapper
        .preamble_value(format::Field::Currency)
        .map(|c| c.to_ascii_uppercase())
        .or_else(|| spec.currency.clone());

    let mut blocks = Blocks::open(source, &head)?;
    let capacity = source.block + source.block / 2;
    let first = blocks.next(Vec::with_capacity(capacity))?;
    let file_currency = default_currency.clone().or_else(|| {
        first
            .as_ref()
            .and_then(|b| first_currency(&b.bytes, source.delimiter, &mapper))
    });
    let context = Context {
        rates: Rates::new(params, file_currency)?,
        file_period,
        default_currency,
    };
    let out = LinesFile::create(parquet, constants)
        .map_err(|e| internal("creating the Parquet file", e))?;

    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let spares = Spares::new(workers * 2 + 2);
    let mut first = Some(first);
    let mut rows = 0u64;
    // Each worker with a ledger and a mapper of its own.
    let states = (0..workers)
        .map(|_| (Ledger::default(), mapper.clone()))
        .collect();
    let imported = in_file_order(
        states,
        || match first.take() {
            Some(block) => Ok(block),
            None => blocks.next(
                spares
                    .take()
                    .unwrap_or_else(|| Vec::with_capacity(capacity)),
            ),
        },
        |(ledger, mapper), block| {
            let done = work(
                &block,
                source.delimiter,
                numbered,
                mapper,
                &context,
                ledger,
                &out,
            );
            spares.give(block.bytes);
            done
        },
        |done| {
            if let Some(group) = done.group {
                out.write(group)
                    .map_err(|e| internal("writing Parquet", e))?;
            }
            rows += done.rows;
            Ok(())
        },
    );
    // The rest of the file is hashed even past a fault: the caller
    // compares it whether the import succeeded or not.
    match blocks.finish_hash() {
        Ok(hash) => *hashed = hash,
        Err(failure) if imported.is_ok() => return Err(failure),
        Err(_) => {}
    }
    let mut ledger = Ledger::default();
    for (theirs, _) in imported? {
        ledger.merge(theirs);
    }

    out.finish().map_err(|e| internal("writing Parquet", e))?;
    if let Some(expected) = source.rows
        && expected != rows
    {
        return Err(internal(
            "reading the cleaned file",
            format!("cleaning counted {expected} data lines, the import found {rows}"),
        ));
    }
    crate::imported::imported(
        ledger,
        &spec.slug,
        &spec.name,
        &params.base_currency,
        context.file_period.clone(),
        "The file has no sales lines.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_cut_after_whole_records_even_with_line_ends_in_quotes() {
        let (mut fields, mut ends) = (Vec::new(), Vec::new());
        let mut c = |data: &[u8]| cut(data, b',', &mut fields, &mut ends);
        assert_eq!(c(b"a,b\nc,d\ne,"), Some(8));
        assert_eq!(c(b"a,b\r\nc,d\r\ne"), Some(10));
        assert_eq!(c(b"no line end yet"), None);
        let quoted = b"a,\"x\ny\"\nb,\"open\nstill";
        assert_eq!(
            c(quoted),
            Some(8),
            "the line end inside quotes is not a cut"
        );
        assert_eq!(c(b"a,\"only\nopen"), None);
    }

    /// A report with a preamble line, CR LF line ends, blank lines and
    /// titles holding line ends; returns it with the line each sale starts
    /// on, and the sum of its amounts.
    fn report(sales: usize, bad: Option<usize>) -> (String, Vec<i64>, oas_domain::money::Amount) {
        let mut text = String::from("Report,2024-01\r\n");
        text.push_str("dsp,territory,artist,track_title,quantity,net_revenue,currency\r\n");
        let mut line = 3i64;
        let (mut lines, mut total) = (Vec::new(), oas_domain::money::Amount::ZERO);
        for n in 0..sales {
            if n % 7 == 3 {
                text.push_str("\r\n");
                line += 1;
            }
            let title = if n % 5 == 0 {
                format!("\"Song {n}\r\npart two, \"\"quoted\"\"\"")
            } else {
                format!("Song {n}")
            };
            let amount = format!("0.{:03}", n * 37 % 1000);
            let written = if bad == Some(n) {
                "x".to_owned()
            } else {
                amount.clone()
            };
            text.push_str(&format!(
                "Spotify,DE,Artist {},{title},1,{written},USD\r\n",
                n % 3
            ));
            lines.push(line);
            total += oas_domain::money::Amount::parse(&amount).unwrap();
            line += if n % 5 == 0 { 2 } else { 1 };
        }
        (text, lines, total)
    }

    fn import_with(text: &str, block: usize) -> Result<(Imported, Vec<i64>), Failure> {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("report.csv");
        std::fs::write(&path, text).unwrap();
        let parquet = folder.path().join("lines.parquet");
        let source = Source {
            path: &path,
            skip_lines: 1,
            delimiter: b',',
            data_end: None,
            rows: None,
            block,
            hash: true,
        };
        let constants = Constants {
            organisation_id: 1,
            file_id: 1,
            base_currency: "USD".into(),
        };
        let mut hashed = None;
        let imported = import(
            &source,
            &[],
            &crate::rates::tests::params(),
            constants,
            &parquet,
            &mut hashed,
        );
        // The whole file is hashed as it is read, even past a fault.
        let whole = oas_platform::storage::content_hash(&path).unwrap();
        assert_eq!(hashed, Some(whole), "block {block}");
        Ok((imported?, crate::lines::read_back(&parquet).1))
    }

    #[test]
    fn any_block_size_gives_the_same_lines_totals_and_line_numbers() {
        let (text, expected_lines, total) = report(300, None);
        for block in [1 << 20, 4096, 97, 5] {
            let (imported, lines) = import_with(&text, block).unwrap();
            assert_eq!(imported.lines, 300, "block {block}");
            assert_eq!(imported.total, total, "block {block}");
            assert_eq!(imported.base_total, total, "block {block}");
            assert_eq!(imported.artists, 3, "block {block}");
            assert_eq!(
                lines, expected_lines,
                "block {block}: lines in order, numbered as in the file"
            );
        }
    }

    #[test]
    fn the_first_bad_line_in_the_file_is_the_one_reported_whatever_the_blocks() {
        let (text, lines, _) = report(300, Some(211));
        let at = lines[211];
        for block in [1 << 20, 300, 64] {
            let failure = import_with(&text, block).expect_err("a bad amount fails");
            assert!(
                failure.message.starts_with(&format!("Line {at}: ")),
                "block {block}: {}",
                failure.message
            );
        }
    }
}
