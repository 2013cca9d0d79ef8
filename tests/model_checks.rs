//! The checks that refuse or flag models (src/checks.rs): lme4's
//! check.nobs.vs.nlev / check.nobs.vs.nRE with their override, formulas
//! without random effects, reversed terms, and unidentified residual
//! variances after a fit.

mod common;

use common::*;
use mixedmodels::checks::{CheckAction, WarningKind};
use mixedmodels::data::{Column, Data};
use mixedmodels::{
    Error, Family, GeneralizedLinearMixedModel, GlmmOptions, LinearMixedModel, LmmOptions,
};

fn numeric(data: &Data, name: &str) -> Vec<f64> {
    match data.get(name).unwrap() {
        Column::Numeric { values, .. } => values.clone(),
        Column::Categorical { .. } => panic!("{name} is categorical"),
    }
}

/// sleepstudy plus `id` (one level per row), `ym` (the subject's mean
/// reaction) and `x` (non-integer values).
fn sleep() -> Data {
    let mut d = dataset("sleepstudy");
    let n = d.nrows();
    let ids: Vec<String> = (0..n).map(|i| format!("r{i}")).collect();
    let reaction = numeric(&d, "Reaction");
    let subjects = match d.get("Subject").unwrap() {
        Column::Categorical { codes, .. } => codes.clone(),
        _ => unreachable!(),
    };
    let mut sums = [0.0; 18];
    for (s, y) in subjects.iter().zip(&reaction) {
        sums[*s as usize] += y / 10.0;
    }
    let ym = subjects.iter().map(|s| sums[*s as usize]).collect();
    let x = (0..n).map(|i| i as f64 / 7.0).collect();
    d.add_column("id", Column::from_strings(&ids)).unwrap();
    d.add_column("ym", Column::numeric(ym)).unwrap();
    d.add_column("x", Column::numeric(x)).unwrap();
    d
}

fn lmm(
    formula: &str,
    data: &Data,
    check_nobs: CheckAction,
) -> mixedmodels::Result<LinearMixedModel> {
    let options = LmmOptions {
        check_nobs,
        ..LmmOptions::default()
    };
    LinearMixedModel::new(formula, data, &options)
}

fn kinds(m: &LinearMixedModel) -> Vec<(WarningKind, Option<String>)> {
    m.warnings().into_iter().map(|w| (w.kind, w.term)).collect()
}

#[test]
fn one_observation_per_level_is_refused_unless_allowed() {
    let d = sleep();
    let f = "Reaction ~ 1 + Days + (1 | id)";
    let e = lmm(f, &d, CheckAction::Error).err().unwrap();
    assert!(
        matches!(&e, Error::Term { term, .. } if term == "id"),
        "{e:?}"
    );
    let m = lmm(f, &d, CheckAction::Warn).unwrap();
    assert_eq!(
        kinds(&m),
        vec![
            (WarningKind::NobsVsNlev, Some("id".into())),
            (WarningKind::NobsVsNre, Some("id".into()))
        ]
    );
    let mut m = lmm(f, &d, CheckAction::Ignore).unwrap();
    assert!(m.warnings().is_empty());
    m.fit(false).unwrap();
    // One observation per level is not "constant within groups".
    assert!(m
        .warnings()
        .iter()
        .all(|w| w.kind != WarningKind::ConstantWithinGroups));
}

#[test]
fn as_many_random_effects_as_observations_is_refused() {
    // Days as the grouping factor with an 18-column Subject term: 180 random
    // effects for 180 observations (the term is also reversed).
    let d = sleep();
    let f = "Reaction ~ 1 + Days + (Subject | Days)";
    let e = lmm(f, &d, CheckAction::Error).err().unwrap();
    assert!(
        matches!(&e, Error::Term { term, .. } if term == "Days"),
        "{e:?}"
    );
    let m = lmm(f, &d, CheckAction::Warn).unwrap();
    assert_eq!(
        kinds(&m),
        vec![
            (
                WarningKind::ReversedTerm,
                Some("(1 + Subject | Days)".into())
            ),
            (WarningKind::NobsVsNre, Some("Days".into()))
        ]
    );
}

#[test]
fn glmm_allows_as_many_levels_as_observations_but_not_more_effects() {
    let mut d = sleep();
    let y: Vec<f64> = numeric(&d, "Reaction")
        .iter()
        .map(|r| f64::from(*r > 300.0))
        .collect();
    d.add_column("y", Column::numeric(y)).unwrap();
    let build = |f: &str, check_nobs| {
        let options = GlmmOptions {
            check_nobs,
            ..GlmmOptions::default()
        };
        GeneralizedLinearMixedModel::new(f, &d, Family::Bernoulli, None, &options)
    };
    // glmer's rule (allow.n = TRUE): nlev = n and nRE = n are allowed.
    let m = build("y ~ 1 + Days + (1 | id)", CheckAction::Error).unwrap();
    assert!(m.warnings().is_empty());
    let f = "y ~ 1 + Days + (1 + x | id)";
    let e = build(f, CheckAction::Error).err().unwrap();
    assert!(
        matches!(&e, Error::Term { term, .. } if term == "id"),
        "{e:?}"
    );
    let m = build(f, CheckAction::Warn).unwrap();
    let w: Vec<_> = m.warnings().into_iter().map(|w| w.kind).collect();
    assert_eq!(w, vec![WarningKind::NobsVsNre]);
}

#[test]
fn formulas_without_random_effects_are_refused() {
    let d = sleep();
    let e = lmm("Reaction ~ 1 + Days", &d, CheckAction::Ignore)
        .err()
        .unwrap();
    assert_eq!(
        e,
        Error::NoRandomEffects {
            formula: "Reaction ~ 1 + Days".into()
        }
    );
    let e = GeneralizedLinearMixedModel::new(
        "Reaction ~ 1 + Days",
        &d,
        Family::Poisson,
        None,
        &GlmmOptions::default(),
    )
    .err()
    .unwrap();
    assert!(matches!(e, Error::NoRandomEffects { .. }), "{e:?}");
}

#[test]
fn a_continuous_grouping_factor_looks_reversed() {
    let d = sleep();
    let m = lmm("Reaction ~ 1 + Days + (1 | x)", &d, CheckAction::Ignore).unwrap();
    assert_eq!(
        kinds(&m),
        vec![(WarningKind::ReversedTerm, Some("(1 | x)".into()))]
    );
    // An integer-valued numeric grouping factor without a factor inside is fine.
    let m = lmm("Reaction ~ 1 + (1 | Days)", &d, CheckAction::Error).unwrap();
    assert!(m.warnings().is_empty());
}

#[test]
fn a_response_constant_within_groups_is_flagged_after_the_fit() {
    let d = sleep();
    let mut m = lmm("ym ~ 1 + Days + (1 | Subject)", &d, CheckAction::Error).unwrap();
    assert!(m.warnings().is_empty());
    m.fit(false).unwrap();
    assert_eq!(
        kinds(&m),
        vec![(WarningKind::ConstantWithinGroups, Some("Subject".into()))]
    );
    // The ordinary model has none.
    let mut m = lmm(
        "Reaction ~ 1 + Days + (1 + Days | Subject)",
        &d,
        CheckAction::Error,
    )
    .unwrap();
    m.fit(false).unwrap();
    assert!(m.warnings().is_empty());
}

#[test]
fn a_vanishing_residual_is_flagged_after_the_fit() {
    // An exact line per subject: (1 + Days | Subject) reproduces the data.
    let mut d = sleep();
    let days = numeric(&d, "Days");
    let ym = numeric(&d, "ym");
    let y = ym
        .iter()
        .zip(&days)
        .map(|(m, t)| m + (m / 30.0) * t)
        .collect();
    d.add_column("yl", Column::numeric(y)).unwrap();
    let mut m = lmm(
        "yl ~ 1 + Days + (1 + Days | Subject)",
        &d,
        CheckAction::Error,
    )
    .unwrap();
    m.fit(false).unwrap();
    let y = m.y();
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / y.len() as f64).sqrt();
    eprintln!(
        "σ̂ = {}, sd(y) = {sd}, ratio {:e}",
        m.sigma(),
        m.sigma() / sd
    );
    assert_eq!(kinds(&m), vec![(WarningKind::ResidualVanishes, None)]);
}
