//! A sparse right-hand side over the stacked rows of L and its forward solve
//! through the leading block-diagonal blocks ("prefix" P): the scratch and
//! the solve that [`SparseQuadratic`](super::SparseQuadratic) and
//! [`RowNorms`](super::RowNorms) share. Entries are kept with generation
//! stamps, so that clearing costs the number of entries in use, not the
//! length of the vector.

use super::{tri, Block};

/// A sparse vector being solved with L, and its scratch.
pub(crate) struct SparseRhs {
    /// Values (stacked index space).
    x: Vec<f64>,
    /// Generation stamp per index: an index is in use when its stamp is current.
    stamp: Vec<u32>,
    generation: u32,
    /// Indices in use, in insertion order.
    touched: Vec<usize>,
    /// Scratch of the prefix solve: the levels of a block in use.
    groups: Vec<usize>,
}

impl SparseRhs {
    /// An all-zero vector of length `n`.
    pub fn new(n: usize) -> Self {
        SparseRhs {
            x: vec![0.0; n],
            stamp: vec![0; n],
            generation: 1,
            touched: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// Set every entry back to zero.
    pub fn clear(&mut self) {
        for &i in &self.touched {
            self.x[i] = 0.0;
        }
        self.touched.clear();
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.generation = 1;
        }
    }

    /// Add `value` at index `i`.
    pub fn add(&mut self, i: usize, value: f64) {
        if self.stamp[i] != self.generation {
            self.stamp[i] = self.generation;
            self.touched.push(i);
        }
        self.x[i] += value;
    }

    /// The value at index `i` (zero where none was added).
    pub fn value(&self, i: usize) -> f64 {
        self.x[i]
    }

    /// Is index `i` in use?
    pub fn is_set(&self, i: usize) -> bool {
        self.stamp[i] == self.generation
    }

    /// The indices in use, in insertion order.
    pub fn touched(&self) -> &[usize] {
        &self.touched
    }

    /// Solve the prefix blocks 0..`first` of `l` in place (x_P ← L_PP⁻¹x_P,
    /// level by level) and subtract L[i, j] x_j from the later blocks i <
    /// `end`. Block i starts at `offsets[i]`; `v[i]` is its columns per
    /// level for i < `k` (random-effects blocks), 1 beyond (the X rows).
    pub fn forward_prefix(
        &mut self,
        l: &[Block],
        offsets: &[usize],
        v: &[usize],
        k: usize,
        first: usize,
        end: usize,
    ) {
        for j in 0..first {
            let (oj, vj) = (offsets[j], v[j]);
            // Levels of block j in use, after the downdates from earlier
            // blocks (applied when those blocks were solved).
            let mut groups = std::mem::take(&mut self.groups);
            groups.clear();
            groups.extend(
                self.touched
                    .iter()
                    .filter(|&&i| i >= oj && i < offsets[j + 1])
                    .map(|&i| (i - oj) / vj),
            );
            groups.sort_unstable();
            groups.dedup();
            let Block::Diag(d) = &l[tri(j, j)] else {
                unreachable!("prefix blocks are block diagonal")
            };
            for &g in &groups {
                // The solve writes every entry of the level: mark them in use.
                for r in 0..vj {
                    self.add(oj + g * vj + r, 0.0);
                }
                let blk = d.block(g);
                let xs = &mut self.x[oj + g * vj..oj + (g + 1) * vj];
                for r in 0..vj {
                    let mut s = xs[r];
                    for m in 0..r {
                        s -= blk[m * vj + r] * xs[m];
                    }
                    xs[r] = s / blk[r * vj + r];
                }
            }
            for i in j + 1..end {
                let (oi, ni) = (offsets[i], offsets[i + 1] - offsets[i]);
                if ni == 0 {
                    continue;
                }
                let vi = if i < k { v[i] } else { 1 };
                for &g in &groups {
                    match &l[tri(i, j)] {
                        Block::Sparse(s) => {
                            for kk in s.colptr[g]..s.colptr[g + 1] {
                                let r = s.rowidx[kk] as usize;
                                let b = s.block(kk);
                                for rr in 0..vi {
                                    let mut acc = 0.0;
                                    for c in 0..vj {
                                        acc += b[c * vi + rr] * self.x[oj + g * vj + c];
                                    }
                                    self.add(oi + r * vi + rr, -acc);
                                }
                            }
                        }
                        Block::Dense(dm) => {
                            for r in 0..ni {
                                let mut acc = 0.0;
                                for c in 0..vj {
                                    acc += dm[(r, g * vj + c)] * self.x[oj + g * vj + c];
                                }
                                self.add(oi + r, -acc);
                            }
                        }
                        Block::Diag(_) | Block::Packed(_) => {
                            unreachable!("off-diagonal blocks are never diagonal or packed")
                        }
                    }
                }
            }
            self.groups = groups;
        }
    }
}
