//! LMM offsets against lme4 1.1-31 (tests/fixtures/lmm_sleepstudy_offset_{ML,REML}.json:
//! sleepstudy, `Reaction ~ 1 + Days + (1 + Days | Subject) + offset(o)` with
//! o = 10·((row mod 5) − 2)). Tolerances as the other LMM fixtures: at lme4's θ the
//! objective to 1e-9 relative, β and σ to 1e-8, SEs to 1e-7, fitted values to 1e-8;
//! our own fit: objective ≤ lme4's best + 1e-6 relative, θ, β, σ and SEs within 1e-4.

mod common;

use common::*;
use mixedmodels::data::{Column, Data};
use mixedmodels::{LinearMixedModel, LmmOptions, MixedModel};

fn offset(n: usize) -> Vec<f64> {
    (0..n).map(|i| 10.0 * ((i % 5) as f64 - 2.0)).collect()
}

fn data() -> Data {
    let mut d = dataset("sleepstudy");
    let o = offset(d.nrows());
    d.add_column("o", Column::numeric(o)).unwrap();
    d
}

/// The formula form and the option form of the same model.
fn models() -> (LinearMixedModel, LinearMixedModel) {
    let d = data();
    let formula = LinearMixedModel::new(
        "Reaction ~ 1 + Days + (1 + Days | Subject) + offset(o)",
        &d,
        &LmmOptions::default(),
    )
    .unwrap();
    let options = LmmOptions {
        offset: Some(offset(d.nrows())),
        ..LmmOptions::default()
    };
    let keyword =
        LinearMixedModel::new("Reaction ~ 1 + Days + (1 + Days | Subject)", &d, &options).unwrap();
    (formula, keyword)
}

fn check(reml: bool) {
    let name = if reml { "REML" } else { "ML" };
    let fx = json(&format!("tests/fixtures/lmm_sleepstudy_offset_{name}.json"));
    let (mut a, mut b) = models();
    for m in [&mut a, &mut b] {
        m.set_reml(reml).unwrap();
        for rec in fx["objective_at"].as_array().unwrap() {
            let got = m.objective_at(&floats(&rec["theta"])).unwrap();
            assert_rel(got, rec["value"].as_f64().unwrap(), 1e-9, name);
        }
        m.objective_at(&floats(&fx["theta"])).unwrap();
        for (g, w) in m.beta().iter().zip(floats(&fx["beta"])) {
            assert_rel(*g, w, 1e-8, "β at lme4's θ");
        }
        assert_rel(
            m.sigma(),
            fx["sigma"].as_f64().unwrap(),
            1e-8,
            "σ at lme4's θ",
        );
        for (g, w) in m.stderror().iter().zip(floats(&fx["stderror"])) {
            assert_rel(*g, w, 1e-7, "SE at lme4's θ");
        }
        for (g, w) in m.fitted().iter().zip(floats(&fx["fitted_head"])) {
            assert_rel(*g, w, 1e-8, "fitted at lme4's θ");
        }
        for (g, w) in m.residuals().iter().zip(floats(&fx["residuals_head"])) {
            assert!(
                (g - w).abs() <= 1e-6 * w.abs().max(1e-2),
                "residual {g} vs {w}"
            );
        }
        m.fit(reml).unwrap();
        let best = fx["objective"].as_f64().unwrap();
        assert!(
            m.objective() <= best + 1e-6 * best,
            "{} > {best}",
            m.objective()
        );
        for (g, w) in m.theta().iter().zip(floats(&fx["theta"])) {
            assert!((g - w).abs() <= 1e-4 * w.abs().max(1.0), "θ {g} vs {w}");
        }
        for (g, w) in m.beta().iter().zip(floats(&fx["beta"])) {
            assert_rel(*g, w, 1e-4, "β");
        }
        assert_rel(m.sigma(), fx["sigma"].as_f64().unwrap(), 1e-4, "σ");
        for (g, w) in m.stderror().iter().zip(floats(&fx["stderror"])) {
            assert_rel(*g, w, 1e-4, "SE");
        }
    }
    // The two forms are the same model.
    assert_eq!(a.theta(), b.theta());
    assert_eq!(a.objective(), b.objective());
    assert_eq!(a.fitted(), b.fitted());
}

#[test]
fn offset_ml_matches_lme4() {
    check(false);
}

#[test]
fn offset_reml_matches_lme4() {
    check(true);
}

#[test]
fn offset_is_kept_by_a_new_response() {
    let (mut m, _) = models();
    let y = m.y().to_vec();
    assert_eq!(y, numeric_reaction());
    m.fit(false).unwrap();
    let (theta, beta) = (m.theta().to_vec(), m.beta());
    // Refit with the same response: the same fit (the offset is still subtracted).
    m.set_response(&y).unwrap();
    m.fit(false).unwrap();
    assert_eq!(m.theta(), &theta[..]);
    assert_eq!(m.beta(), beta);
    // The offset shifts the fitted values: response residuals are y − fitted.
    let o = offset(y.len());
    assert_eq!(m.offset().unwrap(), &o[..]);
    for ((r, y), f) in m.residuals().iter().zip(&y).zip(m.fitted()) {
        assert_eq!(*r, y - f);
    }
}

fn numeric_reaction() -> Vec<f64> {
    match dataset("sleepstudy").get("Reaction").unwrap() {
        Column::Numeric { values, .. } => values.clone(),
        Column::Categorical { .. } => unreachable!(),
    }
}
