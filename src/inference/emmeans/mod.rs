//! Estimated marginal means and their contrasts, as R's emmeans computes
//! them for mixed models.
//!
//! * [`grid`]: the reference grid (factors at their levels, covariates at
//!   their means or given values) and its model matrix.
//! * [`means`]: the equally weighted marginal means over the grid, as linear
//!   functions lᵀβ, split into `by` groups.
//! * [`contrast`]: contrast weights among the means of a group.
//! * [`adjust`]: multiplicity adjustments of p-values and intervals
//!   (Tukey's through [`crate::inference::ddf::studentized_range`]).
//! * [`response`]: means and intervals back-transformed by the inverse link.
//!
//! Standard errors and degrees of freedom come from
//! [`crate::inference::ddf`]: Kenward–Roger (the adjusted covariance of β̂
//! for the SE and its df, as emmeans with pbkrtest), Satterthwaite, or the
//! large-sample covariance with df = ∞ (the only choice for a generalized
//! linear mixed model).

pub mod adjust;
pub mod contrast;
pub mod grid;
pub mod means;
pub mod response;

pub use adjust::{adjusted_p, critical_values, Adjust};
pub use contrast::{combine, contrast_coefficients, polynomial_contrasts, ContrastMethod};
pub use grid::{reference_grid, AtValues, GridVariable, ReferenceGrid};
pub use means::{marginal_means, MarginalMeans};
pub use response::{response_scale, ResponseScale};

use faer::Mat;

use super::ddf::{check_fitted, vcov_matrix, DdfMethod, LmmTests, OneDimensional};
use crate::error::{Error, Result};
use crate::lmm::LinearMixedModel;
use crate::model::MixedModel;

/// How the degrees of freedom of marginal means and contrasts are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmmDf {
    /// Kenward and Roger's (adjusted covariance and df; REML fits).
    KenwardRoger,
    /// Satterthwaite's.
    Satterthwaite,
    /// Large-sample: the model's covariance of β̂ and df = ∞.
    Asymptotic,
}

impl EmmDf {
    /// The method named `"kenward-roger"`, `"satterthwaite"` or `"asymptotic"`.
    pub fn from_name(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().replace('_', "-").as_str() {
            "asymptotic" => Ok(EmmDf::Asymptotic),
            "satterthwaite" => Ok(EmmDf::Satterthwaite),
            "kenward-roger" | "kr" => Ok(EmmDf::KenwardRoger),
            _ => Err(Error::argument(
                "ddf",
                format!(
                    "unknown method `{name}`; use \"kenward-roger\", \"satterthwaite\" or \
                     \"asymptotic\""
                ),
            )),
        }
    }
}

/// Estimates, standard errors and df of linear functions of β̂.
#[derive(Debug, Clone)]
pub enum Estimator {
    /// A df method of a linear mixed model.
    Lmm(LmmTests),
    /// β̂ and its covariance; df = ∞.
    Wald {
        /// β̂.
        beta: Vec<f64>,
        /// cov(β̂).
        vcov: Mat<f64>,
    },
}

impl Estimator {
    /// The estimator of a fitted linear mixed model with `df`'s method.
    pub fn for_lmm(m: &mut LinearMixedModel, df: EmmDf) -> Result<Self> {
        Ok(match df {
            EmmDf::Asymptotic => Self::wald(m)?,
            EmmDf::Satterthwaite => Estimator::Lmm(LmmTests::new(m, DdfMethod::Satterthwaite)?),
            EmmDf::KenwardRoger => Estimator::Lmm(LmmTests::new(m, DdfMethod::KenwardRoger)?),
        })
    }

    /// The large-sample estimator of any fitted model.
    pub fn wald(m: &impl MixedModel) -> Result<Self> {
        check_fitted(m)?;
        Ok(Estimator::Wald {
            beta: m.beta(),
            vcov: vcov_matrix(m),
        })
    }

    /// Estimate, SE and df of lᵀβ.
    pub fn one_dimensional(&self, l: &[f64]) -> OneDimensional {
        match self {
            Estimator::Lmm(t) => t.one_dimensional(l),
            Estimator::Wald { beta, vcov } => {
                let p = beta.len();
                let var: f64 = (0..p)
                    .map(|i| (0..p).map(|j| l[i] * vcov[(i, j)] * l[j]).sum::<f64>())
                    .sum();
                OneDimensional {
                    estimate: l.iter().zip(beta).map(|(a, b)| a * b).sum(),
                    stderror: var.max(0.0).sqrt(),
                    df: f64::INFINITY,
                }
            }
        }
    }

    /// Estimates (plus `offset`), SEs and df of the functions `l`.
    pub fn estimates(&self, l: &[Vec<f64>], offset: &[f64]) -> Result<Estimates> {
        let p = match self {
            Estimator::Lmm(_) => None,
            Estimator::Wald { beta, .. } => Some(beta.len()),
        };
        let mut out = Estimates::default();
        for (i, row) in l.iter().enumerate() {
            if p.is_some_and(|p| p != row.len()) || row.iter().any(|v| !v.is_finite()) {
                return Err(Error::argument(
                    "L",
                    format!("row {i} is not a finite linear function of the coefficients"),
                ));
            }
            let o = self.one_dimensional(row);
            out.estimate
                .push(o.estimate + offset.get(i).copied().unwrap_or(0.0));
            out.se.push(o.stderror);
            out.df.push(o.df);
        }
        Ok(out)
    }
}

/// Estimates, standard errors and degrees of freedom of several functions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Estimates {
    /// lᵀβ̂ (+ offset).
    pub estimate: Vec<f64>,
    /// Standard errors.
    pub se: Vec<f64>,
    /// Degrees of freedom (∞: large-sample).
    pub df: Vec<f64>,
}

/// Tests and intervals of a family of estimates in `by` groups.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inference {
    /// estimate / SE.
    pub ratio: Vec<f64>,
    /// Two-sided p-values, adjusted within each group.
    pub p: Vec<f64>,
    /// Lower interval ends.
    pub lower: Vec<f64>,
    /// Upper interval ends.
    pub upper: Vec<f64>,
}

/// Which parts of an [`Inference`] to compute (the rest is NaN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InferParts {
    /// The p-values.
    pub tests: bool,
    /// The intervals.
    pub intervals: bool,
}

/// Tests (of estimate = 0) and intervals at `level` of `est`, adjusted with
/// `adjust` within each group of `group` (Tukey: among `nmeans` means);
/// only the `parts` asked for (Tukey's are costly).
pub fn infer(
    est: &Estimates,
    group: &[usize],
    adjust: Adjust,
    level: f64,
    nmeans: usize,
    parts: InferParts,
) -> Result<Inference> {
    if !(level > 0.0 && level < 1.0) {
        return Err(Error::argument(
            "level",
            format!("must be in (0, 1), got {level}"),
        ));
    }
    let n = est.estimate.len();
    if est.se.len() != n || est.df.len() != n || group.len() != n {
        return Err(Error::argument("group", "needs one value per estimate"));
    }
    let mut out = Inference {
        ratio: (0..n).map(|i| est.estimate[i] / est.se[i]).collect(),
        p: vec![f64::NAN; n],
        lower: vec![f64::NAN; n],
        upper: vec![f64::NAN; n],
    };
    let ngroups = group.iter().max().map_or(0, |g| g + 1);
    for g in 0..ngroups {
        let members: Vec<usize> = (0..n).filter(|&i| group[i] == g).collect();
        let t: Vec<f64> = members.iter().map(|&i| out.ratio[i]).collect();
        let df: Vec<f64> = members.iter().map(|&i| est.df[i]).collect();
        if parts.tests {
            let p = adjusted_p(adjust, &t, &df, nmeans);
            for (k, &i) in members.iter().enumerate() {
                out.p[i] = p[k];
            }
        }
        if parts.intervals {
            let crit = critical_values(adjust, level, &df, members.len(), nmeans);
            for (k, &i) in members.iter().enumerate() {
                out.lower[i] = est.estimate[i] - crit[k] * est.se[i];
                out.upper[i] = est.estimate[i] + crit[k] * est.se[i];
            }
        }
    }
    Ok(out)
}
