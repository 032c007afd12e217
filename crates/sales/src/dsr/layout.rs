//! Where each record type keeps its columns: the `#` header rows of a
//! file, else the standard's positions; and a line's cells.

// Column positions of the standard, for record types without a `#` header
// row (the record type itself is column 0).
pub(super) const HEAD_COLUMNS: &[&str] = &[
    "MessageVersion",
    "Profile",
    "ProfileVersion",
    "MessageId",
    "MessageCreatedDateTime",
    "FileNumber",
    "NumberOfFiles",
    "UsageStartDate",
    "UsageEndDate",
    "SenderPartyId",
    "SenderName",
    "ServiceDescription",
    "RecipientPartyId",
    "RecipientName",
    "RepresentedRepertoire",
];
pub(super) const FOOT_COLUMNS: &[&str] = &[
    "NumberOfLinesInFile",
    "NumberOfLinesInReport",
    "NumberOfSummaryRecords",
    "NumberOfBlocksInFile",
    "NumberOfBlocksInReport",
];
pub(super) const SY01_COLUMNS: &[&str] = &[
    "SummaryRecordId",
    "DistributionChannel",
    "DistributionChannelDPID",
    "CommercialModel",
    "UseType",
    "Territory",
    "ServiceDescription",
    "Usages",
    "Subscribers",
    "Currency",
    "NetRevenue",
    "IndirectNetRevenue",
];
pub(super) const SY02_COLUMNS: &[&str] = &[
    "SummaryRecordId",
    "DistributionChannel",
    "DistributionChannelDPID",
    "CommercialModel",
    "UseType",
    "Territory",
    "ServiceDescription",
    "Usages",
    "Users",
    "Currency",
    "NetRevenue",
    "RightsController",
    "RightsControllerPartyId",
    "AllocatedUsages",
    "AllocatedRevenue",
    "AllocatedNetRevenue",
    "RightsType",
];
pub(super) const AS01_COLUMNS: &[&str] = &[
    "BlockId",
    "ResourceReference",
    "DspResourceId",
    "ISRC",
    "Title",
    "SubTitle",
    "DisplayArtistName",
    "DisplayArtistPartyId",
    "Duration",
    "ResourceType",
];
pub(super) const RE01_COLUMNS: &[&str] = &[
    "BlockId",
    "ReleaseReference",
    "DspReleaseId",
    "ProprietaryReleaseId",
    "CatalogNumber",
    "ICPN",
    "DisplayArtistName",
    "DisplayArtistPartyId",
    "Title",
    "SubTitle",
    "ReleaseType",
    "Label",
    "PLine",
    "DataProvider",
];
pub(super) const RU01_COLUMNS: &[&str] = &["BlockId", "SummaryRecordId", "DspReleaseId", "Usages"];
pub(super) const SU01_COLUMNS: &[&str] = &[
    "BlockId",
    "SummaryRecordId",
    "SalesTransactionId",
    "TransactedRelease",
    "TransactedResource",
    "IsRoyaltyBearing",
    "SalesUpgrade",
    "Usages",
    "Returns",
];
pub(super) const SU02_COLUMNS: &[&str] = &[
    "BlockId",
    "SummaryRecordId",
    "SalesTransactionId",
    "TransactedRelease",
    "TransactedResource",
    "IsRoyaltyBearing",
    "NumberOfStreams",
];
pub(super) const SU03_COLUMNS: &[&str] = &[
    "BlockId",
    "SalesTransactionId",
    "SummaryRecordId",
    "DspReleaseId",
    "Usages",
    "NetRevenue",
    "ValidityPeriodStart",
    "ValidityPeriodEnd",
];
/// Any other record of a block starts with its BlockId.
pub(super) const BLOCK_COLUMNS: &[&str] = &["BlockId"];
pub(super) const NO_COLUMNS: &[&str] = &[];

pub(super) fn fallback_columns(kind: &str) -> &'static [&'static str] {
    match base(kind) {
        "HEAD" => HEAD_COLUMNS,
        "FOOT" => FOOT_COLUMNS,
        "SY01" => SY01_COLUMNS,
        "SY02" => SY02_COLUMNS,
        "AS01" => AS01_COLUMNS,
        "RE01" => RE01_COLUMNS,
        "RU01" => RU01_COLUMNS,
        "SU01" => SU01_COLUMNS,
        "SU02" => SU02_COLUMNS,
        "SU03" => SU03_COLUMNS,
        other if other.starts_with("SY") => NO_COLUMNS,
        _ => BLOCK_COLUMNS,
    }
}

/// A record type without its version: `SY02` for `SY02.01`.
pub(super) fn base(kind: &str) -> &str {
    kind.split_once('.').map_or(kind, |(base, _)| base)
}

/// The two letters that name a record family: `SY` for `SY02.01`.
pub(super) fn family(kind: &str) -> Option<&str> {
    kind.get(..2)
}

/// One record: its 1-based line, its type and its cells, each cell split
/// into its values (cell 0 is the type).
pub(super) struct Record {
    pub(super) line: usize,
    pub(super) kind: String,
    pub(super) cells: Vec<Vec<String>>,
}

/// The `#` header rows of a file: record type and column names.
#[derive(Default)]
pub(super) struct Layouts {
    pub(super) headers: Vec<(String, Vec<String>)>,
}

impl Layouts {
    /// Reads the line at `index` (0-based): a `#` header row is added to
    /// the layouts, a record returned; a blank line is neither.
    pub(super) fn read(&mut self, index: usize, line: &str) -> Option<Record> {
        if line.trim().is_empty() {
            return None;
        }
        let cells = split_cells(line);
        let kind = cells
            .first()
            .and_then(|cell| cell.first())
            .map(|value| value.trim().to_owned())
            .unwrap_or_default();
        if let Some(header_of) = kind.strip_prefix('#') {
            let names = cells
                .iter()
                .skip(1)
                .map(|cell| {
                    cell.first()
                        .map(|name| name.trim().to_owned())
                        .unwrap_or_default()
                })
                .collect();
            self.add(header_of.trim(), names);
            return None;
        }
        Some(Record {
            line: index + 1,
            kind,
            cells,
        })
    }

    pub(super) fn add(&mut self, kind: &str, names: Vec<String>) {
        if !self.headers.iter().any(|(known, _)| known.as_str() == kind) {
            self.headers.push((kind.to_owned(), names));
        }
    }

    /// The header row of a record type: its own, else one of the same type
    /// in another version, else one of the same two-letter family.
    pub(super) fn header(&self, kind: &str) -> Option<&[String]> {
        let exact = self
            .headers
            .iter()
            .find(|(known, _)| known.as_str() == kind);
        let same_base = self
            .headers
            .iter()
            .find(|(known, _)| base(known) == base(kind));
        let same_family = self
            .headers
            .iter()
            .find(|(known, _)| family(known).is_some() && family(known) == family(kind));
        exact
            .or(same_base)
            .or(same_family)
            .map(|(_, names)| names.as_slice())
    }

    /// The cell index of the first of `names` (in order of preference) that
    /// the record type has, by its header row, else by the standard.
    pub(super) fn index(&self, kind: &str, names: &[&str]) -> Option<usize> {
        let position = match self.header(kind) {
            Some(header) => names.iter().find_map(|name| {
                header
                    .iter()
                    .position(|column| column.eq_ignore_ascii_case(name))
            }),
            None => {
                let columns = fallback_columns(kind);
                names.iter().find_map(|name| {
                    columns
                        .iter()
                        .position(|column| column.eq_ignore_ascii_case(name))
                })
            }
        };
        position.map(|index| index + 1)
    }

    /// The non-empty values of a record's cell, trimmed.
    pub(super) fn values<'r>(&self, record: &'r Record, names: &[&str]) -> Vec<&'r str> {
        let Some(index) = self.index(&record.kind, names) else {
            return Vec::new();
        };
        record
            .cells
            .get(index)
            .map(|cell| {
                cell.iter()
                    .map(|value| value.trim())
                    .filter(|value| !value.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first non-empty value of a record's cell, trimmed.
    pub(super) fn value<'r>(&self, record: &'r Record, names: &[&str]) -> Option<&'r str> {
        self.values(record, names).into_iter().next()
    }
}

/// Splits a line into cells and each cell into its `|`-separated values.
/// A backslash before `|`, a tab or a backslash makes it part of the value.
pub(super) fn split_cells(line: &str) -> Vec<Vec<String>> {
    let mut cells = Vec::new();
    let mut values = Vec::new();
    let mut value = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => value.push(
                chars
                    .next_if(|next| matches!(*next, '|' | '\t' | '\\'))
                    .unwrap_or('\\'),
            ),
            '|' => values.push(std::mem::take(&mut value)),
            '\t' => {
                values.push(std::mem::take(&mut value));
                cells.push(std::mem::take(&mut values));
            }
            c => value.push(c),
        }
    }
    values.push(value);
    cells.push(values);
    cells
}

pub(super) fn is_summary(record: &Record) -> bool {
    record.kind.starts_with("SY")
}
