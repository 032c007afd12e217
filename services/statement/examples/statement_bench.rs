//! The statement benchmark's OAS side (`scripts/bench/statement.sh`).
//!
//! `statement_bench prepare DIR CONTRACTS`: after `report_bench prepare`,
//! the imported lines of `DIR/lines.parquet` become a year of reports:
//! each slice of row groups a file of its own (`DIR/year/lines-K.parquet`),
//! its lines reported in month (K mod 12) + 1 of 2025; and CONTRACTS
//! contracts share the catalog's tracks (by ISRC, track i to contract
//! i mod CONTRACTS), each with one to three payees, a rate for all sales,
//! one for Spotify and one for Spotify in one territory, an advance, and a
//! minimum payout on every fourth (`DIR/contracts.json`).
//!
//! `statement_bench statements DIR`: the statement module's work on them,
//! as a run does it after reading the database: every line of the year
//! priced once for every contract, then each payee's statement calculated
//! with its CSV and PDF (`DIR/oas-out/`). Prints what it wrote as JSON.

#[path = "../../../scripts/bench/bench_data.rs"]
mod bench_data;

use std::fs::File;
use std::path::Path;
use std::time::Instant;

use chrono::NaiveDate;
use oas_domain::job::contract::report::Source;
use oas_domain::money::Amount;
use oas_domain::statement::{Basis, ContractTerms, PayeeShare, Scope, ScopeIndex, ScopeKind, Term};
use oas_sales::names::ITEM_FIELDS;
use oas_statement::calculate::{CostIn, Inputs, PayeeIn, calculate};
use oas_statement::ledger::{COLUMNS, Ledger};
use polars::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["prepare", dir, contracts] => prepare(Path::new(dir), contracts.parse()?),
        ["statements", dir] => statements(Path::new(dir)),
        _ => Err("usage: statement_bench prepare DIR CONTRACTS | statements DIR".into()),
    }
}

const YEAR: &str = "2025";
const TERRITORIES: [&str; 5] = ["US", "GB", "DE", "FR", "SE"];

/// A contract of the benchmark, as `contracts.json` holds it.
#[derive(Debug, Serialize, Deserialize)]
struct BenchContract {
    id: i64,
    name: String,
    terms: ContractTerms,
    /// An advance, recoupable in full.
    advance: Amount,
}

fn decimal(text: &str) -> Result<Decimal, Error> {
    Ok(text.parse()?)
}

fn prepare(dir: &Path, count: i64) -> Result<(), Error> {
    // A year of files.
    let year = dir.join("year");
    std::fs::create_dir_all(&year)?;
    let mut columns: Vec<&str> = ITEM_FIELDS.to_vec();
    columns.extend(COLUMNS);
    let mut k = 0usize;
    let mut base = None;
    oas_lines::for_each_slice::<Error>(
        &dir.join("lines.parquet"),
        &columns,
        oas_lines::SLICE_ROWS,
        |slice| {
            let month = format!("{YEAR}-{:02}", k % 12 + 1);
            let mut frame = slice.clone();
            frame.with_column(Column::new(
                "reporting_period".into(),
                vec![month; frame.height()],
            ))?;
            if base.is_none() {
                base = oas_lines::texts(&frame, &["currency"])?[0]
                    .get(0)
                    .map(str::to_owned);
            }
            ParquetWriter::new(File::create(year.join(format!("lines-{k:03}.parquet")))?)
                .finish(&mut frame)?;
            k += 1;
            Ok(())
        },
    )?;
    let currency = base.unwrap_or_else(|| "USD".to_owned());

    // The contracts over the catalog's tracks.
    let catalog = ParquetReader::new(File::open(dir.join("catalog.parquet"))?).finish()?;
    let isrcs: Vec<String> = catalog
        .column("isrc")?
        .str()?
        .iter()
        .flatten()
        .map(str::to_owned)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut scopes: Vec<Vec<Scope>> = vec![Vec::new(); count as usize];
    for (i, isrc) in isrcs.into_iter().enumerate() {
        scopes[i % count as usize].push(Scope {
            kind: ScopeKind::Track,
            value: isrc,
        });
    }
    let shares = [vec!["1"], vec!["0.5", "0.5"], vec!["0.5", "0.3", "0.2"]];
    let mut contracts = Vec::new();
    for (i, scope) in scopes.into_iter().enumerate() {
        let id = i as i64 + 1;
        let payees = shares[i % 3]
            .iter()
            .enumerate()
            .map(|(p, share)| {
                Ok(PayeeShare {
                    payee: id * 10 + p as i64,
                    share: decimal(share)?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let term = |dsps: &[&str], territories: &[&str], rate: &str| -> Result<Term, Error> {
            Ok(Term {
                dsps: dsps.iter().map(|s| (*s).to_owned()).collect(),
                territories: territories.iter().map(|s| (*s).to_owned()).collect(),
                sale_types: Vec::new(),
                basis: Basis::Net,
                rate: decimal(rate)?,
            })
        };
        contracts.push(BenchContract {
            id,
            name: format!("Recording agreement {id}"),
            terms: ContractTerms {
                currency: currency.clone(),
                min_payout: if i % 4 == 0 {
                    Amount::parse("50")?
                } else {
                    Amount::ZERO
                },
                payees,
                scope,
                terms: vec![
                    term(&[], &[], "0.18")?,
                    term(&["Spotify"], &[], "0.2")?,
                    term(&["Spotify"], &[TERRITORIES[i % TERRITORIES.len()]], "0.25")?,
                ],
            },
            advance: Amount::parse("100")?,
        });
    }
    std::fs::write(
        dir.join("contracts.json"),
        serde_json::to_string(&contracts)?,
    )?;
    println!(
        "{}",
        serde_json::json!({"files": k, "contracts": contracts.len(), "currency": currency})
    );
    Ok(())
}

fn statements(dir: &Path) -> Result<(), Error> {
    let started = Instant::now();
    let matches = bench_data::matches(dir)?;
    let contracts: Vec<BenchContract> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("contracts.json"))?)?;
    let base = contracts
        .first()
        .map(|c| c.terms.currency.clone())
        .unwrap_or_default();
    let work = tempfile::tempdir_in(dir)?;
    let out = dir.join("oas-out");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out)?;
    let scopes = ScopeIndex::new(contracts.iter().map(|c| (c.id, c.terms.scope.as_slice())));
    let mut ledger = Ledger::new(
        &format!("{YEAR}-01"),
        &format!("{YEAR}-12"),
        &base,
        scopes,
        contracts.iter().map(|c| (c.id, c.terms.clone())).collect(),
        work.path(),
    );
    let mut files: Vec<_> = std::fs::read_dir(dir.join("year"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    for (k, path) in files.iter().enumerate() {
        let source = Source {
            file_id: k as i64 + 1,
            name: format!("spotify-{k:03}.txt"),
            parquet_key: String::new(),
            period: None,
        };
        ledger.add_file(&source, path, &matches)?;
    }
    let priced_seconds = started.elapsed().as_secs_f64();
    let priced: Amount = ledger.accounts.values().map(|a| a.earnings.amount).sum();
    let priced_lines: u64 = ledger.accounts.values().map(|a| a.earnings.lines).sum();

    let mut pdf_ms = Vec::new();
    let (mut statements, mut earnings, mut payable, mut bytes) =
        (0u64, Amount::ZERO, Amount::ZERO, 0u64);
    let date = NaiveDate::from_ymd_opt(2025, 1, 1).ok_or("a date")?;
    for contract in &contracts {
        let Some(lines) = ledger.accounts.get_mut(&contract.id) else {
            continue;
        };
        for payee in &contract.terms.payees {
            let inputs = Inputs {
                id: payee.payee,
                organisation: "Benchmark Records".to_owned(),
                base_currency: base.clone(),
                payee: Some(PayeeIn {
                    id: payee.payee,
                    name: format!("Payee {}", payee.payee),
                    email: String::new(),
                    address: String::new(),
                    tax_id: String::new(),
                }),
                subject: None,
                contract_name: format!("{}, version 1", contract.name),
                contract_version: Some(1),
                period_from: format!("{YEAR}-01"),
                period_to: format!("{YEAR}-12"),
                opening: Amount::ZERO,
                costs: vec![CostIn {
                    id: contract.id,
                    kind: "advance".to_owned(),
                    description: "Signing".to_owned(),
                    date,
                    amount: contract.advance,
                    recoupable: Decimal::ONE,
                    recouped_before: Amount::ZERO,
                }],
                corrects: None,
                issued: "Calculated for the benchmark".to_owned(),
            };
            let done = calculate(&inputs, lines, &out)?;
            pdf_ms.push(done.pdf_seconds * 1000.0);
            statements += 1;
            earnings += done.figures.earnings;
            payable += done.figures.payable;
            bytes += std::fs::metadata(&done.csv)?.len() + std::fs::metadata(&done.pdf)?.len();
        }
    }
    pdf_ms.sort_by(f64::total_cmp);
    let median = pdf_ms.get(pdf_ms.len() / 2).copied().unwrap_or_default();
    let max = pdf_ms.last().copied().unwrap_or_default();
    println!(
        "{}",
        serde_json::json!({
            "contracts": contracts.len(),
            "statements": statements,
            "period_lines": ledger.period_lines,
            "priced_lines": priced_lines,
            "priced": priced.to_string(),
            "earnings": earnings.to_string(),
            "payable": payable.to_string(),
            "bytes": bytes,
            "pricing_seconds": priced_seconds,
            "pdf_ms_median": median,
            "pdf_ms_max": max,
            "seconds": started.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}
