//! GLMMs from streamed data (`mixedmodels::stream::StreamedGlmm`, PIRLS with
//! one pass over the chunks per iteration) against the same `fast` model
//! fitted in memory (`GeneralizedLinearMixedModel`, nAGQ = 0): grouseticks'
//! Poisson model with three scalar terms (one level per observation in
//! INDEX) in chunks of 90 rows, and a simulated Bernoulli model with a
//! random slope and an offset in chunks of 700 rows.
//!
//! Tolerances: the objective at the same θ to 1e-9 relative (both PIRLS
//! stop within ~1e-10 of the mode, in different orders of summation); the
//! fits' objectives to 1e-8 relative and θ, β to 1e-4 (BOBYQA here, BFGS in
//! memory: both stop within ~1e-6 of θ̂ on a likelihood flat to 1e-10 there).

mod common;

use common::{assert_rel, chunks, dataset};
use mixedmodels::checks::CheckAction;
use mixedmodels::data::{Column, Data};
use mixedmodels::error::Error;
use mixedmodels::family::{Family, Link};
use mixedmodels::glmm::{GeneralizedLinearMixedModel, GlmmOptions};
use mixedmodels::lmm::LmmOptions;
use mixedmodels::stream::StreamedGlmm;
use mixedmodels::MixedModel;

fn compare(formula: &str, data: &Data, family: Family, size: usize) {
    let mut memory =
        GeneralizedLinearMixedModel::new(formula, data, family, None, &GlmmOptions::default())
            .unwrap();
    memory.fit(true, 1).unwrap();
    let order: Vec<usize> = (0..data.nrows()).collect();
    let mut source = chunks(data, &order, size);
    let link = family.canonical_link();
    let options = LmmOptions {
        check_nobs: CheckAction::Warn,
        ..LmmOptions::default()
    };
    let mut s = StreamedGlmm::new(formula, family, link, &options, &mut source).unwrap();
    // The same objective at the in-memory optimum.
    let theta = memory.theta().to_vec();
    let at = s.objective_at(&mut source, &theta).unwrap();
    assert_rel(at, memory.objective(), 1e-9, "objective at the same θ");
    let fit = s.fit(&mut source, 10_000).unwrap();
    assert!(fit.converged, "{}", fit.return_code);
    assert_eq!(fit.nobs, memory.nobs());
    assert!(fit.objective <= memory.objective() * (1.0 + 1e-8));
    assert_rel(fit.objective, memory.objective(), 1e-8, "objective");
    for (a, b) in fit.theta.iter().zip(memory.theta()) {
        assert!((a - b).abs() <= 1e-4 * b.abs().max(0.1), "θ {a} vs {b}");
    }
    let se = memory.stderror();
    for ((a, b), s) in fit.beta.iter().zip(memory.beta()).zip(&se) {
        assert!((a - b).abs() <= 1e-4 * s, "β {a} vs {b}");
    }
    for (a, b) in fit.stderror.iter().zip(&se) {
        assert_rel(*a, *b, 1e-4, "standard error");
    }
    assert_eq!(fit.beta_names, memory.coef_names());
    eprintln!(
        "{formula}: objective {} vs {}, {} evaluations, {} passes",
        fit.objective,
        memory.objective(),
        fit.evaluations,
        fit.passes
    );
}

#[test]
fn poisson_with_three_scalar_terms() {
    let data = dataset("grouseticks");
    let formula = "TICKS ~ 1 + YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)";
    compare(formula, &data, Family::Poisson, 90);
}

/// 3,000 rows, 60 groups, a random slope in x and an offset: Bernoulli
/// draws from a fixed linear congruential sequence.
fn simulated_bernoulli() -> Data {
    let n = 3000;
    let mut state: u64 = 20_261_205;
    let mut uniform = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let groups: Vec<String> = (0..n).map(|i| format!("g{:02}", i % 60)).collect();
    let effect: Vec<f64> = (0..60).map(|_| 1.6 * (uniform() - 0.5)).collect();
    let slope: Vec<f64> = (0..60).map(|_| 0.8 * (uniform() - 0.5)).collect();
    let (mut x, mut off, mut y) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    for i in 0..n {
        x[i] = 2.0 * uniform() - 1.0;
        off[i] = 0.3 * (uniform() - 0.5);
        let eta = -0.4 + 0.9 * x[i] + off[i] + effect[i % 60] + slope[i % 60] * x[i];
        y[i] = f64::from(u8::from(uniform() < 1.0 / (1.0 + (-eta).exp())));
    }
    let g: Vec<&str> = groups.iter().map(String::as_str).collect();
    Data::new()
        .with_column("y", Column::numeric(y))
        .unwrap()
        .with_column("x", Column::numeric(x))
        .unwrap()
        .with_column("off", Column::numeric(off))
        .unwrap()
        .with_column("g", Column::from_strings(&g))
        .unwrap()
}

#[test]
fn bernoulli_with_a_random_slope_and_an_offset() {
    let data = simulated_bernoulli();
    compare(
        "y ~ 1 + x + offset(off) + (1 + x | g)",
        &data,
        Family::Bernoulli,
        700,
    );
}

#[test]
fn refusals() {
    let data = simulated_bernoulli();
    let order: Vec<usize> = (0..data.nrows()).collect();
    let mut source = chunks(&data, &order, 1000);
    let options = LmmOptions::default();
    let gamma = StreamedGlmm::new(
        "y ~ 1 + (1 | g)",
        Family::Gamma,
        Link::Log,
        &options,
        &mut source,
    );
    assert!(matches!(gamma, Err(Error::Argument { ref parameter, .. }) if parameter == "family"));
    // A count of 2 in a Bernoulli response: the row is named.
    let mut y: Vec<f64> = match data.get("y").unwrap() {
        Column::Numeric { values, .. } => values.clone(),
        _ => unreachable!(),
    };
    y[1234] = 2.0;
    let bad = data.clone().with_column("y", Column::numeric(y)).unwrap();
    let mut source = chunks(&bad, &order, 1000);
    let m = StreamedGlmm::new(
        "y ~ 1 + (1 | g)",
        Family::Bernoulli,
        Link::Logit,
        &options,
        &mut source,
    );
    assert!(matches!(m, Err(Error::Row { row: 1234, ref column, .. }) if column == "y"));
}
