//! Scale invariance: a predictor multiplied by 10^k, k = −8 … 8, gives the
//! fit of k = 0 in the new units (θ and β of its column divided by 10^k, the
//! same objective and fitted values), whether it enters the random effects
//! (the θ layout's units, `model::scaling`) or only X; a response
//! multiplied by 10^k moves the objective by exactly the Jacobian term.
//!
//! The reference of each series is the fit at k = 0; sleepstudy's extremes
//! are also compared with lme4's optimum (tests/reference/lme4_public.json)
//! in the new units. Tolerances:
//!
//! * objective 1e-8 relative (the requirement; measured at most
//!   2.2e-12 for the LMMs, 2.1e-12 for the GLMMs);
//! * REML: the criterion contains log|R_X|², so a column of X multiplied by
//!   c adds 2 log c exactly (lme4's REML criterion does the same); the
//!   objective is compared after subtracting it;
//! * LMMs: fitted values 1e-6 relative, θ 1e-4 of the largest |θ|, β 1e-5
//!   standard errors (BOBYQA stops at a radius of 1e-6 on θ̃; measured at
//!   most 1e-7, 9e-6 and 1.1e-6; lme4's θ, itself less precise, within 3.5e-5);
//! * GLMM fast fits (radius 1e-6 on θ̃, PIRLS to 1e-9): fitted values 1e-5
//!   relative, θ 1e-5 of the largest, β 1e-4 standard errors (measured
//!   3.1e-6, 7.6e-7, 1.4e-6); joint fits (radius 3e-4 standard errors of β,
//!   the optimum reached from different starting points at objectives equal
//!   to 2e-12): 2e-4, 5e-5 and 5e-4 (measured 2.5e-5, 4.4e-6, 5.6e-5).

mod common;

use common::*;
use mixedmodels::data::{Column, Data};
use mixedmodels::glmm::{Family, GeneralizedLinearMixedModel, GlmmOptions};
use mixedmodels::model::CertificateStatus;
use mixedmodels::{LinearMixedModel, LmmOptions, MixedModel};

const LN_10: f64 = std::f64::consts::LN_10;

/// `data` with column `name` multiplied by `factor`.
fn scaled(data: &Data, name: &str, factor: f64) -> Data {
    let mut out = data.clone();
    let Some(Column::Numeric { values, .. }) = data.get(name) else {
        panic!("{name} is not numeric");
    };
    let values = values.iter().map(|v| v * factor).collect();
    out.add_column(name, Column::numeric(values)).unwrap();
    out
}

/// `data` with a numeric column `x` that cycles through 17 values in 0–4.
fn with_x(mut data: Data) -> Data {
    let x = (0..data.nrows())
        .map(|i| ((i * 37) % 17) as f64 / 4.0)
        .collect();
    data.add_column("x", Column::numeric(x)).unwrap();
    data
}

/// The largest relative difference between `a` and `b`.
fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / y.abs().max(f64::MIN_POSITIVE))
        .fold(0.0, f64::max)
}

/// θ (in the units of k = 0) equal to `tol` of the largest |θ| (or 1);
/// returns the largest difference in that unit.
#[track_caller]
fn assert_theta_close(theta: &[f64], base: &[f64], tol: f64, what: &str) -> f64 {
    let size = base.iter().fold(1.0f64, |a, t| a.max(t.abs()));
    let mut worst = 0.0f64;
    for (i, (a, b)) in theta.iter().zip(base).enumerate() {
        assert!((a - b).abs() <= tol * size, "{what}: θ[{i}] {a} vs {b}");
        worst = worst.max((a - b).abs() / size);
    }
    worst
}

/// The largest difference between `a` and `b` in standard errors `se`.
fn beta_in_se(a: &[f64], b: &[f64], se: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .zip(se)
        .map(|((a, b), s)| (a - b).abs() / s)
        .fold(0.0, f64::max)
}

fn fit_lmm(data: &Data, formula: &str, reml: bool) -> LinearMixedModel {
    let mut m = LinearMixedModel::new(formula, data, &LmmOptions::default()).unwrap();
    m.fit(reml).unwrap();
    m
}

/// Fit `formula` with `column` multiplied by 10^k for k = −8 … 8 and
/// compare with k = 0: objective (less 2k·log 10 per column of X that is
/// scaled, under REML), fitted values, θ and β (the entries in
/// `theta_scaled` and `beta_scaled` scale by 10^−k).
fn lmm_series(
    data: &Data,
    formula: &str,
    column: &str,
    theta_scaled: &[usize],
    beta_scaled: &[usize],
) {
    for reml in [false, true] {
        let base = fit_lmm(data, formula, reml);
        let units = base.layout().units().to_vec();
        assert!(units.iter().all(|&u| u == 1.0), "{formula}: {units:?}");
        let mut worst = [0.0f64; 4];
        for k in -8..=8 {
            let c = 10f64.powi(k);
            let m = fit_lmm(&scaled(data, column, c), formula, reml);
            let what = format!("{formula} (REML {reml}) × 1e{k}");
            let r = m.fit_record().unwrap();
            assert!(r.converged(), "{what}");
            assert_eq!(r.certificate.status, CertificateStatus::Certified, "{what}");
            let shift = if reml {
                2.0 * beta_scaled.len() as f64 * k as f64 * LN_10
            } else {
                0.0
            };
            let rel = ((m.objective() - shift) - base.objective()).abs() / base.objective();
            assert!(
                rel <= 1e-8,
                "{what}: objective {} rel {rel:e}",
                m.objective()
            );
            let fit = max_rel(&m.fitted(), &base.fitted());
            assert!(fit <= 1e-6, "{what}: fitted values differ by {fit:e}");
            let mut theta = m.theta().to_vec();
            theta_scaled.iter().for_each(|&i| theta[i] *= c);
            let th = assert_theta_close(&theta, base.theta(), 1e-4, &what);
            let mut beta = m.beta();
            beta_scaled.iter().for_each(|&i| beta[i] *= c);
            let beta_rel = beta_in_se(&beta, &base.beta(), &base.stderror());
            assert!(beta_rel <= 1e-5, "{what}: β differs by {beta_rel:e} SE");
            for (w, v) in worst.iter_mut().zip([rel, fit, th, beta_rel]) {
                *w = w.max(v);
            }
            assert_eq!(m.is_singular(), base.is_singular(), "{what}");
            assert_eq!(
                m.layout().at_bound(m.theta(), 1e-8),
                base.layout().at_bound(base.theta(), 1e-8),
                "{what}"
            );
        }
        eprintln!(
            "{formula} (REML {reml}): objective within {:.1e}, fitted values {:.1e}, \
             θ {:.1e}, β {:.1e} standard errors",
            worst[0], worst[1], worst[2], worst[3]
        );
    }
}

#[test]
fn sleepstudy_random_slope_in_any_units() {
    let data = dataset("sleepstudy");
    let formula = "Reaction ~ 1 + Days + (1 + Days | Subject)";
    lmm_series(&data, formula, "Days", &[1, 2], &[1]);
    // At the extremes, lme4's optimum of k = 0 in the new units (the REML
    // criterion moved by 2k·log 10 for X's Days column).
    for (id, reml) in [("sleepstudy_ML", false), ("sleepstudy_REML", true)] {
        let r = lme4_record(id);
        let theta = floats(&r["theta"]);
        for k in [-8, 8] {
            let c = 10f64.powi(k);
            let m = fit_lmm(&scaled(&data, "Days", c), formula, reml);
            let shift = if reml { 2.0 * k as f64 * LN_10 } else { 0.0 };
            let what = format!("{id}, Days × 1e{k}");
            let want = r["objective"].as_f64().unwrap() + shift;
            assert_rel(m.objective(), want, 1e-9, &what);
            let th = m.theta();
            assert_theta_close(&[th[0], th[1] * c, th[2] * c], &theta, 1e-4, &what);
        }
    }
}

#[test]
fn a_covariate_in_x_only() {
    let data = with_x(dataset("sleepstudy"));
    lmm_series(
        &data,
        "Reaction ~ 1 + Days + x + (1 | Subject)",
        "x",
        &[],
        &[2],
    );
}

#[test]
fn crossed_and_nested_terms_with_a_scaled_slope() {
    // Crossed: plate × sample, x's slope varying by plate.
    lmm_series(
        &with_x(dataset("penicillin")),
        "diameter ~ 1 + x + (1 + x | plate) + (1 | sample)",
        "x",
        &[1, 2],
        &[1],
    );
    // Nested: cask within batch, x's slope varying by cask.
    lmm_series(
        &with_x(dataset("pastes")),
        "strength ~ 1 + x + (1 | batch) + (0 + x | batch & cask)",
        "x",
        &[0],
        &[1],
    );
    // Singular (the slope's variance by sample is 0) at every scale: the
    // zero trials and the singularity check work in θ's units.
    lmm_series(
        &with_x(dataset("penicillin")),
        "diameter ~ 1 + x + (1 | plate) + (1 + x | sample)",
        "x",
        &[2, 3],
        &[1],
    );
}

#[test]
fn a_scaled_response_moves_the_objective_by_the_jacobian() {
    // y × c: σ and β scale by c, θ does not, and −2 log L rises by
    // 2 n log c (ML) or 2 (n − p) log c (REML).
    let data = dataset("sleepstudy");
    let formula = "Reaction ~ 1 + Days + (1 + Days | Subject)";
    for reml in [false, true] {
        let base = fit_lmm(&data, formula, reml);
        let n = base.nobs() as f64 - if reml { base.rank() as f64 } else { 0.0 };
        for k in (-8..=8).step_by(4) {
            let c = 10f64.powi(k);
            let m = fit_lmm(&scaled(&data, "Reaction", c), formula, reml);
            let what = format!("Reaction × 1e{k} (REML {reml})");
            let expected = base.objective() + 2.0 * n * k as f64 * LN_10;
            assert_rel(m.objective(), expected, 1e-12, &what);
            let beta: Vec<f64> = m.beta().iter().map(|b| b / c).collect();
            assert_theta_close(m.theta(), base.theta(), 1e-4, &what);
            assert_rel(m.sigma() / c, base.sigma(), 1e-7, &what);
            assert!(max_rel(&beta, &base.beta()) <= 1e-7, "{what}: β");
        }
    }
}

fn fit_glmm(data: &Data, formula: &str, fast: bool) -> GeneralizedLinearMixedModel {
    let options = GlmmOptions::default();
    let mut m =
        GeneralizedLinearMixedModel::new(formula, data, Family::Bernoulli, None, &options).unwrap();
    m.fit(fast, 1).unwrap();
    m
}

/// As [`lmm_series`] for a Bernoulli GLMM of Contraception with `age`
/// scaled, fast and Laplace (joint) fits.
fn glmm_series(formula: &str, theta_scaled: &[usize], beta_scaled: &[usize]) {
    let data = dataset("contraception");
    // (fast, fitted values relative, θ of the largest, β in standard errors)
    for (fast, fitted_tol, theta_tol, beta_tol) in
        [(true, 1e-5, 1e-5, 1e-4), (false, 2e-4, 5e-5, 5e-4)]
    {
        let base = fit_glmm(&data, formula, fast);
        let se = base.stderror();
        let mut worst = [0.0f64; 4];
        for k in -8..=8 {
            let c = 10f64.powi(k);
            let m = fit_glmm(&scaled(&data, "age", c), formula, fast);
            let what = format!("{formula} (fast {fast}) × 1e{k}");
            let r = m.fit_record().unwrap();
            assert_eq!(r.certificate.status, CertificateStatus::Certified, "{what}");
            let rel = (m.objective() - base.objective()).abs() / base.objective();
            assert!(
                rel <= 1e-8,
                "{what}: objective {} rel {rel:e}",
                m.objective()
            );
            let fit = max_rel(&m.fitted(), &base.fitted());
            assert!(fit <= fitted_tol, "{what}: fitted values differ by {fit:e}");
            let mut theta = m.theta().to_vec();
            theta_scaled.iter().for_each(|&i| theta[i] *= c);
            let th = assert_theta_close(&theta, base.theta(), theta_tol, &what);
            let mut beta = m.beta();
            beta_scaled.iter().for_each(|&i| beta[i] *= c);
            let be = beta_in_se(&beta, &base.beta(), &se);
            assert!(be <= beta_tol, "{what}: β differs by {be:e} SE");
            for (w, v) in worst.iter_mut().zip([rel, fit, th, be]) {
                *w = w.max(v);
            }
        }
        eprintln!(
            "{formula} (fast {fast}): objective within {:.1e}, fitted values {:.1e}, \
             θ {:.1e}, β {:.1e} standard errors",
            worst[0], worst[1], worst[2], worst[3]
        );
    }
}

#[test]
fn glmm_random_slope_in_any_units() {
    glmm_series("use ~ 1 + age + (1 + age | district)", &[1, 2], &[1]);
}

#[test]
fn glmm_covariate_in_x_only() {
    glmm_series("use ~ 1 + age + urban + (1 | district)", &[], &[1]);
}
