//! Cleaning, file to file: whatever was uploaded becomes one UTF-8,
//! comma-separated CSV whose first line is the header, or, for a DDEX DSR,
//! the DSR text in UTF-8, or, for an archive, its members, each to be
//! cleaned on its own. Large files are streamed: only the first 64 KiB are
//! held in memory, to find the encoding and the shape.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};
use oas_sales::pipeline::{Spares, in_file_order};
use oas_sales::{decode, dsr, sniff};
use serde::Serialize;

/// How much of the start of a file is read to judge it.
const HEAD_BYTES: usize = 64 * 1024;

/// Limits on what an archive may expand to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes any one decompressed file (gzip, archive member) may reach.
    pub max_expanded_bytes: u64,
    /// Members an archive may hold.
    pub max_members: usize,
    /// Largest ratio of expanded to compressed size of a member.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_expanded_bytes: 2 * 1024 * 1024 * 1024,
            max_members: 200,
            max_ratio: 200,
        }
    }
}

/// Why a file is refused: the file's `status_cause`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("The file is empty.")]
    Empty,
    #[error("The file has a header but no data lines.")]
    HeaderOnly,
    #[error("The file holds no text: it looks like binary data of a type OAS does not read.")]
    Binary,
    #[error("The file is not a sales report: no table of columns was found in it.")]
    NotAReport,
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Corrupt(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Irregular(String),
    /// Bytes that are not UTF-8 after a head that was: read again as
    /// Windows-1252 (never a file's cause).
    #[error("The file is not valid UTF-8.")]
    NotUtf8,
    /// Quotes or a lone CR in a file being checked line by line: it is
    /// read again as CSV (never a file's cause).
    #[error("The file needs reading as quoted CSV.")]
    NotPlain,
}

/// What was found in the upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cleaned {
    /// A table, written as clean CSV.
    Table(Table),
    /// A DDEX DSR flat file, written as UTF-8 text.
    Dsr(Dsr),
    /// An archive: its members, written to files, to be cleaned one by one.
    Archive(Archive),
}

/// A DDEX DSR flat file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dsr {
    #[serde(flatten)]
    pub facts: TextFacts,
    /// Which file of which message it is, when its `HEAD` says (the
    /// importer refuses the file, saying why, when it does not).
    pub message: Option<dsr::MessagePart>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TextFacts {
    /// What the upload was: `text`, `gzip`, `xlsx`, `xls`.
    pub source_type: String,
    pub encoding: String,
    #[serde(skip)]
    pub path: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    #[serde(flatten)]
    pub facts: TextFacts,
    /// The delimiter found, as text (`\t`, `,`, `;`, `|`).
    pub delimiter: String,
    pub header: Vec<String>,
    /// Values before the header, e.g. `["Currency", "AUD"]`.
    pub preamble: Vec<(String, String)>,
    /// Data lines written.
    pub rows: u64,
    /// Lines after the table that are not part of it (a summary block).
    pub trailing_lines: u64,
    /// For spreadsheets: the sheet read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// Lines before the header in the clean copy (a preamble).
    pub skip_lines: usize,
    /// The upload was already clean UTF-8: it is its own clean copy, read
    /// with its own delimiter, `skip_lines` lines in, for `rows` lines.
    pub as_uploaded: bool,
    /// In an upload that is its own clean copy, where a trailing block (a
    /// summary, left out) starts: the data lines end before it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_end: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Archive {
    pub members: Vec<Member>,
    /// Entries not taken, with the reason.
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub name: String,
    pub size: u64,
    #[serde(skip)]
    pub path: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// What the first bytes say the upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Gzip,
    Zip,
    Xlsx,
    Xls,
    Other(&'static str),
}

fn kind_of(head: &[u8], path: &Path) -> Kind {
    match head {
        [0x1f, 0x8b, ..] => Kind::Gzip,
        [b'P', b'K', 3, 4, ..] | [b'P', b'K', 5, 6, ..] => {
            let is_xlsx = File::open(path)
                .ok()
                .and_then(|f| zip::ZipArchive::new(f).ok())
                .is_some_and(|z| z.index_for_name("xl/workbook.xml").is_some());
            if is_xlsx { Kind::Xlsx } else { Kind::Zip }
        }
        [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, ..] => Kind::Xls,
        [b'%', b'P', b'D', b'F', ..] => Kind::Other("a PDF document"),
        [0x89, b'P', b'N', b'G', ..] | [0xff, 0xd8, 0xff, ..] | [b'G', b'I', b'F', b'8', ..] => {
            Kind::Other("an image")
        }
        [b'R', b'a', b'r', b'!', ..] | [b'7', b'z', 0xbc, 0xaf, ..] => {
            Kind::Other("a RAR or 7-Zip archive (only ZIP and gzip are read)")
        }
        _ => Kind::Text,
    }
}

fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEAD_BYTES);
    File::open(path)?
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut head)?;
    Ok(head)
}

fn io(e: std::io::Error) -> Refusal {
    Refusal::Corrupt(format!("The file could not be read: {e}."))
}

/// Cleans the upload at `input` into `work` (a folder of its own).
pub fn clean(input: &Path, work: &Path, limits: &Limits) -> Result<Cleaned, Refusal> {
    let head = read_head(input).map_err(io)?;
    if head.is_empty() {
        return Err(Refusal::Empty);
    }
    match kind_of(&head, input) {
        Kind::Text => text(input, work, "text"),
        Kind::Gzip => {
            let inflated = work.join("inflated");
            gunzip(input, &inflated, limits)?;
            let head = read_head(&inflated).map_err(io)?;
            if head.is_empty() {
                return Err(Refusal::Empty);
            }
            match kind_of(&head, &inflated) {
                Kind::Text => text(&inflated, work, "gzip"),
                _ => Err(Refusal::Unsupported(
                    "The gzip file holds something other than a text report.".into(),
                )),
            }
        }
        Kind::Zip => archive(input, work, limits).map(Cleaned::Archive),
        Kind::Xlsx => crate::sheets::clean(input, work, "xlsx"),
        Kind::Xls => crate::sheets::clean(input, work, "xls"),
        Kind::Other(what) => Err(Refusal::Unsupported(format!(
            "The file is {what}, not a sales report OAS can read (CSV, TSV, TXT, XLS, XLSX, ZIP, gzip or DDEX DSR)."
        ))),
    }
}

fn gunzip(input: &Path, output: &Path, limits: &Limits) -> Result<(), Refusal> {
    let file = File::open(input).map_err(io)?;
    let compressed = file.metadata().map_err(io)?.len().max(1);
    // Every member of a concatenated gzip, within both limits.
    let budget = limits
        .max_expanded_bytes
        .min(compressed.saturating_mul(limits.max_ratio));
    let mut decoder = flate2::read::MultiGzDecoder::new(BufReader::new(file)).take(budget + 1);
    let mut out = BufWriter::new(File::create(output).map_err(io)?);
    let mut block = vec![0u8; 1 << 16];
    let mut written = 0u64;
    loop {
        let read = decoder
            .read(&mut block)
            .map_err(|e| Refusal::Corrupt(format!("The gzip file is damaged: {e}.")))?;
        if read == 0 {
            break;
        }
        out.write_all(&block[..read]).map_err(io)?;
        written += read as u64;
    }
    out.flush().map_err(io)?;
    if written > budget {
        return Err(Refusal::TooLarge(format!(
            "The gzip file expands to more than {budget} bytes: at most {}-fold and {} bytes in all are read.",
            limits.max_ratio, limits.max_expanded_bytes
        )));
    }
    Ok(())
}

/// The text encoding: a BOM's, else UTF-16 by its zero bytes, else UTF-8
/// when the head is valid UTF-8 (a later invalid byte makes the reading
/// start again as Windows-1252), else Windows-1252.
fn encoding_of(head: &[u8]) -> &'static Encoding {
    if let Some((encoding, _)) = Encoding::for_bom(head) {
        return encoding;
    }
    if decode::looks_like_utf16(head, true) {
        return UTF_16LE;
    }
    if decode::looks_like_utf16(head, false) {
        return UTF_16BE;
    }
    match std::str::from_utf8(head) {
        Ok(_) => UTF_8,
        // A character cut at the end of the head is still UTF-8.
        Err(e) if e.error_len().is_none() => UTF_8,
        Err(_) => WINDOWS_1252,
    }
}

/// Whether the file is valid UTF-8, read in blocks.
fn is_utf8(path: &Path) -> std::io::Result<bool> {
    let mut file = File::open(path)?;
    let mut block = vec![0u8; 1 << 20];
    let mut carried = 0usize;
    loop {
        let read = file.read(&mut block[carried..])?;
        let filled = carried + read;
        if read == 0 {
            return Ok(carried == 0);
        }
        match std::str::from_utf8(&block[..filled]) {
            Ok(_) => carried = 0,
            Err(e) if e.error_len().is_none() => {
                // A character cut at the block's end: carry it over.
                let valid = e.valid_up_to();
                block.copy_within(valid..filled, 0);
                carried = filled - valid;
            }
            Err(_) => return Ok(false),
        }
    }
}

/// A reader of the file's text as UTF-8, whatever its encoding. UTF-8
/// without a BOM is passed through as it is (the csv reader checks it).
fn utf8_reader(path: &Path, encoding: &'static Encoding) -> Result<Box<dyn BufRead>, Refusal> {
    let mut file = File::open(path).map_err(io)?;
    if encoding == UTF_8 {
        let mut bom = [0u8; 3];
        let read = file.read(&mut bom).map_err(io)?;
        if bom[..read] != [0xef, 0xbb, 0xbf] {
            use std::io::Seek;
            file.rewind().map_err(io)?;
        }
        return Ok(Box::new(BufReader::with_capacity(1 << 20, file)));
    }
    let decoder = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(encoding))
        .bom_override(true)
        .strip_bom(true)
        .build(file);
    Ok(Box::new(BufReader::with_capacity(1 << 20, decoder)))
}

/// An ASCII byte that `str::trim` removes.
fn ascii_space(byte: u8) -> bool {
    matches!(byte, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ')
}

/// A field without NULs, zero-width characters or surrounding spaces.
pub fn clean_field(field: &str) -> std::borrow::Cow<'_, str> {
    // NUL, and the first bytes of the zero-width characters in UTF-8
    // (U+200B to U+200D and U+2060 start with E2, U+FEFF with EF): a field
    // without them only needs trimming.
    let suspect = memchr::memchr3(0, 0xe2, 0xef, field.as_bytes()).is_some();
    let dirty = suspect && field.contains(decode::invisible);
    if dirty {
        std::borrow::Cow::Owned(
            field
                .chars()
                .filter(|c| !decode::invisible(*c))
                .collect::<String>()
                .trim()
                .to_owned(),
        )
    } else {
        std::borrow::Cow::Borrowed(field.trim())
    }
}

fn text(input: &Path, work: &Path, source_type: &str) -> Result<Cleaned, Refusal> {
    let head = read_head(input).map_err(io)?;
    let mut encoding = encoding_of(&head);
    // The head, decoded, judges the content (a cut last line does no harm).
    let sample = decode::decode(&head).map_err(|e| match e {
        decode::DecodeError::Empty => Refusal::Empty,
        decode::DecodeError::Binary => Refusal::Binary,
    })?;
    let facts = TextFacts {
        source_type: source_type.to_owned(),
        encoding: encoding.name().to_owned(),
        path: work.join("clean.txt"),
    };
    if dsr::looks_like_dsr(&sample.text) {
        if encoding == UTF_8 && !is_utf8(input).map_err(io)? {
            encoding = WINDOWS_1252;
        }
        let facts = TextFacts {
            encoding: encoding.name().to_owned(),
            ..facts
        };
        let mut reader = utf8_reader(input, encoding)?;
        let mut out = BufWriter::new(File::create(&facts.path).map_err(io)?);
        let mut line = String::new();
        // The clean text's first lines: its HEAD and header rows.
        let mut beginning = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).map_err(io)? == 0 {
                break;
            }
            let body = clean_field(line.trim_end_matches(['\r', '\n']));
            writeln!(out, "{body}").map_err(io)?;
            if beginning.len() < HEAD_BYTES {
                beginning.push_str(&body);
                beginning.push('\n');
            }
        }
        out.flush().map_err(io)?;
        return Ok(Cleaned::Dsr(Dsr {
            facts,
            message: dsr::message_of(&beginning).ok(),
        }));
    }
    let layout = sniff::sniff(&sample.text).map_err(|e| match e {
        sniff::SniffError::NoTable => Refusal::NotAReport,
        sniff::SniffError::HeaderOnly => Refusal::HeaderOnly,
    })?;
    // Clean UTF-8 text (no BOM, no cell to change) is its own clean copy:
    // it is checked line by line, and the importer reads it as it is.
    // Only the upload itself can stand as its clean copy (not a file
    // inflated from it).
    if source_type == "text" && encoding == UTF_8 && !head.starts_with(&[0xef, 0xbb, 0xbf]) {
        let checked = match plain_table_of(input, &layout) {
            Err(Refusal::NotPlain) => table_of(input, encoding, &layout, None),
            other => other,
        };
        match checked {
            Ok(checked) if !checked.dirty => {
                return Ok(Cleaned::Table(Table {
                    facts: TextFacts {
                        path: input.to_owned(),
                        ..facts
                    },
                    delimiter: layout.delimiter.to_string(),
                    header: checked.header,
                    preamble: layout.preamble,
                    rows: checked.rows,
                    trailing_lines: checked.trailing,
                    sheet: None,
                    skip_lines: layout.header_line,
                    as_uploaded: true,
                    data_end: checked.data_end,
                }));
            }
            Ok(_) => {}
            Err(Refusal::NotUtf8) => encoding = WINDOWS_1252,
            Err(refusal) => return Err(refusal),
        }
    }
    let path = work.join("clean.csv");
    let table = match table_of(input, encoding, &layout, Some(&path)) {
        Err(Refusal::NotUtf8) => {
            encoding = WINDOWS_1252;
            table_of(input, encoding, &layout, Some(&path))?
        }
        other => other?,
    };
    let facts = TextFacts {
        encoding: encoding.name().to_owned(),
        ..facts
    };
    Ok(Cleaned::Table(Table {
        facts: TextFacts { path, ..facts },
        delimiter: layout.delimiter.to_string(),
        header: table.header,
        preamble: layout.preamble,
        rows: table.rows,
        trailing_lines: table.trailing,
        sheet: None,
        skip_lines: 0,
        as_uploaded: false,
        data_end: None,
    }))
}

/// Reads the table after the preamble and writes it as clean CSV.
fn table_of(
    input: &Path,
    encoding: &'static Encoding,
    layout: &sniff::Layout,
    path: Option<&Path>,
) -> Result<Written, Refusal> {
    let mut reader = utf8_reader(input, encoding)?;
    let mut skipped = Vec::new();
    let mut offset = 0u64;
    for _ in 0..layout.header_line {
        skipped.clear();
        offset += reader.read_until(b'\n', &mut skipped).map_err(io)? as u64;
    }
    let delimiter = u8::try_from(layout.delimiter).unwrap_or(b',');
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Seen::default()));
    let mut records = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(Recording {
            inner: reader,
            seen: std::rc::Rc::clone(&seen),
        });
    let preamble_lines = layout.header_line as u64;
    let mut written = write_table(
        |record| {
            let before = records.position().byte();
            let before_line = records.position().line();
            let more = records.read_record(record).map_err(|e| match e.kind() {
                csv::ErrorKind::Utf8 { .. } => Refusal::NotUtf8,
                _ => Refusal::Corrupt(format!("The file cannot be read as a table: {e}.")),
            })?;
            if !more {
                return Ok(None);
            }
            let after = records.position().byte();
            let mut seen = seen.borrow_mut();
            let (lead, line_start) = seen.lead(before, after);
            seen.forget_before(after);
            Ok(Some(Place {
                after_blank_lines: lead.blank_lines,
                start: offset + line_start,
                line: preamble_lines + before_line + lead.line_ends,
            }))
        },
        path,
    )?;
    written.data_end = written.data_end.filter(|_| path.is_none());
    Ok(written)
}

/// Bytes of whole lines checked at a time by [`plain_table_of`].
const CHUNK: usize = 1 << 20;

/// Checks a UTF-8 table without quotes: the same records and verdicts as
/// [`table_of`] reads, at a fraction of the cost. Whole blocks of lines
/// are checked at once for quotes, lone CRs and UTF-8; each line is split
/// at its delimiters, and only a cell's first and last characters are
/// looked at, unless the line holds a NUL or a zero-width character.
/// Quotes or a lone CR refuse it with [`Refusal::NotPlain`].
///
/// The blocks are read on one thread and their lines looked at on every
/// core ([`chunk_facts`]); what the table makes of them, record after
/// record, is judged in the file's order ([`TableCheck`]), so the first
/// fault in the file is the one reported.
fn plain_table_of(input: &Path, layout: &sniff::Layout) -> Result<Written, Refusal> {
    plain_table_in_chunks(input, layout, CHUNK)
}

fn plain_table_in_chunks(
    input: &Path,
    layout: &sniff::Layout,
    chunk_size: usize,
) -> Result<Written, Refusal> {
    let mut lines = PlainLines {
        file: File::open(input).map_err(io)?,
        buffer: vec![0; 1 << 16],
        at: 0,
        filled: 0,
        offset: 0,
        eof: false,
        number: 0,
    };
    for _ in 0..layout.header_line {
        if lines.next_line()?.is_none() {
            break;
        }
    }
    let delimiter = u8::try_from(layout.delimiter).unwrap_or(b',');
    let mut judge = Judge::after(lines.number);
    let mut chunks = Chunks::after(lines, chunk_size);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let spares = Spares::new(workers * 2 + 2);
    in_file_order(
        vec![(); workers],
        || chunks.next(spares.take().unwrap_or_default()),
        |(), mut chunk| {
            chunk.facts.clear();
            chunk.names = chunk_facts(&chunk.bytes, chunk.offset, delimiter, &mut chunk.facts)?;
            Ok(chunk)
        },
        |mut chunk| {
            judge.take(&mut chunk)?;
            spares.give(chunk);
            Ok(())
        },
    )?;
    judge.check.finish()
}

/// Judges the checked chunks' lines, in the file's order: what the table
/// makes of them, record after record. Stops at the first fault.
struct Judge {
    check: TableCheck,
    /// The line before the next chunk's first.
    number: u64,
    /// Where the lines since the last record began, blank ones included.
    start: Option<u64>,
    blank_lines: bool,
}

impl Judge {
    /// `number`: the line before the first chunk's.
    fn after(number: u64) -> Judge {
        Judge {
            check: TableCheck::default(),
            number,
            start: None,
            blank_lines: false,
        }
    }

    fn take(&mut self, chunk: &mut Chunk) -> Result<(), Refusal> {
        let mut names = chunk.names.take();
        for fact in chunk.facts.drain(..) {
            self.number += 1;
            match fact {
                Fact::Blank { start: line_start } => {
                    self.blank_lines = true;
                    self.start.get_or_insert(line_start);
                }
                Fact::Line {
                    start: line_start,
                    len,
                    cells,
                    hides_text,
                } => {
                    let place = Place {
                        after_blank_lines: std::mem::take(&mut self.blank_lines),
                        start: self.start.take().unwrap_or(line_start),
                        line: self.number,
                    };
                    let names = || names.take().unwrap_or_default();
                    self.check.take(&place, len, &cells, names, || hides_text)?;
                }
            }
        }
        Ok(())
    }
}

/// A block of whole lines, and what its check found.
#[derive(Default)]
struct Chunk {
    /// The file offset of its first byte.
    offset: u64,
    bytes: Vec<u8>,
    facts: Vec<Fact>,
    /// The cleaned cells of its first line with a filled cell (the header,
    /// when the chunk holds it).
    names: Option<Vec<String>>,
}

/// What the table check needs of one line, found apart from the others.
enum Fact {
    /// An empty line, at its offset.
    Blank { start: u64 },
    Line {
        start: u64,
        len: usize,
        cells: Cells,
        /// A record blank once cleaned held something but spaces before.
        hides_text: bool,
    },
}

/// Looks at a chunk's lines on their own: its refusal (quotes, a lone
/// CR, bytes that are not UTF-8), or each line's [`Fact`] and the cleaned
/// cells of its first line with a filled cell.
fn chunk_facts(
    chunk: &[u8],
    offset: u64,
    delimiter: u8,
    facts: &mut Vec<Fact>,
) -> Result<Option<Vec<String>>, Refusal> {
    if memchr::memchr(b'"', chunk).is_some()
        || memchr::memchr_iter(b'\r', chunk)
            .any(|at| at + 1 < chunk.len() && chunk[at + 1] != b'\n')
    {
        return Err(Refusal::NotPlain);
    }
    let text = std::str::from_utf8(chunk).map_err(|_| Refusal::NotUtf8)?;
    // NULs and the first bytes of zero-width characters (see
    // `clean_field`): lines holding one are cleaned cell by cell.
    let mut suspects = memchr::memchr3_iter(0, 0xe2, 0xef, chunk).peekable();
    let mut scanner = sniff::Scanner::lines(chunk, delimiter);
    let mut record = csv::StringRecord::new();
    // Where each cell of a line starts and ends.
    let mut cells: Vec<(usize, usize)> = Vec::new();
    let mut names = None;
    let mut at = 0usize;
    while at < text.len() {
        let from = at;
        let (end, next) = scanner.line(at, &mut cells);
        let line_start = offset + at as u64;
        let line = &text[at..end];
        at = next;
        if line.is_empty() {
            facts.push(Fact::Blank { start: line_start });
            continue;
        }
        while suspects.next_if(|s| *s < from).is_some() {}
        let suspect = suspects.peek().is_some_and(|s| *s < end);
        let fields = || cells.iter().map(|&(a, b)| &line[a..b]);
        let (len, edges, hides_text) = if suspect {
            record.clear();
            for field in fields() {
                record.push_field(field);
            }
            let edges = Cells::of(&record);
            if names.is_none() && edges.last_filled.is_some() {
                names = Some(record.iter().map(|f| clean_field(f).into_owned()).collect());
            }
            let hides_text = record.iter().any(|f| !f.trim().is_empty());
            (record.len(), edges, hides_text)
        } else {
            let (len, edges) = Cells::of_plain(fields());
            if names.is_none() && edges.last_filled.is_some() {
                names = Some(fields().map(|f| f.trim().to_owned()).collect());
            }
            // Nothing but spaces in any cell: nothing hidden.
            (len, edges, false)
        };
        facts.push(Fact::Line {
            start: line_start,
            len,
            cells: edges,
            hides_text,
        });
    }
    Ok(names)
}

/// A file's lines after its preamble, in chunks of whole lines.
struct Chunks {
    file: File,
    /// What was read past the last chunk's last line end.
    carry: Vec<u8>,
    /// The file offset of `carry`'s first byte.
    offset: u64,
    eof: bool,
    size: usize,
}

impl Chunks {
    /// The lines after those `lines` returned.
    fn after(lines: PlainLines, size: usize) -> Chunks {
        Chunks {
            carry: lines.buffer[lines.at..lines.filled].to_vec(),
            offset: lines.offset + lines.at as u64,
            eof: lines.eof,
            file: lines.file,
            size: size.max(1),
        }
    }

    /// The next chunk (the last without its LF at the end of the file),
    /// filled into `spare`, or `None` at the end.
    fn next(&mut self, mut spare: Chunk) -> Result<Option<Chunk>, Refusal> {
        let bytes = &mut spare.bytes;
        bytes.clear();
        bytes.append(&mut self.carry);
        loop {
            if self.eof {
                if bytes.is_empty() {
                    return Ok(None);
                }
                break;
            }
            let room = self.size.max(bytes.len() / 2 + 1);
            bytes.reserve(room);
            let read = (&mut self.file)
                .take(room as u64)
                .read_to_end(bytes)
                .map_err(io)?;
            self.eof = read < room;
            if self.eof {
                continue;
            }
            if let Some(last) = memchr::memrchr(b'\n', bytes) {
                self.carry.extend_from_slice(&bytes[last + 1..]);
                bytes.truncate(last + 1);
                break;
            }
            // A line longer than the chunk: read on.
        }
        spare.offset = self.offset;
        self.offset += spare.bytes.len() as u64;
        Ok(Some(spare))
    }
}

/// A line of [`PlainLines`]: its offset in the file, its number (from 1)
/// and its bytes without the LF.
type PlainLine<'a> = (u64, u64, &'a [u8]);

/// A file's lines, read in large blocks.
struct PlainLines {
    file: File,
    buffer: Vec<u8>,
    at: usize,
    filled: usize,
    /// The file offset of `buffer[0]`.
    offset: u64,
    eof: bool,
    /// The number of the last line returned (the first is 1).
    number: u64,
}

impl PlainLines {
    /// The next line (without its LF), with its offset in the file and its
    /// number.
    fn next_line(&mut self) -> Result<Option<PlainLine<'_>>, Refusal> {
        loop {
            if let Some(end) = memchr::memchr(b'\n', &self.buffer[self.at..self.filled]) {
                self.number += 1;
                let start = self.at;
                self.at += end + 1;
                let offset = self.offset + start as u64;
                return Ok(Some((
                    offset,
                    self.number,
                    &self.buffer[start..start + end],
                )));
            }
            if self.eof {
                if self.at == self.filled {
                    return Ok(None);
                }
                self.number += 1;
                let start = self.at;
                self.at = self.filled;
                let offset = self.offset + start as u64;
                return Ok(Some((
                    offset,
                    self.number,
                    &self.buffer[start..self.filled],
                )));
            }
            self.fill()?;
        }
    }

    /// Moves the unfinished line to the front and reads on.
    fn fill(&mut self) -> Result<(), Refusal> {
        self.buffer.copy_within(self.at..self.filled, 0);
        self.offset += self.at as u64;
        self.filled -= self.at;
        self.at = 0;
        if self.filled == self.buffer.len() {
            let grown = self.buffer.len() * 2;
            self.buffer.resize(grown, 0);
        }
        let read = self
            .file
            .read(&mut self.buffer[self.filled..])
            .map_err(io)?;
        self.filled += read;
        self.eof = read == 0;
        Ok(())
    }
}

/// Bytes a reader passed on, from `start` on in its stream.
#[derive(Default)]
struct Seen {
    start: u64,
    bytes: Vec<u8>,
}

impl Seen {
    /// What came before the record read from `before` to `after`, and
    /// where the line after the record before starts (past the LF of its
    /// CR LF).
    fn lead(&self, before: u64, after: u64) -> (sniff::Lead, u64) {
        let at = |offset: u64| usize::try_from(offset.saturating_sub(self.start)).unwrap_or(0);
        let (from, to) = (at(before), at(after).min(self.bytes.len()));
        let after_cr = before > self.start && self.bytes.get(from - 1) == Some(&b'\r');
        let consumed = self.bytes.get(from..to).unwrap_or_default();
        let line_start = before + u64::from(after_cr && consumed.first() == Some(&b'\n'));
        (sniff::lead(consumed, after_cr), line_start)
    }

    /// Drops what lies before `offset`, but for one byte (a CR to look
    /// back at).
    fn forget_before(&mut self, offset: u64) {
        let keep_from = offset.saturating_sub(1).max(self.start);
        let drop = usize::try_from(keep_from - self.start)
            .unwrap_or(0)
            .min(self.bytes.len());
        if drop > (1 << 16) {
            self.bytes.drain(..drop);
            self.start += drop as u64;
        }
    }
}

/// Passes a reader's bytes through, keeping a copy in [`Seen`] until they
/// are looked at.
struct Recording<R> {
    inner: R,
    seen: std::rc::Rc<std::cell::RefCell<Seen>>,
}

impl<R: Read> Read for Recording<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(out)?;
        self.seen.borrow_mut().bytes.extend_from_slice(&out[..read]);
        Ok(read)
    }
}

/// Where a record was found.
pub(crate) struct Place {
    /// Blank lines came between it and the record before.
    pub after_blank_lines: bool,
    /// The offset of its first byte in the file.
    pub start: u64,
    /// The line (or a sheet's row) it starts on, counting from 1.
    pub line: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Written {
    pub header: Vec<String>,
    pub rows: u64,
    pub trailing: u64,
    /// Only when checking without writing: some cell needs cleaning.
    pub dirty: bool,
    /// Where the trailing block starts in the file, if there is one.
    pub data_end: Option<u64>,
}

/// What cleaning makes of a record's cells.
struct Cells {
    /// The last cell cleaning leaves filled, if any.
    last_filled: Option<usize>,
    /// Cleaning changes some cell (spaces, NULs, zero-width characters).
    changed: bool,
}

impl Cells {
    /// What cleaning makes of a record's cells, whatever read it.
    fn of(record: &csv::StringRecord) -> Cells {
        let bytes = record.as_byte_record().as_slice();
        if bytes.is_ascii() && !bytes.contains(&0) {
            // Plain ASCII: cleaning a cell only trims its spaces.
            return Cells::of_plain(record.iter()).1;
        }
        let mut cells = Cells {
            last_filled: None,
            changed: false,
        };
        for (i, field) in record.iter().enumerate() {
            let cleaned = clean_field(field);
            cells.changed |= cleaned.len() != field.len();
            if !cleaned.is_empty() {
                cells.last_filled = Some(i);
            }
        }
        cells
    }

    /// Cells without NULs or zero-width characters, and how many there
    /// are: only their first and last characters are looked at.
    fn of_plain<'a>(fields: impl Iterator<Item = &'a str>) -> (usize, Cells) {
        let mut cells = Cells {
            last_filled: None,
            changed: false,
        };
        let mut len = 0;
        for (i, field) in fields.enumerate() {
            let (filled, trimmed) = edges(field);
            cells.changed |= trimmed;
            if filled {
                cells.last_filled = Some(i);
            }
            len = i + 1;
        }
        (len, cells)
    }
}

/// Whether trimming leaves `field` filled, and whether it trims anything:
/// all cleaning does to a cell without NULs or zero-width characters.
fn edges(field: &str) -> (bool, bool) {
    let bytes = field.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return (false, false);
    };
    let space_first = match first.is_ascii() {
        true => ascii_space(first),
        false => field.chars().next().is_some_and(char::is_whitespace),
    };
    let space_last = match last.is_ascii() {
        true => ascii_space(last),
        false => field.chars().next_back().is_some_and(char::is_whitespace),
    };
    let filled = !space_first || !field.trim().is_empty();
    (filled, space_first || space_last)
}

/// What a record is to the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Nothing is left of it once cleaned.
    Blank,
    Header,
    /// A data row: its cells up to the header's width are the row.
    Row {
        width: usize,
    },
    /// A line of the summary block after the table, left out.
    Trailing,
}

/// The shape of a table, judged record after record: the header is the
/// first record with a filled cell; blank records are dropped; a record
/// with more filled cells than the header is refused; after a blank line,
/// records of another shape start a trailing block (a summary), counted
/// and left out.
#[derive(Default)]
struct TableCheck {
    header: Option<Vec<String>>,
    rows: u64,
    trailing: u64,
    data_end: Option<u64>,
    /// A blank line came after the last data row.
    after_blank: bool,
    last_data_len: Option<usize>,
    /// Records taken, the header's among them.
    records: usize,
    dirty: bool,
}

impl TableCheck {
    /// Judges a record of `len` cells found at `place`. `names` gives the
    /// header's cleaned names; `hides_text` says whether a record blank
    /// once cleaned held anything but spaces before.
    fn take(
        &mut self,
        place: &Place,
        len: usize,
        cells: &Cells,
        names: impl FnOnce() -> Vec<String>,
        hides_text: impl FnOnce() -> bool,
    ) -> Result<Verdict, Refusal> {
        self.records += 1;
        let started = self.header.is_some() && self.rows > 0;
        if place.after_blank_lines {
            self.after_blank = started;
        }
        let Some(last_filled) = cells.last_filled else {
            // Blank only once NULs or zero-width characters are gone: the
            // file needs its clean copy written.
            self.dirty = self.dirty || hides_text();
            self.after_blank = started;
            return Ok(Verdict::Blank);
        };
        let Some(header) = &self.header else {
            self.header = Some(names());
            return Ok(Verdict::Header);
        };
        let width = header.len();
        let extra_filled = last_filled >= width;
        // After a blank line, rows shaped like the header or like the data
        // rows above go on the table; others start a summary block.
        let shaped = len == width || Some(len) == self.last_data_len;
        if self.trailing > 0 || (self.after_blank && (!shaped || extra_filled)) {
            if self.trailing == 0 {
                self.data_end = Some(place.start);
            }
            self.trailing += 1;
            return Ok(Verdict::Trailing);
        }
        if extra_filled {
            return Err(Refusal::Irregular(format!(
                "Data line {} has {len} cells but the header has {width}; the file may use a delimiter inside unquoted values.",
                self.records - 1,
            )));
        }
        self.dirty = self.dirty || cells.changed;
        self.rows += 1;
        self.after_blank = false;
        self.last_data_len = Some(len);
        Ok(Verdict::Row { width })
    }

    fn finish(self) -> Result<Written, Refusal> {
        let header = self.header.ok_or(Refusal::Empty)?;
        if self.rows == 0 {
            return Err(Refusal::HeaderOnly);
        }
        Ok(Written {
            header,
            rows: self.rows,
            trailing: self.trailing,
            dirty: self.dirty,
            data_end: self.data_end,
        })
    }
}

/// Writes records (the header first) as clean CSV; `next` fills in the
/// next record and says where it was, or `None` at the end. Records are
/// judged by [`TableCheck`]; with no `path`, they are only checked.
pub(crate) fn write_table<F>(mut next: F, path: Option<&Path>) -> Result<Written, Refusal>
where
    F: FnMut(&mut csv::StringRecord) -> Result<Option<Place>, Refusal>,
{
    let mut out = match path {
        Some(path) => Some(csv::WriterBuilder::new().flexible(false).from_writer(
            BufWriter::with_capacity(1 << 20, File::create(path).map_err(io)?),
        )),
        None => None,
    };
    let mut check = TableCheck::default();
    let mut record = csv::StringRecord::new();
    while let Some(place) = next(&mut record)? {
        let cells = Cells::of(&record);
        let verdict = check.take(
            &place,
            record.len(),
            &cells,
            || record.iter().map(|f| clean_field(f).into_owned()).collect(),
            || record.iter().any(|f| !f.trim().is_empty()),
        )?;
        let Some(out) = out.as_mut() else {
            continue;
        };
        match verdict {
            Verdict::Header => {
                // First, the line each row came from, for the importer's
                // messages and the lines' `line` column.
                out.write_field(sniff::SOURCE_LINE)
                    .map_err(|e| io(e.into()))?;
                let names = check.header.as_deref().unwrap_or_default();
                out.write_record(names).map_err(|e| io(e.into()))?;
            }
            Verdict::Row { width } => {
                out.write_field(place.line.to_string())
                    .map_err(|e| io(e.into()))?;
                let missing = width.saturating_sub(record.len());
                for field in record.iter().take(width) {
                    out.write_field(clean_field(field).as_bytes())
                        .map_err(|e| io(e.into()))?;
                }
                for _ in 0..missing {
                    out.write_field(b"").map_err(|e| io(e.into()))?;
                }
                out.write_record(std::iter::empty::<&[u8]>())
                    .map_err(|e| io(e.into()))?;
            }
            Verdict::Blank | Verdict::Trailing => {}
        }
    }
    if let Some(out) = out.as_mut() {
        out.flush().map_err(io)?;
    }
    check.finish()
}

/// Expands a ZIP archive's members into `work/members`, within the limits.
fn archive(input: &Path, work: &Path, limits: &Limits) -> Result<Archive, Refusal> {
    let file = File::open(input).map_err(io)?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| Refusal::Corrupt(format!("The ZIP archive is damaged: {e}.")))?;
    if zip.len() > limits.max_members * 4 {
        return Err(Refusal::TooLarge(format!(
            "The archive holds {} entries; at most {} are read.",
            zip.len(),
            limits.max_members
        )));
    }
    let folder = work.join("members");
    std::fs::create_dir_all(&folder).map_err(io)?;
    let (mut members, mut skipped) = (Vec::new(), Vec::new());
    let mut expanded = 0u64;
    for index in 0..zip.len() {
        let mut entry = zip
            .by_index(index)
            .map_err(|e| Refusal::Corrupt(format!("The ZIP archive is damaged: {e}.")))?;
        let raw_name = entry
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("entry {index}"));
        if entry.is_dir() {
            continue;
        }
        let Some(safe) = entry.enclosed_name() else {
            skipped.push(Skipped {
                name: raw_name,
                reason: "its path leads outside the archive".into(),
            });
            continue;
        };
        let base = safe
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if base.starts_with('.') || raw_name.starts_with("__MACOSX/") {
            skipped.push(Skipped {
                name: raw_name,
                reason: "system file".into(),
            });
            continue;
        }
        if entry.encrypted() {
            skipped.push(Skipped {
                name: raw_name,
                reason: "encrypted".into(),
            });
            continue;
        }
        let lower = base.to_ascii_lowercase();
        if [".zip", ".pdf", ".png", ".jpg", ".jpeg", ".doc", ".docx"]
            .iter()
            .any(|ext| lower.ends_with(ext))
        {
            skipped.push(Skipped {
                name: raw_name,
                reason: "not a sales report type (nested archives are not expanded)".into(),
            });
            continue;
        }
        if members.len() == limits.max_members {
            return Err(Refusal::TooLarge(format!(
                "The archive holds more than {} files.",
                limits.max_members
            )));
        }
        let declared = entry.size();
        let compressed = entry.compressed_size().max(1);
        if declared / compressed > limits.max_ratio {
            return Err(Refusal::TooLarge(format!(
                "{raw_name} expands {}-fold; more than {} looks like an archive bomb.",
                declared / compressed,
                limits.max_ratio
            )));
        }
        let budget = limits.max_expanded_bytes.saturating_sub(expanded);
        let path = folder.join(format!("{}", members.len()));
        let mut out = BufWriter::new(File::create(&path).map_err(io)?);
        let written = std::io::copy(&mut (&mut entry).take(budget + 1), &mut out)
            .map_err(|e| Refusal::Corrupt(format!("{raw_name} in the archive is damaged: {e}.")))?;
        out.flush().map_err(io)?;
        expanded += written;
        if written > budget {
            return Err(Refusal::TooLarge(format!(
                "The archive expands to more than {} bytes.",
                limits.max_expanded_bytes
            )));
        }
        if written / compressed > limits.max_ratio {
            return Err(Refusal::TooLarge(format!(
                "{raw_name} expands more than {}-fold; that looks like an archive bomb.",
                limits.max_ratio
            )));
        }
        members.push(Member {
            name: base,
            size: written,
            path,
        });
    }
    if members.is_empty() {
        return Err(Refusal::Empty);
    }
    Ok(Archive { members, skipped })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout of a table under `header_line` preamble lines.
    fn layout(delimiter: char, header_line: usize) -> sniff::Layout {
        sniff::Layout {
            delimiter,
            header_line,
            header: vec![],
            preamble: vec![],
        }
    }

    /// Lines a report may hold, quotes aside.
    const PIECES: [&str; 17] = [
        "1\tx\t2.5",
        "9\t\u{a0}é\t1",
        "10\tà\u{3000}\t1",
        "\u{feff}\t\t",
        "11\tx\0\t2",
        "12\tÿ \t\u{2003}",
        "2\ty\t0.25",
        "3\tz",
        "4\tw\t1\t\t",
        "5\tv\t1\textra",
        "",
        "   ",
        "Total\t9",
        "6\t u \t1",
        "7\t\u{200b}\t1",
        "\t\t",
        "8\tÿ\t3",
    ];

    #[test]
    fn the_plain_check_reads_every_table_as_the_csv_reader_does() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("report.txt");
        let mut seed = 7u64;
        let mut random = |below: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % below
        };
        for case in 0..400 {
            let crlf = case % 3 == 0;
            let end = if crlf { "\r\n" } else { "\n" };
            let mut text = String::from("Period\t2024-01");
            text.push_str(end);
            text.push_str("id\tname\tamount");
            for _ in 0..random(12) {
                text.push_str(end);
                text.push_str(PIECES[random(PIECES.len())]);
            }
            if random(2) == 0 {
                text.push_str(end);
            }
            std::fs::write(&path, &text).unwrap();
            let layout = layout('\t', 1);
            let csv = table_of(&path, UTF_8, &layout, None);
            // Checked whole, and in chunks of a few lines or of one.
            for chunk in [CHUNK, 16, 1] {
                let plain = plain_table_in_chunks(&path, &layout, chunk);
                assert_eq!(plain, csv, "case {case}, chunks of {chunk}: {text:?}");
            }
        }
    }

    #[test]
    fn the_plain_check_reads_a_table_larger_than_its_buffer_as_the_csv_reader_does() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("report.txt");
        let layout = layout('\t', 1);
        let mut text = String::from("Period\t2024-01\r\nid\tname\tamount\r\n");
        let mut n = 0;
        while text.len() < 3 << 20 {
            n += 1;
            let piece = PIECES[n % PIECES.len()];
            // No summary block: blank lines only between rows of the shape.
            if piece.split('\t').count() == 3 && !piece.trim().is_empty() {
                text.push_str(piece);
                text.push_str(if n % 2 == 0 { "\r\n" } else { "\n" });
            }
        }
        text.push_str("Total\t9\n");
        std::fs::write(&path, &text).unwrap();
        let plain = plain_table_of(&path, &layout).unwrap();
        assert_eq!(Ok(&plain), table_of(&path, UTF_8, &layout, None).as_ref());
        // Blocks of a few hundred lines, checked on every core.
        let chunked = plain_table_in_chunks(&path, &layout, 4096).unwrap();
        assert_eq!(chunked, plain);
        assert!(plain.rows > 20_000, "{} rows", plain.rows);
        assert!(plain.dirty, "cells to trim");
    }

    /// What a refusal must be.
    type Expected = fn(&Refusal) -> bool;

    #[test]
    fn the_first_fault_in_the_file_is_the_one_reported_whatever_the_chunks() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("report.txt");
        let layout = layout(',', 0);
        let rows = |n: usize| "1,x\n".repeat(n);
        let irregular = "2,y,extra\n";
        let cases: [(Vec<u8>, Expected); 3] = [
            // A row wider than the header, then quotes further on.
            (
                format!("a,b\n{}{irregular}{}3,\"q\"\n", rows(50), rows(500)).into_bytes(),
                |r| matches!(r, Refusal::Irregular(m) if m.contains("Data line 51 ")),
            ),
            // Quotes first, then a row wider than the header.
            (
                format!("a,b\n{}3,\"q\"\n{}{irregular}", rows(50), rows(500)).into_bytes(),
                |r| *r == Refusal::NotPlain,
            ),
            // A row wider than the header, then bytes that are not UTF-8.
            (
                [
                    format!("a,b\n{}{irregular}{}", rows(50), rows(500)).as_bytes(),
                    b"4,\xff\n",
                ]
                .concat(),
                |r| matches!(r, Refusal::Irregular(_)),
            ),
        ];
        for (text, expected) in cases {
            std::fs::write(&path, &text).unwrap();
            // Chunks far smaller than the file (a chunk is refused whole
            // for quotes or bytes that are not UTF-8 before its lines are
            // judged, as reading it on one thread did).
            for chunk in [512, 64, 5] {
                let refusal = plain_table_in_chunks(&path, &layout, chunk).unwrap_err();
                assert!(expected(&refusal), "chunks of {chunk}: {refusal:?}");
            }
        }
    }

    #[test]
    fn the_ascii_spaces_are_those_that_trimming_removes() {
        for byte in 0u8..128 {
            assert_eq!(
                ascii_space(byte),
                char::from(byte).is_whitespace(),
                "byte {byte:#04x}"
            );
        }
    }

    #[test]
    fn quotes_and_lone_carriage_returns_are_left_to_the_csv_reader() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("report.txt");
        let layout = layout(',', 0);
        for text in ["a,b\n1,\"x\"\n", "a,b\r1,2\r"] {
            std::fs::write(&path, text).unwrap();
            assert_eq!(plain_table_of(&path, &layout), Err(Refusal::NotPlain));
        }
    }
}
