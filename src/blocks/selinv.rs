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

use super::sparse_rhs::SparseRhs;
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
    /// The current sparse vector (stacked index space).
    rhs: SparseRhs,
    /// Scratch: the trailing indices in use (reused across right-hand sides).
    trailing: Vec<usize>,
    /// Scratch of [`cross`](Self::cross): the first right-hand side's solution.
    first_solution: Vec<(usize, f64)>,
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
        let first = (0..k).find(|&j| l[tri(j, j)].is_dense()).unwrap_or(k);
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
            rhs: SparseRhs::new(n),
            trailing: Vec::new(),
            first_solution: Vec::new(),
        }
    }

    /// Offset of block `j` in the stacked index space.
    pub fn offset(&self, j: usize) -> usize {
        self.offsets[j]
    }

    /// Start a new right-hand side (all zero).
    pub fn clear(&mut self) {
        self.rhs.clear();
    }

    /// Add `value` at stacked index `i`.
    pub fn add(&mut self, i: usize, value: f64) {
        self.rhs.add(i, value);
    }

    /// ‖L⁻¹w‖² for the right-hand side w built with [`add`](Self::add).
    /// `sizes_v` gives v (columns per level) of each random-effects block.
    pub fn norm2(&mut self, l: &[Block], sizes_v: &[usize]) -> f64 {
        self.forward_prefix(l, sizes_v);
        let t0 = self.offsets[self.first];
        let mut sum = 0.0;
        let mut trailing = std::mem::take(&mut self.trailing);
        trailing.clear();
        for &i in self.rhs.touched() {
            if i < t0 {
                sum += self.rhs.value(i) * self.rhs.value(i);
            } else {
                trailing.push(i);
            }
        }
        for &a in &trailing {
            let xa = self.rhs.value(a);
            if xa == 0.0 {
                continue;
            }
            let mut acc = 0.0;
            for &b in &trailing {
                acc += self.m[(a - t0, b - t0)] * self.rhs.value(b);
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
        // in `rhs`.
        self.solve_sparse(l, sizes_v, w1);
        let mut first = std::mem::take(&mut self.first_solution);
        first.clear();
        first.extend(self.rhs.touched().iter().map(|&i| (i, self.rhs.value(i))));
        self.solve_sparse(l, sizes_v, w2);
        let t0 = self.offsets[self.first];
        let mut sum = 0.0;
        for &(i, va) in &first {
            if i < t0 {
                // x holds w₂'s solution; indices it did not touch are zero.
                if self.rhs.is_set(i) {
                    sum += va * self.rhs.value(i);
                }
            } else {
                for &j in self.rhs.touched().iter().filter(|&&j| j >= t0) {
                    sum += va * self.m[(i - t0, j - t0)] * self.rhs.value(j);
                }
            }
        }
        self.first_solution = first;
        sum
    }

    /// x_P and r_T for a right-hand side, left in `rhs`.
    fn solve_sparse(&mut self, l: &[Block], sizes_v: &[usize], w: &[(usize, f64)]) {
        self.clear();
        for &(i, v) in w {
            self.add(i, v);
        }
        self.forward_prefix(l, sizes_v);
    }

    /// Solve the prefix blocks in place and subtract L_TP x_P from the trailing part.
    fn forward_prefix(&mut self, l: &[Block], v: &[usize]) {
        self.rhs
            .forward_prefix(l, &self.offsets, v, self.k, self.first, self.k + 1);
    }
}
