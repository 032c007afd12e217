//! What makes a table a table: the header, blank lines, each line's width
//! and the trailing summary block ([`TableCheck`]), for every reader.

use super::*;

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
pub(super) struct CellEdges {
    /// The last cell cleaning leaves filled, if any.
    pub(super) last_filled: Option<usize>,
    /// Cleaning changes some cell (spaces, NULs, zero-width characters).
    pub(super) changed: bool,
}

impl CellEdges {
    /// What cleaning makes of a record's cells, whatever read it.
    pub(super) fn of(record: &csv::StringRecord) -> CellEdges {
        let bytes = record.as_byte_record().as_slice();
        if bytes.is_ascii() && !bytes.contains(&0) {
            // Plain ASCII: cleaning a cell only trims its spaces.
            return CellEdges::of_plain(record.iter()).1;
        }
        let mut cells = CellEdges {
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
    pub(super) fn of_plain<'a>(fields: impl Iterator<Item = &'a str>) -> (usize, CellEdges) {
        let mut cells = CellEdges {
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
pub(super) fn edges(field: &str) -> (bool, bool) {
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
pub(super) enum Verdict {
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
pub(super) struct TableCheck {
    pub(super) header: Option<Vec<String>>,
    pub(super) rows: u64,
    pub(super) trailing: u64,
    pub(super) data_end: Option<u64>,
    /// A blank line came after the last data row.
    pub(super) after_blank: bool,
    pub(super) last_data_len: Option<usize>,
    /// Records taken, the header's among them.
    pub(super) records: usize,
    pub(super) dirty: bool,
}

impl TableCheck {
    /// Judges a record of `len` cells found at `place`. `names` gives the
    /// header's cleaned names; `hides_text` says whether a record blank
    /// once cleaned held anything but spaces before.
    pub(super) fn take(
        &mut self,
        place: &Place,
        len: usize,
        cells: &CellEdges,
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

    pub(super) fn finish(self) -> Result<Written, Refusal> {
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
        let cells = CellEdges::of(&record);
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
