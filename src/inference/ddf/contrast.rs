//! Tests of one hypothesis matrix L, whatever the method: Satterthwaite or
//! Kenward–Roger for a linear mixed model, the large-sample Wald test (χ²,
//! reported as F = χ²/num_df with den_df = ∞) for any model; and the
//! coefficient table with degrees of freedom.

use faer::Mat;

use super::dist::t_two_sided_p;
use super::{
    reduce_hypothesis, vcov_matrix, DdfMethod, FTest, KenwardRoger, OneDimensional, Satterthwaite,
};
use crate::error::Result;
use crate::lmm::LinearMixedModel;
use crate::model::MixedModel;

/// The ingredients of one df method for a fitted linear mixed model,
/// computed once and shared by all its tests.
#[derive(Debug, Clone)]
pub enum LmmTests {
    /// Satterthwaite's method.
    Satterthwaite(Satterthwaite),
    /// Kenward and Roger's method.
    KenwardRoger(KenwardRoger),
}

impl LmmTests {
    /// Prepare `method` for `m` (the model is left at its estimates).
    pub fn new(m: &mut LinearMixedModel, method: DdfMethod) -> Result<Self> {
        Ok(match method {
            DdfMethod::Satterthwaite => LmmTests::Satterthwaite(Satterthwaite::new(m)?),
            DdfMethod::KenwardRoger => LmmTests::KenwardRoger(KenwardRoger::new(m)?),
        })
    }

    /// Estimate, standard error and df of lᵀβ.
    pub fn one_dimensional(&self, l: &[f64]) -> OneDimensional {
        match self {
            LmmTests::Satterthwaite(s) => s.one_dimensional(l),
            LmmTests::KenwardRoger(k) => k.one_dimensional(l),
        }
    }

    /// The F test of Lβ = rhs.
    pub fn test(&self, l: &Mat<f64>, rhs: &[f64]) -> Result<FTest> {
        match self {
            LmmTests::Satterthwaite(s) => s.test(l, rhs),
            LmmTests::KenwardRoger(k) => k.test(l, rhs),
        }
    }
}

/// One row of the coefficient table with degrees of freedom.
#[derive(Debug, Clone, PartialEq)]
pub struct CoefDfRow {
    /// Coefficient name.
    pub name: String,
    /// β̂ⱼ.
    pub estimate: f64,
    /// Its standard error (Kenward–Roger: from the adjusted covariance).
    pub stderror: f64,
    /// Degrees of freedom of its t statistic.
    pub df: f64,
    /// t = estimate / stderror.
    pub t: f64,
    /// Two-sided p-value from t with `df` degrees of freedom.
    pub p: f64,
}

/// The coefficient table of a fitted linear mixed model with t tests on
/// `method`'s degrees of freedom (lmerTest's `summary(m, ddf = ...)`).
pub fn coeftable_ddf(m: &mut LinearMixedModel, method: DdfMethod) -> Result<Vec<CoefDfRow>> {
    let tests = LmmTests::new(m, method)?;
    let p = m.rank();
    Ok(m.coef_names()
        .into_iter()
        .enumerate()
        .map(|(j, name)| {
            let mut l = vec![0.0; p];
            l[j] = 1.0;
            let o = tests.one_dimensional(&l);
            let t = o.estimate / o.stderror;
            CoefDfRow {
                name,
                estimate: o.estimate,
                stderror: o.stderror,
                df: o.df,
                t,
                p: t_two_sided_p(t, o.df),
            }
        })
        .collect())
}

/// The large-sample Wald test of Lβ = rhs for any fitted model: χ² =
/// (Lβ̂ − rhs)ᵀ(L V Lᵀ)⁻¹(Lβ̂ − rhs) on the rank q of L, reported as
/// F = χ²/q with den_df = ∞ (p from χ²(q)).
pub fn wald_test(m: &impl MixedModel, l: &Mat<f64>, rhs: &[f64]) -> Result<FTest> {
    let reduced = reduce_hypothesis(l, rhs, &m.beta(), &vcov_matrix(m))?;
    let q = reduced.rows.len();
    let chisq: f64 = reduced
        .values
        .iter()
        .zip(&reduced.variances)
        .map(|(v, d)| v * v / d)
        .sum();
    Ok(FTest::new(q, f64::INFINITY, chisq / q as f64))
}

/// The test of Lβ = rhs for a fitted linear mixed model with `method`'s
/// degrees of freedom, or the large-sample Wald test when `method` is None.
pub fn contrast_test(
    m: &mut LinearMixedModel,
    l: &Mat<f64>,
    rhs: &[f64],
    method: Option<DdfMethod>,
) -> Result<FTest> {
    match method {
        None => {
            super::check_fitted(m)?;
            wald_test(m, l, rhs)
        }
        Some(method) => LmmTests::new(m, method)?.test(l, rhs),
    }
}
