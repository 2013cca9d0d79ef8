//! Tests of [`Bfgs`] on problems with known solutions: quadratics with and
//! without active bounds, Rosenbrock's function (free and with a binding
//! bound), undefined regions, sign symmetries, scales, budget and stop flag.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{Bfgs, FnGradient, GradientResult};
use crate::optim::{ReturnCode, SignSymmetry, StopFlag};

const INF: f64 = f64::INFINITY;

/// Minimise `f` (value and gradient), checking that every call is inside
/// the bounds, that gradients are asked for only at the last point
/// evaluated, and that the counts are exact.
fn run(
    opt: &Bfgs,
    f: impl Fn(&[f64]) -> (f64, Vec<f64>),
    x0: &[f64],
    lo: &[f64],
    up: &[f64],
) -> GradientResult {
    let (mut values, mut gradients) = (0usize, 0usize);
    let mut last: Vec<f64> = vec![];
    let result = {
        let mut obj = FnGradient(|x: &[f64], g: Option<&mut [f64]>| {
            for i in 0..x.len() {
                assert!(x[i] >= lo[i] && x[i] <= up[i], "x[{i}] = {} outside", x[i]);
            }
            let (v, grad) = f(x);
            match g {
                None => {
                    values += 1;
                    last = x.to_vec();
                }
                Some(g) => {
                    gradients += 1;
                    assert_eq!(x, &last[..], "gradient at the last point evaluated");
                    g.copy_from_slice(&grad);
                }
            }
            v
        });
        opt.minimize(&mut obj, x0, lo, up)
    };
    assert_eq!(result.evaluations, values, "value count must be exact");
    assert_eq!(
        result.gradient_evaluations, gradients,
        "gradient count must be exact"
    );
    result
}

fn max_err(x: &[f64], want: &[f64]) -> f64 {
    x.iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
}

/// ½ (x − t)ᵀ M (x − t) with a tridiagonal M (diagonal 1 + i/2, off 0.3)
/// and targets alternating in sign.
fn quadratic(n: usize) -> impl Fn(&[f64]) -> (f64, Vec<f64>) {
    let m = move |i: usize, j: usize| {
        if i == j {
            1.0 + 0.5 * i as f64
        } else if i.abs_diff(j) == 1 {
            0.3
        } else {
            0.0
        }
    };
    let t: Vec<f64> = (0..n)
        .map(|i| {
            if i % 2 == 0 {
                -0.5 - 0.05 * i as f64
            } else {
                0.6 + 0.05 * i as f64
            }
        })
        .collect();
    move |x: &[f64]| {
        let r: Vec<f64> = (0..n).map(|i| x[i] - t[i]).collect();
        let g: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| m(i, j) * r[j]).sum())
            .collect();
        (0.5 * (0..n).map(|i| r[i] * g[i]).sum::<f64>(), g)
    }
}

#[test]
fn quadratics_without_bounds() {
    for n in [1usize, 2, 5, 10] {
        let f = quadratic(n);
        let r = run(
            &Bfgs::default(),
            &f,
            &vec![1.0; n],
            &vec![-INF; n],
            &vec![INF; n],
        );
        println!(
            "quadratic n={n}: {} values, {} iterations",
            r.evaluations, r.iterations
        );
        assert!(
            matches!(r.code, ReturnCode::Converged | ReturnCode::FtolReached),
            "{r:?}"
        );
        assert!(r.fmin < 1e-12, "n={n}: {r:?}");
        // Exact line searches would take n steps; damped BFGS with Armijo
        // steps takes a few more.
        assert!(
            r.iterations <= 3 * n + 6,
            "n={n}: {} iterations",
            r.iterations
        );
    }
}

#[test]
fn quadratics_with_active_bounds() {
    // Lower bound 0 on the even variables (negative targets) and an upper
    // bound on variable 1. The quadratic is strictly convex, so the KKT
    // conditions identify its minimiser on the box: a component on a bound
    // has the gradient pointing out of the box, a free one a zero gradient.
    for n in [2usize, 5, 10] {
        let f = quadratic(n);
        let mut lo = vec![-INF; n];
        let mut up = vec![INF; n];
        for i in 0..n {
            if i % 2 == 0 {
                lo[i] = 0.0;
            } else if i == 1 {
                up[i] = 0.4;
            }
        }
        let r = run(&Bfgs::default(), &f, &vec![0.25; n], &lo, &up);
        println!(
            "bounded quadratic n={n}: {} values {:?} {}",
            r.evaluations, r.code, r.iterations
        );
        assert!(
            matches!(r.code, ReturnCode::Converged | ReturnCode::FtolReached),
            "{r:?}"
        );
        let (_, g) = f(&r.x);
        let mut active = 0;
        for i in 0..n {
            if r.x[i] == lo[i] {
                assert!(g[i] > 0.0, "n={n}: g[{i}] = {}", g[i]);
                active += 1;
            } else if r.x[i] == up[i] {
                assert!(g[i] < 0.0, "n={n}: g[{i}] = {}", g[i]);
                active += 1;
            } else {
                assert!(
                    g[i].abs() < 1e-7,
                    "n={n}: x[{i}] = {}, g = {}",
                    r.x[i],
                    g[i]
                );
            }
        }
        // Every even variable and variable 1 end on their bounds.
        assert_eq!(active, n.div_ceil(2) + 1, "n={n}: {:?}", r.x);
    }
}

fn rosenbrock(x: &[f64]) -> (f64, Vec<f64>) {
    let mut f = 0.0;
    let mut g = vec![0.0; x.len()];
    for (p, gp) in x.chunks(2).zip(g.chunks_mut(2)) {
        let (a, b) = (p[1] - p[0] * p[0], 1.0 - p[0]);
        f += 100.0 * a * a + b * b;
        gp[0] = -400.0 * a * p[0] - 2.0 * b;
        gp[1] = 200.0 * a;
    }
    (f, g)
}

#[test]
fn rosenbrock_2d_and_4d() {
    for n in [2usize, 4] {
        let x0: Vec<f64> = (0..n)
            .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
            .collect();
        let r = run(
            &Bfgs::default(),
            rosenbrock,
            &x0,
            &vec![-INF; n],
            &vec![INF; n],
        );
        println!(
            "Rosenbrock n={n}: {} values, {} gradients",
            r.evaluations, r.gradient_evaluations
        );
        assert!(
            matches!(r.code, ReturnCode::Converged | ReturnCode::FtolReached),
            "{r:?}"
        );
        assert!(max_err(&r.x, &vec![1.0; n]) < 1e-5, "{:?}", r.x);
        // BFGS needs about 35-40 iterations from the classic start.
        assert!(r.evaluations < 120, "{} values", r.evaluations);
    }
}

#[test]
fn rosenbrock_with_a_binding_bound() {
    // y ≤ 0.2 binds: x solves d/dx [100(0.2 − x²)² + (1 − x)²] = 0.
    let (lo, up) = ([-2.0, -2.0], [2.0, 0.2]);
    let r = run(&Bfgs::default(), rosenbrock, &[-1.2, 0.1], &lo, &up);
    println!("bounded Rosenbrock: {} values", r.evaluations);
    assert_eq!(r.x[1], 0.2);
    let g = -400.0 * r.x[0] * (0.2 - r.x[0] * r.x[0]) - 2.0 * (1.0 - r.x[0]);
    assert!(g.abs() < 1e-6, "{:?} {g}", r.x);
}

#[test]
fn undefined_regions_are_backtracked_from() {
    // f is +∞ (or NaN) for x₀ > 0.8 and its unconstrained minimiser (1.5,
    // −0.5) lies there: the minimiser of the rest is on the boundary of the
    // defined region, approached from inside.
    for bad in [INF, f64::NAN] {
        let f = |x: &[f64]| {
            if x[0] > 0.8 {
                return (bad, vec![0.0; 2]);
            }
            let (a, b) = (x[0] - 1.5, x[1] + 0.5);
            (
                a * a + 2.0 * b * b + 0.2 * a * b,
                vec![2.0 * a + 0.2 * b, 4.0 * b + 0.2 * a],
            )
        };
        let r = run(&Bfgs::default(), f, &[0.0, 0.0], &[-INF; 2], &[INF; 2]);
        println!("undefined region: {} values, {:?}", r.evaluations, r.code);
        // The wall is no bound the method knows of: it stops next to it,
        // failed, after a few line searches that meet it.
        assert!(matches!(r.code, ReturnCode::Failure(_)));
        assert!(r.fmin.is_finite() && r.x[0] <= 0.8);
        assert!(r.x[0] > 0.7, "{:?}", r.x);
        assert!(r.evaluations < 100, "{} values", r.evaluations);
    }
    // Not finite at the start: a failure that keeps the start.
    let r = run(
        &Bfgs::default(),
        |_| (INF, vec![0.0]),
        &[1.0],
        &[-INF],
        &[INF],
    );
    assert!(matches!(r.code, ReturnCode::Failure(_)));
    assert_eq!(r.x, vec![1.0]);
}

#[test]
fn mixed_model_like_theta() {
    // As the BOBYQA test: θ₂ binds at 0, θ₀ and θ₁ interior.
    let f = |t: &[f64]| {
        let v = (t[0] - 0.9).powi(2)
            + 10.0 * (t[1] - 0.02).powi(2)
            + (t[2] + 0.1).powi(2)
            + 0.3 * t[0] * t[1];
        let g = vec![
            2.0 * (t[0] - 0.9) + 0.3 * t[1],
            20.0 * (t[1] - 0.02) + 0.3 * t[0],
            2.0 * (t[2] + 0.1),
        ];
        (v, g)
    };
    let r = run(
        &Bfgs::default(),
        f,
        &[1.0, 0.0, 1.0],
        &[0.0, -INF, 0.0],
        &[INF; 3],
    );
    println!("mixed-model-like θ: {} values", r.evaluations);
    let t1 = 0.13 / 19.955;
    assert!(
        max_err(&r.x, &[0.9 - 0.15 * t1, t1, 0.0]) < 1e-7,
        "{:?}",
        r.x
    );
    assert_eq!(r.x[2], 0.0);
    assert!(r.evaluations < 20);
}

/// ‖λλᵀ − S‖²_F and its gradient for a lower-triangular λ stored column by
/// column (θ's layout); unchanged when a column of λ is negated.
fn factor_misfit(theta: &[f64], s: &[Vec<f64>]) -> (f64, Vec<f64>) {
    let k = s.len();
    let mut pos = vec![vec![usize::MAX; k]; k];
    let mut lambda = vec![vec![0.0; k]; k];
    let mut it = 0;
    for j in 0..k {
        for i in j..k {
            lambda[i][j] = theta[it];
            pos[i][j] = it;
            it += 1;
        }
    }
    let mut f = 0.0;
    let mut r = vec![vec![0.0; k]; k];
    for i in 0..k {
        for j in 0..k {
            r[i][j] = (0..k).map(|c| lambda[i][c] * lambda[j][c]).sum::<f64>() - s[i][j];
            f += r[i][j] * r[i][j];
        }
    }
    // ∂f/∂λ_ab = 4 Σ_j R_aj λ_jb (R symmetric).
    let mut g = vec![0.0; theta.len()];
    for b in 0..k {
        for a in b..k {
            g[pos[a][b]] = 4.0 * (0..k).map(|j| r[a][j] * lambda[j][b]).sum::<f64>();
        }
    }
    (f, g)
}

#[test]
fn sign_symmetries_remove_spurious_boundary_minima() {
    // Rank-one fit of S = [1 −0.8; −0.8 1] by vvᵀ, v₀ ≥ 0: (0, 1) is a
    // strict local minimum of the bounded problem; with the symmetry the
    // method passes through v₀ = 0 to the global minimum.
    let s = vec![vec![1.0, -0.8], vec![-0.8, 1.0]];
    let f = |x: &[f64]| {
        let (v, g) = factor_misfit(&[x[0], x[1], 0.0], &s);
        (v, g[..2].to_vec())
    };
    let (lo, up) = ([0.0, -INF], [INF; 2]);
    let plain = run(&Bfgs::default(), f, &[0.2, 1.2], &lo, &up);
    assert_eq!(plain.x[0], 0.0, "{plain:?}");
    assert!((plain.fmin - 2.28).abs() < 1e-9, "{plain:?}");
    let opt = Bfgs {
        sign_symmetries: vec![SignSymmetry {
            pivot: 0,
            others: vec![1],
        }],
        ..Bfgs::default()
    };
    let r = run(&opt, f, &[0.2, 1.2], &lo, &up);
    println!("rank-one fit with a symmetry: {} values", r.evaluations);
    let v = 0.9f64.sqrt();
    assert!(max_err(&r.x, &[v, -v]) < 1e-6, "{:?}", r.x);
    assert!((r.fmin - 0.04).abs() < 1e-10);
    // The reported gradient is the caller's, at the reported point.
    assert!(max_err(&r.gradient, &f(&r.x).1) < 1e-12);

    // A 3×3 factor from the identity, with a column symmetry for each
    // column and evenness in the last diagonal: the Cholesky factor.
    let s = vec![
        vec![4.0, -2.0, 1.0],
        vec![-2.0, 3.0, -1.5],
        vec![1.0, -1.5, 2.5],
    ];
    let lo = [0.0, -INF, -INF, 0.0, -INF, 0.0];
    let mut symmetries = SignSymmetry::covariance_columns(&lo, &[INF; 6]);
    symmetries.push(SignSymmetry {
        pivot: 5,
        others: vec![],
    });
    let opt = Bfgs {
        sign_symmetries: symmetries,
        ..Bfgs::default()
    };
    let x0 = [1.0, 0.0, 0.0, 1.0, 0.0, 1.0];
    let r = run(&opt, |t| factor_misfit(t, &s), &x0, &lo, &[INF; 6]);
    println!("3×3 factor with symmetries: {} values", r.evaluations);
    let chol = [
        2.0,
        -1.0,
        0.5,
        2f64.sqrt(),
        -(0.5f64.sqrt()),
        1.75f64.sqrt(),
    ];
    assert!(max_err(&r.x, &chol) < 1e-6, "{:?}", r.x);
}

#[test]
fn scaled_variables() {
    // x₀ lives on a scale of 100; its bound 10.1 binds.
    let f = |x: &[f64]| {
        (
            (x[0] - 3.0).powi(2) + x[1] * x[1],
            vec![2.0 * (x[0] - 3.0), 2.0 * x[1]],
        )
    };
    let opt = Bfgs {
        scales: Some(vec![100.0, 1.0]),
        ..Bfgs::default()
    };
    let r = run(&opt, f, &[50.0, 0.3], &[10.1, -1.0], &[70.3, 0.3]);
    assert_eq!(r.x[0], 10.1);
    assert!(r.x[1].abs() < 1e-7, "{:?}", r.x);
}

#[test]
fn budget_and_stop_flag() {
    let x0 = [-1.2, 1.0];
    for budget in [1usize, 2, 7] {
        let opt = Bfgs {
            max_evaluations: budget,
            ..Bfgs::default()
        };
        let r = run(&opt, rosenbrock, &x0, &[-INF; 2], &[INF; 2]);
        assert_eq!(r.evaluations, budget);
        assert_eq!(r.code, ReturnCode::MaxEvaluations);
        assert!(r.fmin <= rosenbrock(&x0).0);
    }
    // A flag set after the fifth value stops the method before the sixth.
    let flag = Arc::new(AtomicBool::new(false));
    let opt = Bfgs {
        stop: Some(StopFlag(flag.clone())),
        ..Bfgs::default()
    };
    let mut calls = 0;
    let mut obj = FnGradient(|x: &[f64], g: Option<&mut [f64]>| {
        let (v, grad) = rosenbrock(x);
        match g {
            Some(g) => g.copy_from_slice(&grad),
            None => {
                calls += 1;
                if calls == 5 {
                    flag.store(true, Ordering::Relaxed);
                }
            }
        }
        v
    });
    let r = opt.minimize(&mut obj, &x0, &[-INF; 2], &[INF; 2]);
    assert_eq!((r.evaluations, r.code), (5, ReturnCode::MaxEvaluations));
}

#[test]
fn invalid_arguments_fail_cleanly() {
    let f = |x: &[f64]| (x[0] * x[0], vec![2.0 * x[0]]);
    let bad = [
        (Bfgs::default(), vec![1.0], vec![2.0], vec![1.0]),
        (Bfgs::default(), vec![f64::NAN], vec![-INF], vec![INF]),
        (Bfgs::default(), vec![1.0], vec![-INF, 0.0], vec![INF]),
        (
            Bfgs {
                gtol: 0.0,
                ..Bfgs::default()
            },
            vec![1.0],
            vec![-INF],
            vec![INF],
        ),
        (
            Bfgs {
                sign_symmetries: vec![SignSymmetry {
                    pivot: 0,
                    others: vec![],
                }],
                ..Bfgs::default()
            },
            vec![1.0],
            vec![-INF],
            vec![INF],
        ),
    ];
    for (opt, x0, lo, up) in bad {
        let r = run(&opt, f, &x0, &lo, &up);
        assert!(matches!(r.code, ReturnCode::Failure(_)), "{r:?}");
        assert_eq!(r.evaluations, 0);
    }
}

/// A quadratic ½ xᵀHx − bᵀx with strongly coupled variables.
fn coupled_quadratic(x: &[f64]) -> (f64, Vec<f64>) {
    let h = [[2.0, 0.0, 1.8], [0.0, 2.0, -1.2], [1.8, -1.2, 3.0]];
    let b = [1.0, -2.0, 0.5];
    let hx: Vec<f64> = (0..3)
        .map(|i| (0..3).map(|j| h[i][j] * x[j]).sum())
        .collect();
    let v = (0..3).map(|i| 0.5 * x[i] * hx[i] - b[i] * x[i]).sum();
    let g = (0..3).map(|i| hx[i] - b[i]).collect();
    (v, g)
}

#[test]
fn differenced_columns_give_a_newton_start() {
    // The solution of H x = b.
    let want = [59.0 / 22.0, -27.0 / 11.0, -80.0 / 33.0];
    let free = [-INF; 3];
    let plain = run(
        &Bfgs {
            initial_curvature: Some(2.0),
            ..Bfgs::default()
        },
        coupled_quadratic,
        &[0.0; 3],
        &free,
        &[INF; 3],
    );
    // The third column differenced, the others 2I: B₀ = H exactly, so the
    // first step lands on the minimum (one value and gradient for the
    // difference, one for the step, then convergence).
    let opt = Bfgs {
        initial_curvature: Some(2.0),
        differenced_columns: vec![2],
        ..Bfgs::default()
    };
    let r = run(&opt, coupled_quadratic, &[0.0; 3], &free, &[INF; 3]);
    assert_eq!(r.code, ReturnCode::Converged, "{r:?}");
    assert!(max_err(&r.x, &want) < 1e-6, "{:?}", r.x);
    assert!(r.evaluations <= 4, "{} values", r.evaluations);
    assert!(r.evaluations < plain.evaluations, "{r:?} {plain:?}");
    assert!(max_err(&plain.x, &want) < 1e-6);
}

#[test]
fn differenced_columns_that_are_not_positive_definite_are_dropped() {
    // At the start the curvature along x₁ is negative (f = x₀² + x₁⁴ − x₁²
    // near 0); the method starts as without the estimate and still finds a
    // minimum x₁ = ±1/√2.
    let f = |x: &[f64]| {
        let v = x[0] * x[0] + x[1].powi(4) - x[1] * x[1];
        (v, vec![2.0 * x[0], 4.0 * x[1].powi(3) - 2.0 * x[1]])
    };
    let opt = Bfgs {
        differenced_columns: vec![1],
        ..Bfgs::default()
    };
    let r = run(&opt, f, &[0.5, 0.1], &[-INF; 2], &[INF; 2]);
    assert!(
        matches!(r.code, ReturnCode::Converged | ReturnCode::FtolReached),
        "{r:?}"
    );
    assert!((r.x[1].abs() - 0.5f64.sqrt()).abs() < 1e-5, "{:?}", r.x);
    assert!((r.fmin + 0.25).abs() < 1e-9);
    // An index out of range is refused.
    let bad = Bfgs {
        differenced_columns: vec![2],
        ..Bfgs::default()
    };
    let r = run(&bad, f, &[0.5, 0.1], &[-INF; 2], &[INF; 2]);
    assert!(matches!(r.code, ReturnCode::Failure(_)), "{r:?}");
    assert_eq!(r.evaluations, 0);
}

#[test]
fn a_given_initial_hessian_is_used_and_the_final_one_returned() {
    let want = [59.0 / 22.0, -27.0 / 11.0, -80.0 / 33.0];
    let h = [2.0, 0.0, 1.8, 0.0, 2.0, -1.2, 1.8, -1.2, 3.0];
    let (free, up) = ([-INF; 3], [INF; 3]);
    // B₀ = H: one value at the start, one at the Newton step, which lands
    // on the minimum; no differencing and no line-search trials.
    let exact = Bfgs {
        initial_hessian: Some(h.to_vec()),
        ..Bfgs::default()
    };
    let r = run(&exact, coupled_quadratic, &[0.0; 3], &free, &up);
    assert_eq!(r.code, ReturnCode::Converged, "{r:?}");
    assert!(max_err(&r.x, &want) < 1e-9, "{:?}", r.x);
    assert!(r.evaluations <= 3, "{} values", r.evaluations);
    // On a quadratic the secant pairs keep B = H: the final B returned.
    assert_eq!(r.hessian.len(), 9);
    assert!(max_err(&r.hessian, &h) < 1e-6, "{:?}", r.hessian);
    // Started from scratch the final B approaches H as well.
    let plain = run(&Bfgs::default(), coupled_quadratic, &[0.0; 3], &free, &up);
    assert!(plain.evaluations > r.evaluations, "{plain:?}");
    assert_eq!(plain.hessian.len(), 9);
    // A B₀ that is not positive definite is ignored (the method starts
    // as without it and still converges); one of the wrong size is refused.
    let indefinite = Bfgs {
        initial_hessian: Some(vec![1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0]),
        ..Bfgs::default()
    };
    let r = run(&indefinite, coupled_quadratic, &[0.0; 3], &free, &up);
    assert_eq!(r.code, ReturnCode::Converged, "{r:?}");
    assert!(max_err(&r.x, &want) < 1e-6);
    let wrong = Bfgs {
        initial_hessian: Some(vec![1.0; 4]),
        ..Bfgs::default()
    };
    let r = run(&wrong, coupled_quadratic, &[0.0; 3], &free, &up);
    assert!(matches!(r.code, ReturnCode::Failure(_)), "{r:?}");
    assert_eq!(r.evaluations, 0);
}

#[test]
fn the_final_hessian_has_the_signs_of_the_returned_point() {
    // f seen as even in x₀ (a pivot without others): from (0.1, 10) the
    // first step crosses x₀ = 0 and the method ends at the mirror image
    // x₀ = −1 internally; the returned x has x₀ = 1 and B's off-diagonal
    // entries the signs of that x (without the orientation they are −1).
    let f = |x: &[f64]| {
        let (a, b) = (x[0] - 1.0, x[1] - 2.0);
        let v = a * a + 3.0 * b * b + a * b;
        (v, vec![2.0 * a + b, 6.0 * b + a])
    };
    let opt = Bfgs {
        sign_symmetries: vec![SignSymmetry {
            pivot: 0,
            others: vec![],
        }],
        ..Bfgs::default()
    };
    let r = run(&opt, f, &[0.1, 10.0], &[0.0, -INF], &[INF, INF]);
    assert!(max_err(&r.x, &[1.0, 2.0]) < 1e-6, "{:?}", r.x);
    // The Hessian at the minimum, [[2, 1], [1, 6]], in the caller's signs.
    assert!(
        max_err(&r.hessian, &[2.0, 1.0, 1.0, 6.0]) < 0.05,
        "{:?}",
        r.hessian
    );
}

/// A large f (10⁷, as the deviance of millions of rows) with one stiff and
/// one flat direction, and a rounding-like ripple of 10⁻⁷ in its value
/// that the exact gradient does not see.
fn large_noisy_objective(x: &[f64]) -> (f64, Vec<f64>) {
    let (d0, d1) = (x[0] - 0.5, x[1] - 0.8);
    let ripple = 1e-7 * (1e9 * x[0] + 7e8 * x[1]).sin();
    // Coupled, and quartic in the flat direction: not minimised in one
    // quasi-Newton step.
    let f = 1e7 + 5e5 * d0 * d0 + 1e2 * d0 * d1 + 50.0 * d1 * d1 + 1e3 * d1.powi(4) + ripple;
    let g = vec![
        1e6 * d0 + 1e2 * d1,
        1e2 * d0 + 100.0 * d1 + 4e3 * d1.powi(3),
    ];
    (f, g)
}

#[test]
fn a_small_scaled_gradient_is_confirmed_by_a_short_step() {
    let (lo, up) = ([0.0, 0.0], [INF, INF]);
    let r = run(
        &Bfgs::default(),
        large_noisy_objective,
        &[1.0, 1.0],
        &lo,
        &up,
    );
    assert_eq!(r.code, ReturnCode::Converged);
    let err = max_err(&r.x, &[0.5, 0.8]);
    assert!(err < 1e-9, "error {err:e}");
    // The scaled gradient alone stops where the flat direction is still
    // far from its minimum (|g| = 10⁻² there is 10⁻⁹ of f).
    let loose = Bfgs {
        confirm_gradient_by_step: false,
        ..Bfgs::default()
    };
    let r = run(&loose, large_noisy_objective, &[1.0, 1.0], &lo, &up);
    assert!(max_err(&r.x, &[0.5, 0.8]) > 1e-6);
}

/// Where f no longer resolves the decrease the quadratic model predicts
/// (a deviance of 10⁶ whose value is rounded to 10⁻⁷), the quasi-Newton
/// steps are taken on the gradient's word and reach its zero, instead of
/// stopping where the line search first fails.
#[test]
fn steps_below_the_rounding_of_f_follow_the_gradient() {
    let f = |x: &[f64]| {
        let quadratic: f64 = x
            .iter()
            .enumerate()
            .map(|(i, v)| (i as f64 + 1.0) * (v - 1.0).powi(2))
            .sum();
        let value = 1e6 + (quadratic / 1e-7).round() * 1e-7;
        let gradient = x
            .iter()
            .enumerate()
            .map(|(i, v)| 2.0 * (i as f64 + 1.0) * (v - 1.0))
            .collect();
        (value, gradient)
    };
    let opt = Bfgs {
        gtol: 1e-17,
        initial_curvature: Some(2.0),
        ..Bfgs::default()
    };
    let r = run(&opt, f, &[1.01, 0.99], &[-INF; 2], &[INF; 2]);
    assert!(max_err(&r.x, &[1.0, 1.0]) < 1e-9, "{:?} {:?}", r.x, r.code);
    assert!(r.evaluations < 30, "{}", r.evaluations);
}
