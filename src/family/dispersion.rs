//! Families with a dispersion parameter φ (glmmTMB's formulation): Gamma
//! (shape 1/φ, Var = φμ²), inverse Gaussian (Var = φμ³), Gaussian with any
//! link (φ = σ²) and the negative binomial NB2 (size k = 1/φ, Var = μ + φμ²).
//!
//! For these families the conditional log density log p(y | μ, φ) is used in
//! full — constants included — so that the Laplace objective is −2 log L as
//! glmmTMB reports it. Prior weights multiply each observation's log density
//! (glmmTMB's `weights`). The derivatives of log p with respect to μ give the
//! score and both the expected and the observed information on the η scale:
//! with l(μ) = log p, s = l′ μ′, w_exp = μ′²/Var(y | μ), and
//! w_obs = −(l″ μ′² + l′ μ″) (the Newton–Raphson weight; equal to w_exp for
//! the canonical links).

use std::f64::consts::PI;

use super::{Family, Link};
use crate::stats::ln_gamma;

impl Family {
    /// Does the family have a dispersion parameter φ estimated with the model?
    pub fn has_dispersion(self) -> bool {
        matches!(
            self,
            Family::Gamma | Family::InverseGaussian | Family::Gaussian | Family::NegativeBinomial
        )
    }

    /// Var(y | μ) for unit prior weight at dispersion φ (φ = 1 for the
    /// families without one): V(μ) times φ, or μ + φμ² for NB2.
    #[inline]
    pub fn variance_phi(self, mu: f64, phi: f64) -> f64 {
        match self {
            Family::Gamma => phi * mu * mu,
            Family::InverseGaussian => phi * mu * mu * mu,
            Family::Gaussian => phi,
            Family::NegativeBinomial => mu + phi * mu * mu,
            _ => self.variance(mu),
        }
    }

    /// −2 wt log p(y | μ, φ) for a family with a dispersion parameter, with
    /// all constants (the terms of glmmTMB's likelihood). Outside the
    /// family's support for μ the value is +∞.
    pub fn m2loglik(self, y: f64, mu: f64, wt: f64, phi: f64) -> f64 {
        if !(mu.is_finite()) {
            return f64::INFINITY;
        }
        let ll = match self {
            Family::Gaussian => {
                let r = y - mu;
                -0.5 * (r * r / phi + (2.0 * PI * phi).ln())
            }
            Family::Gamma => {
                if mu <= 0.0 {
                    return f64::INFINITY;
                }
                let nu = 1.0 / phi;
                nu * (nu * y / mu).ln() - nu * y / mu - y.ln() - ln_gamma(nu)
            }
            Family::InverseGaussian => {
                if mu <= 0.0 {
                    return f64::INFINITY;
                }
                let r = y - mu;
                -0.5 * ((2.0 * PI * phi * y * y * y).ln() + r * r / (phi * mu * mu * y))
            }
            Family::NegativeBinomial => {
                if mu <= 0.0 {
                    return f64::INFINITY;
                }
                let k = 1.0 / phi;
                let lmk = (mu + k).ln();
                ln_gamma(y + k) - ln_gamma(k) - ln_gamma(y + 1.0)
                    + k * (k.ln() - lmk)
                    + if y > 0.0 { y * (mu.ln() - lmk) } else { 0.0 }
            }
            _ => {
                return self.unit_deviance(y, mu, wt) + self.saturated_m2loglik(y, wt);
            }
        };
        -2.0 * wt * ll
    }

    /// First and second derivatives of log p(y | μ, φ) with respect to μ
    /// (unit prior weight).
    #[inline]
    pub fn loglik_mu_derivatives(self, y: f64, mu: f64, phi: f64) -> (f64, f64) {
        match self {
            Family::Gaussian => ((y - mu) / phi, -1.0 / phi),
            Family::Gamma => {
                let m2 = mu * mu;
                ((y - mu) / (phi * m2), (mu - 2.0 * y) / (phi * m2 * mu))
            }
            Family::InverseGaussian => {
                let m3 = mu * mu * mu;
                (
                    (y - mu) / (phi * m3),
                    (2.0 * mu - 3.0 * y) / (phi * m3 * mu),
                )
            }
            Family::NegativeBinomial => {
                let k = 1.0 / phi;
                let mk = mu + k;
                (
                    k * (y - mu) / (mu * mk),
                    -y / (mu * mu) + (y + k) / (mk * mk),
                )
            }
            _ => {
                let v = self.variance(mu);
                ((y - mu) / v, -1.0 / v)
            }
        }
    }

    /// The score s = ∂ log p/∂η and the weight −∂² log p/∂η² of one
    /// observation (unit prior weight) at η: the observed information with
    /// `observed`, else the expected (Fisher) information μ′²/Var(y | μ).
    #[inline]
    pub fn eta_score_weight(
        self,
        link: Link,
        y: f64,
        mu: f64,
        eta: f64,
        phi: f64,
        observed: bool,
    ) -> (f64, f64) {
        let me = link.mu_eta(eta);
        let (l1, l2) = self.loglik_mu_derivatives(y, mu, phi);
        let score = l1 * me;
        let w = if observed {
            -(l2 * me * me + l1 * link.mu_eta_derivative(eta))
        } else {
            me * me / self.variance_phi(mu, phi)
        };
        (score, w)
    }

    /// The name of the dispersion parameter in summaries.
    pub fn dispersion_name(self) -> &'static str {
        match self {
            Family::Gamma => "phi (1/shape)",
            Family::InverseGaussian => "phi (dispersion)",
            Family::Gaussian => "phi (residual variance)",
            Family::NegativeBinomial => "phi (1/k)",
            _ => "phi",
        }
    }

    /// A starting value of φ from the fitted means of a model without it:
    /// the Pearson statistic Σ wt (y − μ)² / V(μ) / n for the exponential
    /// dispersion families, and for NB2 the moment estimate
    /// Σ [(y − μ)² − μ] / Σ μ², kept within [1e-3, 1e3].
    pub fn dispersion_start(self, y: &[f64], mu: &[f64], wt: &[f64]) -> f64 {
        let n = y.len().max(1) as f64;
        let est = match self {
            Family::NegativeBinomial => {
                let (mut num, mut den) = (0.0, 0.0);
                for i in 0..y.len() {
                    let r = y[i] - mu[i];
                    num += wt[i] * (r * r - mu[i]);
                    den += wt[i] * mu[i] * mu[i];
                }
                num / den
            }
            _ => {
                (0..y.len())
                    .map(|i| {
                        let r = y[i] - mu[i];
                        wt[i] * r * r / self.variance_phi(mu[i], 1.0)
                    })
                    .sum::<f64>()
                    / n
            }
        };
        if est.is_finite() {
            est.clamp(1e-3, 1e3)
        } else {
            1.0
        }
    }
}

impl Link {
    /// Does the link need μ > 0 (log, inverse, 1/μ², sqrt)?
    pub fn requires_positive_mean(self) -> bool {
        matches!(
            self,
            Link::Log | Link::Inverse | Link::InverseSquare | Link::Sqrt
        )
    }

    /// d²μ/dη² at η (for the observed information of non-canonical links).
    #[inline]
    pub fn mu_eta_derivative(self, eta: f64) -> f64 {
        match self {
            Link::Log => eta.exp().max(f64::EPSILON),
            Link::Identity => 0.0,
            Link::Inverse => 2.0 / (eta * eta * eta),
            Link::InverseSquare => 0.75 * eta.powf(-2.5),
            Link::Sqrt => 2.0,
            Link::Logit => {
                let p = 1.0 / (1.0 + (-eta).exp());
                p * (1.0 - p) * (1.0 - 2.0 * p)
            }
            Link::Probit => -eta * (-0.5 * eta * eta).exp() / (2.0 * PI).sqrt(),
            Link::Cloglog => {
                let ee = eta.min(700.0).exp();
                ee * (-ee).exp() * (1.0 - ee)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::dispersion_derivatives::DERIVATIVE_CASES;
    use super::*;

    /// The analytic derivatives of log p against central differences, and
    /// the observed weight against the second difference on the η scale.
    #[test]
    fn derivatives_match_differences() {
        for (family, link, y, mu, phi) in DERIVATIVE_CASES {
            let lp = |m: f64| -0.5 * family.m2loglik(y, m, 1.0, phi);
            let h = 1e-4 * mu;
            let d1 = (lp(mu + h) - lp(mu - h)) / (2.0 * h);
            let d2 = (lp(mu + h) - 2.0 * lp(mu) + lp(mu - h)) / (h * h);
            let (l1, l2) = family.loglik_mu_derivatives(y, mu, phi);
            assert!((d1 - l1).abs() < 1e-6 * l1.abs().max(1.0), "{family:?} l′");
            assert!((d2 - l2).abs() < 1e-4 * l2.abs().max(1.0), "{family:?} l″");
            let eta = link.linkfun(mu);
            let le = |e: f64| lp(link.linkinv(e));
            let he = 1e-4 * eta.abs().max(0.1);
            let s = (le(eta + he) - le(eta - he)) / (2.0 * he);
            let w = -(le(eta + he) - 2.0 * le(eta) + le(eta - he)) / (he * he);
            let (score, wobs) = family.eta_score_weight(link, y, mu, eta, phi, true);
            assert!(
                (s - score).abs() < 1e-6 * score.abs().max(1.0),
                "{family:?} {link:?} s"
            );
            assert!(
                (w - wobs).abs() < 1e-4 * wobs.abs().max(1.0),
                "{family:?} {link:?} w"
            );
        }
    }

    /// The densities integrate / sum to one and have the stated variance.
    #[test]
    fn densities_are_normalised() {
        // NB2: Σ p and Σ (y − μ)² p.
        let (mu, phi) = (3.5, 0.7);
        let (mut tot, mut var) = (0.0, 0.0);
        for y in 0..2000 {
            let p = (-0.5 * Family::NegativeBinomial.m2loglik(y as f64, mu, 1.0, phi)).exp();
            tot += p;
            var += (y as f64 - mu).powi(2) * p;
        }
        assert!((tot - 1.0).abs() < 1e-10);
        assert!((var - Family::NegativeBinomial.variance_phi(mu, phi)).abs() < 1e-8);
        // Gamma and inverse Gaussian by the midpoint rule on (0, 60).
        for family in [Family::Gamma, Family::InverseGaussian] {
            let (mu, phi) = (2.0, 0.3);
            let n = 600_000;
            let h = 60.0 / n as f64;
            let (mut tot, mut var) = (0.0, 0.0);
            for i in 0..n {
                let y = (i as f64 + 0.5) * h;
                let p = (-0.5 * family.m2loglik(y, mu, 1.0, phi)).exp() * h;
                tot += p;
                var += (y - mu).powi(2) * p;
            }
            assert!((tot - 1.0).abs() < 1e-6, "{family:?} {tot}");
            let v = family.variance_phi(mu, phi);
            assert!((var - v).abs() < 1e-4 * v, "{family:?} {var} vs {v}");
        }
    }
}
