//! Model summaries against R, with the models at R's estimates
//! (tests/fixtures/perf_*.json, written by generate_performance.R):
//! [`Influence`] (hat values, Pearson residuals, Cook's distances, lme4's
//! `sqrtrwt` and `sqrtXwt`) against lme4 1.1-31 via broom.mixed's `augment`,
//! and (module `summaries`) Nakagawa's decomposition, R², ICC, VIFs and rePCA
//! against performance 0.10.2, insight 0.19.0 and lme4.
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
    assert_close(
        ".sqrtrwt",
        &m.sqrt_residual_weights(),
        &floats(&aug[".sqrtrwt"]),
    );
    assert_close(
        ".sqrtXwt",
        &m.sqrt_working_weights(),
        &floats(&aug[".sqrtXwt"]),
    );
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
    assert_close(
        ".sqrtrwt",
        &m.sqrt_residual_weights(),
        &floats(&aug[".sqrtrwt"]),
    );
    assert_close(
        ".sqrtXwt",
        &m.sqrt_working_weights(),
        &floats(&aug[".sqrtXwt"]),
    );
    // lme4's hat values exceed 1 here: rows weighted by √(trials), L by the working weights.
    assert!(m.hatvalues().iter().any(|&h| h > 1.0));
}

/// Nakagawa's decomposition, R², ICC, VIFs and rePCA in Rust against
/// performance 0.10.2 / insight 0.19.0 / lme4 (same fixtures, 1e-6 relative).
mod summaries {
    use super::*;
    use mixedmodels::model::{collinearity, re_pca, VarianceDecomposition};

    fn close(what: &str, a: f64, e: &Value) {
        let e = e.as_f64().unwrap();
        assert!(
            (a - e).abs() <= RTOL * e.abs().max(1e-12),
            "{what}: {a} vs {e}"
        );
    }

    #[test]
    fn linear_mixed_model_r2_icc_and_repca() {
        let fx = json("tests/fixtures/perf_sleepstudy_REML.json");
        let mut m = LinearMixedModel::new(
            fx["formula_ours"].as_str().unwrap(),
            &dataset("sleepstudy"),
            &LmmOptions::default(),
        )
        .unwrap();
        m.set_reml(true).unwrap();
        m.objective_at(&floats(&fx["theta"])).unwrap();
        let v = VarianceDecomposition::new(&m, None, 1e-5).unwrap();
        close("fixed", v.fixed, &fx["variance"]["var.fixed"]);
        close("random", v.random.unwrap(), &fx["variance"]["var.random"]);
        close("residual", v.residual, &fx["variance"]["var.residual"]);
        let (marginal, conditional) = v.r2();
        close("r2 marginal", marginal, &fx["r2"]["marginal"]);
        close("r2 conditional", conditional, &fx["r2"]["conditional"]);
        let (adjusted, unadjusted) = v.icc();
        close("icc adjusted", adjusted, &fx["icc"]["adjusted"]);
        close("icc unadjusted", unadjusted, &fx["icc"]["unadjusted"]);
        let pca = re_pca(&m).unwrap();
        let sdev = floats(&fx["rePCA"]["Subject"]["sdev"]);
        assert_close("rePCA sdev", &pca[0].sdev, &sdev);
    }

    #[test]
    fn glmm_decomposition_with_an_observation_level_term() {
        let fx = json("tests/fixtures/perf_grouseticks_poisson.json");
        let mut m = GeneralizedLinearMixedModel::new(
            fx["formula_ours"].as_str().unwrap(),
            &dataset("grouseticks"),
            Family::Poisson,
            None,
            &GlmmOptions {
                check_nobs: mixedmodels::checks::CheckAction::Ignore,
                ..GlmmOptions::default()
            },
        )
        .unwrap();
        m.evaluate(&floats(&fx["theta"]), Some(&floats(&fx["beta"])), 1)
            .unwrap();
        // Without the null model's mean the log-link Poisson variance is refused.
        assert!(VarianceDecomposition::new(&m, None, 1e-5).is_err());
        let mu = fx["null_model"]["mu"].as_f64();
        let v = VarianceDecomposition::new(&m, mu, 1e-5).unwrap();
        let var = &fx["variance"];
        close("fixed", v.fixed, &var["var.fixed"]);
        close("random", v.random.unwrap(), &var["var.random"]);
        close("distribution", v.distribution, &var["var.distribution"]);
        close("dispersion", v.dispersion, &var["var.dispersion"]);
        close("r2 marginal", v.r2().0, &fx["r2"]["marginal"]);
        close("icc adjusted", v.icc().0, &fx["icc"]["adjusted"]);
    }

    #[test]
    fn vifs_of_an_interaction_model() {
        let fx = json("tests/fixtures/perf_cake_REML.json");
        let mut m = LinearMixedModel::new(
            fx["formula_ours"].as_str().unwrap(),
            &dataset("cake"),
            &LmmOptions::default(),
        )
        .unwrap();
        m.set_reml(true).unwrap();
        m.objective_at(&floats(&fx["theta"])).unwrap();
        let c = collinearity(&m, Some(0.95)).unwrap();
        assert!(c.has_intercept);
        let vif: Vec<f64> = c.rows.iter().map(|r| r.vif).collect();
        assert_close("vif", &vif, &floats(&fx["vif"]["vif"]));
        let high: Vec<f64> = c.rows.iter().map(|r| r.vif_ci.1).collect();
        assert_close("vif_ci_high", &high, &floats(&fx["vif"]["vif_ci_high"]));
        assert!(collinearity(&m, Some(1.5)).is_err());
    }
}
