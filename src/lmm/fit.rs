//! Fitting: minimise the objective over θ under θ's bounds — with the
//! quasi-Newton method and the analytic gradient (`optimizer = auto` or
//! `bfgs`; `auto` hands a failed stage over to BOBYQA) or with BOBYQA —
//! then try tiny diagonal θ entries at their bound (the shared driver in
//! `model::driver`), check the convergence certificate with the analytic
//! gradient (`model::certificate`; in `auto` its restart is BOBYQA from the
//! best point), and keep the fit record.

use std::time::Instant;

use super::LinearMixedModel;
use crate::error::Result;
use crate::interrupt::Interrupt;
use crate::model::certificate::{certify, Certify};
use crate::model::driver::{run_fit, theta_bfgs, theta_optimizer, FitLog};
use crate::model::scaling::ThetaScaling;
use crate::model::{
    CertificateScope, FitRecord, FitSettings, MixedModel, OptimizerChoice, Stage, StageOptimizer,
    StageRecord,
};
use crate::optim::{Bfgs, Bobyqa, GradientObjective, OptResult, ReturnCode};
use crate::parallel::PARALLEL_ROWS;

impl LinearMixedModel {
    /// Fit by ML (`reml = false`) or REML from the moment start
    /// ([`moment_start`](Self::moment_start))
    /// with the default settings.
    pub fn fit(&mut self, reml: bool) -> Result<&FitRecord> {
        let settings = FitSettings {
            reml,
            threads: self.threads,
            ..FitSettings::default()
        };
        self.fit_with(&settings, None)
    }

    /// Fit with `settings` (criterion, optimizer radii and budget) from
    /// `start` (None: the moment start, or λ = I for BOBYQA alone). On
    /// failure or interruption the model is left unfitted at the starting θ.
    pub fn fit_with(
        &mut self,
        settings: &FitSettings,
        start: Option<&[f64]>,
    ) -> Result<&FitRecord> {
        // Without a start: the moment start and the quasi-Newton method's
        // B₀ from it (`start.rs`); BOBYQA alone starts from λ = I, lme4's
        // start, which suits its initial radius better (sleepstudy: 61
        // evaluations against 86 from the moment start).
        let (start, curvature) = match start {
            Some(start) => (start.to_vec(), None),
            None if settings.optimizer == OptimizerChoice::Bobyqa => (self.layout.initial(), None),
            None => {
                let start = self.moment_start();
                let curvature = self.start_curvature(&start);
                (start, Some(curvature))
            }
        };
        let parallel = settings.threads != Some(1) && self.nobs() >= PARALLEL_ROWS;
        let interrupt = self.interrupt.clone();
        interrupt.reset();
        self.record = None;
        match run_fit(parallel, &interrupt, || {
            self.run(settings, &start, curvature.as_deref())
        }) {
            Ok(record) => Ok(self.record.insert(record)),
            Err(e) => {
                // A defined state: unfitted, at the start (which was valid
                // unless the error says otherwise).
                let _ = self.set_theta(&start);
                Err(e)
            }
        }
    }

    /// The fit from `start`; `curvature`: the quasi-Newton method's B₀ (in
    /// θ̃ = θ/unit) for that start, if known.
    fn run(
        &mut self,
        settings: &FitSettings,
        start: &[f64],
        curvature: Option<&[f64]>,
    ) -> Result<FitRecord> {
        self.set_reml(settings.reml)?;
        let timer = Instant::now();
        let finitial = self.objective_at(start)?;
        let lower = self.layout.lower();
        let upper = self.layout.upper();
        let interrupt = self.interrupt.clone();
        let mut log = FitLog::reporting_to(&interrupt);
        let bobyqa = theta_optimizer(
            &self.layout,
            settings.rho_begin,
            settings.rho_end,
            settings.max_evaluations,
            &interrupt,
        );
        let bfgs = theta_bfgs(&self.layout, settings.max_evaluations, &interrupt);
        // The optimizers, zero trials and certificate work on θ in its units.
        let scaling = ThetaScaling::new(&self.layout);
        let mut stages = Vec::new();
        // The quasi-Newton stage's gradient at its optimum, for the certificate.
        let mut known_gradient = None;
        let result = if lower.is_empty() {
            // No random effects: nothing to optimise.
            let f = self.objective_for_optimizer(&[]);
            log.push(&[], &[], f, false);
            stages.push(StageRecord {
                stage: Stage::Theta,
                optimizer: StageOptimizer::Bobyqa,
                evaluations: 1,
                gradient_evaluations: 0,
                factorizations: 1,
                seconds: timer.elapsed().as_secs_f64(),
                rho_begin: settings.rho_begin,
                rho_end: settings.rho_end,
                return_code: ReturnCode::Converged,
            });
            OptResult {
                x: vec![],
                fmin: f,
                evaluations: 1,
                code: ReturnCode::Converged,
            }
        } else {
            let mut quasi_newton = None;
            if settings.optimizer != OptimizerChoice::Bobyqa {
                let mut objective = ThetaObjective {
                    model: self,
                    log: Some(&mut log),
                };
                // The certificate's restart starts elsewhere: without B₀.
                let first = Bfgs {
                    initial_hessian: curvature.map(<[f64]>::to_vec),
                    ..bfgs.clone()
                };
                let (qn, mut stage) = scaling.run_gradient_stage(
                    Stage::Theta,
                    &first,
                    &mut objective,
                    start,
                    &lower,
                    &upper,
                    &interrupt,
                )?;
                stage.factorizations = stage.evaluations;
                stages.push(stage);
                if !qn.gradient.is_empty() {
                    known_gradient = Some((qn.x.clone(), qn.gradient.clone()));
                }
                quasi_newton = Some(qn.to_opt_result());
            }
            match quasi_newton {
                // A failed quasi-Newton stage (not a used-up budget) hands
                // over to BOBYQA from its best point in `auto`.
                Some(qn)
                    if settings.optimizer == OptimizerChoice::Auto
                        && matches!(qn.code, ReturnCode::Failure(_)) =>
                {
                    let x0 = if qn.fmin.is_finite() {
                        &qn.x[..]
                    } else {
                        start
                    };
                    let (r, stage) =
                        self.bobyqa_stage(&bobyqa, &scaling, x0, &mut log, &interrupt)?;
                    stages.push(stage);
                    if r.fmin <= qn.fmin {
                        r
                    } else {
                        qn
                    }
                }
                Some(qn) => qn,
                None => {
                    let (r, stage) =
                        self.bobyqa_stage(&bobyqa, &scaling, start, &mut log, &interrupt)?;
                    stages.push(stage);
                    r
                }
            }
        };
        let fmin = self.objective_at(&result.x)?;
        let (theta, fmin, zeroed) =
            scaling.zero_trials(&self.layout.diagonal(), result.x, fmin, &mut |th| {
                let v = self.objective_for_optimizer(th);
                log.push(th, &[], v, false);
                v
            });
        let restart = match settings.optimizer {
            OptimizerChoice::Bfgs => Restart::Bfgs(&bfgs),
            _ => Restart::Bobyqa(&bobyqa),
        };
        let (theta, fmin, certificate) = {
            let mut check = Certifier {
                model: self,
                restart,
                scaling: &scaling,
                lower: &lower,
                upper: &upper,
                interrupt: &interrupt,
                known_gradient,
            };
            certify(
                &mut check,
                theta,
                fmin,
                &lower,
                settings,
                CertificateScope::Theta,
                "analytic",
            )?
        };
        self.set_theta(&theta)?;
        Ok(FitRecord {
            settings: settings.clone(),
            initial: start.to_vec(),
            finitial,
            lower,
            final_theta: theta,
            final_beta: self.engine.beta(),
            fmin,
            evaluations: log.entries.len(),
            gradient_evaluations: stages.iter().map(|s| s.gradient_evaluations).sum(),
            zeroed,
            factorizations: log.entries.len(),
            seconds: timer.elapsed().as_secs_f64(),
            stages,
            fitlog: log.entries,
            certificate,
        })
    }

    /// A BOBYQA stage over θ from `x0`, its evaluations logged.
    fn bobyqa_stage(
        &mut self,
        bobyqa: &Bobyqa,
        scaling: &ThetaScaling,
        x0: &[f64],
        log: &mut FitLog,
        interrupt: &Interrupt,
    ) -> Result<(OptResult, StageRecord)> {
        let lower = self.layout.lower();
        let upper = self.layout.upper();
        let mut f = |th: &[f64]| {
            let v = self.objective_for_optimizer(th);
            log.push(th, &[], v, false);
            v
        };
        let (result, mut stage) =
            scaling.run_stage(Stage::Theta, bobyqa, &mut f, x0, &lower, &upper, interrupt)?;
        stage.factorizations = stage.evaluations;
        Ok((result, stage))
    }

    /// The record of the last fit, if fitted.
    pub fn optsum(&self) -> Option<&FitRecord> {
        self.record.as_ref()
    }
}

/// The LMM objective for the quasi-Newton method: each value (logged when
/// `log` is given) refactors L; the gradient is read off that factor.
struct ThetaObjective<'a> {
    model: &'a mut LinearMixedModel,
    log: Option<&'a mut FitLog>,
}

impl GradientObjective for ThetaObjective<'_> {
    fn value(&mut self, theta: &[f64]) -> f64 {
        let v = self.model.objective_for_optimizer(theta);
        if let Some(log) = self.log.as_deref_mut() {
            log.push(theta, &[], v, false);
        }
        v
    }

    fn gradient(&mut self, theta: &[f64], g: &mut [f64]) {
        // The method asks at its last value's θ, whose factor is current.
        if self.model.engine.theta() != theta && self.model.set_theta(theta).is_err() {
            g.fill(f64::NAN);
            return;
        }
        g.copy_from_slice(&self.model.gradient());
    }
}

/// The optimizer of the certificate's restart.
enum Restart<'a> {
    Bobyqa(&'a Bobyqa),
    Bfgs(&'a Bfgs),
}

/// The certificate's view of an LMM: the analytic gradient (one
/// factorization and the gradient's solves, counted as one evaluation; the
/// quasi-Newton stage's own at its optimum, free) and a restart of the θ
/// stage. (Models with a large dense block of L once differenced the
/// objective instead; the selected inverse made the gradient cheaper than
/// the differences: InstEval `service * dept`, t = 1128, about 54 ms of
/// CPU against 4 evaluations of 21 ms.)
struct Certifier<'a> {
    model: &'a mut LinearMixedModel,
    restart: Restart<'a>,
    scaling: &'a ThetaScaling,
    lower: &'a [f64],
    upper: &'a [f64],
    interrupt: &'a Interrupt,
    /// A gradient already computed, and its θ.
    known_gradient: Option<(Vec<f64>, Vec<f64>)>,
}

impl Certify for Certifier<'_> {
    fn gradient(&mut self, x: &[f64], _f: f64) -> Result<(Vec<f64>, usize)> {
        if x.is_empty() {
            return Ok((vec![], 0));
        }
        if let Some((at, g)) = &self.known_gradient {
            if at == x {
                return Ok((g.clone(), 0));
            }
        }
        Ok((self.model.gradient_at(x)?, 1))
    }

    fn restart(&mut self, x: &[f64]) -> Result<(Vec<f64>, f64, usize)> {
        let model = &mut *self.model;
        match self.restart {
            Restart::Bobyqa(bobyqa) => {
                let mut f = |th: &[f64]| model.objective_for_optimizer(th);
                let (result, stage) = self.scaling.run_stage(
                    Stage::Theta,
                    bobyqa,
                    &mut f,
                    x,
                    self.lower,
                    self.upper,
                    self.interrupt,
                )?;
                Ok((result.x, result.fmin, stage.evaluations))
            }
            Restart::Bfgs(bfgs) => {
                let mut objective = ThetaObjective { model, log: None };
                let (result, stage) = self.scaling.run_gradient_stage(
                    Stage::Theta,
                    bfgs,
                    &mut objective,
                    x,
                    self.lower,
                    self.upper,
                    self.interrupt,
                )?;
                self.known_gradient = (!result.gradient.is_empty())
                    .then(|| (result.x.clone(), result.gradient.clone()));
                Ok((result.x, result.fmin, stage.evaluations))
            }
        }
    }

    fn units(&self, n: usize) -> Vec<f64> {
        debug_assert_eq!(n, self.scaling.units().len());
        self.scaling.units().to_vec()
    }
}
