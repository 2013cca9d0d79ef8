//! Checks that refuse or flag models lme4 refuses or warns about: too few
//! observations for the grouping factors or random effects (lme4's
//! `check.nobs.vs.nlev` and `check.nobs.vs.nRE`), random-effects terms that
//! look reversed (found while the terms are built, `terms::reversed_terms`),
//! and, after a linear mixed model's fit, a residual variance that is not
//! identified.
//!
//! A check that does not refuse reports a [`ModelWarning`]: a kind, the term
//! involved and a sentence. The models keep them (`warnings()`); the Python
//! layer turns each kind into its warning class.

use crate::error::{Error, Result};
pub use crate::terms::reversed_terms;
use crate::terms::{ModelTerms, ReTerm};
pub use crate::warning::{ModelWarning, WarningKind};

/// What to do when a check of the data against the model fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CheckAction {
    /// Refuse the model (lme4's `"stop"`, the default).
    #[default]
    Error,
    /// Build the model and report a [`ModelWarning`].
    Warn,
    /// Build the model silently.
    Ignore,
}

impl CheckAction {
    /// The action named `"error"`, `"warn"` or `"ignore"`.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "error" => Ok(CheckAction::Error),
            "warn" => Ok(CheckAction::Warn),
            "ignore" => Ok(CheckAction::Ignore),
            other => Err(Error::argument(
                "check_nobs",
                format!("must be \"error\", \"warn\" or \"ignore\", got {other:?}"),
            )),
        }
    }
}

/// lme4's `check.nobs.vs.nlev` and `check.nobs.vs.nRE` on `n` observations:
/// every grouping factor needs fewer levels than observations, every formula
/// term (block of λ) fewer random effects (levels × columns). With
/// `allow_n` (glmer's rule) as many as observations are allowed. Refuses
/// ([`Error::Term`] naming the grouping factor) or reports per `action`.
pub fn check_nobs(
    random: &[ReTerm],
    n: usize,
    action: CheckAction,
    allow_n: bool,
) -> Result<Vec<ModelWarning>> {
    let too_many = |k: usize| if allow_n { k > n } else { k >= n };
    let (fewer, than) = if allow_n {
        ("at most as many", "as")
    } else {
        ("fewer", "than")
    };
    let mut found = Vec::new();
    for t in random {
        if too_many(t.nlevels()) {
            found.push(ModelWarning {
                kind: WarningKind::NobsVsNlev,
                term: Some(t.grouping.clone()),
                message: format!(
                    "grouping factor `{}` has {} levels for {n} observations; it needs {fewer} \
                     levels {than} observations, else the random effects cannot be told from the \
                     residual (lme4's check.nobs.vs.nlev)",
                    t.grouping,
                    t.nlevels()
                ),
            });
        }
        let widest = t.block_sizes().into_iter().max().unwrap_or(0);
        if too_many(t.nlevels() * widest) {
            found.push(ModelWarning {
                kind: WarningKind::NobsVsNre,
                term: Some(t.grouping.clone()),
                message: format!(
                    "the term of grouping factor `{}` has {} random effects ({} levels × {widest} \
                     columns) for {n} observations; it needs {fewer} random effects {than} \
                     observations, else the random effects and the residual are not identified \
                     (lme4's check.nobs.vs.nRE); simplify the term",
                    t.grouping,
                    t.nlevels() * widest,
                    t.nlevels()
                ),
            });
        }
    }
    match (action, found.first()) {
        (CheckAction::Error, Some(w)) => Err(Error::Term {
            term: w.term.clone().unwrap_or_default(),
            message: format!(
                "{}; pass check_nobs=\"warn\" or \"ignore\" to fit it anyway",
                w.message
            ),
        }),
        (CheckAction::Ignore, _) => Ok(vec![]),
        _ => Ok(found),
    }
}

/// The checks made while building a model on `terms`: the reversed-term
/// warnings of the terms and [`check_nobs`]. A refusal also carries the
/// reversed-term sentences, which usually explain it.
pub fn build_checks(
    terms: &ModelTerms,
    action: CheckAction,
    allow_n: bool,
) -> Result<Vec<ModelWarning>> {
    match check_nobs(&terms.random, terms.nobs(), action, allow_n) {
        Ok(found) => Ok(terms.warnings.iter().cloned().chain(found).collect()),
        Err(Error::Term { term, message }) if !terms.warnings.is_empty() => {
            let hints: Vec<&str> = terms.warnings.iter().map(|w| w.message.as_str()).collect();
            Err(Error::Term {
                term,
                message: format!("{message}. Note: {}", hints.join("; ")),
            })
        }
        Err(e) => Err(e),
    }
}

/// σ̂ below this fraction of the response's standard deviation counts as
/// vanished (an R² above 1 − 10⁻⁶: the model reproduces the data).
pub const SIGMA_VANISHES: f64 = 1e-3;

/// After a linear mixed model's fit with σ estimated: the response `y` (as
/// fitted, offset removed) constant within every level of a grouping factor
/// (one with fewer levels than observations: one observation per level is
/// [`check_nobs`]'s case),
/// or σ̂ negligible against the spread of `y`, means the residual variance is
/// not identified (σ → 0, θ → ∞). One warning at most.
pub fn residual_checks(random: &[ReTerm], y: &[f64], sigma: f64) -> Option<ModelWarning> {
    let n = y.len() as f64;
    let mean = y.iter().sum::<f64>() / n;
    let spread = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let tol = 1e-10 * spread.max(mean.abs()).max(f64::MIN_POSITIVE);
    for t in random.iter().filter(|t| t.nlevels() < t.refs.len()) {
        let mut lo = vec![f64::INFINITY; t.nlevels()];
        let mut hi = vec![f64::NEG_INFINITY; t.nlevels()];
        for (&l, &v) in t.refs.iter().zip(y) {
            lo[l as usize] = lo[l as usize].min(v);
            hi[l as usize] = hi[l as usize].max(v);
        }
        if lo.iter().zip(&hi).all(|(a, b)| b - a <= tol) {
            return Some(ModelWarning {
                kind: WarningKind::ConstantWithinGroups,
                term: Some(t.grouping.clone()),
                message: format!(
                    "the response is constant within every level of `{}`, so the residual \
                     variance is not identified (σ̂ = {sigma:.3e} went to zero and the relative \
                     covariance parameters grew without bound); the estimates are meaningless: \
                     drop the term or model the group means",
                    t.grouping
                ),
            });
        }
    }
    (spread > 0.0 && sigma < SIGMA_VANISHES * spread).then(|| ModelWarning {
        kind: WarningKind::ResidualVanishes,
        term: None,
        message: format!(
            "the residual standard deviation went to zero (σ̂ = {sigma:.3e}, the response's \
             standard deviation is {spread:.3e}): the random effects reproduce the data and the \
             residual variance is not identified; simplify the random-effects terms"
        ),
    })
}
