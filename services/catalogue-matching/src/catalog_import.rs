//! `import_catalog`: a catalog file an external service provides, cleaned
//! by the uploads module into a table (the same decoding and sheet reading
//! as sales reports), read into the organisation's catalog.
//!
//! Columns are found by their usual names, or by the organisation's own
//! mapping. A row whose ISRC or UPC/EAN fails its check is imported
//! without it, and listed as rejected with the reason; a row without a
//! title is left out, listed the same way. Everything is written in one
//! transaction: an import never stops half-way.

use std::collections::BTreeMap;
use std::path::Path;

use oas_db::catalog::ImportRow;
use oas_domain::job::contract::catalogue_matching::{CATALOG_FIELDS, Rejected};
use oas_domain::job::contract::uploads::Table;
use oas_sales::{dates, ids, names};

/// The rejected rows an import lists (it counts them all).
pub const LISTED: usize = 1000;

/// The usual names of each catalog field's column, folded.
const USUAL: [(&str, &[&str]); 9] = [
    ("isrc", &["isrc", "isrc code", "track isrc", "asset isrc"]),
    (
        "upc",
        &[
            "upc",
            "ean",
            "barcode",
            "icpn",
            "upc ean",
            "ean upc",
            "gtin",
            "product upc",
            "release upc",
            "album upc",
        ],
    ),
    (
        "track_title",
        &[
            "track title",
            "title",
            "track",
            "track name",
            "song title",
            "song",
            "song name",
            "asset title",
        ],
    ),
    (
        "version",
        &[
            "version",
            "mix",
            "subtitle",
            "mix version",
            "version title",
            "track version",
            "mix name",
        ],
    ),
    (
        "release_title",
        &[
            "release",
            "album",
            "product title",
            "release title",
            "release name",
            "album title",
            "album name",
            "product name",
            "product",
        ],
    ),
    (
        "artist",
        &[
            "artist",
            "display artist",
            "track artist",
            "artist name",
            "primary artist",
            "main artist",
            "artists",
            "track display artist",
            "release artist",
        ],
    ),
    (
        "label",
        &[
            "label",
            "label name",
            "record label",
            "imprint",
            "imprint label",
        ],
    ),
    (
        "catalog_number",
        &[
            "catalog number",
            "cat no",
            "catalogue number",
            "catalog no",
            "catalogue no",
            "cat number",
            "catalog",
            "catalogue",
            "catalog nr",
            "cat nr",
        ],
    ),
    (
        "release_date",
        &[
            "release date",
            "original release date",
            "street date",
            "digital release date",
        ],
    ),
];

/// Where each field's column is.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Columns(BTreeMap<&'static str, usize>);

impl Columns {
    /// Finds the columns of `header`: the organisation's own names first
    /// (each must be there), then the usual ones.
    pub fn find(header: &[String], own: &BTreeMap<String, String>) -> Result<Columns, String> {
        let folded: Vec<String> = header.iter().map(|h| names::fold(h)).collect();
        let mut found = BTreeMap::new();
        for field in CATALOG_FIELDS {
            if let Some(name) = own.get(field) {
                let at = folded
                    .iter()
                    .position(|h| *h == names::fold(name))
                    .ok_or_else(|| {
                        format!(
                            "The column {name:?} the mapping names for {field} is not in the file; its columns are: {}.",
                            header.join(", ")
                        )
                    })?;
                found.insert(field, at);
            }
        }
        for (field, usual) in USUAL {
            if found.contains_key(field) {
                continue;
            }
            if let Some(at) = usual
                .iter()
                .find_map(|name| folded.iter().position(|h| h == name))
            {
                found.insert(field, at);
            }
        }
        if !found.contains_key("isrc") && !found.contains_key("track_title") {
            return Err(format!(
                "The catalog file has neither an ISRC nor a title column (looked for ISRC; Track Title, Title, Track Name, Song Title); its columns are: {}.",
                header.join(", ")
            ));
        }
        Ok(Columns(found))
    }

    fn get<'r>(&self, field: &str, record: &'r csv::StringRecord) -> Option<&'r str> {
        self.0
            .get(field)
            .and_then(|&at| record.get(at))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }
}

/// A catalog file read: its rows, and what was left out.
#[derive(Debug, Default)]
pub struct Read {
    pub rows: Vec<ImportRow>,
    pub rejected: Vec<Rejected>,
    pub rejected_count: u64,
}

impl Read {
    fn reject(&mut self, line: u64, reason: String) {
        self.rejected_count += 1;
        if self.rejected.len() < LISTED {
            self.rejected.push(Rejected { line, reason });
        }
    }
}

/// Reads the cleaned table at `path` as `table` describes it.
pub fn read(path: &Path, table: &Table, own: &BTreeMap<String, String>) -> Result<Read, String> {
    let delimiter = match table.delimiter.as_bytes() {
        [d] if table.as_uploaded => *d,
        _ => b',',
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| format!("The cleaned catalog cannot be read: {e}."))?;
    let mut records = reader.records();
    if table.as_uploaded {
        for _ in 0..table.skip_lines {
            records.next();
        }
    }
    let header: Vec<String> = match records.next() {
        Some(Ok(record)) => record.iter().map(str::to_owned).collect(),
        _ => return Err("The catalog file has no header.".into()),
    };
    let columns = Columns::find(&header, own)?;
    let mut read = Read::default();
    for (index, record) in records.take(table.rows as usize).enumerate() {
        let line = index as u64 + 2;
        let record =
            record.map_err(|e| format!("Line {line} of the catalog cannot be read: {e}."))?;
        if let Some(row) = row(&columns, &record, line, &mut read) {
            read.rows.push(row);
        }
    }
    if read.rows.is_empty() && read.rejected_count == 0 {
        return Err("The catalog file has no rows under its header.".into());
    }
    Ok(read)
}

/// One row, checked; `None` when it cannot be a track.
fn row(
    columns: &Columns,
    record: &csv::StringRecord,
    line: u64,
    read: &mut Read,
) -> Option<ImportRow> {
    let field = |name: &str| columns.get(name, record).map(str::to_owned);
    let isrc = match field("isrc") {
        Some(raw) => match ids::isrc(&raw) {
            Some(code) => Some(code),
            None => {
                read.reject(
                    line,
                    format!(
                        "ISRC {raw:?} is not of the form CC-XXX-YY-NNNNN: imported without it."
                    ),
                );
                None
            }
        },
        None => None,
    };
    let (upc, gtin) = match field("upc") {
        Some(raw) => match ids::gtin14(&raw) {
            Some(gtin) => (Some(raw), Some(gtin)),
            None => {
                read.reject(line, format!("UPC/EAN {raw:?} has a wrong check digit or is not one: imported without it."));
                (None, None)
            }
        },
        None => (None, None),
    };
    let Some(title) = field("track_title") else {
        read.reject(line, "No title: the row was left out.".into());
        return None;
    };
    let artist = field("artist").unwrap_or_default();
    let version = field("version");
    let release_title = field("release_title");
    let label = field("label");
    let parsed = names::title(&title);
    let release_date = field("release_date").map(|raw| dates::date(&raw, false).unwrap_or(raw));
    Some(ImportRow {
        isrc,
        upc,
        gtin,
        version_key: version
            .as_deref()
            .map(|v| v.to_lowercase())
            .unwrap_or_default(),
        title_key: parsed.base,
        artist_key: names::artists(&artist).key,
        release_title_key: release_title.as_deref().map(names::fold),
        label_key: label.as_deref().map(names::fold),
        title,
        version,
        artist,
        release_title,
        label,
        catalog_number: field("catalog_number"),
        release_date,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: u64) -> Table {
        Table {
            source_type: "text".into(),
            encoding: "UTF-8".into(),
            clean_key: "x".into(),
            delimiter: ",".into(),
            header: Vec::new(),
            preamble: Vec::new(),
            rows,
            trailing_lines: 0,
            sheet: None,
            skip_lines: 0,
            as_uploaded: false,
            data_end: None,
            own_copy: true,
        }
    }

    fn read_text(text: &str, own: &[(&str, &str)]) -> Result<Read, String> {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("catalog.csv");
        std::fs::write(&path, text).unwrap();
        let own = own
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let rows = text.lines().count().saturating_sub(1) as u64;
        read(&path, &table(rows), &own)
    }

    #[test]
    fn columns_are_found_by_their_usual_names() {
        let read = read_text(
            "Cat. No.,EAN,Album,Display Artist,Track Title,Mix,ISRC,Label,Release Date\n\
             CAT-1,0602517646483,B'Day,Beyoncé,Déjà Vu,Radio Edit,us-x12-30-00001,Columbia,2006-09-04\n",
            &[],
        )
        .unwrap();
        let row = &read.rows[0];
        assert_eq!(row.isrc.as_deref(), Some("USX123000001"));
        assert_eq!(row.gtin.as_deref(), Some("00602517646483"));
        assert_eq!(row.catalog_number.as_deref(), Some("CAT-1"));
        assert_eq!(row.version.as_deref(), Some("Radio Edit"));
        assert_eq!(row.release_title.as_deref(), Some("B'Day"));
        assert_eq!(row.release_date.as_deref(), Some("2006-09-04"));
        assert_eq!(row.title_key, "deja vu");
        assert!(read.rejected.is_empty());
    }

    #[test]
    fn bad_identifiers_are_left_out_of_their_row_and_listed() {
        let read = read_text(
            "ISRC,UPC,Title,Artist\nNOT-AN-ISRC,602517646488,Song,Ann\n,,,Bob\n",
            &[],
        )
        .unwrap();
        assert_eq!(read.rows.len(), 1);
        assert_eq!(read.rows[0].isrc, None);
        assert_eq!(read.rows[0].gtin, None);
        assert_eq!(read.rejected_count, 3);
        assert_eq!(read.rejected[0].line, 2);
        assert!(
            read.rejected[2].reason.contains("No title"),
            "{:?}",
            read.rejected
        );
        assert_eq!(read.rejected[2].line, 3);
    }

    #[test]
    fn an_organisation_names_its_own_columns() {
        let read = read_text(
            "Werk,Künstler\nLied,Anna\n",
            &[("track_title", "Werk"), ("artist", "Künstler")],
        )
        .unwrap();
        assert_eq!(read.rows[0].title, "Lied");
        assert_eq!(read.rows[0].artist, "Anna");
        let missing = read_text("Werk\nLied\n", &[("track_title", "Titel")]).unwrap_err();
        assert!(missing.contains("\"Titel\""), "{missing}");
    }

    #[test]
    fn a_file_without_an_isrc_or_a_title_column_says_what_it_lacks() {
        let error = read_text("Artist,Label\nAnn,Acme\n", &[]).unwrap_err();
        assert!(
            error.contains("neither an ISRC nor a title column"),
            "{error}"
        );
        assert!(error.contains("Artist, Label"), "{error}");
        let empty = read_text("ISRC,Title\n", &[]).unwrap_err();
        assert!(empty.contains("no rows"), "{empty}");
    }
}
