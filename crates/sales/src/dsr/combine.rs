//! The files of one DDEX DSR message, joined, their summary revenue shared
//! across all their lines.

use super::*;

/// Joins the files of one message into one report, and shares out the
/// revenue of its summary records between the lines of all its files.
///
/// The files must share their MessageId and NumberOfFiles, hold each file
/// number from 1 to NumberOfFiles exactly once, and carry the same summary
/// records (DSR Part 1, multi-file messages). A `FOOT` that counts the
/// lines or blocks of the whole report (NumberOfLinesInReport,
/// NumberOfBlocksInReport) must count those of all the files. The lines
/// follow each other in file order, each keeping its file's number and its
/// line in that file; the report has the first file's number and the whole
/// period.
pub fn combine(mut parts: Vec<DsrFile>) -> Result<DsrReport, DsrError> {
    let Some(first) = parts.first() else {
        return Err(DsrError::NothingToCombine);
    };
    let message_id = first.head.message_id.clone();
    let first_number = first.head.file_number;
    let number_of_files = first.head.number_of_files;
    for part in &parts {
        let head = &part.head;
        if head.message_id != message_id {
            return Err(DsrError::OtherMessage {
                file_number: head.file_number,
                expected: message_id,
                found: head.message_id.clone(),
            });
        }
        if head.number_of_files != number_of_files {
            return Err(DsrError::FileCountDiffers {
                file_number: head.file_number,
                found: head.number_of_files,
                first: first_number,
                expected: number_of_files,
            });
        }
    }
    parts.sort_by_key(|part| part.head.file_number);
    for pair in parts.windows(2) {
        if pair[0].head.file_number == pair[1].head.file_number {
            return Err(DsrError::DuplicateFile {
                file_number: pair[0].head.file_number,
            });
        }
    }
    if let Some(missing) =
        (1..=number_of_files).find(|number| !parts.iter().any(|p| p.head.file_number == *number))
    {
        return Err(DsrError::MissingFile {
            file_number: missing,
            number_of_files,
        });
    }
    // Sorted, one of each number from 1: file 1 comes first.
    if let Some(other) = parts[1..]
        .iter()
        .find(|p| !same_summaries(&p.summaries, &parts[0].summaries))
    {
        return Err(DsrError::SummariesDiffer {
            file_number: other.head.file_number,
        });
    }
    let lines: usize = parts.iter().map(|p| p.lines_in_file).sum();
    let blocks: usize = parts.iter().map(|p| p.blocks.len()).sum();
    // A block lies in one file of a message.
    let mut seen: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
    for part in &parts {
        for block in &part.blocks {
            if let Some(first) = seen.insert(block, part.head.file_number) {
                return Err(DsrError::BlockRepeated {
                    block: block.clone(),
                    first,
                    file_number: part.head.file_number,
                });
            }
        }
    }
    for part in &parts {
        let number = part.head.file_number;
        if let Some(declared) = part.lines_in_report
            && u64::try_from(lines).ok() != Some(declared)
        {
            return Err(DsrError::ReportLineCount {
                file_number: number,
                declared,
                actual: lines,
            });
        }
        if let Some(declared) = part.blocks_in_report
            && u64::try_from(blocks).ok() != Some(declared)
        {
            return Err(DsrError::ReportBlockCount {
                file_number: number,
                declared,
                actual: blocks,
            });
        }
    }

    let usage_start = parts
        .iter()
        .filter_map(|p| p.head.usage_start.clone())
        .min();
    let usage_end = parts.iter().filter_map(|p| p.head.usage_end.clone()).max();
    let sender = parts.iter().find_map(|p| p.head.sender.clone());
    let summaries = std::mem::take(&mut parts[0].summaries);
    let mut pending: Vec<Pending> = parts.into_iter().flat_map(|p| p.pending).collect();
    share_summaries(&summaries, &mut pending, number_of_files > 1)?;
    let currencies: Vec<&str> = summaries
        .iter()
        .filter_map(|s| s.currency.as_deref())
        .collect();
    Ok(DsrReport {
        message_id,
        file_number: 1,
        number_of_files,
        usage_start,
        usage_end,
        sender,
        currency: the_only(&currencies),
        lines: pending.into_iter().map(|entry| entry.line).collect(),
        summary_records: summaries.len(),
    })
}

/// Whether two files carry the same summary records (wherever they lie in
/// their files).
pub(super) fn same_summaries(a: &[Summary], b: &[Summary]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            (
                &x.id,
                &x.territory,
                &x.service,
                &x.use_type,
                &x.currency,
                &x.revenue,
            ) == (
                &y.id,
                &y.territory,
                &y.service,
                &y.use_type,
                &y.currency,
                &y.revenue,
            )
        })
}
