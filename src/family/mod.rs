//! Response distributions (families) and link functions of generalized
//! linear mixed models, as in GLM.jl / R's `family` objects (McCullagh &
//! Nelder 1989): the link g maps the mean μ to the linear predictor η = g(μ).
//!
//! Each family supplies the variance function V(μ), the unit deviance
//! d(y, μ) = 2 [log p(y | μ = y) − log p(y | μ)] and the −2 log-likelihood of
//! the saturated model (μ = y), so that −2 log p(y | μ) = Σ d + saturated.

use std::f64::consts::{PI, SQRT_2};

mod dispersion;
mod dispersion_derivatives;
pub use dispersion_derivatives::EtaDerivatives;
pub(crate) mod fastmath;

use crate::error::{Error, Result};
use crate::stats::{erfc, ln_gamma};
use fastmath::{exp_finite, ln_positive};

/// Smallest probability a mean is allowed to reach (R's `DBL_EPSILON` clamps).
const EPS: f64 = f64::EPSILON;

/// Distribution of the response given the random effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Binary 0/1 response (a two-level factor, second level = 1).
    Bernoulli,
    /// Proportion of successes out of a number of trials given as prior weights.
    Binomial,
    /// Non-negative integer counts.
    Poisson,
    /// Positive responses, shape 1/φ (Var = φμ²); see [`dispersion`].
    Gamma,
    /// Positive responses, Var = φμ³.
    InverseGaussian,
    /// Normal responses with variance φ = σ² (with a non-identity link; for
    /// the identity link a linear mixed model is the same model).
    Gaussian,
    /// Negative binomial NB2 counts: size k = 1/φ, Var = μ + φμ².
    NegativeBinomial,
}

/// Link function g with η = g(μ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// log(μ / (1 − μ)), canonical for Bernoulli and Binomial.
    Logit,
    /// Φ⁻¹(μ), the standard normal quantile.
    Probit,
    /// log(−log(1 − μ)).
    Cloglog,
    /// log μ, canonical for Poisson.
    Log,
    /// μ.
    Identity,
    /// 1 / μ.
    Inverse,
    /// √μ.
    Sqrt,
    /// 1 / μ², canonical for the inverse Gaussian.
    InverseSquare,
}

impl Family {
    /// Parse a family name (`bernoulli`, `binomial`, `poisson`, `gamma`,
    /// `inversegaussian`, `gaussian` (or `normal`), `negativebinomial` (or
    /// `nbinom2`); case-insensitive, `_`, `-` and `.` ignored).
    pub fn from_name(name: &str) -> Result<Family> {
        let key: String = name
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !matches!(c, '_' | '-' | '.' | ' '))
            .collect();
        match key.as_str() {
            "bernoulli" => Ok(Family::Bernoulli),
            "binomial" => Ok(Family::Binomial),
            "poisson" => Ok(Family::Poisson),
            "gamma" => Ok(Family::Gamma),
            "inversegaussian" => Ok(Family::InverseGaussian),
            "gaussian" | "normal" => Ok(Family::Gaussian),
            "negativebinomial" | "nbinom2" | "negbin" | "nb2" => Ok(Family::NegativeBinomial),
            _ => Err(Error::argument(
                "family",
                format!(
                    "unknown family `{name}`; use bernoulli, binomial, poisson, gamma, \
                     inversegaussian, gaussian or negativebinomial"
                ),
            )),
        }
    }

    /// The family's name as printed in summaries.
    pub fn name(self) -> &'static str {
        match self {
            Family::Bernoulli => "Bernoulli",
            Family::Binomial => "Binomial",
            Family::Poisson => "Poisson",
            Family::Gamma => "Gamma",
            Family::InverseGaussian => "InverseGaussian",
            Family::Gaussian => "Gaussian",
            Family::NegativeBinomial => "NegativeBinomial",
        }
    }

    /// The canonical link: logit for Bernoulli and Binomial, log for Poisson;
    /// inverse for Gamma, 1/μ² for the inverse Gaussian, identity for
    /// Gaussian; log for the negative binomial (its usual link).
    pub fn canonical_link(self) -> Link {
        match self {
            Family::Bernoulli | Family::Binomial => Link::Logit,
            Family::Poisson | Family::NegativeBinomial => Link::Log,
            Family::Gamma => Link::Inverse,
            Family::InverseGaussian => Link::InverseSquare,
            Family::Gaussian => Link::Identity,
        }
    }

    /// Variance function V(μ): μ(1 − μ) for the binomial families, μ for
    /// Poisson, μ² for Gamma, μ³ for the inverse Gaussian, 1 for Gaussian and
    /// μ + μ² for NB2 (each at dispersion 1; see
    /// [`variance_phi`](Self::variance_phi)).
    #[inline]
    pub fn variance(self, mu: f64) -> f64 {
        match self {
            Family::Bernoulli | Family::Binomial => (mu * (1.0 - mu)).max(EPS),
            Family::Poisson => mu.max(EPS),
            Family::Gamma => mu * mu,
            Family::InverseGaussian => mu * mu * mu,
            Family::Gaussian => 1.0,
            Family::NegativeBinomial => mu + mu * mu,
        }
    }

    /// Unit deviance d(y, μ) for one observation with prior weight `wt`:
    /// 2wt[y log(y/μ) + (1−y) log((1−y)/(1−μ))] for the binomial families
    /// (y a proportion), 2wt[y log(y/μ) − (y − μ)] for Poisson (0 log 0 = 0).
    #[inline]
    pub fn unit_deviance(self, y: f64, mu: f64, wt: f64) -> f64 {
        match self {
            // y is 0 or 1: one logarithm, no ratios.
            Family::Bernoulli => {
                let mu = mu.clamp(EPS, 1.0 - EPS);
                // Branch-free: y·μ + (1 − y)(1 − μ) is exactly μ or 1 − μ.
                -2.0 * wt * ln_positive(y * mu + (1.0 - y) * (1.0 - mu))
            }
            Family::Binomial => {
                let mu = mu.clamp(EPS, 1.0 - EPS);
                2.0 * wt * (xlogy_ratio(y, mu) + xlogy_ratio(1.0 - y, 1.0 - mu))
            }
            Family::Poisson => {
                let mu = mu.max(f64::MIN_POSITIVE);
                2.0 * wt * (xlogy_ratio(y, mu) - (y - mu))
            }
            Family::Gamma => 2.0 * wt * (-(y / mu).ln() + (y - mu) / mu),
            Family::InverseGaussian => wt * (y - mu) * (y - mu) / (y * mu * mu),
            Family::Gaussian => wt * (y - mu) * (y - mu),
            // At k = 1 (the dispersion-free unit deviance is NB2's with φ = 1).
            Family::NegativeBinomial => self.unit_deviance_phi(y, mu, wt, 1.0),
        }
    }

    /// Unit deviance at dispersion φ: for NB2 (size k = 1/φ)
    /// 2wt[y log(y/μ) − (y + k) log((y + k)/(μ + k))]; for the other
    /// families [`unit_deviance`](Self::unit_deviance), which does not
    /// depend on φ (R's `deviance()` of a Gamma, inverse Gaussian or
    /// Gaussian GLM is not scaled by φ).
    pub fn unit_deviance_phi(self, y: f64, mu: f64, wt: f64, phi: f64) -> f64 {
        match self {
            Family::NegativeBinomial => {
                let k = 1.0 / phi;
                2.0 * wt * (xlogy_ratio(y, mu) - (y + k) * ((y + k) / (mu + k)).ln())
            }
            _ => self.unit_deviance(y, mu, wt),
        }
    }

    /// −2 log-likelihood of one observation under the saturated model μ = y
    /// (the constant that turns Σ unit deviances into −2 log p(y | μ), as R's
    /// `family$aic`): 0 for Bernoulli; −2[log C(n, ny) + ny log y + n(1−y) log(1−y)]
    /// for Binomial with n = `wt` trials; −2wt[y log y − y − log y!] for Poisson.
    pub fn saturated_m2loglik(self, y: f64, wt: f64) -> f64 {
        match self {
            Family::Bernoulli => 0.0,
            Family::Binomial => {
                let n = wt;
                let k = (n * y).round();
                let lchoose = ln_gamma(n + 1.0) - ln_gamma(k + 1.0) - ln_gamma(n - k + 1.0);
                -2.0 * (lchoose + n * (xlogx(y) + xlogx(1.0 - y)))
            }
            Family::Poisson => -2.0 * wt * (xlogx(y) - y - ln_gamma(y + 1.0)),
            // The full log density is in the model's per-observation terms.
            Family::Gamma
            | Family::InverseGaussian
            | Family::Gaussian
            | Family::NegativeBinomial => 0.0,
        }
    }

    /// Starting mean for observation y with prior weight `wt` (R's `mustart`):
    /// (wt·y + ½)/(wt + 1) for the binomial families, y + 0.1 for Poisson
    /// and NB2, y for Gamma and the inverse Gaussian (positive), y for
    /// Gaussian (callers with a link restricted to μ > 0 replace
    /// non-positive starts).
    pub fn mustart(self, y: f64, wt: f64) -> f64 {
        match self {
            Family::Bernoulli | Family::Binomial => (wt * y + 0.5) / (wt + 1.0),
            Family::Poisson | Family::NegativeBinomial => y + 0.1,
            Family::Gamma | Family::InverseGaussian | Family::Gaussian => y,
        }
    }
}

impl Link {
    /// Parse a link name (`logit`, `probit`, `cloglog`, `log`, `identity`,
    /// `inverse`, `sqrt`; case-insensitive, a trailing `link` is ignored).
    pub fn from_name(name: &str) -> Result<Link> {
        let lower = name.to_ascii_lowercase();
        let key = lower.trim_end_matches("link");
        match key {
            "logit" => Ok(Link::Logit),
            "probit" => Ok(Link::Probit),
            "cloglog" => Ok(Link::Cloglog),
            "log" => Ok(Link::Log),
            "identity" => Ok(Link::Identity),
            "inverse" => Ok(Link::Inverse),
            "sqrt" => Ok(Link::Sqrt),
            "1/mu^2" | "inversesquare" | "inverse_square" => Ok(Link::InverseSquare),
            _ => Err(Error::argument(
                "link",
                format!(
                "unknown link `{name}`; use logit, probit, cloglog, log, identity, inverse, sqrt \
                 or 1/mu^2"
            ),
            )),
        }
    }

    /// The link's name as printed in summaries (`LogitLink`, …).
    pub fn name(self) -> &'static str {
        match self {
            Link::Logit => "LogitLink",
            Link::Probit => "ProbitLink",
            Link::Cloglog => "CloglogLink",
            Link::Log => "LogLink",
            Link::Identity => "IdentityLink",
            Link::Inverse => "InverseLink",
            Link::Sqrt => "SqrtLink",
            Link::InverseSquare => "InverseSquareLink",
        }
    }

    /// η = g(μ).
    pub fn linkfun(self, mu: f64) -> f64 {
        match self {
            Link::Logit => (mu / (1.0 - mu)).ln(),
            Link::Probit => normal_quantile(mu),
            Link::Cloglog => (-(-mu).ln_1p()).ln(),
            Link::Log => mu.ln(),
            Link::Identity => mu,
            Link::Inverse => 1.0 / mu,
            Link::Sqrt => mu.sqrt(),
            Link::InverseSquare => 1.0 / (mu * mu),
        }
    }

    /// μ = g⁻¹(η). The probability links keep μ within [ε, 1 − ε] and the log
    /// link keeps μ ≥ ε, as R's families do, so that deviances stay finite.
    #[inline]
    pub fn linkinv(self, eta: f64) -> f64 {
        match self {
            Link::Logit => {
                // exp of a non-positive argument only; both candidates are
                // computed so that the choice compiles to a select, not a
                // branch that the sign of η would mispredict.
                let e = exp_finite(-eta.abs());
                let inv = 1.0 / (1.0 + e);
                let (pos, neg) = (inv, e * inv);
                let p = if eta >= 0.0 { pos } else { neg };
                p.clamp(EPS, 1.0 - EPS)
            }
            Link::Probit => normal_cdf(eta).clamp(EPS, 1.0 - EPS),
            Link::Cloglog => (-(-eta.exp()).exp_m1()).clamp(EPS, 1.0 - EPS),
            Link::Log => eta.exp().max(EPS),
            Link::Identity => eta,
            Link::Inverse => 1.0 / eta,
            Link::Sqrt => eta * eta,
            Link::InverseSquare => 1.0 / eta.sqrt(),
        }
    }

    /// Is η inside the link's domain? The square-root link is the positive
    /// root (R's `poisson(link = "sqrt")` refuses η ≤ 0): without this, μ = η²
    /// gives every negative η the mean of −η, and PIRLS can settle in a
    /// spurious mode with negative linear predictors.
    #[inline]
    pub fn valid_eta(self, eta: f64) -> bool {
        match self {
            Link::Sqrt | Link::InverseSquare => eta > 0.0,
            _ => true,
        }
    }

    /// Does [`valid_eta`](Self::valid_eta) exclude any η? (Lets callers skip
    /// the check for links defined everywhere.)
    #[inline]
    pub fn restricts_eta(self) -> bool {
        matches!(self, Link::Sqrt | Link::InverseSquare)
    }

    /// dμ/dη at η (bounded away from zero for the probability and log links).
    #[inline]
    pub fn mu_eta(self, eta: f64) -> f64 {
        match self {
            Link::Logit => {
                let e = exp_finite(-eta.abs());
                (e / ((1.0 + e) * (1.0 + e))).max(EPS)
            }
            Link::Probit => ((-0.5 * eta * eta).exp() / (2.0 * PI).sqrt()).max(EPS),
            Link::Cloglog => {
                let ee = eta.min(700.0).exp();
                (ee * (-ee).exp()).max(EPS)
            }
            Link::Log => eta.exp().max(EPS),
            Link::Identity => 1.0,
            Link::Inverse => -1.0 / (eta * eta),
            Link::Sqrt => 2.0 * eta,
            Link::InverseSquare => -0.5 * eta.powf(-1.5),
        }
    }
}

/// x log(x / m) with 0 log 0 = 0.
#[inline]
fn xlogy_ratio(x: f64, m: f64) -> f64 {
    if x <= 0.0 {
        0.0
    } else {
        x * (x / m).ln()
    }
}

/// x log x with 0 log 0 = 0.
fn xlogx(x: f64) -> f64 {
    if x <= 0.0 {
        0.0
    } else {
        x * x.ln()
    }
}

/// Standard normal distribution function Φ(x) = erfc(−x/√2)/2.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / SQRT_2)
}

/// Standard normal quantile Φ⁻¹(p): Acklam's rational approximation
/// (relative error < 1.2e-9) refined by one Halley step on Φ(x) − p.
pub fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let x = if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (-p).ln_1p()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    // Halley: e = Φ(x) − p, u = e √(2π) e^{x²/2}, x ← x − u / (1 + x u / 2).
    let e = normal_cdf(x) - p;
    let u = e * (2.0 * PI).sqrt() * (0.5 * x * x).exp();
    x - u / (1.0 + 0.5 * x * u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_invert_and_differentiate() {
        let links = [
            Link::Logit,
            Link::Probit,
            Link::Cloglog,
            Link::Log,
            Link::Identity,
            Link::Inverse,
            Link::Sqrt,
            Link::InverseSquare,
        ];
        for link in links {
            for &mu in &[0.05, 0.3, 0.5, 0.77, 0.95] {
                let eta = link.linkfun(mu);
                assert!((link.linkinv(eta) - mu).abs() < 1e-12, "{link:?} at {mu}");
                let h = 1e-6;
                let num = (link.linkinv(eta + h) - link.linkinv(eta - h)) / (2.0 * h);
                assert!(
                    (num - link.mu_eta(eta)).abs() < 1e-7 * num.abs().max(1.0),
                    "{link:?} derivative at {mu}"
                );
            }
        }
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-13);
        assert!((normal_quantile(1e-10) + 6.361_340_902_404_056).abs() < 1e-10);
    }

    #[test]
    fn deviance_plus_saturated_is_minus_two_loglik() {
        // Binomial: y = 3/7, μ = 0.35; Poisson: y = 4, μ = 2.5.
        let (y, n, mu): (f64, f64, f64) = (3.0 / 7.0, 7.0, 0.35);
        let m2ll = -2.0
            * (ln_gamma(8.0) - ln_gamma(4.0) - ln_gamma(5.0)
                + 3.0 * mu.ln()
                + 4.0 * (1.0f64 - mu).ln());
        let got =
            Family::Binomial.unit_deviance(y, mu, n) + Family::Binomial.saturated_m2loglik(y, n);
        assert!((got - m2ll).abs() < 1e-12);
        let m2ll = -2.0 * (4.0 * 2.5f64.ln() - 2.5 - ln_gamma(5.0));
        let got = Family::Poisson.unit_deviance(4.0, 2.5, 1.0)
            + Family::Poisson.saturated_m2loglik(4.0, 1.0);
        assert!((got - m2ll).abs() < 1e-12);
        assert_eq!(Family::from_name("Gamma").unwrap(), Family::Gamma);
        assert!(Family::from_name("gama").is_err());
    }
}
