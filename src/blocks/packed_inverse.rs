//! The inverse of L Lᵀ from a packed Cholesky factor L, in place: the
//! lower triangle of Z = L⁻ᵀ L⁻¹ overwrites L's ([`PackedLower`]), so the
//! dense trailing part of the selected inverse (`selected_inverse`) takes
//! the packed size and no square copy of L or of Z is made.
//!
//! # Recurrence
//!
//! Split a lower-triangular L into halves, L = [a 0; b c]. Its inverse is
//! M = [a⁻¹ 0; B c⁻¹] with B = −c⁻¹ b a⁻¹, and Z = Mᵀ M has the lower
//! triangle
//!
//! * Z₁₁ = a⁻ᵀ a⁻¹ + Bᵀ B,
//! * Z₂₁ = c⁻ᵀ B,
//! * Z₂₂ = c⁻ᵀ c⁻¹,
//!
//! which are formed in place in this order: b ← c⁻¹ b a⁻¹ (two triangular
//! solves; b is now −B), a ← a⁻ᵀ a⁻¹ (recursion), a ← a + bᵀ b (lower
//! triangle), b ← −c⁻ᵀ b (a triangular solve), c ← c⁻ᵀ c⁻¹ (recursion). At
//! the top the halves are the packed array's T₁, S and T₂; pieces of at most
//! [`INVERSE_BASE`] rows go to faer's dense inverse through a square scratch
//! copy. About 2n³/3 flops, as the dense inverse, all in faer's blocked
//! kernels; every step reads and writes the lower triangles only (the two
//! triangles of the packed array share a bounding box).

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::cholesky::llt::inverse::{inverse, inverse_scratch};
use faer::linalg::matmul::triangular::BlockStructure;
use faer::linalg::triangular_solve::{
    solve_lower_triangular_in_place, solve_upper_triangular_in_place,
};
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, MatMut, Par};

use super::kernels::par_for;
use super::PackedLower;

/// Pieces of at most this many rows are inverted by faer's dense kernel in
/// square scratch (2 × 256² values, 1 MiB).
const INVERSE_BASE: usize = 256;

/// Bytes of the scratch [`PackedLower::cholesky_inverse_in_place`]
/// allocates for an n × n block (square copies of the base-case pieces).
pub fn inverse_scratch_bytes(n: usize) -> usize {
    let b = n.div_ceil(2).min(INVERSE_BASE);
    StackReq::new::<f64>(2 * b * b)
        .and(inverse_scratch::<f64>(b, Par::Seq))
        .unaligned_bytes_required()
}

impl PackedLower {
    /// Overwrite this Cholesky factor L (lower triangle) with the lower
    /// triangle of (L Lᵀ)⁻¹ = L⁻ᵀ L⁻¹, in place (module docs); `par`: the
    /// parallelism of the large products and solves. L's diagonal must be
    /// non-zero (a factor from [`PackedLower::cholesky`]).
    pub fn cholesky_inverse_in_place(&mut self, par: Par) {
        let b = self.leading_dim().min(INVERSE_BASE);
        let req = StackReq::new::<f64>(2 * b * b).and(inverse_scratch::<f64>(b, par));
        let mut buf = MemBuffer::new(req);
        let stack = MemStack::new(&mut buf);
        let (t1, s, t2) = self.parts_mut();
        inverse_split(t1, s, t2, stack, par);
    }
}

/// Z = L⁻ᵀ L⁻¹ (lower triangle) in place for L = [a 0; b c] given as its
/// three pieces (module docs).
fn inverse_split(
    mut a: MatMut<'_, f64>,
    mut b: MatMut<'_, f64>,
    c: MatMut<'_, f64>,
    stack: &mut MemStack,
    par: Par,
) {
    let (n1, n2) = (a.nrows(), c.nrows());
    if n2 > 0 {
        // b ← c⁻¹ b, then b ← b a⁻¹ (aᵀ bᵀ = bᵀ).
        solve_lower_triangular_in_place(c.rb(), b.rb_mut(), par_for(n2 * n2 * n1, par));
        solve_upper_triangular_in_place(
            a.rb().transpose(),
            b.rb_mut().transpose_mut(),
            par_for(n1 * n1 * n2, par),
        );
    }
    inverse_lower(a.rb_mut(), stack, par);
    if n2 > 0 {
        // a ← a + bᵀ b on the lower triangle.
        faer::linalg::matmul::triangular::matmul(
            a.rb_mut(),
            BlockStructure::TriangularLower,
            Accum::Add,
            b.rb().transpose(),
            BlockStructure::Rectangular,
            b.rb(),
            BlockStructure::Rectangular,
            1.0,
            par_for(n1 * n1 * n2, par),
        );
        // b ← −c⁻ᵀ b.
        solve_upper_triangular_in_place(c.rb().transpose(), b.rb_mut(), par_for(n2 * n2 * n1, par));
        for j in 0..n1 {
            for i in 0..n2 {
                b[(i, j)] = -b[(i, j)];
            }
        }
        inverse_lower(c, stack, par);
    }
}

/// Z = m⁻ᵀ m⁻¹ (lower triangle) in place for a lower-triangular m: halves
/// through [`inverse_split`], or faer's dense inverse on a square copy up
/// to [`INVERSE_BASE`] rows.
fn inverse_lower(m: MatMut<'_, f64>, stack: &mut MemStack, par: Par) {
    let n = m.nrows();
    if n == 0 {
        return;
    }
    if n > INVERSE_BASE {
        let h = n / 2;
        let (top, bottom) = m.split_at_row_mut(h);
        let (a, _) = top.split_at_col_mut(h);
        let (b, c) = bottom.split_at_col_mut(h);
        inverse_split(a, b, c, stack, par);
        return;
    }
    let mut m = m;
    let (mut buf, stack) = stack.make_with::<f64>(2 * n * n, |_| 0.0);
    let (lbuf, zbuf) = buf.split_at_mut(n * n);
    let mut l = MatMut::from_column_major_slice_mut(lbuf, n, n);
    for j in 0..n {
        for i in j..n {
            l[(i, j)] = m[(i, j)];
        }
    }
    let mut z = MatMut::from_column_major_slice_mut(zbuf, n, n);
    inverse(z.rb_mut(), l.rb(), par_for(2 * n * n * n / 3, par), stack);
    for j in 0..n {
        for i in j..n {
            m[(i, j)] = z[(i, j)];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::linalg::cholesky::llt::factor::{cholesky_in_place, cholesky_in_place_scratch};
    use faer::Mat;
    use rand::{Rng, SeedableRng};

    /// The lower Cholesky factor of a random symmetric positive-definite matrix.
    fn random_factor(n: usize, rng: &mut impl Rng) -> Mat<f64> {
        let g = Mat::from_fn(n, n + 3, |_, _| rng.random::<f64>() - 0.5);
        let mut a = &g * g.transpose();
        for i in 0..n {
            a[(i, i)] += 0.5;
        }
        let mut buf = MemBuffer::new(cholesky_in_place_scratch::<f64>(
            n,
            Par::Seq,
            Default::default(),
        ));
        cholesky_in_place(
            a.as_mut(),
            Default::default(),
            Par::Seq,
            MemStack::new(&mut buf),
            Default::default(),
        )
        .unwrap();
        Mat::from_fn(n, n, |r, c| if r >= c { a[(r, c)] } else { 0.0 })
    }

    #[test]
    fn packed_inverse_matches_the_dense_inverse() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20261205);
        for n in [1, 2, 3, 64, 65, 257, 300, 600] {
            let l = random_factor(n, &mut rng);
            let mut want = Mat::<f64>::zeros(n, n);
            let mut buf = MemBuffer::new(inverse_scratch::<f64>(n, Par::Seq));
            inverse(want.as_mut(), l.as_ref(), Par::Seq, MemStack::new(&mut buf));
            let mut p = PackedLower::from_lower(l.as_ref());
            p.cholesky_inverse_in_place(Par::Seq);
            let got = p.to_dense();
            let scale = want.norm_max();
            for c in 0..n {
                for r in c..n {
                    assert!(
                        (got[(r, c)] - want[(r, c)]).abs() <= 1e-12 * scale,
                        "n={n} ({r},{c}): {} vs {}",
                        got[(r, c)],
                        want[(r, c)]
                    );
                }
            }
            // Columns read through `column` agree with `get`.
            for c in [0, n / 2, n - 1] {
                let (col, stride) = p.column(c);
                for r in c..n {
                    assert_eq!(col[(r - c) * stride], p.get(r, c));
                }
            }
        }
    }
}
