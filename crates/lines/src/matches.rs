//! A file's usage items and where each stands against the catalog: the
//! modules that read an import's lines (reports, statements) find a line's
//! item by the five fields it shares with its lines
//! ([`oas_sales::names::ITEM_FIELDS`]), and through it the catalog track
//! it is matched to.

use std::collections::HashMap;
use std::sync::Arc;

use foldhash::fast::RandomState;
use oas_db::catalog::{CatalogEntry, ItemMatch};

/// Where a usage item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Matched,
    Review,
    Unmatched,
    /// The file has no match for it (not matched yet, or its track was
    /// deleted since).
    Waiting,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Matched => "matched",
            Standing::Review => "review",
            Standing::Unmatched => "unmatched",
            Standing::Waiting => "not_matched",
        }
    }
}

/// A usage item's match, as the report writes it.
#[derive(Debug, Clone)]
pub struct Item {
    pub standing: Standing,
    pub match_type: Option<String>,
    pub reason: String,
    pub entry: Option<Arc<CatalogEntry>>,
}

/// A file's usage items by the five fields their lines share.
#[derive(Debug, Default)]
pub struct FileMatches {
    items: HashMap<String, Item, RandomState>,
}

/// The key of the item whose fields are `fields` (as written, a missing
/// one empty), into `key`.
pub fn item_key(fields: [&str; 5], key: &mut String) {
    key.clear();
    for field in fields {
        key.push_str(field);
        key.push('\u{1f}');
    }
}

impl FileMatches {
    /// The matches of a file's items; `entries` holds the catalog tracks
    /// they name.
    pub fn new(rows: Vec<ItemMatch>, entries: &HashMap<i64, Arc<CatalogEntry>>) -> Self {
        let mut items = HashMap::with_capacity_and_hasher(rows.len(), RandomState::default());
        let mut key = String::new();
        for row in rows {
            item_key(
                [
                    &row.artist,
                    &row.track_title,
                    &row.release_title,
                    &row.isrc,
                    &row.upc,
                ],
                &mut key,
            );
            let entry = row.track_id.and_then(|id| entries.get(&id).cloned());
            let standing = match row.status.as_str() {
                "matched" if entry.is_some() => Standing::Matched,
                "matched" => Standing::Waiting,
                "review" => Standing::Review,
                _ => Standing::Unmatched,
            };
            let reason = if standing == Standing::Waiting {
                "The catalog track it matched was deleted: match the file again.".to_owned()
            } else {
                row.reason
            };
            items.insert(
                key.clone(),
                Item {
                    standing,
                    match_type: row.match_type,
                    reason,
                    entry,
                },
            );
        }
        Self { items }
    }

    /// The item whose key (see [`item_key`]) is `key`.
    pub fn get(&self, key: &str) -> Option<&Item> {
        self.items.get(key)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl Item {
    /// The item of a line whose file has no match for it: the file is not
    /// matched to the catalog yet.
    pub fn waiting() -> Self {
        Item {
            standing: Standing::Waiting,
            match_type: None,
            reason: "The file has not been matched to the catalog yet.".to_owned(),
            entry: None,
        }
    }
}
