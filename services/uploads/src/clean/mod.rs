//! Cleaning, file to file: whatever was uploaded becomes one UTF-8,
//! comma-separated CSV whose first line is the header, or, for a DDEX DSR,
//! the DSR text in UTF-8, or, for an archive, its members, each to be
//! cleaned on its own. Large files are streamed: only the first 64 KiB are
//! held in memory, to find the encoding and the shape.

mod archive;
mod check;
mod encoding;
mod plain;
mod sheets;
#[cfg(test)]
mod tests;
mod text;

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};
use oas_domain::job::FailureCode;
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

impl Refusal {
    /// How the module reports it: a file that holds no table of sales
    /// (empty, binary, another kind of document) is not a sales report;
    /// the rest are reports OAS cannot take as they are.
    pub fn code(&self) -> FailureCode {
        match self {
            Refusal::Empty
            | Refusal::HeaderOnly
            | Refusal::Binary
            | Refusal::NotAReport
            | Refusal::Unsupported(_) => FailureCode::NotASalesReport,
            Refusal::Corrupt(_)
            | Refusal::TooLarge(_)
            | Refusal::Irregular(_)
            | Refusal::NotUtf8
            | Refusal::NotPlain => FailureCode::Rejected,
        }
    }
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
        Kind::Xlsx => sheets::clean(input, work, "xlsx"),
        Kind::Xls => sheets::clean(input, work, "xls"),
        Kind::Other(what) => Err(Refusal::Unsupported(format!(
            "The file is {what}, not a sales report OAS can read (CSV, TSV, TXT, XLS, XLSX, ZIP, gzip or DDEX DSR)."
        ))),
    }
}

use archive::*;
use check::*;
pub(crate) use check::{Place, Written};
use encoding::*;
use plain::*;
pub use text::clean_field;
use text::*;
