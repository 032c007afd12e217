//! The period's lines, priced: each processed file's lines are read a
//! slice at a time, each line of the period found its usage item's match,
//! the contract its scope belongs to, and the term that prices it; its
//! royalty is added to the contract's account, its store, territory,
//! release and track, and the line written to the contract's spill, from
//! which each payee's CSV is made at the end. Lines a contract holds but
//! cannot price (not matched to the catalog, claimed by two contracts at
//! one level, without a term or a rate) are counted apart and said.
//!
//! Memory is a slice of one file, its items, the accounts' tallies and a
//! short buffer per account: each spill writes to its own file in blocks,
//! opened only for as long as a block takes, so a thousand contracts need
//! no thousand open files.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use foldhash::fast::RandomState;
use oas_domain::job::contract::report::Source;
use oas_domain::money::Amount;
use oas_domain::statement::{
    Basis, Claim, ContractTerms, Covered, Priced, PricedLine, ScopeIndex, ScopeKind, Term,
    price_claimed,
};
use oas_lines::matches::{FileMatches, Item, Standing, item_key};
use oas_sales::cells::text;
use oas_sales::names::ITEM_FIELDS;
use polars::prelude::*;
use rust_decimal::Decimal;

/// Columns read besides [`ITEM_FIELDS`].
pub const COLUMNS: [&str; 11] = [
    "line",
    "reporting_period",
    "dsp",
    "territory",
    "label",
    "sale_type",
    "quantity",
    "gross_revenue",
    "net_revenue",
    "currency",
    "exchange_rate",
];

/// The columns of a spill row: a contract's line as priced.
pub const SPILL_HEADER: [&str; 20] = [
    "period",
    "store",
    "territory",
    "sale_type",
    "artist",
    "release",
    "track",
    "isrc",
    "upc",
    "quantity",
    "basis",
    "basis_amount",
    "basis_currency",
    "rate",
    "exchange_rate",
    "royalty",
    "currency",
    "source_file",
    "source_line",
    "term",
];

/// Where the royalty sits in a spill row.
pub const ROYALTY_AT: usize = 15;
/// Where a payee's columns go in its CSV: after the royalty's currency.
pub const PAYEE_COLUMNS_AT: usize = 17;

/// Bytes a spill holds before writing them to its file.
const SPILL_BLOCK: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("the lines of {file} cannot be read: {error}")]
    Lines { file: String, error: PolarsError },
    #[error("line {line} of {file}: {what} {value:?} is not an exact decimal")]
    Number {
        file: String,
        line: i64,
        what: &'static str,
        value: String,
    },
    #[error("the earnings overflow")]
    Overflow,
    #[error("writing the statement's lines: {0}")]
    Write(#[from] io::Error),
    #[error("writing the statement's lines: {0}")]
    Csv(#[from] csv::Error),
}

enum SliceError {
    Polars(PolarsError),
    Ledger(LedgerError),
}

impl From<PolarsError> for SliceError {
    fn from(e: PolarsError) -> Self {
        SliceError::Polars(e)
    }
}

impl From<LedgerError> for SliceError {
    fn from(e: LedgerError) -> Self {
        SliceError::Ledger(e)
    }
}

impl From<csv::Error> for SliceError {
    fn from(e: csv::Error) -> Self {
        SliceError::Ledger(e.into())
    }
}

/// Lines and what they add up to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub lines: u64,
    pub quantity: i64,
    pub amount: Amount,
}

impl Tally {
    fn add(&mut self, quantity: i64, amount: Amount) -> Result<(), LedgerError> {
        self.lines += 1;
        self.quantity += quantity;
        self.amount = self
            .amount
            .checked_add(amount)
            .ok_or(LedgerError::Overflow)?;
        Ok(())
    }
}

/// The dimensions a statement summarises its earnings by.
pub const DIMENSIONS: [&str; 4] = ["store", "territory", "release", "track"];

/// A contract's lines written as they are priced, in blocks.
pub struct Spill {
    path: PathBuf,
    block: Vec<u8>,
    on_disk: bool,
}

impl Spill {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            block: Vec::new(),
            on_disk: false,
        }
    }

    fn write_out(&mut self) -> io::Result<()> {
        if self.block.is_empty() {
            return Ok(());
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.write_all(&self.block)?;
        self.block.clear();
        self.on_disk = true;
        Ok(())
    }

    /// The rows written, in order.
    pub fn reader(&mut self) -> io::Result<csv::Reader<Box<dyn io::Read + '_>>> {
        let source: Box<dyn io::Read> = if self.on_disk {
            self.write_out()?;
            Box::new(io::BufReader::with_capacity(
                1 << 16,
                File::open(&self.path)?,
            ))
        } else {
            Box::new(self.block.as_slice())
        };
        Ok(csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(source))
    }
}

impl Write for Spill {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.block.extend_from_slice(bytes);
        if self.block.len() >= SPILL_BLOCK {
            self.write_out()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One contract's (or one sales statement's) lines of the period.
pub struct Account {
    pub terms: ContractTerms,
    /// How the CSV names each term.
    pub term_names: Vec<String>,
    /// Royalties, exact, in the contract's currency.
    pub earnings: Tally,
    /// By store, territory, release and track: name → tally.
    pub by: [HashMap<String, Tally, RandomState>; 4],
    /// In scope, priced by none (base-currency revenue): not matched to
    /// the catalog, claimed by another contract at the same level too,
    /// without a term that fits, without a rate into the contract's
    /// currency.
    pub unattributed: Tally,
    pub conflicts: Tally,
    /// The other contracts of those conflicts, and at which level.
    pub conflicting: BTreeMap<i64, ScopeKind>,
    pub no_term: Tally,
    pub no_rate: Tally,
    /// Lines being written, then (once read back) the spill they are in.
    rows: Option<csv::Writer<Spill>>,
    spilled: Option<Spill>,
}

impl Account {
    fn new(terms: ContractTerms, spill: PathBuf) -> Self {
        let term_names = terms
            .terms
            .iter()
            .enumerate()
            .map(|(at, t)| term_name(at, t))
            .collect();
        Self {
            terms,
            term_names,
            earnings: Tally::default(),
            by: Default::default(),
            unattributed: Tally::default(),
            conflicts: Tally::default(),
            conflicting: BTreeMap::new(),
            no_term: Tally::default(),
            no_rate: Tally::default(),
            rows: Some(
                csv::WriterBuilder::new()
                    .has_headers(false)
                    .buffer_capacity(8 * 1024)
                    .from_writer(Spill::new(spill)),
            ),
            spilled: None,
        }
    }

    /// The account's lines, once every file is read.
    pub fn spill(&mut self) -> Result<&mut Spill, LedgerError> {
        if let Some(rows) = self.rows.take() {
            let spill = rows
                .into_inner()
                .map_err(|e| LedgerError::Write(e.into_error()))?;
            self.spilled = Some(spill);
        }
        self.spilled.as_mut().ok_or_else(|| {
            LedgerError::Write(io::Error::other("the statement's lines are not written"))
        })
    }
}

/// How a statement's CSV names a term: its number and what it says.
pub fn term_name(at: usize, term: &Term) -> String {
    let mut conditions = Vec::new();
    for (list, what) in [
        (&term.dsps, "stores"),
        (&term.territories, "territories"),
        (&term.sale_types, "sale types"),
    ] {
        if !list.is_empty() {
            conditions.push(format!("{what} {}", list.join("/")));
        }
    }
    let basis = match term.basis {
        Basis::Net => "net",
        Basis::Gross => "gross",
    };
    let scope = if conditions.is_empty() {
        "all sales".to_owned()
    } else {
        conditions.join(", ")
    };
    format!(
        "term {}: {scope}, {} of {basis}",
        at + 1,
        term.rate.normalize()
    )
}

/// Which accounts a run prices: contracts (found through every contract's
/// scope) and sales statements of an artist or a label (each with a scope
/// of its own: a sales statement takes every line of its subject, whoever
/// holds it by contract).
pub struct Ledger {
    period_from: String,
    period_to: String,
    base_currency: String,
    contracts: ScopeIndex,
    contract_terms: BTreeMap<i64, ContractTerms>,
    /// Account of each contract priced (those not priced are only scopes).
    pub accounts: BTreeMap<i64, Account>,
    /// Sales statements: their own scope and the account's key.
    subjects: Vec<(ScopeIndex, i64)>,
    /// Lines of the period read.
    pub period_lines: u64,
    /// A line's claim by its item and label, for the file being read.
    claims: HashMap<String, Claim, RandomState>,
    rates: HashMap<String, Decimal, RandomState>,
    key: String,
}

impl Ledger {
    /// A ledger of the months `period_from` to `period_to`; every
    /// contract's scope (`scopes`) decides which lines each contract
    /// holds; `priced` are the contracts (by id) and sales statements (a
    /// negative key and a scope of one) whose lines are priced, their
    /// spills written in `dir`.
    pub fn new(
        period_from: &str,
        period_to: &str,
        base_currency: &str,
        scopes: ScopeIndex,
        priced: Vec<(i64, ContractTerms)>,
        dir: &Path,
    ) -> Self {
        let mut accounts = BTreeMap::new();
        let mut contract_terms = BTreeMap::new();
        let mut subjects = Vec::new();
        for (key, terms) in priced {
            if key < 0 {
                subjects.push((ScopeIndex::new([(key, terms.scope.as_slice())]), key));
            }
            contract_terms.insert(key, terms.clone());
            let spill = dir.join(format!("spill-{key}.csv"));
            accounts.insert(key, Account::new(terms, spill));
        }
        Self {
            period_from: period_from.to_owned(),
            period_to: period_to.to_owned(),
            base_currency: base_currency.to_owned(),
            contracts: scopes,
            contract_terms,
            accounts,
            subjects,
            period_lines: 0,
            claims: HashMap::default(),
            rates: HashMap::default(),
            key: String::new(),
        }
    }

    /// Prices the lines of `source` (its Parquet file at `parquet`).
    pub fn add_file(
        &mut self,
        source: &Source,
        parquet: &Path,
        matches: &FileMatches,
    ) -> Result<(), LedgerError> {
        self.claims.clear();
        let mut columns: Vec<&str> = ITEM_FIELDS.to_vec();
        columns.extend(COLUMNS);
        oas_lines::for_each_slice(parquet, &columns, oas_lines::SLICE_ROWS, |frame| {
            self.add_slice(source, frame, matches)
        })
        .map_err(|e| match e {
            SliceError::Polars(error) => LedgerError::Lines {
                file: source.name.clone(),
                error,
            },
            SliceError::Ledger(e) => e,
        })
    }

    fn add_slice(
        &mut self,
        source: &Source,
        frame: &DataFrame,
        matches: &FileMatches,
    ) -> Result<(), SliceError> {
        let items = oas_lines::texts(frame, &ITEM_FIELDS)?;
        let texts = oas_lines::texts(
            frame,
            &[
                "reporting_period",
                "dsp",
                "territory",
                "label",
                "sale_type",
                "gross_revenue",
                "net_revenue",
                "currency",
                "exchange_rate",
            ],
        )?;
        let line = oas_lines::numbers(frame, "line")?;
        let quantity = oas_lines::numbers(frame, "quantity")?;
        let mut item_iters: Vec<_> = items.iter().map(|c| c.iter()).collect();
        let mut text_iters: Vec<_> = texts.iter().map(|c| c.iter()).collect();
        let waiting = Item::waiting();
        let source_line = &mut String::new();
        for (number, quantity) in line.iter().zip(quantity.iter()) {
            let mut item = [""; 5];
            for (value, iter) in item.iter_mut().zip(item_iters.iter_mut()) {
                *value = iter.next().flatten().unwrap_or_default();
            }
            let mut v: [Option<&str>; 9] = [None; 9];
            for (value, iter) in v.iter_mut().zip(text_iters.iter_mut()) {
                *value = iter.next().flatten();
            }
            let [
                reporting,
                dsp,
                territory,
                label,
                sale_type,
                gross,
                net,
                currency,
                rate,
            ] = v;
            let Some(month) = reporting.or(source.period.as_deref()) else {
                continue;
            };
            if month < self.period_from.as_str() || month > self.period_to.as_str() {
                continue;
            }
            self.period_lines += 1;
            let number = number.unwrap_or_default();
            let quantity = quantity.unwrap_or_default();
            let [artist, _, _, isrc, upc] = item;
            item_key(item, &mut self.key);
            let found = matches.get(&self.key).unwrap_or(&waiting);
            let matched = found.standing == Standing::Matched;
            let entry = found.entry.as_deref().filter(|_| matched);
            let label = label.unwrap_or_default();
            let covered = match entry {
                Some(e) => Covered {
                    isrc: e.isrc.as_deref(),
                    upc: e.upc.as_deref(),
                    artist: Some(e.artist.as_str()),
                    label: e.label(),
                },
                None => Covered {
                    isrc: Some(isrc),
                    upc: Some(upc),
                    artist: Some(artist),
                    label: Some(label),
                },
            };
            let decimal = |what: &'static str, value: Option<&str>| {
                let value = value.unwrap_or("0");
                Amount::parse(value).map_err(|_| LedgerError::Number {
                    file: source.name.clone(),
                    line: number,
                    what,
                    value: value.to_owned(),
                })
            };
            let net_amount = decimal("the net revenue", net)?;
            let gross_amount = gross
                .map(|g| decimal("the gross revenue", Some(g)))
                .transpose()?;
            let rate_text = rate.unwrap_or("1");
            let exchange = match self.rates.get(rate_text) {
                Some(rate) => *rate,
                None => {
                    let parsed: Decimal = rate_text.parse().map_err(|_| LedgerError::Number {
                        file: source.name.clone(),
                        line: number,
                        what: "the exchange rate",
                        value: rate_text.to_owned(),
                    })?;
                    self.rates.insert(rate_text.to_owned(), parsed);
                    parsed
                }
            };
            let currency = currency.unwrap_or_default();
            let priced_line = PricedLine {
                covered,
                matched,
                dsp: dsp.unwrap_or_default(),
                territory: territory.unwrap_or_default(),
                sale_type: sale_type.unwrap_or_default(),
                net: net_amount,
                gross: gross_amount,
                currency,
                rate: exchange,
                base_currency: &self.base_currency,
            };
            // One claim per item and label in a file.
            self.key.push_str(label);
            let claim = match self.claims.get(self.key.as_str()) {
                Some(claim) => claim.clone(),
                None => {
                    let claim = self.contracts.claim(covered);
                    self.claims.insert(self.key.clone(), claim.clone());
                    claim
                }
            };
            let mut outcomes = Vec::with_capacity(1 + self.subjects.len());
            outcomes.push(price_claimed(&priced_line, claim, &self.contract_terms));
            for (scope, key) in &self.subjects {
                let claim = scope.claim(covered);
                if claim == Claim::Contract(*key) {
                    outcomes.push(price_claimed(&priced_line, claim, &self.contract_terms));
                }
            }
            for outcome in outcomes {
                let (contract, royalty, term_at) = match outcome {
                    Priced::Outside => continue,
                    Priced::Royalty {
                        contract,
                        term,
                        royalty,
                    } => (contract, royalty, term),
                    Priced::Unattributed { contract, revenue } => {
                        if let Some(account) = self.accounts.get_mut(&contract) {
                            account.unattributed.add(quantity, revenue)?;
                        }
                        continue;
                    }
                    Priced::NoTerm { contract, revenue } => {
                        if let Some(account) = self.accounts.get_mut(&contract) {
                            account.no_term.add(quantity, revenue)?;
                        }
                        continue;
                    }
                    Priced::NoRate { contract, revenue } => {
                        if let Some(account) = self.accounts.get_mut(&contract) {
                            account.no_rate.add(quantity, revenue)?;
                        }
                        continue;
                    }
                    Priced::Conflict {
                        kind,
                        contracts,
                        revenue,
                    } => {
                        for id in &contracts {
                            if let Some(account) = self.accounts.get_mut(id) {
                                account.conflicts.add(quantity, revenue)?;
                                for other in contracts.iter().filter(|o| *o != id) {
                                    account.conflicting.insert(*other, kind);
                                }
                            }
                        }
                        continue;
                    }
                };
                let Some(account) = self.accounts.get_mut(&contract) else {
                    continue;
                };
                let term = &account.terms.terms[term_at];
                let (basis_of, rate_of) = (term.basis, term.rate.normalize());
                // A priced line is matched to the catalog.
                let Some(entry) = entry else { continue };
                account.earnings.add(quantity, royalty)?;
                let release = match (&entry.release_title, &entry.upc) {
                    (Some(title), Some(upc)) => format!("{title} ({upc})"),
                    (Some(title), None) => title.clone(),
                    (None, Some(upc)) => upc.clone(),
                    (None, None) => "No release".to_owned(),
                };
                let track = match &entry.isrc {
                    Some(isrc) => format!("{} ({isrc})", entry.title),
                    None => entry.title.clone(),
                };
                for (at, name) in [
                    priced_line.dsp,
                    priced_line.territory,
                    release.as_str(),
                    track.as_str(),
                ]
                .into_iter()
                .enumerate()
                {
                    let name = if name.is_empty() { "Not stated" } else { name };
                    match account.by[at].get_mut(name) {
                        Some(tally) => tally.add(quantity, royalty)?,
                        None => {
                            let mut tally = Tally::default();
                            tally.add(quantity, royalty)?;
                            account.by[at].insert(name.to_owned(), tally);
                        }
                    }
                }
                let (basis, basis_amount) = match basis_of {
                    Basis::Net => ("net", net.unwrap_or("0")),
                    Basis::Gross => ("gross", gross.or(net).unwrap_or("0")),
                };
                let converted = !account.terms.currency.eq_ignore_ascii_case(currency);
                source_line.clear();
                source_line.push_str(&number.to_string());
                let Some(out) = account.rows.as_mut() else {
                    continue;
                };
                for cell in [
                    month,
                    priced_line.dsp,
                    priced_line.territory,
                    priced_line.sale_type,
                    entry.artist.as_str(),
                    entry.release_title.as_deref().unwrap_or_default(),
                    entry.title.as_str(),
                    entry.isrc.as_deref().unwrap_or_default(),
                    entry.upc.as_deref().unwrap_or_default(),
                ] {
                    out.write_field(text(cell).as_bytes())?;
                }
                out.write_field(quantity.to_string())?;
                out.write_field(basis)?;
                out.write_field(basis_amount)?;
                out.write_field(text(currency).as_bytes())?;
                out.write_field(rate_of.to_string())?;
                out.write_field(if converted { rate_text } else { "" })?;
                out.write_field(royalty.to_string())?;
                out.write_field(text(&account.terms.currency).as_bytes())?;
                out.write_field(text(&source.name).as_bytes())?;
                out.write_field(source_line.as_bytes())?;
                out.write_field(text(&account.term_names[term_at]).as_bytes())?;
                out.write_record(None::<&[u8]>)?;
            }
        }
        Ok(())
    }
}
