//! Bytes to clean text: the encoding is taken from a byte-order mark
//! (UTF-8, UTF-16 LE or BE), else UTF-8 when the bytes are valid UTF-8,
//! else Windows-1252 (which also reads Latin-1 text as written). NUL bytes
//! and zero-width characters are removed, and line ends become `\n`.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// What a decoding found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    /// The encoding's name, e.g. `UTF-8`, `UTF-16LE`, `windows-1252`.
    pub encoding: &'static str,
    pub had_bom: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("The file is empty.")]
    Empty,
    #[error("The file holds no text: it looks like binary data.")]
    Binary,
}

const ZERO_WIDTH: [char; 5] = ['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'];

/// A character cleaning removes from every cell: NUL or a zero-width one.
/// Cleaning and importing judge a cell empty by the same rule.
pub fn invisible(c: char) -> bool {
    c == '\0' || ZERO_WIDTH.contains(&c)
}

pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let (encoding, had_bom): (&'static Encoding, bool) = match Encoding::for_bom(bytes) {
        Some((encoding, _)) => (encoding, true),
        None if looks_like_utf16(bytes, true) => (UTF_16LE, false),
        None if looks_like_utf16(bytes, false) => (UTF_16BE, false),
        None if std::str::from_utf8(bytes).is_ok() => (UTF_8, false),
        None => (WINDOWS_1252, false),
    };
    // `decode` drops a BOM of the detected encoding itself.
    let (text, _, _) = encoding.decode(bytes);
    let text: String = text
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| *c != '\0' && !ZERO_WIDTH.contains(c))
        .collect();
    if text.trim().is_empty() {
        return Err(DecodeError::Empty);
    }
    // Text has few control characters besides tab and line ends.
    let controls = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\t' | '\n'))
        .count();
    if controls * 20 > text.chars().count() {
        return Err(DecodeError::Binary);
    }
    Ok(Decoded {
        text,
        encoding: encoding.name(),
        had_bom,
    })
}

/// UTF-16 without a BOM: ASCII text leaves every other byte zero.
pub fn looks_like_utf16(bytes: &[u8], little_endian: bool) -> bool {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    if sample.len() < 8 {
        return false;
    }
    let zero_at = usize::from(little_endian);
    let pairs = sample.len() / 2;
    let zeros = sample
        .chunks_exact(2)
        .filter(|pair| pair[zero_at] == 0 && pair[1 - zero_at] != 0)
        .count();
    zeros * 10 >= pairs * 9
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, little_endian: bool, bom: bool) -> Vec<u8> {
        let mut bytes = Vec::new();
        if bom {
            bytes.extend(if little_endian {
                [0xFF, 0xFE]
            } else {
                [0xFE, 0xFF]
            });
        }
        for unit in text.encode_utf16() {
            bytes.extend(if little_endian {
                unit.to_le_bytes()
            } else {
                unit.to_be_bytes()
            });
        }
        bytes
    }

    #[test]
    fn every_encoding_of_the_same_report_reads_the_same() {
        let expected = "Artist;Title\nBeyoncé;Déjà vu\n";
        let cases: Vec<(Vec<u8>, &str, bool)> = vec![
            (expected.as_bytes().to_vec(), "UTF-8", false),
            (
                [&[0xEF, 0xBB, 0xBF][..], expected.as_bytes()].concat(),
                "UTF-8",
                true,
            ),
            (utf16(expected, true, true), "UTF-16LE", true),
            (utf16(expected, false, true), "UTF-16BE", true),
            (utf16(expected, true, false), "UTF-16LE", false),
            (
                b"Artist;Title\r\nBeyonc\xe9;D\xe9j\xe0 vu\r\n".to_vec(),
                "windows-1252",
                false,
            ),
        ];
        for (bytes, encoding, had_bom) in cases {
            let decoded = decode(&bytes).unwrap();
            assert_eq!(
                (decoded.text.as_str(), decoded.encoding, decoded.had_bom),
                (expected, encoding, had_bom)
            );
        }
    }

    #[test]
    fn nul_and_zero_width_characters_are_removed() {
        let decoded = decode("IS\u{200B}RC\0;Qu\u{FEFF}antity\n".as_bytes()).unwrap();
        assert_eq!(decoded.text, "ISRC;Quantity\n");
    }

    #[test]
    fn empty_and_binary_files_are_refused_with_a_reason() {
        assert_eq!(decode(b""), Err(DecodeError::Empty));
        assert_eq!(decode(b" \r\n\0\0 "), Err(DecodeError::Empty));
        let binary: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 32) as u8).collect();
        assert_eq!(decode(&binary), Err(DecodeError::Binary));
    }
}
