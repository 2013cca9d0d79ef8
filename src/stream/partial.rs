//! The partial sums of A = [Z X y]ᵀ[Z X y] over some of the rows of the
//! data, keyed by the levels of the grouping factors as met so far: what one
//! chunk (or one Dask partition) contributes, and what two partials sum to.
//!
//! Levels get a number in the order they are first met; their final order
//! (the in-memory one) is decided when the model is assembled
//! ([`super::assemble`]), from each level's sort key.

use std::collections::HashMap;

use super::pairs::{PairDims, PairSums};
use crate::blocks::Sum2;
use crate::error::{Error, Result};

/// A level's sort key: per factor of the grouping, the code in the column's
/// level list (categorical column) or the value (numeric column).
pub(crate) type LevelKey = Vec<f64>;

/// The key of a level as hashable bits (−0.0 is 0.0).
fn key_bits(key: &[f64]) -> Vec<u64> {
    key.iter().map(|v| (v + 0.0).to_bits()).collect()
}

/// Sums of one random-effects term (formula order), over its levels met so far.
#[derive(Debug, Clone)]
pub(crate) struct TermSums {
    /// Name of the grouping factor (`g`, `g & h`).
    pub grouping: String,
    /// Names of the term's columns.
    pub column_names: Vec<String>,
    /// λ's pattern, as [`crate::terms::ReTerm::theta_index`].
    pub theta_index: Vec<(usize, usize)>,
    /// Per level met: its sort key and label.
    pub keys: Vec<LevelKey>,
    /// Labels of the levels met.
    pub labels: Vec<String>,
    /// Key bits → level number.
    pub index: HashMap<Vec<u64>, u32>,
    /// Per level, the v × v block Σ z zᵀ (column-major).
    pub diag: Vec<Sum2>,
    /// Per level and column c of the term, Σ z_c [x y] (w values each).
    pub xyz: Vec<Sum2>,
    /// Per column: Σ z² over the non-zero entries, and their count (the
    /// column's size, which sets the unit of its θ entries).
    pub zsq: Vec<(f64, u64)>,
    /// With each earlier term s (index s).
    pub pairs: Vec<PairSums>,
}

impl TermSums {
    /// An empty sum for a term.
    pub fn new(
        grouping: String,
        column_names: Vec<String>,
        theta_index: Vec<(usize, usize)>,
        earlier: usize,
    ) -> Self {
        let v = column_names.len();
        TermSums {
            grouping,
            column_names,
            theta_index,
            keys: Vec::new(),
            labels: Vec::new(),
            index: HashMap::new(),
            diag: Vec::new(),
            xyz: Vec::new(),
            zsq: vec![(0.0, 0); v],
            pairs: vec![PairSums::default(); earlier],
        }
    }

    /// Columns per level.
    pub fn v(&self) -> usize {
        self.column_names.len()
    }

    /// Number of levels met.
    pub fn nlevels(&self) -> usize {
        self.labels.len()
    }

    /// The number of each level (registering new ones); `w` is the width of [X y].
    pub fn register(&mut self, keys: &[LevelKey], labels: &[String], w: usize) -> Vec<u32> {
        let v = self.v();
        let mut out = Vec::with_capacity(keys.len());
        for (key, label) in keys.iter().zip(labels) {
            let next = self.labels.len() as u32;
            let id = *self.index.entry(key_bits(key)).or_insert(next);
            if id == next {
                self.keys.push(key.clone());
                self.labels.push(label.clone());
            }
            out.push(id);
        }
        let l = self.nlevels();
        self.diag.resize(l * v * v, Sum2::default());
        self.xyz.resize(l * v * w, Sum2::default());
        out
    }

    /// Check that another chunk built the same columns for this term.
    pub fn check_same(&self, grouping: &str, column_names: &[String]) -> Result<()> {
        if self.grouping != grouping || self.column_names != column_names {
            return Err(Error::Term {
                term: grouping.to_string(),
                message: format!(
                    "the chunks of the data give this term different columns ({} and {}); give \
                     categorical columns the same levels in every chunk",
                    self.column_names.join(", "),
                    column_names.join(", ")
                ),
            });
        }
        Ok(())
    }
}

/// The partial sums of A over the rows seen: see the module documentation.
#[derive(Debug, Clone, Default)]
pub struct PartialA {
    /// Observations used (complete rows).
    pub(crate) nobs: u64,
    /// Rows read, complete or not.
    pub(crate) input_rows: u64,
    /// Rows missing in each used column (a row missing in two columns counts for both).
    pub(crate) missing: Vec<(String, u64)>,
    /// Σ y, min y, max y of the response (offset removed).
    pub(crate) y_stats: (f64, f64, f64),
    /// Names of all fixed-effects columns (before the rank decision).
    pub(crate) x_names: Vec<String>,
    /// The formula term of each fixed-effects column (None: the intercept).
    pub(crate) term_of: Vec<Option<usize>>,
    /// [X y]ᵀ[X y], column-major, (p + 1)² values over all columns of X.
    pub(crate) xy_xy: Vec<Sum2>,
    /// Per random-effects term, in formula order.
    pub(crate) terms: Vec<TermSums>,
}

impl PartialA {
    /// Number of observations summed.
    pub fn nobs(&self) -> u64 {
        self.nobs
    }

    /// Has no chunk with a usable row been added?
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Width of [X y] (all columns of X, plus the response).
    pub(crate) fn width(&self) -> usize {
        self.x_names.len() + 1
    }

    /// Add the missing-value counts of a chunk (per used column).
    pub(crate) fn add_missing(&mut self, counts: &[(String, u64)]) {
        for (name, k) in counts {
            match self.missing.iter_mut().find(|(c, _)| c == name) {
                Some((_, total)) => *total += k,
                None => self.missing.push((name.clone(), *k)),
            }
        }
    }

    /// The sizes of the pair sums of terms `t` > `s` (levels met so far).
    pub(crate) fn pair_dims(&self, t: usize, s: usize) -> PairDims {
        let (a, b) = (&self.terms[t], &self.terms[s]);
        PairDims {
            n_t: a.nlevels(),
            n_s: b.nlevels(),
            v_t: a.v(),
            v_s: b.v(),
        }
    }

    /// Add `other` (the sums over other rows) to these sums.
    pub fn merge(&mut self, other: PartialA) -> Result<()> {
        self.input_rows += other.input_rows;
        self.add_missing(&other.missing);
        if other.is_empty() {
            return Ok(());
        }
        if self.is_empty() {
            let (input_rows, missing) = (self.input_rows, std::mem::take(&mut self.missing));
            *self = other;
            self.input_rows = input_rows;
            self.missing = missing;
            return Ok(());
        }
        if self.x_names != other.x_names {
            return Err(Error::Data(format!(
                "two parts of the data give different fixed-effects columns ({} and {}); give \
                 categorical columns the same levels in every part",
                self.x_names.join(", "),
                other.x_names.join(", ")
            )));
        }
        self.nobs += other.nobs;
        let (s, lo, hi) = other.y_stats;
        self.y_stats = (
            self.y_stats.0 + s,
            self.y_stats.1.min(lo),
            self.y_stats.2.max(hi),
        );
        self.xy_xy
            .iter_mut()
            .zip(&other.xy_xy)
            .for_each(|(a, b)| a.add_sum(*b));
        let w = self.width();
        let mut maps: Vec<Vec<u32>> = Vec::with_capacity(other.terms.len());
        for (t, o) in other.terms.iter().enumerate() {
            let mine = &mut self.terms[t];
            mine.check_same(&o.grouping, &o.column_names)?;
            let map = mine.register(&o.keys, &o.labels, w);
            let v = mine.v();
            for (l, &g) in map.iter().enumerate() {
                let (g, l) = (g as usize, l);
                add_into(
                    &mut mine.diag[g * v * v..(g + 1) * v * v],
                    &o.diag[l * v * v..(l + 1) * v * v],
                );
                add_into(
                    &mut mine.xyz[g * v * w..(g + 1) * v * w],
                    &o.xyz[l * v * w..(l + 1) * v * w],
                );
            }
            for (c, (ss, k)) in o.zsq.iter().enumerate() {
                mine.zsq[c].0 += ss;
                mine.zsq[c].1 += k;
            }
            maps.push(map);
        }
        // Pair sums last, each store of `other` released once added.
        for (t, o) in other.terms.into_iter().enumerate() {
            for (s, pair) in o.pairs.into_iter().enumerate() {
                let dims = self.pair_dims(t, s);
                let mine = &mut self.terms[t].pairs[s];
                mine.prepare(dims, pair.npairs());
                pair.for_each(|lt, ls, block| {
                    let (gt, gs) = (maps[t][lt as usize], maps[s][ls as usize]);
                    add_into(mine.block_mut(gt, gs, dims.size()), block);
                });
                mine.settle(dims);
            }
        }
        Ok(())
    }
}

/// a += b elementwise.
pub(crate) fn add_into(a: &mut [Sum2], b: &[Sum2]) {
    a.iter_mut().zip(b).for_each(|(x, y)| x.add_sum(*y));
}

/// a += hi + lo elementwise (a chunk's sums in two parts, see
/// [`crate::blocks::Structure::fill_a_compensated`]).
pub(crate) fn add_parts(a: &mut [Sum2], hi: &[f64], lo: &[f64]) {
    a.iter_mut()
        .zip(hi.iter().zip(lo))
        .for_each(|(x, (&h, &l))| x.add_sum(Sum2::new(h, l)));
}
