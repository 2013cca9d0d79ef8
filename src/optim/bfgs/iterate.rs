//! The iteration of [`Bfgs`]: the objective behind a counting wrapper that
//! maps the method's variables to the caller's, and the loop of active set,
//! direction, line search and update.

use super::hessian::Hessian;
use super::{Bfgs, GradientObjective};
use crate::optim::{ReturnCode, SignSymmetry, StopFlag};

/// The gradient tests that need a second condition (a short Newton step, a
/// small decrease of f) accept a measure up to this multiple of `gtol`.
const NEAR: f64 = 1e3;
/// Most consecutive line searches that meet an undefined value of f: the
/// iterates are then pressing against the edge of f's domain, where no
/// stationary point lies.
const MAX_WALLS: usize = 10;
/// Step of the forward differences of the gradient for B₀ (scaled units,
/// relative to max(1, |zⱼ|)): the error of the estimate is O(step) from
/// f's third derivatives and O(ε_g/step) from the gradient's own (PIRLS's
/// tolerance for a GLMM), both far below what a quasi-Newton start needs.
const DIFFERENCE_STEP: f64 = 1e-4;
/// Relative size (to max(|f|, 1)) of a change of f below rounding noise.
const NOISE: f64 = 1e-14;
/// How far (relative to max(|f|, 1)) f may rise on a quasi-Newton step
/// taken where f cannot resolve the predicted decrease: rounding in a
/// large f (a deviance of 10⁷ sums millions of terms) reaches 10⁻¹³ of it.
const ROUNDING: f64 = 1e-12;
/// Armijo's sufficient-decrease constant.
const ARMIJO: f64 = 1e-4;
/// Largest width of the ε-active set (scaled units).
const ACTIVE_WIDTH: f64 = 1e-3;
/// Most trial points of one line search.
const MAX_TRIALS: usize = 40;
/// A step is capped at this multiple of max(1, ‖x‖∞) (scaled units).
const MAX_STEP: f64 = 2.0;
/// The line search gives up on steps shorter than this multiple of
/// max(1, ‖x‖∞) (scaled units): f cannot tell such points apart.
const MIN_STEP: f64 = 1e-13;

/// The objective seen from the method: variables z = x / scale without the
/// pivots' bounds, calls counted and refused once the budget is used up or
/// the stop flag is set.
pub(super) struct Wrapped<'a> {
    f: &'a mut dyn GradientObjective,
    scale: Vec<f64>,
    symmetries: Vec<SignSymmetry>,
    /// The caller's bounds.
    bounds: (Vec<f64>, Vec<f64>),
    max_evaluations: usize,
    stop: Option<StopFlag>,
    /// Scratch: the caller's point and which variables were negated.
    x: Vec<f64>,
    negated: Vec<bool>,
    gx: Vec<f64>,
    /// Values of f so far.
    pub evaluations: usize,
    /// Gradients so far.
    pub gradients: usize,
}

impl<'a> Wrapped<'a> {
    pub(super) fn new(
        f: &'a mut dyn GradientObjective,
        scale: Vec<f64>,
        symmetries: Vec<SignSymmetry>,
        bounds: (Vec<f64>, Vec<f64>),
        max_evaluations: usize,
        stop: Option<StopFlag>,
    ) -> Self {
        let n = scale.len();
        Wrapped {
            f,
            scale,
            symmetries,
            bounds,
            max_evaluations,
            stop,
            x: vec![0.0; n],
            negated: vec![false; n],
            gx: vec![0.0; n],
            evaluations: 0,
            gradients: 0,
        }
    }

    /// The caller's point for z: unscaled, each group with a negative
    /// pivot negated, kept inside the caller's bounds (rounding).
    fn map(&mut self, z: &[f64]) {
        for i in 0..z.len() {
            self.x[i] = z[i] * self.scale[i];
            self.negated[i] = false;
        }
        for sym in &self.symmetries {
            if self.x[sym.pivot] < 0.0 {
                for &i in std::iter::once(&sym.pivot).chain(&sym.others) {
                    self.x[i] = -self.x[i];
                    self.negated[i] = true;
                }
            }
        }
        let (lo, up) = &self.bounds;
        for i in 0..z.len() {
            self.x[i] = self.x[i].max(lo[i]).min(up[i]);
        }
    }

    /// The caller's point for z.
    pub(super) fn caller_point(&mut self, z: &[f64]) -> Vec<f64> {
        self.map(z);
        self.x.clone()
    }

    /// f at z (NaN as +∞), or None when the budget is used up or the stop
    /// flag is set (f is then not called).
    fn value(&mut self, z: &[f64]) -> Option<f64> {
        if self.evaluations >= self.max_evaluations
            || self.stop.as_ref().is_some_and(StopFlag::is_set)
        {
            return None;
        }
        self.map(z);
        self.evaluations += 1;
        let v = self.f.value(&self.x);
        Some(if v.is_nan() { f64::INFINITY } else { v })
    }

    /// The matrix `b` (row-major, the method's variables) with the signs of
    /// the caller's point of the last [`map`](Self::map): entry (i, j)
    /// negated when one of variables i and j was negated.
    pub(super) fn oriented(&self, b: &[f64]) -> Vec<f64> {
        let n = self.negated.len();
        let sign = |i: usize| if self.negated[i] { -1.0 } else { 1.0 };
        (0..n * n)
            .map(|k| b[k] * sign(k / n) * sign(k % n))
            .collect()
    }

    /// The gradient at z (the point of the last value) in the method's
    /// variables into `g`; the caller's gradient is kept in `gx`.
    fn gradient(&mut self, z: &[f64], g: &mut [f64]) {
        self.map(z);
        self.gradients += 1;
        self.f.gradient(&self.x, &mut self.gx);
        for i in 0..z.len() {
            let sign = if self.negated[i] { -1.0 } else { 1.0 };
            g[i] = sign * self.gx[i] * self.scale[i];
        }
    }
}

/// The current point of the iteration.
pub(super) struct State {
    /// Point (method's variables).
    pub z: Vec<f64>,
    /// f there.
    pub f: f64,
    /// Gradient there (method's variables).
    g: Vec<f64>,
    /// The caller's gradient there.
    pub caller_gradient: Vec<f64>,
    /// Accepted steps.
    pub iterations: usize,
}

/// The scaled projected-gradient measure at `state` (module docs of
/// [`Bfgs`]): max |pgᵢ|·max(|zᵢ|, 1)/max(|f|, 1).
fn measure(state: &State, lo: &[f64], up: &[f64]) -> f64 {
    measure_at(&state.z, state.f, &state.g, lo, up)
}

/// [`measure`] at the point z with value f and gradient g.
fn measure_at(z: &[f64], f: f64, g: &[f64], lo: &[f64], up: &[f64]) -> f64 {
    let fscale = f.abs().max(1.0);
    (0..z.len())
        .map(|i| {
            let outward = (z[i] <= lo[i] && g[i] > 0.0) || (z[i] >= up[i] && g[i] < 0.0);
            if outward {
                0.0
            } else {
                g[i].abs() * z[i].abs().max(1.0) / fscale
            }
        })
        .fold(0.0, f64::max)
}

/// What differencing the gradient at the start gave.
enum Differenced {
    /// B₀, positive definite.
    Hessian(Hessian),
    /// No usable estimate: f undefined at a differencing point, a gradient
    /// not finite, or B₀ not positive definite.
    Unusable,
    /// The budget ran out or the stop flag was set.
    Stopped,
}

/// B₀ with the columns `settings.differenced_columns` from forward
/// differences of the gradient at `state` (steps of [`DIFFERENCE_STEP`]
/// times max(1, |zⱼ|), inward where a bound is that close), symmetrised,
/// over `base` (the caller's B₀, or γI) (module docs of [`Bfgs`]).
fn differenced_hessian(
    settings: &Bfgs,
    p: &mut Wrapped<'_>,
    state: &State,
    base: &Hessian,
    bounds: (&[f64], &[f64]),
) -> Differenced {
    let n = state.z.len();
    let (lo, up) = bounds;
    let columns = &settings.differenced_columns;
    let mut b = base.matrix().to_vec();
    let mut cols: Vec<Option<Vec<f64>>> = vec![None; n];
    let mut zt = state.z.clone();
    let mut gt = vec![0.0; n];
    for &j in columns {
        let mut h = DIFFERENCE_STEP * state.z[j].abs().max(1.0);
        if state.z[j] + h > up[j] {
            h = -h;
        }
        if state.z[j] + h < lo[j] {
            return Differenced::Unusable;
        }
        zt.copy_from_slice(&state.z);
        zt[j] += h;
        let Some(ft) = p.value(&zt) else {
            return Differenced::Stopped;
        };
        if !ft.is_finite() {
            return Differenced::Unusable;
        }
        p.gradient(&zt, &mut gt);
        if !gt.iter().all(|v| v.is_finite()) {
            return Differenced::Unusable;
        }
        cols[j] = Some((0..n).map(|i| (gt[i] - state.g[i]) / h).collect());
    }
    for (j, col) in cols.iter().enumerate() {
        let Some(col) = col else { continue };
        for i in 0..n {
            let v = match &cols[i] {
                // Both columns differenced: the mean of the two estimates.
                Some(other) => 0.5 * (col[i] + other[j]),
                None => col[i],
            };
            b[i * n + j] = v;
            b[j * n + i] = v;
        }
    }
    let mut hessian = Hessian::from_matrix(n, b);
    if hessian.is_positive_definite() {
        Differenced::Hessian(hessian)
    } else {
        Differenced::Unusable
    }
}

/// Run the method from `z0` (inside the box [lo, up] of the method's
/// variables): the final state and why it stopped; `hessian` holds the
/// approximation B at the end (None before a secant pair).
pub(super) fn run(
    settings: &Bfgs,
    p: &mut Wrapped<'_>,
    z0: Vec<f64>,
    lo: &[f64],
    up: &[f64],
    hessian: &mut Option<Hessian>,
) -> (State, ReturnCode) {
    let n = z0.len();
    let mut state = State {
        z: z0,
        f: f64::INFINITY,
        g: vec![0.0; n],
        caller_gradient: vec![],
        iterations: 0,
    };
    let Some(f0) = p.value(&state.z) else {
        return (state, ReturnCode::MaxEvaluations);
    };
    state.f = f0;
    if !f0.is_finite() {
        let why = "the objective is not finite at the starting point".to_string();
        return (state, ReturnCode::Failure(why));
    }
    p.gradient(&state.z, &mut state.g);
    state.caller_gradient = p.gx.clone();
    if !state.g.iter().all(|v| v.is_finite()) {
        return (
            state,
            ReturnCode::Failure("the gradient is not finite".into()),
        );
    }
    // The caller's B₀ if positive definite, else B = γI from the caller's
    // curvature, if given (rescaled by the first secant pair all the
    // same); then the differenced columns on top.
    let given = settings
        .initial_hessian
        .as_ref()
        .map(|b| Hessian::from_matrix(n, b.clone()))
        .and_then(|mut h| h.is_positive_definite().then_some(h));
    *hessian = given.or_else(|| settings.initial_curvature.map(|c| Hessian::new(n, c)));
    if !settings.differenced_columns.is_empty() {
        let identity = || Hessian::new(n, 1.0);
        let base = hessian.clone().unwrap_or_else(identity);
        match differenced_hessian(settings, p, &state, &base, (lo, up)) {
            Differenced::Hessian(b) => *hessian = Some(b),
            Differenced::Unusable => {}
            Differenced::Stopped => return (state, ReturnCode::MaxEvaluations),
        }
    }
    // Length of the last accepted step, for a steepest-descent restart.
    let mut last_step = settings.initial_step;
    // The curvature γ of the last steepest-descent step (|g|∞ / its length),
    // B's initial γI when the first secant pair has no positive curvature.
    let mut gamma = 1.0;
    let mut small_decreases = 0;
    // Consecutive line searches that met an undefined value.
    let mut walls = 0;
    let mut d = vec![0.0; n];
    let mut zt = vec![0.0; n];
    let mut gt = vec![0.0; n];
    loop {
        let m = measure(&state, lo, up);
        if m <= settings.gtol && hessian.is_none() {
            return (state, ReturnCode::Converged);
        }
        let (z, g) = (&state.z, &state.g);
        // ε-active set: within ε of a bound, gradient pointing out.
        let width = (0..n)
            .map(|i| (z[i] - (z[i] - g[i]).max(lo[i]).min(up[i])).abs())
            .fold(0.0, f64::max)
            .min(ACTIVE_WIDTH);
        let mut free = Vec::with_capacity(n);
        for i in 0..n {
            if z[i] <= lo[i] + width && g[i] > 0.0 {
                d[i] = lo[i] - z[i];
            } else if z[i] >= up[i] - width && g[i] < 0.0 {
                d[i] = up[i] - z[i];
            } else {
                free.push(i);
            }
        }
        let newton = match hessian.as_mut() {
            Some(h) => h.newton_step(&free, g, &mut d),
            None => false,
        };
        if !newton {
            let gmax = free.iter().map(|&i| g[i].abs()).fold(0.0, f64::max);
            let length = if state.iterations == 0 {
                settings.initial_step
            } else {
                last_step
            };
            for &i in &free {
                d[i] = if gmax > 0.0 {
                    -g[i] * length / gmax
                } else {
                    0.0
                };
            }
            if gmax > 0.0 {
                gamma = gmax / length;
            }
        }
        let dmax = d.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let zmax = z.iter().fold(1.0f64, |a, v| a.max(v.abs()));
        // A small gradient is not enough where the curvature is small too:
        // the quasi-Newton step, the estimate of the distance to the
        // minimum, must be short as well.
        let short = newton && dmax <= settings.xtol * zmax;
        if m <= settings.gtol && (short || !newton || !settings.confirm_gradient_by_step) {
            return (state, ReturnCode::Converged);
        }
        let slope: f64 = (0..n).map(|i| g[i] * d[i]).sum();
        // Not negative, or NaN.
        if slope.is_nan() || slope >= 0.0 {
            if newton {
                // Not a descent direction (rounding in B): steepest descent.
                *hessian = None;
                continue;
            }
            return (state, ReturnCode::Converged);
        }
        if short && m <= NEAR * settings.gtol {
            return (state, ReturnCode::Converged);
        }
        // A decrease f cannot resolve (the quadratic model's −gᵀd/2 below
        // f's rounding): no line search can confirm it. A quasi-Newton step
        // (capped as below) is then taken when f does not rise beyond its
        // rounding and the gradient shrinks; else the method stops if the
        // gradient is near `gtol`, and searches the line as usual if not.
        let fscale = state.f.abs().max(1.0);
        if newton && -0.5 * slope <= ROUNDING * fscale {
            let cap = (MAX_STEP * zmax / dmax).min(1.0);
            for i in 0..n {
                zt[i] = (z[i] + cap * d[i]).max(lo[i]).min(up[i]);
            }
            let Some(ft) = p.value(&zt) else {
                return (state, ReturnCode::MaxEvaluations);
            };
            if ft.is_finite() && ft <= state.f + ROUNDING * fscale {
                p.gradient(&zt, &mut gt);
                let finite = gt.iter().all(|v| v.is_finite());
                if finite && measure_at(&zt, ft, &gt, lo, up) < m {
                    accept(&mut state, hessian.as_mut(), &zt, ft, &gt, &p.gx);
                    continue;
                }
            }
            if m <= NEAR * settings.gtol {
                return (state, ReturnCode::FtolReached);
            }
        }
        if dmax > MAX_STEP * zmax {
            d.iter_mut().for_each(|v| *v *= MAX_STEP * zmax / dmax);
        }
        let dmax = dmax.min(MAX_STEP * zmax);
        // Projected backtracking line search.
        let mut alpha = 1.0;
        let mut accepted = None;
        let mut undefined = false;
        for _ in 0..MAX_TRIALS {
            if alpha * dmax < MIN_STEP * zmax || -alpha * slope <= NOISE * fscale {
                break;
            }
            for i in 0..n {
                zt[i] = (z[i] + alpha * d[i]).max(lo[i]).min(up[i]);
            }
            if zt == *z {
                break;
            }
            let Some(ft) = p.value(&zt) else {
                return (state, ReturnCode::MaxEvaluations);
            };
            let predicted: f64 = (0..n).map(|i| g[i] * (zt[i] - z[i])).sum();
            if ft.is_finite() && ft <= state.f + ARMIJO * predicted {
                accepted = Some(ft);
                break;
            }
            alpha = if ft.is_finite() {
                // Minimiser of the quadratic through f(0), its slope and f(α).
                let s = predicted / alpha;
                let q = -s * alpha * alpha / (2.0 * (ft - state.f - s * alpha));
                q.clamp(0.1 * alpha, 0.5 * alpha)
            } else {
                undefined = true;
                0.1 * alpha
            };
        }
        walls = if undefined { walls + 1 } else { 0 };
        if walls > MAX_WALLS && m > NEAR * settings.gtol {
            let why = "the objective is undefined next to the best point";
            return (state, ReturnCode::Failure(why.into()));
        }
        let Some(ft) = accepted else {
            if m <= NEAR * settings.gtol {
                return (state, ReturnCode::FtolReached);
            }
            if newton {
                // Restart from steepest descent before giving up.
                *hessian = None;
                continue;
            }
            let why = "the line search found no decrease along a descent direction";
            return (state, ReturnCode::Failure(why.into()));
        };
        p.gradient(&zt, &mut gt);
        if !gt.iter().all(|v| v.is_finite()) {
            return (
                state,
                ReturnCode::Failure("the gradient is not finite".into()),
            );
        }
        last_step = (0..n).fold(0.0f64, |a, i| a.max((zt[i] - state.z[i]).abs()));
        let decrease = state.f - ft;
        let b = hessian.get_or_insert_with(|| Hessian::new(n, gamma));
        accept(&mut state, Some(b), &zt, ft, &gt, &p.gx);
        // Two small decreases in a row: one can be a step that mostly
        // moved variables onto their bounds.
        let small = decrease <= settings.ftol_rel * ft.abs().max(1.0);
        small_decreases = if small { small_decreases + 1 } else { 0 };
        if small_decreases >= 2 && measure(&state, lo, up) <= NEAR * settings.gtol {
            return (state, ReturnCode::FtolReached);
        }
    }
}

/// Move `state` to the accepted point `z` (value `f`, gradient `g`, the
/// caller's gradient `caller_g`) and update B with the secant pair.
fn accept(
    state: &mut State,
    hessian: Option<&mut Hessian>,
    z: &[f64],
    f: f64,
    g: &[f64],
    caller_g: &[f64],
) {
    let n = z.len();
    if let Some(b) = hessian {
        let s: Vec<f64> = (0..n).map(|i| z[i] - state.z[i]).collect();
        let y: Vec<f64> = (0..n).map(|i| g[i] - state.g[i]).collect();
        b.update(&s, &y);
    }
    state.z.copy_from_slice(z);
    state.g.copy_from_slice(g);
    state.f = f;
    state.caller_gradient.copy_from_slice(caller_g);
    state.iterations += 1;
}
