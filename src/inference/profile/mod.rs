//! Likelihood profiles and profile confidence intervals (lme4's
//! `profile.merMod` + `confint`, MixedModels.jl's `profile`).
//!
//! For a parameter p with estimate p̂ the profile is
//! ζ(p) = sign(p − p̂) √(d(p) − d(p̂)), where d(p) is the deviance (−2ℓ; the
//! ML deviance for a linear model, also when it was fitted by REML, as lme4's
//! `profile` refits by ML; the Laplace or quadrature deviance for a
//! generalized one) minimised over the other parameters with p held fixed
//! (a *conditional fit*). The parameters are those lme4's
//! `confint(oldNames = FALSE)` reports: each variance component's standard
//! deviation and correlation (`sd_(Intercept)|Subject`,
//! `cor_Days.(Intercept)|Subject`), the residual σ (`sigma`, linear models)
//! and each fixed-effects coefficient. [`steps`] walks from p̂ in both
//! directions until |ζ| exceeds a threshold, choosing each step so that ζ
//! changes by about a fixed amount; [`interval`] turns the points into
//! interval ends, with a monotone spline of p(ζ) and then root finding on the
//! exact ζ(p) (a few more conditional fits per end).
//!
//! The conditional fits of each model are in [`lmm`] and [`glmm`]; the
//! coordinates they optimise over are in [`sdcor`].

mod glmm;
mod interval;
mod lmm;
mod roots;
pub mod sdcor;
mod spline;
mod steps;

pub use glmm::{confint_glmm, profile_glmm};
pub use lmm::{confint_lmm, profile_lmm};
pub use spline::MonotoneCubic;

use crate::error::{Error, Result};
pub use crate::inference::confint_row::level_quantile;
use crate::inference::confint_row::ConfintRow;
use crate::terms::ThetaLayout;

/// What a profiled parameter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterKind {
    /// The standard deviation of a random effect: the row of λ of the
    /// diagonal θ entry with this index.
    Sd(usize),
    /// A correlation of random effects: the off-diagonal θ entry with this index.
    Cor(usize),
    /// The residual standard deviation σ.
    Sigma,
    /// The fixed-effects coefficient with this index.
    Beta(usize),
}

/// A parameter of a profile: name, kind, estimate and the bounds of its range.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// lme4's name (`sd_(Intercept)|Subject`, `sigma`, `Days`).
    pub name: String,
    /// What it is.
    pub kind: ParameterKind,
    /// Its value at the optimum (ζ = 0).
    pub estimate: f64,
    /// Lower end of its range (0 for σ and standard deviations, −1 for
    /// correlations, −∞ for coefficients).
    pub lower: f64,
    /// Upper end (1 for correlations, else +∞).
    pub upper: f64,
}

impl Parameter {
    /// Can the parameter take the value of its lower bound (a standard
    /// deviation of 0, a correlation of −1; not σ = 0)?
    pub fn lower_attainable(&self) -> bool {
        matches!(self.kind, ParameterKind::Sd(_) | ParameterKind::Cor(_))
    }

    /// Can the parameter take the value of its upper bound (a correlation of 1)?
    pub fn upper_attainable(&self) -> bool {
        matches!(self.kind, ParameterKind::Cor(_))
    }
}

/// The parameters of a model in lme4's `confint` order: per θ entry a
/// standard deviation (× `scale`: σ for a linear model, 1 otherwise) or a
/// correlation, then σ when given, then the coefficients.
pub fn model_parameters(
    layout: &ThetaLayout,
    theta: &[f64],
    scale: f64,
    sigma: Option<f64>,
    beta: &[f64],
    beta_names: &[String],
) -> Vec<Parameter> {
    let sdcor = sdcor::sdcor_from_theta(layout, theta);
    let mut out = Vec::with_capacity(sdcor.len() + 1 + beta.len());
    for (i, (e, name)) in layout
        .entries()
        .iter()
        .zip(layout.component_names())
        .enumerate()
    {
        let (kind, estimate, lower, upper) = if e.is_diagonal() {
            (ParameterKind::Sd(i), scale * sdcor[i], 0.0, f64::INFINITY)
        } else {
            (ParameterKind::Cor(i), sdcor[i], -1.0, 1.0)
        };
        out.push(Parameter {
            name: name.clone(),
            kind,
            estimate,
            lower,
            upper,
        });
    }
    if let Some(s) = sigma {
        out.push(Parameter {
            name: "sigma".into(),
            kind: ParameterKind::Sigma,
            estimate: s,
            lower: 0.0,
            upper: f64::INFINITY,
        });
    }
    for (j, (b, name)) in beta.iter().zip(beta_names).enumerate() {
        out.push(Parameter {
            name: name.clone(),
            kind: ParameterKind::Beta(j),
            estimate: *b,
            lower: f64::NEG_INFINITY,
            upper: f64::INFINITY,
        });
    }
    out
}

/// How far and how finely to profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileSettings {
    /// Stop in each direction once |ζ| exceeds this (MixedModels.jl: 4;
    /// lme4: √χ²₀.₉₉ with as many degrees of freedom as parameters). An
    /// interval of level 1 − α needs Φ⁻¹(1 − α/2) ≤ threshold.
    pub threshold: f64,
    /// Aimed change of ζ between neighbouring points (lme4: threshold / 8).
    pub zeta_step: f64,
    /// At most this many points in each direction.
    pub max_points: usize,
    /// A step is at most this multiple of the previous one (lme4's `maxmult`).
    pub max_multiplier: f64,
}

impl Default for ProfileSettings {
    fn default() -> Self {
        ProfileSettings {
            threshold: 4.0,
            zeta_step: 0.5,
            max_points: 100,
            max_multiplier: 10.0,
        }
    }
}

impl ProfileSettings {
    /// Check the settings (a positive finite threshold and step, at least
    /// one point, a multiplier above 1).
    pub fn check(&self) -> Result<()> {
        if !(self.threshold.is_finite() && self.threshold > 0.0) {
            return Err(Error::argument(
                "threshold",
                format!("must be positive and finite, got {}", self.threshold),
            ));
        }
        if !(self.zeta_step.is_finite() && self.zeta_step > 0.0) {
            return Err(Error::argument(
                "zeta_step",
                format!("must be positive and finite, got {}", self.zeta_step),
            ));
        }
        if self.max_points == 0 {
            return Err(Error::argument("max_points", "must be at least 1"));
        }
        if !(self.max_multiplier.is_finite() && self.max_multiplier > 1.0) {
            return Err(Error::argument(
                "max_multiplier",
                format!("must be above 1, got {}", self.max_multiplier),
            ));
        }
        Ok(())
    }
}

/// One point of a profile: a conditional fit with one parameter held fixed.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfilePoint {
    /// ζ = sign(p − p̂) √(d − d̂).
    pub zeta: f64,
    /// The deviance of the conditional fit.
    pub deviance: f64,
    /// Every parameter at the conditional fit (the profiled one included), in
    /// the order of [`Profile::parameters`].
    pub values: Vec<f64>,
    /// The optimizer's coordinates of the other parameters (a start for a
    /// neighbouring conditional fit).
    pub(crate) nuisance: Vec<f64>,
}

/// The point of the parameter space a profile is taken around (the ML or
/// Laplace optimum), to resume conditional fits later (interval refinement).
#[derive(Debug, Clone, PartialEq)]
pub struct BasePoint {
    /// θ at the optimum.
    pub theta: Vec<f64>,
    /// β at the optimum.
    pub beta: Vec<f64>,
}

/// The profile of every parameter of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The parameters (lme4's `confint` order) with their estimates at the optimum.
    pub parameters: Vec<Parameter>,
    /// The deviance at the optimum, d̂.
    pub deviance: f64,
    /// Per parameter its points, in increasing order of its value (the
    /// estimate, ζ = 0, among them).
    pub curves: Vec<Vec<ProfilePoint>>,
    /// The settings the profile was computed with.
    pub settings: ProfileSettings,
    /// What went wrong on the way without stopping the profile (a
    /// conditional fit that failed, a non-monotone stretch).
    pub warnings: Vec<String>,
    /// The optimum (θ, β), for resuming conditional fits.
    pub base: BasePoint,
    /// Is the deviance the ML deviance of a model fitted by REML?
    pub refitted_ml: bool,
    /// Conditional fits computed.
    pub conditional_fits: usize,
}

impl Profile {
    /// Confidence intervals of the given `level` from the profile's points
    /// alone: a monotone cubic through (ζ, p) of each parameter evaluated at
    /// ±Φ⁻¹((1 + level)/2) (as lme4's `confint` of a profile, which inverts an
    /// interpolating spline). [`confint_lmm`] and [`confint_glmm`] refine
    /// these ends on the exact profile.
    pub fn confint(&self, level: f64) -> Result<Vec<ConfintRow>> {
        interval::intervals(self, level, None)
    }

    /// z = Φ⁻¹((1 + level)/2) for an interval of `level`, checked against
    /// the profile's threshold.
    pub(crate) fn quantile_for(&self, level: f64) -> Result<f64> {
        let z = level_quantile(level)?;
        if z > self.settings.threshold {
            return Err(Error::argument(
                "level",
                format!(
                    "an interval of level {level} needs the profile up to |ζ| = {z:.3}, computed \
                     only to {}; profile again with a larger threshold",
                    self.settings.threshold
                ),
            ));
        }
        Ok(z)
    }
}

/// A conditional fit: the deviance minimised with one parameter held fixed.
pub(crate) struct Conditional {
    /// The minimised deviance (+∞ if no finite value was found).
    pub deviance: f64,
    /// The optimum of the other parameters in the optimizer's coordinates.
    pub nuisance: Vec<f64>,
    /// Every parameter at that optimum.
    pub values: Vec<f64>,
}

/// What [`steps`] and [`interval`] need of a model: its parameters, the
/// optimum, and conditional fits. Implemented for each kind of model.
pub(crate) trait ConditionalFit {
    /// The parameters, with their estimates at the optimum.
    fn parameters(&self) -> &[Parameter];

    /// The deviance at the optimum.
    fn deviance(&self) -> f64;

    /// The optimizer's coordinates of the other parameters at the optimum,
    /// when parameter `i` is profiled.
    fn nuisance_start(&self, i: usize) -> Vec<f64>;

    /// A first step away from the estimate of parameter `i` (in its units).
    fn first_step(&self, i: usize) -> f64;

    /// Minimise the deviance with parameter `i` fixed at `value`, starting
    /// the other parameters at `start` (coordinates as in
    /// [`nuisance_start`](Self::nuisance_start)).
    fn conditional(&mut self, i: usize, value: f64, start: &[f64]) -> Result<Conditional>;
}

/// ζ of a conditional fit: sign(p − p̂) √(d − d̂). A deviance below d̂ by
/// more than rounding means the optimum was not one: an error.
pub(crate) fn zeta(value: f64, estimate: f64, deviance: f64, base: f64, name: &str) -> Result<f64> {
    let diff = deviance - base;
    let slack = 1e-6 + 1e-10 * base.abs();
    if diff < -slack {
        return Err(Error::Convergence {
            message: format!(
                "profiling `{name}` found a deviance {deviance} below the optimum's {base} (at \
                 {name} = {value}): the model is not at its optimum; refit it first"
            ),
        });
    }
    Ok((value - estimate).signum() * diff.max(0.0).sqrt())
}
