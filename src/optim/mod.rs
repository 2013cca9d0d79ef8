//! Bound-constrained minimisation, with and without derivatives.
//!
//! The profiled deviance of a linear mixed model is minimised over the
//! relative covariance parameters θ subject to simple bounds (a lower bound of
//! zero on the diagonal elements of each relative covariance factor, no bound
//! on the off-diagonal elements). The objective is smooth, and its exact
//! gradient is read off the factor (`lmm::gradient`), so it is minimised with
//! a projected quasi-Newton method, [`Bfgs`], which takes the gradient
//! through [`GradientObjective`]. Where no gradient is available (GLMMs), or
//! as a fallback, Powell's (2009) derivative-free BOBYQA method, [`Bobyqa`],
//! minimises it, as in lme4 and MixedModels.jl.
//!
//! The bounds `λ_jj ≥ 0` only choose one of the factors λ with the same
//! `λλᵀ` (a column of λ can be negated), yet they create spurious local
//! minima on the boundary: a zero `λ_jj` whose column has the "wrong" signs
//! is a Karush–Kuhn–Tucker point of the bounded problem.  Both our BOBYQA
//! and NLopt's (lme4's default) stop in such points on the 55-parameter
//! model `Reaction ~ 1 + Days + (1 + Days | Subject)` with a categorical
//! `Days`, depending on the initial steps.  The θ layout of the model
//! (`terms::ThetaLayout`) declares these symmetries ([`SignSymmetry`]), which lets both methods work
//! without those bounds while still calling `f` only inside them.
//!
//! The derivative-free optimizers implement [`Optimizer`]: it receives the
//! objective as a `FnMut(&[f64]) -> f64`, a starting point and the bounds
//! (either of which may be infinite), and returns an [`OptResult`]. [`Bfgs`]
//! takes a [`GradientObjective`] instead and returns a [`GradientResult`]
//! (convertible to an [`OptResult`]). The objective may return `+inf` (or
//! NaN, treated as `+inf`) where it is undefined.

mod bfgs;
mod bobyqa;

pub use bfgs::{Bfgs, FnGradient, GradientObjective, GradientResult};
pub use bobyqa::{Bobyqa, SignSymmetry, StopFlag};

#[cfg(test)]
mod tests;

/// Why the optimizer stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum ReturnCode {
    /// The trust-region radius reached `rho_end`: normal convergence.
    Converged,
    /// A successful trust-region step reduced `f` by less than `ftol_abs`.
    FtolReached,
    /// The budget of `max_evaluations` calls to `f` was used up.
    MaxEvaluations,
    /// The arguments were invalid, `f` was never finite, or rounding errors
    /// made further progress impossible; the message says which.  `x` and
    /// `fmin` of the result still hold the best point found, if any.
    Failure(String),
}

/// Outcome of a minimisation.
#[derive(Debug, Clone)]
pub struct OptResult {
    /// The best point found; it always satisfies the bounds.
    pub x: Vec<f64>,
    /// The objective at `x` (`+inf` if `f` never returned a finite value).
    pub fmin: f64,
    /// The exact number of calls made to `f`.
    pub evaluations: usize,
    /// Why the optimizer stopped.
    pub code: ReturnCode,
}

/// A bound-constrained derivative-free minimiser.
pub trait Optimizer {
    /// Minimise `f` over the box `lower <= x <= upper`, starting from `x0`.
    ///
    /// `lower` may hold `f64::NEG_INFINITY` and `upper` `f64::INFINITY`.  The
    /// three slices must have the same length.  `f` is called only at points
    /// inside the box; it may return `+inf` or NaN where it is undefined.
    fn minimize(
        &self,
        f: &mut dyn FnMut(&[f64]) -> f64,
        x0: &[f64],
        lower: &[f64],
        upper: &[f64],
    ) -> OptResult;
}
