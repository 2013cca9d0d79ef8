//! Interval ends from a profile. For the end at ζ = ±z the points are
//! followed from the estimate outward while ζ stays monotone, up to the
//! first pair that brackets ±z; a monotone cubic through those points,
//! p(ζ), gives the end (lme4 inverts an interpolating spline of ζ(p) in the
//! same way). With a model at hand the end is then refined on the exact
//! profile: Brent's method on ζ(p) ∓ z within the bracket, started at the
//! spline's value, each evaluation a conditional fit warm-started from the
//! last (usually two to four fits per end). The spline's error is of the
//! order of the profile's curvature times the cube of the spacing of the
//! points; the refined ends are as accurate as the conditional fits.
//!
//! An end beyond the attainable end of a parameter's range (a standard
//! deviation whose profile stays above −z down to 0, a correlation up to
//! ±1) is that bound, as lme4 reports it.

use super::roots::{brent, RootTolerance};
use super::spline::MonotoneCubic;
use super::{zeta, ConditionalFit, Profile};
use crate::error::{Error, Result};
use crate::inference::confint_row::ConfintRow;

/// Refinement: stop when ζ is within this of ±z…
const ZETA_TOL: f64 = 1e-8;
/// …or the bracket is narrower than this, relative to the end's size.
const RELATIVE_X_TOL: f64 = 1e-10;
/// Conditional fits allowed per end.
const MAX_REFINE_FITS: usize = 30;

/// Intervals of `level` for every parameter of `profile`, refined with
/// `fit` when given.
pub(crate) fn intervals<'f>(
    profile: &Profile,
    level: f64,
    mut fit: Option<&mut (dyn ConditionalFit + 'f)>,
) -> Result<Vec<ConfintRow>> {
    let z = profile.quantile_for(level)?;
    let mut rows = Vec::with_capacity(profile.parameters.len());
    for (i, par) in profile.parameters.iter().enumerate() {
        let lower = end(profile, i, -z, fit.as_deref_mut())?;
        let upper = end(profile, i, z, fit.as_deref_mut())?;
        rows.push(ConfintRow {
            parameter: par.name.clone(),
            estimate: par.estimate,
            lower,
            upper,
        });
    }
    Ok(rows)
}

/// The end of parameter `i`'s interval where ζ = `target`; None when the
/// profile does not reach it (it stopped early, or is not monotone there).
fn end<'f>(
    profile: &Profile,
    i: usize,
    target: f64,
    fit: Option<&mut (dyn ConditionalFit + 'f)>,
) -> Result<Option<f64>> {
    let pts = &profile.curves[i];
    let par = &profile.parameters[i];
    let Some(center) =
        (0..pts.len()).min_by(|&a, &b| pts[a].zeta.abs().total_cmp(&pts[b].zeta.abs()))
    else {
        return Ok(None);
    };
    let dir: isize = if target < 0.0 { -1 } else { 1 };
    let sgn = dir as f64;
    // The monotone run from the centre outward, up to the bracket.
    let mut run = vec![center];
    let mut bracket = None;
    let mut k = center as isize + dir;
    while k >= 0 && (k as usize) < pts.len() {
        let (prev, cur) = (run[run.len() - 1], k as usize);
        if sgn * (pts[cur].zeta - pts[prev].zeta) <= 0.0 {
            break;
        }
        run.push(cur);
        if sgn * pts[cur].zeta >= sgn * target {
            bracket = Some((prev, cur));
            break;
        }
        k += dir;
    }
    let Some((inner, outer)) = bracket else {
        let last = &pts[run[run.len() - 1]];
        let v = last.values[i];
        let at_bound = if dir < 0 {
            par.lower_attainable() && v == par.lower
        } else {
            par.upper_attainable() && v == par.upper
        };
        return Ok(at_bound.then_some(v));
    };
    let mut ordered: Vec<(f64, f64)> = run
        .iter()
        .map(|&j| (pts[j].zeta, pts[j].values[i]))
        .collect();
    ordered.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (zs, ps): (Vec<f64>, Vec<f64>) = ordered.into_iter().unzip();
    let (p_in, p_out) = (pts[inner].values[i], pts[outer].values[i]);
    let (z_in, z_out) = (pts[inner].zeta, pts[outer].zeta);
    let guess = MonotoneCubic::new(&zs, &ps)
        .and_then(|s| s.eval(target))
        .unwrap_or_else(|| p_in + (target - z_in) / (z_out - z_in) * (p_out - p_in));
    let Some(fit) = fit else {
        return Ok(Some(guess));
    };
    let base = profile.deviance;
    let mut start = pts[inner].nuisance.clone();
    let mut g = |p: f64| -> Result<f64> {
        let c = fit.conditional(i, p, &start)?;
        if !c.deviance.is_finite() {
            return Err(Error::Convergence {
                message: format!("no finite deviance with `{}` = {p}", par.name),
            });
        }
        start = c.nuisance;
        Ok(zeta(p, par.estimate, c.deviance, base, &par.name)? - target)
    };
    let scale = p_in.abs().max(p_out.abs()).max((p_out - p_in).abs());
    let tol = RootTolerance {
        x_tol: RELATIVE_X_TOL * scale,
        f_tol: ZETA_TOL,
        max_evaluations: MAX_REFINE_FITS,
    };
    match brent(
        &mut g,
        (p_in, z_in - target),
        (p_out, z_out - target),
        Some(guess),
        tol,
    ) {
        Ok(p) => Ok(Some(p)),
        Err(Error::Interrupted) => Err(Error::Interrupted),
        // A conditional fit that fails inside the bracket leaves the spline's end.
        Err(Error::Convergence { .. }) | Err(Error::NotPositiveDefinite { .. }) => Ok(Some(guess)),
        Err(e) => Err(e),
    }
}
