//! [`Influence`] (hat values, Pearson residuals, Cook's distances, lme4's
//! `sqrtrwt` and `sqrtXwt`) against lme4 1.1-31 via broom.mixed's `augment`
//! (tests/fixtures/perf_*.json, written by generate_performance.R), with the
//! models at lme4's estimates.
//!
//! For the GLMM the hat values and Cook's distances are compared with lme4's
//! functions applied to the fit with L refreshed at the mode (`at_mode`):
//! lme4's own fit state keeps L at the previous PIRLS iterate's weights (see
//! tests/glmm_lme4_fixtures.rs), which moves them by up to 7e-5 relative.
//! Tolerance 1e-6 relative: every value is a function of the installed
//! estimates; the observed differences are below 1e-8.

mod common;

use common::*;
use mixedmodels::glmm::{Family, GeneralizedLinearMixedModel, GlmmOptions};
use mixedmodels::model::Influence;
use mixedmodels::{LinearMixedModel, LmmOptions};
use serde_json::Value;

const RTOL: f64 = 1e-6;

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Every |a − e| ≤ RTOL · max(|e|, scale·1e-3), with `scale` the largest |e|.
fn assert_close(what: &str, actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    let scale = expected.iter().fold(0.0f64, |m, e| m.max(e.abs()));
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let tol = RTOL * e.abs().max(1e-3 * scale);
        assert!((a - e).abs() <= tol, "{what}[{i}]: {a} vs {e}");
    }
}

#[test]
fn linear_mixed_model_influence_equals_lme4() {
    let fx = json("tests/fixtures/perf_sleepstudy_REML.json");
    let mut m = LinearMixedModel::new(
        fx["formula_ours"].as_str().unwrap(),
        &dataset("sleepstudy"),
        &LmmOptions::default(),
    )
    .unwrap();
    m.set_reml(true).unwrap();
    m.objective_at(&floats(&fx["theta"])).unwrap();
    let aug = &fx["augment"];
    assert_close(".hat", &m.hatvalues(), &floats(&aug[".hat"]));
    assert_close(".cooksd", &m.cooks_distance(), &floats(&aug[".cooksd"]));
    assert_close(".wtres", &m.pearson_residuals(), &floats(&aug[".wtres"]));
    assert_close(".sqrtrwt", &m.sqrt_residual_weights(), &floats(&aug[".sqrtrwt"]));
    assert_close(".sqrtXwt", &m.sqrt_working_weights(), &floats(&aug[".sqrtXwt"]));
}

#[test]
fn glmm_influence_equals_lme4_at_the_mode() {
    let fx = json("tests/fixtures/perf_cbpp_cbind.json");
    let mut m = GeneralizedLinearMixedModel::new(
        fx["formula_ours"].as_str().unwrap(),
        &dataset("cbpp"),
        Family::Binomial,
        None,
        &GlmmOptions::default(),
    )
    .unwrap();
    m.evaluate(&floats(&fx["theta"]), Some(&floats(&fx["beta"])), 1)
        .unwrap();
    let aug = &fx["augment"];
    let mode = &fx["at_mode"];
    assert_close("hat", &m.hatvalues(), &floats(&mode["hat"]));
    assert_close("cooksd", &m.cooks_distance(), &floats(&mode["cooksd"]));
    assert_close(".wtres", &m.pearson_residuals(), &floats(&aug[".wtres"]));
    assert_close(".sqrtrwt", &m.sqrt_residual_weights(), &floats(&aug[".sqrtrwt"]));
    assert_close(".sqrtXwt", &m.sqrt_working_weights(), &floats(&aug[".sqrtXwt"]));
    // lme4's hat values exceed 1 here: rows weighted by √(trials), L by the working weights.
    assert!(m.hatvalues().iter().any(|&h| h > 1.0));
}
