use super::*;

/// The layout of a table under `header_line` preamble lines.
fn layout(delimiter: char, header_line: usize) -> sniff::Layout {
    sniff::Layout {
        delimiter,
        header_line,
        header: vec![],
        preamble: vec![],
    }
}

/// Lines a report may hold, quotes aside.
const PIECES: [&str; 17] = [
    "1\tx\t2.5",
    "9\t\u{a0}é\t1",
    "10\tà\u{3000}\t1",
    "\u{feff}\t\t",
    "11\tx\0\t2",
    "12\tÿ \t\u{2003}",
    "2\ty\t0.25",
    "3\tz",
    "4\tw\t1\t\t",
    "5\tv\t1\textra",
    "",
    "   ",
    "Total\t9",
    "6\t u \t1",
    "7\t\u{200b}\t1",
    "\t\t",
    "8\tÿ\t3",
];

#[test]
fn the_plain_check_reads_every_table_as_the_csv_reader_does() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("report.txt");
    let mut seed = 7u64;
    let mut random = |below: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % below
    };
    for case in 0..400 {
        let crlf = case % 3 == 0;
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = String::from("Period\t2024-01");
        text.push_str(end);
        text.push_str("id\tname\tamount");
        for _ in 0..random(12) {
            text.push_str(end);
            text.push_str(PIECES[random(PIECES.len())]);
        }
        if random(2) == 0 {
            text.push_str(end);
        }
        std::fs::write(&path, &text).unwrap();
        let layout = layout('\t', 1);
        let csv = table_of(&path, UTF_8, &layout, None);
        // Checked whole, and in chunks of a few lines or of one.
        for chunk in [CHUNK, 16, 1] {
            let plain = plain_table_in_chunks(&path, &layout, chunk);
            assert_eq!(plain, csv, "case {case}, chunks of {chunk}: {text:?}");
        }
    }
}

#[test]
fn the_plain_check_reads_a_table_larger_than_its_buffer_as_the_csv_reader_does() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("report.txt");
    let layout = layout('\t', 1);
    let mut text = String::from("Period\t2024-01\r\nid\tname\tamount\r\n");
    let mut n = 0;
    while text.len() < 3 << 20 {
        n += 1;
        let piece = PIECES[n % PIECES.len()];
        // No summary block: blank lines only between rows of the shape.
        if piece.split('\t').count() == 3 && !piece.trim().is_empty() {
            text.push_str(piece);
            text.push_str(if n % 2 == 0 { "\r\n" } else { "\n" });
        }
    }
    text.push_str("Total\t9\n");
    std::fs::write(&path, &text).unwrap();
    let plain = plain_table_of(&path, &layout).unwrap();
    assert_eq!(Ok(&plain), table_of(&path, UTF_8, &layout, None).as_ref());
    // Blocks of a few hundred lines, checked on every core.
    let chunked = plain_table_in_chunks(&path, &layout, 4096).unwrap();
    assert_eq!(chunked, plain);
    assert!(plain.rows > 20_000, "{} rows", plain.rows);
    assert!(plain.dirty, "cells to trim");
}

/// What a refusal must be.
type Expected = fn(&Refusal) -> bool;

#[test]
fn the_first_fault_in_the_file_is_the_one_reported_whatever_the_chunks() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("report.txt");
    let layout = layout(',', 0);
    let rows = |n: usize| "1,x\n".repeat(n);
    let irregular = "2,y,extra\n";
    let cases: [(Vec<u8>, Expected); 3] = [
        // A row wider than the header, then quotes further on.
        (
            format!("a,b\n{}{irregular}{}3,\"q\"\n", rows(50), rows(500)).into_bytes(),
            |r| matches!(r, Refusal::Irregular(m) if m.contains("Data line 51 ")),
        ),
        // Quotes first, then a row wider than the header.
        (
            format!("a,b\n{}3,\"q\"\n{}{irregular}", rows(50), rows(500)).into_bytes(),
            |r| *r == Refusal::NotPlain,
        ),
        // A row wider than the header, then bytes that are not UTF-8.
        (
            [
                format!("a,b\n{}{irregular}{}", rows(50), rows(500)).as_bytes(),
                b"4,\xff\n",
            ]
            .concat(),
            |r| matches!(r, Refusal::Irregular(_)),
        ),
    ];
    for (text, expected) in cases {
        std::fs::write(&path, &text).unwrap();
        // Chunks far smaller than the file (a chunk is refused whole
        // for quotes or bytes that are not UTF-8 before its lines are
        // judged, as reading it on one thread did).
        for chunk in [512, 64, 5] {
            let refusal = plain_table_in_chunks(&path, &layout, chunk).unwrap_err();
            assert!(expected(&refusal), "chunks of {chunk}: {refusal:?}");
        }
    }
}

#[test]
fn the_ascii_spaces_are_those_that_trimming_removes() {
    for byte in 0u8..128 {
        assert_eq!(
            ascii_space(byte),
            char::from(byte).is_whitespace(),
            "byte {byte:#04x}"
        );
    }
}

#[test]
fn quotes_and_lone_carriage_returns_are_left_to_the_csv_reader() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("report.txt");
    let layout = layout(',', 0);
    for text in ["a,b\n1,\"x\"\n", "a,b\r1,2\r"] {
        std::fs::write(&path, text).unwrap();
        assert_eq!(plain_table_of(&path, &layout), Err(Refusal::NotPlain));
    }
}
