//! May these models be compared by a likelihood-ratio test?
//!
//! As lme4's `anova` and MixedModels.jl's `likelihoodratiotest` require, the
//! models must be of the same family and link, fitted to the same rows with
//! the same response (and weights), and nested, each in the next: the fixed
//! effects' column space and the random-effects terms (see
//! [`nesting`](super::nesting)).

use super::nesting::{fixed_not_nested, random_not_nested, NESTED_TOL};
use crate::error::{Error, Result};
use crate::model::MixedModel;
use crate::terms::ModelTerms;
use crate::{GeneralizedLinearMixedModel, LinearMixedModel};

/// Relative tolerance for "the same response": |a − b| ≤ this · max(|a|, |b|)
/// at every observation (and the same for weights).
pub const RESPONSE_TOL: f64 = 1e-10;

/// A fitted model as a likelihood-ratio test sees it.
#[derive(Debug, Clone)]
pub struct ComparedModel<'a> {
    /// Its terms: X, the random-effects terms, the rows of the data used.
    pub terms: &'a ModelTerms,
    /// The response at the rows used.
    pub response: &'a [f64],
    /// Case or prior weights (None: all 1).
    pub weights: Option<Vec<f64>>,
    /// Family and link of a generalized linear mixed model (None: linear).
    pub family: Option<(String, String)>,
    /// Number of parameters.
    pub dof: usize,
}

impl<'a> ComparedModel<'a> {
    /// A linear mixed model as it is now (its response may have been replaced).
    pub fn lmm(m: &'a LinearMixedModel) -> Self {
        ComparedModel {
            terms: &m.terms,
            response: m.y(),
            weights: m.weights(),
            family: None,
            dof: m.dof(),
        }
    }

    /// A generalized linear mixed model.
    pub fn glmm(m: &'a GeneralizedLinearMixedModel) -> Self {
        ComparedModel {
            terms: m.terms(),
            response: m.y(),
            weights: m.has_prior_weights().then(|| m.prior_weights().to_vec()),
            family: Some((m.family().name().into(), m.link().name().into())),
            dof: m.dof(),
        }
    }

    fn kind(&self) -> String {
        match &self.family {
            None => "a linear mixed model".into(),
            Some((f, l)) => format!("a generalized linear mixed model ({f}, {l} link)"),
        }
    }
}

/// What [`check_models`] found besides the refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comparison {
    /// Do all models have the same fixed-effects column space (each nested in
    /// the other)? Then REML fits may be compared by their REML criteria.
    pub same_fixed_effects: bool,
}

fn differ(model: usize, other: usize, reason: &str, message: String) -> Error {
    Error::Comparison {
        model,
        other,
        reason: reason.into(),
        message,
    }
}

/// Values equal to [`RESPONSE_TOL`]: the first index where they differ.
fn first_difference(a: &[f64], b: &[f64]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| (x - y).abs() > RESPONSE_TOL * x.abs().max(y.abs()))
}

/// Refuse, with an [`Error::Comparison`] naming the model and what differs,
/// models (simplest first) that a likelihood-ratio test cannot compare: of
/// another family or link than the first, fitted to other rows, another
/// response or other weights than the first; an [`Error::Argument`] when
/// they are fewer than two or their parameter counts do not increase. With
/// `check_nested`, also each model not nested in the next (reason
/// `fixed effects`: a column of its X is not in the column space of the
/// next model's X, to [`NESTED_TOL`]; `random effects`: a term whose groups,
/// columns and covariance parameters the next model's terms do not cover).
///
/// ```
/// use mixedmodels::data::{Column, Data};
/// use mixedmodels::inference::{check_models, ComparedModel};
/// use mixedmodels::{LinearMixedModel, LmmOptions};
/// let data = Data::new()
///     .with_column("y", Column::numeric(vec![1.0, 2.5, 2.0, 4.5, 3.0, 6.5, 5.0, 7.0]))?
///     .with_column("x", Column::numeric(vec![0.0, 1.0, 2.0, 3.0, 0.0, 1.0, 2.0, 3.0]))?
///     .with_column("g", Column::categorical(
///         vec![0, 0, 1, 1, 2, 2, 3, 3],
///         ["a", "b", "c", "d"].map(String::from).to_vec(),
///     ))?;
/// let o = LmmOptions::default();
/// let m0 = LinearMixedModel::new("y ~ 1 + (1 | g)", &data, &o)?;
/// let m1 = LinearMixedModel::new("y ~ 1 + x + (1 | g)", &data, &o)?;
/// let c = check_models(&[ComparedModel::lmm(&m0), ComparedModel::lmm(&m1)], true)?;
/// assert!(!c.same_fixed_effects);
/// assert!(check_models(&[ComparedModel::lmm(&m1), ComparedModel::lmm(&m0)], true).is_err());
/// # Ok::<(), mixedmodels::Error>(())
/// ```
pub fn check_models(models: &[ComparedModel<'_>], check_nested: bool) -> Result<Comparison> {
    if models.len() < 2 {
        return Err(Error::argument(
            "models",
            "a likelihood-ratio test needs at least two models",
        ));
    }
    let first = &models[0];
    for (i, m) in models.iter().enumerate().skip(1) {
        check_same_data(first, m, i + 1)?;
    }
    for (i, pair) in models.windows(2).enumerate() {
        if pair[1].dof <= pair[0].dof {
            return Err(Error::argument(
                "models",
                format!(
                    "model {} has {} parameters, no more than model {} ({}): give the models \
                     simplest first",
                    i + 2,
                    pair[1].dof,
                    i + 1,
                    pair[0].dof
                ),
            ));
        }
    }
    let mut same_fixed_effects = true;
    for (i, pair) in models.windows(2).enumerate() {
        let (small, large) = (&pair[0].terms, &pair[1].terms);
        let fixed = fixed_not_nested(&small.fixed, &large.fixed);
        same_fixed_effects &=
            fixed.is_none() && fixed_not_nested(&large.fixed, &small.fixed).is_none();
        if !check_nested {
            continue;
        }
        if let Some((column, r)) = fixed {
            return Err(differ(
                i + 1,
                i + 2,
                "fixed effects",
                format!(
                "its fixed effects are not nested in those of model {}: the column `{column}` is \
                 not in the column space of that model's fixed-effects matrix (relative residual \
                 {r:.3e} > {NESTED_TOL:e}); give nested models simplest first, or pass \
                 check_nested=False to compare them anyway",
                i + 2
            ),
            ));
        }
        if let Some(g) = random_not_nested(&small.random, &large.random) {
            return Err(differ(
                i + 1,
                i + 2,
                "random effects",
                format!(
                "its random effects are not nested in those of model {}: that model has no term \
                 grouping the rows by `{g}` with at least this model's columns and covariance \
                 parameters; give nested models simplest first, or pass check_nested=False to \
                 compare them anyway",
                i + 2
            ),
            ));
        }
    }
    Ok(Comparison { same_fixed_effects })
}

/// Refuse model `k` (1-based) unless it has `first`'s family, rows, response
/// and weights.
fn check_same_data(first: &ComparedModel<'_>, m: &ComparedModel<'_>, k: usize) -> Result<()> {
    if m.family != first.family {
        return Err(differ(
            k,
            1,
            "family",
            format!(
            "it is {}, model 1 is {}; a likelihood-ratio test compares models of the same family \
             and link",
            m.kind(),
            first.kind()
        ),
        ));
    }
    let (rows, rows1) = (&m.terms.rows, &first.terms.rows);
    if rows.len() != rows1.len() {
        return Err(differ(
            k,
            1,
            "rows",
            format!(
            "it was fitted to {} observations, model 1 to {}: the models must use the same rows \
             of the same data (drop rows with missing values in any model's variables before \
             fitting them all)",
            rows.len(),
            rows1.len()
        ),
        ));
    }
    if let Some(i) = rows.iter().zip(rows1).position(|(a, b)| a != b) {
        return Err(differ(
            k,
            1,
            "rows",
            format!(
            "its observation {i} is row {} of the data, model 1's is row {}: the models must use \
             the same rows of the same data",
            rows[i], rows1[i]
        ),
        ));
    }
    if let Some(i) = first_difference(m.response, first.response) {
        return Err(differ(
            k,
            1,
            "response",
            format!(
            "its response `{}` is {} at observation {i} (row {} of the data), model 1's `{}` is \
             {}: the models must have the same response values",
            m.terms.response_name, m.response[i], rows[i], first.terms.response_name,
            first.response[i]
        ),
        ));
    }
    let ones = vec![1.0; rows.len()];
    let (w, w1) = (
        m.weights.as_deref().unwrap_or(&ones),
        first.weights.as_deref().unwrap_or(&ones),
    );
    if let Some(i) = first_difference(w, w1) {
        return Err(differ(
            k,
            1,
            "weights",
            format!(
                "its weight at observation {i} (row {} of the data) is {}, model 1's is {}: the \
             models must have the same weights",
                rows[i], w[i], w1[i]
            ),
        ));
    }
    Ok(())
}
