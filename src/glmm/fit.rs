//! Evaluating and minimising the GLMM objective.
//!
//! `fast = true` minimises over θ only, β being updated with u inside PIRLS
//! (lme4's nAGQ = 0 stage, MixedModels.jl's `fast`). The default minimises
//! over (β, θ) jointly, PIRLS finding û for fixed β.
//!
//! With `optimizer = auto` (nAGQ = 1) or `bfgs` the stages are projected
//! BFGS with the exact gradient of the Laplace objective
//! (`quasi_newton.rs`): a fast fit's θ stage, or a joint fit's single
//! (β, θ) stage from θ₀; `auto` hands a failed stage over to BOBYQA from its
//! best point, and keeps BOBYQA for nAGQ > 1 (`bfgs` there polishes the
//! Laplace optimum with BOBYQA on the quadrature objective).
//!
//! With BOBYQA (`optimizer = bobyqa`, or `auto` with nAGQ > 1) the joint
//! fit starts from the fast fit (MixedModels.jl; lme4's second stage). Both
//! stages use BOBYQA under θ's lower bounds; in the joint stage β is unbounded and each
//! coordinate is scaled so that the initial trust-region radius is a fixed
//! fraction of its standard error from the fast fit (θ: a fixed step in its
//! units, `model::scaling`).

use std::time::Instant;

use super::pirls::PIRLS_TOL;
use super::GeneralizedLinearMixedModel;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::model::driver::{run_fit, run_stage, theta_optimizer, FitLog};
use crate::model::scaling::ThetaScaling;
use crate::model::start::{moment_start, StartScale};
use crate::model::{FitRecord, FitSettings, OptimizerChoice, Stage, StageRecord};
use crate::optim::{Bobyqa, OptResult, ReturnCode};
use crate::parallel::PARALLEL_ROWS;
/// θ-only stage: final trust-region radius when the joint stage follows (it
/// only needs a good start; a `fast` fit uses BOBYQA's default 1e-6).
const FAST_STAGE_RHO_END: f64 = 3e-2;
/// Joint stage: initial step for β in whitened units (≈ standard errors).
const BETA_STEP: f64 = 1.0;
/// Joint stage: initial step for θ.
const THETA_STEP: f64 = 0.05;
/// Joint stage: final trust-region radius in the scaled coordinates (3e-4
/// standard errors for β, 1.5e-5 for θ). On VerbAgg and Contraception (nAGQ
/// 9 and 1) 1e-4 took 92, 55 and 61 evaluations, this 71, 53 and 56, with
/// optima equal to 1e-12 relative and (θ, β) within 5e-5 relative of the
/// tight optimum (tests/glmm_reference.rs); 1e-3 saved a few more
/// evaluations but moved a coefficient near zero (Contraception's age²) by
/// 1e-4 relative.
pub(super) const JOINT_RHO_END: f64 = 3e-4;
/// PIRLS tolerance (see `pirls.rs`) in the θ-only stage when the joint stage
/// follows: that stage only needs a good start (its BOBYQA stops at a radius
/// of 3e-2), and a looser tolerance saves a Newton step in about a quarter
/// of its evaluations (VerbAgg: 87 → 68 factorizations, same optimum).
const FAST_STAGE_PIRLS_TOL: f64 = 1e-5;

/// The largest dense diagonal block of L (its order) with which `auto`
/// fits a GLMM by BFGS with the analytic gradient; above it, by BOBYQA (see
/// `run`). The gradient's selected inverse of that block costs about two
/// factorizations, and its leverages a pass of t operations per row: the
/// 500,000-row crossed Bernoulli model (t = 500) took, from the moment
/// start, 9 evaluations and 9.2 s with BFGS against 87 and 12.4 s with
/// BOBYQA.
const GRADIENT_MAX_DENSE: usize = 1024;

/// Beyond this |η| a fitted probability is within 1e-11 of 0 or 1 (and a
/// Poisson mean below 1e-11): the fit is checked for separation.
const SEPARATION_ETA: f64 = 25.0;

/// What a fit starts from ([`GeneralizedLinearMixedModel::begin_fit`]).
pub(super) struct FitStart {
    /// The fit's clock.
    pub timer: Instant,
    /// θ's lower bounds.
    pub lower: Vec<f64>,
    /// θ₀.
    pub start: Vec<f64>,
    /// The model's interrupt.
    pub interrupt: Interrupt,
    /// The fit log, reporting to the interrupt's progress sink.
    pub log: FitLog,
}

impl GeneralizedLinearMixedModel {
    /// The objective at the current state, after PIRLS: the Laplace deviance
    /// Σ dᵢ + ‖û‖² + log|L_Z|² or, for nAGQ > 1, its adaptive Gauss–Hermite version.
    pub(crate) fn current_objective(&self) -> Result<f64> {
        if self.family.has_dispersion() && !self.observed_weights && self.nagq <= 1 {
            return self.objective_with_signed_weights();
        }
        if self.nagq <= 1 {
            Ok(self.pdev() + self.active_engine().logdet_z())
        } else {
            self.agq_deviance(self.nagq)
        }
    }

    /// Evaluate the objective (Laplace for `nagq = 1`, else adaptive
    /// Gauss–Hermite) at θ, with β fixed (`Some`) or updated by PIRLS (`None`).
    /// The model's state (β, u, η, μ, L) is left at the conditional modes and
    /// nAGQ becomes `nagq` (for [`objective`](MixedModel::objective) and the likelihood).
    pub fn evaluate(&mut self, theta: &[f64], beta: Option<&[f64]>, nagq: usize) -> Result<f64> {
        self.check_nagq(nagq)?;
        self.install_theta(theta)?;
        if let Some(b) = beta {
            self.install_beta(b)?;
        }
        self.pirls(beta.is_none(), false, PIRLS_TOL)?;
        // L (of the engine with X) at the working weights of the final η
        // exactly — PIRLS leaves η = o + Xβ + ZΛû — so that the state can be
        // rebuilt from (θ, β, û) alone (restore, `install_mode`).
        self.reweight(false)?;
        self.nagq = nagq;
        self.current_objective()
    }

    /// Install a fixed β (checked: its length and finite entries).
    pub(super) fn install_beta(&mut self, beta: &[f64]) -> Result<()> {
        if beta.len() != self.beta.len() {
            return Err(Error::argument(
                "beta",
                format!("β must have length {}, got {}", self.beta.len(), beta.len()),
            ));
        }
        if let Some(i) = beta.iter().position(|v| !v.is_finite()) {
            return Err(Error::argument(
                "beta",
                format!("β[{i}] = {} is not finite", beta[i]),
            ));
        }
        self.beta.copy_from_slice(beta);
        Ok(())
    }

    /// As [`evaluate`](Self::evaluate) for the optimizer, with PIRLS to
    /// tolerance `tol`: PIRLS at fixed β runs in the engine without X
    /// (R_X is not needed there).
    fn evaluate_inner(&mut self, theta: &[f64], beta: Option<&[f64]>, tol: f64) -> Result<f64> {
        self.install_theta(theta)?;
        if let Some(b) = beta {
            self.beta.copy_from_slice(b);
        }
        self.pirls(beta.is_none(), true, tol)?;
        self.current_objective()
    }

    /// For the optimizer: the objective, or +∞ (state restored) if PIRLS fails.
    pub(super) fn evaluate_or_inf(&mut self, theta: &[f64], beta: Option<&[f64]>, tol: f64) -> f64 {
        let saved = (self.beta.clone(), self.u.clone(), self.started);
        match self.evaluate_inner(theta, beta, tol) {
            Ok(v) if v.is_finite() => v,
            _ => {
                (self.beta, self.u, self.started) = saved;
                f64::INFINITY
            }
        }
    }

    /// The objective at (θ, β) for callers that minimise it over both (the
    /// conditional fits of a profile): +∞ where θ is invalid or PIRLS fails
    /// (the state is then restored). `beta` must have the length of β.
    pub(crate) fn objective_at_fixed(&mut self, theta: &[f64], beta: &[f64]) -> f64 {
        self.evaluate_or_inf(theta, Some(beta), PIRLS_TOL)
    }

    /// Fit the model: `fast` optimises θ only (β from PIRLS); otherwise
    /// (β, θ) are then optimised jointly. `nagq` = 1 uses the Laplace
    /// approximation, > 1 adaptive Gauss–Hermite quadrature (one scalar term only).
    ///
    /// # Errors
    ///
    /// [`Error`](crate::Error) variants for `nagq` out of 1..=100 or above 1 with
    /// more than one scalar random-effects term, separated data (no finite
    /// estimates), PIRLS failing at the starting values, or an interrupted fit.
    ///
    /// # Examples
    ///
    /// A Poisson model of counts in six groups:
    ///
    /// ```
    /// use mixedmodels::{data::{Column, Data}, Family, GeneralizedLinearMixedModel};
    /// use mixedmodels::{GlmmOptions, MixedModel};
    /// # fn main() -> mixedmodels::Result<()> {
    /// let y = [2., 3., 6., 7., 1., 2., 4., 5., 4., 6., 9., 12., 0., 1., 3., 3., 3., 5., 5., 9.,
    ///          1., 3., 4., 8.];
    /// let x: Vec<f64> = (0..24).map(|i| (i % 4) as f64).collect();
    /// let g = ["a", "b", "c", "d", "e", "f"].map(|l| [l; 4]).concat();
    /// let data = Data::new()
    ///     .with_column("y", Column::numeric(y.to_vec()))?
    ///     .with_column("x", Column::numeric(x))?
    ///     .with_column("g", Column::from_strings(&g))?;
    /// let mut m = GeneralizedLinearMixedModel::new(
    ///     "y ~ 1 + x + (1 | g)", &data, Family::Poisson, None, &GlmmOptions::default())?;
    /// m.fit(false, 1)?;
    /// // lme4: glmer(y ~ 1 + x + (1 | g), family = poisson): logLik -45.73301,
    /// // fixef 0.6474635, 0.4371579, theta 0.3667233
    /// assert!((m.loglikelihood()? + 45.733_01).abs() < 1e-4);
    /// let beta = m.beta();
    /// assert!((beta[0] - 0.647_463_5).abs() < 1e-4 && (beta[1] - 0.437_157_9).abs() < 1e-4);
    /// assert!((m.theta()[0] - 0.366_723_3).abs() < 1e-4);
    /// # Ok(()) }
    /// ```
    pub fn fit(&mut self, fast: bool, nagq: usize) -> Result<&FitRecord> {
        let settings = FitSettings {
            fast,
            nagq,
            threads: self.threads,
            ..FitSettings::default()
        };
        self.fit_with(&settings)
    }

    /// Fit with `settings` (fast, nAGQ, the θ stage's radii and budget,
    /// the PIRLS tolerance). On failure or interruption the model is left
    /// unfitted (its state at the last evaluation).
    pub fn fit_with(&mut self, settings: &FitSettings) -> Result<&FitRecord> {
        let parallel = settings.threads != Some(1) && self.eta.len() >= PARALLEL_ROWS;
        let interrupt = self.interrupt.clone();
        interrupt.reset();
        self.record = None;
        self.phi_log_se = std::sync::OnceLock::new();
        let record = run_fit(parallel, &interrupt, || self.run(settings))?;
        Ok(self.record.insert(record))
    }

    /// What every fit does first: check and install nAGQ, reset the fit's
    /// counters, and take the clock, θ's bounds and start, the interrupt and
    /// a fit log reporting to it.
    pub(super) fn begin_fit(&mut self, nagq: usize) -> Result<FitStart> {
        self.check_nagq(nagq)?;
        self.nagq = nagq;
        self.started = false;
        self.factorizations = 0;
        let interrupt = self.interrupt.clone();
        let log = FitLog::reporting_to(&interrupt);
        // The families without a dispersion parameter start from the
        // moment estimate on the GLM's working scale; the others (whose
        // working residuals are scaled by φ) from λ = I.
        Ok(FitStart {
            timer: Instant::now(),
            lower: self.layout.lower(),
            start: self.layout.initial(),
            interrupt,
            log,
        })
    }

    /// The moment start of θ on the working scale (`model::start`): PIRLS
    /// at θ = 0 (the GLM fit lme4 also starts with), then the estimate
    /// from the engine's A at the GLM's working weights and response,
    /// measured as `scale` says. The model's state is left at the GLM, a
    /// start for the first PIRLS; None (the state reset) when the GLM does
    /// not converge, as under separation, which the random effects may
    /// still hold in check (measured: `model::start`).
    pub(super) fn glm_moment_start(&mut self, scale: StartScale) -> Result<Option<Vec<f64>>> {
        let zeros = vec![0.0; self.layout.len()];
        self.install_theta(&zeros)?;
        match self
            .pirls(true, false, PIRLS_TOL)
            .and_then(|_| self.reweight(false))
        {
            Ok(_) => Ok(Some(moment_start(&self.engine, &self.layout, scale))),
            Err(Error::Interrupted) => Err(Error::Interrupted),
            Err(_) => {
                self.started = false;
                Ok(None)
            }
        }
    }

    fn run(&mut self, settings: &FitSettings) -> Result<FitRecord> {
        // Families with a dispersion parameter: see `dispersion.rs`.
        if self.family.has_dispersion() {
            return self.run_dispersion(settings);
        }
        let (fast, nagq) = (settings.fast, settings.nagq);
        let FitStart {
            timer,
            lower,
            mut start,
            interrupt,
            mut log,
        } = self.begin_fit(nagq)?;
        let quasi_newton = !lower.is_empty()
            && match settings.optimizer {
                OptimizerChoice::Bobyqa => false,
                // A fast fit with nAGQ > 1 minimises the quadrature
                // objective over θ with β from PIRLS: no gradient.
                OptimizerChoice::Auto => {
                    (!fast || nagq == 1) && self.engine.largest_dense_block() <= GRADIENT_MAX_DENSE
                }
                OptimizerChoice::Bfgs => !fast || nagq == 1,
            };
        // The quasi-Newton method starts from the moment estimate on the
        // working scale; BOBYQA from λ = I, lme4's start, which suits its
        // initial radius of 0.75 better (from the moment start sleepstudy's
        // LMM took 86 evaluations against 61, the 500k Bernoulli model 87
        // against 62).
        if quasi_newton {
            if let Some(moment) = self.glm_moment_start(StartScale::Known(1.0))? {
                start = moment;
            }
        }
        let finitial = self
            .evaluate(&start, None, nagq)
            .map_err(|e| self.explain_failure(e))?;
        // The quasi-Newton stages work on the Laplace objective, the one
        // with a gradient: the θ-only stage (β from PIRLS, lme4's nAGQ = 0)
        // to a loose tolerance, then the joint stage over (β, θ) from its
        // optimum with θ's columns of the Hessian differenced at the start
        // (`quasi_newton.rs`). On cbpp, Contraception, grouseticks and
        // VerbAgg that took 13, 12, 23 and 16 evaluations (49, 49, 93 and 66
        // factorizations); the joint stage alone from θ₀ took 12, 14, 26 and
        // 32 (52, 59, 129, 129), and 14, 20, 27 and 30 before θ's columns
        // were differenced. For nAGQ > 1 the joint stage works on the
        // quadrature objective with its exact gradient (`agq_gradient.rs`):
        // Contraception (nAGQ 9) took 16 evaluations (BOBYQA 53; BFGS on
        // the Laplace objective and a BOBYQA polish of the quadrature
        // objective 59–65).
        // `auto` also keeps BOBYQA when crossed factors fill in a dense
        // block of L larger than `GRADIENT_MAX_DENSE` (see there).
        let fallback = settings.optimizer == OptimizerChoice::Auto;
        let mut stages = Vec::new();
        let mut theta = start.clone();
        // The θ stage's final B (in θ̃), θ's block of the joint stage's B₀.
        let mut theta_hessian: Option<Vec<f64>> = None;
        {
            // Stage 1: θ only, β from PIRLS (with BFGS for the quasi-Newton
            // fits: to the end for a fast fit, else as the joint stage's start).
            let mut best = f64::INFINITY;
            if quasi_newton {
                // On the Laplace objective, whose gradient it uses, also
                // when a quadrature objective follows (nAGQ > 1).
                self.nagq = 1;
                let qn = self.theta_stage_bfgs(
                    &start,
                    settings.max_evaluations,
                    if fast {
                        settings.pirls_tol
                    } else {
                        FAST_STAGE_PIRLS_TOL
                    },
                    !fast,
                    &mut log,
                    &interrupt,
                );
                self.nagq = nagq;
                let (qn, stage) = qn?;
                stages.push(stage);
                if qn.fmin.is_finite() {
                    (theta, best) = (qn.x.clone(), qn.fmin);
                    let canonical = self.link == self.family.canonical_link();
                    theta_hessian =
                        (canonical && !qn.hessian.is_empty()).then(|| qn.hessian.clone());
                }
                if !(fallback && matches!(qn.code, ReturnCode::Failure(_))) {
                    best = f64::NEG_INFINITY;
                }
            }
            if best != f64::NEG_INFINITY {
                // BOBYQA: the optimizer chosen, or the fallback from the
                // best point of a failed quasi-Newton stage.
                let (result, stage) = self.theta_stage_bobyqa(settings, &theta, &mut log)?;
                stages.push(stage);
                if result.fmin <= best {
                    theta = result.x;
                    theta_hessian = None;
                }
            }
        }
        let mut fmin = self.evaluate(&theta, None, nagq)?;
        if !fast {
            // Stage 2: (β, θ) from the θ stage's optimum.
            let (b, th) = if quasi_newton {
                self.joint_stages_quasi_newton(
                    settings,
                    &theta,
                    theta_hessian.as_deref(),
                    fallback,
                    &mut log,
                    &mut stages,
                )?
            } else {
                let beta = self.beta.clone();
                let (b, th, stage) =
                    self.joint_stage_bobyqa(settings, &beta, &theta, 1.0, &mut log)?;
                stages.push(stage);
                (b, th)
            };
            // Keep the better of the two stages' optima.
            let f2 = self.evaluate(&th, Some(&b), nagq)?;
            if f2 <= fmin {
                theta = th;
                fmin = f2;
            } else {
                fmin = self.evaluate(&theta, None, nagq)?;
            }
        }
        // Try tiny diagonal entries of θ at their bound of zero.
        let beta_opt = (!fast).then(|| self.beta.clone());
        let diagonal = self.layout.diagonal();
        let scaling = ThetaScaling::new(&self.layout);
        let (theta, fz, zeroed) = scaling.zero_trials(&diagonal, theta, fmin, &mut |trial| {
            let v = self.evaluate_or_inf(trial, beta_opt.as_deref(), settings.pirls_tol);
            log.push(trial, &self.beta, v, !fast);
            v
        });
        // The convergence certificate (its evaluations are not logged).
        let (theta, beta_opt, certificate) =
            self.certificate(settings, theta, beta_opt, fz, &interrupt)?;
        let fmin = self
            .evaluate(&theta, beta_opt.as_deref(), nagq)
            .map_err(|e| self.explain_failure(e))?;
        // Fitted values at the bound of the mean can also come from a fit
        // that "converged" along a separating direction.
        if self.eta.iter().any(|e| e.abs() > SEPARATION_ETA) {
            if let Some(sep) = self.separation() {
                return Err(sep.into_error());
            }
        }
        self.nagq = nagq;
        self.fast = fast;
        Ok(FitRecord {
            settings: settings.clone(),
            initial: start,
            finitial,
            lower,
            final_theta: theta,
            final_beta: self.beta.clone(),
            fmin,
            evaluations: log.entries.len(),
            gradient_evaluations: stages.iter().map(|s| s.gradient_evaluations).sum(),
            zeroed,
            factorizations: self.factorizations,
            seconds: timer.elapsed().as_secs_f64(),
            stages,
            fitlog: log.entries,
            certificate,
        })
    }

    /// The θ stage with BOBYQA from `x0` (θ's scales and symmetries, on θ̃).
    fn theta_stage_bobyqa(
        &mut self,
        settings: &FitSettings,
        x0: &[f64],
        log: &mut FitLog,
    ) -> Result<(OptResult, StageRecord)> {
        let interrupt = self.interrupt.clone();
        let (rho_end, tol) = if settings.fast {
            (settings.rho_end, settings.pirls_tol)
        } else {
            (FAST_STAGE_RHO_END, FAST_STAGE_PIRLS_TOL)
        };
        let bobyqa = theta_optimizer(
            &self.layout,
            settings.rho_begin,
            rho_end,
            settings.max_evaluations,
            &interrupt,
        );
        let (lower, upper) = (self.layout.lower(), self.layout.upper());
        let before = self.factorizations;
        let scaling = ThetaScaling::new(&self.layout);
        let mut f = |th: &[f64]| {
            let v = self.evaluate_or_inf(th, None, tol);
            log.push(th, &self.beta, v, false);
            v
        };
        let (result, mut stage) = scaling.run_stage(
            Stage::Theta,
            &bobyqa,
            &mut f,
            x0,
            &lower,
            &upper,
            &interrupt,
        )?;
        stage.factorizations = self.factorizations - before;
        Ok((result, stage))
    }

    /// The joint (β, θ) stage with BOBYQA from (β, θ) on the model's
    /// objective (nAGQ as set), in whitened coordinates around the start
    /// with initial radius `rho_begin`. Returns (β, θ) at its optimum.
    fn joint_stage_bobyqa(
        &mut self,
        settings: &FitSettings,
        beta: &[f64],
        theta: &[f64],
        rho_begin: f64,
        log: &mut FitLog,
    ) -> Result<(Vec<f64>, Vec<f64>, StageRecord)> {
        let interrupt = self.interrupt.clone();
        let before = self.factorizations;
        // R_X at the start whitens β.
        self.evaluate(theta, Some(beta), self.nagq)?;
        let p = beta.len();
        let map = JointMap::new(self, theta);
        let x0 = vec![0.0; p + theta.len()];
        let lo = map.lower(&self.layout.lower());
        let hi = vec![f64::INFINITY; p + theta.len()];
        let joint = Bobyqa {
            rho_begin,
            rho_end: JOINT_RHO_END,
            max_evaluations: settings.max_evaluations,
            stop: Some(interrupt.flag().clone().into()),
            ..Bobyqa::default()
        };
        let (result, mut stage) = {
            let mut f = |x: &[f64]| {
                let par = map.params(x);
                let (b, th) = par.split_at(p);
                let v = self.evaluate_or_inf(th, Some(b), settings.pirls_tol);
                log.push(th, b, v, true);
                v
            };
            run_stage(Stage::Joint, &joint, &mut f, &x0, &lo, &hi, &interrupt)?
        };
        stage.factorizations = self.factorizations - before;
        let par = map.params(&result.x);
        let (b, th) = par.split_at(p);
        Ok((b.to_vec(), th.to_vec(), stage))
    }

    /// The joint stages of `optimizer = auto|bfgs`: BFGS on the model's
    /// objective (Laplace, or adaptive quadrature for nAGQ > 1, each with its
    /// exact gradient) from `theta` and the current β (the state of an
    /// evaluation there), θ's block of B₀ from `theta_hessian` if given;
    /// with `fallback`, BOBYQA from its best point if it fails. The stages
    /// are appended to the record's; returns (β, θ).
    fn joint_stages_quasi_newton(
        &mut self,
        settings: &FitSettings,
        theta: &[f64],
        theta_hessian: Option<&[f64]>,
        fallback: bool,
        log: &mut FitLog,
        stages: &mut Vec<StageRecord>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let interrupt = self.interrupt.clone();
        let (mut b, mut th, qn, stage) = self.joint_stage_bfgs(
            theta,
            theta_hessian,
            settings.max_evaluations,
            settings.pirls_tol,
            log,
            &interrupt,
        )?;
        stages.push(stage);
        if fallback && matches!(qn.code, ReturnCode::Failure(_)) {
            let (b2, th2, stage) = self.joint_stage_bobyqa(settings, &b, &th, 1.0, log)?;
            stages.push(stage);
            let f2 = self.evaluate_or_inf(&th2, Some(&b2), settings.pirls_tol);
            if f2 < qn.fmin {
                (b, th) = (b2, th2);
            }
        }
        Ok((b, th))
    }

    /// A PIRLS failure caused by separation becomes an error naming the
    /// coefficients; other errors pass through.
    fn explain_failure(&self, e: Error) -> Error {
        match (&e, self.separation()) {
            (Error::Convergence { .. } | Error::NotPositiveDefinite { .. }, Some(sep)) => {
                sep.into_error()
            }
            _ => e,
        }
    }

    /// The record of the last fit, if fitted.
    pub fn optsum(&self) -> Option<&FitRecord> {
        self.record.as_ref()
    }
}

/// Coordinates of the joint stage: β = β₀ + c R_X⁻¹ x_β (R_X from the fast
/// fit, so that the β part of the objective's Hessian, ≈ 2R_XᵀR_X, is a
/// multiple of the identity) and θ = θ₀ + s D x_θ (D: θ's units, so that
/// both parts are independent of the units of the predictors).
pub(super) struct JointMap {
    beta0: Vec<f64>,
    theta0: Vec<f64>,
    /// L_XX = R_Xᵀ, row-major p × p lower triangular.
    lxx: Vec<f64>,
    c: f64,
    /// The step of each θ entry: s times its unit.
    s: Vec<f64>,
}

impl JointMap {
    pub(super) fn new(m: &GeneralizedLinearMixedModel, theta: &[f64]) -> Self {
        let p = m.beta.len();
        let l = m.engine.l_xy();
        let mut lxx = vec![0.0; p * p];
        for i in 0..p {
            for j in 0..=i {
                lxx[i * p + j] = l[(i, j)];
            }
        }
        JointMap {
            beta0: m.beta.clone(),
            theta0: theta.to_vec(),
            lxx,
            c: BETA_STEP,
            s: m.layout.units().iter().map(|u| THETA_STEP * u).collect(),
        }
    }

    /// The map with θ in its own units, unshifted (θ = x_θ), for the
    /// quasi-Newton joint stage (`quasi_newton.rs`): θ's bounds and sign
    /// symmetries then hold in x as they are.
    pub(super) fn unshifted_theta(m: &GeneralizedLinearMixedModel) -> Self {
        let nt = m.layout.len();
        JointMap {
            theta0: vec![0.0; nt],
            s: vec![1.0; nt],
            ..JointMap::new(m, &vec![0.0; nt])
        }
    }

    /// The gradient in x from the gradient in (β, θ) (chain rule):
    /// ∂f/∂x_β = c L_XX⁻¹ ∂f/∂β (forward substitution, as β − β₀ =
    /// c L_XXᵀ⁻¹ x_β) and ∂f/∂x_θ = s ∘ ∂f/∂θ.
    pub(super) fn gradient_to_x(&self, grad_beta: &[f64], grad_theta: &[f64]) -> Vec<f64> {
        let p = self.beta0.len();
        let mut g = grad_beta.to_vec();
        for i in 0..p {
            let mut acc = g[i];
            for j in 0..i {
                acc -= self.lxx[i * p + j] * g[j];
            }
            g[i] = acc / self.lxx[i * p + i];
        }
        g.iter_mut().for_each(|v| *v *= self.c);
        g.extend(grad_theta.iter().zip(&self.s).map(|(g, s)| g * s));
        g
    }

    /// (β, θ) at x.
    pub(super) fn params(&self, x: &[f64]) -> Vec<f64> {
        let p = self.beta0.len();
        // Solve L_XXᵀ d = c x_β by back substitution.
        let mut d: Vec<f64> = x[..p].iter().map(|v| v * self.c).collect();
        for i in (0..p).rev() {
            let mut acc = d[i];
            for j in i + 1..p {
                acc -= self.lxx[j * p + i] * d[j];
            }
            d[i] = acc / self.lxx[i * p + i];
        }
        let beta = self.beta0.iter().zip(&d).map(|(b, d)| b + d);
        let theta = self
            .theta0
            .iter()
            .zip(&x[p..])
            .zip(&self.s)
            .map(|((t, x), s)| t + s * x);
        beta.chain(theta).collect()
    }

    /// Lower bounds in x for θ's lower bounds.
    pub(super) fn lower(&self, lower_theta: &[f64]) -> Vec<f64> {
        let p = self.beta0.len();
        std::iter::repeat_n(f64::NEG_INFINITY, p)
            .chain(
                lower_theta
                    .iter()
                    .zip(&self.theta0)
                    .zip(&self.s)
                    .map(|((l, t), s)| (l - t) / s),
            )
            .collect()
    }
}
