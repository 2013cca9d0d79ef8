//! A bound-constrained quasi-Newton method that uses the gradient: projected
//! BFGS with an ε-active set and a projected backtracking line search.
//!
//! * **Active set** (Bertsekas 1982, "Projected Newton methods for
//!   optimization problems with simple constraints", SIAM J. Control Optim.
//!   20). A variable within ε of a bound whose gradient points out of the
//!   box is active: it moves straight to its bound. ε is the smaller of a
//!   fixed width and ‖x − P(x − g)‖∞, so that the set settles on the bounds
//!   that hold at the solution as the iterates converge.
//! * **Direction.** The free variables take the quasi-Newton step
//!   d_F = −B_FF⁻¹ g_F with the reduced matrix of the Hessian approximation
//!   B; the first step (before B has seen a secant pair) is steepest
//!   descent of length `initial_step`, or −g/γ when the caller gives the
//!   objective's curvature γ (`initial_curvature`). The caller may also
//!   name variables whose columns of the Hessian are found at the start by
//!   differencing the gradient (`differenced_columns`, one value and one
//!   gradient each): B then starts as that estimate, the other columns γI,
//!   and the first step is a Newton step in those variables.
//! * **Line search.** Points x(α) = P(x + αd) on the projected path, from
//!   α = 1, backtracking by safeguarded quadratic interpolation until the
//!   Armijo condition f(x(α)) ≤ f(x) + 10⁻⁴ gᵀ(x(α) − x) holds; a point
//!   where f is +∞ or NaN shrinks α tenfold. Only the accepted point gets a
//!   gradient, so a rejected trial costs one evaluation of f.
//! * **Update** (`hessian.rs`). BFGS on the pair (s, y) = (x₊ − x, g₊ − g),
//!   after rescaling the initial B = γI by yᵀy / sᵀy (Shanno and Phua
//!   1978); self-scaled when B overestimates the curvature along s
//!   (Oren and Luenberger 1974; Al-Baali 1998), skipped when sᵀy ≤ 0, and
//!   damped (Powell 1978) against rounding, so that B stays positive
//!   definite without a curvature condition in the line search.
//! * **Stopping.** With the projected gradient pg (zero for an active
//!   variable) and the scaled measure m = maxᵢ |pgᵢ|·max(|xᵢ|, 1)/max(|f|, 1)
//!   (the form of the fit's convergence certificate): converged when
//!   m ≤ `gtol` and the quasi-Newton step is shorter than
//!   `xtol`·max(1, ‖x‖∞) (the step test is skipped before the first secant
//!   pair, or without `confirm_gradient_by_step`), or when m ≤ 1000·`gtol`
//!   and the step is that short ([`ReturnCode::Converged`]). Near the
//!   minimum f may no longer resolve the decrease a step predicts (rounding
//!   in a large f): where the quadratic model's decrease −gᵀd/2 is below
//!   10⁻¹² of max(|f|, 1), the quasi-Newton step is taken without a line
//!   search when f rises by at most that much and m shrinks; when it does
//!   not, the method stops ([`ReturnCode::FtolReached`]) if m ≤ 1000·`gtol`
//!   and searches the line as usual otherwise; also when m ≤ 1000·`gtol` and the last
//!   two steps each reduced f by at most `ftol_rel`·max(|f|, 1)
//!   ([`ReturnCode::FtolReached`]); stopped after `max_evaluations` values
//!   of f or when the stop flag is set ([`ReturnCode::MaxEvaluations`]);
//!   failed when no step along a descent direction decreases f while m is
//!   larger, or the gradient is not finite ([`ReturnCode::Failure`]).
//!
//! Sign symmetries work as in [`Bobyqa`](super::Bobyqa): the lower bound 0
//! of a pivot is dropped, and f and its gradient are evaluated at the mirror
//! image with the pivot and its group negated, the gradient mapped back by
//! the same signs. A symmetry without `others` declares f even in its
//! pivot (a column of λ without off-diagonal entries). The variables may be
//! scaled (the method works on xᵢ/scaleᵢ).

mod hessian;
mod iterate;

#[cfg(test)]
mod tests;

use super::{OptResult, ReturnCode, SignSymmetry, StopFlag};
use iterate::{run, Wrapped};

/// An objective with a gradient.
pub trait GradientObjective {
    /// The value at `x` (+∞ or NaN where f is undefined).
    fn value(&mut self, x: &[f64]) -> f64;
    /// The gradient at `x` into `g`. [`Bfgs`] calls it only at the point of
    /// its last call to [`value`](Self::value), after a finite value, so an
    /// implementation may reuse the work of that call.
    fn gradient(&mut self, x: &[f64], g: &mut [f64]);
}

/// A [`GradientObjective`] from a closure `f(x, g)` that returns the value
/// and, when `g` is given, writes the gradient into it.
pub struct FnGradient<F>(pub F);

impl<F: FnMut(&[f64], Option<&mut [f64]>) -> f64> GradientObjective for FnGradient<F> {
    fn value(&mut self, x: &[f64]) -> f64 {
        (self.0)(x, None)
    }

    fn gradient(&mut self, x: &[f64], g: &mut [f64]) {
        (self.0)(x, Some(g));
    }
}

/// Projected BFGS for bound-constrained minimisation with a gradient (see
/// the module docs). The defaults suit the θ of a mixed model.
#[derive(Debug, Clone, PartialEq)]
pub struct Bfgs {
    /// Most values of f (default 10 000); gradients are not counted.
    pub max_evaluations: usize,
    /// Tolerance of the scaled projected gradient (default 1e-9).
    pub gtol: f64,
    /// Tolerance of the quasi-Newton step, relative to max(1, ‖x‖∞)
    /// (scaled units; default 1e-8).
    pub xtol: f64,
    /// Tolerance of the last two decreases of f, relative to max(|f|, 1)
    /// (default 1e-13).
    pub ftol_rel: f64,
    /// Length (max-norm, scaled units) of the first, steepest-descent step
    /// (default 0.75, BOBYQA's initial radius on θ).
    pub initial_step: f64,
    /// Scales of the variables (default all 1): the method works on
    /// `x_i / scale_i`.
    pub scales: Option<Vec<f64>>,
    /// The curvature γ of the objective in the scaled variables, when the
    /// caller knows it (default None): the first step is then the
    /// quasi-Newton step of B = γI, −g/γ, instead of steepest descent of
    /// length `initial_step` (B is rescaled from the first secant pair as
    /// usual).
    pub initial_curvature: Option<f64>,
    /// Variables (indices) whose columns of the Hessian are estimated at the
    /// start by a forward difference of the gradient, one value and one
    /// gradient each (default none): the variables whose curvature and
    /// coupling to the others the caller cannot guess. The other entries
    /// of B₀ are γI with γ = `initial_curvature` (1 if None); B₀ is used
    /// as is (not rescaled by the first secant pair). When the estimate is
    /// not positive definite (or f is undefined at a differencing point)
    /// the method starts as without it.
    pub differenced_columns: Vec<usize>,
    /// B₀ given whole (row-major n × n, in the scaled variables; default
    /// None): a Hessian approximation the caller already has, such as the
    /// final B of an earlier stage over some of the variables
    /// ([`GradientResult::hessian`]). Used as is (not rescaled by the
    /// first secant pair), with `differenced_columns` then estimated on
    /// top of it; ignored when it is not positive definite.
    pub initial_hessian: Option<Vec<f64>>,
    /// Whether a scaled gradient under `gtol` must also show a quasi-Newton
    /// step shorter than `xtol` (once B has seen a secant pair) before the
    /// method stops (default true). The measure is relative to |f|: for a
    /// deviance of 10⁷ it is met 10⁻⁸ away from the minimum in a direction
    /// of small curvature, and rounding in the data then moves the answer.
    /// Set false where the gradient itself is only that accurate (a GLMM's,
    /// through PIRLS's tolerance).
    pub confirm_gradient_by_step: bool,
    /// Symmetries of f (see the module docs); pivots must have the bounds
    /// [0, ∞) and their others none.
    pub sign_symmetries: Vec<SignSymmetry>,
    /// A flag that stops the method before its next value of f once set
    /// (code [`ReturnCode::MaxEvaluations`], best point so far).
    pub stop: Option<StopFlag>,
}

impl Default for Bfgs {
    fn default() -> Self {
        Bfgs {
            max_evaluations: 10_000,
            gtol: 1e-9,
            xtol: 1e-8,
            ftol_rel: 1e-13,
            initial_step: 0.75,
            scales: None,
            initial_curvature: None,
            differenced_columns: Vec::new(),
            initial_hessian: None,
            confirm_gradient_by_step: true,
            sign_symmetries: Vec::new(),
            stop: None,
        }
    }
}

/// Outcome of a minimisation with [`Bfgs`].
#[derive(Debug, Clone)]
pub struct GradientResult {
    /// The last accepted point (the best, as f decreases monotonically); it
    /// satisfies the bounds.
    pub x: Vec<f64>,
    /// f at `x` (+∞ if f was not finite at the start).
    pub fmin: f64,
    /// The gradient at `x` as the objective returned it (empty if none
    /// was computed).
    pub gradient: Vec<f64>,
    /// Values of f.
    pub evaluations: usize,
    /// Gradients.
    pub gradient_evaluations: usize,
    /// Accepted steps.
    pub iterations: usize,
    /// The method's final approximation B of the Hessian (row-major n × n,
    /// in the scaled variables, with the signs of the returned `x`), or
    /// empty when it had none (stopped before a secant pair).
    pub hessian: Vec<f64>,
    /// Why the method stopped.
    pub code: ReturnCode,
}

impl GradientResult {
    /// The result in the form of the derivative-free optimizers.
    pub fn to_opt_result(&self) -> OptResult {
        OptResult {
            x: self.x.clone(),
            fmin: self.fmin,
            evaluations: self.evaluations,
            code: self.code.clone(),
        }
    }
}

impl Bfgs {
    /// Check the arguments; the message of the failure otherwise.
    fn validate(&self, x0: &[f64], lower: &[f64], upper: &[f64]) -> Result<(), String> {
        let n = x0.len();
        if lower.len() != n || upper.len() != n {
            return Err(format!(
                "x0, lower and upper have lengths {n}, {} and {}",
                lower.len(),
                upper.len()
            ));
        }
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if ![self.gtol, self.xtol, self.ftol_rel, self.initial_step]
            .into_iter()
            .chain(self.initial_curvature)
            .all(positive)
        {
            return Err(
                "gtol, xtol, ftol_rel, initial_step and initial_curvature must be positive".into(),
            );
        }
        for i in 0..n {
            let (l, u) = (lower[i], upper[i]);
            if l.is_nan() || u.is_nan() || l > u || l == f64::INFINITY || u == f64::NEG_INFINITY {
                return Err(format!("bounds [{l}, {u}] of variable {i} admit no value"));
            }
            if !x0[i].is_finite() {
                return Err(format!("x0[{i}] = {} is not finite", x0[i]));
            }
        }
        if self.differenced_columns.iter().any(|&i| i >= n) {
            return Err("differenced_columns must index variables".into());
        }
        if let Some(b) = &self.initial_hessian {
            if b.len() != n * n || !b.iter().all(|v| v.is_finite()) {
                return Err("initial_hessian must be a finite n × n matrix".into());
            }
        }
        if let Some(scales) = &self.scales {
            if scales.len() != n || !scales.iter().all(|&s| positive(s)) {
                return Err("the scales must be positive, one per variable".into());
            }
        }
        let mut used = vec![false; n];
        for (k, sym) in self.sign_symmetries.iter().enumerate() {
            for &i in std::iter::once(&sym.pivot).chain(&sym.others) {
                if i >= n || std::mem::replace(&mut used[i], true) {
                    return Err(format!(
                        "sign symmetry {k}: variable {i} is out of range or in two groups"
                    ));
                }
            }
            let free = |i: usize| lower[i] == f64::NEG_INFINITY && upper[i] == f64::INFINITY;
            if lower[sym.pivot] != 0.0
                || upper[sym.pivot] != f64::INFINITY
                || !sym.others.iter().all(|&i| free(i))
            {
                return Err(format!(
                    "sign symmetry {k}: the pivot must have the bounds [0, inf), the others none"
                ));
            }
        }
        Ok(())
    }

    /// Minimise `f` over the box `lower <= x <= upper` from `x0` (projected
    /// into the box). `f` is called only inside the box.
    pub fn minimize(
        &self,
        f: &mut dyn GradientObjective,
        x0: &[f64],
        lower: &[f64],
        upper: &[f64],
    ) -> GradientResult {
        if let Err(message) = self.validate(x0, lower, upper) {
            return GradientResult {
                x: x0.to_vec(),
                fmin: f64::INFINITY,
                gradient: vec![],
                evaluations: 0,
                gradient_evaluations: 0,
                iterations: 0,
                hessian: vec![],
                code: ReturnCode::Failure(message),
            };
        }
        let n = x0.len();
        let scale = self.scales.clone().unwrap_or_else(|| vec![1.0; n]);
        let mut pivot = vec![false; n];
        self.sign_symmetries
            .iter()
            .for_each(|s| pivot[s.pivot] = true);
        let lo: Vec<f64> = (0..n)
            .map(|i| {
                if pivot[i] {
                    f64::NEG_INFINITY
                } else {
                    lower[i] / scale[i]
                }
            })
            .collect();
        let up: Vec<f64> = (0..n).map(|i| upper[i] / scale[i]).collect();
        let z0: Vec<f64> = (0..n)
            .map(|i| x0[i].max(lower[i]).min(upper[i]) / scale[i])
            .collect();
        let mut wrapped = Wrapped::new(
            f,
            scale,
            self.sign_symmetries.clone(),
            (lower.to_vec(), upper.to_vec()),
            self.max_evaluations,
            self.stop.clone(),
        );
        let mut hessian = None;
        let (state, code) = run(self, &mut wrapped, z0, &lo, &up, &mut hessian);
        GradientResult {
            x: wrapped.caller_point(&state.z),
            hessian: hessian
                .map(|b| wrapped.oriented(b.matrix()))
                .unwrap_or_default(),
            fmin: state.f,
            gradient: state.caller_gradient,
            evaluations: wrapped.evaluations,
            gradient_evaluations: wrapped.gradients,
            iterations: state.iterations,
            code,
        }
    }
}
