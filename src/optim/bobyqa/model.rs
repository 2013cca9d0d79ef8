//! The interpolation set, the quadratic model and the factored inverse of the
//! KKT matrix of least-Frobenius-norm interpolation (Powell 2009, §2 and §4).
//!
//! Notation of the report: the `m = npt` interpolation points `y_k` are held
//! relative to a base point `x_b`; the model is
//! `Q(x_b + x) = c + g_bᵀx + ½ xᵀ∇²Q x` with the Hessian split into an
//! explicit part `HQ` and an implicit part `Σ_k pq_k y_k y_kᵀ`.  The matrix
//! `W = [A Xᵀ; X 0]`, with `A_ij = ½ (y_iᵀ y_j)²` and `X` holding the columns
//! `(1, y_j)`, has inverse `H = [Ω Ξᵀ; Ξ Υ]`.  `Ω = Z Zᵀ` is stored through
//! `Z` (`zmat`, `m × (m−n−1)`); the rows of `Ξ` and `Υ` that belong to the
//! constant term are never needed (report §4) and the rest is stored in
//! `bmat = [Ξ_gᵀ; Υ_gg]`, an `(m+n) × n` matrix.  Column `t` of `H` holds the
//! coefficients of the Lagrange function `ℓ_t` of the interpolation set.

use std::ops::{Index, IndexMut};

/// A small dense row-major matrix.
#[derive(Debug, Clone)]
pub(super) struct Mat {
    cols: usize,
    data: Vec<f64>,
}

impl Mat {
    /// A `rows × cols` matrix of zeros.
    pub(super) fn zeros(rows: usize, cols: usize) -> Self {
        Mat {
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// Row `i` as a slice.
    pub(super) fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Row `i` as a mutable slice.
    pub(super) fn row_mut(&mut self, i: usize) -> &mut [f64] {
        &mut self.data[i * self.cols..(i + 1) * self.cols]
    }

    fn fill(&mut self, value: f64) {
        self.data.fill(value);
    }

    fn max_abs(&self) -> f64 {
        self.data.iter().fold(0.0, |m, v| m.max(v.abs()))
    }
}

impl Index<(usize, usize)> for Mat {
    type Output = f64;
    fn index(&self, (i, j): (usize, usize)) -> &f64 {
        &self.data[i * self.cols + j]
    }
}

impl IndexMut<(usize, usize)> for Mat {
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut f64 {
        &mut self.data[i * self.cols + j]
    }
}

/// Inner product.
pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Squared Euclidean distance.
pub(super) fn dist_sq(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// `y += a x`.
pub(super) fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(yi, xi)| *yi += a * xi);
}

/// The interpolation set with its quadratic model and factored `H`.
#[derive(Debug, Clone)]
pub(super) struct Model {
    pub n: usize,
    pub npt: usize,
    /// Base point `x_b` in the caller's coordinates.
    pub xbase: Vec<f64>,
    /// Lower and upper bounds relative to `x_b`.
    pub sl: Vec<f64>,
    pub su: Vec<f64>,
    /// Interpolation points relative to `x_b`, one per row.
    pub xpt: Mat,
    /// Function values (after replacement of non-finite values).
    pub fval: Vec<f64>,
    /// Index of the best point, `x_opt`.
    pub kopt: usize,
    /// Gradient of the model at `x_opt`.
    pub gopt: Vec<f64>,
    /// Explicit part of the model Hessian (full symmetric storage).
    pub hq: Mat,
    /// Coefficients of the implicit part `Σ_k pq_k y_k y_kᵀ`.
    pub pq: Vec<f64>,
    /// `[Ξ_gᵀ; Υ_gg]`, `(npt + n) × n`.
    pub bmat: Mat,
    /// `Z` with `Ω = Z Zᵀ`, `npt × (npt − n − 1)`.
    pub zmat: Mat,
}

impl Model {
    /// `x_opt`, the best point relative to the base.
    pub(super) fn xopt(&self) -> &[f64] {
        self.xpt.row(self.kopt)
    }

    /// The (model) function value at `x_opt`.
    pub(super) fn fopt(&self) -> f64 {
        self.fval[self.kopt]
    }

    /// `out = ∇²Q v`.
    pub(super) fn hess_vec(&self, v: &[f64], out: &mut [f64]) {
        for (i, o) in out.iter_mut().enumerate() {
            *o = dot(self.hq.row(i), v);
        }
        for (k, &pk) in self.pq.iter().enumerate() {
            if pk != 0.0 {
                let y = self.xpt.row(k);
                axpy(pk * dot(y, v), y, out);
            }
        }
    }

    /// Diagonal element `j` of `∇²Q`.
    pub(super) fn hess_diag(&self, j: usize) -> f64 {
        let implicit: f64 = (0..self.npt)
            .map(|k| self.pq[k] * self.xpt[(k, j)].powi(2))
            .sum();
        self.hq[(j, j)] + implicit
    }

    /// `Q(x_opt + d) − Q(x_opt)`.
    pub(super) fn predicted_change(&self, d: &[f64]) -> f64 {
        let mut hd = vec![0.0; self.n];
        self.hess_vec(d, &mut hd);
        dot(&self.gopt, d) + 0.5 * dot(d, &hd)
    }

    /// `Ω_kk`, the diagonal of the leading block of `H`.
    pub(super) fn omega_diag(&self, k: usize) -> f64 {
        self.zmat.row(k).iter().map(|z| z * z).sum()
    }

    /// Column `t` of `Ω`: the second-derivative coefficients of `ℓ_t`.
    pub(super) fn omega_col(&self, t: usize) -> Vec<f64> {
        let zt = self.zmat.row(t);
        (0..self.npt).map(|k| dot(self.zmat.row(k), zt)).collect()
    }

    /// Gradient of the Lagrange function `ℓ_t` at `x_opt`, given `hcol`
    /// = column `t` of `Ω`.
    pub(super) fn lagrange_gradient(&self, t: usize, hcol: &[f64]) -> Vec<f64> {
        let xopt = self.xopt();
        let mut g = self.bmat.row(t).to_vec();
        for (k, &h) in hcol.iter().enumerate() {
            let y = self.xpt.row(k);
            axpy(h * dot(y, xopt), y, &mut g);
        }
        g
    }

    /// The index of the point farthest from `x_opt` and its squared distance.
    pub(super) fn farthest_point(&self) -> (usize, f64) {
        let xopt = self.xopt();
        (0..self.npt)
            .map(|k| (k, dist_sq(self.xpt.row(k), xopt)))
            .fold(
                (self.kopt, 0.0),
                |best, c| if c.1 > best.1 { c } else { best },
            )
    }

    /// For the trial point `x_opt + d`: the vector `H w` whose first `npt`
    /// components are the Lagrange function values `ℓ_k(x_opt + d)`, and the
    /// scalar `β = ½‖x‖⁴ − wᵀHw` of the updating formula (report §4).
    ///
    /// As the report recommends, `w(x_opt)` is subtracted from `w` first:
    /// `H w(x_opt) = e_opt` is known exactly, the difference has no constant
    /// component (so the unstored rows of `H` are not needed) and suffers much
    /// less cancellation.
    pub(super) fn lagrange(&self, d: &[f64]) -> (Vec<f64>, f64) {
        let (n, npt) = (self.n, self.npt);
        let xopt = self.xopt();
        let mut vlag = vec![0.0; npt + n];
        // First npt components of w(x_opt + d) − w(x_opt).
        let wd: Vec<f64> = (0..npt)
            .map(|k| {
                let y = self.xpt.row(k);
                let yd = dot(y, d);
                yd * (0.5 * yd + dot(y, xopt))
            })
            .collect();
        for (k, v) in vlag.iter_mut().take(npt).enumerate() {
            *v = dot(self.bmat.row(k), d);
        }
        // Ω part through Z.
        let mut wtw = 0.0;
        for j in 0..npt - n - 1 {
            let s: f64 = (0..npt).map(|k| self.zmat[(k, j)] * wd[k]).sum();
            wtw += s * s;
            for (k, v) in vlag.iter_mut().take(npt).enumerate() {
                *v += s * self.zmat[(k, j)];
            }
        }
        // Ξ and Υ parts.
        for j in 0..n {
            let xi: f64 = (0..npt).map(|k| wd[k] * self.bmat[(k, j)]).sum();
            let ups: f64 = (0..n).map(|i| self.bmat[(npt + i, j)] * d[i]).sum();
            vlag[npt + j] = xi + ups;
            wtw += d[j] * (2.0 * xi + ups);
        }
        let dx = dot(d, xopt);
        let dsq = dot(d, d);
        let xsq = dot(xopt, xopt);
        // ½‖x_opt + d‖⁴ − ½‖x_opt‖⁴ − 2 w_opt(d) expanded to avoid cancellation.
        let beta = dx * dx + dsq * (xsq + 2.0 * dx + 0.5 * dsq) - wtw;
        vlag[self.kopt] += 1.0;
        (vlag, beta)
    }

    /// Replace point `t` by `xnew` (relative to the base) with value `fnew`.
    /// `vlag`, `beta` come from [`Model::lagrange`] for `xnew − x_opt` and
    /// `diff = fnew − Q(xnew)`.  Updates `H` (report §4), then the model by the
    /// least-Frobenius-norm change of its Hessian, i.e. by adding
    /// `diff · ℓ_t` with the new Lagrange function `ℓ_t`, and moves `x_opt`.
    /// Returns `false`, changing nothing, if the denominator of the update is
    /// not positive.
    pub(super) fn replace(
        &mut self,
        t: usize,
        xnew: &[f64],
        fnew: f64,
        diff: f64,
        vlag: Vec<f64>,
        beta: f64,
    ) -> bool {
        if !self.update_h(t, vlag, beta) {
            return false;
        }
        let kopt_old = self.kopt;
        let xopt_old = self.xopt().to_vec();
        let fopt_old = self.fopt();
        // The implicit Hessian term of the departing point becomes explicit.
        let pqt = std::mem::replace(&mut self.pq[t], 0.0);
        if pqt != 0.0 {
            for i in 0..self.n {
                let yi = self.xpt[(t, i)];
                for j in 0..self.n {
                    self.hq[(i, j)] += pqt * yi * self.xpt[(t, j)];
                }
            }
        }
        let hcol = self.omega_col(t);
        axpy(diff, &hcol, &mut self.pq);
        self.xpt.row_mut(t).copy_from_slice(xnew);
        self.fval[t] = fnew;
        // Gradient of the new ℓ_t at the old x_opt.
        let mut glag = self.bmat.row(t).to_vec();
        for (k, &h) in hcol.iter().enumerate() {
            let y = self.xpt.row(k);
            axpy(h * dot(y, &xopt_old), y, &mut glag);
        }
        axpy(diff, &glag, &mut self.gopt);
        self.kopt = if fnew < fopt_old {
            t
        } else if t == kopt_old {
            argmin(&self.fval)
        } else {
            kopt_old
        };
        if self.kopt != kopt_old {
            let d: Vec<f64> = self
                .xopt()
                .iter()
                .zip(&xopt_old)
                .map(|(a, b)| a - b)
                .collect();
            let mut hd = vec![0.0; self.n];
            self.hess_vec(&d, &mut hd);
            axpy(1.0, &hd, &mut self.gopt);
        }
        true
    }

    /// The updating formula for `H` when `y_t` is replaced (report §4):
    /// `H⁺ = H + σ⁻¹[α (e_t − Hw)(e_t − Hw)ᵀ − β H e_t e_tᵀ H
    ///        + τ (H e_t (e_t − Hw)ᵀ + (e_t − Hw) e_tᵀ H)]`,
    /// `α = e_tᵀHe_t`, `τ = ℓ_t(x)`, `σ = αβ + τ²`.  `Z` is first rotated so
    /// that row `t` has one nonzero element; then only the first column of
    /// `Z` changes, which keeps `Ω = Z Zᵀ` positive semi-definite.
    fn update_h(&mut self, t: usize, mut vlag: Vec<f64>, beta: f64) -> bool {
        let (n, npt) = (self.n, self.npt);
        let alpha = self.omega_diag(t);
        let tau = vlag[t];
        let denom = alpha * beta + tau * tau;
        if !(denom > 0.0 && denom.is_finite()) {
            return false;
        }
        let z = &mut self.zmat;
        let ztest = 1e-20 * z.max_abs();
        for j in 1..npt - n - 1 {
            let (a, b) = (z[(t, 0)], z[(t, j)]);
            if b.abs() > ztest {
                let r = a.hypot(b);
                let (c, s) = (a / r, b / r);
                for i in 0..npt {
                    let (zi0, zij) = (z[(i, 0)], z[(i, j)]);
                    z[(i, 0)] = c * zi0 + s * zij;
                    z[(i, j)] = c * zij - s * zi0;
                }
            }
            z[(t, j)] = 0.0;
        }
        // Column t of the old H.
        let zt0 = z[(t, 0)];
        let mut w: Vec<f64> = (0..npt).map(|i| zt0 * z[(i, 0)]).collect();
        w.extend_from_slice(self.bmat.row(t));
        vlag[t] -= 1.0;
        let root = denom.sqrt();
        let (c1, c2) = (tau / root, zt0 / root);
        for (i, v) in vlag.iter().take(npt).enumerate() {
            z[(i, 0)] = c1 * z[(i, 0)] - c2 * v;
        }
        let b = &mut self.bmat;
        for j in 0..n {
            let jp = npt + j;
            let ta = (alpha * vlag[jp] - tau * w[jp]) / denom;
            let tb = (-beta * w[jp] - tau * vlag[jp]) / denom;
            for i in 0..=jp {
                b[(i, j)] += ta * vlag[i] + tb * w[i];
                if i >= npt {
                    b[(jp, i - npt)] = b[(i, j)];
                }
            }
        }
        true
    }

    /// Move the base point to `x_opt` (report §4: done when `‖d‖² ≤ 10⁻³
    /// ‖x_opt‖²` so that the `y_k` stay small compared with their spread).
    /// With `s = x_opt`, `Ω` is unchanged, and with
    /// `u_k = (sᵀ(y_k − s/2)) (y_k − s/2)` the other blocks become
    /// `Ξ_g⁺ = Ξ_g + UᵀΩ`, `Υ⁺ = Υ + Ξ_g U + UᵀΞ_gᵀ + UᵀΩU`.
    pub(super) fn shift_base(&mut self) {
        let (n, npt) = (self.n, self.npt);
        let s = self.xopt().to_vec();
        if s.iter().all(|&v| v == 0.0) {
            return;
        }
        let mut u = Mat::zeros(npt, n);
        for k in 0..npt {
            let mid: Vec<f64> = self
                .xpt
                .row(k)
                .iter()
                .zip(&s)
                .map(|(y, si)| y - 0.5 * si)
                .collect();
            let p = dot(&s, &mid);
            for (ui, mi) in u.row_mut(k).iter_mut().zip(&mid) {
                *ui = p * mi;
            }
        }
        for k in 0..npt {
            for i in 0..n {
                let (bki, uki) = (self.bmat[(k, i)], u[(k, i)]);
                for j in 0..n {
                    self.bmat[(npt + i, j)] += bki * u[(k, j)] + uki * self.bmat[(k, j)];
                }
            }
        }
        for jj in 0..npt - n - 1 {
            let mut v = vec![0.0; n];
            for k in 0..npt {
                axpy(self.zmat[(k, jj)], u.row(k), &mut v);
            }
            for k in 0..npt {
                let zk = self.zmat[(k, jj)];
                axpy(zk, &v, self.bmat.row_mut(k));
            }
            for i in 0..n {
                axpy(v[i], &v, self.bmat.row_mut(npt + i));
            }
        }
        // Keep ∇²Q fixed although the y_k move: Σ pq_k y_k y_kᵀ changes by
        // −(w sᵀ + s wᵀ) with w = Σ pq_k y_k − ½(Σ pq_k) s.
        let sum_pq: f64 = self.pq.iter().sum();
        let mut w: Vec<f64> = s.iter().map(|si| -0.5 * sum_pq * si).collect();
        for k in 0..npt {
            axpy(self.pq[k], self.xpt.row(k), &mut w);
        }
        for i in 0..n {
            for j in 0..n {
                self.hq[(i, j)] += w[i] * s[j] + s[i] * w[j];
            }
        }
        for k in 0..npt {
            axpy(-1.0, &s, self.xpt.row_mut(k));
        }
        self.xpt.row_mut(self.kopt).fill(0.0);
        axpy(1.0, &s, &mut self.xbase);
        axpy(-1.0, &s, &mut self.sl);
        axpy(-1.0, &s, &mut self.su);
    }

    /// The gradient at `x_opt` and the `pq` coefficients of the quadratic of
    /// least Frobenius norm Hessian that interpolates the current values.
    pub(super) fn min_norm_model(&self) -> (Vec<f64>, Vec<f64>) {
        let (n, npt) = (self.n, self.npt);
        let fopt = self.fopt();
        let r: Vec<f64> = self.fval.iter().map(|f| f - fopt).collect();
        let mut lambda = vec![0.0; npt];
        for j in 0..npt - n - 1 {
            let s: f64 = (0..npt).map(|k| self.zmat[(k, j)] * r[k]).sum();
            for (k, l) in lambda.iter_mut().enumerate() {
                *l += s * self.zmat[(k, j)];
            }
        }
        let mut g = vec![0.0; n];
        for (k, &rk) in r.iter().enumerate() {
            axpy(rk, self.bmat.row(k), &mut g);
        }
        let xopt = self.xopt();
        for (k, &l) in lambda.iter().enumerate() {
            let y = self.xpt.row(k);
            axpy(l * dot(y, xopt), y, &mut g);
        }
        (g, lambda)
    }

    /// Replace the model by the minimum-norm interpolant of
    /// [`Model::min_norm_model`].
    pub(super) fn use_min_norm_model(&mut self, g: Vec<f64>, lambda: Vec<f64>) {
        self.gopt = g;
        self.pq = lambda;
        self.hq.fill(0.0);
    }
}

/// Index of the smallest element (the first one on ties).
pub(super) fn argmin(v: &[f64]) -> usize {
    v.iter()
        .enumerate()
        .fold(0, |best, (k, &x)| if x < v[best] { k } else { best })
}
