//! Generalized linear mixed models against lme4 1.1-31 `glmer` fixtures
//! (tests/fixtures/glmm_*.json, written by tests/fixtures/generate_glmm.R):
//! cbpp (Binomial, proportions with the trials as weights), mmmec (Poisson
//! with an offset) and grouseticks (Poisson, three scalar terms including an
//! observation-level one).
//!
//! Two kinds of check:
//!
//! * the Laplace objective at lme4's (θ, β) (PIRLS for û at fixed β), with the
//!   conditional modes, conditional variances, R_X standard errors and the
//!   likelihood-based statistics at that point;
//! * our default fit (`fit(false, 1)`) against lme4's best fit.
//!
//! **lme4's objective is not exactly the Laplace approximation at the mode.**
//! Its PIRLS stops when the penalised deviance changes by less than
//! `tolPwrss` = 1e-7 relative, and L (hence `ldL2`, `vcov(use.hessian =
//! FALSE)` and `condVar`) is left factored at the working weights of the
//! iterate *before* the last one. As the penalised deviance is quadratic near
//! the mode, that iterate's η can be off by ~√tolPwrss, and log|L|² moves
//! linearly with it. The fixtures measure the effect: `value` is lme4's
//! `devfun(c(θ, β))`, `value_tight` the same with `tolPwrss = 1e-12`, and
//! `value_exact` = `resp$aic() + ussq + log det(Λ'Z'WZΛ + I)` with the
//! determinant computed densely at the final μ (the Laplace approximation at
//! the mode, computed from lme4's own state). lme4's `value` exceeds
//! `value_exact` by 3.0e-6 relative on cbpp (5.6e-4 absolute, all in `ldL2`),
//! 1.2e-8 on mmmec and 2.6e-8 on grouseticks (where even `tolPwrss = 1e-12`
//! leaves weights 6e-6 off in L). Our objective agrees with `value_exact` to
//! ≤ 5e-11 relative (mostly ~1e-14), so it is compared with that to 1e-9,
//! and with lme4's reported value to 1e-6 relative *plus* lme4's own
//! recorded error `|value − value_exact|` (the plain 1e-6 fails on cbpp:
//! 3.04e-6; a colleague's ~3e-7 estimate holds for VerbAgg, not here).

mod common;

use common::*;
use mixedmodels::data::{Column, Data};
use mixedmodels::glmm::{Family, GeneralizedLinearMixedModel, GlmmOptions};
use mixedmodels::MixedModel;
use serde_json::Value;

/// Our objective against lme4's exact Laplace value (same function, same point).
const EXACT_RTOL: f64 = 1e-9;
/// Our objective against lme4's reported value, on top of lme4's own error.
const LME4_RTOL: f64 = 1e-6;

fn numeric(data: &Data, name: &str) -> Vec<f64> {
    match data.column(name).unwrap() {
        Column::Numeric { values, .. } => values.clone(),
        _ => panic!("{name} is not numeric"),
    }
}

fn fixture(file: &str) -> Value {
    json(&format!("tests/fixtures/{file}.json"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// The models of the fixtures, built as the fixtures' `formula_ours` says.
fn build(case: &str) -> GeneralizedLinearMixedModel {
    match case {
        // lme4: incidence/size ~ 1 + period + (1 | herd), weights = size. Our
        // formula parser takes a column as the response, so prop = incidence / size.
        "cbpp" => {
            let mut data = dataset("cbpp");
            let size = numeric(&data, "size");
            let prop = numeric(&data, "incidence")
                .iter()
                .zip(&size)
                .map(|(k, n)| k / n)
                .collect();
            data.add_column("prop", Column::numeric(prop)).unwrap();
            GeneralizedLinearMixedModel::new(
                "prop ~ 1 + period + (1 | herd)",
                &data,
                Family::Binomial,
                None,
                &GlmmOptions {
                    weights: Some(size),
                    ..GlmmOptions::default()
                },
            )
            .unwrap()
        }
        // lme4: glmer(..., offset = log(expected)); here GlmmOptions::offset.
        "mmmec" => {
            let data = dataset("mmmec");
            let offset = numeric(&data, "expected").iter().map(|e| e.ln()).collect();
            GeneralizedLinearMixedModel::new(
                "deaths ~ 1 + uvb + (1 | region)",
                &data,
                Family::Poisson,
                None,
                &GlmmOptions {
                    offset: Some(offset),
                    ..GlmmOptions::default()
                },
            )
            .unwrap()
        }
        // The same offset as a formula term.
        "mmmec_formula_offset" => GeneralizedLinearMixedModel::new(
            "deaths ~ 1 + uvb + offset(log(expected)) + (1 | region)",
            &dataset("mmmec"),
            Family::Poisson,
            None,
            &GlmmOptions::default(),
        )
        .unwrap(),
        "grouseticks" => GeneralizedLinearMixedModel::new(
            "TICKS ~ 1 + YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
            &dataset("grouseticks"),
            Family::Poisson,
            None,
            &GlmmOptions::default(),
        )
        .unwrap(),
        _ => unreachable!("{case}"),
    }
}

/// For each of our random-effects terms, the index of lme4's term with the
/// same grouping factor (lme4 sorts terms by decreasing number of levels).
/// All terms here are scalar, so this also maps θ.
fn term_map(m: &GeneralizedLinearMixedModel, fx: &Value) -> Vec<usize> {
    let lme4 = strings(&fx["theta_groups"]);
    let ours: Vec<usize> = m
        .terms()
        .random
        .iter()
        .map(|t| {
            assert_eq!(t.ncols(), 1, "{}: scalar terms only", t.grouping);
            lme4.iter().position(|g| *g == t.grouping).unwrap()
        })
        .collect();
    assert_eq!(ours.len(), lme4.len());
    ours
}

/// lme4's θ in our term order.
fn theta_ours(theta_lme4: &[f64], map: &[usize]) -> Vec<f64> {
    map.iter().map(|&k| theta_lme4[k]).collect()
}

/// Our coefficient names match lme4's (`period: 2` ↔ `period2`).
fn check_names(m: &GeneralizedLinearMixedModel, fx: &Value) {
    let ours: Vec<String> = m.coef_names().iter().map(|n| n.replace(": ", "")).collect();
    assert_eq!(ours, strings(&fx["beta_names"]));
}

/// |ours − lme4| ≤ LME4_RTOL·|lme4| + lme4_err, lme4_err being lme4's own
/// error (|value − value_exact|) recorded in the fixture.
#[track_caller]
fn assert_lme4(ours: f64, lme4: f64, lme4_err: f64, what: &str) {
    let diff = (ours - lme4).abs();
    assert!(
        diff <= LME4_RTOL * lme4.abs() + lme4_err,
        "{what}: ours {ours} vs lme4 {lme4}: rel diff {:.2e} exceeds {LME4_RTOL:e} + lme4's own \
         error {:.2e}",
        diff / lme4.abs(),
        lme4_err / lme4.abs()
    );
}

/// Objective and statistics at every (θ, β) of `objective_at`; at the best
/// fit's point also SEs, ranef, condVar, AIC/BIC and the counts.
fn check_objective_at(case: &str, file: &str) {
    let fx = fixture(file);
    let mut m = build(case);
    let map = term_map(&m, &fx);
    check_names(&m, &fx);
    let nobs = f(&fx["nobs"]) as usize;
    let df = f(&fx["df"]) as usize;
    for (i, at) in fx["objective_at"].as_array().unwrap().iter().enumerate() {
        let label = at["label"].as_str().unwrap();
        let theta = theta_ours(&floats(&at["theta"]), &map);
        let beta = floats(&at["beta"]);
        let obj = m.evaluate(&theta, Some(&beta), 1).unwrap();
        // −2ℓ = Laplace deviance + the saturated model's −2ℓ (lme4's devfun value).
        let m2ll = -2.0 * m.loglikelihood().unwrap();
        assert_rel(
            m2ll,
            obj + m.minus2loglik_saturated(),
            1e-14,
            "−2ℓ = objective + saturated",
        );
        let (value, exact) = (f(&at["value"]), f(&at["value_exact"]));
        let lme4_err = (value - exact).abs();
        eprintln!(
            "{file} at {label}: ours {m2ll:.10}; lme4 {value:.10} (rel diff {:+.2e}), \
             tight {:.10}, exact {exact:.10} (rel diff {:+.2e}); \
             ldL2 ours {:.10} lme4 {:.10} exact {:.10}",
            (m2ll - value) / value,
            f(&at["value_tight"]),
            (m2ll - exact) / exact,
            m.logdet(),
            f(&at["ldL2"]),
            f(&at["ldL2_exact"]),
        );
        assert_rel(m2ll, exact, EXACT_RTOL, &format!("{file} {label}: exact"));
        assert_lme4(m2ll, value, lme4_err, &format!("{file} {label}: lme4"));
        // The pieces: Σ dᵢ and ‖û‖² at the mode (lme4's tight PIRLS), log|L|².
        assert_rel(m.deviance(), f(&at["drsum_tight"]), 1e-8, "Σ dᵢ");
        assert_rel(m.sum_u_squared(), f(&at["ussq_tight"]), 1e-7, "‖û‖²");
        assert_rel(m.logdet(), f(&at["ldL2_exact"]), EXACT_RTOL, "log|L|²");
        if i > 0 {
            continue;
        }
        // The best fit's own point: what lme4 reports for the fitted model.
        assert_lme4(m2ll, f(&fx["objective"]), lme4_err, "best fit's −2 logLik");
        assert_rel(
            m.minus2loglik_saturated(),
            f(&fx["minus2loglik_saturated"]),
            1e-12,
            "saturated −2ℓ",
        );
        assert_eq!(m.nobs(), nobs);
        assert_eq!(m.dof(), df);
        let ngrps = &fx["ngrps"];
        for t in &m.terms().random {
            assert_eq!(t.nlevels() as f64, f(&ngrps[t.grouping.as_str()]));
        }
        // lme4's AIC/BIC are −2 logLik + 2·df and + df·log(n); with lme4's
        // objective error (AIC − value_exact is exactly lme4's definition at the mode).
        let aic_exact = f(&fx["AIC"]) - (value - exact);
        let bic_exact = f(&fx["BIC"]) - (value - exact);
        assert_rel(
            m.aic().unwrap(),
            aic_exact,
            EXACT_RTOL,
            "AIC (exact Laplace)",
        );
        assert_rel(
            m.bic().unwrap(),
            bic_exact,
            EXACT_RTOL,
            "BIC (exact Laplace)",
        );
        assert_lme4(m.aic().unwrap(), f(&fx["AIC"]), lme4_err, "AIC vs lme4");
        assert_lme4(m.bic().unwrap(), f(&fx["BIC"]), lme4_err, "BIC vs lme4");
        assert_lme4(
            m.loglikelihood().unwrap(),
            f(&fx["logLik"]),
            lme4_err / 2.0,
            "logLik vs lme4",
        );
        // R_X standard errors: lme4's R_X is factored at the previous PIRLS
        // iterate, ours at the mode (measured: ≤ 3.4e-5 relative on cbpp,
        // ≤ 2e-7 on the Poisson models).
        let se = m.stderror();
        for ((name, got), want) in strings(&fx["beta_names"])
            .iter()
            .zip(&se)
            .zip(floats(&fx["stderror_rx"]))
        {
            eprintln!(
                "  SE(R_X) {name}: ours {got:.10} lme4 {want:.10} (rel {:+.2e})",
                (got - want) / want
            );
            assert_rel(*got, want, 1e-4, &format!("{file} SE(R_X) {name}"));
        }
        // Conditional modes and variances of the first 5 levels of each term
        // (matched by level label). Measured: b within 3e-9; condVar within
        // 4.5e-5 relative on cbpp (lme4's L is at the previous iterate),
        // 1.1e-7 on the Poisson models.
        let b = m.b();
        let cv = m.condvar();
        for (k, term) in m.terms().random.iter().enumerate() {
            let rf = &fx["ranef"][map[k]];
            assert_eq!(rf["group"].as_str().unwrap(), term.grouping);
            let cvs = floats(&rf["condVar"]);
            for (j, level) in strings(&rf["levels"]).iter().enumerate() {
                let l = term.levels.iter().position(|x| x == level).unwrap();
                let (want_b, want_cv) = (f(&rf["values"][j][0]), cvs[j]);
                eprintln!(
                    "  {} {level}: b {:.10} vs {want_b:.10}, condVar {:.10} vs {want_cv:.10}",
                    term.grouping, b[k][l], cv[k][l]
                );
                assert!(
                    (b[k][l] - want_b).abs() <= 1e-7 * want_b.abs().max(1.0),
                    "{file} b[{}][{level}]: {} vs {want_b}",
                    term.grouping,
                    b[k][l]
                );
                assert_rel(
                    cv[k][l],
                    want_cv,
                    1e-4,
                    &format!("{file} condVar[{}][{level}]", term.grouping),
                );
            }
        }
    }
}

#[test]
fn cbpp_objective_at_lme4_parameters() {
    check_objective_at("cbpp", "glmm_cbpp_binomial");
}

#[test]
fn mmmec_objective_at_lme4_parameters() {
    check_objective_at("mmmec", "glmm_mmmec_poisson_offset");
}

#[test]
fn grouseticks_objective_at_lme4_parameters() {
    check_objective_at("grouseticks", "glmm_grouseticks_poisson");
}

/// The offset as `GlmmOptions::offset` (ln(expected) per row) and as the
/// formula term `offset(log(expected))` give the same model.
#[test]
fn mmmec_offset_option_equals_formula_term() {
    let fx = fixture("glmm_mmmec_poisson_offset");
    let theta = floats(&fx["theta"]);
    let beta = floats(&fx["beta"]);
    let mut a = build("mmmec");
    let mut b = build("mmmec_formula_offset");
    let oa = a.offset().unwrap().to_vec();
    let ob = b.offset().unwrap().to_vec();
    assert_eq!(oa, ob, "offsets");
    let va = a.evaluate(&theta, Some(&beta), 1).unwrap();
    let vb = b.evaluate(&theta, Some(&beta), 1).unwrap();
    assert_rel(va, vb, 1e-13, "objective, option vs formula offset");
    // Without the offset the model is a different one.
    let mut c = GeneralizedLinearMixedModel::new(
        "deaths ~ 1 + uvb + (1 | region)",
        &dataset("mmmec"),
        Family::Poisson,
        None,
        &GlmmOptions::default(),
    )
    .unwrap();
    let vc = c.evaluate(&theta, Some(&beta), 1).unwrap();
    assert!((vc - va).abs() > 1e3, "offset ignored? {vc} vs {va}");
}

/// Our default fit against lme4's best fit.
///
/// * Objective: ours ≤ lme4's best −2 logLik + 1e-6 relative, and ≤ the exact
///   Laplace value at every (θ, β) lme4 produced + 1e-9 relative (same function).
/// * θ within 1e-3 relative, β within 1e-3 relative or 0.02 standard errors,
///   R_X SEs within 1e-3 relative. The Laplace optimum is flat in (θ, β), and
///   lme4 minimises its slightly perturbed objective (see the top of the
///   file), so its optimum is not ours: measured gaps of ours to lme4's best
///   are ≤ 3.1e-4 relative in θ (cbpp) and ≤ 1.4e-3 SE in β (cbpp period4).
///   lme4's own default and polished fits differ much less (recorded in
///   `spread_default_vs_polish`: θ ≤ 9e-6 relative and β ≤ 5e-5 SE on cbpp,
///   at most 3.8e-5 and 2e-4 SE on grouseticks, depending on the R session;
///   checked below with 1e-4 and 1e-3 SE) because they minimise the same
///   perturbed function; lme4's fit of the tightly converged function
///   (`polish_bobyqa_tight`) is close to ours (θ ≤ 2e-5 relative, β ≤ 2e-5
///   SE; checked with 1e-4 and 5e-3 SE). So 1e-3 relative / 0.02 SE is a
///   loose bound here, ~3x and ~15x the largest gap seen.
/// * logLik, AIC and BIC by lme4's definitions (−2ℓ includes the saturated
///   model's constants; AIC = −2ℓ + 2·df, BIC = −2ℓ + df·ln n, df = #β + #θ)
///   to 1e-12, and against lme4's values to 1e-6 relative + lme4's error.
fn check_fit(case: &str, file: &str) {
    let fx = fixture(file);
    let mut m = build(case);
    let map = term_map(&m, &fx);
    let t = std::time::Instant::now();
    m.fit(false, 1).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let m2ll = -2.0 * m.loglikelihood().unwrap();
    let best = f(&fx["objective"]);
    let at = fx["objective_at"].as_array().unwrap();
    let lme4_err = (f(&at[0]["value"]) - f(&at[0]["value_exact"])).abs();
    let theta_lme4 = theta_ours(&floats(&fx["theta"]), &map);
    let beta_lme4 = floats(&fx["beta"]);
    let se_lme4 = floats(&fx["stderror_rx"]);
    let se = m.stderror();
    eprintln!(
        "{file}: ours −2ℓ {m2ll:.10} (objective {:.10}) in {secs:.3} s, {} evaluations; lme4 best \
         ({}) {best:.10}, its exact Laplace value {:.10}",
        m.objective(),
        m.optsum().unwrap().evaluations,
        fx["best_fit"],
        f(&at[0]["value_exact"])
    );
    eprintln!("  θ ours {:?}\n  θ lme4 {theta_lme4:?}", m.theta());
    eprintln!("  β ours {:?}\n  β lme4 {beta_lme4:?}", m.beta());
    eprintln!("  SE ours {se:?}\n  SE lme4 {se_lme4:?}");
    eprintln!(
        "  AIC {} (lme4 {}), BIC {} (lme4 {}), logLik {} (lme4 {})",
        m.aic().unwrap(),
        fx["AIC"],
        m.bic().unwrap(),
        fx["BIC"],
        m.loglikelihood().unwrap(),
        fx["logLik"]
    );
    assert!(
        m2ll <= best + 1e-6 * best,
        "{file}: −2ℓ {m2ll} above lme4's best {best}"
    );
    for a in at {
        let exact = f(&a["value_exact"]);
        assert!(
            m2ll <= exact + EXACT_RTOL * exact,
            "{file}: −2ℓ {m2ll} above the exact Laplace value {exact} at {}",
            a["label"]
        );
    }
    for (k, (got, want)) in m.theta().iter().zip(&theta_lme4).enumerate() {
        eprintln!("  θ[{k}] rel diff {:+.2e}", (got - want) / want);
        assert_rel(*got, *want, 1e-3, &format!("{file} θ[{k}]"));
    }
    for (j, ((got, want), s)) in m.beta().iter().zip(&beta_lme4).zip(&se_lme4).enumerate() {
        let d = (got - want).abs();
        eprintln!(
            "  β[{j}] diff {:.2e} relative, {:.2e} SE",
            d / want.abs(),
            d / s
        );
        assert!(
            d <= 1e-3 * want.abs() || d <= 0.02 * s,
            "{file} β[{j}]: {got} vs lme4 {want} (SE {s})"
        );
    }
    for (j, (got, want)) in se.iter().zip(&se_lme4).enumerate() {
        assert_rel(*got, *want, 1e-3, &format!("{file} SE(R_X)[{j}]"));
    }
    // lme4's own spread (default vs polished fit).
    let spread = &fx["spread_default_vs_polish"];
    let max = |v: &Value| floats(v).into_iter().fold(0.0f64, f64::max);
    eprintln!(
        "  lme4 default vs polish: θ ≤ {:.2e} relative, β ≤ {:.2e} SE",
        max(&spread["theta_rel"]),
        max(&spread["beta_in_se"])
    );
    assert!(max(&spread["theta_rel"]) < 1e-4 && max(&spread["beta_in_se"]) < 1e-3);
    // lme4 minimising the tightly converged objective.
    let tight = fx["fits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "polish_bobyqa_tight")
        .unwrap();
    let theta_t = theta_ours(&floats(&tight["theta"]), &map);
    for (k, (got, want)) in m.theta().iter().zip(&theta_t).enumerate() {
        eprintln!(
            "  θ[{k}] vs lme4 tight: rel diff {:+.2e}",
            (got - want) / want
        );
        assert_rel(*got, *want, 1e-4, &format!("{file} θ[{k}] vs lme4 tight"));
    }
    for (j, ((got, want), s)) in m
        .beta()
        .iter()
        .zip(floats(&tight["beta"]))
        .zip(&se)
        .enumerate()
    {
        eprintln!("  β[{j}] vs lme4 tight: {:.2e} SE", (got - want).abs() / s);
        assert!(
            (got - want).abs() <= 5e-3 * s,
            "{file} β[{j}] vs lme4 tight"
        );
    }
    // Likelihood-based statistics by lme4's definitions.
    let df = f(&fx["df"]);
    let n = f(&fx["nobs"]);
    assert_eq!(m.dof() as f64, df);
    assert_eq!(m.nobs() as f64, n);
    assert_rel(
        m2ll,
        m.objective() + m.minus2loglik_saturated(),
        1e-14,
        "−2ℓ",
    );
    assert_rel(m.aic().unwrap(), m2ll + 2.0 * df, 1e-12, "AIC definition");
    assert_rel(
        m.bic().unwrap(),
        m2ll + df * n.ln(),
        1e-12,
        "BIC definition",
    );
    assert_lme4(m2ll, best, lme4_err, &format!("{file} −2ℓ vs lme4"));
    assert_lme4(
        m.aic().unwrap(),
        f(&fx["AIC"]),
        lme4_err,
        &format!("{file} AIC"),
    );
    assert_lme4(
        m.bic().unwrap(),
        f(&fx["BIC"]),
        lme4_err,
        &format!("{file} BIC"),
    );
}

#[test]
fn cbpp_fit() {
    check_fit("cbpp", "glmm_cbpp_binomial");
}

#[test]
fn mmmec_fit() {
    check_fit("mmmec", "glmm_mmmec_poisson_offset");
}

#[test]
fn grouseticks_fit() {
    check_fit("grouseticks", "glmm_grouseticks_poisson");
}
