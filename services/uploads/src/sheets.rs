//! Spreadsheets (XLSX, XLS) to clean CSV: the first sheet that holds a
//! table is read; cells become text as the sheet shows them (whole numbers
//! without a decimal point, dates as `YYYY-MM-DD`).

use std::path::Path;

use calamine::{Data, Reader};

use crate::clean::{Cleaned, Place, Refusal, Table, TextFacts, write_table};

fn cell(data: &Data) -> String {
    match data {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d
            .as_datetime()
            .map(|t| {
                if t.time() == chrono::NaiveTime::MIN {
                    t.date().to_string()
                } else {
                    t.to_string()
                }
            })
            .unwrap_or_else(|| d.to_string()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

pub fn clean(input: &Path, work: &Path, source_type: &str) -> Result<Cleaned, Refusal> {
    let mut book = calamine::open_workbook_auto(input)
        .map_err(|e| Refusal::Corrupt(format!("The spreadsheet cannot be opened: {e}.")))?;
    let mut first_problem = None;
    for name in book.sheet_names() {
        let Ok(range) = book.worksheet_range(&name) else {
            continue;
        };
        let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(cell).collect()).collect();
        let sample: String = rows
            .iter()
            .take(200)
            .map(|r| {
                r.iter()
                    .map(|c| c.replace(['\t', '\n', '\r'], " "))
                    .collect::<Vec<_>>()
                    .join("\t")
            })
            .collect::<Vec<_>>()
            .join("\n");
        let layout = match oas_sales::sniff::sniff(&sample) {
            Ok(layout) => layout,
            Err(e) => {
                first_problem.get_or_insert(e);
                continue;
            }
        };
        let path = work.join("clean.csv");
        let mut records = rows.into_iter().skip(layout.header_line);
        let written = write_table(
            |record| {
                Ok(records.next().map(|cells| {
                    record.clear();
                    for cell in cells {
                        record.push_field(&cell);
                    }
                    // Blank rows are rows of empty cells here.
                    Place {
                        after_blank_lines: false,
                        start: 0,
                    }
                }))
            },
            Some(&path),
        )?;
        return Ok(Cleaned::Table(Table {
            facts: TextFacts {
                source_type: source_type.to_owned(),
                encoding: "UTF-8".to_owned(),
                path,
            },
            delimiter: "sheet".to_owned(),
            header: written.header,
            preamble: layout.preamble,
            rows: written.rows,
            trailing_lines: written.trailing,
            sheet: Some(name),
            skip_lines: 0,
            as_uploaded: false,
            data_end: None,
        }));
    }
    Err(match first_problem {
        Some(oas_sales::sniff::SniffError::HeaderOnly) => Refusal::HeaderOnly,
        _ => Refusal::NotAReport,
    })
}
