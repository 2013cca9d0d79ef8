//! The analytic gradient of the Laplace objective of the families with a
//! dispersion parameter (src/glmm/gradient.rs, "Families with a dispersion
//! parameter") equals differences of the objective `evaluate` returns: with
//! respect to (θ, β, log φ) at fixed β, and to (θ, log φ) for `fast` (β from
//! PIRLS with u). The models of the glmmTMB fixtures: NB2 on grouseticks
//! (two crossed scalar terms) and with an offset, Gamma with the log link
//! (sleepstudy, scalar and correlated slope) and the inverse link (crossed),
//! the inverse Gaussian with its canonical link 1/μ² and the Gaussian with
//! the log link; each at the fit's optimum and at a point away from it.
//! (The inverse Gaussian with the log link has negative observed weights
//! where y < μ/2: no gradient there, see `refusals`.)
//!
//! Differences: Ridders' extrapolation of central differences from
//! h₀ = 0.05·max(|θ_k|, 0.1) for θ, half a standard error for β and 0.05
//! for log φ. Agreement as in glmm_gradient.rs: |g − fd| ≤ 1e-6·max(|g|, 1)
//! with β in units of its standard error (the objective's curvature there
//! is of order 1; the floor of 1 is what differences of an objective with
//! ~1e-10 noise resolve).

mod common;

use common::*;
use mixedmodels::data::Data;
use mixedmodels::glmm::{Family, GeneralizedLinearMixedModel, GlmmOptions, Link};
use mixedmodels::MixedModel;

const RTOL: f64 = 1e-6;

/// The model of fixture `name` on `data`, fitted.
fn fitted(name: &str, data: &Data, formula: &str) -> GeneralizedLinearMixedModel {
    let fx = json(&format!("tests/fixtures/{name}.json"));
    let family = Family::from_name(fx["family"].as_str().unwrap()).unwrap();
    let link = Link::from_name(fx["link"].as_str().unwrap()).unwrap();
    let options = GlmmOptions::default();
    let mut m =
        GeneralizedLinearMixedModel::new(formula, data, family, Some(link), &options).unwrap();
    m.fit(false, 1).unwrap();
    m
}

/// The objective at x = (θ, β, log φ) (β left out for `fast`), evaluated
/// twice so that PIRLS starts from a mode of the same point.
fn objective(m: &mut GeneralizedLinearMixedModel, x: &[f64], nt: usize, fast: bool) -> f64 {
    let (theta, rest) = x.split_at(nt);
    let (beta, log_phi) = rest.split_at(rest.len() - 1);
    m.set_dispersion(log_phi[0].exp()).unwrap();
    m.evaluate(theta, (!fast).then_some(beta), 1).unwrap();
    m.evaluate(theta, (!fast).then_some(beta), 1).unwrap()
}

/// Compare the gradient at x with differences, component k in units of
/// `unit[k]`; returns the largest scaled deviation.
#[track_caller]
fn check_at(
    m: &mut GeneralizedLinearMixedModel,
    x: &[f64],
    unit: &[f64],
    h0: &[f64],
    fast: bool,
    what: &str,
) -> f64 {
    let nt = m.layout().len();
    let (theta, rest) = x.split_at(nt);
    let (beta, log_phi) = rest.split_at(rest.len() - 1);
    m.set_dispersion(log_phi[0].exp()).unwrap();
    let (f, g) = m
        .objective_and_gradient(theta, (!fast).then_some(beta))
        .unwrap();
    assert_eq!(g.len(), x.len(), "{what}: gradient length");
    assert_rel(f, objective(m, x, nt, fast), 1e-10, what);
    let mut worst = 0.0f64;
    for k in 0..x.len() {
        let mut at = |d: f64| {
            let mut y = x.to_vec();
            y[k] += d;
            objective(m, &y, nt, fast)
        };
        let fd = ridders(|h| (at(h) - at(-h)) / (2.0 * h), h0[k], 2);
        let (gk, fdk) = (g[k] * unit[k], fd * unit[k]);
        let dev = (gk - fdk).abs() / gk.abs().max(1.0);
        worst = worst.max(dev);
        assert!(
            dev <= RTOL,
            "{what}: ∂f/∂x[{k}] analytic {} vs differences {fd} (scaled |diff| {dev:e}) at {x:?}",
            g[k]
        );
    }
    worst
}

/// Check the fitted model with the Laplace gradient and the `fast` one, at
/// the optimum and away from it (θ × 1.2 + 0.05 on the diagonal, + 0.02
/// off it; β ± half a standard error; log φ + 0.1: farther, an inverse
/// link leaves its domain or an observed weight turns negative).
fn check_model(mut m: GeneralizedLinearMixedModel, what: &str) {
    let diag = m.layout().diagonal();
    let nt = diag.len();
    let se = m.stderror();
    let log_phi = m.dispersion().unwrap().ln();
    for fast in [false, true] {
        let mut opt = m.theta().to_vec();
        let mut h0: Vec<f64> = opt.iter().map(|t| 0.05 * t.abs().max(0.1)).collect();
        let mut unit = vec![1.0; nt];
        if !fast {
            opt.extend(m.beta());
            h0.extend(se.iter().map(|s| 0.5 * s));
            unit.extend(&se);
        }
        opt.push(log_phi);
        h0.push(0.05);
        unit.push(1.0);
        let mode = if fast { "fast" } else { "Laplace" };
        let w_opt = check_at(
            &mut m,
            &opt,
            &unit,
            &h0,
            fast,
            &format!("{what} {mode} optimum"),
        );
        let away: Vec<f64> = opt
            .iter()
            .enumerate()
            .map(|(k, &v)| match k {
                k if k < nt && diag[k] => 1.2 * v + 0.05,
                k if k < nt => 1.2 * v + 0.02,
                k if k == opt.len() - 1 => v + 0.1,
                k if k % 2 == 0 => v + 0.5 * se[k - nt],
                k => v - 0.5 * se[k - nt],
            })
            .collect();
        let w_away = check_at(
            &mut m,
            &away,
            &unit,
            &h0,
            fast,
            &format!("{what} {mode} away"),
        );
        eprintln!(
            "{what} {mode}: largest scaled deviation {w_opt:.1e} at the optimum, {w_away:.1e} away"
        );
    }
}

#[test]
fn negative_binomial() {
    let d = dataset("grouseticks");
    let formula = "TICKS ~ 1 + YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION)";
    check_model(
        fitted("disp_grouseticks_nb2", &d, formula),
        "NB2 grouseticks",
    );
    let fx = json("tests/fixtures/disp_offset_nb2.json");
    let d = fixture_data(&fx);
    let formula = "count ~ 1 + x + offset(logexpo) + (1 | g)";
    check_model(fitted("disp_offset_nb2", &d, formula), "NB2 offset");
}

#[test]
fn gamma_log_and_inverse_links() {
    let d = dataset("sleepstudy");
    let formula = "Reaction ~ 1 + Days + (1 + Days | Subject)";
    check_model(
        fitted("disp_sleepstudy_gamma_log_slope", &d, formula),
        "Gamma slope",
    );
    let fx = json("tests/fixtures/disp_crossed_gamma_inverse.json");
    let d = fixture_data(&fx);
    let formula = "y ~ 1 + x + (1 | subj) + (1 | item)";
    check_model(
        fitted("disp_crossed_gamma_inverse", &d, formula),
        "Gamma inverse",
    );
}

#[test]
fn inverse_gaussian_and_gaussian() {
    let fx = json("tests/fixtures/disp_grouped_inverse_gaussian.json");
    let d = fixture_data(&fx);
    let formula = "y ~ 1 + x + (1 | g)";
    check_model(
        fitted("disp_grouped_inverse_gaussian", &d, formula),
        "IG 1/μ²",
    );
    let fx = json("tests/fixtures/disp_gaussian_log.json");
    let d = fixture_data(&fx);
    check_model(
        fitted("disp_gaussian_log", &d, "y ~ 1 + x + (1 | g)"),
        "Gaussian log",
    );
}

/// Where an observed weight is negative the objective is formed densely:
/// no gradient there (an error, not a wrong value); nor for nAGQ > 1.
#[test]
fn refusals() {
    let cases = [
        ("disp_gaussian_log_noisy", "y ~ 1 + x + (1 | g)"),
        (
            "disp_crossed_inverse_gaussian",
            "y ~ 1 + x + (1 | subj) + (1 | item)",
        ),
    ];
    for (name, formula) in cases {
        let fx = json(&format!("tests/fixtures/{name}.json"));
        let d = fixture_data(&fx);
        let mut m = fitted(name, &d, formula);
        let (theta, beta) = (m.theta().to_vec(), m.beta().to_vec());
        assert!(matches!(
            m.objective_and_gradient(&theta, Some(&beta)),
            Err(mixedmodels::Error::Argument { ref parameter, .. }) if parameter == "family"
        ));
    }
    let d = dataset("sleepstudy");
    let mut m = fitted(
        "disp_sleepstudy_gamma_log",
        &d,
        "Reaction ~ 1 + Days + (1 | Subject)",
    );
    let (theta, beta) = (m.theta().to_vec(), m.beta().to_vec());
    m.evaluate(&theta, Some(&beta), 3).unwrap();
    assert!(matches!(
        m.objective_and_gradient(&theta, Some(&beta)),
        Err(mixedmodels::Error::Argument { ref parameter, .. }) if parameter == "nagq"
    ));
}
