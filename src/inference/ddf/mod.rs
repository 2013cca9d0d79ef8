//! Denominator degrees of freedom and F tests of fixed effects: t tests of
//! coefficients, joint tests of contrasts Lβ = rhs and per-term analysis of
//! variance tables (types 1, 2, 3), with Satterthwaite's method (as lmerTest)
//! or Kenward and Roger's (as pbkrtest) for linear mixed models, and
//! large-sample Wald tests (z, χ²) for any model.
//!
//! * [`satterthwaite`]: the Hessian of the objective in (θ, σ) and the
//!   Jacobian of cov(β̂); df of one contrast and of F statistics.
//! * [`kenward_roger`]: the adjusted covariance Φ_A of β̂ and the scaled F
//!   test of REML fits.
//! * [`contrast`]: the tests of one matrix L, whatever the method; the
//!   coefficient table with df.
//! * [`anova`]: the hypothesis matrices of each term (types 1, 2, 3 as
//!   lmerTest builds them) and the table of their tests.
//! * [`dist`]: t and F tail probabilities.
//! * [`studentized_range`]: the studentized range distribution (Tukey).

pub mod anova;
pub mod contrast;
pub mod dist;
pub mod kenward_roger;
mod linalg;
pub mod satterthwaite;
pub mod studentized_range;

pub use anova::{anova, hypotheses, wald_anova, AnovaRow, AnovaType, TermHypothesis};
pub use contrast::{coeftable_ddf, contrast_test, wald_test, CoefDfRow, LmmTests};
pub use kenward_roger::KenwardRoger;
pub use satterthwaite::Satterthwaite;

use faer::Mat;

use crate::error::{Error, Result};
use crate::lmm::LinearMixedModel;
use crate::model::MixedModel;
use linalg::{sym_eigen, symmetrize};

/// A method for the denominator degrees of freedom of a linear mixed model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DdfMethod {
    /// Satterthwaite's approximation (lmerTest's default).
    Satterthwaite,
    /// Kenward and Roger's adjusted covariance and df (REML fits only).
    KenwardRoger,
}

impl DdfMethod {
    /// The method named `"satterthwaite"` or `"kenward-roger"` (any case;
    /// `_` for `-` and `"kr"` also accepted).
    pub fn from_name(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().replace('_', "-").as_str() {
            "satterthwaite" => Ok(DdfMethod::Satterthwaite),
            "kenward-roger" | "kr" => Ok(DdfMethod::KenwardRoger),
            _ => Err(Error::argument(
                "ddf",
                format!(
                    "unknown method `{name}`; use \"satterthwaite\", \"kenward-roger\" or None \
                     (large-sample z / Wald tests)"
                ),
            )),
        }
    }

    /// The method's name as the tables print it.
    pub fn label(self) -> &'static str {
        match self {
            DdfMethod::Satterthwaite => "Satterthwaite",
            DdfMethod::KenwardRoger => "Kenward-Roger",
        }
    }
}

/// The test of one hypothesis Lβ = rhs: F = (Wald statistic)/num_df with
/// num_df and den_df degrees of freedom (den_df = ∞ for a large-sample χ²
/// test, where F·num_df is the χ² statistic).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FTest {
    /// Numerator degrees of freedom (the rank of the hypothesis).
    pub num_df: usize,
    /// Denominator degrees of freedom (∞ for a χ² test).
    pub den_df: f64,
    /// The F statistic.
    pub f: f64,
    /// P(F(num_df, den_df) > f).
    pub p: f64,
}

impl FTest {
    /// The test with statistic `f` on (`num_df`, `den_df`) degrees of freedom.
    pub fn new(num_df: usize, den_df: f64, f: f64) -> Self {
        FTest {
            num_df,
            den_df,
            f,
            p: dist::f_upper(f, num_df as f64, den_df),
        }
    }
}

/// One contrast lᵀβ: estimate, standard error and degrees of freedom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OneDimensional {
    /// lᵀβ̂.
    pub estimate: f64,
    /// Its standard error (from the adjusted covariance for Kenward–Roger).
    pub stderror: f64,
    /// Its degrees of freedom.
    pub df: f64,
}

/// Refuse a model the df methods cannot handle: not fitted, or σ fixed.
pub fn check_lmm(m: &LinearMixedModel) -> Result<()> {
    if !m.is_fitted() {
        return Err(Error::not_fitted("ddf"));
    }
    if m.sigma_fixed().is_some() {
        return Err(Error::argument(
            "ddf",
            "the degrees-of-freedom methods need σ estimated; this model was fitted with σ fixed",
        ));
    }
    Ok(())
}

/// A hypothesis Lβ = rhs reduced to independent rotated rows: the
/// eigendecomposition L V Lᵀ = P D Pᵀ keeps the eigenvalues above
/// √ε·max (lmerTest's rule); row m is (PᵀL)ₘ with value (PᵀL)ₘβ* and
/// variance Dₘ, where β* = β̂ − L⁺ rhs.
#[derive(Debug, Clone)]
pub struct ReducedHypothesis {
    /// The rotated rows (PᵀL)ₘ.
    pub rows: Vec<Vec<f64>>,
    /// (PᵀL)ₘ β*.
    pub values: Vec<f64>,
    /// Dₘ.
    pub variances: Vec<f64>,
}

/// Check L (p columns, finite, at least one row; `rhs` one value per row)
/// and reduce it (see [`ReducedHypothesis`]).
pub fn reduce_hypothesis(
    l: &Mat<f64>,
    rhs: &[f64],
    beta: &[f64],
    vcov: &Mat<f64>,
) -> Result<ReducedHypothesis> {
    let p = beta.len();
    check_hypothesis(l, rhs, p)?;
    let beta_star = shifted_beta(l, rhs, beta)?;
    let vl = symmetrize(&(l * vcov * l.transpose()));
    let (d, pm) = sym_eigen(&vl)?;
    let tol = (f64::EPSILON.sqrt() * d[0]).max(0.0);
    let keep: Vec<usize> = (0..d.len()).filter(|&m| d[m] > tol).collect();
    if keep.is_empty() {
        return Err(Error::argument(
            "L",
            "the hypothesis tests nothing: L·cov(β̂)·Lᵀ is zero",
        ));
    }
    let rows: Vec<Vec<f64>> = keep
        .iter()
        .map(|&m| {
            (0..p)
                .map(|j| (0..l.nrows()).map(|i| pm[(i, m)] * l[(i, j)]).sum())
                .collect()
        })
        .collect();
    let values = rows
        .iter()
        .map(|r: &Vec<f64>| r.iter().zip(&beta_star).map(|(a, b)| a * b).sum())
        .collect();
    Ok(ReducedHypothesis {
        rows,
        values,
        variances: keep.iter().map(|&m| d[m]).collect(),
    })
}

/// Refuse an L that is not a finite matrix with p columns and at least one
/// row, or an `rhs` without one value per row.
pub fn check_hypothesis(l: &Mat<f64>, rhs: &[f64], p: usize) -> Result<()> {
    if l.nrows() == 0 {
        return Err(Error::argument("L", "the hypothesis matrix has no rows"));
    }
    if l.ncols() != p {
        return Err(Error::argument(
            "L",
            format!(
                "the hypothesis matrix has {} columns; the model has {p} fixed-effects coefficients",
                l.ncols()
            ),
        ));
    }
    if (0..l.nrows()).any(|i| (0..p).any(|j| !l[(i, j)].is_finite())) {
        return Err(Error::argument(
            "L",
            "the hypothesis matrix holds non-finite values",
        ));
    }
    if rhs.len() != l.nrows() {
        return Err(Error::argument(
            "rhs",
            format!(
                "needs one value per row of L ({}), got {}",
                l.nrows(),
                rhs.len()
            ),
        ));
    }
    if rhs.iter().any(|v| !v.is_finite()) {
        return Err(Error::argument("rhs", "holds non-finite values"));
    }
    Ok(())
}

/// β̂ − L⁺ rhs (β̂ itself when rhs = 0), L⁺ = Lᵀ(LLᵀ)⁺.
pub fn shifted_beta(l: &Mat<f64>, rhs: &[f64], beta: &[f64]) -> Result<Vec<f64>> {
    if rhs.iter().all(|&v| v == 0.0) {
        return Ok(beta.to_vec());
    }
    let llt = symmetrize(&(l * l.transpose()));
    let (inv, _) = linalg::sym_pinv_positive(&llt, 1e-10 * linalg::trace(&llt).abs())?;
    let r = Mat::from_fn(rhs.len(), 1, |i, _| rhs[i]);
    let shift = l.transpose() * (&inv * &r);
    Ok(beta
        .iter()
        .enumerate()
        .map(|(j, b)| b - shift[(j, 0)])
        .collect())
}

/// The covariance of β̂ of any model as a matrix.
pub(crate) fn vcov_matrix(m: &impl MixedModel) -> Mat<f64> {
    let p = m.terms().fixed.rank();
    linalg::from_row_major(&m.vcov(), p)
}

/// A matrix from rows (each of length `ncols`), for callers holding rows.
pub fn matrix_from_rows(rows: &[Vec<f64>], ncols: usize) -> Result<Mat<f64>> {
    if let Some(i) = rows.iter().position(|r| r.len() != ncols) {
        return Err(Error::argument(
            "L",
            format!(
                "row {i} of the hypothesis matrix has {} values; the model has {ncols} \
                 fixed-effects coefficients",
                rows[i].len()
            ),
        ));
    }
    Ok(linalg::from_rows(rows, ncols))
}

/// Refuse a model that holds no estimates.
pub fn check_fitted(m: &impl MixedModel) -> Result<()> {
    if m.is_fitted() {
        Ok(())
    } else {
        Err(Error::not_fitted("ddf"))
    }
}
