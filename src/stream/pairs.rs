//! The sums of the level pairs of two random-effects terms t > s (formula
//! order) over the rows seen: per pair (level of t, level of s) met, the
//! v_t × v_s block Σ z_t z_sᵀ (column-major).
//!
//! Two stores, one chosen by how much of the rectangle of levels met so
//! far (n_t · n_s cells) the pairs fill:
//! - sparse: a hash map from the pair to its block, for nested terms or
//!   many levels with few pairs each (memory grows with the pairs met);
//! - dense: a row-major grid over the rectangle with one occupancy bit per
//!   cell, for crossed terms (memory grows with the rectangle).
//!
//! The rule ([`PairSums::prepare`], [`PairSums::settle`]): a sparse store
//! turns dense once the pairs fill a quarter of the rectangle, and a dense
//! store turns sparse again only when, before new levels are added, the
//! pairs (those held plus at most those coming) would fill less than a
//! sixteenth of the grown rectangle. Why a quarter: a sparse pair costs a
//! hash bucket (16 bytes of key and slot plus a control byte, at a load of
//! 7/16 to 7/8: about 20 to 40 bytes) besides its values, while a dense
//! cell costs its values and one bit, so at fill 1/4 the dense grid costs
//! about as much as the hash map; it is also the fill at which the
//! assembled block is stored dense ([`crate::blocks::is_stored_dense`]),
//! i.e. the model will hold that many values anyway. The gap between 1/4
//! and 1/16 keeps a store from switching back and forth: each switch needs
//! the fill to change fourfold, so conversions cost O(pairs) in all. A
//! dense store therefore never holds more than 16 cells per pair (plus the
//! pairs of the one batch being added), and a nested design, whose fill
//! falls as its levels grow, stays (or turns back) sparse.
//!
//! Either store gives the same sums: each pair's block is summed in the
//! same order (batch after batch), and conversions copy blocks exactly.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::blocks::Sum2;

/// A multiply–xorshift hasher for the u64 keys of level pairs (the default
/// SipHash costs more than the accumulation itself).
#[derive(Default, Clone, Copy)]
pub(crate) struct PairHasher(u64);

impl Hasher for PairHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }

    fn write_u64(&mut self, x: u64) {
        let h = (self.0 ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 29);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl std::fmt::Debug for PairHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PairHasher")
    }
}

/// A hash map keyed by u64 with [`PairHasher`].
pub(crate) type PairMap = HashMap<u64, u32, BuildHasherDefault<PairHasher>>;

/// A sparse store turns dense when `pairs * DENSE_AT >= cells`.
const DENSE_AT: u128 = 4;
/// A dense store turns sparse when `pairs * SPARSE_BELOW < cells`.
const SPARSE_BELOW: u128 = 16;

/// The sizes of the two terms of a pair store: levels met (n_t, n_s) and
/// columns per level (v_t, v_s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PairDims {
    /// Levels of t met.
    pub n_t: usize,
    /// Levels of s met.
    pub n_s: usize,
    /// Columns of t per level.
    pub v_t: usize,
    /// Columns of s per level.
    pub v_s: usize,
}

impl PairDims {
    /// Cells of the rectangle of levels.
    fn cells(&self) -> u128 {
        self.n_t as u128 * self.n_s as u128
    }

    /// Values per pair block.
    pub fn size(&self) -> usize {
        self.v_t * self.v_s
    }
}

/// Sparse pair sums: a hash map from the pair to the position of its block.
#[derive(Debug, Clone, Default)]
pub(crate) struct SparsePairs {
    /// (level of t) << 32 | (level of s) → index of the pair's block.
    pub index: PairMap,
    /// `v_t * v_s` sums per pair, in index order.
    pub data: Vec<Sum2>,
}

/// The key of pair (`lt`, `ls`) in a [`SparsePairs`].
pub(crate) fn pair_key(lt: u32, ls: u32) -> u64 {
    ((lt as u64) << 32) | ls as u64
}

/// The pair (level of t, level of s) of a [`SparsePairs`] key.
pub(crate) fn key_pair(key: u64) -> (u32, u32) {
    ((key >> 32) as u32, (key & 0xFFFF_FFFF) as u32)
}

impl SparsePairs {
    /// The block of pair (`lt`, `ls`), created as zeros of `size` values if new.
    fn block_mut(&mut self, lt: u32, ls: u32, size: usize) -> &mut [Sum2] {
        let next = self.index.len() as u32;
        let k = *self.index.entry(pair_key(lt, ls)).or_insert(next) as usize;
        if k == next as usize {
            self.data.resize(self.data.len() + size, Sum2::default());
        }
        &mut self.data[k * size..(k + 1) * size]
    }
}

/// Dense pair sums over the rectangle of levels met: rows ("outer") are the
/// levels of one term, columns ("inner") those of the other, row-major with
/// room for `cap` inner levels per row (doubled when a new inner level
/// needs it, so growth is amortized), each cell `size` values and one bit
/// (is the pair met?).
#[derive(Debug, Clone)]
pub(crate) struct DensePairs {
    /// Are the rows (outer levels) the levels of s (else of t)?
    pub outer_is_s: bool,
    /// Outer levels held.
    pub n_outer: usize,
    /// Inner levels held (≤ `cap`).
    pub n_inner: usize,
    /// Inner levels a row has room for.
    pub cap: usize,
    /// Values per cell.
    pub size: usize,
    /// `n_outer * cap * size` sums.
    pub values: Vec<Sum2>,
    /// Occupancy bits, `words()` words per row.
    pub occupied: Vec<u64>,
    /// Cells met.
    pub npairs: usize,
}

impl DensePairs {
    /// An empty grid for `dims`, the outer levels those of the term with
    /// more random effects (the columns of the assembled block, so that it
    /// is filled column by column).
    pub fn new(dims: PairDims) -> Self {
        let outer_is_s = dims.n_s * dims.v_s >= dims.n_t * dims.v_t;
        let (n_outer, n_inner) = if outer_is_s {
            (dims.n_s, dims.n_t)
        } else {
            (dims.n_t, dims.n_s)
        };
        Self::with_shape(outer_is_s, n_outer, n_inner, dims.size())
    }

    /// An empty grid of the given shape (room for exactly `n_inner`).
    pub fn with_shape(outer_is_s: bool, n_outer: usize, n_inner: usize, size: usize) -> Self {
        let words = n_inner.div_ceil(64);
        DensePairs {
            outer_is_s,
            n_outer,
            n_inner,
            cap: n_inner,
            size,
            values: vec![Sum2::default(); n_outer * n_inner * size],
            occupied: vec![0; n_outer * words],
            npairs: 0,
        }
    }

    /// Occupancy words per row.
    pub fn words(&self) -> usize {
        self.cap.div_ceil(64)
    }

    /// (outer, inner) of pair (`lt`, `ls`).
    fn cell(&self, lt: u32, ls: u32) -> (usize, usize) {
        if self.outer_is_s {
            (ls as usize, lt as usize)
        } else {
            (lt as usize, ls as usize)
        }
    }

    /// (level of t, level of s) of cell (`o`, `i`).
    pub fn pair(&self, o: usize, i: usize) -> (u32, u32) {
        if self.outer_is_s {
            (i as u32, o as u32)
        } else {
            (o as u32, i as u32)
        }
    }

    /// Is cell (`o`, `i`) met?
    pub fn is_met(&self, o: usize, i: usize) -> bool {
        self.occupied[o * self.words() + i / 64] >> (i % 64) & 1 == 1
    }

    /// The values of cell (`o`, `i`).
    pub fn cell_values(&self, o: usize, i: usize) -> &[Sum2] {
        let at = (o * self.cap + i) * self.size;
        &self.values[at..at + self.size]
    }

    /// Grow to the levels of `dims` (never shrinks).
    fn grow(&mut self, dims: PairDims) {
        let (n_outer, n_inner) = if self.outer_is_s {
            (dims.n_s, dims.n_t)
        } else {
            (dims.n_t, dims.n_s)
        };
        if n_inner > self.cap {
            self.widen(n_inner.max(2 * self.cap));
        }
        self.n_inner = self.n_inner.max(n_inner);
        if n_outer > self.n_outer {
            self.n_outer = n_outer;
            self.values
                .resize(n_outer * self.cap * self.size, Sum2::default());
            self.occupied.resize(n_outer * self.words(), 0);
        }
    }

    /// Give every row room for `cap` inner levels, moving rows in place
    /// (last first, so that no row is overwritten before it has moved).
    fn widen(&mut self, cap: usize) {
        let (old, new) = (self.cap * self.size, cap * self.size);
        let (old_w, new_w) = (self.words(), cap.div_ceil(64));
        self.values.resize(self.n_outer * new, Sum2::default());
        self.occupied.resize(self.n_outer * new_w, 0);
        for o in (1..self.n_outer).rev() {
            self.values.copy_within(o * old..(o + 1) * old, o * new);
            self.values[o * new + old..(o + 1) * new].fill(Sum2::default());
            self.occupied
                .copy_within(o * old_w..(o + 1) * old_w, o * new_w);
            self.occupied[o * new_w + old_w..(o + 1) * new_w].fill(0);
        }
        if self.n_outer > 0 {
            self.values[old..new].fill(Sum2::default());
            self.occupied[old_w..new_w].fill(0);
        }
        self.cap = cap;
    }

    /// The block of pair (`lt`, `ls`), marked met.
    fn block_mut(&mut self, lt: u32, ls: u32) -> &mut [Sum2] {
        let (o, i) = self.cell(lt, ls);
        debug_assert!(o < self.n_outer && i < self.n_inner);
        let word = &mut self.occupied[o * self.cap.div_ceil(64) + i / 64];
        let bit = 1u64 << (i % 64);
        if *word & bit == 0 {
            *word |= bit;
            self.npairs += 1;
        }
        let at = (o * self.cap + i) * self.size;
        &mut self.values[at..at + self.size]
    }

    /// Call `f(level of t, level of s, block)` for every pair met, row by row.
    fn for_each(&self, mut f: impl FnMut(u32, u32, &[Sum2])) {
        let words = self.words();
        for o in 0..self.n_outer {
            for (w, &bits) in self.occupied[o * words..(o + 1) * words].iter().enumerate() {
                let mut bits = bits;
                while bits != 0 {
                    let i = w * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    let (lt, ls) = self.pair(o, i);
                    f(lt, ls, self.cell_values(o, i));
                }
            }
        }
    }
}

/// The sums of the level pairs of two terms (see the module documentation).
#[derive(Debug, Clone)]
pub(crate) enum PairSums {
    /// A hash map over the pairs met.
    Sparse(SparsePairs),
    /// A grid over the rectangle of levels met.
    Dense(DensePairs),
}

impl Default for PairSums {
    fn default() -> Self {
        PairSums::Sparse(SparsePairs::default())
    }
}

impl PairSums {
    /// Number of pairs met.
    pub fn npairs(&self) -> usize {
        match self {
            PairSums::Sparse(s) => s.index.len(),
            PairSums::Dense(d) => d.npairs,
        }
    }

    /// Is the store dense?
    pub fn is_dense(&self) -> bool {
        matches!(self, PairSums::Dense(_))
    }

    /// Get ready to add the pairs of a batch (a chunk, another partial) with
    /// the levels of `dims` (all met so far, the batch's included) and at
    /// most `incoming` pairs: choose the store by the module's rule on
    /// the pairs held plus `incoming`, and grow a dense store to `dims`.
    pub fn prepare(&mut self, dims: PairDims, incoming: usize) {
        let cells = dims.cells();
        let bound = (self.npairs() + incoming) as u128;
        match self {
            _ if cells == 0 || incoming == 0 => {}
            PairSums::Sparse(_) if bound * DENSE_AT >= cells => self.make_dense(dims),
            PairSums::Dense(_) if bound * SPARSE_BELOW < cells => self.make_sparse(),
            _ => {}
        }
        if let PairSums::Dense(d) = self {
            d.grow(dims);
        }
    }

    /// After a batch: turn a sparse store dense if its pairs fill a quarter
    /// of the rectangle of `dims`.
    pub fn settle(&mut self, dims: PairDims) {
        let pairs = self.npairs() as u128;
        if !self.is_dense() && pairs > 0 && pairs * DENSE_AT >= dims.cells() {
            self.make_dense(dims);
        }
    }

    /// The block of pair (`lt`, `ls`) (`size` values), created as zeros if
    /// new; a dense store must have been prepared for these levels.
    pub fn block_mut(&mut self, lt: u32, ls: u32, size: usize) -> &mut [Sum2] {
        match self {
            PairSums::Sparse(s) => s.block_mut(lt, ls, size),
            PairSums::Dense(d) => {
                debug_assert_eq!(d.size, size);
                d.block_mut(lt, ls)
            }
        }
    }

    /// Call `f(level of t, level of s, block)` for every pair met.
    pub fn for_each(&self, mut f: impl FnMut(u32, u32, &[Sum2])) {
        match self {
            PairSums::Sparse(s) => {
                let size = if s.index.is_empty() {
                    0
                } else {
                    s.data.len() / s.index.len()
                };
                for (&key, &k) in &s.index {
                    let (lt, ls) = key_pair(key);
                    let k = k as usize;
                    f(lt, ls, &s.data[k * size..(k + 1) * size]);
                }
            }
            PairSums::Dense(d) => d.for_each(f),
        }
    }

    /// Move the pairs into a dense grid over `dims`.
    fn make_dense(&mut self, dims: PairDims) {
        let mut grid = DensePairs::new(dims);
        let size = dims.size();
        if let PairSums::Sparse(s) = std::mem::take(self) {
            for (&key, &k) in &s.index {
                let (lt, ls) = key_pair(key);
                let k = k as usize;
                grid.block_mut(lt, ls)
                    .copy_from_slice(&s.data[k * size..(k + 1) * size]);
            }
        }
        *self = PairSums::Dense(grid);
    }

    /// Move the pairs into a hash map.
    fn make_sparse(&mut self) {
        let PairSums::Dense(d) = std::mem::take(self) else {
            return;
        };
        let mut s = SparsePairs::default();
        s.index.reserve(d.npairs);
        s.data.reserve(d.npairs * d.size);
        d.for_each(|lt, ls, block| {
            s.block_mut(lt, ls, d.size).copy_from_slice(block);
        });
        *self = PairSums::Sparse(s);
    }
}
