//! A sales file's usage items: the distinct artist, track title, release
//! title, ISRC and UPC of its lines, read from the lines' Parquet file,
//! with their lines, quantity and exact revenue in the base currency.

use std::path::Path;

use foldhash::fast::RandomState;
use oas_domain::money::Amount;
use polars::prelude::*;

use crate::matcher::Usage;

/// One usage item and what its lines add up to.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub usage: Usage,
    pub lines: i64,
    pub quantity: i64,
    pub revenue: Amount,
}

/// The columns an item is read from.
const KEY: [&str; 5] = oas_sales::names::ITEM_FIELDS;

#[derive(Debug, thiserror::Error)]
pub enum ItemsError {
    #[error("the lines file cannot be read: {0}")]
    Parquet(#[from] PolarsError),
    #[error("line {line}: the amount {amount:?} is not an exact decimal")]
    Amount { line: i64, amount: String },
    #[error("the file's revenue overflows")]
    Overflow,
}

/// Reads the items of the lines in `parquet`, in the order each first
/// appears.
pub fn read(parquet: &Path) -> Result<Vec<Item>, ItemsError> {
    let file = std::fs::File::open(parquet).map_err(|e| PolarsError::IO {
        error: Arc::new(e),
        msg: None,
    })?;
    let mut columns: Vec<String> = KEY.iter().map(|c| (*c).to_owned()).collect();
    for other in ["catalog_number", "quantity", "base_revenue", "line"] {
        columns.push(other.to_owned());
    }
    let frame = ParquetReader::new(file)
        .with_columns(Some(columns))
        .finish()?;
    let text = |name: &str| -> PolarsResult<StringChunked> {
        Ok(frame.column(name)?.cast(&DataType::String)?.str()?.clone())
    };
    let keys: Vec<StringChunked> = KEY.iter().map(|c| text(c)).collect::<PolarsResult<_>>()?;
    let catalog_number = text("catalog_number")?;
    let base = text("base_revenue")?;
    let quantity = frame.column("quantity")?.i64()?.clone();
    let line = frame.column("line")?.i64()?.clone();

    let mut at: std::collections::HashMap<String, usize, RandomState> =
        std::collections::HashMap::default();
    let mut items: Vec<Item> = Vec::new();
    let mut key = String::new();
    let mut iters: Vec<_> = keys.iter().map(|c| c.iter()).collect();
    let numbers = catalog_number
        .iter()
        .zip(base.iter())
        .zip(quantity.iter())
        .zip(line.iter());
    for (((number, amount), quantity), line) in numbers {
        let mut values: [&str; 5] = [""; 5];
        for (value, iter) in values.iter_mut().zip(iters.iter_mut()) {
            *value = iter.next().flatten().unwrap_or_default();
        }
        key.clear();
        for value in values {
            key.push_str(value);
            key.push('\u{1f}');
        }
        let amount_text = amount.unwrap_or("0");
        let amount = Amount::parse(amount_text).map_err(|_| ItemsError::Amount {
            line: line.unwrap_or_default(),
            amount: amount_text.to_owned(),
        })?;
        let index = match at.get(key.as_str()) {
            Some(&index) => index,
            None => {
                at.insert(key.clone(), items.len());
                items.push(Item {
                    usage: Usage {
                        artist: values[0].to_owned(),
                        track_title: values[1].to_owned(),
                        release_title: values[2].to_owned(),
                        isrc: values[3].to_owned(),
                        upc: values[4].to_owned(),
                        catalog_number: number.unwrap_or_default().to_owned(),
                    },
                    lines: 0,
                    quantity: 0,
                    revenue: Amount::default(),
                });
                items.len() - 1
            }
        };
        let item = &mut items[index];
        item.lines += 1;
        item.quantity += quantity.unwrap_or_default();
        item.revenue = item
            .revenue
            .checked_add(amount)
            .ok_or(ItemsError::Overflow)?;
    }
    Ok(items)
}
