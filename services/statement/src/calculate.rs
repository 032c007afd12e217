//! One statement calculated from its account's priced lines: the
//! contract's earnings rounded once and divided among its payees, the
//! payee's part of each cost recouped, the balance carried, the notes that
//! say what was left out, and the CSV and PDF written to a folder. Apart
//! from the database and storage, so a run and the benchmark do the same.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use oas_domain::money::{Amount, CurrencyCode};
use oas_domain::statement::{Account, Cost, PayeeShare, account, split};
use rust_decimal::Decimal;

use crate::ledger::{self, LedgerError};
use crate::pdf::{self, AccountRow, StatementDoc};
use crate::present;

/// A cost of the contract, as the statement recoups it.
#[derive(Debug, Clone)]
pub struct CostIn {
    pub id: i64,
    pub kind: String,
    pub description: String,
    pub date: NaiveDate,
    /// The whole contract's, in its currency.
    pub amount: Amount,
    pub recoupable: Decimal,
    /// What the payee's approved statements recouped of it before.
    pub recouped_before: Amount,
}

/// Whom a statement is for.
#[derive(Debug, Clone)]
pub struct PayeeIn {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub address: String,
    pub tax_id: String,
}

/// The approved statement a correction replaces.
#[derive(Debug, Clone)]
pub struct Corrected {
    pub id: i64,
    pub earnings: Amount,
    pub payable: Amount,
}

/// What a statement is calculated from, besides its account's lines.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub id: i64,
    pub organisation: String,
    pub base_currency: String,
    /// A contract's payee; none for a sales statement.
    pub payee: Option<PayeeIn>,
    /// A sales statement's `artist:<name>` or `label:<name>`.
    pub subject: Option<String>,
    /// How the PDF names the contract (and its version).
    pub contract_name: String,
    pub contract_version: Option<i64>,
    pub period_from: String,
    pub period_to: String,
    /// The previous approved statement's carried-forward balance.
    pub opening: Amount,
    /// Every cost of the contract (those dated after the period wait).
    pub costs: Vec<CostIn>,
    pub corrects: Option<Corrected>,
    /// The PDF's date line.
    pub issued: String,
}

/// A statement calculated, its files written.
#[derive(Debug)]
pub struct Calculated {
    pub figures: Account,
    pub notes: Vec<String>,
    /// What the status says: lines left out, what it corrects.
    pub cause: Option<String>,
    /// Lines of the CSV (the rounding line aside).
    pub lines: u64,
    /// Base-currency revenue in scope but not matched to the catalog.
    pub unattributed: Amount,
    pub csv: PathBuf,
    pub pdf: PathBuf,
    /// How long the PDF took.
    pub pdf_seconds: f64,
}

/// Why a statement cannot be calculated.
#[derive(Debug, thiserror::Error)]
pub enum CalculateError {
    /// The operator's to mend (a payee gone from the contract, a bad cost).
    #[error("{0}")]
    Refused(String),
    #[error("writing the statement: {0}")]
    Lines(#[from] LedgerError),
    #[error("writing the PDF: {0}")]
    Pdf(#[from] pdf::PdfError),
    #[error("writing the PDF: {0}")]
    Io(#[from] std::io::Error),
}

/// The last day of month `YYYY-MM`, as `YYYY-MM-DD` text compares.
fn month_end(month: &str) -> String {
    format!("{month}-31")
}

/// How a statement names a kind of cost.
fn kind_name(kind: &str) -> String {
    let mut name = kind.replace('_', " ");
    if let Some(first) = name.get(..1) {
        let upper = first.to_uppercase();
        name.replace_range(..1, &upper);
    }
    name
}

/// Calculates the statement of `inputs` from `lines` (its contract's, or
/// its sales statement's, account), writing its CSV and PDF into `dir`.
pub fn calculate(
    inputs: &Inputs,
    lines: &mut ledger::Account,
    dir: &Path,
) -> Result<Calculated, CalculateError> {
    let terms = lines.terms.clone();
    let currency = terms.currency.clone();
    let places = CurrencyCode::parse(&currency).map_or(2, |c| c.minor_units());
    let shares: Vec<Decimal> = terms.payees.iter().map(|p| p.share).collect();
    let (share, earnings, at) = match &inputs.payee {
        Some(payee) => {
            let Some(at) = terms
                .payees
                .iter()
                .position(|p: &PayeeShare| p.payee == payee.id)
            else {
                return Err(CalculateError::Refused(format!(
                    "{} is no longer a payee of version {} of the contract.",
                    payee.name,
                    inputs.contract_version.unwrap_or_default()
                )));
            };
            let parts = split(lines.earnings.amount, &shares, places);
            (shares[at], parts[at], Some(at))
        }
        None => (Decimal::ONE, lines.earnings.amount.round_dp(places), None),
    };

    // The payee's part of each cost dated within the period.
    let end = month_end(&inputs.period_to);
    let mut owed = Vec::new();
    let mut described: HashMap<i64, String> = HashMap::new();
    for cost in &inputs.costs {
        if cost.date.format("%Y-%m-%d").to_string() > end {
            continue;
        }
        let part = match at {
            Some(at) => split(cost.amount, &shares, places)[at],
            None => cost.amount,
        };
        described.insert(
            cost.id,
            format!(
                "{} {}: {} ({})",
                kind_name(&cost.kind),
                cost.id,
                cost.description,
                cost.date
            ),
        );
        owed.push(Cost {
            id: cost.id,
            date: cost.date,
            amount: part,
            recoupable: cost.recoupable,
            recouped_before: cost.recouped_before,
        });
    }
    let min_payout = if inputs.payee.is_some() {
        terms.min_payout
    } else {
        Amount::ZERO
    };
    let figures = account(inputs.opening, earnings, &owed, min_payout, places)
        .map_err(|e| CalculateError::Refused(e.to_string()))?;

    // The notes: what the statement leaves out, and what it corrects.
    let base = &inputs.base_currency;
    let mut notes = Vec::new();
    let mut cause = Vec::new();
    let left_out = [
        (
            &lines.unattributed,
            "are in scope but not matched to the catalog (match them, then recalculate)",
        ),
        (
            &lines.no_term,
            "are in scope but no term of the contract prices them",
        ),
        (
            &lines.no_rate,
            "are in a currency with no rate to the contract's",
        ),
    ];
    for (tally, why) in left_out {
        if tally.lines > 0 {
            cause.push(format!(
                "{} line(s) earning {} {base} {why}: they are not counted.",
                tally.lines,
                present::money(tally.amount, 2)
            ));
        }
    }
    if lines.conflicts.lines > 0 {
        let others: Vec<String> = lines
            .conflicting
            .iter()
            .map(|(id, kind)| format!("contract {id} ({} scope)", kind.as_str()))
            .collect();
        cause.push(format!(
            "{} line(s) earning {} {base} are also claimed by {} at the same level: they are counted for neither until the scopes are settled.",
            lines.conflicts.lines,
            present::money(lines.conflicts.amount, 2),
            others.join(", ")
        ));
    }
    if let Some(old) = &inputs.corrects {
        cause.push(format!(
            "This statement corrects statement {} (earnings {} then, {} now: a difference of {}; payable {} then, {} now).",
            old.id,
            present::money(old.earnings, places),
            present::money(earnings, places),
            present::money(earnings + -old.earnings, places),
            present::money(old.payable, places),
            present::money(figures.payable, places),
        ));
    }
    notes.extend(cause.iter().cloned());
    if currency.eq_ignore_ascii_case(base) {
        notes.push(format!(
            "Royalties are in {currency}; lines reported in another currency are converted at the rate each was imported at (the CSV gives it beside each line)."
        ));
    } else {
        notes.push(format!(
            "Royalties are in {currency}, as the lines reported in {currency}; lines in any other currency have no rate to {currency} and are not counted."
        ));
    }
    if figures.payable.is_zero() && figures.closing > Amount::ZERO {
        notes.push(format!(
            "The balance is below the minimum payout of {} {currency}: it is carried forward to the next statement.",
            present::money(min_payout, places)
        ));
    }
    notes.push(
        "Every line behind these figures, with the term that priced it, is in the statement's CSV file."
            .to_owned(),
    );

    // The CSV and the PDF.
    let id = inputs.id;
    let csv = dir.join(format!("statement-{id}.csv"));
    let written_lines = present::write_csv(lines, share, earnings, &csv)?;
    let sections = present::sections(lines, share, earnings, &currency, places);
    let mut rows = vec![
        AccountRow {
            label: "Opening balance".to_owned(),
            amount: present::money(figures.opening, places),
            strong: false,
            indent: false,
        },
        AccountRow {
            label: "Royalties earned this period".to_owned(),
            amount: present::money(figures.earnings, places),
            strong: false,
            indent: false,
        },
    ];
    if !figures.recouped.is_empty() {
        // Each cost on a line of its own, their total after them.
        rows.push(AccountRow {
            label: "Costs recouped".to_owned(),
            amount: String::new(),
            strong: false,
            indent: false,
        });
        for item in &figures.recouped {
            rows.push(AccountRow {
                label: format!(
                    "{}; {} left to recoup",
                    described.get(&item.cost).cloned().unwrap_or_default(),
                    present::money(item.outstanding, places)
                ),
                amount: present::money(-item.amount, places),
                strong: false,
                indent: true,
            });
        }
        rows.push(AccountRow {
            label: "Total costs recouped".to_owned(),
            amount: present::money(-figures.costs_recouped, places),
            strong: false,
            indent: false,
        });
    }
    for (label, amount) in [
        ("Closing balance", figures.closing),
        ("Payable", figures.payable),
        ("Carried forward", figures.carried_forward),
    ] {
        rows.push(AccountRow {
            label: label.to_owned(),
            amount: present::money(amount, places),
            strong: true,
            indent: false,
        });
    }
    let payee_lines = inputs
        .payee
        .as_ref()
        .map(|p| {
            let mut lines: Vec<String> = p
                .address
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            if !p.email.is_empty() {
                lines.push(p.email.clone());
            }
            if !p.tax_id.is_empty() {
                lines.push(format!("Tax id {}", p.tax_id));
            }
            lines
        })
        .unwrap_or_default();
    let payee_name = match (&inputs.payee, inputs.subject.as_deref()) {
        (Some(p), _) => p.name.clone(),
        (None, Some(subject)) => subject
            .split_once(':')
            .map_or(subject, |(_, n)| n)
            .to_owned(),
        (None, None) => String::new(),
    };
    let doc = StatementDoc {
        organisation: inputs.organisation.clone(),
        title: if inputs.payee.is_some() {
            "Royalty statement".to_owned()
        } else {
            "Sales statement".to_owned()
        },
        number: format!("Statement {id}"),
        payee: payee_name,
        payee_lines,
        contract: inputs.contract_name.clone(),
        period: present::period_name(&inputs.period_from, &inputs.period_to),
        issued: inputs.issued.clone(),
        currency: currency.clone(),
        account: rows,
        sections,
        notes: notes.clone(),
    };
    let started = std::time::Instant::now();
    let bytes = pdf::render(&doc)?;
    let pdf_seconds = started.elapsed().as_secs_f64();
    let pdf = dir.join(format!("statement-{id}.pdf"));
    std::fs::write(&pdf, bytes)?;
    Ok(Calculated {
        figures,
        cause: (!cause.is_empty()).then(|| cause.join(" ")),
        notes,
        lines: written_lines,
        unattributed: lines.unattributed.amount,
        csv,
        pdf,
        pdf_seconds,
    })
}
