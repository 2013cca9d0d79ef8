//! The quasi-Newton stages of a GLMM fit (`optimizer = auto` or `bfgs`):
//! projected BFGS (`optim::bfgs`) with the exact gradient of the Laplace
//! objective (`gradient.rs`), or in the joint stage of a fit with nAGQ > 1
//! of the quadrature objective (`agq_gradient.rs`).
//!
//! * **θ stage** (β from PIRLS with u, lme4's nAGQ = 0): BFGS on
//!   θ̃ = D⁻¹θ (`model::scaling`) with the fast objective's gradient, the
//!   layout's sign symmetries as for a linear mixed model
//!   (`driver::theta_bfgs`); to the end for a `fast` fit, else to the loose
//!   [`START_STAGE_GTOL`] as the joint stage's start.
//! * **Joint stage** over (β, θ), from that θ and β from PIRLS there: BFGS
//!   on x = (x_β, θ̃) with β = β₀ + R_X⁻¹x_β (R_X of the start, so that the
//!   β part of the Hessian of the deviance is ≈ 2I, [`JointMap`]) and
//!   θ = Dθ̃. B₀ is 2I in x_β ([`JOINT_CURVATURE`]) with θ̃'s columns
//!   (their curvature and coupling to β) differenced from the gradient,
//!   one value and gradient per θ entry (`optim::bfgs`), so the first step
//!   is a Newton step. The method sees the gradient by the chain rule,
//!   ∂f/∂x_β = R_X⁻ᵀ∂f/∂β and ∂f/∂θ̃ = D∂f/∂θ. θ is not shifted, so that
//!   its bounds stay at 0 and the sign symmetries apply (their indices
//!   moved past β).
//!
//! Each value runs PIRLS as BOBYQA's evaluations do (β fixed in the engine
//! without X); the gradient, asked only at the last value's point, is read
//! off the factor PIRLS left there (no further factorization for the
//! canonical link).

use super::fit::JointMap;
use super::GeneralizedLinearMixedModel;
use crate::error::Result;
use crate::interrupt::Interrupt;
use crate::model::driver::{run_gradient_stage, theta_bfgs, FitLog};
use crate::model::scaling::ThetaScaling;
use crate::model::start::start_curvature;
use crate::model::{Stage, StageRecord};
use crate::optim::{Bfgs, GradientObjective, GradientResult, SignSymmetry};

/// Curvature of the deviance in the whitened β of the joint stage: the
/// Hessian of ½ the penalised deviance in β, profiled over u, is R_XᵀR_X,
/// so the deviance's is ≈ 2I in x_β.
const JOINT_CURVATURE: f64 = 2.0;
/// Gradient tolerance (`optim::bfgs`'s scaled measure) of the θ-only stage
/// when the joint stage follows: it only gives that stage its start and θ's
/// block of B₀. With the θ stage's B carried over, 3e-3 (against 1e-2,
/// 6e-3, 2e-3, 1e-3, 3e-4 and 1e-4) took the fewest evaluations in all on
/// cbpp, grouseticks, Contraception (Laplace and nAGQ 9) and VerbAgg (11,
/// 17, 11, 12 and 14; 1e-3: 12, 19, 12, 12, 15; 1e-2: VerbAgg 20), with the
/// same optima to 3e-13 relative.
pub(super) const START_STAGE_GTOL: f64 = 3e-3;
/// Gradient tolerance of the joint stage (`optim::bfgs`'s scaled measure,
/// relative to the objective): 1e3 below the certificate's 1e-4, and the
/// objective then within ≈ (1e-7 f)²/4 of the optimum. On cbpp,
/// Contraception, grouseticks and VerbAgg it saved 0, 2, 2 and 4
/// evaluations over 1e-9 with the same optima to 1e-9 relative.
const JOINT_GTOL: f64 = 1e-7;

/// The model's objective for [`Bfgs`]: in θ (β from PIRLS; the Laplace
/// objective) when `map` is None, else in the joint map's x (Laplace, or
/// adaptive quadrature for nAGQ > 1). Values are logged.
struct LaplaceObjective<'a> {
    model: &'a mut GeneralizedLinearMixedModel,
    map: Option<&'a JointMap>,
    /// PIRLS tolerance of each value.
    tol: f64,
    log: &'a mut FitLog,
}

impl GradientObjective for LaplaceObjective<'_> {
    fn value(&mut self, x: &[f64]) -> f64 {
        match self.map {
            None => {
                let v = self.model.evaluate_or_inf(x, None, self.tol);
                self.log.push(x, &self.model.beta, v, false);
                v
            }
            Some(map) => {
                let par = map.params(x);
                let (b, th) = par.split_at(self.model.beta.len());
                let v = self.model.evaluate_or_inf(th, Some(b), self.tol);
                self.log.push(th, b, v, true);
                v
            }
        }
    }

    fn gradient(&mut self, _x: &[f64], g: &mut [f64]) {
        // The state is at the mode of the last value, which was at x, and
        // the engine PIRLS used is factored there.
        let fast = self.map.is_none();
        let grad = match self.model.nagq {
            k if k > 1 && !fast => self.model.agq_gradient(k),
            _ => self.model.mode_gradient(fast),
        };
        match (grad, self.map) {
            (Ok(grad), None) => g.copy_from_slice(&grad),
            (Ok(grad), Some(map)) => {
                let nt = self.model.layout.len();
                g.copy_from_slice(&map.gradient_to_x(&grad[nt..], &grad[..nt]));
            }
            (Err(_), _) => g.fill(f64::NAN),
        }
    }
}

impl GeneralizedLinearMixedModel {
    /// The θ stage with BFGS from `start` (PIRLS to `tol`), on θ̃: to the
    /// end for a `fast` fit, to [`START_STAGE_GTOL`] when it only gives the
    /// joint stage its start (`start_only`). The model's nAGQ must be 1
    /// (the Laplace objective).
    pub(super) fn theta_stage_bfgs(
        &mut self,
        start: &[f64],
        max_evaluations: usize,
        tol: f64,
        start_only: bool,
        log: &mut FitLog,
        interrupt: &Interrupt,
    ) -> Result<(GradientResult, StageRecord)> {
        let mut bfgs = theta_bfgs(&self.layout, max_evaluations, interrupt);
        // The gradient is as accurate as PIRLS's tolerance allows.
        bfgs.confirm_gradient_by_step = false;
        if start_only {
            bfgs.gtol = START_STAGE_GTOL;
        }
        // B₀ = diag(2ℓ/λ²) at the (moment) start, as for an LMM.
        bfgs.initial_hessian = Some(start_curvature(&self.engine, &self.layout, start));
        let scaling = ThetaScaling::new(&self.layout);
        let (lower, upper) = (self.layout.lower(), self.layout.upper());
        let before = self.factorizations;
        let mut objective = LaplaceObjective {
            model: self,
            map: None,
            tol,
            log,
        };
        let (result, mut stage) = scaling.run_gradient_stage(
            Stage::Theta,
            &bfgs,
            &mut objective,
            start,
            &lower,
            &upper,
            interrupt,
        )?;
        stage.factorizations = self.factorizations - before;
        Ok((result, stage))
    }

    /// The method of a joint stage over x = (x_β, θ, `extra` variables in
    /// units of 1): θ's sign symmetries moved past β, B₀ = 2I in x_β
    /// ([`JOINT_CURVATURE`]), [`JOINT_GTOL`], and no confirming step (the
    /// gradient is as accurate as PIRLS). The block of B₀ in θ and the
    /// extra variables is `stage_hessian` when given (the θ stage's final
    /// B, in θ̃ and the extra variables' units), its coupling to β taken as
    /// 0: the θ stage's B approximates the Hessian of the objective with β
    /// profiled out, which is that block where the coupling is 0, and
    /// differencing it instead costs a value and a gradient per variable.
    /// Else the columns of θ and the extra variables (their curvature and
    /// coupling to β are not known) are differenced from the gradient.
    pub(super) fn joint_bfgs(
        &self,
        max_evaluations: usize,
        interrupt: &Interrupt,
        extra: usize,
        stage_hessian: Option<&[f64]>,
    ) -> Bfgs {
        let (p, nt) = (self.beta.len(), self.layout.len());
        let theta_method = theta_bfgs(&self.layout, max_evaluations, interrupt);
        let sign_symmetries = theta_method
            .sign_symmetries
            .iter()
            .map(|s| SignSymmetry {
                pivot: s.pivot + p,
                others: s.others.iter().map(|i| i + p).collect(),
            })
            .collect();
        let scales: Vec<f64> = std::iter::repeat_n(1.0, p)
            .chain(self.layout.units().iter().copied())
            .chain(std::iter::repeat_n(1.0, extra))
            .collect();
        let (n, m) = (p + nt + extra, nt + extra);
        let block = stage_hessian.filter(|b| b.len() == m * m && m > 0);
        let initial_hessian = block.map(|bt| {
            let mut b = vec![0.0; n * n];
            (0..p).for_each(|i| b[i * n + i] = JOINT_CURVATURE);
            for i in 0..m {
                b[(p + i) * n + p..(p + i + 1) * n].copy_from_slice(&bt[i * m..(i + 1) * m]);
            }
            b
        });
        let first_differenced = if initial_hessian.is_some() { n } else { p };
        Bfgs {
            scales: Some(scales),
            sign_symmetries,
            initial_curvature: Some(JOINT_CURVATURE),
            differenced_columns: (first_differenced..n).collect(),
            initial_hessian,
            gtol: JOINT_GTOL,
            confirm_gradient_by_step: false,
            ..theta_method
        }
    }

    /// The joint (β, θ) stage with BFGS from the current β and `theta`
    /// (the state of an evaluation there, whose R_X whitens β), θ's block
    /// of B₀ from `theta_hessian` (in θ̃) if given
    /// ([`joint_bfgs`](Self::joint_bfgs)).
    /// Returns (β, θ) at the best point, its Laplace objective and the record.
    pub(super) fn joint_stage_bfgs(
        &mut self,
        theta: &[f64],
        theta_hessian: Option<&[f64]>,
        max_evaluations: usize,
        tol: f64,
        log: &mut FitLog,
        interrupt: &Interrupt,
    ) -> Result<(Vec<f64>, Vec<f64>, GradientResult, StageRecord)> {
        let p = self.beta.len();
        let map = JointMap::unshifted_theta(self);
        let bfgs = self.joint_bfgs(max_evaluations, interrupt, 0, theta_hessian);
        let x0: Vec<f64> = std::iter::repeat_n(0.0, p)
            .chain(theta.iter().copied())
            .collect();
        let lower = map.lower(&self.layout.lower());
        let upper = vec![f64::INFINITY; x0.len()];
        let before = self.factorizations;
        let mut objective = LaplaceObjective {
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
        let par = map.params(&result.x);
        let (b, th) = par.split_at(p);
        Ok((b.to_vec(), th.to_vec(), result, stage))
    }
}
