//! Report formats: how a source lays out its report, and how each of its
//! lines becomes a standard sales line.
//!
//! A format names the source, a detection signature (header columns that
//! must all be present, each under one name or one of several a source
//! uses, compared without regard to case, spacing or a byte-order mark),
//! and a mapping from standard fields to source columns
//! (each field lists candidate columns; the first present is used). The
//! built-in formats live in `formats/builtin.json`; organisations add or
//! correct their own through the API, stored beside them in the database.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::dates;
use crate::ids;
use crate::numbers::{self, DecimalStyle};
use crate::territory;

/// The built-in formats, as the migrations seed them.
pub const BUILTIN_JSON: &str = include_str!("../formats/builtin.json");

/// The built-in formats.
pub fn builtin() -> Result<Vec<FormatSpec>, serde_json::Error> {
    serde_json::from_str(BUILTIN_JSON)
}

/// A field of the standard sales line that a source column can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The month the file reports on (`YYYY-MM`, or a date within it).
    ReportingPeriod,
    /// The month of the sale, when given as a month.
    SalePeriod,
    SaleStart,
    SaleEnd,
    Dsp,
    SubService,
    Territory,
    Artist,
    ReleaseTitle,
    TrackTitle,
    Isrc,
    Upc,
    Label,
    CatalogNumber,
    SaleType,
    Quantity,
    GrossRevenue,
    /// What the rights holder earns: the amount every total is made of.
    NetRevenue,
    Currency,
}

impl Field {
    pub const ALL: [Field; 19] = [
        Field::ReportingPeriod,
        Field::SalePeriod,
        Field::SaleStart,
        Field::SaleEnd,
        Field::Dsp,
        Field::SubService,
        Field::Territory,
        Field::Artist,
        Field::ReleaseTitle,
        Field::TrackTitle,
        Field::Isrc,
        Field::Upc,
        Field::Label,
        Field::CatalogNumber,
        Field::SaleType,
        Field::Quantity,
        Field::GrossRevenue,
        Field::NetRevenue,
        Field::Currency,
    ];
}

/// Where a source stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Dsp,
    Distributor,
    Standard,
    Other,
}

/// Kinds of sale on the standard line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SaleType {
    Stream,
    Download,
    Physical,
    Other,
}

impl SaleType {
    pub fn as_str(self) -> &'static str {
        match self {
            SaleType::Stream => "stream",
            SaleType::Download => "download",
            SaleType::Physical => "physical",
            SaleType::Other => "other",
        }
    }

    /// Reads a report's own word for it (`Streaming`, `Download`, `S`…).
    pub fn from_report(raw: &str) -> Option<SaleType> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return None;
        }
        // Lower-cased on the stack: the column repeats a few short words.
        let mut buffer = [0u8; 32];
        let owned;
        let word: &str = match buffer.get_mut(..trimmed.len()) {
            Some(bytes) if trimmed.is_ascii() => {
                bytes.copy_from_slice(trimmed.as_bytes());
                bytes.make_ascii_lowercase();
                std::str::from_utf8(bytes).unwrap_or(trimmed)
            }
            _ => {
                owned = trimmed.to_ascii_lowercase();
                &owned
            }
        };
        let kind = if word.contains("stream") || word.contains("subscription") {
            SaleType::Stream
        } else if word.contains("download")
            || word.contains("purchase")
            || word == "s"
            || word == "r"
            || word.contains("sale")
            || word == "track"
            || word == "album"
        {
            SaleType::Download
        } else if ["physical", "cd", "vinyl", "lp", "cassette", "merch"]
            .iter()
            .any(|w| word.contains(w))
        {
            SaleType::Physical
        } else {
            SaleType::Other
        };
        Some(kind)
    }
}

/// One format of the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormatSpec {
    /// A stable short name, unique among an organisation's formats.
    pub slug: String,
    pub name: String,
    pub source: Source,
    /// The store, for sources whose lines do not name one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsp: Option<String>,
    /// The currency, for sources that always pay in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default)]
    pub decimal: DecimalStyle,
    /// Dates written day first (`31/12/2024`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub day_first: bool,
    /// Header columns that must all be present.
    pub signature: Vec<SignatureColumn>,
    /// Source columns for each standard field, in order of preference.
    pub columns: BTreeMap<Field, Vec<String>>,
    /// Preamble keys (the lines before the header) for standard fields,
    /// e.g. `currency: ["Currency"]`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub preamble: BTreeMap<Field, Vec<String>>,
    /// The kind of sale, for sources whose lines do not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sale_type: Option<SaleType>,
    /// Values of the sale-type column that mark a return: the line's
    /// quantity is then made negative.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub returns: Vec<String>,
}

/// The JSON Schema of a [`FormatSpec`] as the API takes it: what can be
/// said of a format's shape. One rule is beyond it, and checked by
/// [`FormatSpec::problems`]: a column of `net_revenue` must be in the
/// signature.
pub fn json_schema() -> serde_json::Value {
    use serde_json::json;
    let fields: Vec<String> = Field::ALL.iter().map(|f| field_name(*f)).collect();
    let name = json!({"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S"});
    let names = json!({"type": "array", "items": name, "minItems": 1, "maxItems": 20});
    let mapping = |required: &[&str]| {
        json!({
            "type": "object",
            "propertyNames": {"enum": fields},
            "additionalProperties": names,
            "required": required,
        })
    };
    json!({
        "type": "object",
        "required": ["slug", "name", "source", "signature", "columns"],
        "properties": {
            "slug": {"type": "string", "pattern": "^[a-z0-9_-]{1,64}$",
                     "description": "A stable short name, unique among the organisation's formats; a built-in's slug replaces that built-in."},
            "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S"},
            "source": {"enum": ["dsp", "distributor", "standard", "other"]},
            "dsp": {"type": "string", "minLength": 1, "maxLength": 200,
                    "description": "The store, for sources whose lines do not name one."},
            "currency": {"enum": oas_domain::money::currency_codes(),
                         "description": "The currency, for sources that always pay in one."},
            "decimal": {"enum": ["point", "comma"]},
            "day_first": {"type": "boolean"},
            "signature": {
                "type": "array", "minItems": 1, "maxItems": 50,
                "description": "Header columns that must all be present; a column sources name differently is the list of its names.",
                "items": {"oneOf": [name, names]},
            },
            "columns": mapping(&["net_revenue"]),
            "preamble": mapping(&[]),
            "sale_type": {"enum": ["stream", "download", "physical", "other"]},
            "returns": {"type": "array", "items": name, "maxItems": 20},
        },
        "additionalProperties": false,
    })
}

/// A column of a format's signature: one header name, or the names a
/// source gives the same column in different exports (The Orchard's store
/// column is `Retailer` in some and `DMS` in others): `["Retailer", "DMS"]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SignatureColumn {
    Name(String),
    AnyOf(Vec<String>),
}

impl SignatureColumn {
    /// Every name the column may have.
    pub fn names(&self) -> &[String] {
        match self {
            SignatureColumn::Name(name) => std::slice::from_ref(name),
            SignatureColumn::AnyOf(names) => names,
        }
    }

    /// Whether a header (names already normalised) has the column.
    fn found_in(&self, present: &[String]) -> bool {
        self.names()
            .iter()
            .any(|name| present.contains(&normalise_name(name)))
    }

    /// How a message names it: `Retailer or DMS`.
    pub fn describe(&self) -> String {
        self.names().join(" or ")
    }
}

impl From<&str> for SignatureColumn {
    fn from(name: &str) -> Self {
        SignatureColumn::Name(name.to_owned())
    }
}

/// A header name compared as reports vary it: case, spacing, a BOM,
/// quotes and zero-width characters do not count.
pub fn normalise_name(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '\u{feff}' | '\u{200b}' | '\u{200c}' | '\u{200d}' | '"'))
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl FormatSpec {
    /// What is wrong with the spec, for the API's 400 answer.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let slug_ok = !self.slug.is_empty()
            && self.slug.len() <= 64
            && self
                .slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !slug_ok {
            problems.push("slug: 1 to 64 lower-case letters, digits, '-' or '_'.".to_owned());
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            problems.push("name: 1 to 200 characters.".to_owned());
        }
        if self.signature.is_empty() {
            problems.push("signature: name at least one header column.".to_owned());
        }
        if self.signature.iter().any(|column| {
            column.names().is_empty() || column.names().iter().any(|n| n.trim().is_empty())
        }) {
            problems.push(
                "signature: every column needs a name (or a list of the names it may have), none of them empty.".to_owned(),
            );
        }
        if self
            .columns
            .get(&Field::NetRevenue)
            .is_none_or(Vec::is_empty)
        {
            problems
                .push("columns.net_revenue: name the column with the amount earned.".to_owned());
        }
        for (field, candidates) in &self.columns {
            if candidates.is_empty() {
                problems.push(format!(
                    "columns.{}: list at least one column.",
                    field_name(*field)
                ));
            }
            // A required field must be found in every file that matches:
            // some signature column has only names among its candidates.
            let candidates: Vec<String> = candidates.iter().map(|c| normalise_name(c)).collect();
            if *field == Field::NetRevenue
                && !self.signature.iter().any(|column| {
                    column
                        .names()
                        .iter()
                        .all(|name| candidates.contains(&normalise_name(name)))
                })
            {
                problems.push(
                    "columns.net_revenue: one of its columns must be in the signature.".to_owned(),
                );
            }
        }
        if let Some(currency) = &self.currency
            && oas_domain::money::CurrencyCode::parse(currency).is_err()
        {
            problems.push(format!("currency: {currency:?} is not an ISO 4217 code."));
        }
        problems
    }

    /// Signature columns missing from `header`, as a message names them.
    pub fn missing(&self, header: &[String]) -> Vec<String> {
        let present: Vec<String> = header.iter().map(|h| normalise_name(h)).collect();
        self.signature
            .iter()
            .filter(|column| !column.found_in(&present))
            .map(SignatureColumn::describe)
            .collect()
    }
}

fn field_name(field: Field) -> String {
    serde_json::to_value(field)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Why no format fits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetectError {
    #[error(
        "The file matches no known report format. The closest is {closest}, which also needs the column(s): {}.",
        missing.join(", ")
    )]
    NoMatch {
        closest: String,
        missing: Vec<String>,
    },
    #[error("The file matches no known report format, and no format is defined.")]
    NoFormats,
}

/// The format whose signature the header carries. When several match, the
/// one with the longest signature (the most specific) wins; among equals,
/// the earlier in `formats` (an organisation's own come first).
pub fn detect<'a>(
    formats: &'a [FormatSpec],
    header: &[String],
) -> Result<&'a FormatSpec, DetectError> {
    let mut best: Option<&FormatSpec> = None;
    let mut closest: Option<(&FormatSpec, Vec<String>)> = None;
    for format in formats {
        let missing = format.missing(header);
        if missing.is_empty() {
            if best.is_none_or(|b| format.signature.len() > b.signature.len()) {
                best = Some(format);
            }
        } else {
            let found = format.signature.len() - missing.len();
            let better = closest.as_ref().is_none_or(|(c, m)| {
                let their = c.signature.len() - m.len();
                found > their || (found == their && missing.len() < m.len())
            });
            if better {
                closest = Some((format, missing));
            }
        }
    }
    match (best, closest) {
        (Some(format), _) => Ok(format),
        (None, Some((format, missing))) => Err(DetectError::NoMatch {
            closest: format.name.clone(),
            missing,
        }),
        (None, None) => Err(DetectError::NoFormats),
    }
}

/// One normalised line: the standard sales line less what the importer
/// adds (organisation, file, currency conversion).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line {
    pub reporting_period: Option<String>,
    /// `YYYY-MM`.
    pub sale_period: Option<String>,
    /// `YYYY-MM-DD`.
    pub sale_start: Option<String>,
    pub sale_end: Option<String>,
    pub dsp: Option<String>,
    pub sub_service: Option<String>,
    pub territory: Option<String>,
    pub artist: Option<String>,
    pub release_title: Option<String>,
    pub track_title: Option<String>,
    pub isrc: Option<String>,
    pub upc: Option<String>,
    pub label: Option<String>,
    pub catalog_number: Option<String>,
    pub sale_type: Option<SaleType>,
    pub quantity: i64,
    /// Canonical decimal text.
    pub gross_revenue: Option<String>,
    pub net_revenue: String,
    pub currency: Option<String>,
}

/// Why a line could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{column}: {problem}")]
pub struct LineError {
    pub column: String,
    pub problem: String,
}

/// Fields of the standard line, by [`Field`]'s order.
const FIELD_COUNT: usize = Field::Currency as usize + 1;

/// A record's cells by position: a CSV reader's record, or the cells of a
/// quote-free line found in place ([`SplitLine`]), which are not copied.
pub trait Cells {
    /// How many cells the record has.
    fn len(&self) -> usize;
    /// The cell at `position`, as written.
    fn cell(&self, position: usize) -> Option<&str>;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Cells for csv::StringRecord {
    fn len(&self) -> usize {
        csv::StringRecord::len(self)
    }

    fn cell(&self, position: usize) -> Option<&str> {
        self.get(position)
    }
}

/// The cells of one line without quotes: the line, and where each cell
/// starts and ends in it.
pub struct SplitLine<'a> {
    pub text: &'a str,
    pub bounds: &'a [(usize, usize)],
}

impl Cells for SplitLine<'_> {
    fn len(&self) -> usize {
        self.bounds.len()
    }

    fn cell(&self, position: usize) -> Option<&str> {
        let &(from, to) = self.bounds.get(position)?;
        self.text.get(from..to)
    }
}

/// Dates or months read from raw text, by that text. Hashed with foldhash
/// (seeded per process), a fraction of SipHash's cost per line.
type DateMemo = std::collections::HashMap<String, Option<String>, foldhash::fast::RandomState>;

/// A format bound to one file's header: column positions resolved once.
#[derive(Debug, Clone)]
pub struct Mapper {
    spec: FormatSpec,
    /// (position, column name), by field.
    positions: [Option<(usize, String)>; FIELD_COUNT],
    /// Values from the preamble, by field.
    preamble: [Option<String>; FIELD_COUNT],
    /// Dates and months already read, by field and raw text.
    dates: std::cell::RefCell<BTreeMap<Field, DateMemo>>,
}

/// Sets an optional text of a reused line, keeping its buffer.
fn set(slot: &mut Option<String>, value: Option<&str>) {
    match (slot.as_mut(), value) {
        (Some(text), Some(value)) => {
            text.clear();
            text.push_str(value);
        }
        (None, Some(value)) => *slot = Some(value.to_owned()),
        (_, None) => *slot = None,
    }
}

/// Sets an optional text of a reused line through `fill`, which writes
/// into the buffer and says whether there is a value.
fn set_with<E>(
    slot: &mut Option<String>,
    fill: impl FnOnce(&mut String) -> Result<bool, E>,
) -> Result<(), E> {
    let mut text = slot.take().unwrap_or_default();
    if fill(&mut text)? {
        *slot = Some(text);
    }
    Ok(())
}

impl Mapper {
    /// Binds `spec` to `header`; `preamble` holds the pairs found before it.
    pub fn new(spec: &FormatSpec, header: &[String], preamble: &[(String, String)]) -> Mapper {
        let names: Vec<String> = header.iter().map(|h| normalise_name(h)).collect();
        let mut positions: [Option<(usize, String)>; FIELD_COUNT] = Default::default();
        for (field, candidates) in &spec.columns {
            positions[*field as usize] = candidates.iter().find_map(|c| {
                let wanted = normalise_name(c);
                names
                    .iter()
                    .position(|n| *n == wanted)
                    .map(|i| (i, c.clone()))
            });
        }
        let mut values: [Option<String>; FIELD_COUNT] = Default::default();
        for (field, keys) in &spec.preamble {
            values[*field as usize] = keys.iter().find_map(|k| {
                let wanted = normalise_name(k);
                preamble
                    .iter()
                    .find(|(key, value)| normalise_name(key) == wanted && !value.trim().is_empty())
                    .map(|(_, value)| value.trim().to_owned())
            });
        }
        Mapper {
            spec: spec.clone(),
            positions,
            preamble: values,
            dates: Default::default(),
        }
    }

    pub fn spec(&self) -> &FormatSpec {
        &self.spec
    }

    /// The name of the column that holds the amounts.
    pub fn amount_column(&self) -> Option<&str> {
        self.position(Field::NetRevenue)
            .map(|(_, name)| name.as_str())
    }

    fn position(&self, field: Field) -> Option<&(usize, String)> {
        self.positions[field as usize].as_ref()
    }

    /// A preamble value for `field`, e.g. the currency of Apple's reports.
    pub fn preamble_value(&self, field: Field) -> Option<&str> {
        self.preamble[field as usize].as_deref()
    }

    /// The file's reporting period from its preamble, when it gives one.
    pub fn preamble_period(&self) -> Option<String> {
        [Field::ReportingPeriod, Field::SaleStart]
            .iter()
            .find_map(|f| self.preamble_value(*f))
            .and_then(|v| dates::period(v, self.spec.day_first))
    }

    fn cell<'r, C: Cells + ?Sized>(&self, record: &'r C, field: Field) -> Option<&'r str> {
        let (position, _) = self.position(field)?;
        let value = record.cell(*position)?.trim();
        (!value.is_empty()).then_some(value)
    }

    /// The cell of `field`, else its preamble value.
    fn text<'a, C: Cells + ?Sized>(&'a self, record: &'a C, field: Field) -> Option<&'a str> {
        self.cell(record, field)
            .or_else(|| self.preamble_value(field))
    }

    fn error(&self, field: Field, problem: String) -> LineError {
        let column = self
            .position(field)
            .map(|(_, name)| name.clone())
            .unwrap_or_else(|| field_name(field));
        LineError { column, problem }
    }

    /// Writes the date or month of `field` into `slot`, read once per
    /// distinct value: a file repeats the same few dates on every line.
    fn parsed_into<C: Cells + ?Sized>(
        &self,
        record: &C,
        field: Field,
        month: bool,
        slot: &mut Option<String>,
    ) -> Result<(), LineError> {
        let Some(raw) = self.text(record, field) else {
            *slot = None;
            return Ok(());
        };
        let mut memo = self.dates.borrow_mut();
        let memo = memo.entry(field).or_default();
        if let Some(found) = memo.get(raw) {
            return match found {
                Some(value) => {
                    set(slot, Some(value));
                    Ok(())
                }
                None => Err(self.unreadable(field, raw, month)),
            };
        }
        let parsed = if month {
            dates::period(raw, self.spec.day_first)
        } else {
            dates::date(raw, self.spec.day_first)
        };
        if memo.len() > 4096 {
            memo.clear();
        }
        set(slot, parsed.as_deref());
        memo.insert(raw.to_owned(), parsed);
        if slot.is_none() {
            return Err(self.unreadable(field, raw, month));
        }
        Ok(())
    }

    fn unreadable(&self, field: Field, raw: &str, month: bool) -> LineError {
        let what = if month { "a month or a date" } else { "a date" };
        self.error(field, format!("{raw:?} is not {what}"))
    }

    /// Maps one record to a standard line.
    pub fn line<C: Cells + ?Sized>(&self, record: &C) -> Result<Line, LineError> {
        let mut line = Line::default();
        self.line_into(record, &mut line)?;
        Ok(line)
    }

    /// Maps one record into `line`, every field overwritten; the line's
    /// buffers are reused, so a file read line after line into one `Line`
    /// allocates next to nothing.
    pub fn line_into<C: Cells + ?Sized>(
        &self,
        record: &C,
        line: &mut Line,
    ) -> Result<(), LineError> {
        let style = self.spec.decimal;
        let net_raw = self.cell(record, Field::NetRevenue).unwrap_or("");
        let found = numbers::decimal_into(net_raw, style, &mut line.net_revenue)
            .map_err(|e| self.error(Field::NetRevenue, e.to_string()))?;
        if !found {
            line.net_revenue.push('0');
        }
        let gross_raw = self.cell(record, Field::GrossRevenue);
        set_with(&mut line.gross_revenue, |text| match gross_raw {
            None => Ok(false),
            Some(raw) => numbers::decimal_into(raw, style, text)
                .map_err(|e| self.error(Field::GrossRevenue, e.to_string())),
        })?;
        let raw_type = self.cell(record, Field::SaleType);
        let mut quantity = match self.cell(record, Field::Quantity) {
            None => 0,
            Some(raw) => numbers::quantity(raw, style)
                .map_err(|e| self.error(Field::Quantity, e.to_string()))?
                .unwrap_or(0),
        };
        if let Some(kind) = raw_type
            && quantity > 0
            && self
                .spec
                .returns
                .iter()
                .any(|r| r.eq_ignore_ascii_case(kind))
        {
            quantity = -quantity;
        }
        line.quantity = quantity;
        self.parsed_into(record, Field::SaleStart, false, &mut line.sale_start)?;
        self.parsed_into(record, Field::SaleEnd, false, &mut line.sale_end)?;
        self.parsed_into(record, Field::SalePeriod, true, &mut line.sale_period)?;
        if line.sale_period.is_none()
            && let Some(start) = &line.sale_start
        {
            line.sale_period = Some(start[..7].to_owned());
        }
        let territory = self.text(record, Field::Territory);
        set_with(&mut line.territory, |t| {
            Ok::<_, LineError>(territory.is_some_and(|raw| {
                territory::territory_into(raw, t);
                true
            }))
        })?;
        set(
            &mut line.currency,
            self.text(record, Field::Currency)
                .or(self.spec.currency.as_deref())
                .map(str::trim),
        );
        if let Some(c) = &mut line.currency {
            c.make_ascii_uppercase();
        }
        self.parsed_into(
            record,
            Field::ReportingPeriod,
            true,
            &mut line.reporting_period,
        )?;
        set(
            &mut line.dsp,
            self.text(record, Field::Dsp).or(self.spec.dsp.as_deref()),
        );
        set(&mut line.sub_service, self.text(record, Field::SubService));
        set(&mut line.artist, self.text(record, Field::Artist));
        set(
            &mut line.release_title,
            self.text(record, Field::ReleaseTitle),
        );
        set(&mut line.track_title, self.text(record, Field::TrackTitle));
        let isrc = self.cell(record, Field::Isrc);
        set_with(&mut line.isrc, |text| {
            Ok::<_, LineError>(isrc.is_some_and(|raw| ids::isrc_into(raw, text)))
        })?;
        let upc = self.cell(record, Field::Upc);
        set_with(&mut line.upc, |text| {
            Ok::<_, LineError>(upc.is_some_and(|raw| ids::upc_into(raw, text)))
        })?;
        set(&mut line.label, self.text(record, Field::Label));
        set(
            &mut line.catalog_number,
            self.text(record, Field::CatalogNumber),
        );
        line.sale_type = raw_type
            .and_then(SaleType::from_report)
            .or(self.spec.sale_type);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn every_builtin_format_is_valid_and_unique() {
        let formats = builtin().unwrap();
        assert!(formats.len() >= 13);
        let mut slugs: Vec<&str> = formats.iter().map(|f| f.slug.as_str()).collect();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), formats.len(), "slugs are unique");
        for format in &formats {
            assert_eq!(format.problems(), Vec::<String>::new(), "{}", format.slug);
        }
    }

    #[test]
    fn detection_ignores_case_spacing_and_a_bom_and_prefers_the_most_specific() {
        let formats = builtin().unwrap();
        let spotify = header(&[
            "\u{feff}country",
            "LABEL",
            "Product",
            "URI",
            "UPC",
            "EAN",
            "ISRC",
            "Track  name",
            "Artist name",
            "Composer name",
            "Album name",
            "Quantity",
            "USD Payable",
        ]);
        assert_eq!(detect(&formats, &spotify).unwrap().slug, "spotify");
        let almost = header(&[
            "Country",
            "Label",
            "UPC",
            "ISRC",
            "Track name",
            "Artist name",
        ]);
        let err = detect(&formats, &almost).unwrap_err();
        let DetectError::NoMatch { closest, missing } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(closest, "Spotify");
        assert!(missing.contains(&"USD Payable".to_owned()), "{missing:?}");
        assert!(err.to_string().contains("closest is Spotify"));
        assert_eq!(detect(&[], &almost).unwrap_err(), DetectError::NoFormats);
    }

    #[test]
    fn a_signature_column_may_have_several_names() {
        let formats = builtin().unwrap();
        let orchard = |store: &str| {
            header(&[
                "Period",
                store,
                "Territory",
                "Product UPC",
                "Artist Name",
                "ISRC",
                "Quantity",
                "Label Share Net Receipts",
            ])
        };
        assert_eq!(
            detect(&formats, &orchard("Retailer")).unwrap().slug,
            "orchard"
        );
        assert_eq!(detect(&formats, &orchard("dms")).unwrap().slug, "orchard");
        let err = detect(&formats, &orchard("Shop")).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("which also needs the column(s): Retailer or DMS."),
            "{err}"
        );
        let spec = formats.iter().find(|f| f.slug == "orchard").unwrap();
        let json = serde_json::to_value(spec).unwrap();
        assert_eq!(json["signature"][0], serde_json::json!(["Retailer", "DMS"]));
        assert_eq!(json["signature"][1], "Territory");
        let mut empty = spec.clone();
        empty.signature.push(SignatureColumn::AnyOf(vec![]));
        assert!(empty.problems().iter().any(|p| p.starts_with("signature:")));
    }

    #[test]
    fn a_line_is_mapped_with_its_numbers_identifiers_and_dates_normalised() {
        let spec: FormatSpec = serde_json::from_value(serde_json::json!({
            "slug": "believe-test", "name": "Believe", "source": "distributor",
            "decimal": "comma", "day_first": true,
            "signature": ["Sales Month", "Platform", "Net Revenue"],
            "columns": {
                "sale_period": ["Sales Month"], "dsp": ["Platform"], "isrc": ["ISRC"],
                "upc": ["UPC"], "quantity": ["Quantity"], "net_revenue": ["Net Revenue"],
                "sale_type": ["Sales Type"], "currency": ["Currency"], "territory": ["Country"]
            },
            "returns": ["R"]
        }))
        .unwrap();
        let head = header(&[
            "Sales Month",
            "Platform",
            "ISRC",
            "UPC",
            "Quantity",
            "Net Revenue",
            "Sales Type",
            "Currency",
            "Country",
        ]);
        let mapper = Mapper::new(&spec, &head, &[]);
        let record = csv::StringRecord::from(vec![
            "01/03/2024",
            "Deezer",
            "nl-a1z-26-00123",
            "86000000001",
            "3",
            "1.234,5600",
            "R",
            "eur",
            "fr",
        ]);
        let line = mapper.line(&record).unwrap();
        assert_eq!(line.sale_period.as_deref(), Some("2024-03"));
        assert_eq!(line.isrc.as_deref(), Some("NLA1Z2600123"));
        assert_eq!(line.upc.as_deref(), Some("086000000001"));
        assert_eq!(line.quantity, -3, "a return");
        assert_eq!(line.net_revenue, "1234.5600");
        assert_eq!(line.currency.as_deref(), Some("EUR"));
        assert_eq!(line.territory.as_deref(), Some("FR"));
        assert_eq!(line.sale_type, Some(SaleType::Download));
        let bad =
            csv::StringRecord::from(vec!["01/03/2024", "Deezer", "", "", "x", "1", "", "", ""]);
        let err = mapper.line(&bad).unwrap_err();
        assert_eq!(err.column, "Quantity");
        assert_eq!(mapper.amount_column(), Some("Net Revenue"));
    }
}
