//! The analytic gradient of the LMM objective with respect to θ equals
//! finite differences of the objective, at θ₀, at a fixed pseudo-random
//! interior θ and at the optimum (where its free components vanish), for ML
//! and REML, case weights, fixed σ, crossed, nested and vector-valued terms;
//! and at θ with a diagonal entry on its bound 0 (one-sided differences).
//!
//! Differences, per component k: Ridders' extrapolation (a Neville tableau
//! over steps h₀, h₀/1.4, h₀/1.4², …) of central differences from
//! h₀ = 0.02·max(|θ_k|, 0.1), at most half the distance to the bound; at a
//! diagonal entry on its bound 0, of forward differences from h₀ = 0.01.
//! Plain differences are not enough on InstEval: its objective (2.4e5) is
//! rounded to about 5e-10 and so curved that no single step gets within
//! 1e-6 near the optimum. Agreement: |g − fd| ≤ 1e-6·max(|g|, 1).

mod common;

use common::*;
use mixedmodels::{LinearMixedModel, LmmOptions, MixedModel};

const RTOL: f64 = 1e-6;

fn model(dataset_name: &str, formula: &str, options: &LmmOptions, reml: bool) -> LinearMixedModel {
    let data = dataset(dataset_name);
    let mut m = LinearMixedModel::new(formula, &data, options).unwrap();
    m.set_reml(reml).unwrap();
    m
}

/// The finite-difference gradient at θ: Ridders' extrapolation of central
/// differences from h₀ = 0.02·max(|θ_k|, 0.1) (at most half the distance to
/// a bound), or of one-sided forward differences from h₀ = 0.01 at a
/// bounded entry on its bound 0.
fn fd_gradient(m: &mut LinearMixedModel, theta: &[f64]) -> Vec<f64> {
    let lower = m.lower_bounds();
    let mut f = |t: &[f64]| m.objective_at(t).unwrap();
    let f0 = f(theta);
    (0..theta.len())
        .map(|k| {
            let mut at = |d: f64| {
                let mut t = theta.to_vec();
                t[k] += d;
                f(&t)
            };
            if lower[k] == 0.0 && theta[k] == 0.0 {
                ridders(|h| (at(h) - f0) / h, 1e-2, 1)
            } else {
                let mut h0 = 0.02 * theta[k].abs().max(0.1);
                if lower[k] == 0.0 {
                    h0 = h0.min(0.5 * theta[k]);
                }
                ridders(|h| (at(h) - at(-h)) / (2.0 * h), h0, 2)
            }
        })
        .collect()
}

/// Compare the analytic gradient with differences at θ; returns the gradient.
#[track_caller]
fn check_at(m: &mut LinearMixedModel, theta: &[f64], what: &str) -> Vec<f64> {
    let (f, g) = m.objective_and_gradient(theta).unwrap();
    assert_eq!(f, m.objective_at(theta).unwrap(), "{what}: objective");
    assert_eq!(g, m.gradient_at(theta).unwrap(), "{what}: gradient_at");
    let fd = fd_gradient(m, theta);
    for k in 0..theta.len() {
        let tol = RTOL * g[k].abs().max(1.0);
        assert!(
            (g[k] - fd[k]).abs() <= tol,
            "{what}: ∂f/∂θ[{k}] analytic {} vs differences {} (|diff| {:e} > {tol:e}) at θ = {theta:?}",
            g[k],
            fd[k],
            (g[k] - fd[k]).abs()
        );
    }
    g
}

/// A deterministic pseudo-random interior θ: diagonal entries in [0.2, 1.4],
/// off-diagonal ones in [−0.6, 0.6].
fn interior_theta(m: &LinearMixedModel, seed: u64) -> Vec<f64> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    m.lower_bounds()
        .iter()
        .map(|&lb| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let x = (state >> 11) as f64 / (1u64 << 53) as f64;
            if lb == 0.0 {
                0.2 + 1.2 * x
            } else {
                1.2 * x - 0.6
            }
        })
        .collect()
}

/// θ₀, an interior θ, and the optimum: differences agree everywhere; at the
/// optimum the free components vanish and those on the bound point inward.
fn check_model(m: &mut LinearMixedModel, what: &str) {
    let theta0 = m.layout().initial();
    check_at(m, &theta0, &format!("{what} at θ₀"));
    let interior = interior_theta(m, 7);
    check_at(m, &interior, &format!("{what} at a random θ"));
    let reml = m.is_reml();
    m.fit(reml).unwrap();
    let opt = m.theta().to_vec();
    let lower = m.lower_bounds();
    let g = check_at(m, &opt, &format!("{what} at the optimum"));
    for k in 0..opt.len() {
        if lower[k] == 0.0 && opt[k] == 0.0 {
            assert!(
                g[k] >= -1e-8,
                "{what}: ∂f/∂θ[{k}] = {} < 0 on the bound",
                g[k]
            );
        } else {
            // BOBYQA stops with a trust region of 1e-6 in θ; with second
            // derivatives of the order of f the gradient is then of the
            // order of 1e-6·f (measured: below 1e-7·f on these models).
            let bound = 1e-6 * m.objective().abs().max(1.0);
            assert!(
                g[k].abs() <= bound,
                "{what}: ∂f/∂θ[{k}] = {} > {bound:e} at the optimum θ = {opt:?}",
                g[k]
            );
        }
    }
}

const SLEEP: &str = "Reaction ~ 1 + Days + (1 + Days | Subject)";
const SLEEP_ZC: &str = "Reaction ~ 1 + Days + (1 | Subject) + (0 + Days | Subject)";

#[test]
fn sleepstudy_correlated_ml_and_reml() {
    for reml in [false, true] {
        let mut m = model("sleepstudy", SLEEP, &LmmOptions::default(), reml);
        check_model(&mut m, &format!("sleepstudy reml={reml}"));
    }
}

#[test]
fn sleepstudy_zerocorr_ml_and_reml() {
    for reml in [false, true] {
        let mut m = model("sleepstudy", SLEEP_ZC, &LmmOptions::default(), reml);
        check_model(&mut m, &format!("sleepstudy zerocorr reml={reml}"));
    }
}

#[test]
fn dyestuff_ml_and_reml() {
    for (data, reml) in [
        ("dyestuff", false),
        ("dyestuff", true),
        ("dyestuff2", false),
    ] {
        let mut m = model(
            data,
            "Yield ~ 1 + (1 | Batch)",
            &LmmOptions::default(),
            reml,
        );
        check_model(&mut m, &format!("{data} reml={reml}"));
    }
}

#[test]
fn penicillin_crossed() {
    for reml in [false, true] {
        let f = "diameter ~ 1 + (1 | plate) + (1 | sample)";
        let mut m = model("penicillin", f, &LmmOptions::default(), reml);
        check_model(&mut m, &format!("penicillin reml={reml}"));
    }
}

#[test]
fn pastes_nested() {
    for reml in [false, true] {
        let f = "strength ~ 1 + (1 | sample) + (1 | batch)";
        let mut m = model("pastes", f, &LmmOptions::default(), reml);
        check_model(&mut m, &format!("pastes reml={reml}"));
    }
}

/// Weights 1, 2, 3, 1, 2, 3, … over the rows.
fn weights(n: usize) -> Vec<f64> {
    (0..n).map(|i| 1.0 + (i % 3) as f64).collect()
}

#[test]
fn weighted_sleepstudy() {
    let n = dataset("sleepstudy").nrows();
    let options = LmmOptions {
        weights: Some(weights(n)),
        ..LmmOptions::default()
    };
    for reml in [false, true] {
        let mut m = model("sleepstudy", SLEEP, &options, reml);
        check_model(&mut m, &format!("weighted sleepstudy reml={reml}"));
    }
}

#[test]
fn fixed_sigma() {
    let options = LmmOptions {
        sigma: Some(25.0),
        ..LmmOptions::default()
    };
    for reml in [false, true] {
        let mut m = model("sleepstudy", SLEEP, &options, reml);
        check_model(&mut m, &format!("sleepstudy σ = 25 reml={reml}"));
    }
    let n = dataset("penicillin").nrows();
    let options = LmmOptions {
        sigma: Some(0.5),
        weights: Some(weights(n)),
        ..LmmOptions::default()
    };
    let f = "diameter ~ 1 + (1 | plate) + (1 | sample)";
    let mut m = model("penicillin", f, &options, false);
    check_model(&mut m, "weighted penicillin σ = 0.5");
}

#[test]
fn vector_term_with_three_columns() {
    let f = "score ~ 1 + Machine + (1 + Machine | Worker)";
    for reml in [false, true] {
        let mut m = model("machines", f, &LmmOptions::default(), reml);
        assert_eq!(m.layout().len(), 6);
        check_model(&mut m, &format!("machines reml={reml}"));
    }
}

#[test]
fn insteval_three_scalar_terms() {
    let f = "y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)";
    let mut m = model("insteval", f, &LmmOptions::default(), false);
    check_model(&mut m, "insteval");
}

/// A diagonal entry of λ at its bound 0 with non-zero entries below it in
/// its column: the objective is not even in that entry, so the one-sided
/// derivative is not zero and is checked against one-sided differences.
#[test]
fn diagonal_entry_on_its_bound() {
    for reml in [false, true] {
        let mut m = model("sleepstudy", SLEEP, &LmmOptions::default(), reml);
        let g = check_at(&mut m, &[0.0, 0.3, 0.2], "sleepstudy λ₀₀ = 0");
        assert!(g[0].abs() > 1e-3, "∂f/∂θ[0] = {} at the bound", g[0]);
        let f = "score ~ 1 + Machine + (1 + Machine | Worker)";
        let mut m = model("machines", f, &LmmOptions::default(), reml);
        check_at(&mut m, &[0.8, 0.4, -0.3, 0.0, 0.5, 0.6], "machines λ₁₁ = 0");
        check_at(&mut m, &[0.8, 0.4, -0.3, 0.7, 0.5, 0.0], "machines λ₂₂ = 0");
    }
    // A scalar term at 0: the objective is even there, the derivative 0.
    let f = "diameter ~ 1 + (1 | plate) + (1 | sample)";
    let mut m = model("penicillin", f, &LmmOptions::default(), false);
    let g = check_at(&mut m, &[0.0, 1.5], "penicillin θ_plate = 0");
    assert_eq!(g[0], 0.0);
}
