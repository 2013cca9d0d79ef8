//! The change of variables that makes fits independent of the units of the
//! predictors: θ = D θ̃, D the diagonal of the θ layout's units
//! ([`ThetaLayout::units`], powers of two from the random-effects columns'
//! sizes, `terms::units`).
//!
//! Everything a fit decides from the size of θ works on θ̃: the optimizer's
//! radii (BOBYQA's `rho_begin`/`rho_end` are absolute), the start (the
//! identity in θ̃), the zero trials (θ̃ below 1e-4), the singularity check
//! (`ThetaLayout::at_bound`) and the convergence certificate (θ's units as
//! its s_i, which is the certificate of θ̃). Everything a user sees — θ, λ,
//! the fit log and record, saved fits — stays in the original units. Since
//! the units are powers of two, θ → θ̃ → θ is exact, and a model whose units
//! are all 1 is fitted exactly as without the change of variables.
//!
//! β needs no such change: the joint (β, θ) stage of a GLMM measures β in
//! coordinates whitened by R_X, which scale with X's columns, and the
//! Cholesky factor of the [Z X y] system is equivariant under scaling of
//! X's columns (sleepstudy with a fixed-effects covariate times 10⁻⁸ … 10⁸:
//! the objective equal to 4e-15 relative without any change).

use super::driver::{run_gradient_stage, run_stage, zero_trials};
use super::{Stage, StageRecord};
use crate::error::Result;
use crate::interrupt::Interrupt;
use crate::optim::{Bfgs, Bobyqa, GradientObjective, GradientResult, OptResult};
use crate::terms::ThetaLayout;

/// θ = D θ̃ with D = diag(units): conversions, and the driver's θ stage and
/// zero trials run on θ̃ for callers that work in θ.
#[derive(Debug, Clone, PartialEq)]
pub struct ThetaScaling {
    units: Vec<f64>,
}

impl ThetaScaling {
    /// The scaling of `layout`'s θ.
    pub fn new(layout: &ThetaLayout) -> Self {
        ThetaScaling {
            units: layout.units().to_vec(),
        }
    }

    /// The unit of each θ entry (the diagonal of D).
    pub fn units(&self) -> &[f64] {
        &self.units
    }

    /// θ̃ = D⁻¹θ (exact: the units are powers of two).
    pub fn to_scaled(&self, theta: &[f64]) -> Vec<f64> {
        theta.iter().zip(&self.units).map(|(t, u)| t / u).collect()
    }

    /// θ = Dθ̃.
    pub fn to_original(&self, scaled: &[f64]) -> Vec<f64> {
        scaled.iter().zip(&self.units).map(|(t, u)| t * u).collect()
    }

    /// The gradient with respect to θ̃ from the gradient with respect to θ
    /// (∂f/∂θ̃_i = u_i ∂f/∂θ_i), for optimizers that use gradients.
    pub fn gradient_to_scaled(&self, gradient: &[f64]) -> Vec<f64> {
        gradient
            .iter()
            .zip(&self.units)
            .map(|(g, u)| g * u)
            .collect()
    }

    /// The driver's [`run_stage`] on θ̃: `f`, `x0`, the bounds and the
    /// result's point are in θ (bounds 0 and ±∞ are the same in θ̃), the
    /// optimizer (its radii, scales and symmetries) sees θ̃.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run_stage(
        &self,
        stage: Stage,
        optimizer: &Bobyqa,
        f: &mut dyn FnMut(&[f64]) -> f64,
        x0: &[f64],
        lower: &[f64],
        upper: &[f64],
        interrupt: &Interrupt,
    ) -> Result<(OptResult, StageRecord)> {
        let mut theta = vec![0.0; self.units.len()];
        let mut scaled_f = |t: &[f64]| {
            theta
                .iter_mut()
                .zip(t.iter().zip(&self.units))
                .for_each(|(th, (t, u))| *th = t * u);
            f(&theta)
        };
        let (mut result, record) = run_stage(
            stage,
            optimizer,
            &mut scaled_f,
            &self.to_scaled(x0),
            &self.to_scaled(lower),
            &self.to_scaled(upper),
            interrupt,
        )?;
        result.x = self.to_original(&result.x);
        Ok((result, record))
    }

    /// The driver's [`run_gradient_stage`] on θ̃: `f` is evaluated (and
    /// differentiated) at θ = Dθ̃ and its gradient is handed to the method
    /// as ∂f/∂θ̃ = u∘∂f/∂θ; `x0`, the bounds, the result's point and its
    /// gradient are in θ.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run_gradient_stage(
        &self,
        stage: Stage,
        optimizer: &Bfgs,
        f: &mut dyn GradientObjective,
        x0: &[f64],
        lower: &[f64],
        upper: &[f64],
        interrupt: &Interrupt,
    ) -> Result<(GradientResult, StageRecord)> {
        /// `f` seen in θ̃.
        struct Scaled<'a> {
            f: &'a mut dyn GradientObjective,
            units: &'a [f64],
            theta: Vec<f64>,
        }
        impl Scaled<'_> {
            fn set(&mut self, t: &[f64]) {
                self.theta
                    .iter_mut()
                    .zip(t.iter().zip(self.units))
                    .for_each(|(th, (t, u))| *th = t * u);
            }
        }
        impl GradientObjective for Scaled<'_> {
            fn value(&mut self, t: &[f64]) -> f64 {
                self.set(t);
                self.f.value(&self.theta)
            }
            fn gradient(&mut self, t: &[f64], g: &mut [f64]) {
                self.set(t);
                self.f.gradient(&self.theta, g);
                g.iter_mut().zip(self.units).for_each(|(g, u)| *g *= u);
            }
        }
        let mut scaled = Scaled {
            f,
            units: &self.units,
            theta: vec![0.0; self.units.len()],
        };
        let (mut result, record) = run_gradient_stage(
            stage,
            optimizer,
            &mut scaled,
            &self.to_scaled(x0),
            &self.to_scaled(lower),
            &self.to_scaled(upper),
            interrupt,
        )?;
        result.x = self.to_original(&result.x);
        if !result.gradient.is_empty() {
            result.gradient = result
                .gradient
                .iter()
                .zip(&self.units)
                .map(|(g, u)| g / u)
                .collect();
        }
        Ok((result, record))
    }

    /// The driver's [`zero_trials`] on θ̃ (an entry is tried at zero when
    /// θ̃ is below the driver's threshold); `theta`, `eval` and the returned
    /// θ are in θ.
    pub(crate) fn zero_trials(
        &self,
        diagonal: &[bool],
        theta: Vec<f64>,
        fmin: f64,
        eval: &mut dyn FnMut(&[f64]) -> f64,
    ) -> (Vec<f64>, f64, Vec<usize>) {
        let (scaled, fmin, zeroed) =
            zero_trials(diagonal, self.to_scaled(&theta), fmin, &mut |t| {
                eval(&self.to_original(t))
            });
        (self.to_original(&scaled), fmin, zeroed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terms::ReTerm;

    /// A term with an intercept and a column x of root mean square 1e6.
    fn layout() -> ThetaLayout {
        let term = ReTerm {
            grouping: "g".into(),
            levels: vec!["a".into(), "b".into()],
            refs: vec![0, 1],
            column_names: vec!["(Intercept)".into(), "x".into()],
            z: vec![1.0, 1e6, 1.0, -1e6],
            theta_index: vec![(0, 0), (1, 0), (1, 1)],
        };
        ThetaLayout::new(&[term])
    }

    #[test]
    fn conversions_are_exact() {
        let s = ThetaScaling::new(&layout());
        let u = 2f64.powi(-20);
        assert_eq!(s.units(), [1.0, u, u]);
        let theta = [0.3, -1.7e-7, 2.9e-7];
        assert_eq!(s.to_original(&s.to_scaled(&theta)), theta);
        assert_eq!(
            s.gradient_to_scaled(&[1.0, 2.0, 3.0]),
            [1.0, 2.0 * u, 3.0 * u]
        );
    }

    #[test]
    fn a_stage_on_the_scaled_parameters() {
        // f has its minimum at θ = (0.5, 0.2u, 0.1u): on θ the default
        // radii are 10⁶ times too coarse for the last two entries; on θ̃
        // the problem is well scaled and the optimum is found.
        let layout = layout();
        let s = ThetaScaling::new(&layout);
        let u = s.units()[1];
        let target = [0.5, 0.2 * u, 0.1 * u];
        let mut f = |th: &[f64]| {
            th.iter()
                .zip(&target)
                .zip(s.units())
                .map(|((t, c), w)| ((t - c) / w).powi(2))
                .sum::<f64>()
        };
        let optimizer = Bobyqa::default();
        let interrupt = Interrupt::new();
        let (result, _) = s
            .run_stage(
                Stage::Theta,
                &optimizer,
                &mut f,
                &layout.initial(),
                &layout.lower(),
                &layout.upper(),
                &interrupt,
            )
            .unwrap();
        for ((x, c), w) in result.x.iter().zip(&target).zip(s.units()) {
            assert!(((x - c) / w).abs() < 1e-5, "{x} {c}");
        }
        // Zero trials act on θ̃: an entry of 5e-5 in θ̃ is tried at zero
        // (and kept, the objective being flat here), one of 5e-3 in θ̃ is
        // not, though it is far below the threshold in θ.
        let theta = vec![0.5, 0.0, 5e-5 * u];
        let (t, _, zeroed) = s.zero_trials(&layout.diagonal(), theta, 1.0, &mut |_| 1.0);
        assert_eq!(zeroed, vec![2]);
        assert_eq!(t, vec![0.5, 0.0, 0.0]);
        let theta = vec![0.5, 0.0, 5e-3 * u];
        let (_, _, zeroed) = s.zero_trials(&layout.diagonal(), theta, 1.0, &mut |_| 1.0);
        assert!(zeroed.is_empty());
    }
}
