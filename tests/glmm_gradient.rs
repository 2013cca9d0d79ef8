//! The analytic gradient of the GLMM objectives (src/glmm/gradient.rs)
//! equals finite differences of the objective that `evaluate` returns: the
//! Laplace deviance with respect to (θ, β), and the `fast` objective (β from
//! PIRLS with u, lme4's nAGQ = 0) with respect to θ. Every GLMM test model,
//! each with Laplace and fast: cbpp Binomial (proportions with the trials
//! as weights; as `cbind` Laplace only), grouseticks Poisson (three scalar
//! terms), mmmec Poisson with an offset, contraception Bernoulli (logit and
//! probit, and the vector-valued term `(1 + urban | district)`), cbpp with
//! the cloglog link, and VerbAgg (crossed terms: dense blocks in L). Each at
//! the fit's optimum (where the gradient must also nearly vanish) and at a
//! point away from it; and with a diagonal entry of λ on its bound 0.
//!
//! Differences, per component k: Ridders' extrapolation (a Neville tableau
//! over steps h₀, h₀/1.4, h₀/1.4², …) of central differences from
//! h₀ = 0.05·max(|θ_k|, 0.1) for θ and half a standard error for β (of
//! forward differences from 0.01 for a θ entry on its bound 0).
//!
//! Agreement: |g − fd| ≤ 1e-6·max(|g|, 1), with θ in its own units and β
//! in units of its standard error (coordinates where the objective's
//! curvature is of order 1; in raw units a coefficient such as
//! contraception's age², SE 1e-4, has derivatives of 10⁴–10⁵ that no
//! difference quotient resolves to 1e-6 absolute). The floor of 1 is what
//! differences can resolve near an optimum, where g → 0: the objectives
//! (10²–10⁴) carry noise of ~1e-10 (rounding, and PIRLS converged to 1e-9 of
//! η's scale, an error log|L|² sees linearly; Fisher scoring converges only
//! linearly for the probit and cloglog links), so a difference quotient
//! carries noise of ~1e-10/h. Measured (printed with `--nocapture`): at most
//! 6e-10 for the canonical links away from the optimum, 1e-7 anywhere.

mod common;

use common::*;
use mixedmodels::data::{Column, Data};
use mixedmodels::glmm::{Family, GeneralizedLinearMixedModel, GlmmOptions, Link};
use mixedmodels::MixedModel;

const RTOL: f64 = 1e-6;
const CONTRA: &str = "use ~ 1 + age + abs2(age) + livch + urban + (1 | district)";
const CONTRA_SLOPE: &str = "use ~ 1 + age + abs2(age) + livch + urban + (1 + urban | district)";
const VERBAGG: &str = "r2 ~ 1 + Anger + Gender + btype + situ + mode + (1 | id) + (1 | item)";

fn numeric(data: &Data, name: &str) -> Vec<f64> {
    match data.column(name).unwrap() {
        Column::Numeric { values, .. } => values.clone(),
        _ => panic!("{name} is not numeric"),
    }
}

fn build(
    formula: &str,
    data: &Data,
    family: Family,
    link: Option<Link>,
    options: GlmmOptions,
) -> GeneralizedLinearMixedModel {
    GeneralizedLinearMixedModel::new(formula, data, family, link, &options).unwrap()
}

/// A Bernoulli model of `formula` with the default options.
fn bernoulli(formula: &str, data: &Data, link: Option<Link>) -> GeneralizedLinearMixedModel {
    build(
        formula,
        data,
        Family::Bernoulli,
        link,
        GlmmOptions::default(),
    )
}

/// mmmec's Poisson model with the log of the expected deaths as offset.
fn mmmec_offset() -> GeneralizedLinearMixedModel {
    let data = dataset("mmmec");
    let offset: Vec<f64> = numeric(&data, "expected").iter().map(|e| e.ln()).collect();
    let options = GlmmOptions {
        offset: Some(offset),
        ..GlmmOptions::default()
    };
    let formula = "deaths ~ 1 + uvb + (1 | region)";
    build(formula, &data, Family::Poisson, None, options)
}

/// cbpp as proportions with the trials as prior weights.
fn cbpp_proportions(link: Option<Link>) -> GeneralizedLinearMixedModel {
    let mut data = dataset("cbpp");
    let size = numeric(&data, "size");
    let prop = numeric(&data, "incidence")
        .iter()
        .zip(&size)
        .map(|(k, n)| k / n)
        .collect();
    data.add_column("prop", Column::numeric(prop)).unwrap();
    let options = GlmmOptions {
        weights: Some(size),
        ..GlmmOptions::default()
    };
    build(
        "prop ~ 1 + period + (1 | herd)",
        &data,
        Family::Binomial,
        link,
        options,
    )
}

/// The objective at x = (θ, β) (θ only for `fast`), evaluated twice: the
/// second PIRLS starts from the first one's mode and takes one more
/// Fisher-scoring step, which for the probit and cloglog links (where it
/// converges only linearly) cuts the noise of the differences by about
/// half (worst case measured: 2.9e-7 → 8e-8 scaled deviation).
fn objective(m: &mut GeneralizedLinearMixedModel, x: &[f64], ntheta: usize, fast: bool) -> f64 {
    let (theta, beta) = x.split_at(ntheta);
    let nagq = m.nagq();
    m.evaluate(theta, (!fast).then_some(beta), nagq).unwrap();
    m.evaluate(theta, (!fast).then_some(beta), nagq).unwrap()
}

/// Compare the analytic gradient with differences at x = (θ, β) (θ only
/// for `fast`), component k in units of `unit[k]` (initial difference step
/// `h0[k]`); returns the gradient and the largest scaled deviation.
#[track_caller]
fn check_at(
    m: &mut GeneralizedLinearMixedModel,
    x: &[f64],
    unit: &[f64],
    h0: &[f64],
    fast: bool,
    what: &str,
) -> (Vec<f64>, f64) {
    let ntheta = m.layout().len();
    let lower = m.layout().lower();
    let (theta, beta) = x.split_at(ntheta);
    let (f, g) = m
        .objective_and_gradient(theta, (!fast).then_some(beta))
        .unwrap();
    assert_eq!(g.len(), x.len(), "{what}: gradient length");
    // `evaluate` starts PIRLS from the modes held, which differ from the
    // ones the gradient started from: the two modes agree to PIRLS's
    // tolerance (1e-9 of η's scale), which log|L|² sees linearly.
    let f_eval = objective(m, x, ntheta, fast);
    assert_rel(f, f_eval, 1e-10, &format!("{what}: objective vs evaluate"));
    let mut worst = 0.0f64;
    for k in 0..x.len() {
        let mut at = |d: f64| {
            let mut y = x.to_vec();
            y[k] += d;
            objective(m, &y, ntheta, fast)
        };
        // A diagonal θ entry on its bound 0: forward differences.
        let fd = if k < lower.len() && lower[k] == 0.0 && x[k] == 0.0 {
            let f0 = at(0.0);
            ridders(|h| (at(h) - f0) / h, 0.01, 1)
        } else {
            ridders(|h| (at(h) - at(-h)) / (2.0 * h), h0[k], 2)
        };
        let (gk, fdk) = (g[k] * unit[k], fd * unit[k]);
        let dev = (gk - fdk).abs() / gk.abs().max(1.0);
        worst = worst.max(dev);
        assert!(
            dev <= RTOL,
            "{what}: ∂f/∂x[{k}] analytic {} vs differences {fd} (in units of {}: scaled \
             |diff| {dev:e} > {RTOL:e}) at x = {x:?}",
            g[k],
            unit[k]
        );
    }
    (g, worst)
}

/// Fit (`fast` or Laplace), then check at the optimum and at a point away
/// from it: θ scaled by 1.3 (+0.1 on the diagonal, +0.05 off it), β moved
/// by one standard error, up and down alternately. Initial difference
/// steps: 0.05·max(|θ_k|, 0.1) for θ, half a standard error for β.
///
/// At the optimum the gradient must also nearly vanish. In β, in units of
/// standard errors (where the Hessian of −2ℓ is about 2I), the joint
/// stage stops within ~3e-4 of the optimum, so |g_β·SE| ≲ 1e-3; the bound
/// is 1e-2. In θ BOBYQA stops with a radius of 1e-6 (fast) or 1.5e-5
/// (joint stage) while the curvatures are at most ~10³: the bound is 0.05.
/// (The largest values are printed with `--nocapture`.)
fn check_model(m: GeneralizedLinearMixedModel, fast: bool, what: &str) {
    check_model_nagq(m, fast, 1, what);
}

/// [`check_model`] for the objective with `nagq` quadrature points (the
/// fit's and the gradient's).
fn check_model_nagq(mut m: GeneralizedLinearMixedModel, fast: bool, nagq: usize, what: &str) {
    m.fit(fast, nagq).unwrap();
    let diag = m.layout().diagonal();
    let ntheta = diag.len();
    let se = m.stderror();
    let mut opt: Vec<f64> = m.theta().to_vec();
    let mut h0: Vec<f64> = opt.iter().map(|t| 0.05 * t.abs().max(0.1)).collect();
    let mut unit = vec![1.0; ntheta];
    if !fast {
        opt.extend(m.beta());
        h0.extend(se.iter().map(|s| 0.5 * s));
        unit.extend(&se);
    }
    let lower = m.layout().lower();
    let (g, worst_opt) = check_at(
        &mut m,
        &opt,
        &unit,
        &h0,
        fast,
        &format!("{what} at the optimum"),
    );
    let mut gmax_theta = 0.0f64;
    let mut gmax_beta = 0.0f64;
    for (k, gk) in g.iter().enumerate() {
        if k >= ntheta {
            let scaled = gk * se[k - ntheta];
            gmax_beta = gmax_beta.max(scaled.abs());
            assert!(
                scaled.abs() <= 1e-2,
                "{what}: ∂f/∂β[{}]·SE = {scaled} is not near 0 at the optimum {opt:?}",
                k - ntheta
            );
        } else if lower[k] == 0.0 && opt[k] == 0.0 {
            assert!(*gk >= -1e-6, "{what}: ∂f/∂θ[{k}] = {gk} < 0 on the bound");
        } else {
            gmax_theta = gmax_theta.max(gk.abs());
            assert!(
                gk.abs() <= 0.05,
                "{what}: ∂f/∂θ[{k}] = {gk} is not near 0 at the optimum {opt:?}"
            );
        }
    }
    let point: Vec<f64> = opt
        .iter()
        .enumerate()
        .map(|(k, &v)| match k {
            k if k < ntheta && diag[k] => 1.3 * v + 0.1,
            k if k < ntheta => 1.3 * v + 0.05,
            k if k % 2 == 0 => v + se[k - ntheta],
            k => v - se[k - ntheta],
        })
        .collect();
    let (g_away, worst_away) = check_at(&mut m, &point, &unit, &h0, fast, &format!("{what} away"));
    let gmax = g_away.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    eprintln!(
        "{what}: at the optimum max |g_θ| {gmax_theta:.1e}, max |g_β·SE| {gmax_beta:.1e}; \
         away max |g| {gmax:.1e}; largest scaled |analytic − differences| {worst_opt:.1e} at \
         the optimum, {worst_away:.1e} away"
    );
}

#[test]
fn cbpp_binomial_proportions_and_cbind() {
    for fast in [false, true] {
        check_model(
            cbpp_proportions(None),
            fast,
            &format!("cbpp proportions fast={fast}"),
        );
    }
    let m = build(
        "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        &dataset("cbpp"),
        Family::Binomial,
        None,
        GlmmOptions::default(),
    );
    check_model(m, false, "cbpp cbind");
}

#[test]
fn cbpp_cloglog_non_canonical() {
    for fast in [false, true] {
        check_model(
            cbpp_proportions(Some(Link::Cloglog)),
            fast,
            &format!("cbpp cloglog fast={fast}"),
        );
    }
}

#[test]
fn grouseticks_poisson_three_terms() {
    for fast in [false, true] {
        let m = build(
            "TICKS ~ 1 + YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
            &dataset("grouseticks"),
            Family::Poisson,
            None,
            GlmmOptions::default(),
        );
        check_model(m, fast, &format!("grouseticks fast={fast}"));
    }
}

#[test]
fn mmmec_poisson_offset() {
    for fast in [false, true] {
        check_model(mmmec_offset(), fast, &format!("mmmec fast={fast}"));
    }
}

#[test]
fn contraception_logit_and_probit() {
    let data = dataset("contraception");
    for (link, fast) in [
        (None, false),
        (None, true),
        (Some(Link::Probit), false),
        (Some(Link::Probit), true),
    ] {
        let m = bernoulli(CONTRA, &data, link);
        check_model(m, fast, &format!("contraception {link:?} fast={fast}"));
    }
}

#[test]
fn contraception_vector_valued_term() {
    let data = dataset("contraception");
    for (link, fast) in [(None, false), (None, true), (Some(Link::Probit), true)] {
        let m = build(
            CONTRA_SLOPE,
            &data,
            Family::Bernoulli,
            link,
            GlmmOptions::default(),
        );
        check_model(
            m,
            fast,
            &format!("contraception (1 + urban | district) {link:?} fast={fast}"),
        );
    }
}

#[test]
fn verbagg_crossed_laplace_and_fast() {
    let data = dataset("verbagg");
    for fast in [false, true] {
        let m = build(
            VERBAGG,
            &data,
            Family::Bernoulli,
            None,
            GlmmOptions::default(),
        );
        check_model(m, fast, &format!("verbagg fast={fast}"));
    }
}

/// Adaptive Gauss–Hermite quadrature (one scalar term): the exact gradient
/// of the quadrature objective with respect to (θ, β), for canonical and
/// non-canonical links, prior weights, an offset, and a term whose column
/// is not the intercept.
#[test]
fn quadrature_objective() {
    let data = dataset("contraception");
    for (link, nagq) in [(None, 9), (Some(Link::Probit), 5), (None, 2)] {
        let m = bernoulli(CONTRA, &data, link);
        check_model_nagq(
            m,
            false,
            nagq,
            &format!("contraception {link:?} nAGQ {nagq}"),
        );
    }
    check_model_nagq(cbpp_proportions(None), false, 7, "cbpp proportions nAGQ 7");
    check_model_nagq(
        cbpp_proportions(Some(Link::Cloglog)),
        false,
        4,
        "cbpp cloglog nAGQ 4",
    );
    check_model_nagq(mmmec_offset(), false, 11, "mmmec offset nAGQ 11");
    let m = build(
        "use ~ 1 + age + livch + urban + (0 + age | district)",
        &data,
        Family::Bernoulli,
        None,
        GlmmOptions::default(),
    );
    check_model_nagq(m, false, 6, "contraception (0 + age | district) nAGQ 6");
}

/// On the boundary: a diagonal entry of λ at 0 (the vector-valued term's
/// second diagonal, then the scalar term of grouseticks' LOCATION), against
/// one-sided differences into the feasible region (the others central).
#[test]
fn diagonal_entry_on_its_bound() {
    let data = dataset("contraception");
    for fast in [false, true] {
        let mut m = build(
            CONTRA_SLOPE,
            &data,
            Family::Bernoulli,
            None,
            GlmmOptions::default(),
        );
        m.fit(fast, 1).unwrap();
        let (mut x, se) = (m.theta().to_vec(), m.stderror());
        x[2] = 0.0;
        let mut h0: Vec<f64> = x.iter().map(|t| 0.05 * t.abs().max(0.1)).collect();
        let mut unit = vec![1.0; x.len()];
        if !fast {
            x.extend(m.beta());
            h0.extend(se.iter().map(|s| 0.5 * s));
            unit.extend(&se);
        }
        let what = format!("contraception (1 + urban | district) fast={fast}, θ[2] = 0");
        let (_, worst) = check_at(&mut m, &x, &unit, &h0, fast, &what);
        eprintln!("{what}: largest scaled |analytic − differences| {worst:.1e}");
    }
    let mut m = build(
        "TICKS ~ 1 + YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
        &dataset("grouseticks"),
        Family::Poisson,
        None,
        GlmmOptions::default(),
    );
    m.fit(true, 1).unwrap();
    let mut x = m.theta().to_vec();
    x[2] = 0.0;
    let h0: Vec<f64> = x.iter().map(|t| 0.05 * t.abs().max(0.1)).collect();
    let (_, worst) = check_at(&mut m, &x, &[1.0; 3], &h0, true, "grouseticks θ[2] = 0");
    eprintln!("grouseticks fast, θ[2] = 0: largest scaled |analytic − differences| {worst:.1e}");
}

/// The gradient leaves nAGQ alone, refuses bad input as `evaluate` does, and
/// leaves the state `evaluate` leaves (same objective, same modes).
#[test]
fn state_and_refusals() {
    let mut m = build(
        CONTRA,
        &dataset("contraception"),
        Family::Bernoulli,
        None,
        GlmmOptions::default(),
    );
    m.fit(false, 9).unwrap();
    assert_eq!(m.nagq(), 9);
    let theta = m.theta().to_vec();
    let beta = m.beta();
    let (f, _) = m.objective_and_gradient(&theta, Some(&beta)).unwrap();
    assert_eq!(m.nagq(), 9, "nAGQ unchanged");
    let u = m.u();
    // The quadrature objective (nAGQ 9), not Laplace's.
    assert!((f - m.evaluate(&theta, Some(&beta), 1).unwrap()).abs() > 1e-6 * f);
    let f_eval = m.evaluate(&theta, Some(&beta), 9).unwrap();
    assert_rel(f, f_eval, 1e-13, "objective vs evaluate");
    for (a, b) in u.iter().flatten().zip(m.u().iter().flatten()) {
        assert!((a - b).abs() <= 1e-9 * (1.0 + b.abs()), "modes {a} vs {b}");
    }
    assert!(m.objective_and_gradient(&[0.5, 0.5], None).is_err());
    assert!(m.objective_and_gradient(&[-0.5], None).is_err());
    assert!(m.objective_and_gradient(&theta, Some(&beta[1..])).is_err());
    let mut bad = beta.clone();
    bad[0] = f64::NAN;
    assert!(m.objective_and_gradient(&theta, Some(&bad)).is_err());
}

/// Cost of one objective-and-gradient call relative to one evaluation of
/// the objective, at the optimum (fastest of 200 calls each, release
/// build; no assertion):
/// `cargo test --release --test glmm_gradient timing -- --ignored --nocapture`.
#[test]
#[ignore]
fn timing() {
    use std::time::Instant;
    let contra = dataset("contraception");
    let cases: Vec<(&str, GeneralizedLinearMixedModel, bool)> = vec![
        ("cbpp", cbpp_proportions(None), false),
        (
            "grouseticks",
            build(
                "TICKS ~ 1 + YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
                &dataset("grouseticks"),
                Family::Poisson,
                None,
                GlmmOptions::default(),
            ),
            false,
        ),
        (
            "contraception",
            build(
                CONTRA,
                &contra,
                Family::Bernoulli,
                None,
                GlmmOptions::default(),
            ),
            false,
        ),
        (
            "contraception fast",
            build(
                CONTRA,
                &contra,
                Family::Bernoulli,
                None,
                GlmmOptions::default(),
            ),
            true,
        ),
        (
            "contraception probit",
            build(
                CONTRA,
                &contra,
                Family::Bernoulli,
                Some(Link::Probit),
                GlmmOptions::default(),
            ),
            false,
        ),
        (
            "contraception (1 + urban | district)",
            build(
                CONTRA_SLOPE,
                &contra,
                Family::Bernoulli,
                None,
                GlmmOptions::default(),
            ),
            false,
        ),
        (
            "verbagg",
            build(
                VERBAGG,
                &dataset("verbagg"),
                Family::Bernoulli,
                None,
                GlmmOptions::default(),
            ),
            false,
        ),
        (
            "verbagg fast",
            build(
                VERBAGG,
                &dataset("verbagg"),
                Family::Bernoulli,
                None,
                GlmmOptions::default(),
            ),
            true,
        ),
    ];
    const CALLS: usize = 200;
    for (what, mut m, fast) in cases {
        m.fit(fast, 1).unwrap();
        let theta = m.theta().to_vec();
        let beta = m.beta();
        let beta = (!fast).then_some(beta.as_slice());
        // Calls alternate, each timed alone; the fastest of each kind counts
        // (the least disturbed by other processes).
        let (mut t_eval, mut t_grad) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..CALLS {
            let t = Instant::now();
            m.evaluate(&theta, beta, 1).unwrap();
            t_eval = t_eval.min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            m.objective_and_gradient(&theta, beta).unwrap();
            t_grad = t_grad.min(t.elapsed().as_secs_f64());
        }
        let dim = theta.len() + beta.map_or(0, <[f64]>::len);
        eprintln!(
            "{what}: evaluate {:.3} ms, objective and gradient {:.3} ms (×{:.2}; central \
             differences would take ×{})",
            1e3 * t_eval,
            1e3 * t_grad,
            t_grad / t_eval,
            2 * dim
        );
    }
}
