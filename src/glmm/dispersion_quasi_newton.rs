//! The quasi-Newton stages of a fit of a family with a dispersion parameter
//! (`dispersion.rs`; `optimizer = auto` or `bfgs`, nAGQ = 1): projected
//! BFGS with the exact gradient of the Laplace objective in (θ, β, log φ)
//! (`gradient.rs`), as `quasi_newton.rs` does for the other families, with
//! log φ as one more variable at the end.
//!
//! * **(θ, log φ) stage**, β from PIRLS with u: θ in its units (the
//!   method's scales), the layout's sign symmetries; to the end for a
//!   `fast` fit, else to the loose [`START_STAGE_GTOL`] as the joint
//!   stage's start.
//! * **Joint stage** over (β, θ, log φ): x = (x_β, θ, log φ) with the
//!   whitened β of [`JointMap`]; B₀ is 2I in x_β with the columns of θ and
//!   log φ differenced from the gradient, so the first step is a Newton
//!   step.
//!
//! Where an observed weight is negative the gradient is not available
//! (NaN to the method, which then fails); `auto` hands the stage over to
//! BOBYQA (`dispersion.rs`).

use super::fit::JointMap;
use super::quasi_newton::START_STAGE_GTOL;
use super::GeneralizedLinearMixedModel;
use crate::error::Result;
use crate::interrupt::Interrupt;
use crate::model::driver::{run_gradient_stage, theta_bfgs, FitLog};
use crate::model::{Stage, StageRecord};
use crate::optim::{Bfgs, GradientObjective, GradientResult};

/// (β, θ, log φ) at the end of a joint stage.
pub(super) struct DispersionPoint {
    pub beta: Vec<f64>,
    pub theta: Vec<f64>,
    pub log_phi: f64,
}

/// The Laplace objective in (θ, log φ) (`map` None, β from PIRLS) or in the
/// joint map's (x_β, θ, log φ). Values are logged.
struct DispersionObjective<'a> {
    model: &'a mut GeneralizedLinearMixedModel,
    map: Option<&'a JointMap>,
    /// PIRLS tolerance of each value.
    tol: f64,
    log: &'a mut FitLog,
}

impl GradientObjective for DispersionObjective<'_> {
    fn value(&mut self, x: &[f64]) -> f64 {
        let log_phi = x[x.len() - 1];
        match self.map {
            None => {
                let theta = &x[..x.len() - 1];
                let v = self.model.evaluate_with_phi(theta, None, log_phi, self.tol);
                self.log.push(theta, &self.model.beta, v, false);
                v
            }
            Some(map) => {
                let par = map.params(&x[..x.len() - 1]);
                let (b, th) = par.split_at(self.model.beta.len());
                let v = self.model.evaluate_with_phi(th, Some(b), log_phi, self.tol);
                self.log.push(th, b, v, true);
                v
            }
        }
    }

    fn gradient(&mut self, _x: &[f64], g: &mut [f64]) {
        // The state is at the mode of the last value, which was at x.
        let fast = self.map.is_none();
        match (self.model.mode_gradient(fast), self.map) {
            // [θ…, log φ].
            (Ok(grad), None) => g.copy_from_slice(&grad),
            // [θ…, β…, log φ] → [x_β…, θ…, log φ].
            (Ok(grad), Some(map)) => {
                let (nt, p) = (self.model.layout.len(), self.model.beta.len());
                let gx = map.gradient_to_x(&grad[nt..nt + p], &grad[..nt]);
                g[..nt + p].copy_from_slice(&gx);
                g[nt + p] = grad[nt + p];
            }
            (Err(_), _) => g.fill(f64::NAN),
        }
    }
}

impl GeneralizedLinearMixedModel {
    /// The (θ, log φ) stage with BFGS from x0 = (θ, log φ) in the box
    /// [lower, upper] (PIRLS to `tol`): to the end, or to
    /// [`START_STAGE_GTOL`] when it only starts the joint stage
    /// (`start_only`). θ's scales are its units times `theta_scale` (the
    /// residual standard deviation on the η scale that θ₀ is measured in),
    /// so that the first step is a move of θ's own size.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn dispersion_theta_stage_bfgs(
        &mut self,
        x0: &[f64],
        theta_scale: f64,
        lower: &[f64],
        upper: &[f64],
        max_evaluations: usize,
        tol: f64,
        start_only: bool,
        log: &mut FitLog,
        interrupt: &Interrupt,
    ) -> Result<(GradientResult, StageRecord)> {
        let theta_method = theta_bfgs(&self.layout, max_evaluations, interrupt);
        let scales = self
            .layout
            .units()
            .iter()
            .map(|u| u * theta_scale)
            .chain([1.0])
            .collect();
        let bfgs = Bfgs {
            scales: Some(scales),
            // The gradient is as accurate as PIRLS's tolerance allows.
            confirm_gradient_by_step: false,
            gtol: if start_only {
                START_STAGE_GTOL
            } else {
                theta_method.gtol
            },
            ..theta_method
        };
        let before = self.factorizations;
        let mut objective = DispersionObjective {
            model: self,
            map: None,
            tol,
            log,
        };
        let (result, mut stage) = run_gradient_stage(
            Stage::Theta,
            &bfgs,
            &mut objective,
            x0,
            lower,
            upper,
            interrupt,
        )?;
        stage.factorizations = self.factorizations - before;
        Ok((result, stage))
    }

    /// The joint (β, θ, log φ) stage with BFGS from the current β, `theta`
    /// and `log_phi` (the state of an evaluation there, whose R_X whitens
    /// β), log φ within ±`log_phi_bound`. Returns (β, θ, log φ) at the best
    /// point, the method's result and the record.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn dispersion_joint_stage_bfgs(
        &mut self,
        theta: &[f64],
        log_phi: f64,
        log_phi_bound: f64,
        max_evaluations: usize,
        tol: f64,
        log: &mut FitLog,
        interrupt: &Interrupt,
    ) -> Result<(DispersionPoint, GradientResult, StageRecord)> {
        let (p, nt) = (self.beta.len(), self.layout.len());
        let map = JointMap::unshifted_theta(self);
        // log φ is one more variable after θ.
        // (θ, log φ) differenced, not carried over from the θ stage's B:
        // carried over, grouseticks NB2 took 13 evaluations against 12.
        let bfgs = self.joint_bfgs(max_evaluations, interrupt, 1, None);
        let x0: Vec<f64> = std::iter::repeat_n(0.0, p)
            .chain(theta.iter().copied())
            .chain([log_phi])
            .collect();
        let mut lower = map.lower(&self.layout.lower());
        lower.push(-log_phi_bound);
        let mut upper = vec![f64::INFINITY; p + nt];
        upper.push(log_phi_bound);
        let before = self.factorizations;
        let mut objective = DispersionObjective {
            model: self,
            map: Some(&map),
            tol,
            log,
        };
        let (result, mut stage) = run_gradient_stage(
            Stage::Joint,
            &bfgs,
            &mut objective,
            &x0,
            &lower,
            &upper,
            interrupt,
        )?;
        stage.factorizations = self.factorizations - before;
        let par = map.params(&result.x[..p + nt]);
        let (b, th) = par.split_at(p);
        let point = DispersionPoint {
            beta: b.to_vec(),
            theta: th.to_vec(),
            log_phi: result.x[p + nt],
        };
        Ok((point, result, stage))
    }
}
