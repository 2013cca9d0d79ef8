//! `inference::bootstrap`: the table does not depend on the number of
//! threads; replicate k is the refit to `simulate`'s column k for the same
//! seed (exactly: the same draws and the same fit); failed fits are kept as
//! rows; interruption stops the workers; bad arguments are refused.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use mixedmodels::inference::bootstrap::{
    parametric_bootstrap, BootstrapOptions, IntervalMethod, ParametricBootstrap, Refit,
};
use mixedmodels::interrupt::Interrupt;
use mixedmodels::model::{simulate, FitSettings, SimulateOptions};
use mixedmodels::{
    Error, Family, GeneralizedLinearMixedModel, GlmmOptions, LinearMixedModel, LmmOptions,
    MixedModel,
};

fn sleepstudy() -> LinearMixedModel {
    let mut m = LinearMixedModel::new(
        "Reaction ~ 1 + Days + (1 + Days | Subject)",
        &dataset("sleepstudy"),
        &LmmOptions::default(),
    )
    .unwrap();
    m.fit(false).unwrap();
    m
}

fn cbpp() -> GeneralizedLinearMixedModel {
    let mut m = GeneralizedLinearMixedModel::new(
        "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        &dataset("cbpp"),
        Family::Binomial,
        None,
        &GlmmOptions::default(),
    )
    .unwrap();
    m.fit(false, 1).unwrap();
    m
}

fn run<M: Refit>(m: &M, n: usize, seed: u64, threads: usize) -> ParametricBootstrap {
    let options = BootstrapOptions {
        n,
        seed,
        threads: Some(threads),
        ..BootstrapOptions::default()
    };
    parametric_bootstrap(m, &options, &Interrupt::new(), &mut |_| {}).unwrap()
}

/// Replicate k against a fresh copy of `m` refitted to column k of `simulate`.
fn check_against_simulate<M: Refit>(m: &M, b: &ParametricBootstrap, seed: u64) {
    let nobs = m.nobs();
    let n = b.replicates.len();
    let options = SimulateOptions {
        n,
        ..SimulateOptions::default()
    };
    let y = simulate(m, seed, &options).unwrap();
    let settings = FitSettings {
        threads: Some(1),
        ..m.fit_record().unwrap().settings.clone()
    };
    for (k, r) in b.replicates.iter().enumerate() {
        let mut copy = m.clone();
        copy.use_interrupt(Interrupt::new());
        copy.set_response(&y[k * nobs..(k + 1) * nobs]).unwrap();
        copy.refit(&settings, m.theta()).unwrap();
        assert_eq!(r.theta, copy.theta(), "replicate {k}");
        assert_eq!(r.beta, copy.beta(), "replicate {k}");
        assert_eq!(r.objective, copy.objective(), "replicate {k}");
        assert_eq!(r.sigma, copy.residual_sd(), "replicate {k}");
    }
}

#[test]
fn lmm_table_is_the_same_on_one_and_two_threads_and_matches_simulate() {
    let m = sleepstudy();
    let one = run(&m, 24, 7, 1);
    let two = run(&m, 24, 7, 2);
    assert_eq!(one, two);
    assert!(one.replicates.iter().all(|r| r.converged));
    check_against_simulate(&m, &one, 7);
    // Another seed, other draws.
    assert_ne!(run(&m, 3, 8, 2).replicates[0], one.replicates[0]);
    // The variance components agree with θ and σ: sd of the intercept = σ θ₁.
    let r = &one.replicates[5];
    let sigma = r.sigma.unwrap();
    assert!((r.components[0] - sigma * r.theta[0]).abs() < 1e-10 * r.components[0]);
    assert_eq!(
        one.component_names,
        [
            "sd_(Intercept)|Subject",
            "cor_Days.(Intercept)|Subject",
            "sd_Days|Subject"
        ]
    );
}

#[test]
fn glmm_table_is_the_same_on_one_and_two_threads_and_matches_simulate() {
    let m = cbpp();
    let one = run(&m, 8, 11, 1);
    let two = run(&m, 8, 11, 2);
    assert_eq!(one, two);
    assert!(one.generating.sigma.is_none() && one.replicates[0].sigma.is_none());
    check_against_simulate(&m, &one, 11);
    // The generating values are the fit's.
    assert_eq!(one.generating.beta, m.beta());
    assert_eq!(one.generating.theta, m.theta());
}

#[test]
fn confint_lists_components_sigma_then_fixed_effects() {
    let m = sleepstudy();
    let b = run(&m, 40, 3, 2);
    let ci = b.confint(0.9, IntervalMethod::Percentile).unwrap();
    let names: Vec<&str> = ci.iter().map(|r| r.parameter.as_str()).collect();
    assert_eq!(
        names,
        [
            "sd_(Intercept)|Subject",
            "cor_Days.(Intercept)|Subject",
            "sd_Days|Subject",
            "sigma",
            "(Intercept)",
            "Days"
        ]
    );
    for row in &ci {
        assert!(row.lower <= row.upper, "{row:?}");
    }
    assert_eq!(ci[3].estimate, m.residual_sd().unwrap());
    assert_eq!(ci[5].estimate, m.beta()[1]);
    // Intervals of the replicates' own values.
    let days: Vec<f64> = b.replicates.iter().map(|r| r.beta[1]).collect();
    let (lo, hi) = (
        days.iter().copied().fold(f64::INFINITY, f64::min),
        days.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    assert!(ci[5].lower >= lo && ci[5].upper <= hi);
}

#[test]
fn failed_fits_are_rows_with_nan_and_a_warning() {
    // β₀ = 30 on the logit scale: every animal is a case, the response
    // separates and every refit fails.
    let m = cbpp();
    let options = BootstrapOptions {
        n: 3,
        seed: 1,
        beta: Some(vec![30.0, 0.0, 0.0, 0.0]),
        threads: Some(2),
        ..BootstrapOptions::default()
    };
    let b = parametric_bootstrap(&m, &options, &Interrupt::new(), &mut |_| {}).unwrap();
    assert_eq!(b.replicates.len(), 3);
    for r in &b.replicates {
        assert!(!r.converged);
        assert!(r.warning.is_some());
        assert!(r.objective.is_nan() && r.beta.iter().all(|v| v.is_nan()));
    }
    let ci = b.confint(0.95, IntervalMethod::Shortest).unwrap();
    assert!(ci.iter().all(|r| r.lower.is_nan() && r.upper.is_nan()));
}

#[test]
fn interruption_from_another_thread_stops_the_workers() {
    let m = sleepstudy();
    let interrupt = Interrupt::new();
    let trigger = interrupt.clone();
    let options = BootstrapOptions {
        n: 1_000_000,
        seed: 1,
        threads: Some(2),
        ..BootstrapOptions::default()
    };
    let calls = AtomicUsize::new(0);
    let start = Instant::now();
    let result = std::thread::scope(|s| {
        s.spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            trigger.trigger();
        });
        parametric_bootstrap(&m, &options, &interrupt, &mut |_| {
            calls.fetch_add(1, Ordering::Relaxed);
        })
    });
    assert_eq!(result.unwrap_err(), Error::Interrupted);
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(calls.load(Ordering::Relaxed) >= 1);
}

#[test]
fn progress_reaches_n_and_bad_arguments_are_refused() {
    let m = sleepstudy();
    let mut last = 0;
    let options = BootstrapOptions {
        n: 5,
        seed: 2,
        threads: Some(1),
        ..BootstrapOptions::default()
    };
    parametric_bootstrap(&m, &options, &Interrupt::new(), &mut |d| last = d).unwrap();
    assert_eq!(last, 5);
    let refused = |options: BootstrapOptions, parameter: &str| {
        let e = parametric_bootstrap(&m, &options, &Interrupt::new(), &mut |_| {}).unwrap_err();
        assert!(
            matches!(&e, Error::Argument { parameter: p, .. } if p == parameter),
            "{e:?}"
        );
    };
    refused(
        BootstrapOptions {
            n: 0,
            ..options.clone()
        },
        "n",
    );
    refused(
        BootstrapOptions {
            threads: Some(0),
            ..options.clone()
        },
        "threads",
    );
    refused(
        BootstrapOptions {
            theta: Some(vec![1.0]),
            ..options.clone()
        },
        "theta",
    );
    refused(
        BootstrapOptions {
            sigma: Some(-1.0),
            ..options.clone()
        },
        "sigma",
    );
    let g = cbpp();
    let e = parametric_bootstrap(
        &g,
        &BootstrapOptions {
            sigma: Some(1.0),
            ..options.clone()
        },
        &Interrupt::new(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(&e, Error::Argument { parameter, .. } if parameter == "sigma"));
    let unfitted = LinearMixedModel::new(
        "Reaction ~ 1 + Days + (1 + Days | Subject)",
        &dataset("sleepstudy"),
        &LmmOptions::default(),
    )
    .unwrap();
    let e = parametric_bootstrap(&unfitted, &options, &Interrupt::new(), &mut |_| {}).unwrap_err();
    assert!(matches!(e, Error::NotFitted { .. }));
}
