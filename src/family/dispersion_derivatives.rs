//! The higher derivatives of the log density of the dispersion families that
//! the analytic gradient of their Laplace objective needs
//! (`glmm::gradient`): the third derivative in μ, the derivatives in log φ,
//! and on the η scale the change of the observed information along η and
//! with log φ.
//!
//! With l(μ, φ) = log p(y | μ, φ) and the link's μ′, μ″, μ‴ at η:
//!
//! * score s = ∂l/∂η = l_μ μ′;
//! * observed information w = −∂²l/∂η² = −(l_μμ μ′² + l_μ μ″);
//! * ∂w/∂η = −(l_μμμ μ′³ + 3 l_μμ μ′μ″ + l_μ μ‴);
//! * ∂s/∂log φ = l_μφ μ′ and ∂w/∂log φ = −(l_μμφ μ′² + l_μφ μ″), where a φ
//!   subscript is a derivative in log φ.
//!
//! For the exponential dispersion families (Gaussian, Gamma, inverse
//! Gaussian) l_μ and l_μμ are proportional to 1/φ, so their log-φ
//! derivatives are −l_μ and −l_μμ; NB2 (k = 1/φ) has its own.

use super::{Family, Link};
use crate::stats::digamma;

/// Derivatives of one observation's log density l = log p(y | μ(η), φ)
/// (unit prior weight) on the η scale, with the observed information.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EtaDerivatives {
    /// ∂l/∂η.
    pub score: f64,
    /// −∂²l/∂η², the observed information (PIRLS's weight).
    pub weight: f64,
    /// ∂(weight)/∂η = −∂³l/∂η³.
    pub weight_eta: f64,
    /// ∂l/∂log φ.
    pub loglik_log_phi: f64,
    /// ∂(score)/∂log φ.
    pub score_log_phi: f64,
    /// ∂(weight)/∂log φ.
    pub weight_log_phi: f64,
}

impl Family {
    /// ∂³ log p(y | μ, φ)/∂μ³ (unit prior weight) for a family with a
    /// dispersion parameter; NaN for the others.
    pub fn loglik_mu_third_derivative(self, y: f64, mu: f64, phi: f64) -> f64 {
        match self {
            Family::Gaussian => 0.0,
            Family::Gamma => (6.0 * y - 2.0 * mu) / (phi * mu.powi(4)),
            Family::InverseGaussian => (12.0 * y - 6.0 * mu) / (phi * mu.powi(5)),
            Family::NegativeBinomial => {
                let k = 1.0 / phi;
                2.0 * y / mu.powi(3) - 2.0 * (y + k) / (mu + k).powi(3)
            }
            _ => f64::NAN,
        }
    }

    /// The derivatives with respect to log φ of log p, of ∂ log p/∂μ and of
    /// ∂² log p/∂μ² (unit prior weight), for a family with a dispersion
    /// parameter; NaN for the others.
    pub fn loglik_log_phi_derivatives(self, y: f64, mu: f64, phi: f64) -> (f64, f64, f64) {
        let (l1, l2) = self.loglik_mu_derivatives(y, mu, phi);
        match self {
            Family::Gaussian => {
                let r = y - mu;
                (0.5 * (r * r / phi - 1.0), -l1, -l2)
            }
            Family::Gamma => {
                // ν = 1/φ: ∂l/∂ν = ln(νy/μ) + 1 − y/μ − ψ(ν), ∂ν/∂log φ = −ν.
                let nu = 1.0 / phi;
                let dl_dnu = (nu * y / mu).ln() + 1.0 - y / mu - digamma(nu);
                (-nu * dl_dnu, -l1, -l2)
            }
            Family::InverseGaussian => {
                let r = y - mu;
                (-0.5 + r * r / (2.0 * phi * mu * mu * y), -l1, -l2)
            }
            Family::NegativeBinomial => {
                // k = 1/φ, ∂k/∂log φ = −k.
                let k = 1.0 / phi;
                let mk = mu + k;
                let dl_dk = digamma(y + k) - digamma(k) + (k / mk).ln() + (mu - y) / mk;
                let dl1_dk = (y - mu) / (mk * mk);
                let dl2_dk = (mu - k - 2.0 * y) / (mk * mk * mk);
                (-k * dl_dk, -k * dl1_dk, -k * dl2_dk)
            }
            _ => (f64::NAN, f64::NAN, f64::NAN),
        }
    }

    /// The score, observed information and their derivatives (module
    /// docs) of one observation at η, μ = g⁻¹(η), for a family with a
    /// dispersion parameter.
    pub fn eta_derivatives(
        self,
        link: Link,
        y: f64,
        mu: f64,
        eta: f64,
        phi: f64,
    ) -> EtaDerivatives {
        let (m1, m2, m3) = (
            link.mu_eta(eta),
            link.mu_eta_derivative(eta),
            link.mu_eta_second_derivative(eta),
        );
        let (l1, l2) = self.loglik_mu_derivatives(y, mu, phi);
        let l3 = self.loglik_mu_third_derivative(y, mu, phi);
        let (lp, l1p, l2p) = self.loglik_log_phi_derivatives(y, mu, phi);
        let (score, weight) = self.eta_score_weight(link, y, mu, eta, phi, true);
        EtaDerivatives {
            score,
            weight,
            weight_eta: -(l3 * m1 * m1 * m1 + 3.0 * l2 * m1 * m2 + l1 * m3),
            loglik_log_phi: lp,
            score_log_phi: l1p * m1,
            weight_log_phi: -(l2p * m1 * m1 + l1p * m2),
        }
    }
}

impl Link {
    /// d³μ/dη³ at η.
    pub fn mu_eta_second_derivative(self, eta: f64) -> f64 {
        match self {
            Link::Log => eta.exp().max(f64::EPSILON),
            Link::Identity | Link::Sqrt => 0.0,
            Link::Inverse => -6.0 / eta.powi(4),
            Link::InverseSquare => -1.875 * eta.powf(-3.5),
            Link::Logit => {
                let p = 1.0 / (1.0 + (-eta).exp());
                let m1 = p * (1.0 - p);
                m1 * ((1.0 - 2.0 * p).powi(2) - 2.0 * m1)
            }
            Link::Probit => {
                (eta * eta - 1.0) * (-0.5 * eta * eta).exp() / (2.0 * std::f64::consts::PI).sqrt()
            }
            Link::Cloglog => {
                let t = eta.min(700.0).exp();
                let m1 = t * (-t).exp();
                m1 * ((1.0 - t).powi(2) - t)
            }
        }
    }
}

/// (family, link, y, μ, φ) at which the tests of the dispersion families'
/// derivatives check them against differences.
#[cfg(test)]
pub(super) const DERIVATIVE_CASES: [(Family, Link, f64, f64, f64); 10] = [
    (Family::Gamma, Link::Log, 2.3, 1.7, 0.4),
    (Family::Gamma, Link::Inverse, 0.8, 1.3, 0.2),
    (Family::Gamma, Link::Identity, 3.1, 2.2, 0.5),
    (Family::InverseGaussian, Link::InverseSquare, 1.9, 1.4, 0.3),
    (Family::InverseGaussian, Link::Log, 1.9, 1.4, 0.3),
    (Family::Gaussian, Link::Log, 5.2, 4.0, 2.0),
    (Family::Gaussian, Link::Inverse, 5.2, 4.0, 2.0),
    (Family::NegativeBinomial, Link::Log, 7.0, 4.5, 0.6),
    (Family::NegativeBinomial, Link::Log, 0.0, 2.5, 1.6),
    (Family::NegativeBinomial, Link::Sqrt, 3.0, 2.5, 0.05),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Central difference of `f` at `x` with step `h`.
    fn diff(f: impl Fn(f64) -> f64, x: f64, h: f64) -> f64 {
        (f(x + h) - f(x - h)) / (2.0 * h)
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1.0)
    }

    /// Every derivative against a central difference of the one below it:
    /// l_μμμ of l_μμ, the log-φ derivatives of m2loglik and of l_μ, l_μμ,
    /// and on the η scale ∂w/∂η, ∂s/∂log φ, ∂w/∂log φ of
    /// [`Family::eta_score_weight`].
    #[test]
    fn derivatives_match_differences() {
        for (family, link, y, mu, phi) in DERIVATIVE_CASES {
            let h = 1e-5 * mu;
            let l2 = |m: f64| family.loglik_mu_derivatives(y, m, phi).1;
            let l3 = family.loglik_mu_third_derivative(y, mu, phi);
            assert!(close(l3, diff(l2, mu, h), 1e-7), "{family:?} l‴");
            let hp = 1e-5;
            let at = |lphi: f64| {
                let p = lphi.exp();
                let (l1, l2) = family.loglik_mu_derivatives(y, mu, p);
                (-0.5 * family.m2loglik(y, mu, 1.0, p), l1, l2)
            };
            let (lp, l1p, l2p) = family.loglik_log_phi_derivatives(y, mu, phi);
            let lphi = phi.ln();
            assert!(
                close(lp, diff(|t| at(t).0, lphi, hp), 1e-7),
                "{family:?} l_φ"
            );
            assert!(
                close(l1p, diff(|t| at(t).1, lphi, hp), 1e-7),
                "{family:?} l_μφ"
            );
            assert!(
                close(l2p, diff(|t| at(t).2, lphi, hp), 1e-7),
                "{family:?} l_μμφ"
            );
            let eta = link.linkfun(mu);
            let d = family.eta_derivatives(link, y, mu, eta, phi);
            let (s, w) = family.eta_score_weight(link, y, mu, eta, phi, true);
            assert_eq!((d.score, d.weight), (s, w));
            let he = 1e-5 * eta.abs().max(0.1);
            let w_at = |e: f64| {
                family
                    .eta_score_weight(link, y, link.linkinv(e), e, phi, true)
                    .1
            };
            assert!(
                close(d.weight_eta, diff(w_at, eta, he), 1e-6),
                "{family:?} {link:?} ∂w/∂η"
            );
            let sw_at = |t: f64| family.eta_score_weight(link, y, mu, eta, t.exp(), true);
            let ds = diff(|t| sw_at(t).0, lphi, hp);
            let dw = diff(|t| sw_at(t).1, lphi, hp);
            assert!(
                close(d.score_log_phi, ds, 1e-7),
                "{family:?} {link:?} ∂s/∂log φ"
            );
            assert!(
                close(d.weight_log_phi, dw, 1e-7),
                "{family:?} {link:?} ∂w/∂log φ"
            );
        }
    }

    #[test]
    fn third_derivative_of_the_mean_matches_differences() {
        let links = [
            (Link::Log, 0.3),
            (Link::Identity, 1.2),
            (Link::Inverse, 0.7),
            (Link::Sqrt, 1.4),
            (Link::InverseSquare, 0.6),
            (Link::Logit, -0.8),
            (Link::Probit, 0.4),
            (Link::Cloglog, -0.2),
        ];
        for (link, eta) in links {
            let h = 1e-5;
            let d = diff(|e| link.mu_eta_derivative(e), eta, h);
            assert!(
                close(link.mu_eta_second_derivative(eta), d, 1e-7),
                "{link:?}"
            );
        }
    }
}
