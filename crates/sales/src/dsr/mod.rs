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

mod combine;
mod layout;
mod read;
mod share;
#[cfg(test)]
mod tests;

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

pub use combine::combine;
use layout::*;
use read::*;
use share::*;
