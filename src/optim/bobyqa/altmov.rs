//! The alternative, geometry-improving step (Powell 2009, §3).
//!
//! When the interpolation point `y_t` is far from `x_opt`, it is replaced by a
//! point `x_opt + d`, `‖d‖ ≤ Δ̂`, within the bounds, at which the Lagrange
//! function `ℓ_t` is large in modulus, so that the denominator
//! `σ = αβ + τ²` of the update of `H` (with `τ = ℓ_t(x_opt + d)`) is large and
//! the new set is well poised.  Two kinds of candidate are formed, as in the
//! report: the best point on the lines through `x_opt` and the other
//! interpolation points, where `ℓ_t` is a quadratic in one variable known from
//! its values at the two ends and its slope at `x_opt`; and a bounded
//! "Cauchy" step along `±∇ℓ_t(x_opt)` that follows the bounds.  The driver
//! computes the exact `τ` and `σ` of both and decides.

use super::model::{dot, Model};

/// Candidates for the geometry step, relative to the base point.
#[derive(Debug, Clone, Default)]
pub(super) struct GeometryCandidates {
    /// The best point on the lines through `x_opt` and the other points.
    pub line: Option<Vec<f64>>,
    /// The constrained Cauchy point of `ℓ_t`.
    pub cauchy: Option<Vec<f64>>,
}

/// Candidate replacements for `y_t` within distance `adelt` of `x_opt`.
pub(super) fn geometry_candidates(model: &Model, t: usize, adelt: f64) -> GeometryCandidates {
    let hcol = model.omega_col(t);
    let glag = model.lagrange_gradient(t, &hcol);
    GeometryCandidates {
        line: line_step(model, t, adelt, hcol[t], &glag),
        cauchy: [-1.0, 1.0]
            .iter()
            .filter_map(|&sign| cauchy_step(model, adelt, &hcol, &glag, sign))
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .map(|c| c.0),
    }
}

/// A candidate on the line through `x_opt` and `y_k`.
struct LinePoint {
    score: f64,
    k: usize,
    /// `a` in `x_opt + a (y_k − x_opt)`.
    step: f64,
    /// A coordinate to put exactly onto the bound that limits `a`.
    snap: Option<(usize, f64)>,
}

/// Search the lines `x_opt + a (y_k − x_opt)`.  On the line through `y_k`,
/// `ℓ_t(a) = a ℓ'(0) + a² (δ_tk − ℓ'(0))` since `ℓ_t(x_opt) = 0` and
/// `ℓ_t(y_k) = δ_tk`.  Each line offers its ends (set by the bounds and by
/// `‖d‖ ≤ adelt`) and the stationary point of `ℓ_t` if it lies between them;
/// they are ranked as in the report by `τ² (τ² + ½ α (a (1 − a) ‖y_k − x_opt‖²)²)`,
/// an estimate of `τ² σ` with `β` approximated by its value for points on the
/// line.
fn line_step(model: &Model, t: usize, adelt: f64, alpha: f64, glag: &[f64]) -> Option<Vec<f64>> {
    let n = model.n;
    let xopt = model.xopt();
    let (sl, su) = (&model.sl, &model.su);
    let mut best: Option<LinePoint> = None;
    let mut dir = vec![0.0; n];
    for k in (0..model.npt).filter(|&k| k != model.kopt) {
        let y = model.xpt.row(k);
        for i in 0..n {
            dir[i] = y[i] - xopt[i];
        }
        let dsq = dot(&dir, &dir);
        if dsq <= 0.0 {
            continue;
        }
        let dderiv = dot(glag, &dir);
        let reach = adelt / dsq.sqrt();
        let (mut lo, mut hi) = (-reach, reach);
        let (mut lo_snap, mut hi_snap) = (None, None);
        for i in (0..n).filter(|&i| dir[i] != 0.0) {
            let to_sl = (sl[i] - xopt[i]) / dir[i];
            let to_su = (su[i] - xopt[i]) / dir[i];
            let ((amin, bmin), (amax, bmax)) = if dir[i] > 0.0 {
                ((to_sl, sl[i]), (to_su, su[i]))
            } else {
                ((to_su, su[i]), (to_sl, sl[i]))
            };
            if amin > lo {
                lo = amin;
                lo_snap = Some((i, bmin));
            }
            if amax < hi {
                hi = amax;
                hi_snap = Some((i, bmax));
            }
        }
        let (lo, hi) = (lo.min(0.0), hi.max(0.0));
        let ell = |a: f64| {
            if k == t {
                a * dderiv + a * a * (1.0 - dderiv)
            } else {
                a * (1.0 - a) * dderiv
            }
        };
        let score = |a: f64| {
            let l = ell(a);
            let prod = a * (1.0 - a) * dsq;
            l * l * (l * l + 0.5 * alpha * prod * prod)
        };
        let stationary = if k == t {
            (dderiv != 1.0).then(|| -dderiv / (2.0 * (1.0 - dderiv)))
        } else {
            Some(0.5)
        };
        let mut options = vec![(lo, lo_snap), (hi, hi_snap)];
        if let Some(a) = stationary.filter(|&a| a > lo && a < hi) {
            options.push((a, None));
        }
        for (a, snap) in options {
            let sc = score(a);
            if a != 0.0 && sc.is_finite() && best.as_ref().is_none_or(|b| sc > b.score) {
                best = Some(LinePoint {
                    score: sc,
                    k,
                    step: a,
                    snap,
                });
            }
        }
    }
    let LinePoint {
        k, step: a, snap, ..
    } = best?;
    let y = model.xpt.row(k);
    let mut xnew: Vec<f64> = (0..n)
        .map(|i| (xopt[i] + a * (y[i] - xopt[i])).max(sl[i]).min(su[i]))
        .collect();
    if let Some((i, bound)) = snap {
        xnew[i] = bound;
    }
    Some(xnew)
}

/// The step of length at most `adelt` along `sign · ∇ℓ_t(x_opt)`, projected
/// onto the bounds: variables that would leave the box are held on their
/// bounds and the remaining length is shared by the others.  Along the
/// resulting direction `ℓ_t` is quadratic; the point of largest `|ℓ_t|` in
/// the segment is returned together with that value.
fn cauchy_step(
    model: &Model,
    adelt: f64,
    hcol: &[f64],
    glag: &[f64],
    sign: f64,
) -> Option<(Vec<f64>, f64)> {
    let n = model.n;
    let xopt = model.xopt();
    let (sl, su) = (&model.sl, &model.su);
    let dir: Vec<f64> = glag.iter().map(|g| sign * g).collect();
    // None: free; Some(v): displacement fixed at v (0 when blocked).
    let mut fixed: Vec<Option<f64>> = (0..n)
        .map(|i| {
            let blocked = (dir[i] < 0.0 && xopt[i] <= sl[i])
                || (dir[i] > 0.0 && xopt[i] >= su[i])
                || dir[i] == 0.0;
            blocked.then_some(0.0)
        })
        .collect();
    let mut scale = 0.0;
    for _ in 0..=n {
        let ggfree: f64 = (0..n)
            .filter(|&i| fixed[i].is_none())
            .map(|i| dir[i] * dir[i])
            .sum();
        let wfix: f64 = fixed.iter().flatten().map(|v| v * v).sum();
        let rem = adelt * adelt - wfix;
        if ggfree <= 0.0 || rem <= 0.0 {
            scale = 0.0;
            break;
        }
        scale = (rem / ggfree).sqrt();
        let mut newly = false;
        for i in 0..n {
            if fixed[i].is_none() {
                let x = xopt[i] + scale * dir[i];
                if x < sl[i] {
                    fixed[i] = Some(sl[i] - xopt[i]);
                    newly = true;
                } else if x > su[i] {
                    fixed[i] = Some(su[i] - xopt[i]);
                    newly = true;
                }
            }
        }
        if !newly {
            break;
        }
    }
    let step: Vec<f64> = (0..n).map(|i| fixed[i].unwrap_or(scale * dir[i])).collect();
    if step.iter().all(|&v| v == 0.0) {
        return None;
    }
    // ℓ_t(x_opt + γ step) = γ gw + ½ γ² curv for γ in (0, 1].
    let gw = dot(glag, &step);
    let curv: f64 = (0..model.npt)
        .map(|k| hcol[k] * dot(model.xpt.row(k), &step).powi(2))
        .sum();
    let value = |gamma: f64| gamma * gw + 0.5 * gamma * gamma * curv;
    let mut gamma = 1.0;
    if curv != 0.0 {
        let stationary = -gw / curv;
        if stationary > 0.0 && stationary < 1.0 && value(stationary).abs() > value(1.0).abs() {
            gamma = stationary;
        }
    }
    let xnew: Vec<f64> = (0..n)
        .map(|i| match fixed[i] {
            Some(v) if gamma == 1.0 && v != 0.0 => {
                if v < 0.0 {
                    sl[i]
                } else {
                    su[i]
                }
            }
            _ => (xopt[i] + gamma * step[i]).max(sl[i]).min(su[i]),
        })
        .collect();
    Some((xnew, value(gamma)))
}
