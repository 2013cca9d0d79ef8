//! Squared norms ‖L_Z⁻¹w‖² of many sparse vectors w over the random-effects
//! rows of the blocked factor (L_Z: its leading K block rows and columns),
//! one per observation for the derivative of log|L_Z|² with respect to the
//! observations' weights.
//!
//! L_Z splits into a prefix P of block-diagonal blocks, solved sparsely, and
//! a dense trailing part T, from the first dense diagonal block on:
//! L_Z⁻¹w = [x_P; L_TT⁻¹(w_T − L_TP x_P)] with x_P = L_PP⁻¹w_P. With
//! E = L_TT⁻¹ and F = L_TT⁻¹L_TP formed once, the trailing part is
//! Σ_b w_b E e_b − Σ_j x_j F e_j: t operations per non-zero of w_T and of
//! x_P (t = |T|), where [`SparseQuadratic`](super::SparseQuadratic) spends t²
//! on the dense trailing quadratic form. F holds t·|P| values, so the
//! constructor declines when that exceeds a limit.

use faer::{Mat, Par};

use super::sparse_rhs::SparseRhs;
use super::{to_dense, tri, Block};

/// Precomputed trailing solves and scratch space for ‖L_Z⁻¹w‖².
pub struct RowNorms {
    /// Start of each random-effects block in the stacked index space (K + 1).
    offsets: Vec<usize>,
    /// First block of the trailing part (K when there is none).
    first: usize,
    /// E = L_TT⁻¹, t × t (lower triangular).
    e: Mat<f64>,
    /// F = L_TT⁻¹ L_TP, t × |P|.
    f: Mat<f64>,
    /// The prefix part of the current vector.
    rhs: SparseRhs,
    /// Trailing entries of the current vector (index within T, value).
    trailing: Vec<(usize, f64)>,
    /// Scratch: the trailing part of L_Z⁻¹w.
    y: Vec<f64>,
}

impl RowNorms {
    /// Prepare for the leading `sizes.len()` blocks of `l` (the random-effects
    /// blocks, of sizes `sizes`); None when E and F together would hold more
    /// than `max_entries` values.
    pub fn new(l: &[Block], sizes: &[usize], max_entries: usize, par: Par) -> Option<Self> {
        let k = sizes.len();
        let mut offsets = vec![0];
        for s in sizes {
            offsets.push(offsets.last().unwrap() + s);
        }
        let first = (0..k).find(|&j| l[tri(j, j)].is_dense()).unwrap_or(k);
        let (np, t) = (offsets[first], offsets[k] - offsets[first]);
        if t.saturating_mul(t + np) > max_entries {
            return None;
        }
        // Dense L_TT and L_TP from the blocks.
        let mut ltt = Mat::<f64>::zeros(t, t);
        let mut f = Mat::<f64>::zeros(t, np);
        for i in first..k {
            let ri = offsets[i] - np;
            for j in 0..=i {
                let dense = to_dense(&l[tri(i, j)]);
                let (dst, cj) = if j < first {
                    (&mut f, offsets[j])
                } else {
                    (&mut ltt, offsets[j] - np)
                };
                for c in 0..dense.ncols() {
                    for r in 0..dense.nrows() {
                        dst[(ri + r, cj + c)] = dense[(r, c)];
                    }
                }
            }
        }
        let mut e = Mat::<f64>::identity(t, t);
        faer::linalg::triangular_solve::solve_lower_triangular_in_place(
            ltt.as_ref(),
            e.as_mut(),
            par,
        );
        faer::linalg::triangular_solve::solve_lower_triangular_in_place(
            ltt.as_ref(),
            f.as_mut(),
            par,
        );
        Some(RowNorms {
            offsets,
            first,
            e,
            f,
            rhs: SparseRhs::new(np),
            trailing: Vec::new(),
            y: vec![0.0; t],
        })
    }

    /// Offset of block `j` in the stacked index space.
    pub fn offset(&self, j: usize) -> usize {
        self.offsets[j]
    }

    /// Start a new vector (all zero).
    pub fn clear(&mut self) {
        self.rhs.clear();
        self.trailing.clear();
    }

    /// Add `value` at stacked index `i`.
    pub fn add(&mut self, i: usize, value: f64) {
        let np = self.offsets[self.first];
        if i >= np {
            self.trailing.push((i - np, value));
            return;
        }
        self.rhs.add(i, value);
    }

    /// ‖L_Z⁻¹w‖² for the vector w built with [`add`](Self::add); `v` gives
    /// the columns per level of each random-effects block.
    pub fn norm2(&mut self, l: &[Block], v: &[usize]) -> f64 {
        self.solve_prefix(l, v);
        let mut sum: f64 = self
            .rhs
            .touched()
            .iter()
            .map(|&i| self.rhs.value(i) * self.rhs.value(i))
            .sum();
        if self.y.is_empty() {
            return sum;
        }
        self.y.iter_mut().for_each(|y| *y = 0.0);
        for &(b, wb) in &self.trailing {
            // E is lower triangular: column b starts at row b.
            let col = self.e.col(b);
            for r in b..self.y.len() {
                self.y[r] += wb * col[r];
            }
        }
        for &j in self.rhs.touched() {
            let xj = self.rhs.value(j);
            if xj == 0.0 {
                continue;
            }
            let col = self.f.col(j);
            for (r, y) in self.y.iter_mut().enumerate() {
                *y -= xj * col[r];
            }
        }
        sum += self.y.iter().map(|y| y * y).sum::<f64>();
        sum
    }

    /// x_P ← L_PP⁻¹ x_P in place, level by level of each prefix block,
    /// downdating the later prefix blocks (the trailing part is handled
    /// through F).
    fn solve_prefix(&mut self, l: &[Block], v: &[usize]) {
        let first = self.first;
        self.rhs
            .forward_prefix(l, &self.offsets, v, first, first, first);
    }
}
