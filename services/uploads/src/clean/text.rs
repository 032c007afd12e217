//! Text tables: the delimiter and header found, every record read with the
//! csv crate, cleaned and written (or checked in place).

use super::*;

/// An ASCII byte that `str::trim` removes.
pub(super) fn ascii_space(byte: u8) -> bool {
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

pub(super) fn text(input: &Path, work: &Path, source_type: &str) -> Result<Cleaned, Refusal> {
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
pub(super) fn table_of(
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

/// Bytes a reader passed on, from `start` on in its stream.
#[derive(Default)]
pub(super) struct Seen {
    pub(super) start: u64,
    pub(super) bytes: Vec<u8>,
}

impl Seen {
    /// What came before the record read from `before` to `after`, and
    /// where the line after the record before starts (past the LF of its
    /// CR LF).
    pub(super) fn lead(&self, before: u64, after: u64) -> (sniff::Lead, u64) {
        let at = |offset: u64| usize::try_from(offset.saturating_sub(self.start)).unwrap_or(0);
        let (from, to) = (at(before), at(after).min(self.bytes.len()));
        let after_cr = before > self.start && self.bytes.get(from - 1) == Some(&b'\r');
        let consumed = self.bytes.get(from..to).unwrap_or_default();
        let line_start = before + u64::from(after_cr && consumed.first() == Some(&b'\n'));
        (sniff::lead(consumed, after_cr), line_start)
    }

    /// Drops what lies before `offset`, but for one byte (a CR to look
    /// back at).
    pub(super) fn forget_before(&mut self, offset: u64) {
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
pub(super) struct Recording<R> {
    pub(super) inner: R,
    pub(super) seen: std::rc::Rc<std::cell::RefCell<Seen>>,
}

impl<R: Read> Read for Recording<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(out)?;
        self.seen.borrow_mut().bytes.extend_from_slice(&out[..read]);
        Ok(read)
    }
}
