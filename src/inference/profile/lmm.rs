//! Conditional fits of a linear mixed model, on the ML deviance (lme4's
//! `profile` refits a REML fit by ML first; so do we, from the REML θ).
//!
//! With r²(θ) the penalised residual sum of squares at β̂(θ), ld(θ) =
//! log|L_Z|², n observations and weights w, the deviance at (θ, σ) with β
//! profiled out is ld + r²/σ² + n log(2πσ²) − Σ log w, and with σ profiled
//! out as well ld + n(1 + log(2π r²/n)) − Σ log w. Each kind of parameter
//! is held fixed in its own coordinates:
//!
//! * a coefficient β_j = b: at fixed θ the penalised sum of squares with β_j
//!   held at b and the other coefficients at their best is
//!   r² + (b − β̂_j)² / V_jj, V = (R_XᵀR_X)⁻¹ (R_X from the factor at θ),
//!   which is exactly what a refit of the model without column j of X and
//!   with b·x_j added to the offset minimises (MixedModels.jl and lme4 build
//!   that reduced model; the identity saves building it). The other
//!   coefficients are then β̂_{−j} + V_{−j,j}(b − β̂_j)/V_jj. Minimised over θ;
//! * σ = s: the deviance at (θ, s), minimised over θ;
//! * a standard deviation σ·sd_k(θ) = a: over the other sdcor coordinates
//!   ([`super::sdcor`]) and log σ, with the relative sd_k = a/σ (lme4
//!   profiles on this scale too);
//! * a correlation: over the other sdcor coordinates, σ profiled out.
//!
//! The minimisations are BOBYQA runs started at the neighbouring point's
//! optimum (θ coordinates with the layout's sign symmetries; sdcor ones
//! within [0, ∞) and [−1, 1]).

use super::sdcor::{feasible_others, sdcor_from_theta, theta_from_sdcor};
use super::{
    interval, model_parameters, steps, BasePoint, Conditional, ConditionalFit, Parameter,
    ParameterKind, Profile, ProfileSettings,
};
use crate::error::{Error, Result};
use crate::inference::confint_row::ConfintRow;
use crate::interrupt::Interrupt;
use crate::lmm::LinearMixedModel;
use crate::model::driver::{run_stage, theta_optimizer};
use crate::model::{MixedModel, Stage};
use crate::optim::{Bobyqa, SignSymmetry};
use crate::terms::ThetaLayout;

/// ln(2π).
const LN_2PI: f64 = 1.837_877_066_409_345_5;
/// BOBYQA of a conditional fit: initial radius (it starts at the
/// neighbouring optimum), final radius and budget.
pub(super) const NUISANCE_RHO_BEGIN: f64 = 0.05;
pub(super) const NUISANCE_RHO_END: f64 = 1e-7;
pub(super) const NUISANCE_MAX_EVALUATIONS: usize = 20_000;
/// The ML refit of a REML fit starts with the fit's default radius; an ML
/// fit is only polished.
const POLISH_RHO_BEGIN: f64 = 0.05;
/// First step of a standard deviation or σ, relative to its estimate (lme4:
/// 1 %), and of a correlation (absolute).
pub(super) const RELATIVE_FIRST_STEP: f64 = 0.01;
/// A profile resumed for refinement must reproduce its deviance to this
/// relative tolerance (else the model has changed since).
pub(super) const RESUME_TOL: f64 = 1e-8;

/// The profile of every parameter of a fitted linear mixed model (each
/// variance component's standard deviation and correlation, σ, each
/// coefficient) on the ML deviance. The model is left at its fitted θ.
///
/// Fails for a model that is not fitted ([`Error::NotFitted`]), with a fixed
/// σ ([`Error::Argument`] for `sigma`), or when interrupted.
pub fn profile_lmm(model: &mut LinearMixedModel, settings: &ProfileSettings) -> Result<Profile> {
    settings.check()?;
    model.interrupt().reset();
    let progress = model.interrupt().progress_handle();
    let refitted_ml = model.is_reml();
    let mut profiler = LmmProfiler::new(model, settings.zeta_step)?;
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
            beta: ctx.params[ctx.first_beta..]
                .iter()
                .map(|p| p.estimate)
                .collect(),
        },
        refitted_ml,
        conditional_fits,
    })
}

/// Profile intervals of `level` from `profile` (of this model), each end
/// refined by root finding on the exact profile. Fails when the model no
/// longer has the profile's optimum (refitted or changed since).
pub fn confint_lmm(
    model: &mut LinearMixedModel,
    profile: &Profile,
    level: f64,
) -> Result<Vec<ConfintRow>> {
    profile.quantile_for(level)?;
    model.interrupt().reset();
    let mut profiler = LmmProfiler::resume(model, profile)?;
    interval::intervals(profile, level, Some(&mut profiler))
}

/// What the conditional fits share: the layout, counts, the optimum.
struct Context {
    layout: ThetaLayout,
    params: Vec<Parameter>,
    first_beta: usize,
    n: f64,
    log_weights: f64,
    base: f64,
    theta_hat: Vec<f64>,
    sdcor_hat: Vec<f64>,
    sigma_hat: f64,
    stderror: Vec<f64>,
    zeta_step: f64,
    interrupt: Interrupt,
}

/// A linear mixed model with the ML optimum: conditional fits for
/// [`steps`] and [`interval`]. Dropping it puts the model back at its θ.
struct LmmProfiler<'a> {
    model: &'a mut LinearMixedModel,
    ctx: Context,
    restore: Vec<f64>,
}

impl Drop for LmmProfiler<'_> {
    fn drop(&mut self) {
        let _ = self.model.set_theta(&self.restore);
    }
}

impl<'a> LmmProfiler<'a> {
    /// Find the ML optimum from the model's fitted θ (an ML fit is polished,
    /// a REML fit refitted by ML).
    fn new(model: &'a mut LinearMixedModel, zeta_step: f64) -> Result<Self> {
        check_model(model)?;
        let restore = model.theta().to_vec();
        let layout = model.layout().clone();
        let n = model.nobs() as f64;
        let log_weights = log_weights(model);
        let rho_begin = if model.is_reml() {
            crate::model::FitSettings::default().rho_begin
        } else {
            POLISH_RHO_BEGIN
        };
        let interrupt = model.interrupt().clone();
        let optimizer = theta_optimizer(
            &layout,
            rho_begin,
            NUISANCE_RHO_END,
            NUISANCE_MAX_EVALUATIONS,
            &interrupt,
        );
        let theta_hat = {
            let mut f = |th: &[f64]| match factor(model, th) {
                Some((ld, r2)) => ml_deviance(n, log_weights, ld, r2),
                None => f64::INFINITY,
            };
            let f0 = f(&restore);
            let (result, _) = run_stage(
                Stage::Theta,
                &optimizer,
                &mut f,
                &restore,
                &layout.lower(),
                &layout.upper(),
                &interrupt,
            )?;
            if result.fmin < f0 {
                result.x
            } else {
                restore.clone()
            }
        };
        let ctx = context(
            model,
            layout,
            theta_hat,
            n,
            log_weights,
            zeta_step,
            interrupt,
        )?;
        Ok(LmmProfiler {
            model,
            ctx,
            restore,
        })
    }

    /// Resume at a profile's optimum, checking that the model still has it.
    fn resume(model: &'a mut LinearMixedModel, profile: &Profile) -> Result<Self> {
        check_model(model)?;
        let restore = model.theta().to_vec();
        let layout = model.layout().clone();
        if profile.base.theta.len() != layout.len()
            || profile.parameters.len() != layout.len() + 1 + model.rank()
        {
            return Err(changed());
        }
        let (n, log_weights) = (model.nobs() as f64, log_weights(model));
        let interrupt = model.interrupt().clone();
        let ctx = context(
            model,
            layout,
            profile.base.theta.clone(),
            n,
            log_weights,
            profile.settings.zeta_step,
            interrupt,
        );
        let profiler = LmmProfiler {
            model,
            ctx: ctx?,
            restore,
        };
        let dev = profiler.ctx.base;
        if (dev - profile.deviance).abs() > RESUME_TOL * dev.abs().max(1.0) {
            return Err(changed());
        }
        Ok(profiler)
    }

    /// Every parameter at θ with σ and β as given.
    fn values(&self, theta: &[f64], sigma: f64, beta: &[f64]) -> Vec<f64> {
        let sdcor = sdcor_from_theta(&self.ctx.layout, theta);
        let mut out: Vec<f64> = self.ctx.params[..sdcor.len()]
            .iter()
            .zip(&sdcor)
            .map(|(p, &x)| match p.kind {
                ParameterKind::Sd(_) => sigma * x,
                _ => x,
            })
            .collect();
        out.push(sigma);
        out.extend_from_slice(beta);
        out
    }
}

/// The error for a profile that does not belong to the model (any more).
fn changed() -> Error {
    Error::argument(
        "profile",
        "the model's ML optimum differs from the profile's: it was refitted or changed since \
         it was profiled; profile it again",
    )
}

/// Refuse what cannot be profiled: an unfitted model, a fixed σ.
fn check_model(model: &LinearMixedModel) -> Result<()> {
    if !model.is_fitted() {
        return Err(Error::not_fitted("profile"));
    }
    if let Some(s) = model.sigma_fixed() {
        return Err(Error::argument(
            "sigma",
            format!(
                "the model's residual standard deviation is fixed at {s}; profiles need it \
                 estimated"
            ),
        ));
    }
    Ok(())
}

/// Σ log wᵢ (0 without weights).
fn log_weights(model: &LinearMixedModel) -> f64 {
    model
        .weights()
        .map_or(0.0, |w| w.iter().map(|v| v.ln()).sum())
}

/// The optimum's deviance, σ̂, parameters and standard errors at θ̂.
fn context(
    model: &mut LinearMixedModel,
    layout: ThetaLayout,
    theta_hat: Vec<f64>,
    n: f64,
    log_weights: f64,
    zeta_step: f64,
    interrupt: Interrupt,
) -> Result<Context> {
    model.set_theta(&theta_hat)?;
    let (ld, r2) = (model.logdet_z(), model.pwrss());
    let base = ml_deviance(n, log_weights, ld, r2);
    let sigma_hat = (r2 / n).sqrt();
    let beta = model.engine().beta();
    let v = model.engine().unscaled_vcov();
    let p = beta.len();
    let stderror = (0..p).map(|j| sigma_hat * v[j * p + j].sqrt()).collect();
    let params = model_parameters(
        &layout,
        &theta_hat,
        sigma_hat,
        Some(sigma_hat),
        &beta,
        &model.coef_names(),
    );
    Ok(Context {
        sdcor_hat: sdcor_from_theta(&layout, &theta_hat),
        first_beta: params.len() - p,
        layout,
        params,
        n,
        log_weights,
        base,
        theta_hat,
        sigma_hat,
        stderror,
        zeta_step,
        interrupt,
    })
}

/// Install θ and read log|L_Z|² and r²; None where θ is invalid or L not
/// positive definite.
fn factor(model: &mut LinearMixedModel, theta: &[f64]) -> Option<(f64, f64)> {
    model.set_theta(theta).ok()?;
    Some((model.logdet_z(), model.pwrss()))
}

/// ML deviance with σ profiled out.
fn ml_deviance(n: f64, log_weights: f64, ld: f64, r2: f64) -> f64 {
    ld + n * (1.0 + LN_2PI + (r2 / n).ln()) - log_weights
}

/// ML deviance at a given σ.
fn ml_deviance_at(n: f64, log_weights: f64, ld: f64, r2: f64, sigma: f64) -> f64 {
    ld + r2 / (sigma * sigma) + n * (LN_2PI + 2.0 * sigma.ln()) - log_weights
}

/// r² with β_j held at b, β̂ and the column j of V at the installed θ.
fn beta_fixed(model: &LinearMixedModel, j: usize, b: f64) -> (f64, Vec<f64>) {
    let beta = model.engine().beta();
    let v = model.engine().unscaled_vcov();
    let p = beta.len();
    let d = b - beta[j];
    let vjj = v[j * p + j];
    let r2 = model.pwrss() + d * d / vjj;
    let fitted: Vec<f64> = (0..p)
        .map(|i| {
            if i == j {
                b
            } else {
                beta[i] + v[i * p + j] / vjj * d
            }
        })
        .collect();
    (r2, fitted)
}

/// `x` with `value` inserted at `k`.
fn insert(x: &[f64], k: usize, value: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len() + 1);
    out.extend_from_slice(&x[..k]);
    out.push(value);
    out.extend_from_slice(&x[k..]);
    out
}

/// Bounds of the sdcor coordinates other than `k`: [0, ∞) for standard
/// deviations, [−1, 1] for correlations.
fn sdcor_bounds(layout: &ThetaLayout, k: usize) -> (Vec<f64>, Vec<f64>) {
    layout
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
        .unzip()
}

/// Minimise `f` from `start` within the bounds (BOBYQA for a conditional
/// fit); an empty `start` is a single evaluation.
pub(super) fn minimize(
    interrupt: &Interrupt,
    f: &mut dyn FnMut(&[f64]) -> f64,
    start: &[f64],
    bounds: (&[f64], &[f64]),
    symmetries: Vec<SignSymmetry>,
    scales: Option<Vec<f64>>,
) -> Result<(f64, Vec<f64>)> {
    if start.is_empty() {
        interrupt.check()?;
        return Ok((f(&[]), vec![]));
    }
    let optimizer = Bobyqa {
        rho_begin: NUISANCE_RHO_BEGIN,
        rho_end: NUISANCE_RHO_END,
        max_evaluations: NUISANCE_MAX_EVALUATIONS,
        sign_symmetries: symmetries,
        scales,
        stop: Some(interrupt.flag().clone().into()),
        ..Bobyqa::default()
    };
    let (result, _) = run_stage(
        Stage::Theta,
        &optimizer,
        f,
        start,
        bounds.0,
        bounds.1,
        interrupt,
    )?;
    Ok((result.fmin, result.x))
}

impl ConditionalFit for LmmProfiler<'_> {
    fn parameters(&self) -> &[Parameter] {
        &self.ctx.params
    }

    fn deviance(&self) -> f64 {
        self.ctx.base
    }

    fn nuisance_start(&self, i: usize) -> Vec<f64> {
        let ctx = &self.ctx;
        match ctx.params[i].kind {
            ParameterKind::Beta(_) | ParameterKind::Sigma => ctx.theta_hat.clone(),
            ParameterKind::Sd(k) => {
                let mut x = ctx.sdcor_hat.clone();
                x.remove(k);
                x.push(0.0); // log(σ / σ̂)
                x
            }
            ParameterKind::Cor(k) => {
                let mut x = ctx.sdcor_hat.clone();
                x.remove(k);
                x
            }
        }
    }

    fn first_step(&self, i: usize) -> f64 {
        let ctx = &self.ctx;
        let p = &ctx.params[i];
        match p.kind {
            ParameterKind::Beta(j) => ctx.zeta_step * ctx.stderror[j],
            ParameterKind::Cor(_) => RELATIVE_FIRST_STEP,
            ParameterKind::Sd(_) | ParameterKind::Sigma => {
                if p.estimate > 0.0 {
                    RELATIVE_FIRST_STEP * p.estimate
                } else {
                    RELATIVE_FIRST_STEP * ctx.sigma_hat
                }
            }
        }
    }

    fn conditional(&mut self, i: usize, value: f64, start: &[f64]) -> Result<Conditional> {
        let kind = self.ctx.params[i].kind;
        let ctx = &self.ctx;
        let model = &mut *self.model;
        let (n, lw) = (ctx.n, ctx.log_weights);
        let (lower, upper) = (ctx.layout.lower(), ctx.layout.upper());
        let (deviance, nuisance) = match kind {
            ParameterKind::Beta(j) => {
                let mut f = |th: &[f64]| match factor(model, th) {
                    Some((ld, _)) => ml_deviance(n, lw, ld, beta_fixed(model, j, value).0),
                    None => f64::INFINITY,
                };
                let sym = ctx.layout.sign_symmetries();
                minimize(&ctx.interrupt, &mut f, start, (&lower, &upper), sym, None)?
            }
            ParameterKind::Sigma => {
                let mut f = |th: &[f64]| match factor(model, th) {
                    Some((ld, r2)) => ml_deviance_at(n, lw, ld, r2, value),
                    None => f64::INFINITY,
                };
                let sym = ctx.layout.sign_symmetries();
                minimize(&ctx.interrupt, &mut f, start, (&lower, &upper), sym, None)?
            }
            ParameterKind::Sd(k) => {
                let (mut lo, mut hi) = sdcor_bounds(&ctx.layout, k);
                lo.push(f64::NEG_INFINITY);
                hi.push(f64::INFINITY);
                let mut f = |x: &[f64]| {
                    let m = x.len() - 1;
                    let sigma = ctx.sigma_hat * x[m].exp();
                    let theta = theta_from_sdcor(&ctx.layout, &insert(&x[..m], k, value / sigma));
                    match theta.and_then(|th| factor(model, &th)) {
                        Some((ld, r2)) => ml_deviance_at(n, lw, ld, r2, sigma),
                        None => f64::INFINITY,
                    }
                };
                minimize(&ctx.interrupt, &mut f, start, (&lo, &hi), vec![], None)?
            }
            ParameterKind::Cor(k) => {
                let (lo, hi) = sdcor_bounds(&ctx.layout, k);
                let mut f = |x: &[f64]| {
                    let theta = theta_from_sdcor(&ctx.layout, &insert(x, k, value));
                    match theta.and_then(|th| factor(model, &th)) {
                        Some((ld, r2)) => ml_deviance(n, lw, ld, r2),
                        None => f64::INFINITY,
                    }
                };
                let start = feasible_others(&ctx.layout, k, value, start);
                minimize(&ctx.interrupt, &mut f, &start, (&lo, &hi), vec![], None)?
            }
        };
        if !deviance.is_finite() {
            return Ok(Conditional {
                deviance,
                nuisance,
                values: vec![f64::NAN; ctx.params.len()],
            });
        }
        // Install the optimum and read every parameter there.
        let (theta, sigma) = match kind {
            ParameterKind::Beta(_) | ParameterKind::Sigma => (nuisance.clone(), value),
            ParameterKind::Sd(k) => {
                let m = nuisance.len() - 1;
                let sigma = ctx.sigma_hat * nuisance[m].exp();
                let th = theta_from_sdcor(&ctx.layout, &insert(&nuisance[..m], k, value / sigma));
                (th.ok_or_else(not_psd)?, sigma)
            }
            ParameterKind::Cor(k) => {
                let th = theta_from_sdcor(&ctx.layout, &insert(&nuisance, k, value));
                (th.ok_or_else(not_psd)?, f64::NAN)
            }
        };
        model.set_theta(&theta)?;
        let (sigma, beta) = match kind {
            ParameterKind::Beta(j) => {
                let (r2, beta) = beta_fixed(model, j, value);
                ((r2 / n).sqrt(), beta)
            }
            ParameterKind::Cor(_) => ((model.pwrss() / n).sqrt(), model.engine().beta()),
            _ => (sigma, model.engine().beta()),
        };
        let mut values = self.values(&theta, sigma, &beta);
        values[i] = value;
        Ok(Conditional {
            deviance,
            nuisance,
            values,
        })
    }
}

/// A conditional optimum outside the positive semidefinite correlations
/// (cannot happen: the optimizer only reports points it evaluated finitely).
fn not_psd() -> Error {
    Error::Convergence {
        message: "a conditional fit ended at correlations that form no covariance matrix".into(),
    }
}
