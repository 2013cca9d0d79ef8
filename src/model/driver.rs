//! The parts of a fit every model shares: one optimizer stage over θ (or a
//! transformation of (β, θ)) with its log and timing, the trial of tiny
//! diagonal θ entries at zero, and running the whole fit where it may use
//! the thread pool while the caller watches for interruption. Stages and
//! logged evaluations are reported to the interrupt's progress sink, if any
//! (`crate::progress`).

use std::time::Instant;

use super::record::{FitLogEntry, Stage, StageOptimizer, StageRecord};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::optim::{
    Bfgs, Bobyqa, GradientObjective, GradientResult, OptResult, Optimizer, SignSymmetry,
};
use crate::progress::Progress;
use crate::terms::ThetaLayout;

/// θ entries on λ's diagonal below this are tried at zero after convergence.
pub(crate) const ZERO_TRIAL: f64 = 1e-4;
/// A zeroed θ is kept if the objective rises by no more than this.
pub(crate) const ZERO_TOL: f64 = 1e-6;

/// BOBYQA for θ: the settings' radii and budget, the layout's scales and
/// sign symmetries (MixedModels.jl's initial steps; a column of λ may be
/// negated, which keeps the search out of spurious boundary minima), and
/// the interrupt's flag as its stop test.
pub(crate) fn theta_optimizer(
    layout: &ThetaLayout,
    rho_begin: f64,
    rho_end: f64,
    max_evaluations: usize,
    interrupt: &Interrupt,
) -> Bobyqa {
    Bobyqa {
        rho_begin,
        rho_end,
        max_evaluations,
        scales: Some(layout.optimizer_scales()),
        sign_symmetries: layout.sign_symmetries(),
        stop: Some(interrupt.flag().clone().into()),
        ..Bobyqa::default()
    }
}

/// One optimizer stage: minimise `f` from `x0` within the bounds, checking
/// `interrupt` before every evaluation. Returns the result and the stage's
/// record (factorizations are filled in by the caller), or
/// `Error::Interrupted`.
pub(crate) fn run_stage(
    stage: Stage,
    optimizer: &Bobyqa,
    f: &mut dyn FnMut(&[f64]) -> f64,
    x0: &[f64],
    lower: &[f64],
    upper: &[f64],
    interrupt: &Interrupt,
) -> Result<(OptResult, StageRecord)> {
    report_stage(interrupt, stage, StageOptimizer::Bobyqa);
    let timer = Instant::now();
    let result = {
        let mut g = |x: &[f64]| {
            if interrupt.poll() {
                return f64::INFINITY;
            }
            f(x)
        };
        optimizer.minimize(&mut g, x0, lower, upper)
    };
    interrupt.check()?;
    let record = StageRecord {
        stage,
        optimizer: StageOptimizer::Bobyqa,
        evaluations: result.evaluations,
        gradient_evaluations: 0,
        factorizations: 0,
        seconds: timer.elapsed().as_secs_f64(),
        rho_begin: optimizer.rho_begin,
        rho_end: optimizer.rho_end,
        return_code: result.code.clone(),
    };
    Ok((result, record))
}

/// The quasi-Newton method for θ: the budget, the interrupt's flag as its
/// stop test, and symmetries that free it of the bounds λ_jj ≥ 0, which
/// only pick one of the factors with the same λλᵀ: a column's sign (the
/// layout's sign symmetries) and, for a diagonal entry whose column has no
/// off-diagonal entries, evenness of the objective in it. With these the
/// method works without bounds on θ (it evaluates at the representative
/// with non-negative diagonal), so a diagonal entry may pass through zero
/// instead of stopping in a spurious boundary minimum.
pub(crate) fn theta_bfgs(
    layout: &ThetaLayout,
    max_evaluations: usize,
    interrupt: &Interrupt,
) -> Bfgs {
    let mut sign_symmetries = layout.sign_symmetries();
    let mut pivot = vec![false; layout.len()];
    sign_symmetries.iter().for_each(|s| pivot[s.pivot] = true);
    for (i, diag) in layout.diagonal().into_iter().enumerate() {
        if diag && !pivot[i] {
            sign_symmetries.push(SignSymmetry {
                pivot: i,
                others: vec![],
            });
        }
    }
    Bfgs {
        max_evaluations,
        sign_symmetries,
        stop: Some(interrupt.flag().clone().into()),
        ..Bfgs::default()
    }
}

/// [`run_stage`] for the quasi-Newton method: minimise `f` (value and
/// gradient) from `x0`, checking `interrupt` before every value.
pub(crate) fn run_gradient_stage(
    stage: Stage,
    optimizer: &Bfgs,
    f: &mut dyn GradientObjective,
    x0: &[f64],
    lower: &[f64],
    upper: &[f64],
    interrupt: &Interrupt,
) -> Result<(GradientResult, StageRecord)> {
    /// The objective, +∞ once the interrupt is polled positive.
    struct Polled<'a> {
        f: &'a mut dyn GradientObjective,
        interrupt: &'a Interrupt,
    }
    impl GradientObjective for Polled<'_> {
        fn value(&mut self, x: &[f64]) -> f64 {
            if self.interrupt.poll() {
                return f64::INFINITY;
            }
            self.f.value(x)
        }
        fn gradient(&mut self, x: &[f64], g: &mut [f64]) {
            self.f.gradient(x, g)
        }
    }
    report_stage(interrupt, stage, StageOptimizer::Bfgs);
    let timer = Instant::now();
    let result = optimizer.minimize(&mut Polled { f, interrupt }, x0, lower, upper);
    interrupt.check()?;
    let record = StageRecord {
        stage,
        optimizer: StageOptimizer::Bfgs,
        evaluations: result.evaluations,
        gradient_evaluations: result.gradient_evaluations,
        factorizations: 0,
        seconds: timer.elapsed().as_secs_f64(),
        rho_begin: optimizer.initial_step,
        rho_end: optimizer.xtol,
        return_code: result.code.clone(),
    };
    Ok((result, record))
}

/// Tell the interrupt's progress sink (if any) that a stage starts.
fn report_stage(interrupt: &Interrupt, stage: Stage, optimizer: StageOptimizer) {
    if let Some(sink) = interrupt.progress() {
        sink.stage(match (stage, optimizer) {
            (Stage::Theta, StageOptimizer::Bobyqa) => "theta (BOBYQA)",
            (Stage::Theta, StageOptimizer::Bfgs) => "theta (BFGS)",
            (Stage::Joint, StageOptimizer::Bobyqa) => "joint (BOBYQA)",
            (Stage::Joint, StageOptimizer::Bfgs) => "joint (BFGS)",
        });
    }
}

/// Try each diagonal θ entry (`diagonal[i]`: is θ[i] on λ's diagonal) in
/// (0, [`ZERO_TRIAL`]) at zero (as
/// MixedModels.jl does), keeping it there if the objective rises by at
/// most [`ZERO_TOL`]. `eval` evaluates the objective (+∞ where it fails)
/// and logs the evaluation. Returns θ, the objective and the zeroed indices.
pub(crate) fn zero_trials(
    diagonal: &[bool],
    mut theta: Vec<f64>,
    mut fmin: f64,
    eval: &mut dyn FnMut(&[f64]) -> f64,
) -> (Vec<f64>, f64, Vec<usize>) {
    let mut zeroed = Vec::new();
    for (i, &diag) in diagonal.iter().enumerate() {
        if diag && theta[i] > 0.0 && theta[i] < ZERO_TRIAL {
            let mut trial = theta.clone();
            trial[i] = 0.0;
            let f0 = eval(&trial);
            if f0 <= fmin + ZERO_TOL {
                theta = trial;
                fmin = f0;
                zeroed.push(i);
            }
        }
    }
    (theta, fmin, zeroed)
}

/// A log of evaluations (θ, β, objective) with the stage it belongs to.
/// Every evaluation a fit counts is logged here, so this is where they are
/// reported to a progress sink (the count then ends at the record's
/// `evaluations`).
#[derive(Default)]
pub(crate) struct FitLog {
    pub entries: Vec<FitLogEntry>,
    /// The sink each logged evaluation is reported to.
    progress: Option<Progress>,
}

impl FitLog {
    /// An empty log that reports its evaluations to `interrupt`'s progress
    /// sink (if it has one).
    pub fn reporting_to(interrupt: &Interrupt) -> Self {
        FitLog {
            entries: Vec::new(),
            progress: interrupt.progress_handle(),
        }
    }

    /// Record an evaluation.
    pub fn push(&mut self, theta: &[f64], beta: &[f64], objective: f64, joint: bool) {
        if let Some(sink) = &self.progress {
            sink.evaluation(objective);
        }
        self.entries.push(FitLogEntry {
            theta: theta.to_vec(),
            beta: beta.to_vec(),
            objective,
            joint,
        });
    }
}

/// Run `work` on a worker of rayon's pool when `parallel` (else, or when
/// already on a worker, on this thread), polling `interrupt` from this
/// thread while it waits. An interrupted `work` must return promptly once
/// the flag is set (it checks the flag itself).
pub(crate) fn run_fit<R: Send>(
    parallel: bool,
    interrupt: &Interrupt,
    work: impl FnOnce() -> Result<R> + Send,
) -> Result<R> {
    if !parallel || rayon::current_thread_index().is_some() {
        return work();
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let mut out = None;
    rayon::in_place_scope(|s| {
        s.spawn(|_| {
            let r = work();
            let _ = tx.send(());
            out = Some(r);
        });
        loop {
            match rx.recv_timeout(crate::interrupt::POLL_INTERVAL) {
                Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    // Sets the flag the work checks; it then returns soon.
                    interrupt.poll();
                }
            }
        }
    });
    out.unwrap_or(Err(Error::Interrupted))
}
