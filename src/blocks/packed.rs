//! Dense symmetric diagonal blocks of L in rectangular full packed form.
//!
//! A crossed grouping factor's diagonal block of L fills in completely, but
//! only its lower triangle carries values. [`PackedLower`] stores that
//! triangle in about n(n+1)/2 numbers instead of n², in the rectangular full
//! packed arrangement of LAPACK's `?pftrf` (Gustavson et al. 2010) adapted to
//! one layout for even and odd n: with n₁ = ⌈n/2⌉ and n₂ = ⌊n/2⌋ the block is
//!
//! ```text
//!     [ T₁  0  ]      T₁: n₁ × n₁ lower triangle,
//!     [ S   T₂ ]      S:  n₂ × n₁ rectangle,   T₂: n₂ × n₂ lower triangle,
//! ```
//!
//! held in one column-major (n + 1) × n₁ array: T₂ transposed (an upper
//! triangle) in rows 0..n₂, T₁ in rows 1..n₁+1 below it — the two triangles
//! interleave without overlapping — and S in rows n₁+1..n+1. Every piece is
//! a strided `faer` view, so the Cholesky factorisation is two half-size
//! dense factorisations plus one triangular solve and one symmetric rank
//! update on the rectangle, all faer's blocked kernels; the solves and the
//! downdates split the same way. Column c < n₁ of the triangle is contiguous
//! (rows c..n of array column c); the kernels rely on that for the scattered
//! downdates of crossed factors.

use faer::dyn_stack::{MemStack, StackReq};
use faer::linalg::cholesky::llt::factor::{
    cholesky_in_place, cholesky_in_place_scratch, LltError, LltRegularization,
};
use faer::linalg::matmul::triangular::BlockStructure;
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatMut, MatRef, Par};

use super::kernels::par_for;
use super::BlockSparse;

/// Dense diagonal blocks of L with at least this many rows are stored
/// packed; smaller ones stay square (the saving is a few kilobytes, and the
/// square form is one faer call per kernel).
pub const PACKED_MIN_DIM: usize = 64;

/// The lower triangle of a symmetric (or lower-triangular) n × n matrix in
/// rectangular full packed form (module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct PackedLower {
    n: usize,
    n1: usize,
    /// Leading dimension of the array: n + 1.
    ld: usize,
    /// `(n + 1) * n1` values, column-major.
    data: Vec<f64>,
}

impl PackedLower {
    /// An n × n lower triangle of zeros.
    pub fn zeros(n: usize) -> Self {
        let n1 = n.div_ceil(2);
        PackedLower {
            n,
            n1,
            ld: n + 1,
            data: vec![0.0; (n + 1) * n1],
        }
    }

    /// The lower triangle of a square matrix (its upper triangle is ignored).
    pub fn from_lower(m: MatRef<'_, f64>) -> Self {
        assert_eq!(m.nrows(), m.ncols(), "a packed block is square");
        let mut p = PackedLower::zeros(m.nrows());
        for c in 0..p.n {
            for r in c..p.n {
                let i = p.index(r, c);
                p.data[i] = m[(r, c)];
            }
        }
        p
    }

    /// Number of values an n × n block stores: (n + 1)⌈n/2⌉.
    pub fn stored_len_for(n: usize) -> usize {
        (n + 1) * n.div_ceil(2)
    }

    /// Number of rows (= columns) n.
    pub fn dim(&self) -> usize {
        self.n
    }

    /// Rows of the leading triangle T₁ (the largest dense factorisation).
    pub fn leading_dim(&self) -> usize {
        self.n1
    }

    /// Number of stored values (about n(n+1)/2).
    pub fn stored_len(&self) -> usize {
        self.data.len()
    }

    /// Position of entry (r, c), r ≥ c, in the array.
    #[inline]
    fn index(&self, r: usize, c: usize) -> usize {
        debug_assert!(r >= c && r < self.n);
        if c < self.n1 {
            c * self.ld + 1 + r
        } else {
            (r - self.n1) * self.ld + (c - self.n1)
        }
    }

    /// Entry (r, c) of the lower triangle, r ≥ c.
    #[inline]
    pub fn get(&self, r: usize, c: usize) -> f64 {
        self.data[self.index(r, c)]
    }

    /// Entry (r, c) of the lower triangle, r ≥ c, mutable.
    #[inline]
    pub fn get_mut(&mut self, r: usize, c: usize) -> &mut f64 {
        let i = self.index(r, c);
        &mut self.data[i]
    }

    /// Column c of the lower triangle from its diagonal down: entry (r, c),
    /// r ≥ c, is `slice[(r - c) * stride]`. Columns c < n₁ are contiguous
    /// (stride 1); the later ones lie along a row of the array (stride n + 1).
    #[inline]
    pub fn column(&self, c: usize) -> (&[f64], usize) {
        if c < self.n1 {
            (&self.data[c * self.ld + 1 + c..], 1)
        } else {
            let k = c - self.n1;
            (&self.data[k * self.ld + k..], self.ld)
        }
    }

    /// Set every value to zero.
    pub fn fill_zero(&mut self) {
        self.data.fill(0.0);
    }

    /// The square matrix with this lower triangle and zeros above it.
    pub fn to_dense(&self) -> Mat<f64> {
        let mut m = Mat::zeros(self.n, self.n);
        self.copy_lower_into(m.as_mut());
        m
    }

    /// Write the lower triangle into `dst` (n × n); its upper triangle is
    /// left as it is.
    pub fn copy_lower_into(&self, mut dst: MatMut<'_, f64>) {
        for c in 0..self.n {
            for r in c..self.n {
                dst[(r, c)] = self.get(r, c);
            }
        }
    }

    /// Views of T₁ (n₁ × n₁), S (n₂ × n₁) and T₂ (n₂ × n₂); only the lower
    /// triangles of T₁ and T₂ are theirs.
    pub fn parts(&self) -> (MatRef<'_, f64>, MatRef<'_, f64>, MatRef<'_, f64>) {
        let (n1, n2, ld) = (self.n1, self.n - self.n1, self.ld as isize);
        let p = self.data.as_ptr();
        // SAFETY: each view lies inside `data` ((n + 1) × n₁ column-major:
        // T₁ rows 1..n₁+1, S rows n₁+1..n+1, T₂ᵀ rows 0..n₂ ≤ n₁, columns < n₁).
        unsafe {
            (
                MatRef::from_raw_parts(p.add(1), n1, n1, 1, ld),
                MatRef::from_raw_parts(p.add(1 + n1), n2, n1, 1, ld),
                MatRef::from_raw_parts(p, n2, n2, ld, 1),
            )
        }
    }

    /// Mutable views of T₁, S and T₂ as in [`PackedLower::parts`]. T₁ and T₂
    /// share their bounding box: callers write only their lower triangles
    /// (faer's Cholesky, triangular products with a lower-triangular
    /// destination and triangular solves read and write nothing else).
    pub(super) fn parts_mut(&mut self) -> (MatMut<'_, f64>, MatMut<'_, f64>, MatMut<'_, f64>) {
        let (n1, n2, ld) = (self.n1, self.n - self.n1, self.ld as isize);
        let p = self.data.as_mut_ptr();
        // SAFETY: as in `parts`; S is disjoint from both triangles, and the
        // lower triangles of T₁ (array rows > columns) and T₂ (its transpose
        // in array rows ≤ columns) are disjoint.
        unsafe {
            (
                MatMut::from_raw_parts_mut(p.add(1), n1, n1, 1, ld),
                MatMut::from_raw_parts_mut(p.add(1 + n1), n2, n1, 1, ld),
                MatMut::from_raw_parts_mut(p, n2, n2, ld, 1),
            )
        }
    }

    /// Σ log of the diagonal (of a factored block: half its log-determinant).
    pub fn log_diag_sum(&self) -> f64 {
        (0..self.n).map(|i| self.get(i, i).ln()).sum()
    }

    /// Factor in place: L Lᵀ of the symmetric matrix whose lower triangle
    /// this holds. `stack` must hold [`llt_scratch`] of n₁ rows.
    /// Err(index) names the first non-positive pivot.
    pub fn cholesky(&mut self, stack: &mut MemStack, par: Par) -> Result<(), usize> {
        let n1 = self.n1;
        let (mut t1, mut s, mut t2) = self.parts_mut();
        llt(t1.rb_mut(), stack, par)?;
        // S ← S T₁⁻ᵀ  (S T₁ᵀ-solve as T₁ Sᵀ = Sᵀ).
        let p = par_for(s.nrows() * n1 * n1, par);
        faer::linalg::triangular_solve::solve_lower_triangular_in_place(
            t1.rb(),
            s.rb_mut().transpose_mut(),
            p,
        );
        // T₂ ← T₂ − S Sᵀ (lower triangle).
        syrk_lower(t2.rb_mut(), s.rb(), par);
        llt(t2, stack, par).map_err(|i| n1 + i)
    }

    /// self ← self − X Xᵀ (lower triangle) for a dense n × m block X.
    pub fn rank_update_dense(&mut self, x: MatRef<'_, f64>, par: Par) {
        let n1 = self.n1;
        let (x1, x2) = x.split_at_row(n1);
        let (t1, mut s, t2) = self.parts_mut();
        syrk_lower(t1, x1, par);
        let p = par_for(s.nrows() * s.ncols() * x.ncols(), par);
        faer::linalg::matmul::matmul(s.rb_mut(), Accum::Add, x2, x1.transpose(), -1.0, p);
        syrk_lower(t2, x2, par);
    }

    /// self ← self − X Xᵀ (lower triangle) for a block-sparse X whose block
    /// rows are this block's levels (the downdate by a nested or crossed
    /// earlier term).
    pub fn rank_update_sparse(&mut self, x: &BlockSparse) {
        let (vr, vm) = (x.vr, x.vc);
        for c in 0..x.ncol_blocks {
            let (s, e) = (x.colptr[c], x.colptr[c + 1]);
            if vr == 1 && vm == 1 {
                // Scalar blocks, rows sorted: the pairs (k1 ≥ k2) of a column.
                // Rows before `mid` fall in T₁ and S, the others in T₂.
                let mid = s + x.rowidx[s..e].partition_point(|&r| (r as usize) < self.n1);
                for k2 in s..mid {
                    // Column r2 of the triangle is contiguous.
                    let base = x.rowidx[k2] as usize * self.ld + 1;
                    let b2 = x.data[k2];
                    for k1 in k2..e {
                        let r1 = x.rowidx[k1] as usize;
                        self.data[base + r1] -= x.data[k1] * b2;
                    }
                }
                for k1 in mid..e {
                    // T₂ is stored transposed: its row r1 is row r1 − n₁ of
                    // the array, contiguous in the column.
                    let row = &mut self.data[(x.rowidx[k1] as usize - self.n1) * self.ld..];
                    let b1 = x.data[k1];
                    for k2 in mid..=k1 {
                        let r2 = x.rowidx[k2] as usize - self.n1;
                        row[r2] -= b1 * x.data[k2];
                    }
                }
                continue;
            }
            for k1 in s..e {
                let r1 = x.rowidx[k1] as usize;
                let b1 = x.block(k1);
                for k2 in s..=k1 {
                    let r2 = x.rowidx[k2] as usize;
                    let b2 = x.block(k2);
                    for cc in 0..vr {
                        for rr in 0..vr {
                            let (row, col) = (r1 * vr + rr, r2 * vr + cc);
                            if row < col {
                                continue;
                            }
                            let mut acc = 0.0;
                            for m in 0..vm {
                                acc += b1[m * vr + rr] * b2[m * vr + cc];
                            }
                            *self.get_mut(row, col) -= acc;
                        }
                    }
                }
            }
        }
    }

    /// d ← d L⁻ᵀ for this factored block L (d has n columns):
    /// x₁ = d₁ T₁⁻ᵀ, then x₂ = (d₂ − x₁ Sᵀ) T₂⁻ᵀ.
    pub fn rdiv_lt(&self, d: MatMut<'_, f64>, par: Par) {
        let (t1, s, t2) = self.parts();
        let (mut d1, mut d2) = d.split_at_col_mut(self.n1);
        let rows = d1.nrows();
        faer::linalg::triangular_solve::solve_lower_triangular_in_place(
            t1,
            d1.rb_mut().transpose_mut(),
            par_for(rows * self.n1 * self.n1, par),
        );
        faer::linalg::matmul::matmul(
            d2.rb_mut(),
            Accum::Add,
            d1.rb(),
            s.transpose(),
            -1.0,
            par_for(rows * s.nrows() * s.ncols(), par),
        );
        faer::linalg::triangular_solve::solve_lower_triangular_in_place(
            t2,
            d2.transpose_mut(),
            par_for(rows * t2.nrows() * t2.nrows(), par),
        );
    }

    /// x ← L⁻¹ x, or L⁻ᵀ x when `transposed`, for this factored block L.
    pub fn solve_in_place(&self, x: MatMut<'_, f64>, transposed: bool, par: Par) {
        let (t1, s, t2) = self.parts();
        let (mut x1, mut x2) = x.split_at_row_mut(self.n1);
        if transposed {
            faer::linalg::triangular_solve::solve_upper_triangular_in_place(
                t2.transpose(),
                x2.rb_mut(),
                par,
            );
            faer::linalg::matmul::matmul(
                x1.rb_mut(),
                Accum::Add,
                s.transpose(),
                x2.rb(),
                -1.0,
                par,
            );
            faer::linalg::triangular_solve::solve_upper_triangular_in_place(
                t1.transpose(),
                x1,
                par,
            );
        } else {
            faer::linalg::triangular_solve::solve_lower_triangular_in_place(t1, x1.rb_mut(), par);
            faer::linalg::matmul::matmul(x2.rb_mut(), Accum::Add, s, x1.rb(), -1.0, par);
            faer::linalg::triangular_solve::solve_lower_triangular_in_place(t2, x2, par);
        }
    }
}

/// Diagonal pieces of at most this many rows are factored by faer's dense
/// Cholesky in a square scratch copy; larger ones are split in two (module
/// docs). faer's kernel uses the strict upper triangle of its argument as
/// scratch, which inside the packed array holds the other triangle.
const LLT_BASE: usize = 256;

/// Scratch for [`PackedLower::cholesky`] (and [`llt`]) of an n × n block.
pub(super) fn llt_scratch(n: usize, par: Par) -> StackReq {
    let b = n.min(LLT_BASE);
    StackReq::new::<f64>(b * b).and(cholesky_in_place_scratch::<f64>(b, par, Default::default()))
}

/// Lower Cholesky factor in place, reading and writing only the lower
/// triangle of `m`: recursive halving (factor, triangular solve, symmetric
/// downdate, factor) down to [`LLT_BASE`] rows, where faer's blocked kernel
/// runs on a square copy. Err(index) names the first non-positive pivot.
fn llt(mut m: MatMut<'_, f64>, stack: &mut MemStack, par: Par) -> Result<(), usize> {
    let n = m.nrows();
    if n <= LLT_BASE {
        let (mut buf, stack) = stack.make_with::<f64>(n * n, |_| 0.0);
        let mut sq = MatMut::from_column_major_slice_mut(&mut buf, n, n);
        for c in 0..n {
            for r in c..n {
                sq[(r, c)] = m[(r, c)];
            }
        }
        cholesky_in_place(
            sq.rb_mut(),
            LltRegularization::default(),
            par_for(n * n * n / 3, par),
            stack,
            Default::default(),
        )
        .map_err(|e| match e {
            LltError::NonPositivePivot { index } => index,
        })?;
        for c in 0..n {
            for r in c..n {
                m[(r, c)] = sq[(r, c)];
            }
        }
        return Ok(());
    }
    let h = n / 2;
    let (top, bottom) = m.split_at_row_mut(h);
    let (mut a11, _) = top.split_at_col_mut(h);
    let (mut a21, mut a22) = bottom.split_at_col_mut(h);
    llt(a11.rb_mut(), stack, par)?;
    let p = par_for(a21.nrows() * h * h, par);
    faer::linalg::triangular_solve::solve_lower_triangular_in_place(
        a11.rb(),
        a21.rb_mut().transpose_mut(),
        p,
    );
    syrk_lower(a22.rb_mut(), a21.rb(), par);
    llt(a22, stack, par).map_err(|i| h + i)
}

/// dst ← dst − x xᵀ on the lower triangle of dst.
fn syrk_lower(dst: MatMut<'_, f64>, x: MatRef<'_, f64>, par: Par) {
    let p = par_for(dst.nrows() * dst.nrows() * x.ncols(), par);
    faer::linalg::matmul::triangular::matmul(
        dst,
        BlockStructure::TriangularLower,
        Accum::Add,
        x,
        BlockStructure::Rectangular,
        x.transpose(),
        BlockStructure::Rectangular,
        -1.0,
        p,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::dyn_stack::MemBuffer;
    use rand::{Rng, SeedableRng};

    /// A random symmetric positive-definite n × n matrix.
    fn random_spd(n: usize, rng: &mut impl Rng) -> Mat<f64> {
        let g = Mat::from_fn(n, n + 3, |_, _| rng.random::<f64>() - 0.5);
        let mut a = &g * g.transpose();
        for i in 0..n {
            a[(i, i)] += 0.5;
        }
        a
    }

    fn square_cholesky(a: &Mat<f64>) -> Mat<f64> {
        let n = a.nrows();
        let mut l = a.clone();
        let mut buf = MemBuffer::new(cholesky_in_place_scratch::<f64>(
            n,
            Par::Seq,
            Default::default(),
        ));
        faer::linalg::cholesky::llt::factor::cholesky_in_place(
            l.as_mut(),
            LltRegularization::default(),
            Par::Seq,
            MemStack::new(&mut buf),
            Default::default(),
        )
        .unwrap();
        Mat::from_fn(n, n, |r, c| if r >= c { l[(r, c)] } else { 0.0 })
    }

    fn max_rel(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> f64 {
        let scale = b.norm_max().max(1.0);
        (a - b).norm_max() / scale
    }

    #[test]
    fn layout_round_trips_and_halves_storage() {
        for n in [1, 2, 3, 7, 8, 65] {
            let m = Mat::from_fn(n, n, |r, c| (r * 1000 + c) as f64);
            let p = PackedLower::from_lower(m.as_ref());
            let back = p.to_dense();
            for c in 0..n {
                for r in 0..n {
                    let want = if r >= c { m[(r, c)] } else { 0.0 };
                    assert_eq!(back[(r, c)], want, "n={n} ({r},{c})");
                }
            }
            assert!(p.stored_len() <= n * (n + 1) / 2 + n.div_ceil(2));
        }
    }

    #[test]
    fn packed_cholesky_and_solves_match_square() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20261205);
        for n in [1, 2, 5, 16, 63, 64, 97, 130, 600] {
            let a = random_spd(n, &mut rng);
            let want = square_cholesky(&a);
            let mut p = PackedLower::from_lower(a.as_ref());
            let mut buf = MemBuffer::new(llt_scratch(p.leading_dim(), Par::Seq));
            p.cholesky(MemStack::new(&mut buf), Par::Seq).unwrap();
            assert!(
                max_rel(p.to_dense().as_ref(), want.as_ref()) < 1e-12,
                "n={n}"
            );
            let logdet: f64 = (0..n).map(|i| want[(i, i)].ln()).sum();
            assert!((p.log_diag_sum() - logdet).abs() <= 1e-12 * logdet.abs().max(1.0));

            // L x = b and Lᵀ x = b.
            let b = Mat::from_fn(n, 3, |_, _| rng.random::<f64>() - 0.5);
            for transposed in [false, true] {
                let mut x = b.clone();
                p.solve_in_place(x.as_mut(), transposed, Par::Seq);
                let back = if transposed {
                    want.transpose() * &x
                } else {
                    &want * &x
                };
                assert!(
                    max_rel(back.as_ref(), b.as_ref()) < 1e-10,
                    "n={n} {transposed}"
                );
            }
            // d L⁻ᵀ.
            let d = Mat::from_fn(4, n, |_, _| rng.random::<f64>() - 0.5);
            let mut x = d.clone();
            p.rdiv_lt(x.as_mut(), Par::Seq);
            let back = &x * want.transpose();
            assert!(max_rel(back.as_ref(), d.as_ref()) < 1e-10, "n={n}");
        }
    }

    #[test]
    fn first_non_positive_pivot_is_reported_as_in_the_square_form() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for (n, bad) in [(9, 2), (9, 7), (600, 40), (600, 280), (600, 450)] {
            let mut a = random_spd(n, &mut rng);
            // Make the leading (bad + 1) × (bad + 1) minor singular-ish and negative.
            a[(bad, bad)] = -1.0;
            let mut p = PackedLower::from_lower(a.as_ref());
            let mut buf = MemBuffer::new(llt_scratch(p.leading_dim(), Par::Seq));
            assert_eq!(
                p.cholesky(MemStack::new(&mut buf), Par::Seq),
                Err(bad),
                "n={n}"
            );
        }
    }

    #[test]
    fn rank_updates_match_square() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for n in [3, 10, 33] {
            let a = random_spd(n, &mut rng);
            let x = Mat::from_fn(n, 4, |_, _| rng.random::<f64>() - 0.5);
            let mut p = PackedLower::from_lower(a.as_ref());
            p.rank_update_dense(x.as_ref(), Par::Seq);
            let want = &a - &x * x.transpose();
            let want = PackedLower::from_lower(want.as_ref()).to_dense();
            assert!(max_rel(p.to_dense().as_ref(), want.as_ref()) < 1e-14);

            // A block-sparse X of scalar and of 2 × 2 blocks: compare with its dense form.
            for v in [1, 2] {
                let levels = n / v;
                let mut colptr = vec![0];
                let mut rowidx = Vec::new();
                for _ in 0..5 {
                    for r in 0..levels {
                        if rng.random::<f64>() < 0.4 {
                            rowidx.push(r as u32);
                        }
                    }
                    colptr.push(rowidx.len());
                }
                let data: Vec<f64> = (0..rowidx.len() * v * v)
                    .map(|_| rng.random::<f64>() - 0.5)
                    .collect();
                let s = BlockSparse {
                    vr: v,
                    vc: v,
                    nrow_blocks: levels,
                    ncol_blocks: 5,
                    colptr,
                    rowidx,
                    data,
                };
                let xs = super::super::to_dense(&super::super::Block::Sparse(s.clone()));
                let m = levels * v;
                let a_m = a.as_ref().submatrix(0, 0, m, m).to_owned();
                let mut p = PackedLower::from_lower(a_m.as_ref());
                p.rank_update_sparse(&s);
                let want = &a_m - &xs * xs.transpose();
                let want = PackedLower::from_lower(want.as_ref()).to_dense();
                assert!(
                    max_rel(p.to_dense().as_ref(), want.as_ref()) < 1e-14,
                    "v={v}"
                );
            }
        }
    }
}
