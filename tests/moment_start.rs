//! The start of a fit (src/model/start.rs): θ₀ from the data by the method
//! of moments and the quasi-Newton method's B₀ there, against lme4's start
//! λ = I; for a GLMM on the working scale of its GLM fit.

mod common;

use common::*;
use mixedmodels::data::{Column, Data};
use mixedmodels::glmm::{Family, GeneralizedLinearMixedModel, GlmmOptions};
use mixedmodels::model::MixedModel;
use mixedmodels::{FitRecord, FitSettings, LinearMixedModel, LmmOptions};

fn model(formula: &str, data: &Data) -> LinearMixedModel {
    LinearMixedModel::new(formula, data, &LmmOptions::default()).unwrap()
}

/// The default fit (from the moment start) and the fit from lme4's θ₀.
fn both_starts(formula: &str, data: &Data) -> (FitRecord, FitRecord) {
    let mut m = model(formula, data);
    let moment = m.fit(false).unwrap().clone();
    let identity = m.layout().initial();
    let lme4 = m
        .fit_with(&FitSettings::default(), Some(&identity))
        .unwrap()
        .clone();
    (moment, lme4)
}

/// The diagonal entries of λ in `theta` (sleepstudy: entries 0 and 2).
fn diagonal(m: &LinearMixedModel, theta: &[f64]) -> Vec<f64> {
    let entries = m.layout().entries();
    (0..theta.len())
        .filter(|&i| entries[i].is_diagonal())
        .map(|i| theta[i])
        .collect()
}

#[test]
fn the_start_from_the_data_is_near_the_optimum_and_saves_evaluations() {
    // sleepstudy: the per-subject regressions give λ's diagonal to 2 %
    // (0.920 and 0.2214 against 0.929 and 0.2226); InstEval with three
    // crossed and nested terms to 35 % (the dept entry: 0.089 against 0.067).
    let cases = [
        (
            "Reaction ~ 1 + Days + (1 + Days | Subject)",
            "sleepstudy",
            0.02,
            10,
        ),
        (
            "y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)",
            "insteval",
            0.35,
            12,
        ),
    ];
    for (formula, data, rtol, most) in cases {
        let data = dataset(data);
        let m = model(formula, &data);
        let (moment, lme4) = both_starts(formula, &data);
        let (start, optimum) = (
            diagonal(&m, &moment.initial),
            diagonal(&m, &moment.final_theta),
        );
        for (s, o) in start.iter().zip(&optimum) {
            assert!((s - o).abs() <= rtol * o, "{formula}: start {s} for {o}");
        }
        // Off-diagonal entries start at 0, as lme4's.
        let entries = m.layout().entries();
        for (i, e) in entries.iter().enumerate() {
            if !e.is_diagonal() {
                assert_eq!(moment.initial[i], 0.0);
            }
        }
        // The same optimum, in fewer evaluations than from λ = I.
        assert_rel(moment.fmin, lme4.fmin, 1e-10, formula);
        assert!(
            moment.evaluations <= most && moment.evaluations < lme4.evaluations,
            "{formula}: {} evaluations (from λ = I {})",
            moment.evaluations,
            lme4.evaluations
        );
    }
}

#[test]
fn the_start_follows_a_rescaled_column() {
    // λ's row for Days is divided by c with the column; powers of ten are
    // not exact in floating point, so to rounding.
    let data = dataset("sleepstudy");
    let formula = "Reaction ~ 1 + Days + (1 + Days | Subject)";
    let base = model(formula, &data).moment_start();
    for c in [1e-6, 1e-3, 1e3, 1e6] {
        let mut scaled = data.clone();
        let Some(Column::Numeric { values, .. }) = data.get("Days") else {
            panic!("Days is numeric");
        };
        let values = values.iter().map(|v| v * c).collect();
        scaled.add_column("Days", Column::numeric(values)).unwrap();
        let start = model(formula, &scaled).moment_start();
        assert_rel(start[0], base[0], 1e-10, "intercept");
        assert_rel(start[2] * c, base[2], 1e-10, "Days");
    }
}

#[test]
fn groups_without_variance_start_at_the_floor_and_fit_to_zero() {
    // Every group has the same mean: the moment estimate of the group
    // variance is negative, so the start is 1/16 (not 0, where the
    // objective is even in θ and its gradient vanishes), and the fit finds
    // the boundary optimum θ = 0.
    let g: Vec<u32> = (0..36).map(|i| i / 6).collect();
    let y: Vec<f64> = (0..36)
        .map(|i| [-2.0, -1.0, 0.0, 0.5, 1.0, 1.5][i % 6])
        .collect();
    let levels: Vec<String> = (0..6).map(|l| format!("g{l}")).collect();
    let data = Data::new()
        .with_column("y", Column::numeric(y))
        .unwrap()
        .with_column("g", Column::categorical(g, levels))
        .unwrap();
    let mut m = model("y ~ 1 + (1 | g)", &data);
    let record = m.fit(false).unwrap().clone();
    assert_eq!(record.initial, vec![1.0 / 16.0]);
    assert_eq!(m.theta(), &[0.0]);
}

#[test]
fn a_glmm_starts_from_the_moment_estimate_on_the_working_scale() {
    // Contraception's district effect: the per-level least-squares fits to
    // the GLM's working residuals (variance 1/w) give λ within 5 % of the
    // optimum. VerbAgg's crossed subject and item effects, estimated
    // together (each level's sum corrected for the other term), within
    // 35 % (0.98 and 0.24 against 1.34 and 0.34); grouseticks' three
    // nested and crossed terms within 55 % (from 1.34, 1.25 and 1.13
    // against 0.54, 0.75 and 0.53 before the correction).
    let cases = [
        (
            "use ~ 1 + age + abs2(age) + livch + urban + (1 | district)",
            "contraception",
            Family::Bernoulli,
            0.05,
        ),
        (
            "r2 ~ 1 + Anger + Gender + btype + situ + mode + (1 | id) + (1 | item)",
            "verbagg",
            Family::Bernoulli,
            0.35,
        ),
        (
            "TICKS ~ 1 + YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
            "grouseticks",
            Family::Poisson,
            0.55,
        ),
    ];
    for (formula, data, family, rtol) in cases {
        let options = GlmmOptions::default();
        let mut m =
            GeneralizedLinearMixedModel::new(formula, &dataset(data), family, None, &options)
                .unwrap();
        let record = m.fit(false, 1).unwrap().clone();
        for (s, o) in record.initial.iter().zip(&record.final_theta) {
            assert!((s - o).abs() <= rtol * o, "{data}: start {s} for {o}");
        }
    }
}

#[test]
fn a_fixed_sigma_is_the_residual_variance_of_the_start() {
    // θ is relative to the fixed σ: the start takes s² = σ², in the
    // correction of the levels' variances and as their unit. Σ̂(s²) is
    // linear in s² (a − c·s² per column), so the starts with σ = 10 and
    // σ = 20 determine a and c, and the free start is a − c·s² over the
    // residual variance the data show (sleepstudy: s² = 664.17).
    let data = dataset("sleepstudy");
    let formula = "Reaction ~ 1 + Days + (1 + Days | Subject)";
    let start = |sigma: Option<f64>| {
        let options = LmmOptions {
            sigma,
            ..LmmOptions::default()
        };
        LinearMixedModel::new(formula, &data, &options)
            .unwrap()
            .moment_start()
    };
    let (free, ten, twenty) = (start(None), start(Some(10.0)), start(Some(20.0)));
    let s2: f64 = 664.165_548_580_356_4;
    for i in [0, 2] {
        let (v10, v20) = (ten[i] * ten[i] * 100.0, twenty[i] * twenty[i] * 400.0);
        let c = (v10 - v20) / 300.0;
        let a = v10 + 100.0 * c;
        assert_rel(free[i] * free[i] * s2, a - c * s2, 1e-9, "free start");
        assert!(ten[i] > free[i], "σ = 10 < s: larger θ");
    }
}

#[test]
fn levels_that_use_up_the_degrees_of_freedom_give_no_residual_variance() {
    // Two rows per level and two columns per level: each level's fit is
    // exact, so that term gives no s²; the other term's does (the start
    // stays below the ceiling of 64 units it reached when the rounding
    // left over was taken for s²).
    let n = 200;
    let mut next = uniform_stream(7);
    let g: Vec<u32> = (0..n).map(|i| (i / 2) as u32).collect();
    let h: Vec<u32> = (0..n).map(|i| (i % 10) as u32).collect();
    let x: Vec<f64> = (0..n).map(|_| next() - 0.5).collect();
    let y: Vec<f64> = (0..n).map(|i| x[i] + next() + 0.3 * h[i] as f64).collect();
    let labels = |k: usize, p: &str| (0..k).map(|l| format!("{p}{l}")).collect::<Vec<_>>();
    let data = Data::new()
        .with_column("y", Column::numeric(y))
        .unwrap()
        .with_column("x", Column::numeric(x))
        .unwrap()
        .with_column("g", Column::categorical(g, labels(100, "g")))
        .unwrap()
        .with_column("h", Column::categorical(h, labels(10, "h")))
        .unwrap();
    let options = LmmOptions {
        check_nobs: mixedmodels::checks::CheckAction::Ignore,
        ..LmmOptions::default()
    };
    let m = LinearMixedModel::new("y ~ 1 + (1 + x | g) + (1 | h)", &data, &options).unwrap();
    let start = m.moment_start();
    assert!(start.iter().all(|t| *t < 64.0), "{start:?}");
}
