//! Quantities read off a linear mixed model at its current θ: β, σ, the
//! conditional modes, covariance matrices, fitted values, model-fit statistics.

use super::LinearMixedModel;
use crate::blocks::{backward_solve_transposed, tri, Block, SparseQuadratic};
use crate::error::{Error, Result};
use crate::stats::normal_two_sided_p;

/// One row of the fixed-effects table.
#[derive(Debug, Clone, PartialEq)]
pub struct CoefRow {
    /// Coefficient name.
    pub name: String,
    /// Estimate β̂.
    pub estimate: f64,
    /// Standard error.
    pub stderror: f64,
    /// z = estimate / stderror.
    pub z: f64,
    /// Two-sided p-value from the standard normal.
    pub p: f64,
}

impl CoefRow {
    /// Rows of a fixed-effects table from names, estimates and standard
    /// errors, with z = estimate / SE and its two-sided normal p-value.
    pub fn table(names: Vec<String>, estimates: &[f64], stderrors: &[f64]) -> Vec<CoefRow> {
        names
            .into_iter()
            .zip(estimates)
            .zip(stderrors)
            .map(|((name, &estimate), &stderror)| {
                let z = estimate / stderror;
                CoefRow {
                    name,
                    estimate,
                    stderror,
                    z,
                    p: normal_two_sided_p(z),
                }
            })
            .collect()
    }
}

/// Estimated variance components of one random-effects term.
#[derive(Debug, Clone, PartialEq)]
pub struct VarCorrTerm {
    /// Grouping factor name.
    pub group: String,
    /// Random-effects column names.
    pub columns: Vec<String>,
    /// Covariance matrix σ²λλᵀ (column-major v × v).
    pub covariance: Vec<f64>,
    /// Standard deviations.
    pub sd: Vec<f64>,
    /// Correlations (column-major v × v); `None` where structurally zero.
    pub correlation: Vec<Option<f64>>,
}

/// Variance components of all terms plus the residual.
#[derive(Debug, Clone, PartialEq)]
pub struct VarCorr {
    /// One entry per random-effects term.
    pub terms: Vec<VarCorrTerm>,
    /// Residual standard deviation (None for families without a scale).
    pub residual_sd: Option<f64>,
}

impl LinearMixedModel {
    /// Offsets of each block in the stacked random-effects vector (K + 1 entries).
    pub(crate) fn re_offsets(&self) -> Vec<usize> {
        let mut off = vec![0];
        for k in 0..self.structure.nterms {
            off.push(off[k] + self.structure.block_size(k));
        }
        off
    }

    /// Fixed-effects estimates β̂ (for the columns of X kept).
    pub fn beta(&self) -> Vec<f64> {
        let p = self.structure.p;
        let m = self.l_xy();
        // R_Xᵀ… solve Lxxᵀ β = l_y, Lxx lower triangular.
        let mut beta: Vec<f64> = (0..p).map(|j| m[(p, j)]).collect();
        for i in (0..p).rev() {
            let mut s = beta[i];
            for j in i + 1..p {
                s -= m[(j, i)] * beta[j];
            }
            beta[i] = s / m[(i, i)];
        }
        beta
    }

    /// Coefficients for every generated column of X; NaN for dropped columns.
    pub fn coef_full(&self) -> Vec<f64> {
        let beta = self.beta();
        let mut full = vec![f64::NAN; self.terms.fixed.names.len()];
        for (b, &j) in beta.iter().zip(&self.terms.fixed.kept) {
            full[j] = *b;
        }
        full
    }

    /// Names of β's coefficients.
    pub fn coef_names(&self) -> Vec<String> {
        self.terms.fixed.coef_names()
    }

    /// Residual standard deviation σ̂ (or the fixed σ).
    pub fn sigma(&self) -> f64 {
        if let Some(s) = self.sigma_fixed {
            return s;
        }
        let n = self.nobs() as f64;
        let denom = if self.reml {
            n - self.structure.p as f64
        } else {
            n
        };
        (self.pwrss() / denom).sqrt()
    }

    /// Relative covariance factor λ of each term (column-major v × v).
    pub fn lambda(&self) -> Vec<Vec<f64>> {
        self.lambdas.clone()
    }

    /// Spherical random effects u, per term (column-major v × ℓ).
    pub fn u(&self) -> Vec<Vec<f64>> {
        self.u_given_beta(&self.beta())
    }

    /// Conditional modes u for a given β (not necessarily β̂), per term:
    /// the solution of L_Zᵀ u = c_y − L_XZᵀ β.
    pub fn u_given_beta(&self, beta: &[f64]) -> Vec<Vec<f64>> {
        let k = self.structure.nterms;
        let off = self.re_offsets();
        let mut x = vec![0.0; off[k]];
        let p = self.structure.p;
        for j in 0..k {
            let Block::Dense(m) = &self.l[tri(k, j)] else {
                unreachable!()
            };
            for c in 0..m.ncols() {
                let mut s = m[(p, c)];
                for (r, b) in beta.iter().enumerate() {
                    s -= m[(r, c)] * b;
                }
                x[off[j] + c] = s;
            }
        }
        backward_solve_transposed(&self.l, &off, k, &mut x);
        (0..k).map(|j| x[off[j]..off[j + 1]].to_vec()).collect()
    }

    /// Conditional modes of the random effects b = Λu, per term (column-major v × ℓ).
    pub fn b(&self) -> Vec<Vec<f64>> {
        self.u()
            .into_iter()
            .zip(&self.lambdas)
            .zip(&self.terms.random)
            .map(|((u, lam), t)| t.b_from_u(lam, &u))
            .collect()
    }

    /// Unscaled covariance (Lxx Lxxᵀ)⁻¹ of β̂, row-major p × p.
    fn unscaled_vcov(&self) -> Vec<f64> {
        let p = self.structure.p;
        let m = self.l_xy();
        // Columns of Lxx⁻¹ by forward substitution.
        let mut inv = vec![0.0; p * p]; // column-major
        for c in 0..p {
            for i in c..p {
                let mut s = if i == c { 1.0 } else { 0.0 };
                for j in c..i {
                    s -= m[(i, j)] * inv[c * p + j];
                }
                inv[c * p + i] = s / m[(i, i)];
            }
        }
        let mut v = vec![0.0; p * p];
        for a in 0..p {
            for b in 0..p {
                v[a * p + b] = (a.max(b)..p).map(|i| inv[a * p + i] * inv[b * p + i]).sum();
            }
        }
        v
    }

    /// Covariance matrix of β̂, σ²(XᵀV⁻¹X)⁻¹, row-major p × p.
    pub fn vcov(&self) -> Vec<f64> {
        let s2 = self.sigma().powi(2);
        self.unscaled_vcov().into_iter().map(|v| v * s2).collect()
    }

    /// Standard errors of β̂.
    pub fn stderror(&self) -> Vec<f64> {
        let p = self.structure.p;
        let v = self.vcov();
        (0..p).map(|i| v[i * p + i].sqrt()).collect()
    }

    /// The fixed-effects table: estimate, standard error, z and p.
    pub fn coeftable(&self) -> Vec<CoefRow> {
        CoefRow::table(self.coef_names(), &self.beta(), &self.stderror())
    }

    /// Variance components.
    pub fn varcorr(&self) -> VarCorr {
        let s2 = self.sigma().powi(2);
        let terms = self
            .terms
            .random
            .iter()
            .zip(&self.lambdas)
            .map(|(t, lam)| {
                let v = t.ncols();
                let mut cov = vec![0.0; v * v];
                let mut structural = vec![false; v * v];
                for a in 0..v {
                    for b in 0..v {
                        cov[b * v + a] =
                            (0..v).map(|c| lam[c * v + a] * lam[c * v + b]).sum::<f64>() * s2;
                        structural[b * v + a] = t
                            .theta_index
                            .iter()
                            .any(|&(r, c)| r == a && t.theta_index.contains(&(b, c)));
                    }
                }
                let sd: Vec<f64> = (0..v).map(|a| cov[a * v + a].sqrt()).collect();
                let correlation = (0..v * v)
                    .map(|idx| {
                        let (a, b) = (idx % v, idx / v);
                        structural[idx].then(|| {
                            if a == b {
                                1.0
                            } else {
                                cov[idx] / (sd[a] * sd[b])
                            }
                        })
                    })
                    .collect();
                VarCorrTerm {
                    group: t.grouping.clone(),
                    columns: t.column_names.clone(),
                    covariance: cov,
                    sd,
                    correlation,
                }
            })
            .collect();
        VarCorr {
            terms,
            residual_sd: Some(self.sigma()),
        }
    }

    /// σ̂², the residual variance.
    pub fn varest(&self) -> f64 {
        self.sigma().powi(2)
    }

    /// Conditional covariance of b for each level of each term: per term,
    /// ℓ column-major v × v blocks of σ²λ M λᵀ with M the matching diagonal
    /// block of (L_Z L_Zᵀ)⁻¹.
    pub fn condvar(&self) -> Vec<Vec<f64>> {
        let k = self.structure.nterms;
        let p = self.structure.p;
        // Random-effects blocks, then the p fixed-effects rows (no response row).
        let sizes: Vec<usize> = (0..k)
            .map(|j| self.structure.block_size(j))
            .chain([p])
            .collect();
        let mut sq = SparseQuadratic::new(&self.l, &sizes, false);
        let s2 = self.sigma().powi(2);
        let mut out = Vec::with_capacity(k);
        for (t, term) in self.terms.random.iter().enumerate() {
            let v = term.ncols();
            let lam = &self.lambdas[t];
            let mut blocks = vec![0.0; term.nlevels() * v * v];
            let mut mm = vec![0.0; v * v];
            for l in 0..term.nlevels() {
                let base = sq.offset(t) + l * v;
                for a in 0..v {
                    for b in 0..=a {
                        let val = sq.cross(
                            &self.l,
                            &self.structure.v,
                            &[(base + a, 1.0)],
                            &[(base + b, 1.0)],
                        );
                        mm[b * v + a] = val;
                        mm[a * v + b] = val;
                    }
                }
                let blk = &mut blocks[l * v * v..(l + 1) * v * v];
                for a in 0..v {
                    for b in 0..v {
                        let mut s = 0.0;
                        for c in 0..v {
                            for d in 0..v {
                                s += lam[c * v + a] * mm[d * v + c] * lam[d * v + b];
                            }
                        }
                        blk[b * v + a] = s * s2;
                    }
                }
            }
            out.push(blocks);
        }
        out
    }

    /// Fitted values Xβ̂ + Zb̂.
    pub fn fitted(&self) -> Vec<f64> {
        let n = self.nobs();
        let beta = self.beta();
        let mut f = vec![0.0; n];
        for (j, b) in beta.iter().enumerate() {
            for (fi, xi) in f.iter_mut().zip(self.terms.fixed.column(j)) {
                *fi += b * xi;
            }
        }
        for (term, b) in self.terms.random.iter().zip(self.b()) {
            let v = term.ncols();
            for (i, fi) in f.iter_mut().enumerate() {
                let l = term.refs[i] as usize;
                *fi += (0..v)
                    .map(|c| term.z[i * v + c] * b[l * v + c])
                    .sum::<f64>();
            }
        }
        f
    }

    /// Response residuals y − fitted.
    pub fn residuals(&self) -> Vec<f64> {
        self.y
            .iter()
            .zip(self.fitted())
            .map(|(y, f)| y - f)
            .collect()
    }

    /// Diagonal of the hat matrix (leverage of each observation):
    /// hᵢ = ‖L⁻¹[Λᵀzᵢ; xᵢ]‖² (rows weighted by √wᵢ).
    pub fn leverage(&self) -> Vec<f64> {
        let k = self.structure.nterms;
        let p = self.structure.p;
        // Random-effects blocks, then the p fixed-effects rows (no response row).
        let sizes: Vec<usize> = (0..k)
            .map(|j| self.structure.block_size(j))
            .chain([p])
            .collect();
        let mut sq = SparseQuadratic::new(&self.l, &sizes, true);
        (0..self.nobs())
            .map(|i| {
                sq.clear();
                let sw = self.sqrtw.as_ref().map_or(1.0, |s| s[i]);
                for (t, term) in self.terms.random.iter().enumerate() {
                    let v = term.ncols();
                    let lam = &self.lambdas[t];
                    let base = sq.offset(t) + term.refs[i] as usize * v;
                    for r in 0..v {
                        let val: f64 = (r..v).map(|c| lam[r * v + c] * term.z[i * v + c]).sum();
                        if val != 0.0 {
                            sq.add(base + r, sw * val);
                        }
                    }
                }
                let xo = sq.offset(k);
                for j in 0..p {
                    sq.add(xo + j, self.xy[(i, j)]);
                }
                sq.norm2(&self.l, &self.structure.v)
            })
            .collect()
    }

    /// Number of parameters: β, θ, and σ unless fixed.
    pub fn dof(&self) -> usize {
        self.structure.p + self.terms.ntheta() + usize::from(self.sigma_fixed.is_none())
    }

    /// Residual degrees of freedom, n − Σ leverage (as MixedModels.jl).
    pub fn dof_residual(&self) -> f64 {
        self.nobs() as f64 - self.leverage().iter().sum::<f64>()
    }

    fn refuse_reml(&self, what: &str) -> Result<()> {
        if self.reml {
            Err(Error::argument("reml", format!(
                "{what} is not defined for a model fitted by REML; refit with reml=False (the REML criterion is `objective`)"
            )))
        } else {
            Ok(())
        }
    }

    /// Log-likelihood (ML fits only).
    pub fn loglikelihood(&self) -> Result<f64> {
        self.refuse_reml("the log-likelihood")?;
        Ok(-0.5 * self.objective())
    }

    /// Deviance, −2 log-likelihood (ML fits only).
    pub fn deviance(&self) -> Result<f64> {
        self.refuse_reml("the deviance")?;
        Ok(self.objective())
    }

    /// Akaike's information criterion.
    pub fn aic(&self) -> Result<f64> {
        Ok(self.deviance()? + 2.0 * self.dof() as f64)
    }

    /// AIC with the small-sample correction.
    pub fn aicc(&self) -> Result<f64> {
        let k = self.dof() as f64;
        let n = self.nobs() as f64;
        Ok(self.aic()? + 2.0 * k * (k + 1.0) / (n - k - 1.0))
    }

    /// Schwarz's Bayesian information criterion.
    pub fn bic(&self) -> Result<f64> {
        Ok(self.deviance()? + self.dof() as f64 * (self.nobs() as f64).ln())
    }

    /// Is the fit singular (some λ diagonal entry at its bound of zero)?
    pub fn is_singular(&self) -> bool {
        self.theta
            .iter()
            .zip(self.lower_bounds())
            .any(|(t, lb)| lb.is_finite() && (t - lb).abs() < 1e-8)
    }
}
