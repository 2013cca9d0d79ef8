//! The convergence certificate of a GLMM fit (`model::certificate`): the
//! gradient of the objective in θ (fast fits, β from PIRLS) or in (β, θ)
//! (joint fits, β fixed in PIRLS). For the Laplace objective (nAGQ = 1) it
//! is the exact gradient (`gradient.rs`, one evaluation; central
//! differences only if PIRLS fails there); for adaptive Gauss–Hermite
//! quadrature, central differences with step
//! h_i = 1e-4·max(|x_i|, s_i), s_i the unit of the component (θ's unit from
//! the θ layout, the standard error for β) (forward differences at a bound): 2 evaluations
//! per free component, 1 per bounded one (plus one at the optimum then).
//! Joint fits of [`CERTIFICATE_FULL_ROWS`] rows or more are checked in θ
//! only, β fixed, and the record says so (scope `theta`).

use super::fit::{JointMap, JOINT_RHO_END};
use super::GeneralizedLinearMixedModel;
use crate::error::Result;
use crate::interrupt::Interrupt;
use crate::model::certificate::{
    central_gradient, certify, Certificate, Certify, CERTIFICATE_FULL_ROWS, DIFFERENCE_STEP,
};
use crate::model::driver::{run_stage, theta_optimizer};
use crate::model::scaling::ThetaScaling;
use crate::model::{CertificateScope, FitSettings, MixedModel, Stage};
use crate::optim::Bobyqa;

/// The certificate's method when its gradient came from differences.
const DIFFERENCED: &str = "central differences";

/// The certificate's view of a GLMM fit.
struct Certifier<'a> {
    model: &'a mut GeneralizedLinearMixedModel,
    settings: &'a FitSettings,
    /// β in the checked parameters (joint scope), first.
    p: usize,
    /// β held fixed when only θ is checked in a joint fit.
    fixed_beta: Option<Vec<f64>>,
    /// Lower bounds of the checked parameters.
    lower: Vec<f64>,
    /// Units of the checked parameters (standard errors for β, the layout's
    /// units for θ).
    units: Vec<f64>,
    interrupt: &'a Interrupt,
    /// Was some gradient taken by differences (no exact one there)?
    differenced: bool,
}

impl Certifier<'_> {
    fn objective(&mut self, x: &[f64]) -> f64 {
        let tol = self.settings.pirls_tol;
        if self.p > 0 {
            let (b, th) = x.split_at(self.p);
            self.model.evaluate_or_inf(th, Some(b), tol)
        } else {
            self.model
                .evaluate_or_inf(x, self.fixed_beta.as_deref(), tol)
        }
    }
}

impl Certifier<'_> {
    /// The exact gradient of the Laplace objective at x in the checked
    /// parameters' order (`gradient.rs`), or None if PIRLS fails there.
    fn analytic_gradient(&mut self, x: &[f64]) -> Option<Vec<f64>> {
        let nt = self.model.layout.len();
        if self.p > 0 {
            let (b, th) = x.split_at(self.p);
            let (_, g) = self.model.objective_and_gradient(th, Some(b)).ok()?;
            // (θ, β[, log φ]) → (β, θ): φ is held at its estimate.
            Some(g[nt..nt + self.p].iter().chain(&g[..nt]).copied().collect())
        } else {
            let beta = self.fixed_beta.clone();
            let (_, g) = self.model.objective_and_gradient(x, beta.as_deref()).ok()?;
            Some(g[..nt].to_vec())
        }
    }
}

impl Certify for Certifier<'_> {
    fn gradient(&mut self, x: &[f64], f: f64) -> Result<(Vec<f64>, usize)> {
        // The exact gradient where there is one (one PIRLS and the
        // gradient's solves, counted as one evaluation).
        let fixed_beta = self.p > 0 || self.fixed_beta.is_some();
        if self.model.has_exact_gradient(fixed_beta) {
            if let Some(g) = self.analytic_gradient(x) {
                self.interrupt.check()?;
                return Ok((g, 1));
            }
        }
        self.differenced = true;
        let lower = self.lower.clone();
        let units = self.units.clone();
        let near_bound = x
            .iter()
            .zip(&lower)
            .zip(&units)
            .any(|((v, l), s)| v - DIFFERENCE_STEP * v.abs().max(*s) < *l);
        // The forward difference needs f from the same evaluator.
        let (fx, extra) = if near_bound {
            (self.objective(x), 1)
        } else {
            (f, 0)
        };
        let (g, used) = central_gradient(&mut |y| self.objective(y), x, fx, &lower, &units);
        self.interrupt.check()?;
        Ok((g, used + extra))
    }

    fn restart(&mut self, x: &[f64]) -> Result<(Vec<f64>, f64, usize)> {
        let settings = self.settings;
        let interrupt = self.interrupt;
        let layout = self.model.layout.clone();
        let theta_lower = layout.lower();
        let theta_upper = layout.upper();
        if self.p == 0 {
            let bobyqa = theta_optimizer(
                &layout,
                settings.rho_begin,
                settings.rho_end,
                settings.max_evaluations,
                interrupt,
            );
            let scaling = ThetaScaling::new(&layout);
            let mut f = |th: &[f64]| self.objective(th);
            let (r, st) = scaling.run_stage(
                Stage::Theta,
                &bobyqa,
                &mut f,
                x,
                &theta_lower,
                &theta_upper,
                interrupt,
            )?;
            return Ok((r.x, r.fmin, st.evaluations));
        }
        // Joint: whitened coordinates around x, as the joint stage.
        let p = self.p;
        let (b, th) = x.split_at(p);
        self.model.evaluate(th, Some(b), self.model.nagq)?;
        let map = JointMap::new(self.model, th);
        let n = x.len();
        let lo = map.lower(&theta_lower);
        let hi = vec![f64::INFINITY; n];
        let joint = Bobyqa {
            rho_begin: 1.0,
            rho_end: JOINT_RHO_END,
            max_evaluations: settings.max_evaluations,
            stop: Some(interrupt.flag().clone().into()),
            ..Bobyqa::default()
        };
        let mut f = |z: &[f64]| self.objective(&map.params(z));
        let (r, st) = run_stage(
            Stage::Joint,
            &joint,
            &mut f,
            &vec![0.0; n],
            &lo,
            &hi,
            interrupt,
        )?;
        Ok((map.params(&r.x), r.fmin, st.evaluations))
    }

    fn units(&self, n: usize) -> Vec<f64> {
        debug_assert_eq!(n, self.units.len());
        self.units.clone()
    }
}

impl GeneralizedLinearMixedModel {
    /// Is the certificate's gradient the exact one? For the Laplace
    /// objective (`gradient.rs`; for a dispersion family at φ held, and
    /// not where an observed weight is negative, when the certificate falls
    /// back to differences) and for the quadrature objective at fixed β
    /// (`agq_gradient.rs`) of the families without a dispersion parameter;
    /// not for the quadrature objective of a `fast` fit (β from PIRLS:
    /// `fixed_beta` false).
    fn has_exact_gradient(&self, fixed_beta: bool) -> bool {
        self.nagq <= 1 || (fixed_beta && !self.family.has_dispersion())
    }

    /// Check the certificate at (θ, β) (β: `Some` for a joint fit, whose
    /// objective at the point is `f`), restarting once if it fails. Returns
    /// θ, β (`Some` for a joint fit) and the certificate; the model's state
    /// is left at some evaluation (the caller re-evaluates).
    pub(super) fn certificate(
        &mut self,
        settings: &FitSettings,
        theta: Vec<f64>,
        beta: Option<Vec<f64>>,
        f: f64,
        interrupt: &Interrupt,
    ) -> Result<(Vec<f64>, Option<Vec<f64>>, Certificate)> {
        let theta_lower = self.layout.lower();
        // The method actually used: differences where the exact gradient
        // was not available at a point (PIRLS failing, or a dispersion
        // family's negative observed weights).
        let method = if self.has_exact_gradient(beta.is_some()) {
            "analytic"
        } else {
            DIFFERENCED
        };
        let full = beta.is_some() && self.eta.len() < CERTIFICATE_FULL_ROWS;
        if full {
            let b = beta.unwrap_or_default();
            let p = b.len();
            // Standard errors at the optimum (one evaluation, counted).
            self.evaluate(&theta, Some(&b), self.nagq)?;
            let units: Vec<f64> = self
                .stderror()
                .into_iter()
                .map(|s| if s.is_finite() && s > 0.0 { s } else { 1.0 })
                .chain(self.layout.units().iter().copied())
                .collect();
            let x: Vec<f64> = b.iter().chain(&theta).copied().collect();
            let lower: Vec<f64> = std::iter::repeat_n(f64::NEG_INFINITY, p)
                .chain(theta_lower.iter().copied())
                .collect();
            let mut c = Certifier {
                model: self,
                settings,
                p,
                fixed_beta: None,
                lower: lower.clone(),
                units,
                interrupt,
                differenced: false,
            };
            let (x, _, mut cert) = certify(
                &mut c,
                x,
                f,
                &lower,
                settings,
                CertificateScope::BetaTheta,
                method,
            )?;
            cert.evaluations += 1;
            if c.differenced {
                cert.method = DIFFERENCED.into();
            }
            let (b, th) = x.split_at(p);
            Ok((th.to_vec(), Some(b.to_vec()), cert))
        } else {
            let units = self.layout.units().to_vec();
            let mut c = Certifier {
                model: self,
                settings,
                p: 0,
                fixed_beta: beta.clone(),
                lower: theta_lower.clone(),
                units,
                interrupt,
                differenced: false,
            };
            let (th, _, mut cert) = certify(
                &mut c,
                theta,
                f,
                &theta_lower,
                settings,
                CertificateScope::Theta,
                method,
            )?;
            if c.differenced {
                cert.method = DIFFERENCED.into();
            }
            Ok((th, beta, cert))
        }
    }
}
