//! Conditional fits of a generalized linear mixed model, on the model's
//! objective (the Laplace deviance, or adaptive Gauss–Hermite for nAGQ > 1,
//! as lme4's `profile` uses the fit's `devfun`) as a function of (θ, β).
//!
//! The optimum is first polished jointly over (θ, β) from the fit (a fast
//! fit, θ only, is thereby taken to the joint optimum). Each conditional fit
//! is a BOBYQA run over the other parameters, β scaled by its standard
//! errors: a coefficient β_j held fixed leaves (θ, β_{−j}); a standard
//! deviation or correlation of the random effects (the scale is 1) is held
//! in the sdcor coordinates ([`super::sdcor`]), leaving the other sdcor
//! coordinates and β.

use super::lmm::{minimize, RELATIVE_FIRST_STEP};
use super::sdcor::{feasible_others, sdcor_from_theta, theta_from_sdcor};
use super::{
    interval, model_parameters, steps, BasePoint, Conditional, ConditionalFit, Parameter,
    ParameterKind, Profile, ProfileSettings,
};
use crate::error::{Error, Result};
use crate::glmm::GeneralizedLinearMixedModel;
use crate::inference::confint_row::ConfintRow;
use crate::interrupt::Interrupt;
use crate::model::MixedModel;
use crate::terms::ThetaLayout;

/// A resumed profile must reproduce its deviance to this relative tolerance
/// (PIRLS started elsewhere converges to the same mode within its own
/// tolerance, which moves the objective by far less).
const RESUME_TOL: f64 = 1e-7;

/// The profile of every parameter of a fitted generalized linear mixed model
/// (each variance component's standard deviation and correlation, each
/// coefficient) on its objective. The model is left at its fitted (θ, β).
///
/// Fails for a model that is not fitted ([`Error::NotFitted`]) or when
/// interrupted.
pub fn profile_glmm(
    model: &mut GeneralizedLinearMixedModel,
    settings: &ProfileSettings,
) -> Result<Profile> {
    settings.check()?;
    model.interrupt().reset();
    let progress = model.interrupt().progress_handle();
    let mut profiler = GlmmProfiler::new(model, settings.zeta_step)?;
    let (curves, warnings, conditional_fits) =
        steps::profile_all(&mut profiler, settings, progress.as_deref())?;
    let ctx = &profiler.ctx;
    Ok(Profile {
        parameters: ctx.params.clone(),
        deviance: ctx.base,
        curves,
        settings: settings.clone(),
        warnings,
        base: BasePoint {
            theta: ctx.theta_hat.clone(),
            beta: ctx.beta_hat.clone(),
        },
        refitted_ml: false,
        conditional_fits,
    })
}

/// Profile intervals of `level` from `profile` (of this model), each end
/// refined by root finding on the exact profile. Fails when the model's
/// objective at the profile's optimum is not the profile's (it changed).
pub fn confint_glmm(
    model: &mut GeneralizedLinearMixedModel,
    profile: &Profile,
    level: f64,
) -> Result<Vec<ConfintRow>> {
    profile.quantile_for(level)?;
    model.interrupt().reset();
    let mut profiler = GlmmProfiler::resume(model, profile)?;
    interval::intervals(profile, level, Some(&mut profiler))
}

/// What the conditional fits share.
struct Context {
    layout: ThetaLayout,
    params: Vec<Parameter>,
    base: f64,
    theta_hat: Vec<f64>,
    beta_hat: Vec<f64>,
    sdcor_hat: Vec<f64>,
    stderror: Vec<f64>,
    zeta_step: f64,
    interrupt: Interrupt,
}

/// A generalized linear mixed model at its joint optimum: conditional fits
/// for [`steps`] and [`interval`]. Dropping it puts the model back at its
/// fitted state.
struct GlmmProfiler<'a> {
    model: &'a mut GeneralizedLinearMixedModel,
    ctx: Context,
    restore: (Vec<f64>, Vec<f64>),
}

impl Drop for GlmmProfiler<'_> {
    fn drop(&mut self) {
        let nagq = self.model.nagq();
        let (theta, beta) = &self.restore;
        let _ = self.model.evaluate(theta, Some(beta), nagq);
    }
}

impl<'a> GlmmProfiler<'a> {
    /// Polish the fit jointly over (θ, β).
    fn new(model: &'a mut GeneralizedLinearMixedModel, zeta_step: f64) -> Result<Self> {
        if !model.is_fitted() {
            return Err(Error::not_fitted("profile"));
        }
        let restore = (model.theta().to_vec(), model.beta());
        let layout = model.layout().clone();
        let stderror = model.stderror();
        let interrupt = model.interrupt().clone();
        let nt = layout.len();
        let (theta_hat, beta_hat) = {
            let mut f = |x: &[f64]| model.objective_at_fixed(&x[..nt], &x[nt..]);
            let start: Vec<f64> = restore.0.iter().chain(&restore.1).copied().collect();
            let f0 = f(&start);
            let (lower, upper) = joint_bounds(layout.lower(), layout.upper(), restore.1.len());
            let scales = Some([vec![1.0; nt], stderror.clone()].concat());
            let (fmin, x) = minimize(
                &interrupt,
                &mut f,
                &start,
                (&lower, &upper),
                layout.sign_symmetries(),
                scales,
            )?;
            let best = if fmin < f0 { x } else { start };
            (best[..nt].to_vec(), best[nt..].to_vec())
        };
        let ctx = context(
            model, layout, theta_hat, beta_hat, stderror, zeta_step, interrupt,
        );
        Ok(GlmmProfiler {
            model,
            ctx,
            restore,
        })
    }

    /// Resume at a profile's optimum, checking that the model still has it.
    fn resume(model: &'a mut GeneralizedLinearMixedModel, profile: &Profile) -> Result<Self> {
        if !model.is_fitted() {
            return Err(Error::not_fitted("profile"));
        }
        let layout = model.layout().clone();
        let p = model.beta().len();
        if profile.base.theta.len() != layout.len()
            || profile.base.beta.len() != p
            || profile.parameters.len() != layout.len() + p
        {
            return Err(changed());
        }
        let restore = (model.theta().to_vec(), model.beta());
        let stderror = model.stderror();
        let interrupt = model.interrupt().clone();
        let ctx = context(
            model,
            layout,
            profile.base.theta.clone(),
            profile.base.beta.clone(),
            stderror,
            profile.settings.zeta_step,
            interrupt,
        );
        let profiler = GlmmProfiler {
            model,
            ctx,
            restore,
        };
        let dev = profiler.ctx.base;
        let same = (dev - profile.deviance).abs() <= RESUME_TOL * dev.abs().max(1.0);
        if !same {
            return Err(changed());
        }
        Ok(profiler)
    }
}

/// The error for a profile that does not belong to the model (any more).
fn changed() -> Error {
    Error::argument(
        "profile",
        "the model's objective at the profile's optimum differs from the profile's: it was \
         refitted or changed since it was profiled; profile it again",
    )
}

/// Bounds of (θ or sdcor coordinates, β): β unbounded.
fn joint_bounds(mut lower: Vec<f64>, mut upper: Vec<f64>, p: usize) -> (Vec<f64>, Vec<f64>) {
    lower.extend(std::iter::repeat_n(f64::NEG_INFINITY, p));
    upper.extend(std::iter::repeat_n(f64::INFINITY, p));
    (lower, upper)
}

/// The optimum's objective and parameters.
fn context(
    model: &mut GeneralizedLinearMixedModel,
    layout: ThetaLayout,
    theta_hat: Vec<f64>,
    beta_hat: Vec<f64>,
    stderror: Vec<f64>,
    zeta_step: f64,
    interrupt: Interrupt,
) -> Context {
    let base = model.objective_at_fixed(&theta_hat, &beta_hat);
    let params = model_parameters(
        &layout,
        &theta_hat,
        1.0,
        None,
        &beta_hat,
        &model.coef_names(),
    );
    Context {
        sdcor_hat: sdcor_from_theta(&layout, &theta_hat),
        layout,
        params,
        base,
        theta_hat,
        beta_hat,
        stderror,
        zeta_step,
        interrupt,
    }
}

/// `x` with `value` inserted at `k`.
fn insert(x: &[f64], k: usize, value: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len() + 1);
    out.extend_from_slice(&x[..k]);
    out.push(value);
    out.extend_from_slice(&x[k..]);
    out
}

/// Bounds of the sdcor coordinates other than `k`, then β.
fn sdcor_joint_bounds(layout: &ThetaLayout, k: usize, p: usize) -> (Vec<f64>, Vec<f64>) {
    let (lower, upper): (Vec<f64>, Vec<f64>) = layout
        .entries()
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != k)
        .map(|(_, e)| {
            if e.is_diagonal() {
                (0.0, f64::INFINITY)
            } else {
                (-1.0, 1.0)
            }
        })
        .unzip();
    joint_bounds(lower, upper, p)
}

impl ConditionalFit for GlmmProfiler<'_> {
    fn parameters(&self) -> &[Parameter] {
        &self.ctx.params
    }

    fn deviance(&self) -> f64 {
        self.ctx.base
    }

    fn nuisance_start(&self, i: usize) -> Vec<f64> {
        let ctx = &self.ctx;
        match ctx.params[i].kind {
            ParameterKind::Beta(j) => {
                let mut b = ctx.beta_hat.clone();
                b.remove(j);
                [ctx.theta_hat.clone(), b].concat()
            }
            ParameterKind::Sd(k) | ParameterKind::Cor(k) => {
                let mut s = ctx.sdcor_hat.clone();
                s.remove(k);
                [s, ctx.beta_hat.clone()].concat()
            }
            ParameterKind::Sigma => unreachable!("a GLMM profile has no σ"),
        }
    }

    fn first_step(&self, i: usize) -> f64 {
        let ctx = &self.ctx;
        let p = &ctx.params[i];
        match p.kind {
            ParameterKind::Beta(j) => ctx.zeta_step * ctx.stderror[j],
            ParameterKind::Sd(_) if p.estimate > 0.0 => RELATIVE_FIRST_STEP * p.estimate,
            _ => RELATIVE_FIRST_STEP,
        }
    }

    fn conditional(&mut self, i: usize, value: f64, start: &[f64]) -> Result<Conditional> {
        let kind = self.ctx.params[i].kind;
        let ctx = &self.ctx;
        let model = &mut *self.model;
        let nt = ctx.layout.len();
        let p = ctx.beta_hat.len();
        // (θ, β) from the optimizer's coordinates; None outside the covariances.
        let split = |x: &[f64]| -> Option<(Vec<f64>, Vec<f64>)> {
            match kind {
                ParameterKind::Beta(j) => Some((x[..nt].to_vec(), insert(&x[nt..], j, value))),
                ParameterKind::Sd(k) | ParameterKind::Cor(k) => {
                    let theta = theta_from_sdcor(&ctx.layout, &insert(&x[..nt - 1], k, value))?;
                    Some((theta, x[nt - 1..].to_vec()))
                }
                ParameterKind::Sigma => None,
            }
        };
        let (bounds, symmetries, scales) = match kind {
            ParameterKind::Beta(j) => {
                let mut se = ctx.stderror.clone();
                se.remove(j);
                (
                    joint_bounds(ctx.layout.lower(), ctx.layout.upper(), p - 1),
                    ctx.layout.sign_symmetries(),
                    [vec![1.0; nt], se].concat(),
                )
            }
            ParameterKind::Sd(k) | ParameterKind::Cor(k) => (
                sdcor_joint_bounds(&ctx.layout, k, p),
                vec![],
                [vec![1.0; nt - 1], ctx.stderror.clone()].concat(),
            ),
            ParameterKind::Sigma => unreachable!("a GLMM profile has no σ"),
        };
        let mut f = |x: &[f64]| match split(x) {
            Some((theta, beta)) => model.objective_at_fixed(&theta, &beta),
            None => f64::INFINITY,
        };
        let start = match kind {
            ParameterKind::Cor(k) => {
                let mut x = feasible_others(&ctx.layout, k, value, &start[..nt - 1]);
                x.extend_from_slice(&start[nt - 1..]);
                x
            }
            _ => start.to_vec(),
        };
        let (deviance, nuisance) = minimize(
            &ctx.interrupt,
            &mut f,
            &start,
            (&bounds.0, &bounds.1),
            symmetries,
            Some(scales),
        )?;
        let values = match split(&nuisance).filter(|_| deviance.is_finite()) {
            Some((theta, beta)) => {
                let mut v = sdcor_from_theta(&ctx.layout, &theta);
                v.extend_from_slice(&beta);
                v[i] = value;
                v
            }
            None => vec![f64::NAN; ctx.params.len()],
        };
        Ok(Conditional {
            deviance,
            nuisance,
            values,
        })
    }
}
