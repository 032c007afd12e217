//! One value per snapshot dimension (artist, DSP, territory, track,
//! release), indexed by the dimension itself: the order of
//! `Dimension::ALL` is kept here, in one place, rather than by every
//! `[T; 5]` that would have to follow it.

use std::ops::{Index, IndexMut};

use oas_platform::snapshots::Dimension;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerDimension<T>([T; 5]);

impl<T> PerDimension<T> {
    /// A value for each dimension, made by `make`.
    pub fn from_fn(mut make: impl FnMut(Dimension) -> T) -> Self {
        PerDimension(Dimension::ALL.map(&mut make))
    }

    /// Each dimension with its value, in the order of `Dimension::ALL`.
    pub fn iter(&self) -> impl Iterator<Item = (Dimension, &T)> {
        Dimension::ALL.into_iter().zip(self.0.iter())
    }

    /// Each dimension with its value, to change.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Dimension, &mut T)> {
        Dimension::ALL.into_iter().zip(self.0.iter_mut())
    }

    /// Each value, in the order of `Dimension::ALL`, with the other's.
    pub fn zip<U>(self, other: PerDimension<U>) -> impl Iterator<Item = (Dimension, T, U)> {
        Dimension::ALL
            .into_iter()
            .zip(self.0)
            .zip(other.0)
            .map(|((dimension, mine), theirs)| (dimension, mine, theirs))
    }
}

impl<T> IntoIterator for PerDimension<T> {
    type Item = (Dimension, T);
    type IntoIter = std::iter::Zip<std::array::IntoIter<Dimension, 5>, std::array::IntoIter<T, 5>>;

    fn into_iter(self) -> Self::IntoIter {
        Dimension::ALL.into_iter().zip(self.0)
    }
}

/// Where a dimension's value is kept: its place in `Dimension::ALL`.
fn place(dimension: Dimension) -> usize {
    match dimension {
        Dimension::Artist => 0,
        Dimension::Dsp => 1,
        Dimension::Territory => 2,
        Dimension::Track => 3,
        Dimension::Release => 4,
    }
}

impl<T> Index<Dimension> for PerDimension<T> {
    type Output = T;

    fn index(&self, dimension: Dimension) -> &T {
        &self.0[place(dimension)]
    }
}

impl<T> IndexMut<Dimension> for PerDimension<T> {
    fn index_mut(&mut self, dimension: Dimension) -> &mut T {
        &mut self.0[place(dimension)]
    }
}

/// Whether a line has a value, in its block's columns, for each
/// dimension's group key ([`crate::lines::Batch::push`]): the artist,
/// store and territory, the ISRC of a track that has one and the UPC of a
/// release that has one. Such a line's group is found from the block's
/// values at its end (`Totals::finish_block`).
pub type Valued = PerDimension<bool>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dimension_has_its_own_place_in_the_order_of_all() {
        let named = PerDimension::from_fn(Dimension::as_str);
        for (dimension, name) in named.iter() {
            assert_eq!(named[dimension], *name);
            assert_eq!(dimension.as_str(), *name);
        }
        let order: Vec<Dimension> = named.into_iter().map(|(d, _)| d).collect();
        assert_eq!(order, Dimension::ALL);
    }
}
