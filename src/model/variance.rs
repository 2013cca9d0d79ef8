//! Nakagawa's variance decomposition of a fitted model, and the marginal and
//! conditional R² and intraclass correlations built from it, as R's insight
//! 0.19 (`get_variance`) and performance 0.10 (`r2_nakagawa`, `icc`) compute
//! them:
//!
//! * fixed: the sample variance (divisor n − 1) of Xβ̂ (no offset);
//! * random: per random-effects term whose grouping factor has fewer levels
//!   than observations, (1/n) Σᵢ zᵢᵀ Σ zᵢ, with Σ the term's covariance and zᵢ
//!   the term's columns *read from X by column name* (X gets an intercept
//!   column if it has none); a column not in X (a random slope without its
//!   fixed effect) is left out, as insight does, and reported;
//! * distribution-specific: from the family and link ([`DistributionVariance`]);
//! * dispersion: for GLMMs the random variance of observation-level terms
//!   (one level per observation), which insight counts as residual; a linear
//!   mixed model leaves such terms out.
//!
//! Then R²_marginal = f / (f + r + e), R²_conditional = (f + r) / (f + r + e),
//! ICC_adjusted = r / (r + e), ICC_unadjusted = r / (f + r + e), with e =
//! distribution + dispersion. A singular fit (a θ entry on λ's diagonal below
//! the tolerance) has no random variance: R²_marginal = f / (f + e) and the
//! rest NaN, as performance reports them.
//!
//! Unlike performance 0.10.2, every term counts: performance indexes the
//! covariances by the names of `ranef`, one per grouping factor, so that of
//! several terms of one factor (`(1 | g) + (0 + x | g)`) only the first does.

use super::MixedModel;
use crate::error::Result;

/// The distribution-specific variance of a model's family and link.
pub trait DistributionVariance: MixedModel {
    /// Does [`distribution_variance`](Self::distribution_variance) need the
    /// mean exp(β₀) of the null model (log-link Poisson)?
    fn needs_null_mean(&self) -> bool;

    /// The distribution-specific variance: σ̂² (linear), π²/3, 1, π²/6
    /// (binomial logit, probit, cloglog), log(1 + 1/λ) with λ the null
    /// model's mean (Poisson log), 0.25 (Poisson sqrt); an error naming the
    /// model for other families and links, or when `null_mean` is needed and
    /// missing or not positive.
    fn distribution_variance(&self, null_mean: Option<f64>) -> Result<f64>;

    /// Are observation-level terms dispersion (GLMMs) rather than left out?
    fn observation_level_dispersion(&self) -> bool;
}

/// The components of Nakagawa's R² and the ICC.
#[derive(Debug, Clone, PartialEq)]
pub struct VarianceDecomposition {
    /// Variance of the fixed-effects predictor Xβ̂ (divisor n − 1).
    pub fixed: f64,
    /// Mean random-effect variance; None for a singular fit.
    pub random: Option<f64>,
    /// Distribution-specific variance.
    pub distribution: f64,
    /// Variance of observation-level terms (GLMMs).
    pub dispersion: f64,
    /// Residual variance: distribution + dispersion.
    pub residual: f64,
    /// Per term whose first column is the intercept: (grouping factor, its variance).
    pub intercept: Vec<(String, f64)>,
    /// Per other column: (`"group.column"`, its variance).
    pub slope: Vec<(String, f64)>,
    /// Random-effects columns (`column|group`) not found among X's columns.
    pub not_in_x: Vec<String>,
    /// θ entries on λ's diagonal below the tolerance (the fit is singular).
    pub singular: Vec<usize>,
}

/// (1/n) Σᵢ zᵢᵀ Σ zᵢ with zᵢ the columns `columns` of X (found by name; the
/// intercept is a column of ones); returns the value and the names not found.
fn mean_quadratic_form(
    m: &impl MixedModel,
    columns: &[String],
    covariance: &[f64],
) -> (f64, Vec<String>) {
    let fixed = &m.terms().fixed;
    let names = fixed.coef_names();
    let n = fixed.nrows;
    let v = columns.len();
    let ones = vec![1.0; n];
    let mut found: Vec<(usize, &[f64])> = Vec::new();
    let mut missing = Vec::new();
    for (k, c) in columns.iter().enumerate() {
        match names.iter().position(|x| x == c) {
            Some(j) => found.push((k, fixed.column(j))),
            None if c == "(Intercept)" => found.push((k, &ones)),
            None => missing.push(c.clone()),
        }
    }
    let mut sum = 0.0;
    for (a, za) in &found {
        for (b, zb) in &found {
            let s = covariance[b * v + a];
            if s != 0.0 {
                sum += s * za.iter().zip(zb.iter()).map(|(x, y)| x * y).sum::<f64>();
            }
        }
    }
    (sum / n as f64, missing)
}

impl VarianceDecomposition {
    /// The decomposition of `m` at its estimates; `null_mean` is the null
    /// model's mean for families that need it, `tolerance` the singular-fit
    /// threshold on θ (insight's default 1e-5).
    pub fn new<M: DistributionVariance>(
        m: &M,
        null_mean: Option<f64>,
        tolerance: f64,
    ) -> Result<Self> {
        let distribution = m.distribution_variance(null_mean)?;
        let terms = m.terms();
        let n = terms.nobs();
        let x = &terms.fixed;
        let beta = m.beta();
        let eta: Vec<f64> = (0..n)
            .map(|i| (0..beta.len()).map(|j| x.column(j)[i] * beta[j]).sum())
            .collect();
        let fixed = if n > 1 {
            let mean = eta.iter().sum::<f64>() / n as f64;
            eta.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        let (mut random, mut dispersion) = (0.0, 0.0);
        let (mut intercept, mut slope, mut not_in_x) = (Vec::new(), Vec::new(), Vec::new());
        for (term, vc) in terms.random.iter().zip(m.varcorr().terms) {
            let (value, missing) = mean_quadratic_form(m, &vc.columns, &vc.covariance);
            not_in_x.extend(missing.iter().map(|c| format!("{c}|{}", vc.group)));
            if term.nlevels() == n {
                if m.observation_level_dispersion() {
                    dispersion += value;
                }
            } else {
                random += value;
            }
            let v = vc.columns.len();
            for (j, c) in vc.columns.iter().enumerate() {
                let var = vc.covariance[j * v + j];
                if j == 0 && c == "(Intercept)" {
                    intercept.push((vc.group.clone(), var));
                } else {
                    slope.push((format!("{}.{c}", vc.group), var));
                }
            }
        }
        let lower = m.layout().lower();
        let singular: Vec<usize> = m
            .theta()
            .iter()
            .zip(&lower)
            .enumerate()
            .filter(|(_, (t, l))| **l == 0.0 && t.abs() < tolerance)
            .map(|(i, _)| i)
            .collect();
        Ok(VarianceDecomposition {
            fixed,
            random: singular.is_empty().then_some(random),
            distribution,
            dispersion,
            residual: distribution + dispersion,
            intercept,
            slope,
            not_in_x,
            singular,
        })
    }

    /// (marginal, conditional) R²; for a singular fit (f / (f + e), NaN).
    pub fn r2(&self) -> (f64, f64) {
        let (f, e) = (self.fixed, self.residual);
        match self.random {
            Some(r) => (f / (f + r + e), (f + r) / (f + r + e)),
            None => (f / (f + e), f64::NAN),
        }
    }

    /// (adjusted, unadjusted) ICC; NaN for a singular fit.
    pub fn icc(&self) -> (f64, f64) {
        match self.random {
            Some(r) => (
                r / (r + self.residual),
                r / (self.fixed + r + self.residual),
            ),
            None => (f64::NAN, f64::NAN),
        }
    }

    /// Per random intercept: its variance over random + residual (NaN for a
    /// singular fit).
    pub fn icc_by_group(&self) -> Vec<(String, f64)> {
        self.intercept
            .iter()
            .map(|(g, v)| {
                let icc = self.random.map_or(f64::NAN, |r| v / (r + self.residual));
                (g.clone(), icc)
            })
            .collect()
    }
}
