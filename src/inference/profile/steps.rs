//! Walking a profile: from the estimate, in each direction, conditional fits
//! at values chosen so that ζ changes by about `zeta_step` between
//! neighbours (the step is the last one scaled by zeta_step / Δζ, at most
//! `max_multiplier` times the last; lme4's `nextpar`), until |ζ| exceeds the
//! threshold or the parameter reaches the end of its range. Each conditional
//! fit starts from the neighbouring one's optimum.

use super::{zeta, ConditionalFit, ProfilePoint, ProfileSettings};
use crate::error::Result;
use crate::progress::ProgressSink;

/// The points of every parameter's profile, the warnings met and the number
/// of conditional fits; each parameter done is reported to `progress`.
pub(crate) fn profile_all(
    fit: &mut dyn ConditionalFit,
    settings: &ProfileSettings,
    progress: Option<&dyn ProgressSink>,
) -> Result<(Vec<Vec<ProfilePoint>>, Vec<String>, usize)> {
    let mut warnings = Vec::new();
    let mut fits = 0;
    let total = fit.parameters().len();
    let mut curves = Vec::with_capacity(total);
    for i in 0..total {
        progress.inspect(|p| p.units(i, total));
        curves.push(profile_one(fit, i, settings, &mut warnings, &mut fits)?);
    }
    progress.inspect(|p| p.units(total, total));
    Ok((curves, warnings, fits))
}

/// The points of parameter `i`'s profile, in increasing order of its value.
fn profile_one(
    fit: &mut dyn ConditionalFit,
    i: usize,
    settings: &ProfileSettings,
    warnings: &mut Vec<String>,
    fits: &mut usize,
) -> Result<Vec<ProfilePoint>> {
    let par = fit.parameters()[i].clone();
    let base = fit.deviance();
    let origin = ProfilePoint {
        zeta: 0.0,
        deviance: base,
        values: fit.parameters().iter().map(|p| p.estimate).collect(),
        nuisance: fit.nuisance_start(i),
    };
    let mut points = vec![origin.clone()];
    for dir in [-1.0, 1.0] {
        let room = if dir < 0.0 {
            par.estimate > par.lower
        } else {
            par.estimate < par.upper
        };
        if !room {
            continue;
        }
        let mut last = origin.clone();
        let mut step = fit.first_step(i);
        let mut warned_flat = false;
        for _ in 0..settings.max_points {
            let p_last = last.values[i];
            let (p, at_bound) = next_value(&par, p_last, dir * step);
            let c = fit.conditional(i, p, &last.nuisance)?;
            *fits += 1;
            if !c.deviance.is_finite() {
                warnings.push(format!(
                    "profile of `{}`: no finite deviance with {} = {p}; the profile stops there",
                    par.name, par.name
                ));
                break;
            }
            let z = zeta(p, par.estimate, c.deviance, base, &par.name)?;
            let point = ProfilePoint {
                zeta: z,
                deviance: c.deviance,
                values: c.values,
                nuisance: c.nuisance,
            };
            points.push(point.clone());
            if z.abs() > settings.threshold || at_bound {
                break;
            }
            let dp = (p - p_last).abs();
            let dz = dir * (z - last.zeta);
            step = if dz > 1e-10 {
                (settings.zeta_step * dp / dz).min(settings.max_multiplier * dp)
            } else {
                if !warned_flat && dz < 0.0 {
                    warnings.push(format!(
                        "profile of `{}` is not monotone near {} = {p}",
                        par.name, par.name
                    ));
                    warned_flat = true;
                }
                settings.max_multiplier * dp
            };
            last = point;
        }
    }
    points.sort_by(|a, b| a.values[i].total_cmp(&b.values[i]));
    points.dedup_by(|a, b| a.values[i] == b.values[i]);
    Ok(points)
}

/// The next value from `p` by `delta`, kept inside the parameter's range:
/// an attainable bound (a standard deviation of 0, a correlation of ±1) is
/// taken when the step would cross it (then the walk stops there); an
/// unattainable one (σ = 0) is approached by halving the distance.
fn next_value(par: &super::Parameter, p: f64, delta: f64) -> (f64, bool) {
    let next = p + delta;
    if next <= par.lower {
        return if par.lower_attainable() {
            (par.lower, true)
        } else {
            (0.5 * (p + par.lower), false)
        };
    }
    if next >= par.upper {
        return if par.upper_attainable() {
            (par.upper, true)
        } else {
            (0.5 * (p + par.upper), false)
        };
    }
    (next, false)
}
