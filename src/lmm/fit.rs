//! Fitting: minimise the objective over θ with BOBYQA under θ's lower
//! bounds, then try tiny diagonal θ entries at their bound.

use std::time::Instant;

use super::LinearMixedModel;
use crate::error::Result;
use crate::optim::{Bobyqa, Optimizer, ReturnCode};
use crate::parallel::{on_pool, PARALLEL_ROWS};
use faer::Par;

/// θ entries on λ's diagonal below this are tried at zero after convergence.
const ZERO_TRIAL: f64 = 1e-4;
/// A zeroed θ is kept if the objective rises by no more than this.
const ZERO_TOL: f64 = 1e-6;

/// One objective evaluation during a fit.
#[derive(Debug, Clone, PartialEq)]
pub struct FitLogEntry {
    /// θ evaluated.
    pub theta: Vec<f64>,
    /// Objective at θ.
    pub objective: f64,
}

/// What the optimizer did: start, optimum, evaluations, settings, time.
#[derive(Debug, Clone, PartialEq)]
pub struct OptSummary {
    /// Optimizer name.
    pub optimizer: String,
    /// Starting θ.
    pub initial: Vec<f64>,
    /// Objective at the starting θ.
    pub finitial: f64,
    /// Lower bounds of θ.
    pub lower: Vec<f64>,
    /// θ at the optimum.
    pub final_theta: Vec<f64>,
    /// Objective at the optimum.
    pub fmin: f64,
    /// Number of objective evaluations (including the zero trials).
    pub evaluations: usize,
    /// Why the optimizer stopped.
    pub return_code: String,
    /// Initial trust-region radius.
    pub rho_begin: f64,
    /// Final trust-region radius.
    pub rho_end: f64,
    /// Indices of θ set to zero after convergence.
    pub zeroed: Vec<usize>,
    /// Was the criterion REML?
    pub reml: bool,
    /// Wall-clock seconds of the fit.
    pub seconds: f64,
    /// Every evaluation, in order.
    pub fitlog: Vec<FitLogEntry>,
}

impl LinearMixedModel {
    /// Fit by ML (`reml = false`) or REML, starting from θ₀ (1 on λ diagonals, 0 off).
    pub fn fit(&mut self, reml: bool) -> Result<&OptSummary> {
        let start: Vec<f64> = self
            .terms
            .random
            .iter()
            .flat_map(|t| t.initial_theta())
            .collect();
        self.fit_from(reml, &start, &Bobyqa::default())
    }

    /// Fit from a given θ with a given BOBYQA configuration.
    pub fn fit_from(&mut self, reml: bool, start: &[f64], bobyqa: &Bobyqa) -> Result<&OptSummary> {
        let parallel = !matches!(self.ws.par, Par::Seq) && self.nobs() >= PARALLEL_ROWS;
        on_pool(parallel, || {
            self.fit_from_on_this_thread(reml, start, bobyqa)
                .map(|_| ())
        })?;
        Ok(self.optsum.as_ref().expect("set by the fit"))
    }

    fn fit_from_on_this_thread(
        &mut self,
        reml: bool,
        start: &[f64],
        bobyqa: &Bobyqa,
    ) -> Result<&OptSummary> {
        self.set_reml(reml)?;
        let timer = Instant::now();
        let finitial = self.objective_at(start)?;
        let lower = self.lower_bounds();
        let upper = vec![f64::INFINITY; lower.len()];
        let mut fitlog: Vec<FitLogEntry> = Vec::new();
        let result = {
            let mut f = |th: &[f64]| {
                let v = self.objective_for_optimizer(th);
                fitlog.push(FitLogEntry {
                    theta: th.to_vec(),
                    objective: v,
                });
                v
            };
            if lower.is_empty() {
                // No random effects: nothing to optimise.
                crate::optim::OptResult {
                    x: vec![],
                    fmin: f(&[]),
                    evaluations: 1,
                    code: ReturnCode::Converged,
                }
            } else {
                // λ's columns may change sign without changing the model: let the
                // optimizer use that instead of stopping at spurious boundary minima
                // (MixedModels.jl issue #833), with MixedModels.jl's initial steps.
                bobyqa
                    .for_covariance_parameters(&lower, &upper)
                    .minimize(&mut f, start, &lower, &upper)
            }
        };
        let mut theta = result.x.clone();
        let mut fmin = self.objective_at(&theta)?;
        // Try tiny diagonal entries at their bound of zero (as MixedModels.jl does).
        let mut zeroed = Vec::new();
        for i in 0..theta.len() {
            if lower[i] == 0.0 && theta[i] > 0.0 && theta[i] < ZERO_TRIAL {
                let mut trial = theta.clone();
                trial[i] = 0.0;
                let f0 = self.objective_at(&trial)?;
                fitlog.push(FitLogEntry {
                    theta: trial.clone(),
                    objective: f0,
                });
                if f0 <= fmin + ZERO_TOL {
                    theta = trial;
                    fmin = f0;
                    zeroed.push(i);
                }
            }
        }
        self.set_theta(&theta)?;
        let code = match &result.code {
            ReturnCode::Converged => "converged (trust radius reached rho_end)".to_string(),
            ReturnCode::FtolReached => "converged (objective change below tolerance)".to_string(),
            ReturnCode::MaxEvaluations => "stopped: maximum number of evaluations".to_string(),
            ReturnCode::Failure(m) => format!("failure: {m}"),
        };
        self.optsum = Some(OptSummary {
            optimizer: "BOBYQA".into(),
            initial: start.to_vec(),
            finitial,
            lower,
            final_theta: theta,
            fmin,
            evaluations: fitlog.len(),
            return_code: code,
            rho_begin: bobyqa.rho_begin,
            rho_end: bobyqa.rho_end,
            zeroed,
            reml,
            seconds: timer.elapsed().as_secs_f64(),
            fitlog,
        });
        Ok(self.optsum.as_ref().unwrap())
    }

    /// The optimizer summary of the last fit, if fitted.
    pub fn optsum(&self) -> Option<&OptSummary> {
        self.optsum.as_ref()
    }

    /// Has the model been fitted (and not changed since)?
    pub fn is_fitted(&self) -> bool {
        self.optsum.is_some()
    }
}
