//! Fitting: minimise the objective over θ with BOBYQA under θ's bounds,
//! then try tiny diagonal θ entries at their bound (the shared driver in
//! `model::driver`), check the convergence certificate with the analytic
//! gradient (`model::certificate`), and keep the fit record.

use std::time::Instant;

use super::LinearMixedModel;
use crate::error::Result;
use crate::interrupt::Interrupt;
use crate::model::certificate::{central_gradient, certify, Certify};
use crate::model::driver::{run_fit, theta_optimizer, FitLog};
use crate::model::scaling::ThetaScaling;
use crate::model::{CertificateScope, FitRecord, FitSettings, MixedModel, Stage};
use crate::optim::{Bobyqa, OptResult, ReturnCode};
use crate::parallel::PARALLEL_ROWS;

impl LinearMixedModel {
    /// Fit by ML (`reml = false`) or REML from θ₀ (the identity in θ's
    /// units: 1 on λ's diagonal for columns of ordinary size, 0 off it)
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
    /// `start` (None: θ₀). On failure or interruption the model is left
    /// unfitted at the starting θ.
    pub fn fit_with(
        &mut self,
        settings: &FitSettings,
        start: Option<&[f64]>,
    ) -> Result<&FitRecord> {
        let start = start.map_or_else(|| self.layout.initial(), <[f64]>::to_vec);
        let parallel = settings.threads != Some(1) && self.nobs() >= PARALLEL_ROWS;
        let interrupt = self.interrupt.clone();
        interrupt.reset();
        self.record = None;
        match run_fit(parallel, &interrupt, || self.run(settings, &start)) {
            Ok(record) => Ok(self.record.insert(record)),
            Err(e) => {
                // A defined state: unfitted, at the start (which was valid
                // unless the error says otherwise).
                let _ = self.set_theta(&start);
                Err(e)
            }
        }
    }

    fn run(&mut self, settings: &FitSettings, start: &[f64]) -> Result<FitRecord> {
        self.set_reml(settings.reml)?;
        let timer = Instant::now();
        let finitial = self.objective_at(start)?;
        let lower = self.layout.lower();
        let upper = self.layout.upper();
        let mut log = FitLog::default();
        let interrupt = self.interrupt.clone();
        // The optimizer, zero trials and certificate work on θ in its units.
        let scaling = ThetaScaling::new(&self.layout);
        let optimizer = theta_optimizer(
            &self.layout,
            settings.rho_begin,
            settings.rho_end,
            settings.max_evaluations,
            &interrupt,
        );
        let (result, stage) = if lower.is_empty() {
            // No random effects: nothing to optimise.
            let f = self.objective_for_optimizer(&[]);
            log.push(&[], &[], f, false);
            let result = OptResult {
                x: vec![],
                fmin: f,
                evaluations: 1,
                code: ReturnCode::Converged,
            };
            let stage = crate::model::StageRecord {
                stage: Stage::Theta,
                evaluations: 1,
                factorizations: 1,
                seconds: timer.elapsed().as_secs_f64(),
                rho_begin: settings.rho_begin,
                rho_end: settings.rho_end,
                return_code: ReturnCode::Converged,
            };
            (result, stage)
        } else {
            let mut f = |th: &[f64]| {
                let v = self.objective_for_optimizer(th);
                log.push(th, &[], v, false);
                v
            };
            let (result, mut stage) = scaling.run_stage(
                Stage::Theta,
                &optimizer,
                &mut f,
                start,
                &lower,
                &upper,
                &interrupt,
            )?;
            stage.factorizations = stage.evaluations;
            (result, stage)
        };
        let fmin = self.objective_at(&result.x)?;
        let (theta, fmin, zeroed) =
            scaling.zero_trials(&self.layout.diagonal(), result.x, fmin, &mut |th| {
                let v = self.objective_for_optimizer(th);
                log.push(th, &[], v, false);
                v
            });
        let (theta, fmin, certificate) = {
            let mut check = Certifier {
                model: self,
                optimizer: &optimizer,
                scaling: &scaling,
                lower: &lower,
                upper: &upper,
                interrupt: &interrupt,
            };
            let method = if check.analytic() {
                "analytic"
            } else {
                "central differences"
            };
            certify(
                &mut check,
                theta,
                fmin,
                &lower,
                settings,
                CertificateScope::Theta,
                method,
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
            zeroed,
            factorizations: log.entries.len(),
            seconds: timer.elapsed().as_secs_f64(),
            stages: vec![stage],
            fitlog: log.entries,
            certificate,
        })
    }

    /// The record of the last fit, if fitted.
    pub fn optsum(&self) -> Option<&FitRecord> {
        self.record.as_ref()
    }
}

/// Above this size of a dense diagonal block of L (a random-effects term
/// filled in by crossing), the certificate differences the objective instead
/// of using the analytic gradient: the gradient's selected inverse of that
/// block costs about 4t³/3 flops on one thread, against t³/3 in parallel for
/// a factorization (InstEval's `service * dept` model, t = 1128: 0.13 s for
/// the gradient, 4 evaluations of 11 ms for the differences).
const DENSE_GRADIENT_LIMIT: usize = 256;

/// The certificate's view of an LMM: the analytic gradient (one
/// factorization and the gradient's solves, counted as one evaluation), or
/// central differences for models with a large dense block (see
/// [`DENSE_GRADIENT_LIMIT`]), and a restart of the θ stage.
struct Certifier<'a> {
    model: &'a mut LinearMixedModel,
    optimizer: &'a Bobyqa,
    scaling: &'a ThetaScaling,
    lower: &'a [f64],
    upper: &'a [f64],
    interrupt: &'a Interrupt,
}

impl Certifier<'_> {
    /// Use the analytic gradient (no dense random-effects block of L larger
    /// than [`DENSE_GRADIENT_LIMIT`])?
    fn analytic(&self) -> bool {
        let k = self.model.structure().nterms;
        self.model
            .l_blocks()
            .iter()
            .enumerate()
            .all(|(idx, b)| match b {
                crate::blocks::Block::Dense(m) => {
                    // Packed lower triangle: block (i, i) sits at i(i+1)/2 + i.
                    let diagonal_of_a_term = (0..k).any(|i| crate::blocks::tri(i, i) == idx);
                    !diagonal_of_a_term || m.nrows() <= DENSE_GRADIENT_LIMIT
                }
                _ => true,
            })
    }
}

impl Certify for Certifier<'_> {
    fn gradient(&mut self, x: &[f64], f: f64) -> Result<(Vec<f64>, usize)> {
        if x.is_empty() {
            return Ok((vec![], 0));
        }
        if self.analytic() {
            return Ok((self.model.gradient_at(x)?, 1));
        }
        let units = self.scaling.units();
        let model = &mut *self.model;
        let mut obj = |th: &[f64]| model.objective_for_optimizer(th);
        let (g, evaluations) = central_gradient(&mut obj, x, f, self.lower, units);
        // Leave the model at x, where the certificate is judged.
        model.set_theta(x)?;
        Ok((g, evaluations))
    }

    fn restart(&mut self, x: &[f64]) -> Result<(Vec<f64>, f64, usize)> {
        let model = &mut *self.model;
        let mut f = |th: &[f64]| model.objective_for_optimizer(th);
        let (result, stage) = self.scaling.run_stage(
            Stage::Theta,
            self.optimizer,
            &mut f,
            x,
            self.lower,
            self.upper,
            self.interrupt,
        )?;
        Ok((result.x, result.fmin, stage.evaluations))
    }

    fn units(&self, n: usize) -> Vec<f64> {
        debug_assert_eq!(n, self.scaling.units().len());
        self.scaling.units().to_vec()
    }
}
