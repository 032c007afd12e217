//! The fast check of an upload that is already clean UTF-8 without quotes:
//! blocks of whole lines looked at on every core, judged in the file's order.

use super::*;

/// Bytes of whole lines checked at a time by [`plain_table_of`].
pub(super) const CHUNK: usize = 1 << 20;

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
pub(super) fn plain_table_of(input: &Path, layout: &sniff::Layout) -> Result<Written, Refusal> {
    plain_table_in_chunks(input, layout, CHUNK)
}

pub(super) fn plain_table_in_chunks(
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
pub(super) struct Judge {
    pub(super) check: TableCheck,
    /// The line before the next chunk's first.
    pub(super) number: u64,
    /// Where the lines since the last record began, blank ones included.
    pub(super) start: Option<u64>,
    pub(super) blank_lines: bool,
}

impl Judge {
    /// `number`: the line before the first chunk's.
    pub(super) fn after(number: u64) -> Judge {
        Judge {
            check: TableCheck::default(),
            number,
            start: None,
            blank_lines: false,
        }
    }

    pub(super) fn take(&mut self, chunk: &mut Chunk) -> Result<(), Refusal> {
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
pub(super) struct Chunk {
    /// The file offset of its first byte.
    pub(super) offset: u64,
    pub(super) bytes: Vec<u8>,
    pub(super) facts: Vec<Fact>,
    /// The cleaned cells of its first line with a filled cell (the header,
    /// when the chunk holds it).
    pub(super) names: Option<Vec<String>>,
}

/// What the table check needs of one line, found apart from the others.
pub(super) enum Fact {
    /// An empty line, at its offset.
    Blank { start: u64 },
    Line {
        start: u64,
        len: usize,
        cells: CellEdges,
        /// A record blank once cleaned held something but spaces before.
        hides_text: bool,
    },
}

/// Looks at a chunk's lines on their own: its refusal (quotes, a lone
/// CR, bytes that are not UTF-8), or each line's [`Fact`] and the cleaned
/// cells of its first line with a filled cell.
pub(super) fn chunk_facts(
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
            let edges = CellEdges::of(&record);
            if names.is_none() && edges.last_filled.is_some() {
                names = Some(record.iter().map(|f| clean_field(f).into_owned()).collect());
            }
            let hides_text = record.iter().any(|f| !f.trim().is_empty());
            (record.len(), edges, hides_text)
        } else {
            let (len, edges) = CellEdges::of_plain(fields());
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
pub(super) struct Chunks {
    pub(super) file: File,
    /// What was read past the last chunk's last line end.
    pub(super) carry: Vec<u8>,
    /// The file offset of `carry`'s first byte.
    pub(super) offset: u64,
    pub(super) eof: bool,
    pub(super) size: usize,
}

impl Chunks {
    /// The lines after those `lines` returned.
    pub(super) fn after(lines: PlainLines, size: usize) -> Chunks {
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
    pub(super) fn next(&mut self, mut spare: Chunk) -> Result<Option<Chunk>, Refusal> {
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
pub(super) type PlainLine<'a> = (u64, u64, &'a [u8]);

/// A file's lines, read in large blocks.
pub(super) struct PlainLines {
    pub(super) file: File,
    pub(super) buffer: Vec<u8>,
    pub(super) at: usize,
    pub(super) filled: usize,
    /// The file offset of `buffer[0]`.
    pub(super) offset: u64,
    pub(super) eof: bool,
    /// The number of the last line returned (the first is 1).
    pub(super) number: u64,
}

impl PlainLines {
    /// The next line (without its LF), with its offset in the file and its
    /// number.
    pub(super) fn next_line(&mut self) -> Result<Option<PlainLine<'_>>, Refusal> {
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
    pub(super) fn fill(&mut self) -> Result<(), Refusal> {
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
