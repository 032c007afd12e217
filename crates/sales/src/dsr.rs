//! DDEX DSR flat files: the usage and sales reports that YouTube and other
//! services deliver under the DDEX Digital Sales Reporting standard.
//!
//! A file is tab-separated text, one record per line, the first cell naming
//! the record type:
//!
//! - `HEAD` describes the message: MessageId, FileNumber of NumberOfFiles
//!   (one message may span several files), usage period, sender.
//! - `SY..` summary records: territory, commercial model, use type, currency
//!   and the service's NetRevenue, each under a SummaryRecordId.
//! - Blocks, one per resource, their records sharing a BlockId: `RE..` the
//!   release (ICPN, i.e. UPC/EAN), `AS..` the sound recording (ISRC, title,
//!   artist), `MW..` the musical work, `SU..` and `RU..` usage naming the
//!   SummaryRecordId they report under, `LI..` licensing allocations.
//! - `FOOT` closes the file with its counts of lines, summary records and
//!   blocks: a checksum, verified here.
//!
//! Lines starting with `#` are header rows naming the columns of a record
//! type (`#SY02.01`, then `SummaryRecordId`, `DistributionChannel`, ...).
//! They may come after `HEAD`; columns are found by these names, and by the
//! standard's positions only for a record type that has no header row. A
//! `|` separates several values in one cell; a backslash makes a following
//! `|`, tab or backslash part of the value (`Get \| Right` is one title).
//!
//! [`parse`] reads one file, [`combine`] joins the files of one message.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashSet};

use crate::ids;
use crate::numbers::{self, DecimalStyle};

/// One usage line of a DSR file, from an `SU` or `RU` record.
///
/// It carries what its summary record, its block and `HEAD` say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsrLine {
    /// The number of the message's file the record is in (`HEAD`
    /// FileNumber).
    pub file_number: u32,
    /// 1-based line of the record in its file.
    pub line_number: usize,
    /// Territory of the summary record (as given, e.g. `IS`), else of `HEAD`.
    pub territory: Option<String>,
    /// The sending service, `HEAD` SenderName (e.g. `YouTube`).
    pub dsp: Option<String>,
    /// Summary record ServiceDescription, else its CommercialModel.
    pub service: Option<String>,
    /// Summary record UseType (e.g. `Stream`).
    pub use_type: Option<String>,
    /// ISRC of the block's sound recording, normalised.
    pub isrc: Option<String>,
    pub title: Option<String>,
    pub artist: Option<String>,
    /// UPC/EAN (ICPN) of the block's release, normalised.
    pub upc: Option<String>,
    pub release_title: Option<String>,
    /// Usages (or NumberOfStreams); an `RU` record's usages per UGC video
    /// are added up.
    pub quantity: i64,
    /// Canonical decimal text: the line's own NetRevenue, or its share of
    /// its summary record's NetRevenue (see [`parse`]).
    pub revenue: String,
    /// Summary record Currency.
    pub currency: Option<String>,
    /// ValidityPeriodStart as `YYYY-MM-DD`, else `HEAD` UsageStartDate.
    pub start: Option<String>,
    /// ValidityPeriodEnd as `YYYY-MM-DD`, else `HEAD` UsageEndDate.
    pub end: Option<String>,
}

/// One file of a DSR message, read and checked ([`read`]); its lines get
/// their share of the summary records' revenue once the message is
/// [`combine`]d.
#[derive(Debug, Clone)]
pub struct DsrFile {
    head: Head,
    summaries: Vec<Summary>,
    pending: Vec<Pending>,
    lines_in_file: usize,
    /// The BlockIds of the file's blocks.
    blocks: Vec<String>,
    /// `FOOT` NumberOfLinesInReport, where given.
    lines_in_report: Option<u64>,
    /// `FOOT` NumberOfBlocksInReport, where given.
    blocks_in_report: Option<u64>,
}

impl DsrFile {
    pub fn message_id(&self) -> &str {
        &self.head.message_id
    }

    pub fn file_number(&self) -> u32 {
        self.head.file_number
    }

    pub fn number_of_files(&self) -> u32 {
        self.head.number_of_files
    }
}

/// A whole DSR message: one file, or several [`combine`]d.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsrReport {
    pub message_id: String,
    pub file_number: u32,
    pub number_of_files: u32,
    /// `YYYY-MM-DD`.
    pub usage_start: Option<String>,
    /// `YYYY-MM-DD`.
    pub usage_end: Option<String>,
    /// `HEAD` SenderName.
    pub sender: Option<String>,
    /// The currency of the summary records when they all share one.
    pub currency: Option<String>,
    pub lines: Vec<DsrLine>,
    /// How many `SY` summary records the file has.
    pub summary_records: usize,
}

/// Why a DSR file or message cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DsrError {
    #[error("The file is empty: it has no DSR records.")]
    Empty,
    #[error(
        "The DSR file has no HEAD record: line {line} is a {found:?} record where HEAD is expected."
    )]
    NoHead { line: usize, found: String },
    #[error("The DSR HEAD record is malformed: {0}.")]
    HeadMalformed(String),
    #[error("Line {line} is a second HEAD record; a DSR file has only one.")]
    SecondHead { line: usize },
    #[error("The DSR file has no FOOT record.")]
    NoFoot,
    #[error("Line {line} comes after the FOOT record, which must end the DSR file.")]
    AfterFoot { line: usize },
    #[error("The DSR FOOT record is malformed: {0}.")]
    FootMalformed(String),
    #[error("The DSR footer counts {declared} lines but the file has {actual}.")]
    LineCount { declared: u64, actual: usize },
    #[error("The DSR footer counts {declared} summary records but the file has {actual}.")]
    SummaryCount { declared: u64, actual: usize },
    #[error("The DSR footer counts {declared} blocks but the file has {actual}.")]
    BlockCount { declared: u64, actual: usize },
    #[error("Line {line}: the {column} {value:?} is not {expected}.")]
    BadValue {
        line: usize,
        column: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("Line {line} has no {column}.")]
    MissingValue { line: usize, column: &'static str },
    #[error("Line {line} refers to summary record {id}, which the file does not define.")]
    UnknownSummary { line: usize, id: String },
    #[error(
        "{place} carries no revenue and refers to summary record {id}, which the file defines more than once, so it is unclear whose revenue to share out."
    )]
    AmbiguousSummary { place: Place, id: String },
    #[error("{place} carries no revenue and names no summary record to take it from.")]
    NoSummary { place: Place },
    #[error(
        "The summary record on line {line} has a revenue of {amount}, with more than 12 decimal places: it cannot be shared out exactly."
    )]
    TooPrecise { line: usize, amount: String },
    #[error(
        "The revenue of {amount} of the summary record on line {line} cannot be shared out: {reason}."
    )]
    CannotAllocate {
        line: usize,
        amount: String,
        reason: &'static str,
    },
    #[error("No DSR files were given to combine.")]
    NothingToCombine,
    #[error("File {file_number} belongs to DSR message {found}, not {expected}.")]
    OtherMessage {
        file_number: u32,
        expected: String,
        found: String,
    },
    #[error(
        "File {file_number} says the DSR message has {found} files, but file {first} says {expected}."
    )]
    FileCountDiffers {
        file_number: u32,
        found: u32,
        first: u32,
        expected: u32,
    },
    #[error("File {file_number} of this DSR message was given twice.")]
    DuplicateFile { file_number: u32 },
    #[error("File {file_number} of {number_of_files} is missing from this DSR message.")]
    MissingFile {
        file_number: u32,
        number_of_files: u32,
    },
    #[error(
        "Block {block} is in file {first} and again in file {file_number} of this DSR message; a block lies in one file of a message."
    )]
    BlockRepeated {
        block: String,
        first: u32,
        file_number: u32,
    },
    #[error(
        "File {file_number} of this DSR message carries other summary records than file 1; the files of a message carry the same ones."
    )]
    SummariesDiffer { file_number: u32 },
    #[error(
        "The DSR footer of file {file_number} counts {declared} lines in the whole report, but its files have {actual}."
    )]
    ReportLineCount {
        file_number: u32,
        declared: u64,
        actual: usize,
    },
    #[error(
        "The DSR footer of file {file_number} counts {declared} blocks in the whole report, but its files have {actual}."
    )]
    ReportBlockCount {
        file_number: u32,
        declared: u64,
        actual: usize,
    },
}

/// Where a usage record is: its line, and its file when the message has
/// several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub line: usize,
    pub file: Option<u32>,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.file {
            Some(file) => write!(f, "Line {} of file {file}", self.line),
            None => write!(f, "Line {}", self.line),
        }
    }
}

/// Whether `text` is a DSR flat file: its first non-empty line starts with
/// a `HEAD` record or with the `#HEAD` header row.
pub fn looks_like_dsr(text: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines()
        .find(|line| !line.trim().is_empty())
        .and_then(|line| line.split('\t').next())
        .is_some_and(|cell| matches!(cell.trim(), "HEAD" | "#HEAD"))
}

/// Reads one DSR file.
///
/// Checked before anything else: the file starts with a `HEAD` carrying a
/// MessageId, a FileNumber and a NumberOfFiles; it ends with a `FOOT` whose
/// NumberOfLinesInFile counts every line of the file (`HEAD`, the `#` header
/// rows, the records and `FOOT` itself: 35 in the YouTube test file, which
/// has 27 records), and whose NumberOfSummaryRecords and
/// NumberOfBlocksInFile, where given, match the `SY` records and the
/// distinct BlockIds.
///
/// Lines: every `SU` record, and the `RU` records of blocks that have no
/// `SU` record. An `RU01` record summarises the UGC videos a resource was
/// used in (up to 100 video ids with their usages), so where its block also
/// has `SU` records it repeats their usage, as in the YouTube files (RU
/// usages 7100, 1704 and 433 beside SU usages 7810, 2045 and 355); it is a
/// line of its own only where it is the block's only usage record.
///
/// Revenue: a line with its own NetRevenue keeps it. Lines without one get
/// their summary record's NetRevenue shared out in proportion to their
/// usages, exactly: at 12 decimal places each gets the floor of its share
/// and the units left over go one each to the largest remainders (earlier
/// line first on ties), so the shares add up to the summary record's amount.
/// A summary record without NetRevenue gives them `0`.
///
/// The source amount of a file, which its lines' revenue adds up to, is
/// therefore: the NetRevenue of every usage record that carries one, plus
/// the NetRevenue of each summary record that has lines without revenue of
/// their own. A summary record whose lines all carry their own revenue adds
/// nothing: its NetRevenue is the service's revenue for the territory and
/// model that the lines were computed from, not money on top of them (the
/// YouTube files: lines 7.0 USD, summary records 15763.58 USD). `LI`
/// allocations to rights controllers are not lines either.
pub fn parse(text: &str) -> Result<DsrReport, DsrError> {
    combine(vec![read(text)?])
}

/// Reads and checks one file of a message: its `HEAD`, its `FOOT` counts,
/// its summary records and usage lines. Its summary records' revenue is
/// shared out only once the whole message is [`combine`]d: every file of a
/// message carries the same summary records, which cover the lines of all
/// its files.
pub fn read(text: &str) -> Result<DsrFile, DsrError> {
    read_with(text, true)
}

/// Which file of which message a DSR file is, read from its beginning
/// alone: its `HEAD` and the `#` header rows before its first other record.
pub fn message_of(text: &str) -> Result<MessagePart, DsrError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut layouts = Layouts::default();
    let mut head = None;
    for (index, line) in text.lines().enumerate() {
        let Some(record) = layouts.read(index, line) else {
            continue;
        };
        if record.kind != "HEAD" {
            if head.is_none() {
                return Err(DsrError::NoHead {
                    line: record.line,
                    found: record.kind,
                });
            }
            break;
        }
        head.get_or_insert(record);
    }
    let head = read_head(&layouts, &head.ok_or(DsrError::Empty)?)?;
    Ok(MessagePart {
        sender: head.sender_id.or(head.sender).unwrap_or_default(),
        message_id: head.message_id,
        file_number: head.file_number,
        number_of_files: head.number_of_files,
    })
}

/// Files a message may have: more is taken for a malformed `HEAD`.
pub const MAX_FILES: u32 = 999;

/// A file's place in its DSR message: the uploads module reports it as read here.
pub use oas_domain::job::contract::uploads::MessagePart;

/// Joins the files of one message into one report, and shares out the
/// revenue of its summary records between the lines of all its files.
///
/// The files must share their MessageId and NumberOfFiles, hold each file
/// number from 1 to NumberOfFiles exactly once, and carry the same summary
/// records (DSR Part 1, multi-file messages). A `FOOT` that counts the
/// lines or blocks of the whole report (NumberOfLinesInReport,
/// NumberOfBlocksInReport) must count those of all the files. The lines
/// follow each other in file order, each keeping its file's number and its
/// line in that file; the report has the first file's number and the whole
/// period.
pub fn combine(mut parts: Vec<DsrFile>) -> Result<DsrReport, DsrError> {
    let Some(first) = parts.first() else {
        return Err(DsrError::NothingToCombine);
    };
    let message_id = first.head.message_id.clone();
    let first_number = first.head.file_number;
    let number_of_files = first.head.number_of_files;
    for part in &parts {
        let head = &part.head;
        if head.message_id != message_id {
            return Err(DsrError::OtherMessage {
                file_number: head.file_number,
                expected: message_id,
                found: head.message_id.clone(),
            });
        }
        if head.number_of_files != number_of_files {
            return Err(DsrError::FileCountDiffers {
                file_number: head.file_number,
                found: head.number_of_files,
                first: first_number,
                expected: number_of_files,
            });
        }
    }
    parts.sort_by_key(|part| part.head.file_number);
    for pair in parts.windows(2) {
        if pair[0].head.file_number == pair[1].head.file_number {
            return Err(DsrError::DuplicateFile {
                file_number: pair[0].head.file_number,
            });
        }
    }
    if let Some(missing) =
        (1..=number_of_files).find(|number| !parts.iter().any(|p| p.head.file_number == *number))
    {
        return Err(DsrError::MissingFile {
            file_number: missing,
            number_of_files,
        });
    }
    // Sorted, one of each number from 1: file 1 comes first.
    if let Some(other) = parts[1..]
        .iter()
        .find(|p| !same_summaries(&p.summaries, &parts[0].summaries))
    {
        return Err(DsrError::SummariesDiffer {
            file_number: other.head.file_number,
        });
    }
    let lines: usize = parts.iter().map(|p| p.lines_in_file).sum();
    let blocks: usize = parts.iter().map(|p| p.blocks.len()).sum();
    // A block lies in one file of a message.
    let mut seen: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
    for part in &parts {
        for block in &part.blocks {
            if let Some(first) = seen.insert(block, part.head.file_number) {
                return Err(DsrError::BlockRepeated {
                    block: block.clone(),
                    first,
                    file_number: part.head.file_number,
                });
            }
        }
    }
    for part in &parts {
        let number = part.head.file_number;
        if let Some(declared) = part.lines_in_report
            && u64::try_from(lines).ok() != Some(declared)
        {
            return Err(DsrError::ReportLineCount {
                file_number: number,
                declared,
                actual: lines,
            });
        }
        if let Some(declared) = part.blocks_in_report
            && u64::try_from(blocks).ok() != Some(declared)
        {
            return Err(DsrError::ReportBlockCount {
                file_number: number,
                declared,
                actual: blocks,
            });
        }
    }

    let usage_start = parts
        .iter()
        .filter_map(|p| p.head.usage_start.clone())
        .min();
    let usage_end = parts.iter().filter_map(|p| p.head.usage_end.clone()).max();
    let sender = parts.iter().find_map(|p| p.head.sender.clone());
    let summaries = std::mem::take(&mut parts[0].summaries);
    let mut pending: Vec<Pending> = parts.into_iter().flat_map(|p| p.pending).collect();
    share_summaries(&summaries, &mut pending, number_of_files > 1)?;
    let currencies: Vec<&str> = summaries
        .iter()
        .filter_map(|s| s.currency.as_deref())
        .collect();
    Ok(DsrReport {
        message_id,
        file_number: 1,
        number_of_files,
        usage_start,
        usage_end,
        sender,
        currency: the_only(&currencies),
        lines: pending.into_iter().map(|entry| entry.line).collect(),
        summary_records: summaries.len(),
    })
}

/// Whether two files carry the same summary records (wherever they lie in
/// their files).
fn same_summaries(a: &[Summary], b: &[Summary]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            (
                &x.id,
                &x.territory,
                &x.service,
                &x.use_type,
                &x.currency,
                &x.revenue,
            ) == (
                &y.id,
                &y.territory,
                &y.service,
                &y.use_type,
                &y.currency,
                &y.revenue,
            )
        })
}

/// Decimal places at which a summary record's revenue is shared out.
const SCALE: usize = 12;
/// One currency unit at `SCALE` decimal places.
const UNIT: u128 = 1_000_000_000_000;

// Column positions of the standard, for record types without a `#` header
// row (the record type itself is column 0).
const HEAD_COLUMNS: &[&str] = &[
    "MessageVersion",
    "Profile",
    "ProfileVersion",
    "MessageId",
    "MessageCreatedDateTime",
    "FileNumber",
    "NumberOfFiles",
    "UsageStartDate",
    "UsageEndDate",
    "SenderPartyId",
    "SenderName",
    "ServiceDescription",
    "RecipientPartyId",
    "RecipientName",
    "RepresentedRepertoire",
];
const FOOT_COLUMNS: &[&str] = &[
    "NumberOfLinesInFile",
    "NumberOfLinesInReport",
    "NumberOfSummaryRecords",
    "NumberOfBlocksInFile",
    "NumberOfBlocksInReport",
];
const SY01_COLUMNS: &[&str] = &[
    "SummaryRecordId",
    "DistributionChannel",
    "DistributionChannelDPID",
    "CommercialModel",
    "UseType",
    "Territory",
    "ServiceDescription",
    "Usages",
    "Subscribers",
    "Currency",
    "NetRevenue",
    "IndirectNetRevenue",
];
const SY02_COLUMNS: &[&str] = &[
    "SummaryRecordId",
    "DistributionChannel",
    "DistributionChannelDPID",
    "CommercialModel",
    "UseType",
    "Territory",
    "ServiceDescription",
    "Usages",
    "Users",
    "Currency",
    "NetRevenue",
    "RightsController",
    "RightsControllerPartyId",
    "AllocatedUsages",
    "AllocatedRevenue",
    "AllocatedNetRevenue",
    "RightsType",
];
const AS01_COLUMNS: &[&str] = &[
    "BlockId",
    "ResourceReference",
    "DspResourceId",
    "ISRC",
    "Title",
    "SubTitle",
    "DisplayArtistName",
    "DisplayArtistPartyId",
    "Duration",
    "ResourceType",
];
const RE01_COLUMNS: &[&str] = &[
    "BlockId",
    "ReleaseReference",
    "DspReleaseId",
    "ProprietaryReleaseId",
    "CatalogNumber",
    "ICPN",
    "DisplayArtistName",
    "DisplayArtistPartyId",
    "Title",
    "SubTitle",
    "ReleaseType",
    "Label",
    "PLine",
    "DataProvider",
];
const RU01_COLUMNS: &[&str] = &["BlockId", "SummaryRecordId", "DspReleaseId", "Usages"];
const SU01_COLUMNS: &[&str] = &[
    "BlockId",
    "SummaryRecordId",
    "SalesTransactionId",
    "TransactedRelease",
    "TransactedResource",
    "IsRoyaltyBearing",
    "SalesUpgrade",
    "Usages",
    "Returns",
];
const SU02_COLUMNS: &[&str] = &[
    "BlockId",
    "SummaryRecordId",
    "SalesTransactionId",
    "TransactedRelease",
    "TransactedResource",
    "IsRoyaltyBearing",
    "NumberOfStreams",
];
const SU03_COLUMNS: &[&str] = &[
    "BlockId",
    "SalesTransactionId",
    "SummaryRecordId",
    "DspReleaseId",
    "Usages",
    "NetRevenue",
    "ValidityPeriodStart",
    "ValidityPeriodEnd",
];
/// Any other record of a block starts with its BlockId.
const BLOCK_COLUMNS: &[&str] = &["BlockId"];
const NO_COLUMNS: &[&str] = &[];

fn fallback_columns(kind: &str) -> &'static [&'static str] {
    match base(kind) {
        "HEAD" => HEAD_COLUMNS,
        "FOOT" => FOOT_COLUMNS,
        "SY01" => SY01_COLUMNS,
        "SY02" => SY02_COLUMNS,
        "AS01" => AS01_COLUMNS,
        "RE01" => RE01_COLUMNS,
        "RU01" => RU01_COLUMNS,
        "SU01" => SU01_COLUMNS,
        "SU02" => SU02_COLUMNS,
        "SU03" => SU03_COLUMNS,
        other if other.starts_with("SY") => NO_COLUMNS,
        _ => BLOCK_COLUMNS,
    }
}

/// A record type without its version: `SY02` for `SY02.01`.
fn base(kind: &str) -> &str {
    kind.split_once('.').map_or(kind, |(base, _)| base)
}

/// The two letters that name a record family: `SY` for `SY02.01`.
fn family(kind: &str) -> Option<&str> {
    kind.get(..2)
}

/// One record: its 1-based line, its type and its cells, each cell split
/// into its values (cell 0 is the type).
struct Record {
    line: usize,
    kind: String,
    cells: Vec<Vec<String>>,
}

/// The `#` header rows of a file: record type and column names.
#[derive(Default)]
struct Layouts {
    headers: Vec<(String, Vec<String>)>,
}

impl Layouts {
    /// Reads the line at `index` (0-based): a `#` header row is added to
    /// the layouts, a record returned; a blank line is neither.
    fn read(&mut self, index: usize, line: &str) -> Option<Record> {
        if line.trim().is_empty() {
            return None;
        }
        let cells = split_cells(line);
        let kind = cells
            .first()
            .and_then(|cell| cell.first())
            .map(|value| value.trim().to_owned())
            .unwrap_or_default();
        if let Some(header_of) = kind.strip_prefix('#') {
            let names = cells
                .iter()
                .skip(1)
                .map(|cell| {
                    cell.first()
                        .map(|name| name.trim().to_owned())
                        .unwrap_or_default()
                })
                .collect();
            self.add(header_of.trim(), names);
            return None;
        }
        Some(Record {
            line: index + 1,
            kind,
            cells,
        })
    }

    fn add(&mut self, kind: &str, names: Vec<String>) {
        if !self.headers.iter().any(|(known, _)| known.as_str() == kind) {
            self.headers.push((kind.to_owned(), names));
        }
    }

    /// The header row of a record type: its own, else one of the same type
    /// in another version, else one of the same two-letter family.
    fn header(&self, kind: &str) -> Option<&[String]> {
        let exact = self
            .headers
            .iter()
            .find(|(known, _)| known.as_str() == kind);
        let same_base = self
            .headers
            .iter()
            .find(|(known, _)| base(known) == base(kind));
        let same_family = self
            .headers
            .iter()
            .find(|(known, _)| family(known).is_some() && family(known) == family(kind));
        exact
            .or(same_base)
            .or(same_family)
            .map(|(_, names)| names.as_slice())
    }

    /// The cell index of the first of `names` (in order of preference) that
    /// the record type has, by its header row, else by the standard.
    fn index(&self, kind: &str, names: &[&str]) -> Option<usize> {
        let position = match self.header(kind) {
            Some(header) => names.iter().find_map(|name| {
                header
                    .iter()
                    .position(|column| column.eq_ignore_ascii_case(name))
            }),
            None => {
                let columns = fallback_columns(kind);
                names.iter().find_map(|name| {
                    columns
                        .iter()
                        .position(|column| column.eq_ignore_ascii_case(name))
                })
            }
        };
        position.map(|index| index + 1)
    }

    /// The non-empty values of a record's cell, trimmed.
    fn values<'r>(&self, record: &'r Record, names: &[&str]) -> Vec<&'r str> {
        let Some(index) = self.index(&record.kind, names) else {
            return Vec::new();
        };
        record
            .cells
            .get(index)
            .map(|cell| {
                cell.iter()
                    .map(|value| value.trim())
                    .filter(|value| !value.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first non-empty value of a record's cell, trimmed.
    fn value<'r>(&self, record: &'r Record, names: &[&str]) -> Option<&'r str> {
        self.values(record, names).into_iter().next()
    }
}

/// Splits a line into cells and each cell into its `|`-separated values.
/// A backslash before `|`, a tab or a backslash makes it part of the value.
fn split_cells(line: &str) -> Vec<Vec<String>> {
    let mut cells = Vec::new();
    let mut values = Vec::new();
    let mut value = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => value.push(
                chars
                    .next_if(|next| matches!(*next, '|' | '\t' | '\\'))
                    .unwrap_or('\\'),
            ),
            '|' => values.push(std::mem::take(&mut value)),
            '\t' => {
                values.push(std::mem::take(&mut value));
                cells.push(std::mem::take(&mut values));
            }
            c => value.push(c),
        }
    }
    values.push(value);
    cells.push(values);
    cells
}

fn is_summary(record: &Record) -> bool {
    record.kind.starts_with("SY")
}

#[derive(Debug, Clone)]
struct Head {
    message_id: String,
    file_number: u32,
    number_of_files: u32,
    usage_start: Option<String>,
    usage_end: Option<String>,
    sender: Option<String>,
    /// SenderPartyId: a MessageId is unique only among its sender's.
    sender_id: Option<String>,
    territory: Option<String>,
}

#[derive(Debug, Clone)]
struct Summary {
    line: usize,
    id: Option<String>,
    territory: Option<String>,
    service: Option<String>,
    use_type: Option<String>,
    currency: Option<String>,
    /// NetRevenue as canonical decimal text.
    revenue: Option<String>,
}

struct Resource<'r> {
    block: Option<&'r str>,
    reference: Option<&'r str>,
    dsp_id: Option<&'r str>,
    isrc: Option<String>,
    title: Option<String>,
    artist: Option<String>,
}

struct Release<'r> {
    block: Option<&'r str>,
    upc: Option<String>,
    title: Option<String>,
}

/// A line before the revenue of summary records is shared out.
#[derive(Debug, Clone)]
struct Pending {
    line: DsrLine,
    summary: Option<usize>,
    carries_revenue: bool,
}

/// What the footer is checked against.
struct Counted {
    lines: usize,
    summaries: usize,
    blocks: usize,
}

/// [`read`], with the footer's line count checked or not (the tests read
/// the second YouTube test file, whose footer is one line off, without it).
fn read_with(text: &str, check_line_count: bool) -> Result<DsrFile, DsrError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let physical: Vec<&str> = text.lines().collect();
    // Blank lines after the last record (an editor's extra newline) are not
    // lines of the file.
    let lines_in_file = physical
        .iter()
        .rposition(|line| !line.trim().is_empty())
        .map_or(0, |last| last + 1);

    let mut layouts = Layouts::default();
    let mut records = Vec::new();
    for (index, line) in physical.iter().enumerate() {
        if let Some(record) = layouts.read(index, line) {
            records.push(record);
        }
    }

    let Some(head_record) = records.first() else {
        return Err(DsrError::Empty);
    };
    if head_record.kind != "HEAD" {
        return Err(DsrError::NoHead {
            line: head_record.line,
            found: head_record.kind.clone(),
        });
    }
    let head = read_head(&layouts, head_record)?;
    if let Some(second) = records.iter().skip(1).find(|r| r.kind == "HEAD") {
        return Err(DsrError::SecondHead { line: second.line });
    }
    let Some((foot_at, foot)) = records.iter().enumerate().find(|(_, r)| r.kind == "FOOT") else {
        return Err(DsrError::NoFoot);
    };
    if let Some(after) = records.get(foot_at + 1) {
        return Err(DsrError::AfterFoot { line: after.line });
    }
    let body = records.get(1..foot_at).unwrap_or_default();

    let blocks: HashSet<&str> = body
        .iter()
        .filter(|record| !is_summary(record))
        .filter_map(|record| layouts.value(record, &["BlockId"]))
        .collect();
    let block_ids: Vec<String> = blocks.iter().map(|&id| id.to_owned()).collect();
    let counted = Counted {
        lines: lines_in_file,
        summaries: body.iter().filter(|record| is_summary(record)).count(),
        blocks: blocks.len(),
    };
    check_foot(&layouts, foot, &counted, check_line_count)?;
    let lines_in_report = match check_line_count {
        true => foot_number(&layouts, foot, "NumberOfLinesInReport")?,
        false => None,
    };
    let blocks_in_report = foot_number(&layouts, foot, "NumberOfBlocksInReport")?;

    let summaries = body
        .iter()
        .filter(|record| is_summary(record))
        .map(|record| read_summary(&layouts, record))
        .collect::<Result<Vec<_>, _>>()?;
    let resources: Vec<Resource> = body
        .iter()
        .filter(|record| record.kind.starts_with("AS"))
        .map(|record| read_resource(&layouts, record))
        .collect();
    let releases: Vec<Release> = body
        .iter()
        .filter(|record| record.kind.starts_with("RE"))
        .map(|record| read_release(&layouts, record))
        .collect();
    let sales_blocks: HashSet<Option<&str>> = body
        .iter()
        .filter(|record| record.kind.starts_with("SU"))
        .map(|record| layouts.value(record, &["BlockId"]))
        .collect();
    // A line that names no summary record belongs to the only one there is.
    let default_summary = match summaries.as_slice() {
        [_] => Some(0),
        [first, rest @ ..] if first.id.is_some() && rest.iter().all(|s| s.id == first.id) => {
            Some(0)
        }
        _ => None,
    };

    let mut pending = Vec::new();
    for record in body {
        let sales = record.kind.starts_with("SU");
        if !sales && !record.kind.starts_with("RU") {
            continue;
        }
        let block = layouts.value(record, &["BlockId"]);
        // An RU record beside SU records of its block repeats their usage.
        if !sales && sales_blocks.contains(&block) {
            continue;
        }
        let summary = match layouts.value(record, &["SummaryRecordId"]) {
            Some(id) => Some(
                summaries
                    .iter()
                    .position(|s| s.id.as_deref() == Some(id))
                    .ok_or_else(|| DsrError::UnknownSummary {
                        line: record.line,
                        id: id.to_owned(),
                    })?,
            ),
            None => default_summary,
        };
        let own_revenue = match layouts.value(record, &["NetRevenue"]) {
            Some(raw) => decimal(record.line, "NetRevenue", raw)?,
            None => None,
        };
        let quantity = usages(&layouts, record)?;
        let start = line_date(&layouts, record, "ValidityPeriodStart")?
            .or_else(|| head.usage_start.clone());
        let end =
            line_date(&layouts, record, "ValidityPeriodEnd")?.or_else(|| head.usage_end.clone());

        // The block's sound recording the record names, else its first.
        let references = layouts.values(
            record,
            &[
                "TransactedResource",
                "ResourceReference",
                "DspResourceId",
                "DspReleaseId",
            ],
        );
        let candidates: Vec<&Resource> = resources.iter().filter(|r| r.block == block).collect();
        let named = candidates
            .iter()
            .position(|r| {
                references
                    .iter()
                    .any(|x| r.reference == Some(*x) || r.dsp_id == Some(*x))
            })
            .unwrap_or(0);
        let resource = candidates.get(named).copied();
        let release = releases.iter().find(|r| r.block == block);
        let summary_record = summary.and_then(|index| summaries.get(index));

        let carries_revenue = own_revenue.is_some();
        let line = DsrLine {
            file_number: head.file_number,
            line_number: record.line,
            territory: summary_record
                .and_then(|s| s.territory.clone())
                .or_else(|| head.territory.clone()),
            dsp: head.sender.clone(),
            service: summary_record.and_then(|s| s.service.clone()),
            use_type: summary_record.and_then(|s| s.use_type.clone()),
            isrc: resource.and_then(|r| r.isrc.clone()),
            title: resource.and_then(|r| r.title.clone()),
            artist: resource.and_then(|r| r.artist.clone()),
            upc: release.and_then(|r| r.upc.clone()),
            release_title: release.and_then(|r| r.title.clone()),
            quantity,
            revenue: own_revenue.unwrap_or_default(),
            currency: summary_record.and_then(|s| s.currency.clone()),
            start,
            end,
        };
        pending.push(Pending {
            line,
            summary,
            carries_revenue,
        });
    }

    Ok(DsrFile {
        head,
        summaries,
        pending,
        lines_in_file,
        blocks: block_ids,
        lines_in_report,
        blocks_in_report,
    })
}

/// Shares each summary record's revenue between its lines without any.
/// `several`: the lines come from several files, which errors name.
fn share_summaries(
    summaries: &[Summary],
    pending: &mut [Pending],
    several: bool,
) -> Result<(), DsrError> {
    let place = |entry: &Pending| Place {
        line: entry.line.line_number,
        file: several.then_some(entry.line.file_number),
    };
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (index, entry) in pending.iter().enumerate() {
        if entry.carries_revenue {
            continue;
        }
        let Some(summary) = entry.summary else {
            return Err(DsrError::NoSummary {
                place: place(entry),
            });
        };
        groups.entry(summary).or_default().push(index);
    }
    for (summary_index, members) in groups {
        let Some(summary) = summaries.get(summary_index) else {
            continue;
        };
        let first = members
            .first()
            .and_then(|&index| pending.get(index))
            .map_or(
                Place {
                    line: summary.line,
                    file: None,
                },
                place,
            );
        if let Some(id) = &summary.id
            && summaries
                .iter()
                .filter(|other| other.id.as_ref() == Some(id))
                .count()
                > 1
        {
            return Err(DsrError::AmbiguousSummary {
                place: first,
                id: id.clone(),
            });
        }
        let weights: Vec<i64> = members
            .iter()
            .filter_map(|&index| pending.get(index))
            .map(|entry| entry.line.quantity)
            .collect();
        let shares = match &summary.revenue {
            Some(amount) => share_out(summary, amount, &weights)?,
            None => vec![0; weights.len()],
        };
        for (&index, units) in members.iter().zip(shares) {
            if let Some(entry) = pending.get_mut(index) {
                entry.line.revenue = format_units(units);
            }
        }
    }

    Ok(())
}

fn read_head(layouts: &Layouts, record: &Record) -> Result<Head, DsrError> {
    let message_id = layouts
        .value(record, &["MessageId"])
        .ok_or_else(|| DsrError::HeadMalformed("it has no MessageId".to_owned()))?
        .to_owned();
    let file_number = head_number(layouts, record, "FileNumber")?;
    let number_of_files = head_number(layouts, record, "NumberOfFiles")?;
    if file_number == 0 || file_number > number_of_files {
        return Err(DsrError::HeadMalformed(format!(
            "it says this is file {file_number} of {number_of_files}"
        )));
    }
    if number_of_files > MAX_FILES {
        return Err(DsrError::HeadMalformed(format!(
            "it says the message has {number_of_files} files, more than the {MAX_FILES} OAS takes"
        )));
    }
    Ok(Head {
        message_id,
        file_number,
        number_of_files,
        usage_start: head_date(layouts, record, "UsageStartDate")?,
        usage_end: head_date(layouts, record, "UsageEndDate")?,
        sender: layouts.value(record, &["SenderName"]).map(str::to_owned),
        sender_id: layouts.value(record, &["SenderPartyId"]).map(str::to_owned),
        territory: layouts
            .value(record, &["Territory", "TerritoryOfUseOrSale"])
            .map(str::to_owned),
    })
}

/// A whole number of `HEAD` (`NumberOfFiles` also finds `NumberofFiles`).
fn head_number(layouts: &Layouts, record: &Record, column: &str) -> Result<u32, DsrError> {
    let raw = layouts
        .value(record, &[column])
        .ok_or_else(|| DsrError::HeadMalformed(format!("it has no {column}")))?;
    raw.parse()
        .map_err(|_| DsrError::HeadMalformed(format!("its {column} {raw:?} is not a number")))
}

fn head_date(layouts: &Layouts, record: &Record, column: &str) -> Result<Option<String>, DsrError> {
    let Some(raw) = layouts.value(record, &[column]) else {
        return Ok(None);
    };
    iso_date(raw)
        .map(Some)
        .ok_or_else(|| DsrError::HeadMalformed(format!("its {column} {raw:?} is not a date")))
}

fn check_foot(
    layouts: &Layouts,
    foot: &Record,
    counted: &Counted,
    check_line_count: bool,
) -> Result<(), DsrError> {
    let same = |declared: u64, actual: usize| u64::try_from(actual).is_ok_and(|a| a == declared);
    let declared = foot_number(layouts, foot, "NumberOfLinesInFile")?
        .ok_or_else(|| DsrError::FootMalformed("it has no NumberOfLinesInFile".to_owned()))?;
    if check_line_count && !same(declared, counted.lines) {
        return Err(DsrError::LineCount {
            declared,
            actual: counted.lines,
        });
    }
    if let Some(declared) = foot_number(layouts, foot, "NumberOfSummaryRecords")?
        && !same(declared, counted.summaries)
    {
        return Err(DsrError::SummaryCount {
            declared,
            actual: counted.summaries,
        });
    }
    if let Some(declared) = foot_number(layouts, foot, "NumberOfBlocksInFile")?
        && !same(declared, counted.blocks)
    {
        return Err(DsrError::BlockCount {
            declared,
            actual: counted.blocks,
        });
    }
    Ok(())
}

fn foot_number(layouts: &Layouts, foot: &Record, column: &str) -> Result<Option<u64>, DsrError> {
    let Some(raw) = layouts.value(foot, &[column]) else {
        return Ok(None);
    };
    raw.parse()
        .map(Some)
        .map_err(|_| DsrError::FootMalformed(format!("its {column} {raw:?} is not a number")))
}

fn read_summary(layouts: &Layouts, record: &Record) -> Result<Summary, DsrError> {
    let text = |names: &[&str]| layouts.value(record, names).map(str::to_owned);
    let revenue = match layouts.value(record, &["NetRevenue"]) {
        Some(raw) => decimal(record.line, "NetRevenue", raw)?,
        None => None,
    };
    Ok(Summary {
        line: record.line,
        id: text(&["SummaryRecordId"]),
        territory: text(&["Territory"]),
        service: text(&["ServiceDescription", "CommercialModel"]),
        use_type: text(&["UseType"]),
        currency: text(&["Currency", "CurrencyOfReporting"]),
        revenue,
    })
}

fn read_resource<'r>(layouts: &Layouts, record: &'r Record) -> Resource<'r> {
    Resource {
        block: layouts.value(record, &["BlockId"]),
        reference: layouts.value(record, &["ResourceReference"]),
        dsp_id: layouts.value(record, &["DspResourceId"]),
        isrc: layouts
            .value(record, &["ISRC", "ResourceISRC"])
            .and_then(ids::isrc),
        title: layouts.value(record, &["Title"]).map(str::to_owned),
        artist: layouts
            .value(record, &["DisplayArtistName"])
            .map(str::to_owned),
    }
}

fn read_release<'r>(layouts: &Layouts, record: &'r Record) -> Release<'r> {
    Release {
        block: layouts.value(record, &["BlockId"]),
        upc: layouts
            .value(record, &["ICPN", "ReleaseICPN"])
            .and_then(ids::upc),
        title: layouts
            .value(record, &["Title", "ReleaseTitle"])
            .map(str::to_owned),
    }
}

/// An amount as canonical decimal text.
fn decimal(line: usize, column: &'static str, raw: &str) -> Result<Option<String>, DsrError> {
    numbers::decimal(raw, DecimalStyle::Point).map_err(|_| DsrError::BadValue {
        line,
        column,
        value: raw.to_owned(),
        expected: "a number",
    })
}

/// Usages (or NumberOfStreams) of a usage record, all its values added up.
fn usages(layouts: &Layouts, record: &Record) -> Result<i64, DsrError> {
    let values = layouts.values(record, &["Usages", "NumberOfStreams"]);
    if values.is_empty() {
        return Err(DsrError::MissingValue {
            line: record.line,
            column: "Usages",
        });
    }
    let mut total: i64 = 0;
    for raw in values {
        let bad = || DsrError::BadValue {
            line: record.line,
            column: "Usages",
            value: raw.to_owned(),
            expected: "a whole number",
        };
        let count = numbers::quantity(raw, DecimalStyle::Point)
            .map_err(|_| bad())?
            .unwrap_or(0);
        total = total.checked_add(count).ok_or_else(bad)?;
    }
    Ok(total)
}

fn line_date(
    layouts: &Layouts,
    record: &Record,
    column: &'static str,
) -> Result<Option<String>, DsrError> {
    let Some(raw) = layouts.value(record, &[column]) else {
        return Ok(None);
    };
    iso_date(raw).map(Some).ok_or_else(|| DsrError::BadValue {
        line: record.line,
        column,
        value: raw.to_owned(),
        expected: "a date",
    })
}

/// `YYYY-MM-DD` from `YYYYMMDD`, `YYYY-MM-DD` or a date-time starting so.
fn iso_date(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let bytes = raw.as_bytes();
    let (year, month, day) = if bytes.len() == 8 {
        (raw.get(..4)?, raw.get(4..6)?, raw.get(6..)?)
    } else if bytes.len() >= 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && (bytes.len() == 10 || bytes[10] == b'T')
    {
        (raw.get(..4)?, raw.get(5..7)?, raw.get(8..10)?)
    } else {
        return None;
    };
    let digits = |text: &str| text.bytes().all(|b| b.is_ascii_digit());
    if !(digits(year) && digits(month) && digits(day)) {
        return None;
    }
    let month_number: u32 = month.parse().ok()?;
    let day_number: u32 = day.parse().ok()?;
    ((1..=12).contains(&month_number) && (1..=31).contains(&day_number))
        .then(|| format!("{year}-{month}-{day}"))
}

/// The value all of `values` share, if there is one.
fn the_only(values: &[&str]) -> Option<String> {
    let (first, rest) = values.split_first()?;
    rest.iter()
        .all(|value| value == first)
        .then(|| String::from(*first))
}

/// A summary record's revenue (canonical decimal text), shared out by
/// `weights`, in units of `SCALE` decimal places.
fn share_out(summary: &Summary, amount: &str, weights: &[i64]) -> Result<Vec<i128>, DsrError> {
    let cannot = |reason: &'static str| DsrError::CannotAllocate {
        line: summary.line,
        amount: amount.to_owned(),
        reason,
    };
    if decimal_places(amount) > SCALE {
        return Err(DsrError::TooPrecise {
            line: summary.line,
            amount: amount.to_owned(),
        });
    }
    let total = to_units(amount).ok_or_else(|| cannot("the amount is too large"))?;
    allocate(total, weights).map_err(cannot)
}

/// Shares `total` out in proportion to `weights`.
///
/// Each gets the floor of its share, then the units left over go one each
/// to the largest remainders, earlier first on ties: the shares add up to
/// `total`.
fn allocate(total: i128, weights: &[i64]) -> Result<Vec<i128>, &'static str> {
    if weights.iter().any(|weight| *weight < 0) {
        return Err("a line without revenue has negative usages");
    }
    let sum: i128 = weights.iter().map(|weight| i128::from(*weight)).sum();
    if sum == 0 {
        return if total == 0 {
            Ok(vec![0; weights.len()])
        } else {
            Err("its lines without revenue have no usages to share it by")
        };
    }
    let mut shares = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for weight in weights {
        let product = total
            .checked_mul(i128::from(*weight))
            .ok_or("the amount is too large")?;
        shares.push(product.div_euclid(sum));
        remainders.push(product.rem_euclid(sum));
    }
    let handed_out: i128 = shares.iter().sum();
    let left = usize::try_from(total - handed_out).map_err(|_| "the shares do not add up")?;
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&index| (Reverse(remainders[index]), index));
    for index in order.into_iter().take(left) {
        shares[index] += 1;
    }
    Ok(shares)
}

/// Decimal places of canonical decimal text, trailing zeros aside.
fn decimal_places(amount: &str) -> usize {
    amount
        .split_once('.')
        .map_or(0, |(_, fraction)| fraction.trim_end_matches('0').len())
}

/// Canonical decimal text with at most `SCALE` decimal places, in units.
fn to_units(amount: &str) -> Option<i128> {
    let (negative, digits) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let fraction = fraction.trim_end_matches('0');
    let padding = SCALE.checked_sub(fraction.len())?;
    let mut units: i128 = 0;
    for c in whole
        .chars()
        .chain(fraction.chars())
        .chain(std::iter::repeat_n('0', padding))
    {
        units = units
            .checked_mul(10)?
            .checked_add(i128::from(c.to_digit(10)?))?;
    }
    Some(if negative { -units } else { units })
}

/// Units back to canonical decimal text: no trailing zeros, `0` for zero.
fn format_units(units: i128) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let magnitude = units.unsigned_abs();
    let whole = magnitude / UNIT;
    let fraction = magnitude % UNIT;
    // 12 digits: SCALE.
    let fraction = format!("{fraction:012}");
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST: &str = "DSR_TEST_YouTube_AdSupport-music_2015-Q4_IS_1of1_20160121T150926.tsv";
    const TEST2: &str = "DSR_TEST2_YouTube_AdSupport-music_2015-Q4_IS_1of1_20160121T150926.tsv";
    const PADPIDA_1OF1: &str =
        "DSR_PADPIDA2014999999Z_PADPIDA2014111801Y_AdSupport_2015-02_AU_1of1_20150723T092522.tsv";
    const PADPIDA_1OF2: &str =
        "DSR_PADPIDA2014999999Z_PADPIDA2014111801Y_AdSupport_2015-02_AU_1of2_20150723T092522.tsv";
    const PADPIDA_2OF2: &str =
        "DSR_PADPIDA2014999999Z_PADPIDA2014111801Y_AdSupport_2015-02_AU_2of2_20150723T092522.tsv";
    const FILE_PARSER: &str = "test_file_parser.tsv";

    fn sample(name: &str) -> String {
        let path = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
            .join("../../../shared/samples/ddex-dsr")
            .join(name);
        std::fs::read_to_string(path).unwrap()
    }

    /// A small DSR in the layout of the YouTube files.
    ///
    /// One SY02.01 summary record with `revenue`, then a block per entry of
    /// `usages`, each an AS01 sound recording and an RU01 usage record
    /// without revenue.
    fn handmade(message: &str, file: u32, files: u32, revenue: &str, usages: &[i64]) -> String {
        let total: i64 = usages.iter().sum();
        let mut lines = vec![
            format!(
                "HEAD\tdsrf/30\tUGCProfile\t1.1\t{message}\t2016-01-21T15:09:26Z\t{file}\t{files}\t2015-10-01\t2015-12-31\tPADPIDA2013020802I\tYouTube"
            ),
            "#HEAD\tMessageVersion\tProfile\tProfileVersion\tMessageId\tMessageCreatedDateTime\tFileNumber\tNumberofFiles\tUsageStartDate\tUsageEndDate\tSenderPartyId\tSenderName".to_owned(),
            "#SY02.01\tSummaryRecordId\tCommercialModel\tUseType\tTerritory\tServiceDescription\tUsages\tCurrency\tNetRevenue".to_owned(),
            "#AS01\tBlockId\tResourceReference\tDspResourceId\tISRC\tTitle\tSubTitle\tDisplayArtistName".to_owned(),
            "#RU01\tBlockId\tSummaryRecordId\tDspReleaseId\tUsages".to_owned(),
            "#FOOT\tNumberOfLinesInFile\tNumberOfLinesInReport\tNumberOfSummaryRecords\tNumberOfBlocksInFile\tNumberOfBlocksInReport".to_owned(),
            format!(
                "SY02.01\t1\tAdvertisementSupportedModel\tStream\tIS\tAdSupport-music\t{total}\tUSD\t{revenue}"
            ),
        ];
        for (index, count) in usages.iter().enumerate() {
            let block = index + 1;
            lines.push(format!(
                "AS01\t{block}\tR{block}\tD{block}\tnl-a1z-26-{block:05}\tTrack {block}\t\tArtist {block}"
            ));
            lines.push(format!("RU01\t{block}\t1\tV{block}\t{count}"));
        }
        let count = lines.len() + 1;
        let blocks = usages.len();
        lines.push(format!("FOOT\t{count}\t{count}\t1\t{blocks}\t{blocks}"));
        lines.join("\n") + "\n"
    }

    /// An amount in units of 12 decimal places, read without the module.
    fn units(amount: &str) -> i128 {
        let (negative, digits) = match amount.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, amount),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        assert!(fraction.len() <= 12, "{amount}");
        let value: i128 = format!("{whole}{fraction:0<12}").parse().unwrap();
        if negative { -value } else { value }
    }

    /// The source amount of a YouTube test file, read independently.
    ///
    /// The NetRevenue of its SU records, found by the `#SU` header row.
    /// Every SU record of these files carries one, so no summary record
    /// adds any.
    fn source_amount(text: &str) -> i128 {
        let mut column = None;
        let mut total = 0;
        for line in text.lines() {
            let cells: Vec<&str> = line.split('\t').collect();
            if cells[0].starts_with("#SU") {
                column = cells.iter().position(|cell| *cell == "NetRevenue");
            } else if cells[0].starts_with("SU") {
                let amount = cells[column.unwrap()];
                assert!(!amount.is_empty(), "{line}");
                total += units(amount);
            }
        }
        total
    }

    fn revenue_total(report: &DsrReport) -> i128 {
        report.lines.iter().map(|line| units(&line.revenue)).sum()
    }

    #[test]
    fn the_youtube_test_file_imports() {
        let report = parse(&sample(TEST)).unwrap();
        assert_eq!(report.message_id, "1453417766009915");
        assert_eq!((report.file_number, report.number_of_files), (1, 1));
        assert_eq!(report.usage_start.as_deref(), Some("2015-10-01"));
        assert_eq!(report.usage_end.as_deref(), Some("2015-12-31"));
        assert_eq!(report.sender.as_deref(), Some("YouTube"));
        assert_eq!(report.currency.as_deref(), Some("USD"));
        assert_eq!(report.summary_records, 4);

        // The SU records only: the RU records on lines 16, 21 and 26 repeat
        // the usage of their blocks' SU records.
        let numbers: Vec<usize> = report.lines.iter().map(|l| l.line_number).collect();
        assert_eq!(numbers, [17, 22, 27, 29, 31, 33]);
        let isrcs: Vec<&str> = report
            .lines
            .iter()
            .map(|l| l.isrc.as_deref().unwrap())
            .collect();
        assert_eq!(
            isrcs,
            [
                "USSM19803037",
                "USUV71101875",
                "USRH10903879",
                "USRH10903879",
                "USRH10903879",
                "USRH10903879"
            ]
        );
        let quantities: Vec<i64> = report.lines.iter().map(|l| l.quantity).collect();
        assert_eq!(quantities, [7810, 2045, 18, 4, 258, 75]);
        let revenues: Vec<&str> = report.lines.iter().map(|l| l.revenue.as_str()).collect();
        assert_eq!(revenues, ["2.0", "2.0", "0.0", "0.0", "0.0", "3.0"]);
        for line in &report.lines {
            assert_eq!(line.territory.as_deref(), Some("IS"));
            assert_eq!(line.currency.as_deref(), Some("USD"));
            assert_eq!(line.dsp.as_deref(), Some("YouTube"));
            assert_eq!(line.service.as_deref(), Some("AdSupport-music"));
            assert_eq!(line.use_type.as_deref(), Some("Stream"));
            assert_eq!(line.upc, None, "the file has no RE records");
        }
        let first = &report.lines[0];
        assert_eq!(first.title.as_deref(), Some("Sexual Healing"));
        assert_eq!(first.artist.as_deref(), Some("Marvin Gaye"));
        assert_eq!(first.start.as_deref(), Some("2015-10-01"));
        assert_eq!(first.end.as_deref(), Some("2015-12-31"));
        let third = &report.lines[2];
        assert_eq!(third.start.as_deref(), Some("2015-10-01"));
        assert_eq!(third.end.as_deref(), Some("2015-10-02"));
    }

    #[test]
    fn the_second_youtube_test_file_has_a_footer_one_line_off() {
        // TEST2 is TEST without the LI01.01 line of block 1, its footer
        // left at 35: it has 34 lines.
        let text = sample(TEST2);
        assert_eq!(
            parse(&text),
            Err(DsrError::LineCount {
                declared: 35,
                actual: 34
            })
        );
        // Everything else about it is sound.
        let report = combine(vec![read_with(&text, false).unwrap()]).unwrap();
        assert_eq!(report.lines.len(), 6);
        assert_eq!(report.summary_records, 4);
        assert_eq!(report.currency.as_deref(), Some("USD"));
        for line in &report.lines {
            assert_eq!(line.territory.as_deref(), Some("IS"));
            assert_eq!(line.currency.as_deref(), Some("USD"));
        }
        assert_eq!(report.lines[1].isrc.as_deref(), Some("USUV71101875"));
    }

    #[test]
    fn lines_add_up_to_the_source_amount() {
        let text = sample(TEST);
        let report = parse(&text).unwrap();
        assert_eq!(revenue_total(&report), source_amount(&text));
        assert_eq!(revenue_total(&report), 7 * 1_000_000_000_000);

        let text = sample(TEST2);
        let report = combine(vec![read_with(&text, false).unwrap()]).unwrap();
        assert_eq!(revenue_total(&report), source_amount(&text));
        assert_eq!(revenue_total(&report), 7 * 1_000_000_000_000);
    }

    #[test]
    fn the_padpida_files_have_a_wrong_head() {
        // HEAD holds three values (ID1, UgcProfile, 1.1) and its #HEAD row,
        // which follows it, names MessageVersion, ProfileVersion, MessageId,
        // MessageCreatedDateTime and NumberOfFiles: no FileNumber, and no
        // value for NumberOfFiles.
        for name in [PADPIDA_1OF1, PADPIDA_1OF2, PADPIDA_2OF2] {
            let error = parse(&sample(name)).unwrap_err();
            assert_eq!(
                error,
                DsrError::HeadMalformed("it has no FileNumber".to_owned()),
                "{name}"
            );
            assert_eq!(
                error.to_string(),
                "The DSR HEAD record is malformed: it has no FileNumber."
            );
        }
    }

    #[test]
    fn the_padpida_footers_are_wrong_too() {
        // With a sound HEAD, the footer's 123 lines still do not match 7.
        for (name, file) in [(PADPIDA_1OF1, 1), (PADPIDA_1OF2, 1), (PADPIDA_2OF2, 2)] {
            let text = sample(name);
            let rest: Vec<&str> = text.lines().skip(2).collect();
            let rest = rest.join("\n");
            let files = if name == PADPIDA_1OF1 { 1 } else { 2 };
            let repaired = format!(
                "HEAD\tID1\tUgcProfile\t1.1\tM1\t2015-07-23T09:25:22Z\t{file}\t{files}\n\
                 #HEAD\tMessageVersion\tProfile\tProfileVersion\tMessageId\tMessageCreatedDateTime\tFileNumber\tNumberOfFiles\n\
                 {rest}\n"
            );
            assert_eq!(
                parse(&repaired),
                Err(DsrError::LineCount {
                    declared: 123,
                    actual: 7
                }),
                "{name}"
            );
        }
    }

    #[test]
    fn the_two_file_padpida_message_cannot_be_combined() {
        // Neither file says which file of the message it is (no FileNumber,
        // no NumberOfFiles value) and both carry the same block 1 with a
        // footer of 123 lines for 7: no part can be read, so no message.
        let parts: Vec<DsrFile> = [PADPIDA_1OF2, PADPIDA_2OF2]
            .into_iter()
            .filter_map(|name| read(&sample(name)).ok())
            .collect();
        assert!(parts.is_empty());
        assert_eq!(combine(parts), Err(DsrError::NothingToCombine));
    }

    #[test]
    fn the_file_parser_sample_has_no_head() {
        // Its first record is an FHEA (and its last an FFOO, counting 123
        // lines of 7), not the HEAD and FOOT of a DSR file.
        let error = parse(&sample(FILE_PARSER)).unwrap_err();
        assert_eq!(
            error,
            DsrError::NoHead {
                line: 3,
                found: "FHEA".to_owned()
            }
        );
        assert_eq!(
            error.to_string(),
            "The DSR file has no HEAD record: line 3 is a \"FHEA\" record where HEAD is expected."
        );
    }

    #[test]
    fn dsr_files_are_recognised() {
        for name in [TEST, TEST2, PADPIDA_1OF1, FILE_PARSER] {
            assert!(looks_like_dsr(&sample(name)), "{name}");
        }
        assert!(looks_like_dsr("\u{feff}\r\nHEAD\tdsrf/30\r\n"));
        assert!(!looks_like_dsr(
            "Country,Label,ISRC\nIS,Label,USSM19803037\n"
        ));
        assert!(!looks_like_dsr(""));
    }

    #[test]
    fn summary_revenue_is_shared_out_exactly() {
        let report = parse(&handmade("M1", 1, 1, "10.00", &[1, 1, 1])).unwrap();
        let revenues: Vec<&str> = report.lines.iter().map(|l| l.revenue.as_str()).collect();
        assert_eq!(
            revenues,
            ["3.333333333334", "3.333333333333", "3.333333333333"]
        );
        assert_eq!(revenue_total(&report), units("10"));
        let first = &report.lines[0];
        assert_eq!(first.line_number, 9);
        assert_eq!(first.isrc.as_deref(), Some("NLA1Z2600001"));
        assert_eq!(first.title.as_deref(), Some("Track 1"));
        assert_eq!(first.territory.as_deref(), Some("IS"));
        assert_eq!(first.currency.as_deref(), Some("USD"));
        assert_eq!(first.start.as_deref(), Some("2015-10-01"));
        assert_eq!(first.end.as_deref(), Some("2015-12-31"));

        let report = parse(&handmade("M1", 1, 1, "-1", &[2, 1, 0])).unwrap();
        let revenues: Vec<&str> = report.lines.iter().map(|l| l.revenue.as_str()).collect();
        assert_eq!(revenues, ["-0.666666666667", "-0.333333333333", "0"]);

        let report = parse(&handmade("M1", 1, 1, "", &[1, 2])).unwrap();
        let revenues: Vec<&str> = report.lines.iter().map(|l| l.revenue.as_str()).collect();
        assert_eq!(revenues, ["0", "0"], "a summary record without revenue");
    }

    #[test]
    fn revenue_finer_than_12_places_is_refused() {
        assert_eq!(
            parse(&handmade("M1", 1, 1, "10.0000000000001", &[1, 1])),
            Err(DsrError::TooPrecise {
                line: 7,
                amount: "10.0000000000001".to_owned()
            })
        );
        assert!(parse(&handmade("M1", 1, 1, "10.000000000001000", &[1, 1])).is_ok());
    }

    #[test]
    fn a_footer_that_miscounts_is_refused() {
        let text = handmade("M1", 1, 1, "10.00", &[1, 1, 1]).replace("FOOT\t14\t", "FOOT\t12\t");
        let error = parse(&text).unwrap_err();
        assert_eq!(
            error,
            DsrError::LineCount {
                declared: 12,
                actual: 14
            }
        );
        assert_eq!(
            error.to_string(),
            "The DSR footer counts 12 lines but the file has 14."
        );

        let text = handmade("M1", 1, 1, "10.00", &[1, 1, 1]).replace("\t1\t3\t3\n", "\t2\t3\t3\n");
        assert_eq!(
            parse(&text),
            Err(DsrError::SummaryCount {
                declared: 2,
                actual: 1
            })
        );

        let text = handmade("M1", 1, 1, "10.00", &[1]);
        let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("FOOT")).collect();
        assert_eq!(parse(&(kept.join("\n") + "\n")), Err(DsrError::NoFoot));
        assert_eq!(
            DsrError::NoFoot.to_string(),
            "The DSR file has no FOOT record."
        );
    }

    #[test]
    fn crlf_line_ends_read_the_same() {
        let text = handmade("M1", 1, 1, "10.00", &[1, 1, 1]);
        let crlf = text.replace('\n', "\r\n");
        assert_eq!(parse(&crlf).unwrap(), parse(&text).unwrap());

        let youtube = sample(TEST);
        let crlf = youtube.replace('\n', "\r\n");
        assert_eq!(parse(&crlf).unwrap(), parse(&youtube).unwrap());
    }

    #[test]
    fn a_line_must_name_a_summary_record_the_file_has() {
        let text =
            handmade("M1", 1, 1, "10.00", &[1, 1, 1]).replace("RU01\t2\t1\t", "RU01\t2\t9\t");
        let error = parse(&text).unwrap_err();
        assert_eq!(
            error,
            DsrError::UnknownSummary {
                line: 11,
                id: "9".to_owned()
            }
        );
        assert_eq!(
            error.to_string(),
            "Line 11 refers to summary record 9, which the file does not define."
        );
    }

    /// The files of a message whose one summary record carries `revenue`:
    /// a file per entry of `files`, a block per usage count, blocks
    /// numbered across the message, each file's `FOOT` counting its own
    /// lines and blocks and, in the last file, the whole report's.
    fn message_files(message: &str, revenue: &str, files: &[&[i64]]) -> Vec<String> {
        let total: i64 = files.iter().flat_map(|f| f.iter()).sum();
        let mut texts: Vec<Vec<String>> = Vec::new();
        let mut block = 0;
        for (index, usages) in files.iter().enumerate() {
            let mut lines = handmade(message, index as u32 + 1, files.len() as u32, revenue, &[])
                .lines()
                .filter(|line| !line.starts_with("FOOT"))
                .map(|line| match line.starts_with("SY02") {
                    true => line.replace("music\t0\t", &format!("music\t{total}\t")),
                    false => line.to_owned(),
                })
                .collect::<Vec<_>>();
            for count in *usages {
                block += 1;
                lines.push(format!(
                    "AS01\t{block}\tR{block}\tD{block}\tnl-a1z-26-{block:05}\tTrack {block}\t\tArtist {block}"
                ));
                lines.push(format!("RU01\t{block}\t1\tV{block}\t{count}"));
            }
            texts.push(lines);
        }
        let report_lines: usize = texts.iter().map(|t| t.len() + 1).sum();
        let last = texts.len();
        texts
            .into_iter()
            .zip(files)
            .enumerate()
            .map(|(index, (mut lines, usages))| {
                let (count, blocks) = (lines.len() + 1, usages.len());
                let (in_report, blocks_in_report) = match index + 1 == last {
                    true => (report_lines.to_string(), block.to_string()),
                    false => (String::new(), String::new()),
                };
                lines.push(format!(
                    "FOOT\t{count}\t{in_report}\t1\t{blocks}\t{blocks_in_report}"
                ));
                lines.join("\n") + "\n"
            })
            .collect()
    }

    #[test]
    fn a_message_in_files_shares_its_summary_revenue_across_them() {
        let files = message_files("M2", "7", &[&[1, 3], &[4, 2]]);
        assert!(files[0].contains(
            "SY02.01\t1\tAdvertisementSupportedModel\tStream\tIS\tAdSupport-music\t10\tUSD\t7\n"
        ));
        let parts: Vec<DsrFile> = files.iter().map(|t| read(t).unwrap()).collect();
        assert_eq!(
            (
                parts[1].message_id(),
                parts[1].file_number(),
                parts[1].number_of_files()
            ),
            ("M2", 2, 2)
        );
        // In any order.
        let message = combine(vec![parts[1].clone(), parts[0].clone()]).unwrap();
        assert_eq!(message.message_id, "M2");
        assert_eq!(message.number_of_files, 2);
        assert_eq!(message.summary_records, 1);
        let lines: Vec<(u32, &str)> = message
            .lines
            .iter()
            .map(|l| (l.file_number, l.revenue.as_str()))
            .collect();
        // 7 shared by usages over both files: not 3.5 a file.
        assert_eq!(lines, [(1, "0.7"), (1, "2.1"), (2, "2.8"), (2, "1.4")]);
        assert_eq!(message.currency.as_deref(), Some("USD"));
        assert_eq!(message.usage_start.as_deref(), Some("2015-10-01"));

        // A file alone is not the message, nor is either file read alone.
        let error = combine(vec![parts[0].clone()]).unwrap_err();
        assert_eq!(
            error,
            DsrError::MissingFile {
                file_number: 2,
                number_of_files: 2
            }
        );
        assert_eq!(
            error.to_string(),
            "File 2 of 2 is missing from this DSR message."
        );
        assert_eq!(
            parse(&files[1]).unwrap_err(),
            DsrError::MissingFile {
                file_number: 1,
                number_of_files: 2
            }
        );
        assert_eq!(
            combine(vec![parts[0].clone(), parts[0].clone(), parts[1].clone()]),
            Err(DsrError::DuplicateFile { file_number: 1 })
        );
        let stranger = read(&message_files("M3", "10", &[&[1, 3], &[4, 2]])[1]).unwrap();
        assert_eq!(
            combine(vec![parts[0].clone(), stranger]),
            Err(DsrError::OtherMessage {
                file_number: 2,
                expected: "M2".to_owned(),
                found: "M3".to_owned()
            })
        );
        let three = read(&message_files("M2", "10", &[&[1], &[4], &[2]])[1]).unwrap();
        assert!(matches!(
            combine(vec![parts[0].clone(), three]),
            Err(DsrError::FileCountDiffers { .. })
        ));
    }

    #[test]
    fn the_files_of_a_message_must_agree_with_each_other() {
        let files = message_files("M2", "10", &[&[1, 3], &[4, 2]]);
        // Another revenue in the second file's summary record.
        let other = files[1].replace("\tUSD\t10\n", "\tUSD\t12\n");
        let error = combine(vec![read(&files[0]).unwrap(), read(&other).unwrap()]).unwrap_err();
        assert_eq!(error, DsrError::SummariesDiffer { file_number: 2 });
        assert_eq!(
            error.to_string(),
            "File 2 of this DSR message carries other summary records than file 1; the files of a message carry the same ones."
        );

        // The last footer counts the lines and blocks of the whole report:
        // 12 + 12 lines and 4 blocks.
        assert!(
            files[1].ends_with("FOOT\t12\t24\t1\t2\t4\n"),
            "{}",
            files[1]
        );
        let miscounted = files[1].replace("FOOT\t12\t24\t", "FOOT\t12\t23\t");
        let error =
            combine(vec![read(&files[0]).unwrap(), read(&miscounted).unwrap()]).unwrap_err();
        assert_eq!(
            error,
            DsrError::ReportLineCount {
                file_number: 2,
                declared: 23,
                actual: 24
            }
        );
        assert_eq!(
            error.to_string(),
            "The DSR footer of file 2 counts 23 lines in the whole report, but its files have 24."
        );
        let miscounted = files[1].replace("\t1\t2\t4\n", "\t1\t2\t5\n");
        assert_eq!(
            combine(vec![read(&files[0]).unwrap(), read(&miscounted).unwrap()]),
            Err(DsrError::ReportBlockCount {
                file_number: 2,
                declared: 5,
                actual: 4
            })
        );
    }

    /// `text` with a second summary record, its RU lines naming none, and
    /// its footer counting again (the report's lines left uncounted).
    fn unnamed_lines(text: &str) -> String {
        let mut lines: Vec<String> = text
            .lines()
            .filter(|line| !line.starts_with("FOOT"))
            .map(|line| match line.strip_prefix("RU01\t") {
                Some(rest) => {
                    let cells: Vec<&str> = rest.split('\t').collect();
                    format!("RU01\t{}\t\t{}\t{}", cells[0], cells[2], cells[3])
                }
                None => line.to_owned(),
            })
            .collect();
        lines.push(
            "SY02.01\t2\tAdvertisementSupportedModel\tStream\tIS\tAdSupport-music\t4\tUSD\t1"
                .to_owned(),
        );
        let blocks = lines.iter().filter(|l| l.starts_with("AS01")).count();
        lines.push(format!("FOOT\t{}\t\t2\t{blocks}\t", lines.len() + 1));
        lines.join("\n") + "\n"
    }

    #[test]
    fn a_line_without_revenue_or_summary_is_placed_in_its_file() {
        let files = message_files("M2", "10", &[&[1], &[3]])
            .iter()
            .map(|text| unnamed_lines(text))
            .collect::<Vec<_>>();
        let error = combine(vec![read(&files[0]).unwrap(), read(&files[1]).unwrap()]).unwrap_err();
        assert_eq!(
            error,
            DsrError::NoSummary {
                place: Place {
                    line: 9,
                    file: Some(1)
                }
            }
        );
        assert_eq!(
            error.to_string(),
            "Line 9 of file 1 carries no revenue and names no summary record to take it from."
        );
        let alone = unnamed_lines(&handmade("M1", 1, 1, "10.00", &[1]));
        assert_eq!(
            parse(&alone).unwrap_err().to_string(),
            "Line 9 carries no revenue and names no summary record to take it from."
        );
    }

    #[test]
    fn a_block_lies_in_one_file_of_a_message() {
        let files = message_files("M2", "10", &[&[1, 3], &[4]]);
        // File 2's block 3 renamed block 2, which file 1 has.
        let repeated = files[1]
            .replace("AS01\t3\tR3", "AS01\t2\tR3")
            .replace("RU01\t3\t", "RU01\t2\t");
        let error = combine(vec![read(&files[0]).unwrap(), read(&repeated).unwrap()]).unwrap_err();
        assert_eq!(
            error,
            DsrError::BlockRepeated {
                block: "2".to_owned(),
                first: 1,
                file_number: 2
            }
        );
        assert_eq!(
            error.to_string(),
            "Block 2 is in file 1 and again in file 2 of this DSR message; a block lies in one file of a message."
        );
    }

    #[test]
    fn a_message_of_more_files_than_oas_takes_is_refused_from_its_head() {
        let text = handmade("M1", 1, 1000, "10.00", &[1]);
        let expected = DsrError::HeadMalformed(
            "it says the message has 1000 files, more than the 999 OAS takes".to_owned(),
        );
        assert_eq!(message_of(&text), Err(expected.clone()));
        assert_eq!(read(&text).unwrap_err(), expected);
        assert_eq!(
            message_of(&handmade("M1", 1, 999, "10.00", &[1]))
                .unwrap()
                .number_of_files,
            999
        );
    }

    #[test]
    fn a_file_says_which_part_of_which_message_it_is_from_its_head() {
        let files = message_files("M7", "10", &[&[1], &[2]]);
        let expected = MessagePart {
            sender: "PADPIDA2013020802I".to_owned(),
            message_id: "M7".to_owned(),
            file_number: 2,
            number_of_files: 2,
        };
        assert_eq!(message_of(&files[1]).unwrap(), expected);
        // Its beginning is enough: the HEAD and the header rows.
        let beginning: String = files[1].lines().take(7).map(|l| format!("{l}\n")).collect();
        assert_eq!(message_of(&beginning).unwrap(), expected);
        assert_eq!(
            message_of(&format!("\u{feff}{beginning}")).unwrap(),
            expected
        );
        assert!(matches!(
            message_of("SY02\t1\nHEAD\tx\n"),
            Err(DsrError::NoHead { line: 1, .. })
        ));
        assert!(matches!(
            message_of(&sample(PADPIDA_1OF2)),
            Err(DsrError::HeadMalformed(_))
        ));
    }

    #[test]
    fn cells_split_into_values_and_escapes_hold() {
        assert_eq!(
            split_cells("AS02\t1\tL\u{eb}t \\| Right\tA|B\tC:\\x"),
            [
                vec!["AS02".to_owned()],
                vec!["1".to_owned()],
                vec!["L\u{eb}t | Right".to_owned()],
                vec!["A".to_owned(), "B".to_owned()],
                vec!["C:\\x".to_owned()],
            ]
        );
    }

    #[test]
    fn dates_are_read_in_their_dsr_forms() {
        assert_eq!(iso_date("20151001").as_deref(), Some("2015-10-01"));
        assert_eq!(iso_date("2015-12-31").as_deref(), Some("2015-12-31"));
        assert_eq!(
            iso_date("2016-01-21T15:09:26Z").as_deref(),
            Some("2016-01-21")
        );
        for bad in ["2015-13-01", "2015-Q4", "1.1", "20151301", ""] {
            assert_eq!(iso_date(bad), None, "{bad}");
        }
    }
}
