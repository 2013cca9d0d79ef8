//! The fit record: the settings a fit used and what it found, the same for
//! every model (MixedModels.jl's `OptSummary`). Settings are read from the
//! record by the fit, not passed through signatures.

use super::certificate::Certificate;
use crate::optim::ReturnCode;

/// PIRLS (GLMMs) has converged when a full step moves no linear predictor by
/// more than this (relative to max(1, max|η|)). Newton steps converge
/// quadratically, so the mode is then accurate to rounding, and L, factored
/// at the weights of the η before that step, belongs to the mode up to this
/// tolerance. (The fit loosens it in its θ-only stage.)
pub const PIRLS_TOL: f64 = 1e-9;

/// Which optimizer a fit uses for its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptimizerChoice {
    /// The quasi-Newton method where the model has an analytic gradient
    /// (linear mixed models), its convergence certificate checked and
    /// BOBYQA run from its best point when it fails; BOBYQA elsewhere.
    Auto,
    /// The quasi-Newton method ([`Bfgs`](crate::optim::Bfgs)) only (linear mixed models).
    Bfgs,
    /// BOBYQA only.
    Bobyqa,
}

impl OptimizerChoice {
    /// The choice's name (`auto`, `bfgs`, `bobyqa`).
    pub fn name(self) -> &'static str {
        match self {
            OptimizerChoice::Auto => "auto",
            OptimizerChoice::Bfgs => "bfgs",
            OptimizerChoice::Bobyqa => "bobyqa",
        }
    }

    /// The choice from its [`name`](Self::name); `BOBYQA` (the setting of
    /// fits saved before the choice existed) is BOBYQA.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "auto" => Some(OptimizerChoice::Auto),
            "bfgs" => Some(OptimizerChoice::Bfgs),
            "bobyqa" | "BOBYQA" => Some(OptimizerChoice::Bobyqa),
            _ => None,
        }
    }
}

/// The optimizer that ran in a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageOptimizer {
    /// Powell's derivative-free BOBYQA ([`Bobyqa`](crate::optim::Bobyqa)).
    Bobyqa,
    /// Projected BFGS with the analytic gradient ([`Bfgs`](crate::optim::Bfgs)).
    Bfgs,
}

impl StageOptimizer {
    /// The optimizer's name (`BOBYQA`, `BFGS`).
    pub fn name(self) -> &'static str {
        match self {
            StageOptimizer::Bobyqa => "BOBYQA",
            StageOptimizer::Bfgs => "BFGS",
        }
    }

    /// The optimizer from its [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "BOBYQA" => Some(StageOptimizer::Bobyqa),
            "BFGS" => Some(StageOptimizer::Bfgs),
            _ => None,
        }
    }
}

/// The settings of a fit.
#[derive(Debug, Clone, PartialEq)]
pub struct FitSettings {
    /// Optimizer of the covariance parameters (see [`OptimizerChoice`]).
    pub optimizer: OptimizerChoice,
    /// REML criterion (linear mixed models only).
    pub reml: bool,
    /// Optimise θ only, β from PIRLS (GLMMs; lme4's nAGQ = 0).
    pub fast: bool,
    /// Quadrature points of the GLMM objective (1: Laplace).
    pub nagq: usize,
    /// BOBYQA's initial trust-region radius on θ (in θ's units, `model::scaling`).
    pub rho_begin: f64,
    /// BOBYQA's final trust-region radius on θ (in θ's units).
    pub rho_end: f64,
    /// Most objective evaluations per stage (for the quasi-Newton method:
    /// values of the objective; its gradients are not counted).
    pub max_evaluations: usize,
    /// PIRLS convergence tolerance (GLMMs; see `glmm::pirls`).
    pub pirls_tol: f64,
    /// Threads for the dense kernels (None: all).
    pub threads: Option<usize>,
    /// Tolerance of the convergence certificate (see `model::certificate`).
    pub certificate_tol: f64,
    /// Restart once from the best point when the certificate fails.
    pub certificate_restart: bool,
}

impl Default for FitSettings {
    fn default() -> Self {
        let b = crate::optim::Bobyqa::default();
        FitSettings {
            optimizer: OptimizerChoice::Auto,
            reml: false,
            fast: false,
            nagq: 1,
            rho_begin: b.rho_begin,
            rho_end: b.rho_end,
            max_evaluations: b.max_evaluations,
            pirls_tol: PIRLS_TOL,
            threads: None,
            certificate_tol: super::certificate::CERTIFICATE_TOL,
            certificate_restart: true,
        }
    }
}

/// What a fit stage is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// θ only (β profiled out, or from PIRLS).
    Theta,
    /// (β, θ) jointly (GLMMs).
    Joint,
}

impl Stage {
    /// The stage's name (`theta`, `joint`).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Theta => "theta",
            Stage::Joint => "joint",
        }
    }
}

/// One stage of the optimization.
#[derive(Debug, Clone, PartialEq)]
pub struct StageRecord {
    /// What the stage optimised.
    pub stage: Stage,
    /// The optimizer that ran.
    pub optimizer: StageOptimizer,
    /// Objective evaluations of the stage (an evaluation with its gradient
    /// counts once).
    pub evaluations: usize,
    /// Gradients of the objective computed in the stage (each at a point
    /// already evaluated; 0 for BOBYQA).
    pub gradient_evaluations: usize,
    /// Refactorizations of L in the stage (GLMMs: PIRLS iterations).
    pub factorizations: usize,
    /// Wall-clock seconds of the stage.
    pub seconds: f64,
    /// Initial trust-region radius (in the stage's scaled coordinates);
    /// for BFGS the length of its first step.
    pub rho_begin: f64,
    /// Final trust-region radius; for BFGS its step tolerance (relative).
    pub rho_end: f64,
    /// Why the stage's optimizer stopped.
    pub return_code: ReturnCode,
}

/// One objective evaluation during a fit.
#[derive(Debug, Clone, PartialEq)]
pub struct FitLogEntry {
    /// θ evaluated.
    pub theta: Vec<f64>,
    /// β evaluated (joint stage) or found (GLMM θ stage); empty for LMMs,
    /// whose β is profiled out.
    pub beta: Vec<f64>,
    /// Objective at the point; +∞ where it could not be evaluated.
    pub objective: f64,
    /// Did the evaluation belong to the joint (β, θ) stage?
    pub joint: bool,
}

/// The settings and results of a fit.
#[derive(Debug, Clone, PartialEq)]
pub struct FitRecord {
    /// The settings used.
    pub settings: FitSettings,
    /// Starting θ.
    pub initial: Vec<f64>,
    /// Objective at the starting θ.
    pub finitial: f64,
    /// Lower bounds of θ.
    pub lower: Vec<f64>,
    /// θ at the optimum.
    pub final_theta: Vec<f64>,
    /// β at the optimum.
    pub final_beta: Vec<f64>,
    /// Objective at the optimum.
    pub fmin: f64,
    /// Objective evaluations in all (every stage and the zero trials; an
    /// evaluation with its gradient counts once).
    pub evaluations: usize,
    /// Gradients computed in all stages (see [`StageRecord::gradient_evaluations`]).
    pub gradient_evaluations: usize,
    /// Indices of θ set to zero after convergence.
    pub zeroed: Vec<usize>,
    /// Refactorizations of L in all (GLMMs: PIRLS iterations).
    pub factorizations: usize,
    /// Wall-clock seconds of the fit.
    pub seconds: f64,
    /// The stages, in order.
    pub stages: Vec<StageRecord>,
    /// Every evaluation, in order.
    pub fitlog: Vec<FitLogEntry>,
    /// The convergence certificate at the optimum.
    pub certificate: Certificate,
}

impl FitRecord {
    /// The last stage.
    pub fn last_stage(&self) -> &StageRecord {
        self.stages.last().expect("a fit has at least one stage")
    }

    /// Why the optimizer of the last stage stopped.
    pub fn return_code(&self) -> &ReturnCode {
        &self.last_stage().return_code
    }

    /// Did the last stage stop by its convergence test?
    pub fn converged(&self) -> bool {
        matches!(
            self.return_code(),
            ReturnCode::Converged | ReturnCode::FtolReached
        )
    }

    /// The return code as a sentence (`converged (…)`, `stopped: …`, `failure: …`).
    pub fn return_code_text(&self) -> String {
        return_code_text(self.return_code())
    }

    /// Evaluations of the θ-only stage.
    pub fn evaluations_theta_stage(&self) -> usize {
        self.stages
            .iter()
            .filter(|s| s.stage == Stage::Theta)
            .map(|s| s.evaluations)
            .sum()
    }
}

/// A return code as a sentence.
pub fn return_code_text(code: &ReturnCode) -> String {
    match code {
        ReturnCode::Converged => "converged (trust radius reached rho_end)".to_string(),
        ReturnCode::FtolReached => "converged (objective change below tolerance)".to_string(),
        ReturnCode::MaxEvaluations => "stopped: maximum number of evaluations".to_string(),
        ReturnCode::Failure(m) => format!("failure: {m}"),
    }
}
