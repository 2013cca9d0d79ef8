//! Profile-likelihood and Wald confidence intervals against lme4 1.1-31
//! (tests/fixtures/profile_*.json, written by tests/fixtures/generate_profile.R:
//! `confint(profile(m, signames = FALSE), level)` and
//! `confint(m, method = "Wald", oldNames = FALSE)`).
//!
//! Tolerances and why:
//! * profile interval ends (refined on the exact profile) within 2e-6 relative of
//!   the exact roots of lme4's own profile (`exact_*`: uniroot on lme4's conditional
//!   fits run to tight tolerances; measured ≤ 2.3e-8 for the LMMs; 2e-4 for cbpp,
//!   whose lme4 objective is off the Laplace approximation at the mode, measured
//!   ≤ 1.4e-4), and within 5e-4 of lme4's `confint` at levels 0.90, 0.95 and 0.99
//!   (the acceptance is 1e-3; measured at most 1.9e-4 on cbpp, 1.8e-4 for
//!   sleepstudy's correlation at 0.99: the error of lme4's spline through points
//!   about 0.5 apart in ζ), except where lme4's spline is off its own
//!   exact root by more than 1e-3 (one end: machines, 0.99, the sd of Worker, 0.177
//!   against the root 0.255, where the profile is flat near 0); an end at a bound (a
//!   standard deviation whose profile stays above −z down to 0) exactly;
//! * the spline-only ends (no refinement) within 2e-3 (measured ≤ 8.9e-4);
//! * the ML deviance at the profile's optimum within 1e-9 relative of lme4's
//!   `refitML` deviance, its estimates within 1e-4 (lme4's `refitML` stops 2.6e-8
//!   above the optimum on sleepstudy, where the flat sd_(Intercept) is then 3.4e-5
//!   relative off ours);
//! * Wald intervals of an LMM at lme4's θ to 1e-8 relative (β̂, σ̂ and the standard
//!   errors are functions of θ); of the GLMM at lme4's (θ, β) to 1e-4 against
//!   β ± z·se from lme4's `vcov(use.hessian = FALSE)`, whose R_X lme4 takes from the
//!   PIRLS iterate before the last (3.4e-5 relative off the mode's on cbpp; see
//!   tests/fixtures/README.md). lme4's own GLMM Wald intervals use a
//!   finite-difference Hessian and are not comparable.

mod common;

use common::*;
use mixedmodels::inference::{
    confint_glmm, confint_lmm, profile_glmm, profile_lmm, wald_confint, ConfintRow, Profile,
    ProfileSettings,
};
use mixedmodels::{
    Error, Family, GeneralizedLinearMixedModel, GlmmOptions, LinearMixedModel, LmmOptions,
    MixedModel,
};
use serde_json::Value;

const LMM_CASES: [&str; 6] = [
    "sleepstudy_ML",
    "sleepstudy_REML",
    "cake_REML",
    "machines_ML",
    "penicillin_REML",
    "pastes_ML",
];

fn fixture(case: &str) -> Value {
    json(&format!("tests/fixtures/profile_{case}.json"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// The fixture's model, built but not fitted.
fn lmm(fx: &Value) -> LinearMixedModel {
    let d = dataset(fx["dataset"].as_str().unwrap());
    LinearMixedModel::new(fx["formula"].as_str().unwrap(), &d, &LmmOptions::default()).unwrap()
}

fn cbpp() -> (Value, GeneralizedLinearMixedModel) {
    let fx = fixture("cbpp_binomial");
    let d = dataset("cbpp");
    let m = GeneralizedLinearMixedModel::new(
        fx["formula"].as_str().unwrap(),
        &d,
        Family::Binomial,
        None,
        &GlmmOptions::default(),
    )
    .unwrap();
    (fx, m)
}

/// |a − b| / |b|, or |a| when b = 0.
fn rel(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        a.abs()
    } else {
        ((a - b) / b).abs()
    }
}

/// The largest relative difference of our ends from the fixture's `key`
/// (lower/upper by lme4's order, matched to ours by name); None ends must be
/// null in the fixture.
fn max_end_error(rows: &[ConfintRow], fx: &Value, key: &str, what: &str) -> f64 {
    let names = strings(&fx["names_ours"]);
    let lower = &fx[key]["lower"];
    let upper = &fx[key]["upper"];
    let mut worst: f64 = 0.0;
    for (k, name) in names.iter().enumerate() {
        let row = rows
            .iter()
            .find(|r| &r.parameter == name)
            .unwrap_or_else(|| panic!("{what}: no row {name}"));
        for (ours, theirs, side) in [
            (row.lower, &lower[k], "lower"),
            (row.upper, &upper[k], "upper"),
        ] {
            match (ours, theirs.as_f64()) {
                (Some(a), Some(b)) => worst = worst.max(rel(a, b)),
                (None, None) => {}
                (a, b) => panic!("{what} {name} {side}: ours {a:?}, lme4 {b:?}"),
            }
        }
    }
    worst
}

/// Relative differences of our ends from lme4's `confint` (its spline) and from
/// the exact roots of lme4's profile, end by end: (name, level, ours, lme4's
/// confint, lme4's exact root). A null exact root is an end at a bound: then
/// ours must equal lme4's (the bound).
type EndRecord = (String, &'static str, f64, f64, Option<f64>);

fn ends(rows: &[ConfintRow], fx: &Value, level: &'static str) -> Vec<EndRecord> {
    let names = strings(&fx["names_ours"]);
    let mut out = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let row = rows.iter().find(|r| &r.parameter == name).unwrap();
        for (ours, side) in [(row.lower, "lower"), (row.upper, "upper")] {
            let lme4 = fx[format!("profile_{level}")][side][k].as_f64().unwrap();
            let exact = fx[format!("exact_{level}")][side][k].as_f64();
            out.push((format!("{name} {side}"), level, ours.unwrap(), lme4, exact));
        }
    }
    out
}

/// Profile intervals (refined and spline-only) against the fixture; returns the
/// largest relative difference from lme4's confint and from its exact roots.
fn check_intervals(
    profile: &Profile,
    refined: &mut dyn FnMut(f64) -> Vec<ConfintRow>,
    fx: &Value,
    case: &str,
    exact_tol: f64,
) -> (f64, f64) {
    let (mut worst_lme4, mut worst_exact): (f64, f64) = (0.0, 0.0);
    for (level, key) in [(0.90, "90"), (0.95, "95"), (0.99, "99")] {
        for (what, level, ours, lme4, exact) in ends(&refined(level), fx, key) {
            let what = format!("{case} {level} {what}");
            let Some(exact) = exact else {
                assert_eq!(ours, lme4, "{what}: an end at the bound");
                continue;
            };
            let (e_exact, e_lme4) = (rel(ours, exact), rel(ours, lme4));
            assert!(
                e_exact <= exact_tol,
                "{what}: ours {ours}, lme4's exact root {exact}"
            );
            // lme4's spline is off its own exact root by more than the tolerance at
            // one end (machines, 99 %, sd of Worker: 0.177 against 0.255, where the
            // profile is flat near 0); there only the exact root is compared.
            if rel(lme4, exact) <= 1e-3 {
                assert!(e_lme4 <= 5e-4, "{what}: ours {ours}, lme4 {lme4}");
                worst_lme4 = worst_lme4.max(e_lme4);
            }
            worst_exact = worst_exact.max(e_exact);
        }
    }
    for (what, _, ours, lme4, _) in ends(&profile.confint(0.95).unwrap(), fx, "95") {
        assert!(
            rel(ours, lme4) <= 2e-3,
            "{case} spline {what}: ours {ours}, lme4 {lme4}"
        );
    }
    assert!(
        profile.warnings.is_empty(),
        "{case}: {:?}",
        profile.warnings
    );
    // every profile is increasing in ζ, with the estimate at ζ = 0
    for (i, curve) in profile.curves.iter().enumerate() {
        assert!(
            curve.windows(2).all(|w| w[1].zeta > w[0].zeta),
            "{case} {i}"
        );
        assert!(curve
            .iter()
            .any(|p| p.zeta == 0.0 && p.values[i] == profile.parameters[i].estimate));
    }
    println!("{case}: max relative difference from lme4's confint {worst_lme4:.1e}, from its exact roots {worst_exact:.1e}");
    (worst_lme4, worst_exact)
}

#[test]
fn lmm_profile_intervals_match_lme4() {
    for case in LMM_CASES {
        let fx = fixture(case);
        let mut m = lmm(&fx);
        m.fit(fx["REML"].as_bool().unwrap()).unwrap();
        let theta = m.theta().to_vec();
        let profile = profile_lmm(&mut m, &ProfileSettings::default()).unwrap();
        // The model is left as fitted.
        assert_eq!(m.theta(), &theta[..], "{case}");
        assert!(m.is_fitted());
        assert_eq!(profile.refitted_ml, fx["REML"].as_bool().unwrap());
        assert_eq!(
            profile
                .parameters
                .iter()
                .map(|p| p.name.clone())
                .collect::<Vec<_>>(),
            strings(&fx["names_ours"]),
            "{case}"
        );
        assert_rel(
            profile.deviance,
            fx["ml"]["deviance"].as_f64().unwrap(),
            1e-9,
            case,
        );
        for (p, e) in profile
            .parameters
            .iter()
            .zip(floats(&fx["ml"]["estimates"]))
        {
            assert_rel(p.estimate, e, 1e-4, &format!("{case} {}", p.name));
        }
        let mut refined = |level: f64| confint_lmm(&mut m, &profile, level).unwrap();
        check_intervals(&profile, &mut refined, &fx, case, 2e-6);
        assert_eq!(m.theta(), &theta[..], "{case}");
    }
}

#[test]
fn glmm_profile_intervals_match_lme4() {
    let (fx, mut m) = cbpp();
    m.fit(false, 1).unwrap();
    let (theta, beta) = (m.theta().to_vec(), m.beta());
    let profile = profile_glmm(&mut m, &ProfileSettings::default()).unwrap();
    assert_eq!(m.theta(), &theta[..]);
    assert_eq!(m.beta(), beta);
    assert_eq!(
        profile
            .parameters
            .iter()
            .map(|p| p.name.clone())
            .collect::<Vec<_>>(),
        strings(&fx["names_ours"])
    );
    let mut refined = |level: f64| confint_glmm(&mut m, &profile, level).unwrap();
    // lme4's Laplace objective is not at the exact PIRLS mode (3e-6 relative, 5.6e-4
    // absolute, at the optimum; see tests/fixtures/README.md), and the error varies
    // with (θ, β): its exact roots are those of a perturbed profile.
    check_intervals(&profile, &mut refined, &fx, "cbpp", 2e-4);
}

/// The closed form of a coefficient's conditional fit (r² + (b − β̂_j)²/V_jj
/// minimised over θ) equals an ML refit of the model without column j and with
/// b·x_j in the offset, as lme4 and MixedModels.jl compute it.
#[test]
fn coefficient_profile_equals_refit_with_offset() {
    let fx = fixture("sleepstudy_ML");
    let mut m = lmm(&fx);
    m.fit(false).unwrap();
    let profile = profile_lmm(&mut m, &ProfileSettings::default()).unwrap();
    let d = dataset("sleepstudy");
    let days: Vec<f64> = match d.column("Days").unwrap() {
        mixedmodels::data::Column::Numeric { values, .. } => values.clone(),
        _ => unreachable!(),
    };
    let names: Vec<&str> = profile.parameters.iter().map(|p| p.name.as_str()).collect();
    for (coef, reduced) in [
        ("Days", "Reaction ~ 1 + (1 + Days | Subject)"),
        ("(Intercept)", "Reaction ~ 0 + Days + (1 + Days | Subject)"),
    ] {
        let i = names.iter().position(|n| *n == coef).unwrap();
        let other = names
            .iter()
            .position(|n| {
                *n == if coef == "Days" {
                    "(Intercept)"
                } else {
                    "Days"
                }
            })
            .unwrap();
        let sigma = names.iter().position(|n| *n == "sigma").unwrap();
        for point in profile.curves[i]
            .iter()
            .filter(|p| p.zeta != 0.0 && p.zeta.abs() < 3.0)
        {
            let b = point.values[i];
            let offset = days
                .iter()
                .map(|x| if coef == "Days" { b * x } else { b })
                .collect();
            let options = LmmOptions {
                offset: Some(offset),
                ..LmmOptions::default()
            };
            let mut r = LinearMixedModel::new(reduced, &d, &options).unwrap();
            r.fit(false).unwrap();
            let what = format!("{coef} = {b}");
            assert_rel(point.deviance, r.objective(), 1e-9, &what);
            assert_rel(point.values[other], r.beta()[0], 1e-6, &what);
            assert_rel(point.values[sigma], r.sigma(), 1e-6, &what);
        }
    }
}

#[test]
fn lmm_wald_intervals_match_lme4() {
    for case in LMM_CASES {
        let fx = fixture(case);
        let mut m = lmm(&fx);
        m.set_reml(fx["REML"].as_bool().unwrap()).unwrap();
        m.objective_at(&floats(&fx["theta"])).unwrap();
        assert_eq!(
            m.layout().component_names(),
            &strings(&fx["names_ours"])[..m.layout().len()]
        );
        for (level, key) in [(0.95, "wald_95"), (0.90, "wald_90")] {
            let rows = wald_confint(&m, level).unwrap();
            let err = max_end_error(&rows, &fx, key, case);
            assert!(err <= 1e-8, "{case} {key}: {err:e}");
            // no ends for the variance components and σ, the estimates for β
            let nvc = m.layout().len() + 1;
            assert!(rows[..nvc]
                .iter()
                .all(|r| r.lower.is_none() && r.upper.is_none()));
            assert_eq!(rows[nvc - 1].parameter, "sigma");
            for (r, b) in rows[nvc..].iter().zip(floats(&fx["beta"])) {
                assert_rel(r.estimate, b, 1e-8, case);
            }
            assert_rel(
                rows[nvc - 1].estimate,
                fx["sigma"].as_f64().unwrap(),
                1e-8,
                case,
            );
        }
    }
}

#[test]
fn glmm_wald_intervals_match_lme4_rx() {
    let (fx, mut m) = cbpp();
    m.evaluate(&floats(&fx["theta"]), Some(&floats(&fx["beta"])), 1)
        .unwrap();
    let rows = wald_confint(&m, 0.95).unwrap();
    assert_eq!(rows.len(), 5, "no sigma row for a GLMM");
    assert!(rows[0].lower.is_none() && rows[0].upper.is_none());
    let err = max_end_error(&rows, &fx, "wald_rx_95", "cbpp");
    assert!(err <= 1e-4, "cbpp wald: {err:e}");
}

/// A three-column term (correlations of three random effects, kept positive
/// definite by the sdcor coordinates): every profile monotone, every interval
/// around its estimate and the refined ends close to the spline's.
#[test]
fn profile_of_a_three_column_term() {
    let d = dataset("oxboys");
    let mut m = LinearMixedModel::new(
        "height ~ 1 + age + I(age^2) + (1 + age + I(age^2) | Subject)",
        &d,
        &LmmOptions::default(),
    )
    .unwrap();
    m.fit(false).unwrap();
    let profile = profile_lmm(&mut m, &ProfileSettings::default()).unwrap();
    assert_eq!(profile.parameters.len(), 10);
    assert!(profile.warnings.is_empty(), "{:?}", profile.warnings);
    let refined = confint_lmm(&mut m, &profile, 0.95).unwrap();
    let spline = profile.confint(0.95).unwrap();
    for (r, s) in refined.iter().zip(&spline) {
        let (lo, hi) = (r.lower.unwrap(), r.upper.unwrap());
        assert!(lo < r.estimate && r.estimate < hi, "{}", r.parameter);
        assert!(
            (lo - s.lower.unwrap()).abs() <= 1e-3 * (hi - lo),
            "{}",
            r.parameter
        );
        assert!(
            (hi - s.upper.unwrap()).abs() <= 1e-3 * (hi - lo),
            "{}",
            r.parameter
        );
    }
    for curve in &profile.curves {
        assert!(curve.windows(2).all(|w| w[1].zeta > w[0].zeta));
    }
}

#[test]
fn bad_requests_are_typed_errors() {
    let fx = fixture("sleepstudy_ML");
    let mut m = lmm(&fx);
    let settings = ProfileSettings::default();
    assert!(matches!(
        profile_lmm(&mut m, &settings),
        Err(Error::NotFitted { .. })
    ));
    m.fit(false).unwrap();
    let bad = ProfileSettings {
        threshold: -1.0,
        ..ProfileSettings::default()
    };
    assert!(
        matches!(profile_lmm(&mut m, &bad), Err(Error::Argument { parameter, .. }) if parameter == "threshold")
    );
    let profile = profile_lmm(&mut m, &settings).unwrap();
    for level in [0.0, 1.0, f64::NAN, -0.5, 0.99999] {
        let err = confint_lmm(&mut m, &profile, level).unwrap_err();
        assert!(
            matches!(&err, Error::Argument { parameter, .. } if parameter == "level"),
            "{level}: {err}"
        );
        assert!(matches!(
            profile.confint(level),
            Err(Error::Argument { .. })
        ));
        assert!(matches!(wald_confint(&m, level), Err(Error::Argument { .. })) || level == 0.99999);
    }
    // a model changed since it was profiled
    let y: Vec<f64> = m
        .y()
        .iter()
        .enumerate()
        .map(|(i, v)| v + 5.0 * (i % 3) as f64)
        .collect();
    m.set_response(&y).unwrap();
    m.fit(false).unwrap();
    let err = confint_lmm(&mut m, &profile, 0.95).unwrap_err();
    assert!(
        matches!(&err, Error::Argument { parameter, .. } if parameter == "profile"),
        "{err}"
    );
    // σ fixed
    let options = LmmOptions {
        sigma: Some(20.0),
        ..LmmOptions::default()
    };
    let d = dataset("sleepstudy");
    let mut f = LinearMixedModel::new(fx["formula"].as_str().unwrap(), &d, &options).unwrap();
    f.fit(false).unwrap();
    assert!(
        matches!(profile_lmm(&mut f, &settings), Err(Error::Argument { parameter, .. }) if parameter == "sigma")
    );
    // an unfitted GLMM
    let (_, mut g) = cbpp();
    assert!(matches!(
        profile_glmm(&mut g, &settings),
        Err(Error::NotFitted { .. })
    ));
}

/// An interrupt (Ctrl-C in Python) stops a profile between evaluations; the model
/// is left at its fitted θ.
#[test]
fn interrupted_profile_leaves_the_model_as_fitted() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let d = dataset("oxboys");
    let mut m = LinearMixedModel::new(
        "height ~ 1 + age + I(age^2) + (1 + age + I(age^2) | Subject)",
        &d,
        &LmmOptions::default(),
    )
    .unwrap();
    m.fit(false).unwrap();
    let theta = m.theta().to_vec();
    // The hook is asked at most every 50 ms: the second time, after the profile
    // has started (it takes several tenths of a second), it says stop.
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    m.set_interrupt(mixedmodels::interrupt::Interrupt::with_hook(Arc::new(
        move || counter.fetch_add(1, Ordering::Relaxed) >= 1,
    )));
    let result = profile_lmm(&mut m, &ProfileSettings::default());
    assert!(matches!(result, Err(Error::Interrupted)), "{result:?}");
    assert!(calls.load(Ordering::Relaxed) >= 2);
    assert_eq!(m.theta(), &theta[..]);
    assert!(m.is_fitted());
}
