//! The objective evaluated at lme4's θ equals lme4's objective (to 1e-9
//! relative), and β, σ computed at that θ equal lme4's: this checks A, L and
//! the profiled deviance independently of the optimizer.

mod common;

use common::*;
use mixedmodels::MixedModel;
use mixedmodels::{LinearMixedModel, LmmOptions};

fn check(id: &str) {
    let rec = lme4_record(id);
    let data = dataset(
        rec["dataset"]
            .as_str()
            .unwrap()
            .trim_end_matches(".parquet"),
    );
    let formula = rec["formula"].as_str().unwrap();
    let reml = rec["REML"].as_bool().unwrap();
    let mut m = LinearMixedModel::new(formula, &data, &LmmOptions::default()).unwrap();
    m.set_reml(reml).unwrap();
    let theta: Vec<f64> = named_floats(&rec["theta"])
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let obj = m.objective_at(&theta).unwrap();
    assert_rel(
        obj,
        rec["objective"].as_f64().unwrap(),
        1e-9,
        &format!("{id} objective at lme4 θ"),
    );
    for ((name, want), got) in named_floats(&rec["fixef"]).into_iter().zip(m.beta()) {
        assert_rel(got, want, 1e-8, &format!("{id} β {name}"));
    }
    assert_rel(
        m.sigma(),
        rec["sigma"].as_f64().unwrap(),
        1e-8,
        &format!("{id} σ"),
    );
    for ((name, want), got) in named_floats(&rec["stderror"]).into_iter().zip(m.stderror()) {
        assert_rel(got, want, 1e-7, &format!("{id} SE {name}"));
    }
    assert_eq!(m.nobs() as u64, rec["nobs"].as_u64().unwrap());
}

#[test]
fn dyestuff() {
    check("dyestuff_ML");
    check("dyestuff_REML");
    check("dyestuff2_ML");
    check("dyestuff2_REML");
}

#[test]
fn sleepstudy() {
    check("sleepstudy_ML");
    check("sleepstudy_REML");
    check("sleepstudy_zerocorr_ML");
}

#[test]
fn penicillin_crossed() {
    check("penicillin_ML");
}

#[test]
fn pastes_nested() {
    check("pastes_ML");
}

#[test]
fn insteval_partially_crossed() {
    check("insteval_ML");
}
