//! The encoding of an upload: a BOM, UTF-16 by its zero bytes, UTF-8 when
//! the whole file validates, else Windows-1252.

use super::*;

/// The text encoding: a BOM's, else UTF-16 by its zero bytes, else UTF-8
/// when the head is valid UTF-8 (a later invalid byte makes the reading
/// start again as Windows-1252), else Windows-1252.
pub(super) fn encoding_of(head: &[u8]) -> &'static Encoding {
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
pub(super) fn is_utf8(path: &Path) -> std::io::Result<bool> {
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
pub(super) fn utf8_reader(
    path: &Path,
    encoding: &'static Encoding,
) -> Result<Box<dyn BufRead>, Refusal> {
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
