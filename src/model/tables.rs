//! The estimates every model reports in the same shape: the fixed-effects
//! table and the variance components.

use crate::stats::normal_two_sided_p;
use crate::terms::ReTerm;

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
    /// Covariance matrix s²λλᵀ (column-major v × v).
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

impl VarCorr {
    /// The variance components s²λλᵀ of each term for its λ (column-major
    /// v × v), with `scale` s (σ̂ for LMMs, 1 for GLMMs without dispersion)
    /// and the residual standard deviation to report, if any.
    pub fn new(
        terms: &[ReTerm],
        lambdas: &[Vec<f64>],
        scale: f64,
        residual_sd: Option<f64>,
    ) -> VarCorr {
        let s2 = scale * scale;
        let terms = terms
            .iter()
            .zip(lambdas)
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
        VarCorr { terms, residual_sd }
    }
}
