//! `model::simulate`: the moments of 10,000 simulated responses against the
//! model's, reproducibility per (seed, replicate), and refused arguments.
//!
//! Tolerances: a per-observation mean within 4 standard errors of the mean
//! (the SE from the model's marginal variance over the number of draws); a
//! Gaussian per-observation variance within 4.5 standard errors of the
//! sample variance (relative SE √(2 / (N − 1)) ≈ 1.4% for N = 10,000).
//! The seeds are fixed, so each test either always passes or always fails.

mod common;

use common::*;
use mixedmodels::data::Column;
use mixedmodels::glmm::gauss_hermite_normal;
use mixedmodels::model::{simulate, SimulateOptions};
use mixedmodels::{
    Error, Family, GeneralizedLinearMixedModel, GlmmOptions, LinearMixedModel, LmmOptions,
    MixedModel,
};

const N: usize = 10_000;

fn draws(m: &(impl mixedmodels::model::Simulate + Sync), seed: u64, n: usize) -> Vec<f64> {
    let options = SimulateOptions {
        n,
        ..SimulateOptions::default()
    };
    simulate(m, seed, &options).unwrap()
}

/// Per observation: mean and (n − 1) variance over the replicates of a
/// column-major nobs × n buffer.
fn moments(y: &[f64], nobs: usize) -> (Vec<f64>, Vec<f64>) {
    let n = y.len() / nobs;
    let mean: Vec<f64> = (0..nobs)
        .map(|i| (0..n).map(|j| y[j * nobs + i]).sum::<f64>() / n as f64)
        .collect();
    let var = (0..nobs)
        .map(|i| {
            (0..n)
                .map(|j| (y[j * nobs + i] - mean[i]).powi(2))
                .sum::<f64>()
                / (n - 1) as f64
        })
        .collect();
    (mean, var)
}

/// Sleepstudy with an offset and case weights, fitted by ML.
fn lmm() -> LinearMixedModel {
    let mut d = dataset("sleepstudy");
    let n = d.nrows();
    let o: Vec<f64> = (0..n).map(|i| 10.0 * ((i % 5) as f64 - 2.0)).collect();
    d.add_column("o", Column::numeric(o)).unwrap();
    let options = LmmOptions {
        weights: Some((0..n).map(|i| 1.0 + (i % 3) as f64).collect()),
        ..LmmOptions::default()
    };
    let mut m = LinearMixedModel::new(
        "Reaction ~ 1 + Days + (1 + Days | Subject) + offset(o)",
        &d,
        &options,
    )
    .unwrap();
    m.fit(false).unwrap();
    m
}

#[test]
fn lmm_moments_match_the_marginal_distribution() {
    let m = lmm();
    let nobs = m.nobs();
    let (mean, var) = moments(&draws(&m, 2024, N), nobs);
    let mut mu = m.offset().unwrap().to_vec();
    m.terms().add_x_beta(&m.beta(), &mut mu);
    let w = m.weights().unwrap();
    let s2 = m.scale().powi(2);
    let lam = &m.lambdas()[0];
    let term = &m.terms().random[0];
    let rel_se = (2.0 / (N - 1) as f64).sqrt();
    for i in 0..nobs {
        // Var yᵢ = σ² (|λᵀ zᵢ|² + 1/wᵢ) with λ lower triangular 2 × 2.
        let (z0, z1) = (term.z[2 * i], term.z[2 * i + 1]);
        let a = lam[0] * z0 + lam[1] * z1;
        let b = lam[3] * z1;
        let v = s2 * (a * a + b * b + 1.0 / w[i]);
        let se = (v / N as f64).sqrt();
        assert!(
            (mean[i] - mu[i]).abs() < 4.0 * se,
            "row {i}: mean {} vs {} (se {se})",
            mean[i],
            mu[i]
        );
        assert!(
            (var[i] / v - 1.0).abs() < 4.5 * rel_se,
            "row {i}: variance {} vs {v}",
            var[i]
        );
    }
}

#[test]
fn lmm_parameters_given_replace_the_fitted_ones() {
    let m = lmm();
    let nobs = m.nobs();
    // θ = 0: no random effects; σ = 2 and β = (100, 0): y ~ N(o + 100, 4 / w).
    let options = SimulateOptions {
        n: N,
        theta: Some(vec![0.0, 0.0, 0.0]),
        beta: Some(vec![100.0, 0.0]),
        sigma: Some(2.0),
    };
    let (mean, var) = moments(&simulate(&m, 7, &options).unwrap(), nobs);
    let (o, w) = (m.offset().unwrap(), m.weights().unwrap());
    for i in 0..nobs {
        let v = 4.0 / w[i];
        assert!((mean[i] - o[i] - 100.0).abs() < 4.0 * (v / N as f64).sqrt());
        assert!((var[i] / v - 1.0).abs() < 4.5 * (2.0 / (N - 1) as f64).sqrt());
    }
}

#[test]
fn replicates_depend_on_seed_and_index_only() {
    let m = lmm();
    let nobs = m.nobs();
    let five = draws(&m, 11, 5);
    assert_eq!(five, draws(&m, 11, 5));
    assert_eq!(&five[..3 * nobs], &draws(&m, 11, 3)[..]);
    assert_eq!(&five[..nobs], &draws(&m, 11, 1)[..]);
    let other = draws(&m, 12, 5);
    assert!(five.iter().zip(&other).all(|(a, b)| a != b));
    // Replicates differ from each other.
    assert_ne!(&five[..nobs], &five[nobs..2 * nobs]);
}

#[test]
fn replicates_do_not_depend_on_the_thread_count() {
    let m = lmm();
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| draws(&m, 21, 8))
    };
    assert_eq!(on(1), on(2));
}

/// ∫ g⁻¹(η + λ z) φ(z) dz by 20-point Gauss–Hermite quadrature.
fn marginal_mean(eta: f64, lam: f64, linkinv: impl Fn(f64) -> f64) -> f64 {
    let (z, w) = gauss_hermite_normal(20);
    z.iter()
        .zip(&w)
        .map(|(z, w)| w * linkinv(eta + lam * z))
        .sum()
}

#[test]
fn bernoulli_mean_matches_the_marginal_probability() {
    let m = GeneralizedLinearMixedModel::new(
        "use ~ 1 + age + urban + (1 | district)",
        &dataset("contraception"),
        Family::Bernoulli,
        None,
        &GlmmOptions::default(),
    )
    .unwrap();
    let (theta, beta) = (0.6, vec![-0.4, -0.02, 0.7]);
    let options = SimulateOptions {
        n: N,
        theta: Some(vec![theta]),
        beta: Some(beta.clone()),
        sigma: None,
    };
    let y = simulate(&m, 5, &options).unwrap();
    assert!(y.iter().all(|&v| v == 0.0 || v == 1.0));
    let nobs = m.nobs();
    let (mean, _) = moments(&y, nobs);
    let mut eta = vec![0.0; nobs];
    m.terms().add_x_beta(&beta, &mut eta);
    let logistic = |x: f64| 1.0 / (1.0 + (-x).exp());
    for i in 0..nobs {
        let p = marginal_mean(eta[i], theta, logistic);
        let se = (p * (1.0 - p) / N as f64).sqrt();
        assert!(
            (mean[i] - p).abs() < 4.0 * se,
            "row {i}: {} vs {p}",
            mean[i]
        );
    }
}

#[test]
fn poisson_moments_match_the_lognormal_mixture() {
    let d = dataset("grouseticks");
    let options = GlmmOptions {
        offset: Some((0..d.nrows()).map(|i| 0.1 * (i % 4) as f64).collect()),
        ..GlmmOptions::default()
    };
    let m = GeneralizedLinearMixedModel::new(
        "TICKS ~ 1 + YEAR + cHEIGHT + (1 | BROOD)",
        &d,
        Family::Poisson,
        None,
        &options,
    )
    .unwrap();
    let (theta, beta) = (0.8, vec![0.4, 1.2, -1.0, -0.02]);
    let options = SimulateOptions {
        n: N,
        theta: Some(vec![theta]),
        beta: Some(beta.clone()),
        sigma: None,
    };
    let y = simulate(&m, 9, &options).unwrap();
    assert!(y.iter().all(|&v| v >= 0.0 && v.fract() == 0.0));
    let nobs = m.nobs();
    let (mean, var) = moments(&y, nobs);
    let mut eta = m.offset().unwrap().to_vec();
    m.terms().add_x_beta(&beta, &mut eta);
    let t2 = theta * theta;
    for i in 0..nobs {
        // E y = exp(η + θ²/2); Var y = E y + (E y)² (exp θ² − 1).
        let mu = (eta[i] + t2 / 2.0).exp();
        let v = mu + mu * mu * (t2.exp() - 1.0);
        let se = (v / N as f64).sqrt();
        assert!(
            (mean[i] - mu).abs() < 4.0 * se,
            "row {i}: {} vs {mu}",
            mean[i]
        );
        // The sample variance of this heavy-tailed mixture (kurtosis ≈ 34 at
        // θ = 0.8) has a relative SE up to ≈ 0.06: 0.25 is about 4 SE.
        assert!(
            (var[i] / v - 1.0).abs() < 0.25,
            "row {i}: var {} vs {v}",
            var[i]
        );
    }
}

#[test]
fn binomial_draws_proportions_of_the_trials() {
    let mut m = GeneralizedLinearMixedModel::new(
        "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        &dataset("cbpp"),
        Family::Binomial,
        None,
        &GlmmOptions::default(),
    )
    .unwrap();
    m.fit(false, 1).unwrap();
    let nobs = m.nobs();
    let y = draws(&m, 3, N);
    let trials = m.prior_weights().to_vec();
    for (k, v) in y.iter().enumerate() {
        let s = v * trials[k % nobs];
        assert!((s - s.round()).abs() < 1e-9 && (0.0..=1.0).contains(v));
    }
    let (mean, _) = moments(&y, nobs);
    let theta = m.theta()[0];
    let mut eta = vec![0.0; nobs];
    m.terms().add_x_beta(&m.beta(), &mut eta);
    let logistic = |x: f64| 1.0 / (1.0 + (-x).exp());
    for i in 0..nobs {
        // Var of a proportion ≤ E p(1 − p)/n + Var p ≤ p̄(1 − p̄): a conservative SE.
        let p = marginal_mean(eta[i], theta, logistic);
        let se = (p * (1.0 - p) / N as f64).sqrt();
        assert!(
            (mean[i] - p).abs() < 4.0 * se,
            "row {i}: {} vs {p}",
            mean[i]
        );
    }
}

fn parameter(e: Error) -> String {
    match e {
        Error::Argument { parameter, .. } => parameter,
        e => panic!("{e:?}"),
    }
}

#[test]
fn bad_arguments_name_the_parameter() {
    let m = lmm();
    let bad = |options: SimulateOptions| parameter(simulate(&m, 1, &options).unwrap_err());
    let one = || SimulateOptions {
        n: 1,
        ..SimulateOptions::default()
    };
    assert_eq!(bad(SimulateOptions::default()), "n");
    let theta = |t: Vec<f64>| SimulateOptions {
        theta: Some(t),
        ..one()
    };
    assert_eq!(bad(theta(vec![1.0, 0.0])), "theta");
    assert_eq!(bad(theta(vec![-1.0, 0.0, 1.0])), "theta");
    assert_eq!(bad(theta(vec![1.0, f64::NAN, 1.0])), "theta");
    let beta = SimulateOptions {
        beta: Some(vec![1.0]),
        ..one()
    };
    assert_eq!(bad(beta), "beta");
    for s in [0.0, -1.0, f64::INFINITY] {
        assert_eq!(
            bad(SimulateOptions {
                sigma: Some(s),
                ..one()
            }),
            "sigma"
        );
    }
    let g = GeneralizedLinearMixedModel::new(
        "TICKS ~ 1 + (1 | BROOD)",
        &dataset("grouseticks"),
        Family::Poisson,
        None,
        &GlmmOptions::default(),
    )
    .unwrap();
    let e = simulate(
        &g,
        1,
        &SimulateOptions {
            sigma: Some(1.0),
            ..one()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("sigma"), "{e}");
    assert_eq!(parameter(e), "sigma");
}
