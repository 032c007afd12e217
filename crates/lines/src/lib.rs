//! The standard sales lines an import wrote as Parquet, read back by the
//! modules that work on them (reports, statements): a slice of whole row
//! groups at a time, so memory is a slice whatever the file's size. Only
//! modules link this crate (and polars); the gateway never does.
//!
//! [`fetch`] makes a file ready to read (its lines downloaded, its items'
//! matches read), and [`matches`] finds a line's item and catalog track.

pub mod fetch;
pub mod matches;

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;

/// Checks a job's months `from` to `to` (`YYYY-MM`, inclusive): the
/// field at fault and why, if they are not a period.
pub fn check_period(from: &str, to: &str) -> Result<(), (&'static str, String)> {
    for (name, value) in [("period_from", from), ("period_to", to)] {
        if value.len() != 7 || oas_domain::period::Period::parse(value).is_err() {
            return Err((name, format!("{value:?} is not a month (YYYY-MM)")));
        }
    }
    if from > to {
        return Err(("period_to", "the period ends before it starts".to_owned()));
    }
    Ok(())
}

/// Lines read at a time, at least (whole row groups).
pub const SLICE_ROWS: usize = 131_072;

/// Reads `columns` of the lines in `parquet`, whole row groups of at least
/// `slice_rows` lines at a time, handing each slice to `each`. A failure
/// of `each` stops the reading and is returned as it is.
pub fn for_each_slice<E: From<PolarsError>>(
    parquet: &Path,
    columns: &[&str],
    slice_rows: usize,
    mut each: impl FnMut(&DataFrame) -> Result<(), E>,
) -> Result<(), E> {
    let open = || {
        File::open(parquet).map_err(|e| PolarsError::IO {
            error: Arc::new(e),
            msg: None,
        })
    };
    let mut reader = ParquetReader::new(open()?);
    let metadata = reader.get_metadata()?.clone();
    let columns: Vec<String> = columns.iter().map(|c| (*c).to_owned()).collect();
    let mut offset = 0;
    let mut groups = metadata.row_groups.iter().map(|g| g.num_rows()).peekable();
    while groups.peek().is_some() {
        let mut length = 0;
        while length < slice_rows {
            match groups.next() {
                Some(rows) => length += rows,
                None => break,
            }
        }
        if length == 0 {
            continue;
        }
        let mut reader = ParquetReader::new(open()?)
            .with_columns(Some(columns.clone()))
            .with_slice(Some((offset, length)));
        reader.set_metadata(metadata.clone());
        let frame = reader.finish()?;
        offset += length;
        each(&frame)?;
    }
    Ok(())
}

/// The text columns `names` of a slice (a missing value is `None`).
pub fn texts(frame: &DataFrame, names: &[&str]) -> PolarsResult<Vec<StringChunked>> {
    names
        .iter()
        .map(|name| Ok(frame.column(name)?.cast(&DataType::String)?.str()?.clone()))
        .collect()
}

/// The whole-number column `name` of a slice.
pub fn numbers(frame: &DataFrame, name: &str) -> PolarsResult<Int64Chunked> {
    Ok(frame.column(name)?.i64()?.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_are_whole_row_groups_and_hold_every_line_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lines.parquet");
        let n = 10;
        let mut frame = DataFrame::new(
            n,
            vec![
                Column::new("line".into(), (1..=n as i64).collect::<Vec<_>>()),
                Column::new(
                    "artist".into(),
                    (1..=n)
                        .map(|i| (i % 3 != 0).then(|| format!("A{i}")))
                        .collect::<Vec<_>>(),
                ),
            ],
        )
        .unwrap();
        ParquetWriter::new(File::create(&path).unwrap())
            .with_row_group_size(Some(3))
            .finish(&mut frame)
            .unwrap();
        let mut seen = Vec::new();
        let mut heights = Vec::new();
        for_each_slice::<PolarsError>(&path, &["line", "artist"], 4, |slice| {
            heights.push(slice.height());
            let artists = &texts(slice, &["artist"])?[0];
            for (line, artist) in numbers(slice, "line")?.iter().zip(artists.iter()) {
                seen.push((line.unwrap(), artist.map(str::to_owned)));
            }
            Ok(())
        })
        .unwrap();
        // Groups of 3: slices of two groups (6), then the last 3 + 1.
        assert_eq!(heights, [6, 4]);
        assert_eq!(seen.len(), n);
        assert_eq!(seen[2], (3, None));
        assert_eq!(seen[9], (10, Some("A10".to_owned())));
        let missing =
            for_each_slice::<PolarsError>(&dir.path().join("none"), &["line"], 4, |_| Ok(()));
        assert!(missing.is_err());
    }
}
