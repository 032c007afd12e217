//! Reading one DSR file: its `HEAD`, summary records, blocks and `FOOT`.

use super::*;

#[derive(Debug, Clone)]
pub(super) struct Head {
    pub(super) message_id: String,
    pub(super) file_number: u32,
    pub(super) number_of_files: u32,
    pub(super) usage_start: Option<String>,
    pub(super) usage_end: Option<String>,
    pub(super) sender: Option<String>,
    /// SenderPartyId: a MessageId is unique only among its sender's.
    pub(super) sender_id: Option<String>,
    pub(super) territory: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct Summary {
    pub(super) line: usize,
    pub(super) id: Option<String>,
    pub(super) territory: Option<String>,
    pub(super) service: Option<String>,
    pub(super) use_type: Option<String>,
    pub(super) currency: Option<String>,
    /// NetRevenue as canonical decimal text.
    pub(super) revenue: Option<String>,
}

pub(super) struct Resource<'r> {
    pub(super) block: Option<&'r str>,
    pub(super) reference: Option<&'r str>,
    pub(super) dsp_id: Option<&'r str>,
    pub(super) isrc: Option<String>,
    pub(super) title: Option<String>,
    pub(super) artist: Option<String>,
}

pub(super) struct Release<'r> {
    pub(super) block: Option<&'r str>,
    pub(super) upc: Option<String>,
    pub(super) title: Option<String>,
}

/// A line before the revenue of summary records is shared out.
#[derive(Debug, Clone)]
pub(super) struct Pending {
    pub(super) line: DsrLine,
    pub(super) summary: Option<usize>,
    pub(super) carries_revenue: bool,
}

/// What the footer is checked against.
pub(super) struct Counted {
    pub(super) lines: usize,
    pub(super) summaries: usize,
    pub(super) blocks: usize,
}

/// [`read`], with the footer's line count checked or not (the tests read
/// the second YouTube test file, whose footer is one line off, without it).
pub(super) fn read_with(text: &str, check_line_count: bool) -> Result<DsrFile, DsrError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let physical: Vec<&str> = text.lines().collect();
    // Blank lines after the last record (an editor's extra newline) are not
    // lines of the file.
    let lines_in_file = physical
        .iter()
        .rposition(|line| !line.trim().is_empty())
        .map_or(0, |last| last + 1);

    let mut layouts = Layouts::default();
    let mut records = Vec::new();
    for (index, line) in physical.iter().enumerate() {
        if let Some(record) = layouts.read(index, line) {
            records.push(record);
        }
    }

    let Some(head_record) = records.first() else {
        return Err(DsrError::Empty);
    };
    if head_record.kind != "HEAD" {
        return Err(DsrError::NoHead {
            line: head_record.line,
            found: head_record.kind.clone(),
        });
    }
    let head = read_head(&layouts, head_record)?;
    if let Some(second) = records.iter().skip(1).find(|r| r.kind == "HEAD") {
        return Err(DsrError::SecondHead { line: second.line });
    }
    let Some((foot_at, foot)) = records.iter().enumerate().find(|(_, r)| r.kind == "FOOT") else {
        return Err(DsrError::NoFoot);
    };
    if let Some(after) = records.get(foot_at + 1) {
        return Err(DsrError::AfterFoot { line: after.line });
    }
    let body = records.get(1..foot_at).unwrap_or_default();

    let blocks: HashSet<&str> = body
        .iter()
        .filter(|record| !is_summary(record))
        .filter_map(|record| layouts.value(record, &["BlockId"]))
        .collect();
    let block_ids: Vec<String> = blocks.iter().map(|&id| id.to_owned()).collect();
    let counted = Counted {
        lines: lines_in_file,
        summaries: body.iter().filter(|record| is_summary(record)).count(),
        blocks: blocks.len(),
    };
    check_foot(&layouts, foot, &counted, check_line_count)?;
    let lines_in_report = match check_line_count {
        true => foot_number(&layouts, foot, "NumberOfLinesInReport")?,
        false => None,
    };
    let blocks_in_report = foot_number(&layouts, foot, "NumberOfBlocksInReport")?;

    let summaries = body
        .iter()
        .filter(|record| is_summary(record))
        .map(|record| read_summary(&layouts, record))
        .collect::<Result<Vec<_>, _>>()?;
    let resources: Vec<Resource> = body
        .iter()
        .filter(|record| record.kind.starts_with("AS"))
        .map(|record| read_resource(&layouts, record))
        .collect();
    let releases: Vec<Release> = body
        .iter()
        .filter(|record| record.kind.starts_with("RE"))
        .map(|record| read_release(&layouts, record))
        .collect();
    let sales_blocks: HashSet<Option<&str>> = body
        .iter()
        .filter(|record| record.kind.starts_with("SU"))
        .map(|record| layouts.value(record, &["BlockId"]))
        .collect();
    // A line that names no summary record belongs to the only one there is.
    let default_summary = match summaries.as_slice() {
        [_] => Some(0),
        [first, rest @ ..] if first.id.is_some() && rest.iter().all(|s| s.id == first.id) => {
            Some(0)
        }
        _ => None,
    };

    let mut pending = Vec::new();
    for record in body {
        let sales = record.kind.starts_with("SU");
        if !sales && !record.kind.starts_with("RU") {
            continue;
        }
        let block = layouts.value(record, &["BlockId"]);
        // An RU record beside SU records of its block repeats their usage.
        if !sales && sales_blocks.contains(&block) {
            continue;
        }
        let summary = match layouts.value(record, &["SummaryRecordId"]) {
            Some(id) => Some(
                summaries
                    .iter()
                    .position(|s| s.id.as_deref() == Some(id))
                    .ok_or_else(|| DsrError::UnknownSummary {
                        line: record.line,
                        id: id.to_owned(),
                    })?,
            ),
            None => default_summary,
        };
        let own_revenue = match layouts.value(record, &["NetRevenue"]) {
            Some(raw) => decimal(record.line, "NetRevenue", raw)?,
            None => None,
        };
        let quantity = usages(&layouts, record)?;
        let start = line_date(&layouts, record, "ValidityPeriodStart")?
            .or_else(|| head.usage_start.clone());
        let end =
            line_date(&layouts, record, "ValidityPeriodEnd")?.or_else(|| head.usage_end.clone());

        // The block's sound recording the record names, else its first.
        let references = layouts.values(
            record,
            &[
                "TransactedResource",
                "ResourceReference",
                "DspResourceId",
                "DspReleaseId",
            ],
        );
        let candidates: Vec<&Resource> = resources.iter().filter(|r| r.block == block).collect();
        let named = candidates
            .iter()
            .position(|r| {
                references
                    .iter()
                    .any(|x| r.reference == Some(*x) || r.dsp_id == Some(*x))
            })
            .unwrap_or(0);
        let resource = candidates.get(named).copied();
        let release = releases.iter().find(|r| r.block == block);
        let summary_record = summary.and_then(|index| summaries.get(index));

        let carries_revenue = own_revenue.is_some();
        let line = DsrLine {
            file_number: head.file_number,
            line_number: record.line,
            territory: summary_record
                .and_then(|s| s.territory.clone())
                .or_else(|| head.territory.clone()),
            dsp: head.sender.clone(),
            service: summary_record.and_then(|s| s.service.clone()),
            use_type: summary_record.and_then(|s| s.use_type.clone()),
            isrc: resource.and_then(|r| r.isrc.clone()),
            title: resource.and_then(|r| r.title.clone()),
            artist: resource.and_then(|r| r.artist.clone()),
            upc: release.and_then(|r| r.upc.clone()),
            release_title: release.and_then(|r| r.title.clone()),
            quantity,
            revenue: own_revenue.unwrap_or_default(),
            currency: summary_record.and_then(|s| s.currency.clone()),
            start,
            end,
        };
        pending.push(Pending {
            line,
            summary,
            carries_revenue,
        });
    }

    Ok(DsrFile {
        head,
        summaries,
        pending,
        lines_in_file,
        blocks: block_ids,
        lines_in_report,
        blocks_in_report,
    })
}

/// Shares each summary record's revenue between its lines without any.
/// `several`: the lines come from several files, which errors name.
pub(super) fn share_summaries(
    summaries: &[Summary],
    pending: &mut [Pending],
    several: bool,
) -> Result<(), DsrError> {
    let place = |entry: &Pending| Place {
        line: entry.line.line_number,
        file: several.then_some(entry.line.file_number),
    };
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (index, entry) in pending.iter().enumerate() {
        if entry.carries_revenue {
            continue;
        }
        let Some(summary) = entry.summary else {
            return Err(DsrError::NoSummary {
                place: place(entry),
            });
        };
        groups.entry(summary).or_default().push(index);
    }
    for (summary_index, members) in groups {
        let Some(summary) = summaries.get(summary_index) else {
            continue;
        };
        let first = members
            .first()
            .and_then(|&index| pending.get(index))
            .map_or(
                Place {
                    line: summary.line,
                    file: None,
                },
                place,
            );
        if let Some(id) = &summary.id
            && summaries
                .iter()
                .filter(|other| other.id.as_ref() == Some(id))
                .count()
                > 1
        {
            return Err(DsrError::AmbiguousSummary {
                place: first,
                id: id.clone(),
            });
        }
        let weights: Vec<i64> = members
            .iter()
            .filter_map(|&index| pending.get(index))
            .map(|entry| entry.line.quantity)
            .collect();
        let shares = match &summary.revenue {
            Some(amount) => share_out(summary, amount, &weights)?,
            None => vec![0; weights.len()],
        };
        for (&index, units) in members.iter().zip(shares) {
            if let Some(entry) = pending.get_mut(index) {
                entry.line.revenue = format_units(units);
            }
        }
    }

    Ok(())
}

pub(super) fn read_head(layouts: &Layouts, record: &Record) -> Result<Head, DsrError> {
    let message_id = layouts
        .value(record, &["MessageId"])
        .ok_or_else(|| DsrError::HeadMalformed("it has no MessageId".to_owned()))?
        .to_owned();
    let file_number = head_number(layouts, record, "FileNumber")?;
    let number_of_files = head_number(layouts, record, "NumberOfFiles")?;
    if file_number == 0 || file_number > number_of_files {
        return Err(DsrError::HeadMalformed(format!(
            "it says this is file {file_number} of {number_of_files}"
        )));
    }
    if number_of_files > MAX_FILES {
        return Err(DsrError::HeadMalformed(format!(
            "it says the message has {number_of_files} files, more than the {MAX_FILES} OAS takes"
        )));
    }
    Ok(Head {
        message_id,
        file_number,
        number_of_files,
        usage_start: head_date(layouts, record, "UsageStartDate")?,
        usage_end: head_date(layouts, record, "UsageEndDate")?,
        sender: layouts.value(record, &["SenderName"]).map(str::to_owned),
        sender_id: layouts.value(record, &["SenderPartyId"]).map(str::to_owned),
        territory: layouts
            .value(record, &["Territory", "TerritoryOfUseOrSale"])
            .map(str::to_owned),
    })
}

/// A whole number of `HEAD` (`NumberOfFiles` also finds `NumberofFiles`).
pub(super) fn head_number(
    layouts: &Layouts,
    record: &Record,
    column: &str,
) -> Result<u32, DsrError> {
    let raw = layouts
        .value(record, &[column])
        .ok_or_else(|| DsrError::HeadMalformed(format!("it has no {column}")))?;
    raw.parse()
        .map_err(|_| DsrError::HeadMalformed(format!("its {column} {raw:?} is not a number")))
}

pub(super) fn head_date(
    layouts: &Layouts,
    record: &Record,
    column: &str,
) -> Result<Option<String>, DsrError> {
    let Some(raw) = layouts.value(record, &[column]) else {
        return Ok(None);
    };
    iso_date(raw)
        .map(Some)
        .ok_or_else(|| DsrError::HeadMalformed(format!("its {column} {raw:?} is not a date")))
}

pub(super) fn check_foot(
    layouts: &Layouts,
    foot: &Record,
    counted: &Counted,
    check_line_count: bool,
) -> Result<(), DsrError> {
    let same = |declared: u64, actual: usize| u64::try_from(actual).is_ok_and(|a| a == declared);
    let declared = foot_number(layouts, foot, "NumberOfLinesInFile")?
        .ok_or_else(|| DsrError::FootMalformed("it has no NumberOfLinesInFile".to_owned()))?;
    if check_line_count && !same(declared, counted.lines) {
        return Err(DsrError::LineCount {
            declared,
            actual: counted.lines,
        });
    }
    if let Some(declared) = foot_number(layouts, foot, "NumberOfSummaryRecords")?
        && !same(declared, counted.summaries)
    {
        return Err(DsrError::SummaryCount {
            declared,
            actual: counted.summaries,
        });
    }
    if let Some(declared) = foot_number(layouts, foot, "NumberOfBlocksInFile")?
        && !same(declared, counted.blocks)
    {
        return Err(DsrError::BlockCount {
            declared,
            actual: counted.blocks,
        });
    }
    Ok(())
}

pub(super) fn foot_number(
    layouts: &Layouts,
    foot: &Record,
    column: &str,
) -> Result<Option<u64>, DsrError> {
    let Some(raw) = layouts.value(foot, &[column]) else {
        return Ok(None);
    };
    raw.parse()
        .map(Some)
        .map_err(|_| DsrError::FootMalformed(format!("its {column} {raw:?} is not a number")))
}

pub(super) fn read_summary(layouts: &Layouts, record: &Record) -> Result<Summary, DsrError> {
    let text = |names: &[&str]| layouts.value(record, names).map(str::to_owned);
    let revenue = match layouts.value(record, &["NetRevenue"]) {
        Some(raw) => decimal(record.line, "NetRevenue", raw)?,
        None => None,
    };
    Ok(Summary {
        line: record.line,
        id: text(&["SummaryRecordId"]),
        territory: text(&["Territory"]),
        service: text(&["ServiceDescription", "CommercialModel"]),
        use_type: text(&["UseType"]),
        currency: text(&["Currency", "CurrencyOfReporting"]),
        revenue,
    })
}

pub(super) fn read_resource<'r>(layouts: &Layouts, record: &'r Record) -> Resource<'r> {
    Resource {
        block: layouts.value(record, &["BlockId"]),
        reference: layouts.value(record, &["ResourceReference"]),
        dsp_id: layouts.value(record, &["DspResourceId"]),
        isrc: layouts
            .value(record, &["ISRC", "ResourceISRC"])
            .and_then(ids::isrc),
        title: layouts.value(record, &["Title"]).map(str::to_owned),
        artist: layouts
            .value(record, &["DisplayArtistName"])
            .map(str::to_owned),
    }
}

pub(super) fn read_release<'r>(layouts: &Layouts, record: &'r Record) -> Release<'r> {
    Release {
        block: layouts.value(record, &["BlockId"]),
        upc: layouts
            .value(record, &["ICPN", "ReleaseICPN"])
            .and_then(ids::upc),
        title: layouts
            .value(record, &["Title", "ReleaseTitle"])
            .map(str::to_owned),
    }
}

/// An amount as canonical decimal text.
pub(super) fn decimal(
    line: usize,
    column: &'static str,
    raw: &str,
) -> Result<Option<String>, DsrError> {
    numbers::decimal(raw, DecimalStyle::Point).map_err(|_| DsrError::BadValue {
        line,
        column,
        value: raw.to_owned(),
        expected: "a number",
    })
}

/// Usages (or NumberOfStreams) of a usage record, all its values added up.
pub(super) fn usages(layouts: &Layouts, record: &Record) -> Result<i64, DsrError> {
    let values = layouts.values(record, &["Usages", "NumberOfStreams"]);
    if values.is_empty() {
        return Err(DsrError::MissingValue {
            line: record.line,
            column: "Usages",
        });
    }
    let mut total: i64 = 0;
    for raw in values {
        let bad = || DsrError::BadValue {
            line: record.line,
            column: "Usages",
            value: raw.to_owned(),
            expected: "a whole number",
        };
        let count = numbers::quantity(raw, DecimalStyle::Point)
            .map_err(|_| bad())?
            .unwrap_or(0);
        total = total.checked_add(count).ok_or_else(bad)?;
    }
    Ok(total)
}

pub(super) fn line_date(
    layouts: &Layouts,
    record: &Record,
    column: &'static str,
) -> Result<Option<String>, DsrError> {
    let Some(raw) = layouts.value(record, &[column]) else {
        return Ok(None);
    };
    iso_date(raw).map(Some).ok_or_else(|| DsrError::BadValue {
        line: record.line,
        column,
        value: raw.to_owned(),
        expected: "a date",
    })
}

/// `YYYY-MM-DD` from `YYYYMMDD`, `YYYY-MM-DD` or a date-time starting so.
pub(super) fn iso_date(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let bytes = raw.as_bytes();
    let (year, month, day) = if bytes.len() == 8 {
        (raw.get(..4)?, raw.get(4..6)?, raw.get(6..)?)
    } else if bytes.len() >= 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && (bytes.len() == 10 || bytes[10] == b'T')
    {
        (raw.get(..4)?, raw.get(5..7)?, raw.get(8..10)?)
    } else {
        return None;
    };
    let digits = |text: &str| text.bytes().all(|b| b.is_ascii_digit());
    if !(digits(year) && digits(month) && digits(day)) {
        return None;
    }
    let month_number: u32 = month.parse().ok()?;
    let day_number: u32 = day.parse().ok()?;
    ((1..=12).contains(&month_number) && (1..=31).contains(&day_number))
        .then(|| format!("{year}-{month}-{day}"))
}

/// The value all of `values` share, if there is one.
pub(super) fn the_only(values: &[&str]) -> Option<String> {
    let (first, rest) = values.split_first()?;
    rest.iter()
        .all(|value| value == first)
        .then(|| String::from(*first))
}
