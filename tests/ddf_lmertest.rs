//! Degrees of freedom, t and F tests against lmerTest 3.1-3 / pbkrtest 0.5.2
//! (tests/fixtures/ddf_*.json, written by tests/fixtures/generate_ddf.R).
//!
//! Tolerances: Satterthwaite and Kenward–Roger df within 1e-3 relative
//! (lmerTest differentiates numerically; our fit differs from lme4's within
//! its convergence tolerance), F and t within 1e-4 relative, p within 1e-4
//! absolute, the hypothesis matrices within 1e-6 and pbkrtest's adjusted
//! covariance within 1e-4 relative. The worst deviation of each quantity is
//! printed (`cargo test --test ddf_lmertest -- --nocapture`).

mod common;

use common::*;
use mixedmodels::contrasts::Coding;
use mixedmodels::data::{Column, Data};
use mixedmodels::inference::ddf::{
    anova, coeftable_ddf, contrast_test, hypotheses, matrix_from_rows, wald_anova, AnovaType,
    DdfMethod, KenwardRoger, Satterthwaite,
};
use mixedmodels::{
    Error, Family, GeneralizedLinearMixedModel, GlmmOptions, LinearMixedModel, LmmOptions,
    MixedModel,
};
use serde_json::Value;

/// Worst deviations seen in one case.
#[derive(Default)]
struct Worst {
    df: f64,
    f: f64,
    p: f64,
    l: f64,
}

impl Worst {
    fn df(&mut self, got: f64, want: f64, what: &str) {
        let d = (got - want).abs() / want.abs();
        assert!(d <= 1e-3, "{what}: df {got} vs lmerTest {want} (rel {d:e})");
        self.df = self.df.max(d);
    }
    fn stat(&mut self, got: f64, want: f64, what: &str) {
        let d = (got - want).abs() / want.abs().max(1e-8);
        assert!(d <= 1e-4, "{what}: statistic {got} vs {want} (rel {d:e})");
        self.f = self.f.max(d);
    }
    fn p(&mut self, got: f64, want: f64, what: &str) {
        let d = (got - want).abs();
        assert!(d <= 1e-4, "{what}: p {got} vs {want} (abs {d:e})");
        self.p = self.p.max(d);
    }
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(floats).collect()
}

fn fit_case(case: &str) -> (LinearMixedModel, Value, Data) {
    let fx = json(&format!("tests/fixtures/{case}.json"));
    let data = dataset(fx["dataset"].as_str().unwrap());
    // R's contr.sum (the last level is -1 in every column) is effects coding
    // with the last level as base.
    let mut options = LmmOptions::default();
    if let Some(codings) = fx["codings"].as_object() {
        for (name, coding) in codings {
            assert_eq!(coding.as_str(), Some("contr.sum"));
            let Ok(Column::Categorical { levels, .. }) = data.column(name) else {
                panic!("{name} is not categorical");
            };
            let base = levels.last().unwrap().clone();
            options
                .contrasts
                .insert(name.clone(), Coding::Effects(Some(base)));
        }
    }
    let mut m = LinearMixedModel::new(fx["formula"].as_str().unwrap(), &data, &options).unwrap();
    m.fit(fx["REML"].as_bool().unwrap()).unwrap();
    let want = fx["fit"]["objective"].as_f64().unwrap();
    assert!(
        m.objective() <= want + 1e-6 * want.abs(),
        "{case}: objective {} above lme4's {want}",
        m.objective()
    );
    (m, fx, data)
}

fn method_of(name: &str) -> DdfMethod {
    match name {
        "Satterthwaite" => DdfMethod::Satterthwaite,
        "Kenward-Roger" => DdfMethod::KenwardRoger,
        _ => panic!("{name}"),
    }
}

fn check_case(case: &str) {
    let (mut m, fx, data) = fit_case(case);
    let reml = fx["REML"].as_bool().unwrap();
    let p = m.rank();
    let mut worst = Worst::default();
    // Coefficient tables.
    for (key, method) in [
        ("satterthwaite", DdfMethod::Satterthwaite),
        ("kenward_roger", DdfMethod::KenwardRoger),
    ] {
        let want = &fx["coef"][key];
        if want.is_null() {
            assert!(!reml);
            let err = coeftable_ddf(&mut m, method).unwrap_err();
            assert!(matches!(err, Error::Argument { ref parameter, .. } if parameter == "ddf"));
            continue;
        }
        let rows = coeftable_ddf(&mut m, method).unwrap();
        for (j, r) in rows.iter().enumerate() {
            let what = format!("{case} {key} coef {}", r.name);
            worst.stat(r.stderror, floats(&want["stderror"])[j], &what);
            worst.df(r.df, floats(&want["df"])[j], &what);
            worst.stat(r.t, floats(&want["t"])[j], &what);
            worst.p(r.p, floats(&want["p"])[j], &what);
        }
    }
    if reml {
        let kr = KenwardRoger::new(&m).unwrap();
        let want = matrix(&fx["vcov_adj"]);
        for i in 0..p {
            for j in 0..p {
                let (g, w) = (kr.adjusted_vcov()[(i, j)], want[i][j]);
                let scale = (want[i][i] * want[j][j]).sqrt();
                assert!(
                    (g - w).abs() <= 1e-4 * scale,
                    "{case}: vcov_adj[{i},{j}] {g} vs pbkrtest {w}"
                );
            }
        }
    }
    // The asymptotic covariance of (θ, σ).
    let sat = Satterthwaite::new(&mut m).unwrap();
    let want = matrix(&fx["vcov_varpar"]);
    for (i, row) in want.iter().enumerate() {
        for (j, w) in row.iter().enumerate() {
            let g = sat.varpar_cov()[(i, j)];
            let scale = (want[i][i] * want[j][j]).sqrt();
            assert!(
                (g - w).abs() <= 1e-3 * scale,
                "{case}: vcov_varpar[{i},{j}] {g} vs lmerTest {w}"
            );
        }
    }
    // Analysis-of-variance tables and their hypothesis matrices.
    for block in fx["anova"].as_array().unwrap() {
        let kind = AnovaType::from_number(block["type"].as_i64().unwrap()).unwrap();
        let method = method_of(block["ddf"].as_str().unwrap());
        let what = format!("{case} type {} {}", kind.number(), method.label());
        let hyps = hypotheses(m.terms(), kind, Some(&data)).unwrap();
        let terms: Vec<&str> = block["term"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert_eq!(hyps.len(), terms.len(), "{what}: number of terms");
        for (h, l_want) in hyps.iter().zip(block["L"].as_array().unwrap()) {
            let l_want = matrix(l_want);
            assert_eq!(h.l.nrows(), l_want.len(), "{what} {}: rows of L", h.term);
            for (i, row) in l_want.iter().enumerate() {
                for (j, w) in row.iter().enumerate() {
                    let d = (h.l[(i, j)] - w).abs();
                    assert!(
                        d <= 1e-6,
                        "{what} {}: L[{i},{j}] {} vs {w}",
                        h.term,
                        h.l[(i, j)]
                    );
                    worst.l = worst.l.max(d);
                }
            }
        }
        let rows = anova(&mut m, kind, Some(method), Some(&data)).unwrap();
        for (k, r) in rows.iter().enumerate() {
            let t = r.test.unwrap();
            let what = format!("{what} {}", r.term);
            assert_eq!(
                t.num_df as f64,
                floats(&block["num_df"])[k],
                "{what}: num_df"
            );
            worst.df(t.den_df, floats(&block["den_df"])[k], &what);
            worst.stat(t.f, floats(&block["F"])[k], &what);
            worst.p(t.p, floats(&block["p"])[k], &what);
        }
    }
    // Joint contrasts.
    for block in fx["contest"].as_array().unwrap() {
        let method = method_of(block["ddf"].as_str().unwrap());
        let rows = matrix(&block["L"]);
        let l = matrix_from_rows(&rows, p).unwrap();
        let t = contrast_test(&mut m, &l, &vec![0.0; rows.len()], Some(method)).unwrap();
        let what = format!("{case} contest {} {}", block["what"], method.label());
        assert_eq!(t.num_df as f64, block["num_df"].as_f64().unwrap(), "{what}");
        worst.df(t.den_df, block["den_df"].as_f64().unwrap(), &what);
        worst.stat(t.f, block["F"].as_f64().unwrap(), &what);
        worst.p(t.p, block["p"].as_f64().unwrap(), &what);
    }
    println!(
        "{case}: max rel df {:.1e}, max rel F/t/se {:.1e}, max abs p {:.1e}, max abs L {:.1e}",
        worst.df, worst.f, worst.p, worst.l
    );
}

#[test]
fn sleepstudy_reml() {
    check_case("ddf_sleepstudy_REML");
}

#[test]
fn sleepstudy_ml() {
    check_case("ddf_sleepstudy_ML");
}

/// Uncorrelated random effects (`||`): the variance parameters are the
/// diagonal of the term's covariance.
#[test]
fn sleepstudy_zerocorr_reml() {
    check_case("ddf_sleepstudy_zerocorr_REML");
}

#[test]
fn cake_split_plot_reml() {
    check_case("ddf_cake_REML");
}

/// Sum-to-zero coding: type-3 hypotheses made on treatment coding and mapped.
#[test]
fn cake_sum_coding_reml() {
    check_case("ddf_cake_sum_REML");
}

#[test]
fn cake_split_plot_ml() {
    check_case("ddf_cake_ML");
}

#[test]
fn machines_reml() {
    check_case("ddf_machines_REML");
}

#[test]
fn penicillin_reml() {
    check_case("ddf_penicillin_REML");
}

#[test]
fn pastes_reml() {
    check_case("ddf_pastes_REML");
}

/// A singular fit: the Hessian's differences cross θ's bound (lmerTest: df 29,
/// Kenward–Roger 5).
#[test]
fn dyestuff2_singular_reml() {
    check_case("ddf_dyestuff2_singular_REML");
}

#[test]
fn kb07_reml() {
    check_case("ddf_kb07_REML");
}

#[test]
fn kb07_ml() {
    check_case("ddf_kb07_ML");
}

/// cbpp (binomial GLMM): the z table and the Wald χ² of `period` against R's,
/// both with lme4's covariance from R_X at its estimates (`vcov(m, use.hessian
/// = FALSE)`, the package's definition). 1e-3 relative: the Laplace fits
/// differ slightly (our χ² differs from R's by about 5e-4 relative).
#[test]
fn cbpp_wald() {
    let fx = json("tests/fixtures/ddf_cbpp_binomial.json");
    let data = dataset("cbpp");
    let mut m = GeneralizedLinearMixedModel::new(
        fx["formula"].as_str().unwrap(),
        &data,
        Family::Binomial,
        None,
        &GlmmOptions::default(),
    )
    .unwrap();
    m.fit(false, 1).unwrap();
    let want = &fx["coef"];
    for (j, r) in m.coeftable().iter().enumerate() {
        let (se, z) = (floats(&want["stderror"])[j], floats(&want["z"])[j]);
        assert!(
            (r.stderror - se).abs() <= 1e-3 * se,
            "{}: se {} vs {se}",
            r.name,
            r.stderror
        );
        assert!(
            (r.z - z).abs() <= 1e-3 * z.abs().max(1.0),
            "{}: z {} vs {z}",
            r.name,
            r.z
        );
        assert!((r.p - floats(&want["p"])[j]).abs() <= 1e-4, "{}: p", r.name);
    }
    for kind in [AnovaType::One, AnovaType::Two, AnovaType::Three] {
        let rows = wald_anova(&m, kind, Some(&data)).unwrap();
        let want = &fx["wald"][0];
        assert_eq!(rows.len(), 1);
        let t = rows[0].test.unwrap();
        assert_eq!(t.num_df as f64, want["num_df"].as_f64().unwrap());
        assert!(t.den_df.is_infinite());
        let chisq = t.f * t.num_df as f64;
        let w = want["chisq"].as_f64().unwrap();
        assert!((chisq - w).abs() <= 1e-3 * w, "chisq {chisq} vs {w}");
        assert!((t.p - want["p"].as_f64().unwrap()).abs() <= 1e-4);
    }
}
