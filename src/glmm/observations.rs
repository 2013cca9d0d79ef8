//! The per-observation loops of PIRLS and of adaptive quadrature: μ = g⁻¹(η)
//! and the unit deviances. Family and link are matched once, outside the
//! loops; the common canonical pairs have branch-free bodies (with the exp
//! and log of [`crate::family::fastmath`]) that the compiler vectorises, compiled
//! twice and chosen at run time (AVX2 + FMA, or the x86-64 baseline).

use super::{Family, Link};
use crate::family::fastmath::{exp_finite, ln_positive};

/// μ = g⁻¹(η) and the unit deviances of a run of observations. The family
/// and link are matched once, outside the loops, so that each loop is
/// straight-line arithmetic the compiler can vectorise (the sums are taken
/// afterwards).
pub(crate) fn mu_and_deviances(
    family: Family,
    link: Link,
    eta: &[f64],
    y: &[f64],
    wt: &[f64],
    mu: &mut [f64],
    dev: &mut [f64],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has the features the function is compiled for.
        unsafe { mu_and_deviances_avx2(family, link, eta, y, wt, mu, dev) };
        return;
    }
    mu_and_deviances_portable(family, link, eta, y, wt, mu, dev);
}

/// μ = g⁻¹(η) and −2 wt log p(y | μ, φ) (the full conditional log density,
/// [`Family::m2loglik`]) of a run of observations, for the families with a
/// dispersion parameter φ (the first argument: the family, link and φ).
pub(crate) fn mu_and_m2loglik(
    (family, link, phi): (Family, Link, f64),
    eta: &[f64],
    y: &[f64],
    wt: &[f64],
    mu: &mut [f64],
    dev: &mut [f64],
) {
    for i in 0..eta.len() {
        let m = link.linkinv(eta[i]);
        mu[i] = m;
        dev[i] = family.m2loglik(y[i], m, wt[i], phi);
    }
}

/// [`mu_and_deviances`] compiled for AVX2 and FMA (four lanes instead of two).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn mu_and_deviances_avx2(
    family: Family,
    link: Link,
    eta: &[f64],
    y: &[f64],
    wt: &[f64],
    mu: &mut [f64],
    dev: &mut [f64],
) {
    mu_and_deviances_portable(family, link, eta, y, wt, mu, dev);
}

/// The loops of [`mu_and_deviances`], inlined into each target-specific copy.
#[inline(always)]
fn mu_and_deviances_portable(
    family: Family,
    link: Link,
    eta: &[f64],
    y: &[f64],
    wt: &[f64],
    mu: &mut [f64],
    dev: &mut [f64],
) {
    match (family, link) {
        (Family::Bernoulli, Link::Logit) => {
            for i in 0..eta.len() {
                let m = Link::Logit.linkinv(eta[i]);
                mu[i] = m;
                dev[i] = Family::Bernoulli.unit_deviance(y[i], m, wt[i]);
            }
        }
        (Family::Binomial, Link::Logit) => {
            for i in 0..eta.len() {
                let m = Link::Logit.linkinv(eta[i]);
                mu[i] = m;
                dev[i] = binomial_deviance(y[i], m, wt[i]);
            }
        }
        (Family::Poisson, Link::Log) => {
            for i in 0..eta.len() {
                let m = exp_finite(eta[i]).max(f64::EPSILON);
                mu[i] = m;
                dev[i] = poisson_deviance(y[i], m, wt[i]);
            }
        }
        _ => {
            for i in 0..eta.len() {
                let m = link.linkinv(eta[i]);
                mu[i] = m;
                dev[i] = family.unit_deviance(y[i], m, wt[i]);
            }
        }
    }
}

/// [`Family::unit_deviance`] of the Binomial family without branches: 0 log 0
/// is taken as 0 by replacing the ratio with 1 where its weight is 0.
#[inline(always)]
fn binomial_deviance(y: f64, mu: f64, wt: f64) -> f64 {
    let mu = mu.clamp(f64::EPSILON, 1.0 - f64::EPSILON);
    let a = if y > 0.0 { y / mu } else { 1.0 };
    let b = if y < 1.0 { (1.0 - y) / (1.0 - mu) } else { 1.0 };
    2.0 * wt * (y * ln_positive(a) + (1.0 - y) * ln_positive(b))
}

/// [`Family::unit_deviance`] of the Poisson family without branches (μ ≥
/// ε); an infinite μ gives an infinite deviance.
#[inline(always)]
fn poisson_deviance(y: f64, mu: f64, wt: f64) -> f64 {
    let a = if y > 0.0 && mu < f64::INFINITY {
        y / mu
    } else {
        1.0
    };
    let d = 2.0 * wt * (y * ln_positive(a) - (y - mu));
    if mu < f64::INFINITY {
        d
    } else {
        f64::INFINITY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The specialised loops give what the family and link give one by one.
    #[test]
    fn specialised_loops_match_the_family_functions() {
        let n = 4001;
        let eta: Vec<f64> = (0..n)
            .map(|i| -40.0 + 80.0 * i as f64 / (n - 1) as f64)
            .collect();
        // (family, link, observation i ↦ (y, prior weight))
        type Case = (Family, Link, fn(usize) -> (f64, f64));
        let cases: [Case; 3] = [
            (Family::Bernoulli, Link::Logit, |i| ((i % 2) as f64, 1.0)),
            (Family::Binomial, Link::Logit, |i| {
                ((i % 5) as f64 / 4.0, 4.0)
            }),
            (Family::Poisson, Link::Log, |i| ((i % 7) as f64, 1.0)),
        ];
        for (family, link, data) in cases {
            let (y, wt): (Vec<f64>, Vec<f64>) = (0..n).map(data).unzip();
            let (mut mu, mut dev) = (vec![0.0; n], vec![0.0; n]);
            mu_and_deviances(family, link, &eta, &y, &wt, &mut mu, &mut dev);
            for i in 0..n {
                let m = link.linkinv(eta[i]);
                let d = family.unit_deviance(y[i], m, wt[i]);
                assert!(
                    (mu[i] - m).abs() <= 4e-16 * m.abs(),
                    "{family:?} μ at η = {}: {} vs {m}",
                    eta[i],
                    mu[i]
                );
                // Relative to the size of the terms that cancel in d.
                let scale = d.abs() + wt[i] * (y[i] + m);
                assert!(
                    (dev[i] - d).abs() <= 1e-14 * scale,
                    "{family:?} deviance at η = {}, y = {}: {} vs {d}",
                    eta[i],
                    y[i],
                    dev[i]
                );
            }
        }
    }
}
