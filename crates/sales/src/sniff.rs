//! Finding a report's shape: its delimiter, its header row (which may come
//! after a preamble) and the preamble's values (period, currency…).
//!
//! The header is the line whose field count the most following lines share;
//! a preamble is whatever comes before it, read as key/value pairs.

/// Delimiters tried, in order of preference when equally good.
pub const DELIMITERS: [char; 4] = ['\t', ',', ';', '|'];

/// Lines examined.
const SAMPLE_LINES: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub delimiter: char,
    /// Index of the header among the text's lines.
    pub header_line: usize,
    pub header: Vec<String>,
    /// Values found before the header, e.g. ("Start Date", "10/01/2017").
    pub preamble: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SniffError {
    #[error(
        "No table found: the file has no line with at least two columns followed by lines like it."
    )]
    NoTable,
    #[error("The file has a header but no data lines.")]
    HeaderOnly,
}

/// Splits one line on `delimiter`, honouring double quotes (`""` inside
/// quotes is a quote).
pub fn split(line: &str, delimiter: char) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == delimiter && !quoted => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields
}

fn looks_numeric(field: &str) -> bool {
    let f = field.trim();
    !f.is_empty()
        && f.chars()
            .all(|c| c.is_ascii_digit() || ".,-+/: ".contains(c))
}

/// A header has names: mostly non-empty, mostly not numbers, with letters
/// in them (ASCII art and ruled lines are not names).
fn plausible_header(fields: &[String]) -> bool {
    let named = fields
        .iter()
        .filter(|f| !f.trim().is_empty() && !looks_numeric(f) && f.chars().any(char::is_alphabetic))
        .count();
    named * 2 > fields.len()
}

/// A header candidate: the fields ordered so that a higher score is better:
/// more lines like it after it, more columns, a preferred delimiter, earlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Score {
    alike: usize,
    columns: usize,
    preference: usize,
    earlier: isize,
}

pub fn sniff(text: &str) -> Result<Layout, SniffError> {
    let lines: Vec<&str> = text.lines().take(SAMPLE_LINES).collect();
    let mut best: Option<(Score, char, usize)> = None;
    for (preference, delimiter) in DELIMITERS.iter().rev().enumerate() {
        // Each line's cell count, and the count without trailing empty
        // cells (exports often end every line with a delimiter).
        let shapes: Vec<(usize, usize)> = lines
            .iter()
            .map(|l| {
                if l.trim().is_empty() {
                    (0, 0)
                } else {
                    let cells = split(l, *delimiter);
                    let filled = cells
                        .iter()
                        .rposition(|c| !c.trim().is_empty())
                        .map_or(0, |i| i + 1);
                    (cells.len(), filled)
                }
            })
            .collect();
        let counts: Vec<usize> = shapes.iter().map(|(all, _)| *all).collect();
        for (index, &columns) in counts.iter().enumerate() {
            if columns < 2 || !plausible_header(&split(lines[index], *delimiter)) {
                continue;
            }
            let alike = shapes[index + 1..]
                .iter()
                .filter(|&&(all, filled)| {
                    all == columns || (all > columns && filled <= columns && filled > 0)
                })
                .count();
            let score = Score {
                alike,
                columns,
                preference,
                earlier: -(index as isize),
            };
            if best.as_ref().is_none_or(|(b, _, _)| score > *b) {
                best = Some((score, *delimiter, index));
            }
        }
    }
    let (Score { alike, .. }, delimiter, header_line) = best.ok_or(SniffError::NoTable)?;
    let header: Vec<String> = split(lines[header_line], delimiter)
        .into_iter()
        .map(|f| f.trim().to_owned())
        .collect();
    if alike == 0 {
        let data_after = lines[header_line + 1..]
            .iter()
            .any(|l| !l.trim().is_empty());
        return Err(if data_after {
            SniffError::NoTable
        } else {
            SniffError::HeaderOnly
        });
    }
    Ok(Layout {
        delimiter,
        header_line,
        header,
        preamble: preamble(&lines[..header_line], delimiter),
    })
}

/// A preamble read as key/value pairs: a header line over a value line, or
/// one `key<delimiter>value` per line.
fn preamble(lines: &[&str], delimiter: char) -> Vec<(String, String)> {
    let rows: Vec<Vec<String>> = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| split(l, delimiter))
        .collect();
    let pair = |k: &String, v: &String| (k.trim().to_owned(), v.trim().to_owned());
    match rows.as_slice() {
        [keys, values] if keys.len() == values.len() && keys.len() > 2 => {
            keys.iter().zip(values).map(|(k, v)| pair(k, v)).collect()
        }
        _ => rows
            .iter()
            .filter(|r| r.len() >= 2)
            .map(|r| pair(&r[0], &r[1]))
            .collect(),
    }
}

/// The first column of a rewritten clean copy: the line of the upload (or
/// the row of its sheet) each row came from.
pub const SOURCE_LINE: &str = "oas_source_line";

/// The lines and cells of a quote-free table: the places of its delimiter
/// and of its line ends, in order, found eight bytes at a time with word
/// arithmetic (no per-match call, which is what searching cell by cell
/// costs on lines of a dozen short cells), on any processor.
pub struct Scanner<'a> {
    bytes: &'a [u8],
    delimiter: u8,
    /// Where the window of `found` starts.
    window: usize,
    /// The window's places not yet given, a bit per byte.
    found: u64,
    /// Where the next window starts.
    next: usize,
    /// Each byte sought (the delimiter, LF), in every byte of a word.
    a: u64,
    b: u64,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const LOW_SEVEN: u64 = 0x7F7F_7F7F_7F7F_7F7F;

/// A bit per byte of `word` (bit `i` for byte `i`, little-endian) that
/// is zero. Exact: `(v & 0x7F..) + 0x7F..` sets a byte's high bit when
/// its low seven bits are not all zero, without carrying into the next.
fn zero_bytes(word: u64) -> u64 {
    let high = !(((word & LOW_SEVEN).wrapping_add(LOW_SEVEN)) | word | LOW_SEVEN);
    // The high bits (7, 15, … 63) gathered into the top byte, in order.
    ((high >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

impl<'a> Scanner<'a> {
    /// A scanner of `bytes`, a table whose cells are split at an ASCII
    /// `delimiter` (which splits UTF-8 text at character boundaries).
    pub fn lines(bytes: &'a [u8], delimiter: u8) -> Scanner<'a> {
        Scanner {
            bytes,
            delimiter,
            window: 0,
            found: 0,
            next: 0,
            a: ONES * u64::from(delimiter),
            b: ONES * u64::from(b'\n'),
        }
    }

    /// Reads the line that starts at `start`, where the scanner stands
    /// (the start, or just after the last line it read): puts where each
    /// cell starts and ends, from `start`, into `cells` (cleared first),
    /// and returns where the line's text ends (before its CR LF or LF)
    /// and where the next line starts.
    pub fn line(&mut self, start: usize, cells: &mut Vec<(usize, usize)>) -> (usize, usize) {
        cells.clear();
        let mut from = start;
        let end = loop {
            match self.next() {
                Some(found) if self.bytes[found] == self.delimiter => {
                    cells.push((from - start, found - start));
                    from = found + 1;
                }
                Some(found) => break found,
                None => break self.bytes.len(),
            }
        };
        let text_end = end - usize::from(self.bytes[start..end].ends_with(b"\r"));
        cells.push((from.min(text_end) - start, text_end - start));
        (text_end, end + 1)
    }

    /// The places of either byte in 64 bytes, a bit each.
    fn window(&self, chunk: &[u8; 64]) -> u64 {
        let mut found = 0;
        for (at, word) in chunk.as_chunks::<8>().0.iter().enumerate() {
            let word = u64::from_le_bytes(*word);
            let both = zero_bytes(word ^ self.a) | zero_bytes(word ^ self.b);
            found |= both << (8 * at);
        }
        found
    }
}

impl Iterator for Scanner<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        loop {
            if self.found != 0 {
                let at = self.window + self.found.trailing_zeros() as usize;
                self.found &= self.found - 1;
                return Some(at);
            }
            let start = self.next;
            let rest = self.bytes.get(start..).filter(|rest| !rest.is_empty())?;
            self.found = match rest.first_chunk::<64>() {
                Some(chunk) => self.window(chunk),
                None => {
                    // The last bytes, padded.
                    let mut chunk = [0u8; 64];
                    chunk[..rest.len()].copy_from_slice(rest);
                    self.window(&chunk) & ((1 << rest.len()) - 1)
                }
            };
            self.window = start;
            self.next = start + rest.len().min(64);
        }
    }
}

/// What a CSV reader passed over before a record: the blank lines it
/// skips, and the line end of the record before when that was CR LF (the
/// reader stops after the CR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lead {
    /// Line ends before the record's first byte.
    pub line_ends: u64,
    /// Whether blank lines came before the record.
    pub blank_lines: bool,
}

/// The [`Lead`] of a record from the bytes read for it: `consumed` runs
/// from where the reader stood after the record before (or at the start),
/// `after_cr` says whether the byte before it is a CR.
pub fn lead(consumed: &[u8], after_cr: bool) -> Lead {
    let length = consumed
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count();
    let prefix = &consumed[..length];
    let line_ends = prefix.iter().filter(|&&b| b == b'\n').count() as u64;
    let own = match prefix.first() {
        Some(b'\n') if after_cr => &prefix[1..],
        _ => prefix,
    };
    Lead {
        line_ends,
        blank_lines: !own.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_scanner_finds_both_bytes_in_order_as_a_plain_search_does() {
        let mut text = Vec::new();
        // Lines of varied width around the 8- and 64-byte edges, with
        // bytes of every kind (UTF-8, high bytes, the bytes next to the
        // ones sought).
        for line in 0..400usize {
            for cell in 0..(line % 13) {
                text.extend(std::iter::repeat_n(
                    b"a\x08\x0b\xc3\xa9\xff\x00"[(line + cell) % 7],
                    (line * 7 + cell) % 19,
                ));
                text.push(b'\t');
            }
            text.extend_from_slice(b"end\r");
            text.push(b'\n');
        }
        // Line by line: each line's cells as splitting it says.
        let mut scanner = Scanner::lines(&text, b'\t');
        let (mut at, mut cells) = (0, Vec::new());
        while at < text.len() {
            let (end, next) = scanner.line(at, &mut cells);
            let line = &text[at..end];
            let expected: Vec<&[u8]> = line.split(|b| *b == b'\t').collect();
            let found: Vec<&[u8]> = cells.iter().map(|&(a, b)| &line[a..b]).collect();
            assert_eq!(found, expected, "the line at {at}");
            assert_eq!(text[end..next], *b"\r\n");
            at = next;
        }
        for length in [0, 1, 7, 8, 63, 64, 65, 127, 128, 129, text.len()] {
            let bytes = &text[..length.min(text.len())];
            let found: Vec<usize> = Scanner::lines(bytes, b'\t').collect();
            let expected: Vec<usize> = memchr::memchr2_iter(b'\t', b'\n', bytes).collect();
            assert_eq!(found, expected, "{length} bytes");
        }
    }

    #[test]
    fn what_comes_before_a_record_is_told_apart_whatever_the_line_ends() {
        use super::{Lead, lead};
        let lead_of = |consumed: &[u8], after_cr| lead(consumed, after_cr);
        let none = Lead {
            line_ends: 0,
            blank_lines: false,
        };
        assert_eq!(lead_of(b"a,b\n", false), none);
        assert_eq!(
            lead_of(b"\na,b\r", true),
            Lead {
                line_ends: 1,
                blank_lines: false
            },
            "the LF of the CR LF before"
        );
        assert_eq!(
            lead_of(b"\n\r\na,b\r", true),
            Lead {
                line_ends: 2,
                blank_lines: true
            }
        );
        assert_eq!(
            lead_of(b"\n\na,b\n", false),
            Lead {
                line_ends: 2,
                blank_lines: true
            }
        );
        assert_eq!(
            lead_of(b"\ra,b\r", true),
            Lead {
                line_ends: 0,
                blank_lines: true
            },
            "a blank line ended by a lone CR"
        );
        assert_eq!(lead_of(b",a\n", false), none);
    }

    use super::*;
    use crate::decode::decode;

    fn sample(path: &str) -> String {
        // The package folder as cargo runs the test (not as compiled: a
        // shared target directory may hold a build from another checkout).
        let package = std::env::var("CARGO_MANIFEST_DIR").unwrap();
        let full = format!("{package}/../../../shared/samples/{path}");
        decode(&std::fs::read(full).unwrap()).unwrap().text
    }

    #[test]
    fn spotify_has_a_two_line_preamble_of_values() {
        let layout = sniff(&sample(
            "spotify/Spotify_streaming_via_finetunes_201710_example.txt",
        ))
        .unwrap();
        assert_eq!((layout.delimiter, layout.header_line), ('\t', 2));
        assert_eq!(layout.header[0], "Country");
        assert_eq!(layout.header.last().unwrap(), "USD Payable");
        assert!(
            layout
                .preamble
                .contains(&("Start date".into(), "2017-10-01".into())),
            "{:?}",
            layout.preamble
        );
    }

    #[test]
    fn apple_streams_have_key_value_lines_first() {
        let layout = sniff(&sample(
            "apple/Apple_Streams_S1_80032046_1117_AU_201710_example.txt",
        ))
        .unwrap();
        assert_eq!(
            (
                layout.delimiter,
                layout.header_line,
                layout.header[0].as_str()
            ),
            ('\t', 4, "Storefront Name")
        );
        assert!(
            layout.preamble.contains(&("Currency".into(), "AUD".into())),
            "{:?}",
            layout.preamble
        );
    }

    #[test]
    fn distributors_tables_start_on_the_first_line() {
        for (path, delimiter, first) in [
            ("distributors/DistroKid_Test.tsv", '\t', "Reporting Date"),
            ("distributors/Tunecore_Test.csv", ',', "Sales Period"),
            ("distributors/CdBaby_Test.txt", '\t', "Report Date"),
            ("distributors/bandcamp-simple-3-songs.csv", ',', "date"),
            ("distributors/cargo-simple-3-songs.csv", ',', "Royalty ID"),
            ("apple/Apple_DL_80032046_AU_example.txt", '\t', "Start Date"),
        ] {
            let layout = sniff(&sample(path)).unwrap();
            assert_eq!(
                (
                    layout.delimiter,
                    layout.header_line,
                    layout.header[0].as_str()
                ),
                (delimiter, 0, first),
                "{path}"
            );
            assert!(layout.preamble.is_empty(), "{path}");
        }
    }

    #[test]
    fn semicolons_decimal_commas_and_quotes() {
        let text = "Reporting month;Platform;Quantity;Net Revenue\n2023-01;Deezer;3;\"1,25\"\n2023-01;Spotify;10;0,021330\n";
        let layout = sniff(text).unwrap();
        assert_eq!((layout.delimiter, layout.header.len()), (';', 4));
        assert_eq!(
            split("a;\"b;c\";\"say \"\"hi\"\"\"", ';'),
            ["a", "b;c", "say \"hi\""]
        );
    }

    #[test]
    fn header_only_and_tableless_text_are_refused() {
        assert_eq!(
            sniff("Country,Quantity,Revenue\n"),
            Err(SniffError::HeaderOnly)
        );
        assert_eq!(
            sniff("just one line of prose\nand another\n"),
            Err(SniffError::NoTable)
        );
    }
}
