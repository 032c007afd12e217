//! What each module takes (`Params`, the job's `params`) and gives back
//! (`Output`, a succeeded event's `output`): one type per side, shared by
//! the gateway that builds the params and reads the output and the module
//! that does the opposite, so neither reads the other's JSON by key.
//!
//! [`check_output`] is the gateway's gate: a succeeded event whose output
//! does not read as its module's `Output` is recorded as a failed run
//! (`invalid_output`), never handed on half-read.

use serde::{Deserialize, Serialize};

use super::Module;

/// Whether `output` is what `module` promises on success; the reason if not.
pub fn check_output(
    module: Module,
    action: &str,
    output: &serde_json::Value,
) -> Result<(), String> {
    fn read<T: serde::de::DeserializeOwned>(output: &serde_json::Value) -> Result<(), String> {
        T::deserialize(output)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    match module {
        Module::Uploads if action == fetch::ACTION => read::<fetch::Output>(output),
        Module::Uploads => read::<uploads::Output>(output),
        Module::Importer => read::<importer::Output>(output),
        Module::Ping => read::<ping::Output>(output),
        Module::CatalogueMatching => read::<catalogue_matching::Output>(output),
        Module::Report => read::<report::Output>(output),
        Module::Statement => read::<statement::Output>(output),
    }
}

/// The uploads module: an uploaded file, cleaned.
pub mod uploads {
    use super::*;

    pub const ACTION: &str = "clean";

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Params {
        /// The uploaded object's key.
        pub source: String,
        /// The folder key the results go under.
        pub target: String,
        /// Bytes any one decompressed file (gzip, archive member) may reach.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub max_expanded_bytes: Option<u64>,
        /// Members an archive may hold.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub max_members: Option<usize>,
        /// Largest ratio of expanded to compressed size of a member.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub max_ratio: Option<u64>,
    }

    /// What cleaning made of the upload.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Output {
        /// The upload's content hash (`blake3:<hex>`).
        pub content_hash: String,
        #[serde(flatten)]
        pub cleaned: Cleaned,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    pub enum Cleaned {
        /// A table, with its clean copy.
        Table(Table),
        /// A DDEX DSR flat file, as UTF-8 text.
        Dsr(Dsr),
        /// An archive: its members, stored one by one, to be cleaned each.
        Archive(Archive),
    }

    impl Cleaned {
        /// `table`, `dsr` or `archive`, as the `kind` field says.
        pub fn kind(&self) -> &'static str {
            match self {
                Cleaned::Table(_) => "table",
                Cleaned::Dsr(_) => "dsr",
                Cleaned::Archive(_) => "archive",
            }
        }

        /// The clean copy's key, for what has one (a table, a DSR).
        pub fn clean_key(&self) -> Option<&str> {
            match self {
                Cleaned::Table(table) => Some(&table.clean_key),
                Cleaned::Dsr(dsr) => Some(&dsr.clean_key),
                Cleaned::Archive(_) => None,
            }
        }
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Table {
        /// What the upload was: `text`, `gzip`, `xlsx`, `xls`.
        pub source_type: String,
        pub encoding: String,
        /// Where the clean copy is.
        pub clean_key: String,
        /// The delimiter found, as text (`\t`, `,`, `;`, `|`).
        pub delimiter: String,
        pub header: Vec<String>,
        /// Values before the header, e.g. `["Currency", "AUD"]`.
        #[serde(default)]
        pub preamble: Vec<(String, String)>,
        /// Data lines in the clean copy.
        pub rows: u64,
        /// Lines after the table that are not part of it (a summary block).
        #[serde(default)]
        pub trailing_lines: u64,
        /// For spreadsheets: the sheet read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub sheet: Option<String>,
        /// Lines before the header in the clean copy (a preamble).
        #[serde(default)]
        pub skip_lines: usize,
        /// The upload was already clean UTF-8: it is its own clean copy,
        /// read with its own delimiter, `skip_lines` lines in, for `rows`
        /// lines.
        #[serde(default)]
        pub as_uploaded: bool,
        /// In an upload that is its own clean copy, where a trailing block
        /// (a summary, left out) starts: the data lines end before it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub data_end: Option<u64>,
        /// The clean copy is cleaning's own copy of the very bytes it read
        /// (local storage), not the upload itself, which a presigned URL
        /// could still replace: the import need not check its hash.
        #[serde(default)]
        pub own_copy: bool,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Dsr {
        pub source_type: String,
        pub encoding: String,
        pub clean_key: String,
        /// Which file of which message it is, when its `HEAD` says.
        #[serde(default)]
        pub message: Option<MessagePart>,
    }

    /// A DDEX DSR file's place in its message, from its `HEAD` record.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub struct MessagePart {
        /// The sender: `HEAD` SenderPartyId, else SenderName, else empty. A
        /// MessageId is unique only among one sender's messages.
        pub sender: String,
        pub message_id: String,
        pub file_number: u32,
        pub number_of_files: u32,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Archive {
        pub members: Vec<Member>,
        /// Entries not taken, with the reason.
        #[serde(default)]
        pub skipped: Vec<Skipped>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Member {
        /// Its name inside the archive.
        pub name: String,
        pub size: u64,
        /// Where its bytes were stored.
        pub key: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Skipped {
        pub name: String,
        pub reason: String,
    }
}

/// The uploads module's other action: what a pasted link or a saved
/// source holds, fetched into storage, each file to be cleaned as an
/// upload is.
pub mod fetch {
    use super::*;

    pub const ACTION: &str = "fetch";

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Params {
        /// The batch: the module reads its link (credentials included)
        /// from the database, so no job, task override or log holds them.
        pub batch: i64,
        /// The folder key the fetched files go under.
        pub target: String,
    }

    /// What a fetch found.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Output {
        /// Files fetched and stored, in the order found.
        pub fetched: Vec<Fetched>,
        /// Files found and left, each with its reason.
        pub skipped: Vec<Skipped>,
        /// Why the fetch ended before the end, if it did: what was fetched
        /// stands, and `skipped` names what was not.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub stopped: Option<String>,
        /// The SFTP server's key, as pinned (`ssh-ed25519 AAAA…`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub host_key: Option<String>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Fetched {
        pub name: String,
        /// Where it was found, below the link (`2024/jan.csv`).
        pub path: String,
        pub size: u64,
        /// As the server says (RFC 3339 or its own form), if it says.
        #[serde(default)]
        pub modified: Option<String>,
        /// The stored copy's key.
        pub key: String,
        /// `blake3:<hex>`, as cleaning computes it.
        pub content_hash: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Skipped {
        pub name: String,
        pub path: String,
        /// `unsupported`, `zip_link`, `too_large`, `too_deep`, `too_many`,
        /// `seen`, `not_fetched`.
        pub kind: String,
        pub reason: String,
        /// What is known of it, to remember it by.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub size: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub modified: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub content_hash: Option<String>,
    }
}

/// The importer: a cleaned file to standard lines, Parquet and a snapshot.
pub mod importer {
    use super::*;
    use crate::money::Amount;

    pub const IMPORT: &str = "import";
    pub const REIMPORT: &str = "reimport";

    /// `F` is a report format: JSON for the gateway, which passes formats
    /// on as stored, and the parsed format for the importer.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Params<F> {
        /// What cleaning made of the file (a table or a DSR).
        pub clean: uploads::Output,
        /// The organisation's own formats first, then the built-ins.
        pub formats: Vec<F>,
        pub base_currency: String,
        /// The file's own rate (file currency to base), if set.
        #[serde(default)]
        pub file_rate: Option<String>,
        /// The organisation's rates into its base currency.
        #[serde(default)]
        pub rates: Vec<Rate>,
        /// What a line whose month has no rate does.
        #[serde(default)]
        pub missing_rates: MissingRates,
        /// The file's reporting period, if the operator gave one.
        #[serde(default)]
        pub reporting_period: Option<String>,
        /// Where Parquet lines go, e.g. `org-7/lines`.
        pub lines_prefix: String,
        /// For a file of a DDEX DSR message sent in several files: the
        /// clean copies of the message's other files, whose summary
        /// records' revenue is shared across all of them.
        #[serde(default)]
        pub message_parts: Vec<OtherPart>,
    }

    /// An organisation's rate from a currency to its base currency.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Rate {
        pub currency: String,
        /// `YYYY-MM`.
        pub period: String,
        /// Exact decimal text.
        pub rate: String,
    }

    /// What an import does with a line whose month has no rate into the
    /// base currency (the organisation's choice).
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum MissingRates {
        /// The file fails, naming every currency and month without a rate.
        #[default]
        Fail,
        /// The latest earlier month's rate is used (and shown as such).
        LatestEarlier,
    }

    impl MissingRates {
        pub const ALL: [MissingRates; 2] = [MissingRates::Fail, MissingRates::LatestEarlier];

        pub fn as_str(self) -> &'static str {
            match self {
                MissingRates::Fail => "fail",
                MissingRates::LatestEarlier => "latest_earlier",
            }
        }
    }

    /// A rate an import converted lines at: for the lines of `currency`
    /// and `period` (the line's month; none when neither the line nor the
    /// file had one), the `rate`, which is the file's own or the
    /// organisation's for `rate_period`.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct RateUsed {
        pub currency: String,
        pub period: Option<String>,
        /// Exact decimal text.
        pub rate: String,
        /// The month of the organisation's rate used; `None` for the
        /// file's own rate.
        pub rate_period: Option<String>,
    }

    /// Another file of the same DSR message.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct OtherPart {
        pub file_number: u32,
        pub clean_key: String,
    }

    /// What an import found.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Output {
        /// The format's slug and name.
        pub format: String,
        pub format_name: String,
        pub lines: i64,
        /// The file's currency.
        pub currency: String,
        pub base_currency: String,
        /// The single rate used, when there was one.
        pub rate: Option<String>,
        /// The sum of the lines' amounts, exact.
        pub total: Amount,
        pub base_total: Amount,
        pub quantity: i64,
        pub artists: u64,
        /// The file's reporting period (`YYYY-MM`), if known: the one the
        /// job gave, else the one the report states, else the first month
        /// its lines cover.
        pub period: Option<String>,
        /// The first and last month the lines cover (`YYYY-MM`), when they
        /// say: a quarterly report covers three.
        #[serde(default)]
        pub period_from: Option<String>,
        #[serde(default)]
        pub period_to: Option<String>,
        /// The first and last reporting month the lines are stored with
        /// (their own, else the file's): what a report by reporting month
        /// finds in them. Absent from imports made before it was recorded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub reporting_from: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub reporting_to: Option<String>,
        /// Where the lines were written.
        pub parquet_key: String,
        /// What the lines add up to, whatever the upload's bytes: two
        /// imports with the same fingerprint read the same report.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub fingerprint: Option<String>,
        /// Every rate lines were converted at, by currency and month.
        #[serde(default)]
        pub rates_used: Vec<RateUsed>,
    }
}

/// The catalogue-matching module: a sales file's usage items matched to
/// the organisation's catalog.
pub mod catalogue_matching {
    use super::*;
    use crate::money::Amount;

    /// Matches a file's usage items (after each import and reimport, and
    /// on request).
    pub const MATCH: &str = "match";

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct MatchParams {
        /// The file's lines (the importer's `parquet_key`).
        pub parquet_key: String,
        /// The report format the lines came in: rules scoped to it apply.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub source: Option<String>,
        /// The organisation's thresholds: accepted automatically from
        /// `accept`, for review from `review`.
        pub accept: f64,
        pub review: f64,
    }

    /// Reads a catalog file (cleaned by the uploads module) into the
    /// organisation's catalog.
    pub const IMPORT_CATALOG: &str = "import_catalog";

    /// Catalog fields a column mapping names.
    pub const CATALOG_FIELDS: [&str; 9] = [
        "isrc",
        "upc",
        "track_title",
        "version",
        "release_title",
        "artist",
        "label",
        "catalog_number",
        "release_date",
    ];

    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum ImportMode {
        /// Adds new items and updates known ones.
        #[default]
        Merge,
        /// Also removes the imported tracks the file no longer has.
        Replace,
    }

    impl ImportMode {
        pub fn as_str(self) -> &'static str {
            match self {
                ImportMode::Merge => "merge",
                ImportMode::Replace => "replace",
            }
        }
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ImportParams {
        /// The catalog file as the uploads module cleaned it.
        pub clean: super::uploads::Output,
        pub mode: ImportMode,
        /// The organisation's own column names, by catalog field
        /// ([`CATALOG_FIELDS`]); the usual names otherwise.
        #[serde(default)]
        pub columns: std::collections::BTreeMap<String, String>,
    }

    /// A row, or an identifier of a row, left out of a catalog import.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Rejected {
        /// The row's line in the file (the header is line 1).
        pub line: u64,
        pub reason: String,
    }

    /// What a catalog import did to the catalog's tracks.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct CatalogImported {
        pub created: u64,
        pub updated: u64,
        pub unchanged: u64,
        pub removed: u64,
        /// The first thousand rows or identifiers left out.
        pub rejected: Vec<Rejected>,
        pub rejected_count: u64,
    }

    /// Builds or extends the catalog from the usage the organisation's
    /// processed files report.
    pub const GENERATE_CATALOG: &str = "generate_catalog";

    /// A processed file's lines, as a generation reads them.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct FileLines {
        pub file_id: i64,
        /// The importer's `parquet_key`.
        pub parquet_key: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct GenerateParams {
        pub files: Vec<FileLines>,
    }

    /// What a generation added: tracks (one per ISRC, else per artist and
    /// title) and the releases they are on (one per UPC).
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct CatalogGenerated {
        /// Files read.
        pub files: u64,
        /// Distinct recordings found in them.
        pub recordings: u64,
        /// Tracks added to the catalog.
        pub created: u64,
        /// Recordings the catalog already had (left as they are).
        pub unchanged: u64,
        /// Recordings naming no title, left out.
        pub left_out: u64,
    }

    /// Checks the catalog and the usage of a period against each other,
    /// writing the findings as a gzipped CSV file.
    pub const AUDIT_CATALOG: &str = "audit_catalog";

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct AuditParams {
        /// Months `YYYY-MM`, inclusive: the usage of files reporting in
        /// them (all files when absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub period_from: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub period_to: Option<String>,
        /// Where the findings (CSV, gzipped) are written.
        pub target: String,
    }

    /// An audit done: how many findings of each kind, and where they are.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct CatalogAudited {
        pub counts: std::collections::BTreeMap<String, u64>,
        pub findings: u64,
        /// The findings file written (the `target`).
        pub key: String,
        /// Revenue of the period's usage the catalog does not account for
        /// (review and unmatched), exact, in the base currency.
        pub revenue_at_stake: Amount,
    }

    /// What a run did, by action.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "action", rename_all = "snake_case")]
    pub enum Output {
        Match(Matched),
        ImportCatalog(CatalogImported),
        GenerateCatalog(CatalogGenerated),
        AuditCatalog(CatalogAudited),
    }

    /// A file matched: its items by status, and the revenue each holds
    /// (exact, in the base currency).
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Matched {
        pub items: u64,
        pub matched: u64,
        pub review: u64,
        pub unmatched: u64,
        pub matched_revenue: Amount,
        pub review_revenue: Amount,
        pub unmatched_revenue: Amount,
        /// Items matched at each stage (`isrc`, `fuzzy`, …).
        pub by_type: std::collections::BTreeMap<String, u64>,
        /// The organisation had no catalog: nothing was matched.
        pub no_catalog: bool,
    }
}

/// The report module: the sales lines of a period, matched or not, as a
/// gzipped CSV file, with the report's totals saved as its snapshot.
pub mod report {
    use super::*;
    use crate::money::Amount;

    pub const ACTION: &str = "report";

    /// Which lines a report holds.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Kind {
        /// The lines whose usage item is matched to the catalog, with the
        /// catalog's fields beside them.
        Monthly,
        /// The lines whose usage item is not (waiting for review, or
        /// unmatched, or not matched yet).
        Unmatched,
    }

    impl Kind {
        pub const ALL: [Kind; 2] = [Kind::Monthly, Kind::Unmatched];

        pub fn as_str(self) -> &'static str {
            match self {
                Kind::Monthly => "monthly",
                Kind::Unmatched => "unmatched",
            }
        }
    }

    /// Which month of a line places it in a period.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum By {
        /// The month the report it came in covers (the file's, when the
        /// line names none).
        #[default]
        Reporting,
        /// The month the sale was made (the reporting month when the line
        /// names none).
        Sale,
    }

    impl By {
        pub const ALL: [By; 2] = [By::Reporting, By::Sale];

        pub fn as_str(self) -> &'static str {
            match self {
                By::Reporting => "reporting",
                By::Sale => "sale",
            }
        }
    }

    /// A processed file whose lines the report reads.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Source {
        pub file_id: i64,
        /// The file's name, written beside each of its lines.
        pub name: String,
        /// The importer's `parquet_key`.
        pub parquet_key: String,
        /// The file's reporting period, for lines that name none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub period: Option<String>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Params {
        /// The report's id: its snapshot is saved under it.
        pub report_id: i64,
        pub kind: Kind,
        /// Months `YYYY-MM`, inclusive.
        pub period_from: String,
        pub period_to: String,
        #[serde(default)]
        pub by: By,
        pub files: Vec<Source>,
        /// Where the CSV (gzipped) is written.
        pub target: String,
    }

    /// A report written.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Output {
        /// The key written (the `target`).
        pub key: String,
        /// Lines in the report.
        pub rows: u64,
        /// What they add up to in the base currency, exact.
        pub total: Amount,
        /// The base currency (none when the report has no line).
        pub currency: Option<String>,
        pub quantity: i64,
        /// What they add up to in each file currency, exact.
        pub by_currency: std::collections::BTreeMap<String, Amount>,
        /// Lines of the period's files, in either report.
        pub period_lines: u64,
        /// Bytes written (compressed).
        pub bytes: u64,
    }
}

/// The statement module: statements of account of a period, each written
/// to the database as it is calculated, with its CSV and PDF files.
pub mod statement {
    use super::*;

    pub const ACTION: &str = "statement";

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Params {
        /// Months `YYYY-MM`, inclusive, counted by the month each line was
        /// reported in.
        pub period_from: String,
        pub period_to: String,
        /// The PENDING statements of the organisation to calculate (each
        /// names its contract and version, its payee, or the artist or
        /// label of a sales statement).
        pub statements: Vec<i64>,
        /// The processed files holding lines of the period.
        pub files: Vec<report::Source>,
    }

    /// A statement calculated and stored as a DRAFT.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Written {
        pub statement_id: i64,
        /// Exact decimal text in `currency`, whole minor units.
        pub earnings: String,
        pub payable: String,
        pub currency: String,
        /// Lines of the statement's CSV (the rounding line aside).
        pub lines: u64,
        pub csv_key: String,
        pub pdf_key: String,
    }

    /// A statement that could not be calculated, and why (it is FAILED).
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Refused {
        pub statement_id: i64,
        pub cause: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Output {
        pub written: Vec<Written>,
        #[serde(default)]
        pub refused: Vec<Refused>,
        /// Lines of the period's files read.
        pub period_lines: u64,
    }
}

/// The ping module: checks a deployment's module plumbing.
pub mod ping {
    use super::*;

    pub const ACTION: &str = "ping";

    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Params {
        /// Milliseconds to wait before reporting (to check timeouts).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub hold_ms: Option<u64>,
        /// Report a failure with this message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub fail: Option<String>,
        /// MiB of memory to take and touch before reporting (to check a
        /// deployment's memory limit).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub allocate_mib: Option<u32>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Output {
        pub pong: bool,
        /// The module's version.
        #[serde(default)]
        pub version: String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uploads_output_reads_by_its_kind_with_the_hash_beside_it() {
        let json = serde_json::json!({
            "kind": "archive", "content_hash": "blake3:00",
            "members": [{"name": "a.csv", "size": 3, "key": "org-1/files/2/members/0"}],
            "skipped": [{"name": "__MACOSX/x", "reason": "a system file"}],
        });
        let output: uploads::Output = serde_json::from_value(json.clone()).unwrap();
        let uploads::Cleaned::Archive(archive) = &output.cleaned else {
            panic!("{output:?}")
        };
        assert_eq!(archive.members[0].key, "org-1/files/2/members/0");
        assert_eq!(serde_json::to_value(&output).unwrap(), json);
        assert!(check_output(Module::Uploads, "clean", &json).is_ok());
        let reason = check_output(Module::Uploads, "clean", &serde_json::json!({})).unwrap_err();
        assert!(reason.contains("content_hash"), "{reason}");
        let unkinded = serde_json::json!({"content_hash": "blake3:00", "members": []});
        let reason = check_output(Module::Uploads, "clean", &unkinded).unwrap_err();
        assert!(reason.contains("kind"), "{reason}");
        assert!(
            check_output(Module::Importer, "import", &serde_json::json!({"lines": 1})).is_err()
        );
        let reason =
            check_output(Module::Report, "report", &serde_json::json!({"any": 1})).unwrap_err();
        assert!(reason.contains("key"), "{reason}");
    }
}
