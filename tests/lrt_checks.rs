//! The checks before a likelihood-ratio test (`inference::check_models`) on
//! real data: same family, rows and response; nested fixed and random effects.
//! The models need not be fitted for these checks.

mod common;

use common::dataset;
use mixedmodels::data::{Column, Data};
use mixedmodels::glmm::{Family, GeneralizedLinearMixedModel, GlmmOptions};
use mixedmodels::inference::{check_models, ComparedModel};
use mixedmodels::model::MixedModel;
use mixedmodels::{Error, LinearMixedModel, LmmOptions};

fn lmm(formula: &str, data: &Data) -> LinearMixedModel {
    LinearMixedModel::new(formula, data, &LmmOptions::default()).unwrap()
}

fn check(models: &[&LinearMixedModel], nested: bool) -> mixedmodels::Result<bool> {
    let c: Vec<_> = models.iter().map(|m| ComparedModel::lmm(m)).collect();
    check_models(&c, nested).map(|c| c.same_fixed_effects)
}

/// (model, other, reason) of a comparison error.
fn refusal(e: Error) -> (usize, usize, String) {
    match e {
        Error::Comparison {
            model,
            other,
            reason,
            ..
        } => (model, other, reason),
        other => panic!("expected a comparison error, got {other:?}"),
    }
}

#[test]
fn nested_sleepstudy_models_pass() {
    let ss = dataset("sleepstudy");
    let m0 = lmm("Reaction ~ 1 + (1 + Days | Subject)", &ss);
    let m1 = lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", &ss);
    assert!(!check(&[&m0, &m1], true).unwrap());
    // Same fixed effects, random effects nested: (1 | S) and (1 + Days || S) in (1 + Days | S).
    let r0 = lmm("Reaction ~ 1 + Days + (1 | Subject)", &ss);
    let r1 = lmm("Reaction ~ 1 + Days + (1 + Days || Subject)", &ss);
    assert!(check(&[&r0, &r1, &m1], true).unwrap());
}

#[test]
fn other_response_is_refused() {
    let ss = dataset("sleepstudy");
    let m0 = lmm("log(Reaction) ~ 1 + (1 + Days | Subject)", &ss);
    let m1 = lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", &ss);
    let e = check(&[&m0, &m1], true).unwrap_err();
    assert_eq!(refusal(e), (2, 1, "response".into()));
    // A response replaced in the model counts, not the formula's.
    let mut m2 = lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", &ss);
    let y: Vec<f64> = m1.y().iter().map(|v| v + 1.0).collect();
    m2.set_response(&y).unwrap();
    let m3 = lmm("Reaction ~ 1 + Days + (1 | Subject)", &ss);
    let e = check(&[&m3, &m2], false).unwrap_err();
    assert_eq!(refusal(e), (2, 1, "response".into()));
}

/// sleepstudy with `a` and `b`: copies of Days, missing in row 0 and row 1.
fn with_gaps() -> Data {
    let ss = dataset("sleepstudy");
    let Column::Numeric { values, .. } = ss.column("Days").unwrap().clone() else {
        panic!("Days is numeric")
    };
    let (mut a, mut b) = (values.clone(), values);
    a[0] = f64::NAN;
    b[1] = f64::NAN;
    ss.with_column("a", Column::numeric(a))
        .unwrap()
        .with_column("b", Column::numeric(b))
        .unwrap()
}

#[test]
fn other_rows_are_refused() {
    let data = with_gaps();
    let all = lmm("Reaction ~ 1 + (1 | Subject)", &data);
    let fewer = lmm("Reaction ~ 1 + a + (1 | Subject)", &data);
    assert_eq!(
        refusal(check(&[&all, &fewer], true).unwrap_err()),
        (2, 1, "rows".into())
    );
    // As many rows, but not the same ones.
    let other = lmm("Reaction ~ 1 + b + (1 + b | Subject)", &data);
    assert_eq!(
        refusal(check(&[&fewer, &other], false).unwrap_err()),
        (2, 1, "rows".into())
    );
}

#[test]
fn models_not_nested_are_refused_unless_unchecked() {
    let ss = dataset("sleepstudy");
    let linear = lmm("Reaction ~ 1 + Days + (1 | Subject)", &ss);
    let root = lmm("Reaction ~ 1 + sqrt(Days) + (1 + Days | Subject)", &ss);
    let e = check(&[&linear, &root], true).unwrap_err();
    assert_eq!(refusal(e), (1, 2, "fixed effects".into()));
    assert!(!check(&[&linear, &root], false).unwrap());
    let slope = lmm("Reaction ~ 1 + Days + (0 + Days | Subject)", &ss);
    let intercept = lmm("Reaction ~ 1 + Days + abs2(Days) + (1 | Subject)", &ss);
    let e = check(&[&slope, &intercept], true).unwrap_err();
    assert_eq!(refusal(e), (1, 2, "random effects".into()));
    assert!(!check(&[&slope, &intercept], false).unwrap());
    // The order still matters: parameters must increase.
    assert!(matches!(
        check(&[&root, &linear], false),
        Err(Error::Argument { .. })
    ));
}

#[test]
fn a_glmm_and_an_lmm_are_refused() {
    let gt = dataset("grouseticks");
    let l = lmm("TICKS ~ 1 + (1 | BROOD)", &gt);
    let g = GeneralizedLinearMixedModel::new(
        "TICKS ~ 1 + YEAR + (1 | BROOD)",
        &gt,
        Family::Poisson,
        None,
        &GlmmOptions::default(),
    )
    .unwrap();
    let e = check_models(&[ComparedModel::lmm(&l), ComparedModel::glmm(&g)], false).unwrap_err();
    assert_eq!(refusal(e), (2, 1, "family".into()));
    assert_eq!(g.nobs(), l.nobs());
}

#[test]
fn other_weights_are_refused() {
    let ss = dataset("sleepstudy");
    let plain = lmm("Reaction ~ 1 + (1 | Subject)", &ss);
    let options = LmmOptions {
        weights: Some((0..ss.nrows()).map(|i| 1.0 + (i % 2) as f64).collect()),
        ..LmmOptions::default()
    };
    let weighted =
        LinearMixedModel::new("Reaction ~ 1 + Days + (1 | Subject)", &ss, &options).unwrap();
    let e = check(&[&plain, &weighted], true).unwrap_err();
    assert_eq!(refusal(e), (2, 1, "weights".into()));
    // Unit weights given explicitly are the same as none.
    let ones = LmmOptions {
        weights: Some(vec![1.0; ss.nrows()]),
        ..LmmOptions::default()
    };
    let unit = LinearMixedModel::new("Reaction ~ 1 + Days + (1 | Subject)", &ss, &ones).unwrap();
    assert!(check(&[&plain, &unit], true).is_ok());
}
