//! Cleaning, file to file, on the samples and on hostile inputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};

use oas_uploads::clean::{Cleaned, Limits, Refusal, clean};

fn sample(path: &str) -> PathBuf {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../../../shared/samples")
        .join(path)
}

fn run(path: &Path) -> (Result<Cleaned, Refusal>, tempfile::TempDir) {
    let work = tempfile::tempdir().unwrap();
    (clean(path, work.path(), &Limits::default()), work)
}

fn written(bytes: &[u8]) -> (Result<Cleaned, Refusal>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("upload");
    std::fs::write(&input, bytes).unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    (clean(&input, &work, &Limits::default()), dir)
}

fn table(result: Result<Cleaned, Refusal>) -> oas_uploads::clean::Table {
    match result {
        Ok(Cleaned::Table(table)) => table,
        other => panic!("expected a table: {other:?}"),
    }
}

/// Data lines of a sample, counted plainly: non-blank lines after the header.
fn data_lines(path: &Path, header_starts: &str) -> u64 {
    let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_start_matches('\u{feff}').starts_with(header_starts))
        .unwrap();
    lines[at + 1..]
        .iter()
        .filter(|l| !l.trim().is_empty())
        .count() as u64
}

#[test]
fn text_samples_become_clean_csv_with_their_header_first_and_every_line_kept() {
    for (path, header, delimiter) in [
        (
            "spotify/Spotify_streaming_via_finetunes_201710_example.txt",
            "Country",
            "\t",
        ),
        (
            "apple/Apple_Streams_S1_80032046_1117_AU_201710_example.txt",
            "Storefront Name",
            "\t",
        ),
        ("apple/Apple_DL_80032046_AU_example.txt", "Start Date", "\t"),
        ("distributors/CdBaby_Test.txt", "Report Date", "\t"),
        (
            "distributors/DistroKid_NonAscii.tsv",
            "Reporting Date",
            "\t",
        ),
        ("distributors/Tunecore_Test.csv", "Sales Period", ","),
        ("distributors/bandcamp-non-ascii.csv", "date", ","),
        ("distributors/cargo-simple-3-songs.csv", "Royalty ID", ","),
    ] {
        let full = sample(path);
        let (result, _work) = run(&full);
        let table = table(result);
        assert_eq!(table.delimiter, delimiter, "{path}");
        assert!(table.as_uploaded, "{path} is clean UTF-8 already");
        assert!(
            table.header[0].starts_with(header),
            "{path}: {:?}",
            table.header
        );
        assert_eq!(table.rows, data_lines(&full, header), "{path}");
        // Clean UTF-8 is its own clean copy, read past its preamble with its
        // own delimiter; anything else is rewritten as CSV.
        let cleaned = std::fs::read_to_string(&table.facts.path).unwrap();
        let (text, delimiter) = if table.as_uploaded {
            assert_eq!(table.facts.path, full);
            let start: usize = cleaned
                .split_inclusive('\n')
                .take(table.skip_lines)
                .map(str::len)
                .sum();
            (&cleaned[start..], table.delimiter.as_bytes()[0])
        } else {
            (cleaned.as_str(), b',')
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        // A rewritten copy starts each row with the line it came from.
        let numbered = usize::from(!table.as_uploaded);
        assert_eq!(
            reader.headers().unwrap().len(),
            table.header.len() + numbered
        );
        assert_eq!(reader.records().count() as u64, table.rows, "{path}");
    }
}

#[test]
fn preamble_values_are_kept() {
    let (result, _work) = run(&sample(
        "apple/Apple_Streams_S1_80032046_1117_AU_201710_example.txt",
    ));
    let table = table(result);
    assert!(
        table.preamble.contains(&("Currency".into(), "AUD".into())),
        "{:?}",
        table.preamble
    );
    assert!(
        table
            .preamble
            .contains(&("Start Date".into(), "10/01/2017".into()))
    );
}

#[test]
fn encodings_become_utf8_and_invisible_characters_go() {
    let text = "Artist\tTitle\tAmount\nZoë\tCafé\t1.5\nJosé\tNiño\t2\n";
    let mut utf16 = vec![0xff, 0xfe];
    for unit in text.encode_utf16() {
        utf16.extend(unit.to_le_bytes());
    }
    let (latin, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    let dirty = "Artist\tTitle\tAmount\nZo\u{200b}ë\tCa\u{0}fé\t1.5\nJosé\tNiño\t2\n";
    for (bytes, encoding) in [
        (utf16, "UTF-16LE"),
        (latin.into_owned(), "windows-1252"),
        (dirty.as_bytes().to_vec(), "UTF-8"),
    ] {
        let (result, _dir) = written(&bytes);
        let table = table(result);
        assert_eq!(table.facts.encoding, encoding);
        let cleaned = std::fs::read_to_string(&table.facts.path).unwrap();
        assert_eq!(
            cleaned, "oas_source_line,Artist,Title,Amount\n2,Zoë,Café,1.5\n3,José,Niño,2\n",
            "each row with the line it came from"
        );
    }
}

#[test]
fn spreadsheets_and_gzip_are_read() {
    let (result, _work) = run(&sample("distributors/Cargo_Physical_Test.xlsx"));
    let table = table(result);
    assert_eq!(table.facts.source_type, "xlsx");
    assert!(table.header.contains(&"Net after fee".to_owned()));
    assert!(table.rows > 0);
    let (result, _work) = run(&sample("ddex-dsr/test_file_parser.tsv.gz"));
    match result.unwrap() {
        Cleaned::Dsr(dsr) => assert_eq!(dsr.facts.source_type, "gzip"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn what_is_not_a_report_is_refused_with_its_reason() {
    let (result, _work) = run(&sample("distributors/gubbins.txt"));
    assert_eq!(result.unwrap_err(), Refusal::NotAReport);
    assert_eq!(written(b"").0.unwrap_err(), Refusal::Empty);
    assert_eq!(written(b"\n\n  \n").0.unwrap_err(), Refusal::Empty);
    assert_eq!(
        written(b"Artist,Title,Amount\n").0.unwrap_err(),
        Refusal::HeaderOnly
    );
    let pdf = written(b"%PDF-1.7\n%binary").0.unwrap_err();
    assert!(pdf.to_string().contains("a PDF document"), "{pdf}");
    let noise: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    assert_eq!(written(&noise).0.unwrap_err(), Refusal::Binary);
    let shifted = written(b"Artist,Title,Amount\nA,B,1\nC,D,2,surprise\n")
        .0
        .unwrap_err();
    assert!(matches!(shifted, Refusal::Irregular(_)), "{shifted:?}");
}

#[test]
fn a_summary_block_after_the_table_is_counted_not_imported() {
    let (result, _dir) = written(b"Country,Artist,Amount\nAU,A,1\nAU,B,2\n\nTotal\nAU,3,x,y\n");
    let table = table(result);
    assert_eq!((table.rows, table.trailing_lines), (2, 2));
}

fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut buffer = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buffer);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            zip.start_file(*name, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
    }
    buffer.into_inner()
}

#[test]
fn archives_expand_within_limits_and_nothing_escapes() {
    let report = b"Artist,Title,Amount\nA,B,1\n".to_vec();
    let bytes = zip_of(&[
        ("reports/a.csv", report.clone()),
        ("../../etc/evil.csv", report.clone()),
        ("__MACOSX/._a.csv", b"x".to_vec()),
        ("nested.zip", b"PK".to_vec()),
        ("b.tsv", report.clone()),
    ]);
    let (result, dir) = written(&bytes);
    let Cleaned::Archive(archive) = result.unwrap() else {
        panic!("an archive")
    };
    let names: Vec<&str> = archive.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["a.csv", "b.tsv"]);
    let skipped: Vec<&str> = archive.skipped.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        skipped,
        ["../../etc/evil.csv", "__MACOSX/._a.csv", "nested.zip"]
    );
    for member in &archive.members {
        assert!(member.path.starts_with(dir.path()));
        assert_eq!(std::fs::read(&member.path).unwrap(), report);
    }

    // A bomb: megabytes of zeros squeezed into a few kilobytes.
    let bomb = zip_of(&[("zeros.csv", vec![b'0'; 20 * 1024 * 1024])]);
    let refused = written(&bomb).0.unwrap_err();
    assert!(matches!(refused, Refusal::TooLarge(_)), "{refused:?}");
    assert!(refused.to_string().contains("archive bomb"), "{refused}");

    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("many.zip");
    let many: Vec<(String, Vec<u8>)> = (0..5)
        .map(|i| (format!("{i}.csv"), report.clone()))
        .collect();
    let entries: Vec<(&str, Vec<u8>)> = many.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    std::fs::write(&input, zip_of(&entries)).unwrap();
    let limits = Limits {
        max_members: 3,
        ..Limits::default()
    };
    let refused = clean(&input, dir.path(), &limits).unwrap_err();
    assert!(
        refused.to_string().contains("more than 3 files"),
        "{refused}"
    );
    let limits = Limits {
        max_expanded_bytes: 60,
        ..Limits::default()
    };
    let refused = clean(&input, dir.path(), &limits).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("expands to more than 60 bytes"),
        "{refused}"
    );
    let damaged = written(b"PK\x03\x04 this is not really a zip")
        .0
        .unwrap_err();
    assert!(matches!(damaged, Refusal::Corrupt(_)), "{damaged:?}");
}

#[test]
fn a_latin1_byte_after_a_utf8_looking_start_reads_the_file_again_as_windows_1252() {
    let mut bytes = b"Artist,Title,Amount\n".to_vec();
    for i in 0..5000 {
        bytes.extend(format!("Artist {i},Title {i},1.5\n").as_bytes());
    }
    bytes.extend(b"Caf\xe9 Tacvba,Ojal\xe1,2\n");
    assert!(bytes.len() > 64 * 1024, "the odd byte lies past the head");
    let (result, _dir) = written(&bytes);
    let table = table(result);
    assert_eq!(table.facts.encoding, "windows-1252");
    assert_eq!(table.rows, 5001);
    let cleaned = std::fs::read_to_string(&table.facts.path).unwrap();
    assert!(cleaned.ends_with("\n5002,Café Tacvba,Ojalá,2\n"));
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn gzip_is_inflated_whole_into_a_clean_copy_of_its_own_within_its_ratio() {
    // Two members, as `cat a.gz b.gz` makes: both are read.
    let mut bytes = gzip(b"Artist,Title,Amount\nA,B,1\n");
    bytes.extend(gzip(b"C,D,2\n"));
    let (result, _dir) = written(&bytes);
    let table = table(result);
    assert_eq!((table.facts.source_type.as_str(), table.rows), ("gzip", 2));
    assert!(
        !table.as_uploaded,
        "the upload is compressed: the clean copy is written"
    );
    assert_eq!(
        std::fs::read_to_string(&table.facts.path).unwrap(),
        "oas_source_line,Artist,Title,Amount\n2,A,B,1\n3,C,D,2\n"
    );
    let bomb = gzip(&vec![b'0'; 20 * 1024 * 1024]);
    let refused = written(&bomb).0.unwrap_err();
    assert!(matches!(refused, Refusal::TooLarge(_)), "{refused:?}");
}

#[test]
fn rows_after_a_blank_line_shaped_like_the_data_stay_in_the_table() {
    let (result, _dir) = written(b"Country,Artist,Amount\nAU,A,1,\nAU,B,2,\n\nAU,C,3,\nAU,D,4,\n");
    let table = table(result);
    assert_eq!((table.rows, table.trailing_lines), (4, 0));
}

#[test]
fn a_line_blank_only_once_cleaned_is_not_passed_through() {
    let (result, _dir) = written("Artist,Amount\nA,1\n\u{200b}\nB,2\n".as_bytes());
    let table = table(result);
    assert!(!table.as_uploaded);
    assert_eq!(table.rows, 2);
}

/// An XLSX workbook of one sheet holding `cells` (reference, text).
fn xlsx(cells: &[(String, String)]) -> Vec<u8> {
    let mut rows: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
    for (reference, text) in cells {
        let row: u32 = reference
            .trim_start_matches(|c: char| c.is_ascii_alphabetic())
            .parse()
            .unwrap();
        rows.entry(row).or_default().push(format!(
            r#"<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>"#
        ));
    }
    let sheet_data: String = rows
        .iter()
        .map(|(row, cells)| format!(r#"<row r="{row}">{}</row>"#, cells.concat()))
        .collect();
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_owned(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_owned(),
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Report" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_owned(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_owned(),
        ),
        (
            "xl/worksheets/sheet1.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet_data}</sheetData></worksheet>"#
            ),
        ),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, text) in parts {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn report_cells(rows: u32) -> Vec<(String, String)> {
    let mut cells = vec![
        ("A1".to_owned(), "Artist".to_owned()),
        ("B1".to_owned(), "Title".to_owned()),
        ("C1".to_owned(), "Amount".to_owned()),
    ];
    for row in 2..rows + 2 {
        cells.push((format!("A{row}"), format!("Artist {row}")));
        cells.push((format!("B{row}"), format!("Title {row}")));
        cells.push((format!("C{row}"), format!("0.{row}")));
    }
    cells
}

#[test]
fn a_sheet_with_a_cell_far_off_is_read_for_what_it_holds_not_the_grid_it_spans() {
    // A1 to XFD1048576: seventeen billion cells as a grid.
    let mut cells = report_cells(3);
    cells.push(("XFD1048576".to_owned(), "stray".to_owned()));
    let (result, _dir) = written(&xlsx(&cells));
    let table = table(result);
    assert_eq!(table.facts.source_type, "xlsx");
    assert_eq!(table.header[..3], ["Artist", "Title", "Amount"]);
    assert_eq!(table.header.len(), 16384, "as wide as its far cell");
    assert_eq!(
        table.rows, 4,
        "the stray cell's row has the table's width: a line of its own"
    );
}

#[test]
fn a_sheet_spreading_many_rows_over_every_column_is_refused() {
    let mut cells = report_cells(5000);
    cells.push(("XFD2".to_owned(), "wide".to_owned()));
    let (result, _dir) = written(&xlsx(&cells));
    match result {
        Err(Refusal::TooLarge(cause)) => {
            assert!(cause.contains("Save the report as CSV"), "{cause}")
        }
        other => panic!("expected a refusal: {other:?}"),
    }
}
