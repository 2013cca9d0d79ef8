//! BOBYQA: Bound Optimization BY Quadratic Approximation.
//!
//! This is an implementation of the method of M. J. D. Powell, "The BOBYQA
//! algorithm for bound constrained optimization without derivatives", Report
//! DAMTP 2009/NA06, University of Cambridge (2009), written from the report's
//! description ("the report" below, with its section numbers).
//!
//! * **Interpolation set** (§2).  The method keeps `npt` points
//!   (`n + 2 ≤ npt ≤ (n+1)(n+2)/2`, default `2n + 1`) at which `f` is known.
//!   The first set is the starting point, one or two points at distance
//!   `ρ_beg` along each coordinate direction, and, for `npt > 2n + 1`, points
//!   displaced along two coordinates; the initial quadratic model follows from
//!   divided differences.
//! * **Quadratic model** (§1, §4).  A quadratic `Q` interpolates `f` at all
//!   points.  When a point is replaced, the freedom left by the interpolation
//!   conditions is taken up by minimising the Frobenius norm of the change to
//!   `∇²Q`.  This needs the inverse `H` of the KKT matrix of that problem,
//!   which is updated in `O(npt²)` operations per replacement in a factored
//!   form (`model.rs`; initial values in `design.rs`) that keeps its leading block positive semi-definite.
//!   The point to replace is chosen to keep the denominator of that update
//!   large, weighted by the distance from the best point `x_opt`.
//! * **Trust-region step under bounds** (§3, `trsbox.rs`).  `Q` is minimised
//!   approximately within `‖d‖ ≤ Δ` and the bounds by truncated conjugate
//!   gradients with an active set, followed by searches round the boundary
//!   of the trust region.
//! * **Geometry step** (§3, `altmov.rs`).  When the model is not good enough
//!   and a point lies far from `x_opt`, that point is replaced by one that
//!   makes its Lagrange function large, which improves the poisedness of the
//!   interpolation set.
//! * **ρ reduction** (§1).  Δ is bounded below by ρ, which is reduced (by a
//!   factor of about ten) only when trust-region steps become short and the
//!   model has been seen to be accurate on the scale ρ; the run ends when ρ
//!   reaches `rho_end`.
//!
//! Departures from the report, all documented where they occur: the RESCUE
//! procedure (§5) is replaced by rebuilding the interpolation set around
//! `x_opt` (see `driver.rs`); non-finite values of `f` are replaced for the
//! model by a finite penalty (`objective.rs`); variables whose bounds coincide
//! are removed from the problem; and `rho_begin` is reduced when a pair of
//! bounds is closer than `2 rho_begin`.
//!
//! Variables may be given scales (the method then works on `x_i / scale_i`,
//! as the report assumes variables of comparable magnitude).  An extension
//! outside the report: declared [`SignSymmetry`]s.  When `f` is
//! unchanged by negating a group of variables and the lower bound 0 on one of
//! them (the pivot) only picks one of the two equivalent points, that bound is
//! dropped: the method runs without it and `f` is always called at the
//! representative with a non-negative pivot.  For the relative covariance
//! factor λ of a mixed model, whose columns can be negated without changing
//! `λλᵀ`, the bounds `λ_jj ≥ 0` otherwise create spurious local minima on
//! the boundary (a zero `λ_jj` whose column has the wrong sign is a
//! Karush–Kuhn–Tucker point of the bounded problem); MixedModels.jl 5 also
//! optimises without them and rectifies the signs afterwards.
//!
//! `n = 1` needs no special route: with `npt = 3 = (n+1)(n+2)/2` the model is
//! the full quadratic interpolant of three points, `Z` has one column and the
//! trust-region and geometry steps work on a segment; all formulas above hold.

mod altmov;
mod design;
mod driver;
mod model;
mod objective;
mod trsbox;

#[cfg(test)]
mod tests;

use super::{OptResult, Optimizer, ReturnCode};
use driver::Settings;
use objective::{Objective, Transform};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A symmetry of the objective: `f` is unchanged when `x[pivot]` and every
/// `x[i]`, `i` in `others`, are negated together.
///
/// The pivot must have the bounds `[0, ∞)` and the others `(−∞, ∞)`: the
/// bound on the pivot then only selects one of two points with equal values,
/// and [`Bobyqa`] drops it (see [`Bobyqa::sign_symmetries`]).  The columns of
/// the lower-triangular relative covariance factor λ of a mixed model have
/// this property (λλᵀ does not change when a column is negated); see
/// [`SignSymmetry::covariance_columns`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignSymmetry {
    /// The variable whose lower bound 0 is a normalisation.
    pub pivot: usize,
    /// The variables negated together with the pivot.
    pub others: Vec<usize>,
}

impl SignSymmetry {
    /// The column symmetries of θ laid out as in lme4 and MixedModels.jl:
    /// the lower triangles of the relative covariance factors, column by
    /// column, so that each column starts with its diagonal element (bounds
    /// `[0, ∞)`) followed by its off-diagonal elements (bounds `(−∞, ∞)`).
    /// Every variable with bounds `[0, ∞)` that is followed by at least one
    /// unbounded variable gives one symmetry, whose `others` are the
    /// unbounded variables up to the next bounded one.  Columns without
    /// off-diagonal elements (the last column of a factor, or a diagonal
    /// factor) give none: `f` is even in such a variable, so its bound cannot
    /// create a spurious minimum.
    ///
    /// The caller must know that `f` is a function of θ through the
    /// products λλᵀ only; the bounds cannot tell.
    pub fn covariance_columns(lower: &[f64], upper: &[f64]) -> Vec<SignSymmetry> {
        let n = lower.len().min(upper.len());
        let unbounded = |i: usize| lower[i] == f64::NEG_INFINITY && upper[i] == f64::INFINITY;
        (0..n)
            .filter(|&j| lower[j] == 0.0 && upper[j] == f64::INFINITY)
            .filter_map(|j| {
                let others: Vec<usize> = (j + 1..n).take_while(|&i| unbounded(i)).collect();
                (!others.is_empty()).then_some(SignSymmetry { pivot: j, others })
            })
            .collect()
    }
}

/// Powell's BOBYQA method for bound-constrained derivative-free minimisation.
///
/// The defaults suit the relative covariance parameters θ of a mixed model,
/// whose scale is about 1.  Variables should be scaled so that a change of
/// `rho_begin` is meaningful in each of them.
///
/// As the report prescribes (§2), `x0` is first projected into the box, and a
/// component that lies strictly within `rho_begin` of a bound is moved to
/// distance `rho_begin` from it (a component on a bound stays there), so `f`
/// is not necessarily evaluated at `x0` itself.  Variables whose two bounds
/// are equal are held fixed and not counted in `n`.  `f` may return `+inf` or
/// NaN where it is undefined: such points are kept out of the model's reach
/// by a finite penalty, and are never returned as the solution unless no
/// finite value was ever seen (then the code is a failure).
#[derive(Debug, Clone, PartialEq)]
pub struct Bobyqa {
    /// Initial trust-region radius ρ_beg (default 0.75, as lme4 and
    /// MixedModels.jl use on the θ scale).  It is reduced automatically to
    /// half the smallest distance between a lower and an upper bound.
    pub rho_begin: f64,
    /// Final trust-region radius ρ_end (default 1e-6); it bounds the accuracy
    /// of the solution, roughly in the units of `x`.
    pub rho_end: f64,
    /// Number of interpolation points; default `2n + 1`.  Values outside
    /// `[n + 2, (n+1)(n+2)/2]` are moved to the nearest end of that range.
    pub npt: Option<usize>,
    /// Maximum number of calls to `f` (default 100 000).
    pub max_evaluations: usize,
    /// If set, stop once a successful trust-region step reduces the best
    /// value by less than this amount ([`ReturnCode::FtolReached`]).
    pub ftol_abs: Option<f64>,
    /// Scales of the variables (default: all 1).  The method works on
    /// `x_i / scale_i`: the trust region is a ball in those units, so the
    /// initial step in variable `i` is `scale_i · rho_begin` and `rho_end`
    /// bounds the accuracy of `x_i` roughly by `scale_i · rho_end`.  NLopt's
    /// BOBYQA scales its variables in the same way, to make its per-variable
    /// initial steps equal.
    pub scales: Option<Vec<f64>>,
    /// Symmetries of `f` (default none).  For each one the lower bound 0 on
    /// the pivot is dropped: the method works on the pivot without bounds,
    /// and whenever it has a negative pivot, `f` is called at the point with
    /// the pivot and the others negated instead, which has the same value.
    /// `f` is therefore still only called inside the box, and the result
    /// `x` satisfies the bounds.  Use [`SignSymmetry::covariance_columns`]
    /// for the θ of a mixed model: there the bounded problem has spurious
    /// local minima with a zero diagonal element of λ, and the 55-parameter
    /// sleepstudy model with a categorical `Days` ends in one from the
    /// default start without the symmetries.
    pub sign_symmetries: Vec<SignSymmetry>,
    /// A flag that stops the method before its next call to `f` once set
    /// (the result then carries [`ReturnCode::MaxEvaluations`] and the best
    /// point so far); used to interrupt fits.
    pub stop: Option<StopFlag>,
}

/// A shared flag that stops an optimizer (see [`Bobyqa::stop`]).
#[derive(Debug, Clone)]
pub struct StopFlag(pub Arc<AtomicBool>);

impl StopFlag {
    /// Is the flag set?
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl PartialEq for StopFlag {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl From<Arc<AtomicBool>> for StopFlag {
    fn from(flag: Arc<AtomicBool>) -> Self {
        StopFlag(flag)
    }
}

impl Default for Bobyqa {
    fn default() -> Self {
        Bobyqa {
            rho_begin: 0.75,
            rho_end: 1e-6,
            npt: None,
            max_evaluations: 100_000,
            ftol_abs: None,
            scales: None,
            sign_symmetries: Vec::new(),
            stop: None,
        }
    }
}

impl Bobyqa {
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
        if !(self.rho_begin.is_finite() && self.rho_begin > 0.0) {
            return Err(format!("rho_begin = {} is not positive", self.rho_begin));
        }
        if !(self.rho_end.is_finite() && self.rho_end > 0.0) {
            return Err(format!("rho_end = {} is not positive", self.rho_end));
        }
        for i in 0..n {
            let (l, u) = (lower[i], upper[i]);
            if l.is_nan() || u.is_nan() || l > u || l == f64::INFINITY || u == f64::NEG_INFINITY {
                return Err(format!("bounds [{l}, {u}] of variable {i} admit no value"));
            }
            if !x0[i].is_finite() && !(l == u) {
                return Err(format!("x0[{i}] = {} is not finite", x0[i]));
            }
        }
        if let Some(scales) = &self.scales {
            if scales.len() != n {
                return Err(format!("{} scales for {n} variables", scales.len()));
            }
            if let Some(i) = (0..n).find(|&i| !(scales[i].is_finite() && scales[i] > 0.0)) {
                return Err(format!(
                    "scale {} of variable {i} is not positive",
                    scales[i]
                ));
            }
        }
        let mut used = vec![false; n];
        for (k, sym) in self.sign_symmetries.iter().enumerate() {
            let bad = |why: &str| Err(format!("sign symmetry {k}: {why}"));
            for &i in std::iter::once(&sym.pivot).chain(&sym.others) {
                if i >= n {
                    return bad(&format!("index {i} is out of range"));
                }
                if std::mem::replace(&mut used[i], true) {
                    return bad(&format!("variable {i} belongs to more than one group"));
                }
            }
            if lower[sym.pivot] != 0.0 || upper[sym.pivot] != f64::INFINITY {
                return bad("the pivot must have the bounds [0, inf)");
            }
            if sym
                .others
                .iter()
                .any(|&i| lower[i] != f64::NEG_INFINITY || upper[i] != f64::INFINITY)
            {
                return bad("the other variables must be unbounded");
            }
        }
        Ok(())
    }
}

impl Optimizer for Bobyqa {
    fn minimize(
        &self,
        f: &mut dyn FnMut(&[f64]) -> f64,
        x0: &[f64],
        lower: &[f64],
        upper: &[f64],
    ) -> OptResult {
        if let Err(message) = self.validate(x0, lower, upper) {
            return OptResult {
                x: x0.to_vec(),
                fmin: f64::INFINITY,
                evaluations: 0,
                code: ReturnCode::Failure(message),
            };
        }
        // Variables with equal bounds are fixed; x0 is projected into the box.
        let full: Vec<f64> = (0..x0.len())
            .map(|i| {
                if lower[i] == upper[i] {
                    lower[i]
                } else {
                    x0[i].max(lower[i]).min(upper[i])
                }
            })
            .collect();
        let free: Vec<usize> = (0..x0.len()).filter(|&i| lower[i] < upper[i]).collect();
        // The method works on z = x / scale, without the lower bounds of the
        // pivots of symmetries; `Objective` maps z back to the caller's x.
        let scale: Vec<f64> = match &self.scales {
            Some(s) => free.iter().map(|&i| s[i]).collect(),
            None => vec![1.0; free.len()],
        };
        let mut pivot = vec![false; x0.len()];
        for sym in &self.sign_symmetries {
            pivot[sym.pivot] = true;
        }
        let lo: Vec<f64> = free
            .iter()
            .zip(&scale)
            .map(|(&i, s)| {
                if pivot[i] {
                    f64::NEG_INFINITY
                } else {
                    lower[i] / s
                }
            })
            .collect();
        let up: Vec<f64> = free
            .iter()
            .zip(&scale)
            .map(|(&i, s)| upper[i] / s)
            .collect();
        let mut xs: Vec<f64> = free.iter().zip(&scale).map(|(&i, s)| full[i] / s).collect();
        let transform = Transform {
            scale,
            symmetries: self.sign_symmetries.clone(),
            lower: lower.to_vec(),
            upper: upper.to_vec(),
        };
        let mut obj = Objective::new(
            f,
            full,
            free,
            self.max_evaluations,
            self.stop.clone(),
            transform,
        );

        let code = if xs.is_empty() {
            match obj.eval(&[]) {
                Some(_) => ReturnCode::Converged,
                None => ReturnCode::MaxEvaluations,
            }
        } else {
            let n = xs.len();
            // Report eq. (2.1) asks for upper − lower ≥ 2 ρ_beg.
            let narrowest = lo
                .iter()
                .zip(&up)
                .map(|(l, u)| u - l)
                .fold(f64::INFINITY, f64::min);
            let rho_begin = self.rho_begin.min(0.5 * narrowest);
            let rho_end = self.rho_end.min(rho_begin);
            let npt = self
                .npt
                .unwrap_or(2 * n + 1)
                .clamp(n + 2, (n + 1) * (n + 2) / 2);
            // Report §2: a starting value within ρ_beg of a bound is moved
            // onto the bound if it lies on it, else to distance ρ_beg from it.
            for i in 0..n {
                let (l, u, x) = (lo[i], up[i], xs[i]);
                xs[i] = if x <= l {
                    l
                } else if x < l + rho_begin {
                    l + rho_begin
                } else if x >= u {
                    u
                } else if x > u - rho_begin {
                    u - rho_begin
                } else {
                    x
                };
            }
            let settings = Settings {
                rho_begin,
                rho_end,
                npt,
                ftol_abs: self.ftol_abs,
            };
            driver::run(&settings, &mut obj, xs, &lo, &up)
        };
        OptResult {
            x: obj.best_full_x(),
            fmin: obj.best_f(),
            evaluations: obj.evaluations(),
            code,
        }
    }
}
