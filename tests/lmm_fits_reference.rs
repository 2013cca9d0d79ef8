//! Fits of the LMM records in tests/reference/lme4_public.json (lme4 1.1-31):
//! objective ≤ best known + 1e-6 relative; θ, β, σ, standard errors within
//! 1e-4 relative of the best known fit (absolute 1e-4 for θ near zero).

mod common;

use common::*;
use mixedmodels::MixedModel;
use mixedmodels::{LinearMixedModel, LmmOptions};

fn fit_record(id: &str) -> (LinearMixedModel, serde_json::Value) {
    let rec = lme4_record(id);
    let data = dataset(
        rec["dataset"]
            .as_str()
            .unwrap()
            .trim_end_matches(".parquet"),
    );
    let mut m = LinearMixedModel::new(
        rec["formula"].as_str().unwrap(),
        &data,
        &LmmOptions::default(),
    )
    .unwrap();
    m.fit(rec["REML"].as_bool().unwrap()).unwrap();
    (m, rec)
}

fn check(id: &str) {
    let (m, rec) = fit_record(id);
    let best = rec["best_known_objective"].as_f64().unwrap();
    let obj = m.objective();
    assert!(
        obj <= best + 1e-6 * best.abs(),
        "{id}: objective {obj} above best known {best}"
    );
    let theta = floats(&rec["best_known_theta"]);
    for (i, (got, want)) in m.theta().iter().zip(&theta).enumerate() {
        assert!(
            (got - want).abs() <= 1e-4 * want.abs().max(1.0),
            "{id}: θ[{i}] = {got}, best known {want}"
        );
    }
    let beta = floats(&rec["best_known_fixef"]);
    let se: Vec<f64> = named_floats(&rec["stderror"])
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    for (i, (got, want)) in m.beta().iter().zip(&beta).enumerate() {
        assert_rel(*got, *want, 1e-4, &format!("{id}: β[{i}]"));
    }
    for (i, (got, want)) in m.stderror().iter().zip(&se).enumerate() {
        assert_rel(*got, *want, 1e-4, &format!("{id}: SE[{i}]"));
    }
    assert_rel(
        m.sigma(),
        rec["best_known_sigma"].as_f64().unwrap(),
        1e-4,
        &format!("{id}: σ"),
    );
    let evals = m.optsum().unwrap().evaluations;
    eprintln!("{id}: objective {obj:.10} (best known {best:.10}), {evals} evaluations");
}

#[test]
fn dyestuff_ml_and_reml() {
    check("dyestuff_ML");
    check("dyestuff_REML");
}

#[test]
fn dyestuff2_singular() {
    check("dyestuff2_ML");
    check("dyestuff2_REML");
    let (m, _) = fit_record("dyestuff2_ML");
    assert_eq!(m.theta(), &[0.0]);
    assert!(m.is_singular());
}

#[test]
fn sleepstudy() {
    check("sleepstudy_ML");
    check("sleepstudy_REML");
    check("sleepstudy_zerocorr_ML");
}

#[test]
fn penicillin_and_pastes() {
    check("penicillin_ML");
    check("pastes_ML");
}

#[test]
fn insteval_service_by_dept() {
    check("insteval_ML");
}
