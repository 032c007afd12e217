//! Spreadsheets (XLSX, XLS) to clean CSV: the first sheet that holds a
//! table is read; cells become text as the sheet shows them (whole numbers
//! without a decimal point, dates as `YYYY-MM-DD`).

use std::path::Path;

use calamine::{Data, Reader};

use super::{Cleaned, Place, Refusal, Table, TextFacts, write_table};

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

/// Cells a sheet may span (filled rows times the columns between its
/// leftmost and rightmost cells) before it is refused: a sheet with a cell
/// at A1 and another at XFD1048576 spans seventeen billion.
const MAX_CELLS: u64 = 50_000_000;

/// A sheet's filled cells, row by row: memory for what the sheet holds,
/// not for the grid its far corners span.
struct Sheet {
    /// Rows holding a filled cell, in order, each with its cells in order.
    rows: Vec<(u32, Vec<(u32, String)>)>,
    first_column: u32,
    width: u32,
}

impl Sheet {
    /// Gathers `cells` (position, text), refusing a sheet past [`MAX_CELLS`].
    fn gather<E>(
        name: &str,
        cells: impl Iterator<Item = Result<((u32, u32), String), E>>,
    ) -> Result<Result<Sheet, E>, Refusal> {
        let mut rows: std::collections::BTreeMap<u32, Vec<(u32, String)>> = Default::default();
        let mut count = 0u64;
        let (mut first_column, mut last_column) = (u32::MAX, 0u32);
        for cell in cells {
            let ((row, column), text) = match cell {
                Ok(cell) => cell,
                Err(e) => return Ok(Err(e)),
            };
            if text.is_empty() {
                continue;
            }
            count += 1;
            first_column = first_column.min(column);
            last_column = last_column.max(column);
            rows.entry(row).or_default().push((column, text));
            let width = u64::from(last_column - first_column) + 1;
            if count > MAX_CELLS || (rows.len() as u64).saturating_mul(width) > MAX_CELLS {
                return Err(Refusal::TooLarge(format!(
                    "The sheet {name} spreads its cells over {} rows and {width} columns: more than the {MAX_CELLS} cells OAS reads from a spreadsheet. Save the report as CSV.",
                    rows.len()
                )));
            }
        }
        let rows = rows
            .into_iter()
            .map(|(row, mut cells)| {
                cells.sort_by_key(|(column, _)| *column);
                (row, cells)
            })
            .collect();
        let width = if first_column == u32::MAX {
            0
        } else {
            last_column - first_column + 1
        };
        Ok(Ok(Sheet {
            rows,
            first_column: first_column.min(last_column),
            width,
        }))
    }

    /// Every row from the first filled one to the last, with its number
    /// (from 1); blank rows as one empty cell, the others as wide as the
    /// sheet.
    fn numbered(&self) -> impl Iterator<Item = (u32, Vec<&str>)> + '_ {
        let first = self.rows.first().map_or(0, |(row, _)| *row);
        let last = self.rows.last().map_or(0, |(row, _)| *row);
        let mut filled = self.rows.iter().peekable();
        (first..=last)
            .take(if self.rows.is_empty() { 0 } else { usize::MAX })
            .map(move |row| match filled.next_if(|(r, _)| *r == row) {
                None => (row + 1, vec![""]),
                Some((_, cells)) => {
                    let mut record = vec![""; self.width as usize];
                    for (column, text) in cells {
                        record[(column - self.first_column) as usize] = text;
                    }
                    (row + 1, record)
                }
            })
    }

    fn records(&self) -> impl Iterator<Item = Vec<&str>> + '_ {
        self.numbered().map(|(_, record)| record)
    }
}

/// The filled cells of sheet `name`: an XLSX sheet is read cell by cell,
/// others (XLS, bounded by their format) through calamine's range.
fn sheet_of<RS: std::io::Read + std::io::Seek>(
    book: &mut calamine::Sheets<RS>,
    name: &str,
) -> Result<Option<Sheet>, Refusal> {
    if let calamine::Sheets::Xlsx(xlsx) = book {
        let Ok(mut reader) = xlsx.worksheet_cells_reader(name) else {
            return Ok(None);
        };
        let cells = std::iter::from_fn(|| match reader.next_cell() {
            Ok(Some(c)) => Some(Ok((
                c.get_position(),
                cell(&Data::from(c.get_value().clone())),
            ))),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        });
        return match Sheet::gather(name, cells)? {
            Ok(sheet) => Ok(Some(sheet)),
            Err(e) => Err(Refusal::Corrupt(format!(
                "The sheet {name} cannot be read: {e}."
            ))),
        };
    }
    let Ok(range) = book.worksheet_range(name) else {
        return Ok(None);
    };
    let start = range.start().unwrap_or((0, 0));
    let cells = range.used_cells().map(|(row, column, data)| {
        Ok::<_, std::convert::Infallible>((
            (start.0 + row as u32, start.1 + column as u32),
            cell(data),
        ))
    });
    Ok(Sheet::gather(name, cells)?.ok())
}

pub fn clean(input: &Path, work: &Path, source_type: &str) -> Result<Cleaned, Refusal> {
    let mut book = calamine::open_workbook_auto(input)
        .map_err(|e| Refusal::Corrupt(format!("The spreadsheet cannot be opened: {e}.")))?;
    let mut first_problem = None;
    for name in book.sheet_names() {
        let Some(sheet) = sheet_of(&mut book, &name)? else {
            continue;
        };
        // The shape is judged on each row's cells up to its last filled
        // one: a stray cell far to the right does not make every row wide.
        let sample: String = sheet
            .records()
            .take(200)
            .map(|r| {
                let filled = r.iter().rposition(|c| !c.is_empty()).map_or(0, |at| at + 1);
                r[..filled]
                    .iter()
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
        let mut records = sheet.numbered().skip(layout.header_line);
        let written = write_table(
            |record| {
                Ok(records.next().map(|(row, cells)| {
                    record.clear();
                    for cell in cells {
                        record.push_field(cell);
                    }
                    // Blank rows are records of an empty cell here.
                    Place {
                        after_blank_lines: false,
                        start: 0,
                        line: u64::from(row),
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
