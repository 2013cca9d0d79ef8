//! The initial interpolation set and its model (Powell 2009, §2).
//!
//! Around a base point `x_b` the set holds `x_b`, a point at distance `ρ`
//! along each coordinate direction, a second one in the opposite direction
//! (or at `2ρ` on the same side when `x_b` is on a bound) along as many
//! coordinates as `npt` allows (all of them when `npt >= 2n + 1`), and for
//! `npt > 2n + 1` points displaced along two coordinates.  For this
//! layout the quadratic model and the inverse KKT matrix `H` of
//! least-Frobenius-norm interpolation are known in closed form.

use std::f64::consts::SQRT_2;

use super::model::{argmin, axpy, Mat, Model};

/// Layout of an initial interpolation set around a base point (report §2):
/// the base, one or two points along each coordinate direction, then points
/// displaced along two coordinates at once.
#[derive(Debug, Clone)]
pub(super) struct Design {
    /// First step along each coordinate and, for the first `npt − n − 1`
    /// coordinates, a second one of a different length or sign.
    steps: Vec<(f64, Option<f64>)>,
    /// Coordinate pairs `(p, q)` of the points `α_p e_p + α_q e_q`.
    pairs: Vec<(usize, usize)>,
    npt: usize,
}

impl Design {
    /// The layout for radius `rho`, given the bounds `sl <= 0 <= su` relative
    /// to the base.  The report's choice (steps `±ρ`, or `ρ, 2ρ` from a point
    /// on a bound) is made whenever the base is either on a bound or at least
    /// `ρ` from it, which the caller arranges for the first set; a restart from
    /// an arbitrary feasible point scales the steps to the room available.
    /// Requires `su_i − sl_i >= 2ρ` (report eq. (2.1)).
    pub(super) fn new(sl: &[f64], su: &[f64], rho: f64, npt: usize) -> Self {
        let n = sl.len();
        let steps = (0..n)
            .map(|i| {
                let (up, down) = (su[i], -sl[i]);
                let (a, b) = if up >= rho && down >= rho {
                    (rho, -rho)
                } else if up >= down {
                    (rho.min(0.5 * up), (2.0 * rho).min(up))
                } else {
                    (-rho.min(0.5 * down), -(2.0 * rho).min(down))
                };
                (a, (n + 1 + i < npt).then_some(b))
            })
            .collect();
        let pairs = pair_sequence(n, npt.saturating_sub(2 * n + 1));
        Design { steps, pairs, npt }
    }

    /// Number of points on the coordinate axes (including the base).
    pub(super) fn axis_points(&self) -> usize {
        self.npt.min(2 * self.steps.len() + 1)
    }

    /// Point `k` of the set, relative to the base.
    pub(super) fn point(&self, k: usize) -> Vec<f64> {
        let n = self.steps.len();
        let mut x = vec![0.0; n];
        if k == 0 {
        } else if k <= n {
            x[k - 1] = self.steps[k - 1].0;
        } else if k <= 2 * n {
            x[k - n - 1] = self.steps[k - n - 1].1.expect("second step exists");
        } else {
            let (p, q) = self.pairs[k - 2 * n - 1];
            x[p] = self.steps[p].0;
            x[q] = self.steps[q].0;
        }
        x
    }

    /// After the axis points are evaluated: where the two steps along a
    /// coordinate have opposite signs and the second gave the lower value,
    /// make it the first, so that the two-coordinate points (report §2) move
    /// in the better direction.  `f` holds the values of the axis points.
    pub(super) fn prefer_lower_values(&mut self, f: &mut [f64]) {
        let n = self.steps.len();
        for i in 0..n {
            if let (a, Some(b)) = self.steps[i] {
                if a * b < 0.0 && f[n + 1 + i] < f[i + 1] {
                    self.steps[i] = (b, Some(a));
                    f.swap(i + 1, n + 1 + i);
                }
            }
        }
    }
}

/// `count` distinct coordinate pairs, neighbours first (offset 1, then 2, …).
fn pair_sequence(n: usize, count: usize) -> Vec<(usize, usize)> {
    let mut pairs = Vec::with_capacity(count);
    for offset in 1..n {
        for p in 0..n {
            if pairs.len() == count {
                return pairs;
            }
            let q = (p + offset) % n;
            let pair = (p.min(q), p.max(q));
            if !pairs.contains(&pair) {
                pairs.push(pair);
            }
        }
    }
    pairs
}

impl Model {
    /// The model of the initial set (report §2): the gradient and the diagonal
    /// of the Hessian come from the axis points by divided differences, the
    /// off-diagonal elements from the two-coordinate points, and `H` is known
    /// in closed form.  `fval[k]` is the value at `design.point(k)`.
    pub(super) fn from_design(
        xbase: Vec<f64>,
        sl: Vec<f64>,
        su: Vec<f64>,
        design: &Design,
        fval: Vec<f64>,
    ) -> Self {
        let n = xbase.len();
        let npt = fval.len();
        let mut xpt = Mat::zeros(npt, n);
        let mut bmat = Mat::zeros(npt + n, n);
        let mut zmat = Mat::zeros(npt, npt - n - 1);
        let mut hq = Mat::zeros(n, n);
        let mut gbase = vec![0.0; n];
        let f0 = fval[0];
        for (i, &(a, second)) in design.steps.iter().enumerate() {
            let ka = i + 1;
            xpt[(ka, i)] = a;
            let da = (fval[ka] - f0) / a;
            match second {
                None => {
                    gbase[i] = da;
                    bmat[(0, i)] = -1.0 / a;
                    bmat[(ka, i)] = 1.0 / a;
                    bmat[(npt + i, i)] = -0.5 * a * a;
                }
                Some(b) => {
                    // Three values on the line: f0 + g s + ½ h s² through
                    // s = 0, a, b.
                    let kb = n + 1 + i;
                    xpt[(kb, i)] = b;
                    let db = (fval[kb] - f0) / b;
                    hq[(i, i)] = 2.0 * (da - db) / (a - b);
                    gbase[i] = (a * db - b * da) / (a - b);
                    bmat[(0, i)] = -(a + b) / (a * b);
                    bmat[(ka, i)] = -b / (a * (a - b));
                    bmat[(kb, i)] = a / (b * (a - b));
                    // A null vector of X normalised so that zᵀAz = 1.
                    zmat[(0, i)] = SQRT_2 / (a * b);
                    zmat[(ka, i)] = SQRT_2 / (a * (a - b));
                    zmat[(kb, i)] = -SQRT_2 / (b * (a - b));
                }
            }
        }
        for (m, &(p, q)) in design.pairs.iter().enumerate() {
            let k = 2 * n + 1 + m;
            let (ap, aq) = (design.steps[p].0, design.steps[q].0);
            xpt[(k, p)] = ap;
            xpt[(k, q)] = aq;
            let h = (f0 - fval[p + 1] - fval[q + 1] + fval[k]) / (ap * aq);
            hq[(p, q)] = h;
            hq[(q, p)] = h;
            let c = 1.0 / (ap * aq);
            let col = n + m;
            zmat[(0, col)] = c;
            zmat[(k, col)] = c;
            zmat[(p + 1, col)] = -c;
            zmat[(q + 1, col)] = -c;
        }
        let kopt = argmin(&fval);
        let mut model = Model {
            n,
            npt,
            xbase,
            sl,
            su,
            xpt,
            fval,
            kopt,
            gopt: gbase,
            hq,
            pq: vec![0.0; npt],
            bmat,
            zmat,
        };
        // The divided differences give the gradient at the base point.
        let mut hx = vec![0.0; n];
        model.hess_vec(model.xopt(), &mut hx);
        axpy(1.0, &hx, &mut model.gopt);
        model
    }
}
