//! The convergence certificate checked at the end of every fit: the
//! projected gradient (KKT conditions under the bounds) at the optimum.
//!
//! With f the objective at the optimum x, g its gradient and s_i the unit
//! of component i (θ's unit from its random-effects column, 1 for columns
//! of ordinary size, see `model::scaling`; the standard error for a GLMM's β
//! in a joint fit, the unit in which its joint stage measures β), component
//! i passes when
//!
//! * x_i is free (above its lower bound): |g_i|·max(|x_i|, s_i) ≤ tol·max(|f|, 1);
//! * x_i is on its (finite) lower bound: g_i·max(|x_i|, s_i) ≥ −tol·max(|f|, 1)
//!   (g_i the one-sided derivative into the feasible region).
//!
//! That is, the first-order change of f for a relative change of x_i (or a
//! change of one unit, if larger) is below tol relative to f: the check of
//! x_i/s_i with unit 1, so it does not depend on the units of the
//! predictors. A unit of 1
//! for β would not do: a coefficient of a covariate with a large range
//! (Contraception's age², |β| = 0.005, standard error 0.0007) has a gradient
//! in the hundreds for a change of f far below the optimizer's precision.
//!
//! When a component fails, the fit restarts once (BOBYQA from the best
//! point with a fresh radius, a failing component on its bound moved
//! inward) and checks again; the result is kept in the [`FitRecord`](super::FitRecord).

use std::time::Instant;

use super::FitSettings;
use crate::error::Result;

/// Default tolerance of the certificate, relative to max(|f|, 1) (see the
/// module docs). The largest scaled gradient measured on the test and
/// benchmark fits is 2.7e-6 (grouseticks' joint stage, whose BOBYQA stops at
/// a radius of 3e-4 standard errors), then 1.1e-6 (cbpp, joint); LMMs stay
/// below 2.6e-7 (penicillin, REML). 1e-4 leaves a margin of 37 over them,
/// while a fit stopped by a cap of 4 evaluations (sleepstudy) is at 1.9e-2.
pub const CERTIFICATE_TOL: f64 = 1e-4;

/// A joint-stage GLMM fit with at least this many rows is certified in θ
/// only (with β fixed at its optimum), which the certificate records.
pub const CERTIFICATE_FULL_ROWS: usize = 50_000;

/// Central differences step, relative to max(|x_i|, 1): about the cube
/// root of the objective's relative noise (PIRLS converged to 1e-9).
pub const DIFFERENCE_STEP: f64 = 1e-4;

/// The outcome of the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateStatus {
    /// Every component satisfies the KKT conditions within the tolerance.
    Certified,
    /// Some component does not, even after the restart.
    Failed,
    /// The certificate was not computed (a restored fit of an older file,
    /// or a model without parameters to check).
    NotChecked,
}

impl CertificateStatus {
    /// The status's name (`certified`, `failed`, `not checked`).
    pub fn name(self) -> &'static str {
        match self {
            CertificateStatus::Certified => "certified",
            CertificateStatus::Failed => "failed",
            CertificateStatus::NotChecked => "not checked",
        }
    }

    /// The status from its [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "certified" => Some(CertificateStatus::Certified),
            "failed" => Some(CertificateStatus::Failed),
            "not checked" => Some(CertificateStatus::NotChecked),
            _ => None,
        }
    }
}

/// What the gradient was taken over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateScope {
    /// θ (LMMs, fast GLMM fits, and large joint GLMM fits).
    Theta,
    /// (β, θ), β first (joint GLMM fits).
    BetaTheta,
}

impl CertificateScope {
    /// The scope's name (`theta`, `beta_theta`).
    pub fn name(self) -> &'static str {
        match self {
            CertificateScope::Theta => "theta",
            CertificateScope::BetaTheta => "beta_theta",
        }
    }

    /// The scope from its [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "theta" => Some(CertificateScope::Theta),
            "beta_theta" => Some(CertificateScope::BetaTheta),
            _ => None,
        }
    }
}

/// The convergence certificate of a fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Certificate {
    /// Certified, failed or not checked.
    pub status: CertificateStatus,
    /// The parameters checked.
    pub scope: CertificateScope,
    /// How the gradient was computed (`analytic`, `central differences`).
    pub method: String,
    /// The tolerance (relative to max(|f|, 1)).
    pub tolerance: f64,
    /// The gradient at the final point, in the scope's order.
    pub gradient: Vec<f64>,
    /// Indices (in the scope's order) of the components that fail.
    pub failing: Vec<usize>,
    /// The largest scaled violation, max_i of |g_i|·max(|x_i|, s_i)/max(|f|, 1)
    /// (free components) or −g_i·max(|x_i|, s_i)/max(|f|, 1) (components on a bound).
    pub max_scaled: f64,
    /// Did the fit restart because the first check failed?
    pub restarted: bool,
    /// Objective evaluations of the certificate and its restart (an LMM's
    /// analytic gradient counts as one); not part of the fit's `evaluations`.
    pub evaluations: usize,
    /// Wall-clock seconds of the certificate and its restart.
    pub seconds: f64,
}

impl Certificate {
    /// A certificate that was not computed.
    pub fn not_checked(scope: CertificateScope) -> Self {
        Certificate {
            status: CertificateStatus::NotChecked,
            scope,
            method: String::new(),
            tolerance: CERTIFICATE_TOL,
            gradient: vec![],
            failing: vec![],
            max_scaled: 0.0,
            restarted: false,
            evaluations: 0,
            seconds: 0.0,
        }
    }

    /// The gradient values of the failing components.
    pub fn failing_gradient(&self) -> Vec<f64> {
        self.failing.iter().map(|&i| self.gradient[i]).collect()
    }
}

/// The units s_i and the KKT conditions' tolerance of a check.
#[derive(Debug, Clone, Copy)]
pub struct Scales<'a> {
    /// Unit of each component (see the module docs).
    pub units: &'a [f64],
    /// Tolerance relative to max(|f|, 1).
    pub tol: f64,
}

/// Check the KKT conditions at `x` (lower bounds `lower`, objective `f`,
/// gradient `g`): the failing indices and the largest scaled violation.
pub fn kkt_check(
    x: &[f64],
    lower: &[f64],
    f: f64,
    g: &[f64],
    scales: Scales<'_>,
) -> (Vec<usize>, f64) {
    let tol = scales.tol;
    let scale = f.abs().max(1.0);
    let mut failing = Vec::new();
    let mut worst = 0.0f64;
    for i in 0..x.len() {
        let w = x[i].abs().max(scales.units[i]) * g[i] / scale;
        let violation = if x[i] <= lower[i] { -w } else { w.abs() };
        let violation = if violation.is_nan() {
            f64::INFINITY
        } else {
            violation
        };
        worst = worst.max(violation);
        if violation > tol {
            failing.push(i);
        }
    }
    (failing, worst)
}

/// The gradient of `f` at `x` by central differences, step
/// h_i = [`DIFFERENCE_STEP`]·max(|x_i|, s_i) (`units`: s_i); a component on (or within h of)
/// its lower bound gets the forward difference into the feasible region.
/// Costs 2 evaluations per free component, 1 per bounded one; returns the
/// gradient and the evaluations used.
pub fn central_gradient(
    f: &mut dyn FnMut(&[f64]) -> f64,
    x: &[f64],
    fx: f64,
    lower: &[f64],
    units: &[f64],
) -> (Vec<f64>, usize) {
    let mut g = vec![0.0; x.len()];
    let mut evals = 0;
    let mut p = x.to_vec();
    for i in 0..x.len() {
        let h = DIFFERENCE_STEP * x[i].abs().max(units[i]);
        if x[i] - h < lower[i] {
            p[i] = x[i] + h;
            g[i] = (f(&p) - fx) / h;
            evals += 1;
        } else {
            p[i] = x[i] + h;
            let up = f(&p);
            p[i] = x[i] - h;
            let down = f(&p);
            g[i] = (up - down) / (2.0 * h);
            evals += 2;
        }
        p[i] = x[i];
    }
    (g, evals)
}

/// What the certificate needs from a model.
pub(crate) trait Certify {
    /// The gradient at `x` (objective `f` there) and the evaluations it cost.
    fn gradient(&mut self, x: &[f64], f: f64) -> Result<(Vec<f64>, usize)>;
    /// Minimise again from `x` (failing bounded components already moved
    /// inward): the new point, its objective and the evaluations used.
    fn restart(&mut self, x: &[f64]) -> Result<(Vec<f64>, f64, usize)>;
    /// The unit s_i of each of the `n` components (default 1).
    fn units(&self, n: usize) -> Vec<f64> {
        vec![1.0; n]
    }
}

/// Where a failing component on its bound is moved before the restart,
/// relative to max(|x_i|, s_i).
const INWARD_STEP: f64 = 1e-2;

/// Check the certificate at `x` (objective `f`), restarting once from the
/// best point when it fails and the settings allow it (tolerance and
/// restart from `settings`). Returns the final point,
/// its objective and the certificate.
pub(crate) fn certify(
    model: &mut dyn Certify,
    x: Vec<f64>,
    f: f64,
    lower: &[f64],
    settings: &FitSettings,
    scope: CertificateScope,
    method: &str,
) -> Result<(Vec<f64>, f64, Certificate)> {
    let (tol, restart) = (settings.certificate_tol, settings.certificate_restart);
    let timer = Instant::now();
    let units = model.units(x.len());
    let scales = Scales { units: &units, tol };
    let (mut g, mut evaluations) = model.gradient(&x, f)?;
    let (mut failing, mut worst) = kkt_check(&x, lower, f, &g, scales);
    let (mut x, mut f, mut restarted) = (x, f, false);
    if !failing.is_empty() && restart {
        restarted = true;
        let mut start = x.clone();
        for &i in &failing {
            if start[i] <= lower[i] {
                start[i] = lower[i] + INWARD_STEP * start[i].abs().max(units[i]);
            }
        }
        let (x2, f2, used) = model.restart(&start)?;
        evaluations += used;
        if f2 <= f {
            (x, f) = (x2, f2);
        }
        let (g2, used) = model.gradient(&x, f)?;
        evaluations += used;
        g = g2;
        (failing, worst) = kkt_check(&x, lower, f, &g, scales);
    }
    let status = if failing.is_empty() {
        CertificateStatus::Certified
    } else {
        CertificateStatus::Failed
    };
    let certificate = Certificate {
        status,
        scope,
        method: method.to_string(),
        tolerance: tol,
        gradient: g,
        failing,
        max_scaled: worst,
        restarted,
        evaluations,
        seconds: timer.elapsed().as_secs_f64(),
    };
    Ok((x, f, certificate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kkt_free_and_bounded_components() {
        let lower = [0.0, f64::NEG_INFINITY, 0.0];
        let x = [0.0, 2.0, 0.5];
        // Bounded with a positive slope passes; free with a small slope
        // passes; free with a large one fails.
        let units = [1.0; 3];
        let scales = Scales {
            units: &units,
            tol: 1e-4,
        };
        let (failing, worst) = kkt_check(&x, &lower, 100.0, &[5.0, 1e-3, 1.0], scales);
        assert_eq!(failing, vec![2]);
        assert!((worst - 1e-2).abs() < 1e-15);
        // A negative slope at the bound fails.
        let (failing, _) = kkt_check(&x, &lower, 100.0, &[-1.0, 0.0, 0.0], scales);
        assert_eq!(failing, vec![0]);
        // A small unit passes a component with a small value.
        let small = Scales {
            units: &[1.0, 1.0, 1e-3],
            tol: 1e-4,
        };
        let (failing, _) = kkt_check(&[0.0, 2.0, 1e-3], &lower, 100.0, &[5.0, 1e-3, 1.0], small);
        assert!(failing.is_empty());
    }

    #[test]
    fn central_differences_of_a_quadratic() {
        let mut f = |x: &[f64]| (x[0] - 1.0).powi(2) + 3.0 * x[1] * x[1];
        let x = [0.0, 2.0];
        let fx = f(&x);
        let (g, evals) = central_gradient(&mut f, &x, fx, &[0.0, f64::NEG_INFINITY], &[1.0; 2]);
        assert_eq!(evals, 3);
        assert!((g[0] + 2.0).abs() < 1e-3); // forward difference at the bound
        assert!((g[1] - 12.0).abs() < 1e-8);
    }
}
