use super::*;

const TEST: &str = "DSR_TEST_YouTube_AdSupport-music_2015-Q4_IS_1of1_20160121T150926.tsv";
const TEST2: &str = "DSR_TEST2_YouTube_AdSupport-music_2015-Q4_IS_1of1_20160121T150926.tsv";
const PADPIDA_1OF1: &str =
    "DSR_PADPIDA2014999999Z_PADPIDA2014111801Y_AdSupport_2015-02_AU_1of1_20150723T092522.tsv";
const PADPIDA_1OF2: &str =
    "DSR_PADPIDA2014999999Z_PADPIDA2014111801Y_AdSupport_2015-02_AU_1of2_20150723T092522.tsv";
const PADPIDA_2OF2: &str =
    "DSR_PADPIDA2014999999Z_PADPIDA2014111801Y_AdSupport_2015-02_AU_2of2_20150723T092522.tsv";
const FILE_PARSER: &str = "test_file_parser.tsv";

fn sample(name: &str) -> String {
    let path = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../../../shared/samples/ddex-dsr")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// A small DSR in the layout of the YouTube files.
///
/// One SY02.01 summary record with `revenue`, then a block per entry of
/// `usages`, each an AS01 sound recording and an RU01 usage record
/// without revenue.
fn handmade(message: &str, file: u32, files: u32, revenue: &str, usages: &[i64]) -> String {
    let total: i64 = usages.iter().sum();
    let mut lines = vec![
        format!(
            "HEAD\tdsrf/30\tUGCProfile\t1.1\t{message}\t2016-01-21T15:09:26Z\t{file}\t{files}\t2015-10-01\t2015-12-31\tPADPIDA2013020802I\tYouTube"
        ),
        "#HEAD\tMessageVersion\tProfile\tProfileVersion\tMessageId\tMessageCreatedDateTime\tFileNumber\tNumberofFiles\tUsageStartDate\tUsageEndDate\tSenderPartyId\tSenderName".to_owned(),
        "#SY02.01\tSummaryRecordId\tCommercialModel\tUseType\tTerritory\tServiceDescription\tUsages\tCurrency\tNetRevenue".to_owned(),
        "#AS01\tBlockId\tResourceReference\tDspResourceId\tISRC\tTitle\tSubTitle\tDisplayArtistName".to_owned(),
        "#RU01\tBlockId\tSummaryRecordId\tDspReleaseId\tUsages".to_owned(),
        "#FOOT\tNumberOfLinesInFile\tNumberOfLinesInReport\tNumberOfSummaryRecords\tNumberOfBlocksInFile\tNumberOfBlocksInReport".to_owned(),
        format!(
            "SY02.01\t1\tAdvertisementSupportedModel\tStream\tIS\tAdSupport-music\t{total}\tUSD\t{revenue}"
        ),
    ];
    for (index, count) in usages.iter().enumerate() {
        let block = index + 1;
        lines.push(format!(
            "AS01\t{block}\tR{block}\tD{block}\tnl-a1z-26-{block:05}\tTrack {block}\t\tArtist {block}"
        ));
        lines.push(format!("RU01\t{block}\t1\tV{block}\t{count}"));
    }
    let count = lines.len() + 1;
    let blocks = usages.len();
    lines.push(format!("FOOT\t{count}\t{count}\t1\t{blocks}\t{blocks}"));
    lines.join("\n") + "\n"
}

/// An amount in units of 12 decimal places, read without the module.
fn units(amount: &str) -> i128 {
    let (negative, digits) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    assert!(fraction.len() <= 12, "{amount}");
    let value: i128 = format!("{whole}{fraction:0<12}").parse().unwrap();
    if negative { -value } else { value }
}

/// The source amount of a YouTube test file, read independently.
///
/// The NetRevenue of its SU records, found by the `#SU` header row.
/// Every SU record of these files carries one, so no summary record
/// adds any.
fn source_amount(text: &str) -> i128 {
    let mut column = None;
    let mut total = 0;
    for line in text.lines() {
        let cells: Vec<&str> = line.split('\t').collect();
        if cells[0].starts_with("#SU") {
            column = cells.iter().position(|cell| *cell == "NetRevenue");
        } else if cells[0].starts_with("SU") {
            let amount = cells[column.unwrap()];
            assert!(!amount.is_empty(), "{line}");
            total += units(amount);
        }
    }
    total
}

fn revenue_total(report: &DsrReport) -> i128 {
    report.lines.iter().map(|line| units(&line.revenue)).sum()
}

#[test]
fn the_youtube_test_file_imports() {
    let report = parse(&sample(TEST)).unwrap();
    assert_eq!(report.message_id, "1453417766009915");
    assert_eq!((report.file_number, report.number_of_files), (1, 1));
    assert_eq!(report.usage_start.as_deref(), Some("2015-10-01"));
    assert_eq!(report.usage_end.as_deref(), Some("2015-12-31"));
    assert_eq!(report.sender.as_deref(), Some("YouTube"));
    assert_eq!(report.currency.as_deref(), Some("USD"));
    assert_eq!(report.summary_records, 4);

    // The SU records only: the RU records on lines 16, 21 and 26 repeat
    // the usage of their blocks' SU records.
    let numbers: Vec<usize> = report.lines.iter().map(|l| l.line_number).collect();
    assert_eq!(numbers, [17, 22, 27, 29, 31, 33]);
    let isrcs: Vec<&str> = report
        .lines
        .iter()
        .map(|l| l.isrc.as_deref().unwrap())
        .collect();
    assert_eq!(
        isrcs,
        [
            "USSM19803037",
            "USUV71101875",
            "USRH10903879",
            "USRH10903879",
            "USRH10903879",
            "USRH10903879"
        ]
    );
    let quantities: Vec<i64> = report.lines.iter().map(|l| l.quantity).collect();
    assert_eq!(quantities, [7810, 2045, 18, 4, 258, 75]);
    let revenues: Vec<&str> = report.lines.iter().map(|l| l.revenue.as_str()).collect();
    assert_eq!(revenues, ["2.0", "2.0", "0.0", "0.0", "0.0", "3.0"]);
    for line in &report.lines {
        assert_eq!(line.territory.as_deref(), Some("IS"));
        assert_eq!(line.currency.as_deref(), Some("USD"));
        assert_eq!(line.dsp.as_deref(), Some("YouTube"));
        assert_eq!(line.service.as_deref(), Some("AdSupport-music"));
        assert_eq!(line.use_type.as_deref(), Some("Stream"));
        assert_eq!(line.upc, None, "the file has no RE records");
    }
    let first = &report.lines[0];
    assert_eq!(first.title.as_deref(), Some("Sexual Healing"));
    assert_eq!(first.artist.as_deref(), Some("Marvin Gaye"));
    assert_eq!(first.start.as_deref(), Some("2015-10-01"));
    assert_eq!(first.end.as_deref(), Some("2015-12-31"));
    let third = &report.lines[2];
    assert_eq!(third.start.as_deref(), Some("2015-10-01"));
    assert_eq!(third.end.as_deref(), Some("2015-10-02"));
}

#[test]
fn the_second_youtube_test_file_has_a_footer_one_line_off() {
    // TEST2 is TEST without the LI01.01 line of block 1, its footer
    // left at 35: it has 34 lines.
    let text = sample(TEST2);
    assert_eq!(
        parse(&text),
        Err(DsrError::LineCount {
            declared: 35,
            actual: 34
        })
    );
    // Everything else about it is sound.
    let report = combine(vec![read_with(&text, false).unwrap()]).unwrap();
    assert_eq!(report.lines.len(), 6);
    assert_eq!(report.summary_records, 4);
    assert_eq!(report.currency.as_deref(), Some("USD"));
    for line in &report.lines {
        assert_eq!(line.territory.as_deref(), Some("IS"));
        assert_eq!(line.currency.as_deref(), Some("USD"));
    }
    assert_eq!(report.lines[1].isrc.as_deref(), Some("USUV71101875"));
}

#[test]
fn lines_add_up_to_the_source_amount() {
    let text = sample(TEST);
    let report = parse(&text).unwrap();
    assert_eq!(revenue_total(&report), source_amount(&text));
    assert_eq!(revenue_total(&report), 7 * 1_000_000_000_000);

    let text = sample(TEST2);
    let report = combine(vec![read_with(&text, false).unwrap()]).unwrap();
    assert_eq!(revenue_total(&report), source_amount(&text));
    assert_eq!(revenue_total(&report), 7 * 1_000_000_000_000);
}

#[test]
fn the_padpida_files_have_a_wrong_head() {
    // HEAD holds three values (ID1, UgcProfile, 1.1) and its #HEAD row,
    // which follows it, names MessageVersion, ProfileVersion, MessageId,
    // MessageCreatedDateTime and NumberOfFiles: no FileNumber, and no
    // value for NumberOfFiles.
    for name in [PADPIDA_1OF1, PADPIDA_1OF2, PADPIDA_2OF2] {
        let error = parse(&sample(name)).unwrap_err();
        assert_eq!(
            error,
            DsrError::HeadMalformed("it has no FileNumber".to_owned()),
            "{name}"
        );
        assert_eq!(
            error.to_string(),
            "The DSR HEAD record is malformed: it has no FileNumber."
        );
    }
}

#[test]
fn the_padpida_footers_are_wrong_too() {
    // With a sound HEAD, the footer's 123 lines still do not match 7.
    for (name, file) in [(PADPIDA_1OF1, 1), (PADPIDA_1OF2, 1), (PADPIDA_2OF2, 2)] {
        let text = sample(name);
        let rest: Vec<&str> = text.lines().skip(2).collect();
        let rest = rest.join("\n");
        let files = if name == PADPIDA_1OF1 { 1 } else { 2 };
        let repaired = format!(
            "HEAD\tID1\tUgcProfile\t1.1\tM1\t2015-07-23T09:25:22Z\t{file}\t{files}\n\
             #HEAD\tMessageVersion\tProfile\tProfileVersion\tMessageId\tMessageCreatedDateTime\tFileNumber\tNumberOfFiles\n\
             {rest}\n"
        );
        assert_eq!(
            parse(&repaired),
            Err(DsrError::LineCount {
                declared: 123,
                actual: 7
            }),
            "{name}"
        );
    }
}

#[test]
fn the_two_file_padpida_message_cannot_be_combined() {
    // Neither file says which file of the message it is (no FileNumber,
    // no NumberOfFiles value) and both carry the same block 1 with a
    // footer of 123 lines for 7: no part can be read, so no message.
    let parts: Vec<DsrFile> = [PADPIDA_1OF2, PADPIDA_2OF2]
        .into_iter()
        .filter_map(|name| read(&sample(name)).ok())
        .collect();
    assert!(parts.is_empty());
    assert_eq!(combine(parts), Err(DsrError::NothingToCombine));
}

#[test]
fn the_file_parser_sample_has_no_head() {
    // Its first record is an FHEA (and its last an FFOO, counting 123
    // lines of 7), not the HEAD and FOOT of a DSR file.
    let error = parse(&sample(FILE_PARSER)).unwrap_err();
    assert_eq!(
        error,
        DsrError::NoHead {
            line: 3,
            found: "FHEA".to_owned()
        }
    );
    assert_eq!(
        error.to_string(),
        "The DSR file has no HEAD record: line 3 is a \"FHEA\" record where HEAD is expected."
    );
}

#[test]
fn dsr_files_are_recognised() {
    for name in [TEST, TEST2, PADPIDA_1OF1, FILE_PARSER] {
        assert!(looks_like_dsr(&sample(name)), "{name}");
    }
    assert!(looks_like_dsr("\u{feff}\r\nHEAD\tdsrf/30\r\n"));
    assert!(!looks_like_dsr(
        "Country,Label,ISRC\nIS,Label,USSM19803037\n"
    ));
    assert!(!looks_like_dsr(""));
}

#[test]
fn summary_revenue_is_shared_out_exactly() {
    let report = parse(&handmade("M1", 1, 1, "10.00", &[1, 1, 1])).unwrap();
    let revenues: Vec<&str> = report.lines.iter().map(|l| l.revenue.as_str()).collect();
    assert_eq!(
        revenues,
        ["3.333333333334", "3.333333333333", "3.333333333333"]
    );
    assert_eq!(revenue_total(&report), units("10"));
    let first = &report.lines[0];
    assert_eq!(first.line_number, 9);
    assert_eq!(first.isrc.as_deref(), Some("NLA1Z2600001"));
    assert_eq!(first.title.as_deref(), Some("Track 1"));
    assert_eq!(first.territory.as_deref(), Some("IS"));
    assert_eq!(first.currency.as_deref(), Some("USD"));
    assert_eq!(first.start.as_deref(), Some("2015-10-01"));
    assert_eq!(first.end.as_deref(), Some("2015-12-31"));

    let report = parse(&handmade("M1", 1, 1, "-1", &[2, 1, 0])).unwrap();
    let revenues: Vec<&str> = report.lines.iter().map(|l| l.revenue.as_str()).collect();
    assert_eq!(revenues, ["-0.666666666667", "-0.333333333333", "0"]);

    let report = parse(&handmade("M1", 1, 1, "", &[1, 2])).unwrap();
    let revenues: Vec<&str> = report.lines.iter().map(|l| l.revenue.as_str()).collect();
    assert_eq!(revenues, ["0", "0"], "a summary record without revenue");
}

#[test]
fn revenue_finer_than_12_places_is_refused() {
    assert_eq!(
        parse(&handmade("M1", 1, 1, "10.0000000000001", &[1, 1])),
        Err(DsrError::TooPrecise {
            line: 7,
            amount: "10.0000000000001".to_owned()
        })
    );
    assert!(parse(&handmade("M1", 1, 1, "10.000000000001000", &[1, 1])).is_ok());
}

#[test]
fn a_footer_that_miscounts_is_refused() {
    let text = handmade("M1", 1, 1, "10.00", &[1, 1, 1]).replace("FOOT\t14\t", "FOOT\t12\t");
    let error = parse(&text).unwrap_err();
    assert_eq!(
        error,
        DsrError::LineCount {
            declared: 12,
            actual: 14
        }
    );
    assert_eq!(
        error.to_string(),
        "The DSR footer counts 12 lines but the file has 14."
    );

    let text = handmade("M1", 1, 1, "10.00", &[1, 1, 1]).replace("\t1\t3\t3\n", "\t2\t3\t3\n");
    assert_eq!(
        parse(&text),
        Err(DsrError::SummaryCount {
            declared: 2,
            actual: 1
        })
    );

    let text = handmade("M1", 1, 1, "10.00", &[1]);
    let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("FOOT")).collect();
    assert_eq!(parse(&(kept.join("\n") + "\n")), Err(DsrError::NoFoot));
    assert_eq!(
        DsrError::NoFoot.to_string(),
        "The DSR file has no FOOT record."
    );
}

#[test]
fn crlf_line_ends_read_the_same() {
    let text = handmade("M1", 1, 1, "10.00", &[1, 1, 1]);
    let crlf = text.replace('\n', "\r\n");
    assert_eq!(parse(&crlf).unwrap(), parse(&text).unwrap());

    let youtube = sample(TEST);
    let crlf = youtube.replace('\n', "\r\n");
    assert_eq!(parse(&crlf).unwrap(), parse(&youtube).unwrap());
}

#[test]
fn a_line_must_name_a_summary_record_the_file_has() {
    let text = handmade("M1", 1, 1, "10.00", &[1, 1, 1]).replace("RU01\t2\t1\t", "RU01\t2\t9\t");
    let error = parse(&text).unwrap_err();
    assert_eq!(
        error,
        DsrError::UnknownSummary {
            line: 11,
            id: "9".to_owned()
        }
    );
    assert_eq!(
        error.to_string(),
        "Line 11 refers to summary record 9, which the file does not define."
    );
}

/// The files of a message whose one summary record carries `revenue`:
/// a file per entry of `files`, a block per usage count, blocks
/// numbered across the message, each file's `FOOT` counting its own
/// lines and blocks and, in the last file, the whole report's.
fn message_files(message: &str, revenue: &str, files: &[&[i64]]) -> Vec<String> {
    let total: i64 = files.iter().flat_map(|f| f.iter()).sum();
    let mut texts: Vec<Vec<String>> = Vec::new();
    let mut block = 0;
    for (index, usages) in files.iter().enumerate() {
        let mut lines = handmade(message, index as u32 + 1, files.len() as u32, revenue, &[])
            .lines()
            .filter(|line| !line.starts_with("FOOT"))
            .map(|line| match line.starts_with("SY02") {
                true => line.replace("music\t0\t", &format!("music\t{total}\t")),
                false => line.to_owned(),
            })
            .collect::<Vec<_>>();
        for count in *usages {
            block += 1;
            lines.push(format!(
                "AS01\t{block}\tR{block}\tD{block}\tnl-a1z-26-{block:05}\tTrack {block}\t\tArtist {block}"
            ));
            lines.push(format!("RU01\t{block}\t1\tV{block}\t{count}"));
        }
        texts.push(lines);
    }
    let report_lines: usize = texts.iter().map(|t| t.len() + 1).sum();
    let last = texts.len();
    texts
        .into_iter()
        .zip(files)
        .enumerate()
        .map(|(index, (mut lines, usages))| {
            let (count, blocks) = (lines.len() + 1, usages.len());
            let (in_report, blocks_in_report) = match index + 1 == last {
                true => (report_lines.to_string(), block.to_string()),
                false => (String::new(), String::new()),
            };
            lines.push(format!(
                "FOOT\t{count}\t{in_report}\t1\t{blocks}\t{blocks_in_report}"
            ));
            lines.join("\n") + "\n"
        })
        .collect()
}

#[test]
fn a_message_in_files_shares_its_summary_revenue_across_them() {
    let files = message_files("M2", "7", &[&[1, 3], &[4, 2]]);
    assert!(files[0].contains(
        "SY02.01\t1\tAdvertisementSupportedModel\tStream\tIS\tAdSupport-music\t10\tUSD\t7\n"
    ));
    let parts: Vec<DsrFile> = files.iter().map(|t| read(t).unwrap()).collect();
    assert_eq!(
        (
            parts[1].message_id(),
            parts[1].file_number(),
            parts[1].number_of_files()
        ),
        ("M2", 2, 2)
    );
    // In any order.
    let message = combine(vec![parts[1].clone(), parts[0].clone()]).unwrap();
    assert_eq!(message.message_id, "M2");
    assert_eq!(message.number_of_files, 2);
    assert_eq!(message.summary_records, 1);
    let lines: Vec<(u32, &str)> = message
        .lines
        .iter()
        .map(|l| (l.file_number, l.revenue.as_str()))
        .collect();
    // 7 shared by usages over both files: not 3.5 a file.
    assert_eq!(lines, [(1, "0.7"), (1, "2.1"), (2, "2.8"), (2, "1.4")]);
    assert_eq!(message.currency.as_deref(), Some("USD"));
    assert_eq!(message.usage_start.as_deref(), Some("2015-10-01"));

    // A file alone is not the message, nor is either file read alone.
    let error = combine(vec![parts[0].clone()]).unwrap_err();
    assert_eq!(
        error,
        DsrError::MissingFile {
            file_number: 2,
            number_of_files: 2
        }
    );
    assert_eq!(
        error.to_string(),
        "File 2 of 2 is missing from this DSR message."
    );
    assert_eq!(
        parse(&files[1]).unwrap_err(),
        DsrError::MissingFile {
            file_number: 1,
            number_of_files: 2
        }
    );
    assert_eq!(
        combine(vec![parts[0].clone(), parts[0].clone(), parts[1].clone()]),
        Err(DsrError::DuplicateFile { file_number: 1 })
    );
    let stranger = read(&message_files("M3", "10", &[&[1, 3], &[4, 2]])[1]).unwrap();
    assert_eq!(
        combine(vec![parts[0].clone(), stranger]),
        Err(DsrError::OtherMessage {
            file_number: 2,
            expected: "M2".to_owned(),
            found: "M3".to_owned()
        })
    );
    let three = read(&message_files("M2", "10", &[&[1], &[4], &[2]])[1]).unwrap();
    assert!(matches!(
        combine(vec![parts[0].clone(), three]),
        Err(DsrError::FileCountDiffers { .. })
    ));
}

#[test]
fn the_files_of_a_message_must_agree_with_each_other() {
    let files = message_files("M2", "10", &[&[1, 3], &[4, 2]]);
    // Another revenue in the second file's summary record.
    let other = files[1].replace("\tUSD\t10\n", "\tUSD\t12\n");
    let error = combine(vec![read(&files[0]).unwrap(), read(&other).unwrap()]).unwrap_err();
    assert_eq!(error, DsrError::SummariesDiffer { file_number: 2 });
    assert_eq!(
        error.to_string(),
        "File 2 of this DSR message carries other summary records than file 1; the files of a message carry the same ones."
    );

    // The last footer counts the lines and blocks of the whole report:
    // 12 + 12 lines and 4 blocks.
    assert!(
        files[1].ends_with("FOOT\t12\t24\t1\t2\t4\n"),
        "{}",
        files[1]
    );
    let miscounted = files[1].replace("FOOT\t12\t24\t", "FOOT\t12\t23\t");
    let error = combine(vec![read(&files[0]).unwrap(), read(&miscounted).unwrap()]).unwrap_err();
    assert_eq!(
        error,
        DsrError::ReportLineCount {
            file_number: 2,
            declared: 23,
            actual: 24
        }
    );
    assert_eq!(
        error.to_string(),
        "The DSR footer of file 2 counts 23 lines in the whole report, but its files have 24."
    );
    let miscounted = files[1].replace("\t1\t2\t4\n", "\t1\t2\t5\n");
    assert_eq!(
        combine(vec![read(&files[0]).unwrap(), read(&miscounted).unwrap()]),
        Err(DsrError::ReportBlockCount {
            file_number: 2,
            declared: 5,
            actual: 4
        })
    );
}

/// `text` with a second summary record, its RU lines naming none, and
/// its footer counting again (the report's lines left uncounted).
fn unnamed_lines(text: &str) -> String {
    let mut lines: Vec<String> = text
        .lines()
        .filter(|line| !line.starts_with("FOOT"))
        .map(|line| match line.strip_prefix("RU01\t") {
            Some(rest) => {
                let cells: Vec<&str> = rest.split('\t').collect();
                format!("RU01\t{}\t\t{}\t{}", cells[0], cells[2], cells[3])
            }
            None => line.to_owned(),
        })
        .collect();
    lines.push(
        "SY02.01\t2\tAdvertisementSupportedModel\tStream\tIS\tAdSupport-music\t4\tUSD\t1"
            .to_owned(),
    );
    let blocks = lines.iter().filter(|l| l.starts_with("AS01")).count();
    lines.push(format!("FOOT\t{}\t\t2\t{blocks}\t", lines.len() + 1));
    lines.join("\n") + "\n"
}

#[test]
fn a_line_without_revenue_or_summary_is_placed_in_its_file() {
    let files = message_files("M2", "10", &[&[1], &[3]])
        .iter()
        .map(|text| unnamed_lines(text))
        .collect::<Vec<_>>();
    let error = combine(vec![read(&files[0]).unwrap(), read(&files[1]).unwrap()]).unwrap_err();
    assert_eq!(
        error,
        DsrError::NoSummary {
            place: Place {
                line: 9,
                file: Some(1)
            }
        }
    );
    assert_eq!(
        error.to_string(),
        "Line 9 of file 1 carries no revenue and names no summary record to take it from."
    );
    let alone = unnamed_lines(&handmade("M1", 1, 1, "10.00", &[1]));
    assert_eq!(
        parse(&alone).unwrap_err().to_string(),
        "Line 9 carries no revenue and names no summary record to take it from."
    );
}

#[test]
fn a_block_lies_in_one_file_of_a_message() {
    let files = message_files("M2", "10", &[&[1, 3], &[4]]);
    // File 2's block 3 renamed block 2, which file 1 has.
    let repeated = files[1]
        .replace("AS01\t3\tR3", "AS01\t2\tR3")
        .replace("RU01\t3\t", "RU01\t2\t");
    let error = combine(vec![read(&files[0]).unwrap(), read(&repeated).unwrap()]).unwrap_err();
    assert_eq!(
        error,
        DsrError::BlockRepeated {
            block: "2".to_owned(),
            first: 1,
            file_number: 2
        }
    );
    assert_eq!(
        error.to_string(),
        "Block 2 is in file 1 and again in file 2 of this DSR message; a block lies in one file of a message."
    );
}

#[test]
fn a_message_of_more_files_than_oas_takes_is_refused_from_its_head() {
    let text = handmade("M1", 1, 1000, "10.00", &[1]);
    let expected = DsrError::HeadMalformed(
        "it says the message has 1000 files, more than the 999 OAS takes".to_owned(),
    );
    assert_eq!(message_of(&text), Err(expected.clone()));
    assert_eq!(read(&text).unwrap_err(), expected);
    assert_eq!(
        message_of(&handmade("M1", 1, 999, "10.00", &[1]))
            .unwrap()
            .number_of_files,
        999
    );
}

#[test]
fn a_file_says_which_part_of_which_message_it_is_from_its_head() {
    let files = message_files("M7", "10", &[&[1], &[2]]);
    let expected = MessagePart {
        sender: "PADPIDA2013020802I".to_owned(),
        message_id: "M7".to_owned(),
        file_number: 2,
        number_of_files: 2,
    };
    assert_eq!(message_of(&files[1]).unwrap(), expected);
    // Its beginning is enough: the HEAD and the header rows.
    let beginning: String = files[1].lines().take(7).map(|l| format!("{l}\n")).collect();
    assert_eq!(message_of(&beginning).unwrap(), expected);
    assert_eq!(
        message_of(&format!("\u{feff}{beginning}")).unwrap(),
        expected
    );
    assert!(matches!(
        message_of("SY02\t1\nHEAD\tx\n"),
        Err(DsrError::NoHead { line: 1, .. })
    ));
    assert!(matches!(
        message_of(&sample(PADPIDA_1OF2)),
        Err(DsrError::HeadMalformed(_))
    ));
}

#[test]
fn cells_split_into_values_and_escapes_hold() {
    assert_eq!(
        split_cells("AS02\t1\tL\u{eb}t \\| Right\tA|B\tC:\\x"),
        [
            vec!["AS02".to_owned()],
            vec!["1".to_owned()],
            vec!["L\u{eb}t | Right".to_owned()],
            vec!["A".to_owned(), "B".to_owned()],
            vec!["C:\\x".to_owned()],
        ]
    );
}

#[test]
fn dates_are_read_in_their_dsr_forms() {
    assert_eq!(iso_date("20151001").as_deref(), Some("2015-10-01"));
    assert_eq!(iso_date("2015-12-31").as_deref(), Some("2015-12-31"));
    assert_eq!(
        iso_date("2016-01-21T15:09:26Z").as_deref(),
        Some("2016-01-21")
    );
    for bad in ["2015-13-01", "2015-Q4", "1.1", "20151301", ""] {
        assert_eq!(iso_date(bad), None, "{bad}");
    }
}
