//! The snapshot's totals, summed exactly as lines stream past.

use hashbrown::HashMap;
use hashbrown::hash_map::EntryRef;

use compact_str::CompactString;
use oas_domain::money::Amount;
use oas_platform::snapshots::{Dimension, SnapshotRow};
use oas_sales::format::Line;

use crate::dimension::{PerDimension, Valued};
use crate::lines::{Batch, ColumnValues};

/// One dimension's groups. Each group has an index, in the order groups
/// were first seen; the table finds a group's index by its key (an ISRC, a
/// UPC and most names, up to 24 bytes, held inline), `sums` holds what
/// every line of the group adds to, and `info` what is read once or rarely
/// (names, identifiers, the base-currency difference of converted lines).
/// A file's most frequent groups come first and so lie close together.
/// Hashed with foldhash: fast, and seeded per process.
///
/// Keys that are identifiers (ISRCs, UPCs, territory codes) are kept as
/// numbers in a table of their own ([`pack`]): 16 bytes an entry instead of
/// 32, so the 50,000 tracks of a large report take a megabyte, which the
/// processor's cache keeps close, and a lookup compares no text.
#[derive(Debug, Clone, Default)]
struct Groups {
    table: HashMap<CompactString, u32, foldhash::fast::RandomState>,
    packed: HashMap<u64, u32, foldhash::fast::RandomState>,
    sums: Vec<Sums>,
    /// Whether no line of the group has had a UPC yet: a byte a group,
    /// read at once by a line with a UPC, while its sums are added later.
    upc_missing: Vec<bool>,
    info: Vec<Info>,
}

impl Groups {
    fn len(&self) -> usize {
        self.info.len()
    }

    /// The index of the group of `key`, made with `info()` if it is new
    /// (one lookup by the borrowed key, an allocation only for a new
    /// group), and whether it is new.
    fn index(&mut self, key: &str, info: impl FnOnce() -> Info) -> (usize, bool) {
        if let Some(code) = pack(key) {
            return self.index_packed(code, info);
        }
        let next = self.info.len();
        let at = match self.table.entry_ref(key) {
            EntryRef::Occupied(entry) => return (*entry.get() as usize, false),
            EntryRef::Vacant(entry) => *entry.insert(u32::try_from(next).unwrap_or(u32::MAX)),
        };
        self.made(at as usize, info)
    }

    /// [`Groups::index`] of a key packed as `code`.
    fn index_packed(&mut self, code: u64, info: impl FnOnce() -> Info) -> (usize, bool) {
        let next = self.info.len();
        let at = match self.packed.entry(code) {
            hashbrown::hash_map::Entry::Occupied(entry) => return (*entry.get() as usize, false),
            hashbrown::hash_map::Entry::Vacant(entry) => {
                *entry.insert(u32::try_from(next).unwrap_or(u32::MAX))
            }
        };
        self.made(at as usize, info)
    }

    /// What line `number` of group `at` adds besides its sums: its UPC,
    /// if the group has none yet, and what converting it added.
    fn note(&mut self, at: usize, (number, upc): (i64, Option<&str>), extra: Option<Amount>) {
        let upc_found = upc.is_some()
            && self
                .upc_missing
                .get_mut(at)
                .is_some_and(|missing| std::mem::replace(missing, false));
        if extra.is_none() && !upc_found {
            return;
        }
        let Some(info) = self.info.get_mut(at) else {
            return;
        };
        if let Some(extra) = extra {
            info.base_extra += extra;
        }
        if upc_found {
            info.upc = upc.map(CompactString::from);
            info.upc_at = number;
        }
    }

    /// A group just numbered `at`.
    fn made(&mut self, at: usize, info: impl FnOnce() -> Info) -> (usize, bool) {
        self.info.push(info());
        self.sums.push(Sums::default());
        self.upc_missing.push(true);
        (at, true)
    }

    /// Every group's key and number.
    fn keys(
        table: HashMap<CompactString, u32, foldhash::fast::RandomState>,
        packed: HashMap<u64, u32, foldhash::fast::RandomState>,
    ) -> impl Iterator<Item = (Key, u32)> {
        let texts = table.into_iter().map(|(key, at)| (Key::Text(key), at));
        texts.chain(packed.into_iter().map(|(code, at)| (Key::Packed(code), at)))
    }
}

/// A group's key as its table holds it.
enum Key {
    Text(CompactString),
    Packed(u64),
}

impl Key {
    fn into_string(self) -> String {
        match self {
            Key::Text(text) => text.into_string(),
            Key::Packed(code) => unpack(code),
        }
    }
}

/// Keys of digits (up to [`PACKED_DIGITS`]) are packed with this bit set,
/// their count above their value.
const DIGITS: u64 = 1 << 63;
/// Digits a packed key holds: 10^17 fits 57 bits, leaving 5 for the count.
const PACKED_DIGITS: usize = 17;
/// Digits and capital letters a packed key holds: 37^12 < 2^63.
const PACKED_ALPHANUMERIC: usize = 12;

/// `key` as a number, if it is an identifier: a run of up to 17 digits (a
/// UPC, an EAN, with its leading zeros), or of up to 12 digits and capital
/// letters (an ISRC, a territory code), each a character in base 37 (0
/// ending the key). Two keys pack alike only if they are the same.
fn pack(key: &str) -> Option<u64> {
    let bytes = key.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    if bytes.len() <= PACKED_DIGITS && bytes.iter().all(u8::is_ascii_digit) {
        let value = bytes.iter().fold(0u64, |v, d| v * 10 + u64::from(d - b'0'));
        return Some(DIGITS | ((bytes.len() as u64) << 57) | value);
    }
    if bytes.len() > PACKED_ALPHANUMERIC {
        return None;
    }
    bytes.iter().rev().try_fold(0u64, |code, &c| {
        let symbol = match c {
            b'0'..=b'9' => c - b'0' + 1,
            b'A'..=b'Z' => c - b'A' + 11,
            _ => return None,
        };
        Some(code * 37 + u64::from(symbol))
    })
}

/// The key [`pack`] made `code` of.
fn unpack(code: u64) -> String {
    if code & DIGITS != 0 {
        let count = ((code & !DIGITS) >> 57) as usize;
        let value = code & ((1 << 57) - 1);
        return format!("{value:0count$}");
    }
    let mut key = String::with_capacity(PACKED_ALPHANUMERIC);
    let mut rest = code;
    while rest > 0 {
        let symbol = (rest % 37) as u8;
        key.push(char::from(match symbol {
            1..=10 => b'0' + symbol - 1,
            _ => b'A' + symbol - 11,
        }));
        rest /= 37;
    }
    key
}

impl Groups {
    /// Adds the groups of other lines of the same dimension ([`Totals::merge`]).
    fn merge(&mut self, theirs: Groups) {
        let mut their_info = theirs.info.into_iter().map(Some).collect::<Vec<_>>();
        for (key, their_at) in Groups::keys(theirs.table, theirs.packed) {
            let their_at = their_at as usize;
            let (Some(their), Some(their_sums)) = (
                their_info.get_mut(their_at).and_then(Option::take),
                theirs.sums.get(their_at),
            ) else {
                continue;
            };
            let mut their = Some(their);
            let info = || their.take().unwrap_or_default();
            let (at, new) = match key {
                Key::Text(key) => self.index(&key, info),
                Key::Packed(code) => self.index_packed(code, info),
            };
            let (Some(sums), Some(info)) = (self.sums.get_mut(at), self.info.get_mut(at)) else {
                continue;
            };
            let their_upc_missing = theirs.upc_missing.get(their_at).copied().unwrap_or(true);
            if let Some(missing) = self.upc_missing.get_mut(at) {
                *missing &= their_upc_missing;
            }
            if new {
                // A group new here: theirs, as it was.
                *sums = *their_sums;
                continue;
            }
            let Some(their) = their else {
                continue;
            };
            sums.revenue += their_sums.revenue;
            sums.quantity += their_sums.quantity;
            info.base_extra += their.base_extra;
            if their.first < info.first {
                info.name = their.name;
                info.first = their.first;
            }
            if info.isrc.is_none() {
                info.isrc = their.isrc;
            }
            let earlier_upc =
                their.upc.is_some() && (info.upc.is_none() || their.upc_at < info.upc_at);
            if earlier_upc {
                info.upc = their.upc;
                info.upc_at = their.upc_at;
            }
        }
    }

    /// The groups as snapshot rows, names and identifiers moved, not copied.
    fn into_rows(self) -> Vec<SnapshotRow> {
        let Groups {
            table,
            packed,
            sums,
            info,
            ..
        } = self;
        let mut info = info.into_iter().map(Some).collect::<Vec<_>>();
        let mut rows = Vec::with_capacity(table.len() + packed.len());
        for (key, at) in Groups::keys(table, packed) {
            let at = at as usize;
            let (Some(sums), Some(info)) = (sums.get(at), info.get_mut(at).and_then(Option::take))
            else {
                continue;
            };
            rows.push(SnapshotRow {
                key: key.into_string(),
                name: info.name.into_string(),
                isrc: info.isrc.map(CompactString::into_string),
                upc: info.upc.map(CompactString::into_string),
                revenue: sums.revenue,
                base_revenue: sums.revenue + info.base_extra,
                quantity: sums.quantity,
            });
        }
        rows
    }
}

/// What each line adds to a group.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    revenue: Amount,
    quantity: i64,
}

/// Lines whose sums are yet to be added, and whose groups may be yet to
/// be found.
///
/// A file's groups, 50,000 tracks and more, do not fit the processor's
/// cache, so finding a group and adding to its sums mostly wait on
/// memory. Done line by line, each wait comes between a line's other work
/// (its columns, its dictionaries); done for a block's lines in short
/// loops, one dimension at a time, the waits overlap, and each loop has
/// one table to itself. A line's groups are found from the block's values
/// (each distinct artist, store, territory, ISRC and UPC once), at the
/// end of the block; only the groups of lines without such a value (a
/// track without an ISRC, a release without a UPC) are looked up as the
/// line comes, by key.
#[derive(Debug, Clone, Default)]
struct Pending {
    /// Each line's revenue and quantity.
    lines: Vec<(Amount, i64)>,
    /// Each line's group in each dimension ([`DEFERRED`] where it is to be
    /// found from the line's value at the end of its block).
    groups: PerDimension<Vec<u32>>,
    /// Lines whose group is deferred.
    deferred: usize,
    /// What converting a pending line added to its amount, by its place.
    extras: Vec<(usize, Amount)>,
}

/// Lines added to their groups at a time, when none waits for the end of
/// its block.
const PENDING: usize = 256;

/// What a group is called and known by, and the sum only converted lines
/// add to. Names and identifiers of up to 24 bytes, nearly all of them,
/// are held inline: no allocation for each new group on each core, and
/// none to free when the cores' groups are merged.
#[derive(Debug, Clone, Default)]
struct Info {
    name: CompactString,
    /// The line the name was taken from: the group's first.
    first: i64,
    isrc: Option<CompactString>,
    upc: Option<CompactString>,
    /// The line the UPC was taken from.
    upc_at: i64,
    /// The base-currency revenue less the revenue: nothing to add at rate 1.
    base_extra: Amount,
}

/// A pending line's group yet to be found from its value
/// ([`Totals::finish_block`]).
const DEFERRED: u32 = u32::MAX;

/// Totals by artist, DSP, territory, track and release, and overall.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub lines: i64,
    pub revenue: Amount,
    pub base_revenue: Amount,
    pub quantity: i64,
    groups: PerDimension<Groups>,
    pending: Pending,
    /// A buffer for a group key, reused line after line.
    key: String,
}

/// Writes `text` into `out` lower-cased with runs of whitespace as one space.
fn normalise_into(out: &mut String, text: &str) {
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if word.is_ascii() {
            let from = out.len();
            out.push_str(word);
            out[from..].make_ascii_lowercase();
        } else {
            out.extend(word.chars().flat_map(char::to_lowercase));
        }
    }
}

const UNKNOWN: &str = "(unknown)";

/// Writes the group key of `line` for `dimension` into `key`, and returns
/// the group's display name.
fn group_of<'l>(dimension: Dimension, line: &'l Line, key: &mut String) -> &'l str {
    key.clear();
    let name = |value: &'l Option<String>| value.as_deref().unwrap_or(UNKNOWN);
    // Without a title (nor an identifier) nothing tells releases or tracks
    // apart: one group of what is unknown, whatever the artist.
    let with_artist = |title: &'l Option<String>, key: &mut String| {
        let Some(title) = title else {
            key.push_str(UNKNOWN);
            return UNKNOWN;
        };
        normalise_into(key, title);
        key.push('\u{1f}');
        if let Some(artist) = &line.artist {
            normalise_into(key, artist);
        }
        title.as_str()
    };
    match dimension {
        Dimension::Artist => {
            normalise_into(key, name(&line.artist));
            name(&line.artist)
        }
        Dimension::Dsp => {
            normalise_into(key, name(&line.dsp));
            name(&line.dsp)
        }
        Dimension::Territory => {
            normalise_into(key, name(&line.territory));
            name(&line.territory)
        }
        Dimension::Track => match &line.isrc {
            Some(isrc) => {
                key.push_str(isrc);
                line.track_title.as_deref().unwrap_or(isrc)
            }
            None => with_artist(&line.track_title, key),
        },
        Dimension::Release => match &line.upc {
            Some(upc) => {
                key.push_str(upc);
                line.release_title.as_deref().unwrap_or(upc)
            }
            None => with_artist(&line.release_title, key),
        },
    }
}

impl Totals {
    /// Adds line `number`, of `amount` (file currency) and `base` in the
    /// base currency. Where `valued` says the line has a value in the
    /// block it was last added to ([`Valued`]), its group is found at the
    /// end of the block ([`Totals::finish_block`]), each value's once, a
    /// dimension at a time; the others now, by key.
    pub fn add(
        &mut self,
        number: i64,
        line: &Line,
        (amount, base): (Amount, Amount),
        valued: &Valued,
    ) {
        self.lines += 1;
        self.revenue += amount;
        self.base_revenue += base;
        self.quantity += line.quantity;
        let extra = (base != amount).then(|| base + -amount);
        let mut deferred = false;
        for dimension in Dimension::ALL {
            if valued[dimension] {
                self.pending.groups[dimension].push(DEFERRED);
                deferred = true;
                continue;
            }
            let groups = &mut self.groups[dimension];
            let name = group_of(dimension, line, &mut self.key);
            let (at, _) = groups.index(&self.key, || Info {
                name: CompactString::from(name),
                first: number,
                // A track with an ISRC is keyed by it: its lines all
                // carry it.
                isrc: match dimension {
                    Dimension::Track => line.isrc.as_deref().map(CompactString::from),
                    _ => None,
                },
                ..Info::default()
            });
            self.pending.groups[dimension].push(u32::try_from(at).unwrap_or(u32::MAX));
            let upc = line
                .upc
                .as_deref()
                .filter(|_| matches!(dimension, Dimension::Release | Dimension::Track));
            groups.note(at, (number, upc), extra);
        }
        if deferred {
            self.pending.deferred += 1;
            if let Some(extra) = extra {
                self.pending.extras.push((self.pending.lines.len(), extra));
            }
        }
        self.pending.lines.push((amount, line.quantity));
        if self.pending.lines.len() >= PENDING && self.pending.deferred == 0 {
            self.settle();
        }
    }

    /// Finds the groups of the block's lines that were left to its end,
    /// from the block's values, and adds its lines to their groups' sums.
    /// Call it before the batch goes on to another block.
    pub fn finish_block(&mut self, batch: &mut Batch) {
        batch.seal();
        let batch = &*batch;
        if self.pending.deferred > 0 {
            // The pending lines are the block's last.
            let offset = batch.len().saturating_sub(self.pending.lines.len());
            for dimension in Dimension::ALL {
                let Some(values) = batch.group_values(dimension) else {
                    continue;
                };
                self.find_block_groups(dimension, &values, batch, offset);
            }
            self.pending.deferred = 0;
            self.pending.extras.clear();
        }
        self.settle();
    }

    /// [`Totals::finish_block`] for one dimension: each of the block's
    /// values finds its group once (in the order first seen, so a group
    /// is named after its earliest line), then each deferred line takes
    /// its value's group, its UPC and its converted amount in line order.
    fn find_block_groups(
        &mut self,
        dimension: Dimension,
        values: &ColumnValues<'_>,
        batch: &Batch,
        offset: usize,
    ) {
        let groups = &mut self.groups[dimension];
        let key = &mut self.key;
        let of_value: Vec<usize> = (0..values.len())
            .map(|v| {
                let Some((value, first)) = values.value(v) else {
                    return usize::MAX;
                };
                key.clear();
                // A track or release is keyed by its identifier as written,
                // and named after its first line's title.
                let name = match dimension {
                    Dimension::Track => batch.track_title(first),
                    Dimension::Release => batch.release_title(first),
                    _ => None,
                };
                match dimension {
                    Dimension::Track | Dimension::Release => key.push_str(value),
                    _ => normalise_into(key, value),
                }
                let isrc = matches!(dimension, Dimension::Track);
                groups
                    .index(key, || Info {
                        name: CompactString::from(name.unwrap_or(value)),
                        first: batch.number(first),
                        isrc: isrc.then(|| CompactString::from(value)),
                        ..Info::default()
                    })
                    .0
            })
            .collect();
        let with_upc = matches!(dimension, Dimension::Release | Dimension::Track);
        let mut extras = self.pending.extras.iter().peekable();
        for (place, slot) in self.pending.groups[dimension].iter_mut().enumerate() {
            if *slot != DEFERRED {
                continue;
            }
            let line = offset + place;
            let Some(&at) = values
                .key(line)
                .and_then(|v| of_value.get(v as usize))
                .filter(|&&at| at != usize::MAX)
            else {
                continue;
            };
            *slot = u32::try_from(at).unwrap_or(u32::MAX);
            while extras.next_if(|(p, _)| *p < place).is_some() {}
            let extra = extras.peek().filter(|(p, _)| *p == place).map(|(_, e)| *e);
            let upc = with_upc.then(|| batch.upc(line)).flatten();
            if upc.is_some() || extra.is_some() {
                groups.note(at, (batch.number(line), upc), extra);
            }
        }
    }

    /// Adds the pending lines to their groups' sums.
    fn settle(&mut self) {
        let Pending { lines, groups, .. } = &mut self.pending;
        for ((_, dimension), (_, at)) in self.groups.iter_mut().zip(groups.iter_mut()) {
            for (&at, &(revenue, quantity)) in at.iter().zip(lines.iter()) {
                if let Some(sums) = dimension.sums.get_mut(at as usize) {
                    sums.revenue += revenue;
                    sums.quantity += quantity;
                }
            }
            at.clear();
        }
        lines.clear();
    }

    /// Adds the totals of other lines of the same file, summed apart: each
    /// group keeps the name and identifiers of its earliest line, as if
    /// all lines had been summed here in order. Each dimension is merged
    /// on a thread of its own.
    pub fn merge(&mut self, mut other: Totals) {
        self.settle();
        other.settle();
        self.lines += other.lines;
        self.revenue += other.revenue;
        self.base_revenue += other.base_revenue;
        self.quantity += other.quantity;
        std::thread::scope(|scope| {
            for ((_, groups), (_, theirs)) in self.groups.iter_mut().zip(other.groups) {
                scope.spawn(move || groups.merge(theirs));
            }
        });
    }

    /// Whether lines are left whose groups wait for the end of their
    /// block ([`Totals::finish_block`]).
    pub fn unfinished(&self) -> bool {
        self.pending.deferred > 0
    }

    /// Distinct artists.
    pub fn artists(&self) -> usize {
        self.groups[Dimension::Artist].len()
    }

    /// Each dimension's rows, each made on a thread of its own.
    pub fn rows(mut self) -> Vec<(Dimension, Vec<SnapshotRow>)> {
        self.settle();
        std::thread::scope(|scope| {
            let made = self
                .groups
                .into_iter()
                .map(|(dimension, groups)| (dimension, scope.spawn(|| groups.into_rows())))
                .collect::<Vec<_>>();
            made.into_iter()
                .map(|(dimension, rows)| {
                    let rows = rows.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
                    (dimension, rows)
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::Entry;

    /// A line without values of a batch: every group looked up by its key.
    /// A line with no value in its block's columns: every group by key.
    fn none() -> Valued {
        Valued::default()
    }

    /// A row as comparable fields: dimension, key, name, ISRC, UPC, sums.
    type Compared = (
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        (Amount, Amount, i64),
    );

    /// Each dimension's rows, sorted.
    fn sorted(totals: &Totals) -> Vec<Compared> {
        let mut rows: Vec<_> = totals
            .clone()
            .rows()
            .into_iter()
            .flat_map(|(d, rows)| {
                rows.into_iter().map(move |r| {
                    (
                        format!("{d:?}"),
                        r.key,
                        r.name,
                        r.isrc,
                        r.upc,
                        (r.revenue, r.base_revenue, r.quantity),
                    )
                })
            })
            .collect();
        rows.sort();
        rows
    }

    /// The row of group `key` of `dimension`.
    fn row(totals: &Totals, dimension: Dimension, key: &str) -> SnapshotRow {
        let rows = totals
            .clone()
            .rows()
            .into_iter()
            .find(|(d, _)| *d == dimension);
        rows.unwrap().1.into_iter().find(|r| r.key == key).unwrap()
    }

    #[test]
    fn identifiers_pack_into_numbers_that_unpack_to_the_same_text() {
        let packable = [
            "DEOK41100074",
            "GBAYE0000001",
            "ZZZZZZZZZZZZ",
            "000000000000",
            "602517646489",
            "0602517646489",
            "00602517646489",
            "0",
            "00",
            "99999999999999999",
            "FR",
            "A",
            "Z9",
            "9Z",
        ];
        let mut codes = std::collections::HashSet::new();
        for key in packable {
            let code = pack(key).unwrap_or_else(|| panic!("{key} packs"));
            assert_eq!(unpack(code), key);
            assert!(codes.insert(code), "{key} packs like another key");
        }
        for other in [
            "",
            "deok41100074",
            "DEOK411000745",
            "123456789012345678",
            "DE-OK",
            "joker face\u{1f}lady gaga",
            "É",
        ] {
            assert_eq!(pack(other), None, "{other:?}");
        }
    }

    #[test]
    fn lines_found_by_their_values_in_a_batch_sum_as_lines_looked_up_by_key() {
        let a = |s: &str| Amount::parse(s).unwrap();
        let lines: Vec<Line> = [
            ("Joker Face", Some("DEOK41100074"), None, "DE"),
            ("Other", None, Some("602517646489"), "DE"),
            (
                "joker  FACE",
                Some("DEOK41100074"),
                Some("602517646496"),
                "AT",
            ),
            ("Other", Some("GBAYE0000001"), None, "DE"),
            // A new batch from here: its values have new indices, the
            // first of them other than the first batch's first.
            ("Other", None, Some("602517646489"), "AT"),
            ("JOKER FACE", Some("GBAYE0000001"), None, "DE"),
            (
                "Joker Face",
                Some("DEOK41100074"),
                Some("602517646496"),
                "AT",
            ),
        ]
        .into_iter()
        .enumerate()
        .map(|(n, (artist, isrc, upc, territory))| {
            let mut l = line(artist, isrc, &format!("Song {}", n % 3), n as i64 + 1);
            l.upc = upc.map(str::to_owned);
            l.territory = Some(territory.to_owned());
            l
        })
        .collect();
        let entry = Entry {
            currency: "USD",
            rate: "2",
            net_revenue: "0",
            base_revenue: "0",
            base_is_revenue: false,
        };
        let (mut by_key, mut by_value) = (Totals::default(), Totals::default());
        let mut batch = Batch::new(4);
        for (n, l) in lines.iter().enumerate() {
            let number = n as i64 + 1;
            let amount = a(&format!("0.{number}"));
            let sums = (amount, amount + amount);
            by_key.add(number, l, sums, &none());
            if n == 4 {
                by_value.finish_block(&mut batch);
                batch = Batch::new(4);
            }
            let values = batch.push(number, l, None, &entry);
            assert!(
                values[Dimension::Artist] && values[Dimension::Territory],
                "artists and territories are dictionary values"
            );
            assert_eq!(
                values[Dimension::Track],
                l.isrc.is_some(),
                "an ISRC, where given"
            );
            by_value.add(number, l, sums, &values);
        }
        assert!(by_value.unfinished(), "groups wait for the block's end");
        by_value.finish_block(&mut batch);
        assert!(!by_value.unfinished());
        assert_eq!(sorted(&by_value), sorted(&by_key));
        assert_eq!(by_value.artists(), 2);
        let joker = row(&by_value, Dimension::Track, "DEOK41100074");
        assert_eq!(
            (joker.name.as_str(), joker.quantity, joker.upc.as_deref()),
            ("Song 0", 1 + 3 + 7, Some("602517646496")),
            "the first line's name, the first UPC"
        );
    }

    fn line(artist: &str, isrc: Option<&str>, title: &str, quantity: i64) -> Line {
        Line {
            artist: Some(artist.to_owned()),
            isrc: isrc.map(str::to_owned),
            track_title: Some(title.to_owned()),
            dsp: Some("Spotify".into()),
            quantity,
            ..Line::default()
        }
    }

    #[test]
    fn groups_sum_exactly_and_tracks_without_an_isrc_group_by_title_and_artist() {
        let mut totals = Totals::default();
        let a = |s: &str| Amount::parse(s).unwrap();
        for (number, (artist, isrc, title, quantity, amount)) in [
            ("Joker Face", Some("DEOK41100074"), "Struggles", 8, "0.1"),
            ("joker  face", Some("DEOK41100074"), "Struggles", 2, "0.2"),
            ("Other", None, "Song", 1, "-0.3"),
            ("Else", None, "Song", 1, "0.3"),
        ]
        .into_iter()
        .enumerate()
        {
            let l = line(artist, isrc, title, quantity);
            totals.add(number as i64, &l, (a(amount), a(amount)), &none());
        }
        assert_eq!(totals.lines, 4);
        assert_eq!(totals.revenue, a("0.3"));
        assert_eq!(
            totals.artists(),
            3,
            "artist names compare without case or spacing"
        );
        let rows = totals.clone().rows();
        let tracks = &rows.iter().find(|(d, _)| *d == Dimension::Track).unwrap().1;
        assert_eq!(tracks.len(), 3);
        let joker = tracks.iter().find(|r| r.key == "DEOK41100074").unwrap();
        assert_eq!((joker.revenue, joker.quantity), (a("0.3"), 10));
        // No line names its release: one group of what is unknown, not one
        // "(unknown)" a artist.
        let releases = &rows
            .iter()
            .find(|(d, _)| *d == Dimension::Release)
            .unwrap()
            .1;
        assert_eq!(releases.len(), 1, "{releases:?}");
        assert_eq!(
            (releases[0].key.as_str(), releases[0].name.as_str()),
            ("(unknown)", "(unknown)")
        );
        for (_, rows) in &rows {
            let sum: Amount = rows.iter().map(|r| r.revenue).sum();
            assert_eq!(sum, totals.revenue, "every dimension adds up to the total");
        }
    }

    #[test]
    fn totals_summed_apart_and_merged_equal_totals_summed_in_order() {
        let a = |s: &str| Amount::parse(s).unwrap();
        let lines: Vec<(i64, Line, Amount)> = [
            ("Joker Face", Some("DEOK41100074"), None, 3, "0.125"),
            (
                "JOKER FACE",
                Some("DEOK41100074"),
                Some("602517646489"),
                1,
                "1.5",
            ),
            ("Other", None, None, 2, "-0.5"),
            (
                "joker face",
                Some("DEOK41100074"),
                Some("602517646496"),
                4,
                "2",
            ),
            ("Other", None, Some("602517646489"), 1, "0.25"),
        ]
        .into_iter()
        .enumerate()
        .map(|(n, (artist, isrc, upc, quantity, amount))| {
            let mut l = line(artist, isrc, "Song", quantity);
            l.upc = upc.map(str::to_owned);
            (n as i64 + 1, l, a(amount))
        })
        .collect();
        // Every other line converted (at rate 2), the others at rate 1.
        let base = |n: i64, amount: Amount| if n % 2 == 0 { amount + amount } else { amount };
        let mut in_order = Totals::default();
        for (n, l, amount) in &lines {
            in_order.add(*n, l, (*amount, base(*n, *amount)), &none());
        }
        // Lines 2 and 4 summed on one side, the others on the other, and
        // the later side merged into the earlier one's.
        let (mut odd, mut even) = (Totals::default(), Totals::default());
        for (n, l, amount) in &lines {
            let side = if n % 2 == 0 { &mut even } else { &mut odd };
            side.add(*n, l, (*amount, base(*n, *amount)), &none());
        }
        even.merge(odd);
        assert_eq!(even.lines, in_order.lines);
        assert_eq!(even.revenue, in_order.revenue);
        assert_eq!(sorted(&even), sorted(&in_order));
        for (_, rows) in even.clone().rows() {
            let base_sum: Amount = rows.iter().map(|r| r.base_revenue).sum();
            assert_eq!(base_sum, in_order.base_revenue, "base sums add up");
        }
        assert_ne!(even.base_revenue, even.revenue, "some lines were converted");
        let joker = row(&even, Dimension::Artist, "joker face");
        assert_eq!(joker.name, "Joker Face", "the name of the earliest line");
    }
}
