//! Sums whose value does not depend on the order of their terms: the
//! blocks of A are sums over rows, and a model built from the rows in
//! memory, from chunks streamed in any sizes, or from partitions summed as a
//! tree must hold the same A, bit for bit, or the fits part at the level of
//! the optimizer's rounding (on a 10M-row crossed model, 1e-10 in θ).
//!
//! [`Sum2`] keeps a running sum as an unevaluated pair hi + lo: each term is
//! added to hi by Knuth's TwoSum, whose rounding error is exact and goes to
//! lo. hi + lo is the exact sum of the terms to within about n·u² of Σ|x|
//! (u = 2⁻⁵³), far below the half unit in the last place at which the final
//! rounding [`Sum2::value`] decides; so any two orders of addition give the
//! same double unless the exact sum lies within that distance of a rounding
//! boundary. The products that make the terms are the same in every order.
//!
//! [`Accumulate`] lets A's kernels run with plain sums (PIRLS, which refills
//! A at every iteration and needs no agreement with another path) or
//! compensated ones (a model's A built once, and every streamed chunk).

use faer::{Accum, Mat, Par};

/// A running sum and the rounding error of its additions (see the module
/// documentation).
///
/// # Example
/// ```
/// use mixedmodels::blocks::Sum2;
///
/// let terms = [1e16, 1.0, -1e16, 1.0];
/// let mut s = Sum2::default();
/// terms.iter().for_each(|&x| s.add(x));
/// assert_eq!(s.value(), 2.0);
/// assert_eq!(terms.iter().sum::<f64>(), 1.0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sum2 {
    /// The rounded running sum.
    pub hi: f64,
    /// The rounding errors of the additions to `hi`, summed.
    pub lo: f64,
}

impl Sum2 {
    /// A sum whose parts are `hi` and `lo`.
    pub fn new(hi: f64, lo: f64) -> Self {
        Sum2 { hi, lo }
    }

    /// Add `x`.
    #[inline]
    pub fn add(&mut self, x: f64) {
        let s = self.hi + x;
        let v = s - self.hi;
        let e = (self.hi - (s - v)) + (x - v);
        self.hi = s;
        self.lo += e;
    }

    /// Add another sum.
    #[inline]
    pub fn add_sum(&mut self, other: Sum2) {
        self.add(other.hi);
        self.lo += other.lo;
    }

    /// The sum, rounded once.
    #[inline]
    pub fn value(self) -> f64 {
        self.hi + self.lo
    }
}

/// A sum that A's kernels accumulate into: plain `f64`, or [`Sum2`].
pub trait Accumulate: Copy + Default + Send + Sync {
    /// Add one term.
    fn add(&mut self, x: f64);
    /// Add another sum of the same kind.
    fn merge(&mut self, other: Self);
    /// The Gram matrix XᵀX of `x` (n × w), column-major w × w.
    fn gram(x: &Mat<f64>) -> Vec<Self>;
}

impl Accumulate for f64 {
    #[inline]
    fn add(&mut self, x: f64) {
        *self += x;
    }

    #[inline]
    fn merge(&mut self, other: Self) {
        *self += other;
    }

    fn gram(x: &Mat<f64>) -> Vec<f64> {
        let w = x.ncols();
        let mut g = Mat::<f64>::zeros(w, w);
        faer::linalg::matmul::matmul(
            g.as_mut(),
            Accum::Replace,
            x.transpose(),
            x.as_ref(),
            1.0,
            Par::Seq,
        );
        (0..w)
            .flat_map(|c| (0..w).map(move |r| (r, c)))
            .map(|(r, c)| g[(r, c)])
            .collect()
    }
}

impl Accumulate for Sum2 {
    #[inline]
    fn add(&mut self, x: f64) {
        Sum2::add(self, x);
    }

    #[inline]
    fn merge(&mut self, other: Self) {
        self.add_sum(other);
    }

    fn gram(x: &Mat<f64>) -> Vec<Sum2> {
        let (n, w) = (x.nrows(), x.ncols());
        let cols: Vec<&[f64]> = (0..w)
            .map(|c| x.col(c).try_as_col_major().unwrap().as_slice())
            .collect();
        // The lower triangle column by column, row after row of x: each
        // entry's terms in row order, and the additions of one row
        // independent of each other (they vectorize).
        let m = w * (w + 1) / 2;
        let (mut hi, mut lo, mut prod) = (vec![0.0; m], vec![0.0; m], vec![0.0; m]);
        let mut row = vec![0.0; w];
        for i in 0..n {
            row.iter_mut().zip(&cols).for_each(|(v, c)| *v = c[i]);
            let mut k = 0;
            for c in 0..w {
                for r in c..w {
                    prod[k] = row[r] * row[c];
                    k += 1;
                }
            }
            for ((h, l), &x) in hi.iter_mut().zip(lo.iter_mut()).zip(&prod) {
                let s = *h + x;
                let v = s - *h;
                *l += (*h - (s - v)) + (x - v);
                *h = s;
            }
        }
        let mut g = vec![Sum2::default(); w * w];
        let mut k = 0;
        for c in 0..w {
            for r in c..w {
                g[c * w + r] = Sum2::new(hi[k], lo[k]);
                g[r * w + c] = g[c * w + r];
                k += 1;
            }
        }
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Terms of mixed sign and size in a scrambled order.
    fn terms(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let x = ((i * 7919) % 1009) as f64 / 1009.0 - 0.3;
                x * 10f64.powi((i % 9) as i32 - 4)
            })
            .collect()
    }

    #[test]
    fn the_value_does_not_depend_on_the_order_or_grouping_of_the_terms() {
        let x = terms(100_000);
        let mut forward = Sum2::default();
        x.iter().for_each(|&v| forward.add(v));
        let mut backward = Sum2::default();
        x.iter().rev().for_each(|&v| backward.add(v));
        // In uneven chunks, each summed on its own and then merged.
        let mut chunked = Sum2::default();
        for part in x.chunks(7_331) {
            let mut s = Sum2::default();
            part.iter().for_each(|&v| s.add(v));
            chunked.add_sum(s);
        }
        assert_eq!(forward.value().to_bits(), backward.value().to_bits());
        assert_eq!(forward.value().to_bits(), chunked.value().to_bits());
        // Plain sums in the two orders differ.
        let plain_f: f64 = x.iter().sum();
        let plain_b: f64 = x.iter().rev().sum();
        assert_ne!(plain_f.to_bits(), plain_b.to_bits());
    }

    #[test]
    fn the_gram_matrices_agree() {
        let n = 1_000;
        let x = Mat::from_fn(n, 3, |i, j| ((i * (j + 3)) % 17) as f64 / 7.0 - 1.0);
        let plain = <f64 as Accumulate>::gram(&x);
        let comp = <Sum2 as Accumulate>::gram(&x);
        for (p, c) in plain.iter().zip(&comp) {
            assert!((p - c.value()).abs() <= 1e-12 * p.abs().max(1.0));
        }
    }
}
