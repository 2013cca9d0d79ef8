//! Satterthwaite's degrees of freedom for linear mixed models, as lmerTest
//! computes them (Kuznetsova, Brockhoff & Christensen 2017).
//!
//! # The variance parameters and their covariance
//!
//! The parameters are φ = (θ, σ). With σ not profiled out, the objective the
//! model minimises (ML deviance or REML criterion) is
//!
//! f(θ, σ) = ld(θ) + d·log(2πσ²) + r²(θ)/σ² − Σ log wᵢ,
//!
//! where ld = log|L_Z|² (ML) or log|L_Z|² + log|R_X|² (REML), d = n (ML) or
//! n − p (REML) and r² the penalised weighted residual sum of squares;
//! minimising over σ gives σ̂² = r²/d and the profiled objective. Its Hessian
//! H in φ at (θ̂, σ̂) is
//!
//! * ∂²f/∂θ∂θ: central differences (one Richardson step) of the analytic
//!   gradient ∂f/∂θ = ∂ld/∂θ + (∂r²/∂θ)/σ̂² (`pls::gradient`) at fixed σ̂;
//! * ∂²f/∂θₖ∂σ = −2 (∂r²/∂θₖ)/σ̂³ (analytic);
//! * ∂²f/∂σ² = −2d/σ̂² + 6r²/σ̂⁴ (analytic).
//!
//! A = 2 H⁺ is the asymptotic covariance of φ̂ (H⁺ over H's eigenvalues above
//! 1e-8, as lmerTest). Differences cross a θ bound freely: the objective is
//! smooth there.
//!
//! # Degrees of freedom
//!
//! V(φ) = σ² (R_XᵀR_X)⁻¹(θ) is the covariance of β̂; its Jacobian Jₖ = ∂V/∂φₖ
//! is differenced in θ (one Richardson step) and exact in σ (2σ(R_XᵀR_X)⁻¹).
//! For one contrast l: ν = 2 (lᵀVl)² / (gᵀ A g), gₖ = lᵀJₖl. For a matrix L
//! of q independent rows (after the eigendecomposition L V Lᵀ = P D Pᵀ) each
//! rotated row m has νₘ, F = Σₘ (PᵀLβ̂)ₘ²/Dₘ / q, and the denominator df is
//! 2E/(E − q), E = Σ νₘ/(νₘ − 2) (2 if some νₘ ≤ 2; the common value if all
//! νₘ agree within 1e-8).
//!
//! Cost: 4 gradient and vcov evaluations per θ entry (one refactorization each).

use faer::Mat;

use super::linalg::{from_row_major, qform, sym_pinv_positive, symmetrize};
use super::{check_lmm, reduce_hypothesis, FTest, OneDimensional};
use crate::error::Result;
use crate::lmm::LinearMixedModel;
use crate::model::MixedModel;

/// Eigenvalues of the Hessian at or below this are dropped from its inverse.
pub const HESSIAN_TOL: f64 = 1e-8;

/// Everything Satterthwaite's method needs of a fitted linear mixed model.
#[derive(Debug, Clone)]
pub struct Satterthwaite {
    beta: Vec<f64>,
    vcov: Mat<f64>,
    /// Asymptotic covariance A of φ̂ = (θ̂, σ̂).
    varpar_cov: Mat<f64>,
    /// ∂V/∂φₖ, one p × p matrix per entry of φ.
    jacobian: Vec<Mat<f64>>,
    /// The Hessian H of the objective in φ.
    hessian: Mat<f64>,
}

/// One step per θ entry: relative size of the difference step.
const STEP: f64 = 1e-3;

impl Satterthwaite {
    /// Compute the Hessian, A and the Jacobians at the fit of `m` (the model
    /// is left at its estimates). Fails when the model is not fitted or has
    /// σ fixed (see [`check_lmm`]).
    pub fn new(m: &mut LinearMixedModel) -> Result<Self> {
        check_lmm(m)?;
        let theta_hat = m.theta().to_vec();
        let out = Self::compute(m, &theta_hat);
        m.set_theta(&theta_hat)?;
        out
    }

    fn compute(m: &mut LinearMixedModel, theta_hat: &[f64]) -> Result<Self> {
        let p = m.rank();
        let k = theta_hat.len();
        let sigma = m.sigma();
        let s2 = sigma * sigma;
        let n = m.nobs() as f64;
        let d = if m.is_reml() { n - p as f64 } else { n };
        let beta = m.beta();
        let unscaled_hat = from_row_major(&m.unscaled_vcov(), p);
        let vcov = symmetrize(&(&unscaled_hat * s2));
        let r2 = m.pwrss();
        let dr2_hat = m.engine().pwrss_gradient(m.layout());

        // Gradient in θ at fixed σ̂ and the unscaled vcov, at θ.
        let mut eval = |theta: &[f64]| -> Result<(Vec<f64>, Mat<f64>)> {
            m.set_theta_unbounded(theta)?;
            let mut g = m.engine().logdet_gradient(m.layout(), m.is_reml());
            let dr2 = m.engine().pwrss_gradient(m.layout());
            g.iter_mut().zip(&dr2).for_each(|(g, d)| *g += d / s2);
            Ok((g, from_row_major(&m.unscaled_vcov(), p)))
        };
        let mut hessian = Mat::<f64>::zeros(k + 1, k + 1);
        let mut jacobian = Vec::with_capacity(k + 1);
        for j in 0..k {
            let h = STEP * theta_hat[j].abs().max(1e-2);
            let mut central = |h: f64| -> Result<(Vec<f64>, Mat<f64>)> {
                let mut tp = theta_hat.to_vec();
                tp[j] += h;
                let (gp, vp) = eval(&tp)?;
                tp[j] = theta_hat[j] - h;
                let (gm, vm) = eval(&tp)?;
                let g: Vec<f64> = gp
                    .iter()
                    .zip(&gm)
                    .map(|(a, b)| (a - b) / (2.0 * h))
                    .collect();
                let v = (&vp - &vm) * (1.0 / (2.0 * h));
                Ok((g, v))
            };
            let (g1, v1) = central(h)?;
            let (g2, v2) = central(h / 2.0)?;
            for i in 0..k {
                hessian[(i, j)] = (4.0 * g2[i] - g1[i]) / 3.0;
            }
            let dv = (&v2 * (4.0 / 3.0) - &v1 * (1.0 / 3.0)) * s2;
            jacobian.push(symmetrize(&dv));
        }
        jacobian.push(&unscaled_hat * (2.0 * sigma));
        for j in 0..k {
            let v = -2.0 * dr2_hat[j] / (s2 * sigma);
            hessian[(j, k)] = v;
            hessian[(k, j)] = v;
        }
        hessian[(k, k)] = -2.0 * d / s2 + 6.0 * r2 / (s2 * s2);
        let hessian = symmetrize(&hessian);
        let (hinv, _) = sym_pinv_positive(&hessian, HESSIAN_TOL)?;
        Ok(Satterthwaite {
            beta,
            vcov,
            varpar_cov: &hinv * 2.0,
            jacobian,
            hessian,
        })
    }

    /// The Hessian of the objective in (θ, σ) at the estimates.
    pub fn hessian(&self) -> &Mat<f64> {
        &self.hessian
    }

    /// The asymptotic covariance of (θ̂, σ̂), 2 H⁺.
    pub fn varpar_cov(&self) -> &Mat<f64> {
        &self.varpar_cov
    }

    /// Satterthwaite's df of the contrast lᵀβ with variance `var` = lᵀVl.
    fn df_of(&self, l: &[f64], var: f64) -> f64 {
        let g: Vec<f64> = self.jacobian.iter().map(|j| qform(l, j)).collect();
        2.0 * var * var / qform(&g, &self.varpar_cov)
    }

    /// The estimate, standard error and df of lᵀβ.
    pub fn one_dimensional(&self, l: &[f64]) -> OneDimensional {
        let estimate: f64 = l.iter().zip(&self.beta).map(|(a, b)| a * b).sum();
        let var = qform(l, &self.vcov);
        OneDimensional {
            estimate,
            stderror: var.sqrt(),
            df: self.df_of(l, var),
        }
    }

    /// The F test of Lβ = rhs (rows of `l`, each of length p).
    pub fn test(&self, l: &Mat<f64>, rhs: &[f64]) -> Result<FTest> {
        let reduced = reduce_hypothesis(l, rhs, &self.beta, &self.vcov)?;
        let q = reduced.rows.len();
        let nu: Vec<f64> = reduced
            .rows
            .iter()
            .zip(&reduced.variances)
            .map(|(row, &d)| self.df_of(row, d))
            .collect();
        let f = reduced
            .values
            .iter()
            .zip(&reduced.variances)
            .map(|(v, d)| v * v / d)
            .sum::<f64>()
            / q as f64;
        Ok(FTest::new(q, combined_df(&nu), f))
    }
}

/// lmerTest's denominator df of an F statistic from the df of its
/// independent one-dimensional parts.
pub fn combined_df(nu: &[f64]) -> f64 {
    let q = nu.len();
    if q == 1 {
        return nu[0];
    }
    if nu.windows(2).all(|w| (w[1] - w[0]).abs() < 1e-8) {
        return nu.iter().sum::<f64>() / q as f64;
    }
    if nu.iter().any(|&v| v <= 2.0) {
        return 2.0;
    }
    let e: f64 = nu.iter().map(|v| v / (v - 2.0)).sum();
    2.0 * e / (e - q as f64)
}
