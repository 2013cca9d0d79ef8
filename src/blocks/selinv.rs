//! Quadratic forms wᵀ(L Lᵀ)⁻¹w for sparse w, as needed by the leverage of each
//! observation and the conditional variance of each random effect.
//!
//! The leading blocks of L (the diagonal or block-diagonal ones, "prefix" P)
//! are solved sparsely: a right-hand side with a few non-zeros stays sparse.
//! The trailing blocks (the first dense diagonal block onwards, plus the X
//! part of the last block, "trailing" T) are handled through M = L_TT⁻ᵀ L_TT⁻¹,
//! formed once, so that ‖L⁻¹w‖² = ‖x_P‖² + r_Tᵀ M r_T with r_T = w_T − L_TP x_P
//! costs O(nnz(r_T)²) per right-hand side instead of a dense solve.

use faer::{Mat, Par};

use super::{tri, Block};

/// Precomputed trailing inverse and scratch space for sparse quadratic forms.
pub struct SparseQuadratic {
    /// Start of each block in the stacked index space; the last block holds only
    /// the `p` fixed-effects rows (the response row is excluded).
    offsets: Vec<usize>,
    /// Number of random-effects blocks K.
    k: usize,
    /// First block of the trailing part.
    first: usize,
    /// M = L_TT⁻ᵀ L_TT⁻¹ over the trailing blocks (including the X part).
    m: Mat<f64>,
    /// Values of the current sparse vector (stacked index space).
    x: Vec<f64>,
    /// Generation stamp per index: an index is in use when its stamp is current.
    stamp: Vec<u32>,
    generation: u32,
    /// Indices in use, in insertion order.
    touched: Vec<usize>,
    /// Scratch: the trailing indices in use (reused across right-hand sides).
    trailing: Vec<usize>,
    /// Scratch of [`cross`](Self::cross): the first right-hand side's solution.
    first_solution: Vec<(usize, f64)>,
    /// Scratch of the prefix solve: the levels of a block in use.
    groups: Vec<usize>,
}

impl SparseQuadratic {
    /// Prepare for `l` with block sizes `sizes` (K random-effects blocks, then p).
    /// With `include_x = false` the X part is left out (for conditional variances).
    pub fn new(l: &[Block], sizes: &[usize], include_x: bool) -> Self {
        let k = sizes.len() - 1;
        let mut offsets = vec![0];
        for (j, s) in sizes.iter().enumerate() {
            let s = if j == k && !include_x { 0 } else { *s };
            offsets.push(offsets[j] + s);
        }
        let first = (0..k)
            .find(|&j| matches!(l[tri(j, j)], Block::Dense(_)))
            .unwrap_or(k);
        let t0 = offsets[first];
        let t = offsets[k + 1] - t0;
        // Dense L_TT from the trailing blocks (the X part without the response row).
        let mut ltt = Mat::<f64>::zeros(t, t);
        for i in first..=k {
            for j in first..=i {
                let (ri, cj) = (offsets[i] - t0, offsets[j] - t0);
                let (ni, nj) = (offsets[i + 1] - offsets[i], offsets[j + 1] - offsets[j]);
                let dense = super::to_dense(&l[tri(i, j)]);
                for c in 0..nj {
                    for r in 0..ni {
                        ltt[(ri + r, cj + c)] = dense[(r, c)];
                    }
                }
            }
        }
        let mut inv = Mat::<f64>::identity(t, t);
        faer::linalg::triangular_solve::solve_lower_triangular_in_place(
            ltt.as_ref(),
            inv.as_mut(),
            Par::Seq,
        );
        let m = inv.transpose() * &inv;
        let n = offsets[k + 1];
        SparseQuadratic {
            offsets,
            k,
            first,
            m,
            x: vec![0.0; n],
            stamp: vec![0; n],
            generation: 1,
            touched: Vec::new(),
            trailing: Vec::new(),
            first_solution: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// Offset of block `j` in the stacked index space.
    pub fn offset(&self, j: usize) -> usize {
        self.offsets[j]
    }

    /// Start a new right-hand side (all zero).
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

    /// Add `value` at stacked index `i`.
    pub fn add(&mut self, i: usize, value: f64) {
        if self.stamp[i] != self.generation {
            self.stamp[i] = self.generation;
            self.touched.push(i);
        }
        self.x[i] += value;
    }

    /// ‖L⁻¹w‖² for the right-hand side w built with [`add`](Self::add).
    /// `sizes_v` gives v (columns per level) of each random-effects block.
    pub fn norm2(&mut self, l: &[Block], sizes_v: &[usize]) -> f64 {
        self.forward_prefix(l, sizes_v);
        let t0 = self.offsets[self.first];
        let mut sum = 0.0;
        let mut trailing = std::mem::take(&mut self.trailing);
        trailing.clear();
        for &i in &self.touched {
            if i < t0 {
                sum += self.x[i] * self.x[i];
            } else {
                trailing.push(i);
            }
        }
        for &a in &trailing {
            let xa = self.x[a];
            if xa == 0.0 {
                continue;
            }
            let mut acc = 0.0;
            for &b in &trailing {
                acc += self.m[(a - t0, b - t0)] * self.x[b];
            }
            sum += xa * acc;
        }
        self.trailing = trailing;
        sum
    }

    /// Cross product (L⁻¹w₁)ᵀ(L⁻¹w₂) of two right-hand sides given as entry lists.
    pub fn cross(
        &mut self,
        l: &[Block],
        sizes_v: &[usize],
        w1: &[(usize, f64)],
        w2: &[(usize, f64)],
    ) -> f64 {
        // Solve w₁ and keep its entries; then solve w₂, whose entries stay
        // in `x` (with the indices in use in `touched`).
        self.solve_sparse(l, sizes_v, w1);
        let mut first = std::mem::take(&mut self.first_solution);
        first.clear();
        first.extend(self.touched.iter().map(|&i| (i, self.x[i])));
        self.solve_sparse(l, sizes_v, w2);
        let t0 = self.offsets[self.first];
        let mut sum = 0.0;
        for &(i, va) in &first {
            if i < t0 {
                // x holds w₂'s solution; indices it did not touch are zero.
                if self.stamp[i] == self.generation {
                    sum += va * self.x[i];
                }
            } else {
                for &j in self.touched.iter().filter(|&&j| j >= t0) {
                    sum += va * self.m[(i - t0, j - t0)] * self.x[j];
                }
            }
        }
        self.first_solution = first;
        sum
    }

    /// x_P and r_T for a right-hand side, left in `x` (indices in `touched`).
    fn solve_sparse(&mut self, l: &[Block], sizes_v: &[usize], w: &[(usize, f64)]) {
        self.clear();
        for &(i, v) in w {
            self.add(i, v);
        }
        self.forward_prefix(l, sizes_v);
    }

    /// Solve the prefix blocks in place and subtract L_TP x_P from the trailing part.
    fn forward_prefix(&mut self, l: &[Block], v: &[usize]) {
        for j in 0..self.first {
            let (oj, vj) = (self.offsets[j], v[j]);
            // Groups (levels) of block j in use, after the downdates from earlier blocks
            // (which were applied when those blocks were solved).
            let mut groups = std::mem::take(&mut self.groups);
            groups.clear();
            groups.extend(
                self.touched
                    .iter()
                    .filter(|&&i| i >= oj && i < self.offsets[j + 1])
                    .map(|&i| (i - oj) / vj),
            );
            groups.sort_unstable();
            groups.dedup();
            let Block::Diag(d) = &l[tri(j, j)] else {
                unreachable!("prefix blocks are diagonal")
            };
            for &g in &groups {
                // The solve writes every entry of the group: mark them all in use.
                for r in 0..vj {
                    self.add(oj + g * vj + r, 0.0);
                }
                let blk = d.block(g);
                for r in 0..vj {
                    let mut s = self.x[oj + g * vj + r];
                    for m in 0..r {
                        s -= blk[m * vj + r] * self.x[oj + g * vj + m];
                    }
                    self.x[oj + g * vj + r] = s / blk[r * vj + r];
                }
            }
            // Downdate every later block by L[i,j] x_j.
            for i in j + 1..=self.k {
                let (oi, ni) = (self.offsets[i], self.offsets[i + 1] - self.offsets[i]);
                if ni == 0 {
                    continue;
                }
                let vi = if i < self.k { v[i] } else { 1 };
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
                        Block::Diag(_) => unreachable!("off-diagonal blocks are never diagonal"),
                    }
                }
            }
            self.groups = groups;
        }
    }
}
