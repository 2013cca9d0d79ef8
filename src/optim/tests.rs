//! Tests of the optimizers on problems with known solutions.

use super::{Bobyqa, OptResult, Optimizer, ReturnCode, SignSymmetry};

const INF: f64 = f64::INFINITY;

/// Minimise `f`, checking that every call is inside the bounds and that the
/// reported evaluation count is exact.
fn run(opt: &Bobyqa, f: impl Fn(&[f64]) -> f64, x0: &[f64], lo: &[f64], up: &[f64]) -> OptResult {
    let mut calls = 0usize;
    let result = {
        let mut counted = |x: &[f64]| {
            calls += 1;
            for i in 0..x.len() {
                assert!(
                    x[i] >= lo[i] && x[i] <= up[i],
                    "x[{i}] = {} outside bounds",
                    x[i]
                );
            }
            f(x)
        };
        opt.minimize(&mut counted, x0, lo, up)
    };
    assert_eq!(result.evaluations, calls, "evaluation count must be exact");
    result
}

fn max_err(x: &[f64], want: &[f64]) -> f64 {
    x.iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
}

/// Solve `M x = b` by Gaussian elimination with partial pivoting.
fn solve(mut m: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n)
            .max_by(|&i, &j| m[i][c].abs().total_cmp(&m[j][c].abs()))
            .unwrap();
        m.swap(c, p);
        b.swap(c, p);
        for r in c + 1..n {
            let factor = m[r][c] / m[c][c];
            let (top, bottom) = m.split_at_mut(r);
            for (a, p) in bottom[0][c..].iter_mut().zip(&top[c][c..]) {
                *a -= factor * p;
            }
            b[r] -= factor * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for c in (0..n).rev() {
        let s: f64 = (c + 1..n).map(|k| m[c][k] * x[k]).sum();
        x[c] = (b[c] - s) / m[c][c];
    }
    x
}

/// `½ (x − t)ᵀ M (x − t)` with a tridiagonal positive definite `M`.
struct Quadratic {
    m: Vec<Vec<f64>>,
    t: Vec<f64>,
}

impl Quadratic {
    fn new(n: usize) -> Self {
        let mut m = vec![vec![0.0; n]; n];
        for i in 0..n {
            m[i][i] = 1.0 + 0.5 * i as f64;
            if i + 1 < n {
                m[i][i + 1] = 0.3;
                m[i + 1][i] = 0.3;
            }
        }
        let t = (0..n)
            .map(|i| {
                if i % 2 == 0 {
                    -0.5 - 0.05 * i as f64
                } else {
                    0.6 + 0.05 * i as f64
                }
            })
            .collect();
        Quadratic { m, t }
    }

    fn value(&self, x: &[f64]) -> f64 {
        let n = x.len();
        let r: Vec<f64> = (0..n).map(|i| x[i] - self.t[i]).collect();
        0.5 * (0..n)
            .map(|i| r[i] * (0..n).map(|j| self.m[i][j] * r[j]).sum::<f64>())
            .sum::<f64>()
    }

    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        let n = x.len();
        (0..n)
            .map(|i| (0..n).map(|j| self.m[i][j] * (x[j] - self.t[j])).sum())
            .collect()
    }

    /// The minimiser on the box `lo, up`, by a primal active-set iteration
    /// (exact for this small convex problem), checked against the KKT
    /// conditions.
    fn box_minimum(&self, lo: &[f64], up: &[f64]) -> Vec<f64> {
        let n = self.t.len();
        let mut active: Vec<Option<f64>> = vec![None; n];
        let mut x = self.t.clone();
        for _ in 0..100 {
            let free: Vec<usize> = (0..n).filter(|&i| active[i].is_none()).collect();
            for i in 0..n {
                x[i] = active[i].unwrap_or(self.t[i]);
            }
            let m: Vec<Vec<f64>> = free
                .iter()
                .map(|&i| free.iter().map(|&j| self.m[i][j]).collect())
                .collect();
            let b: Vec<f64> = free
                .iter()
                .map(|&i| {
                    -(0..n)
                        .map(|j| self.m[i][j] * (x[j] - self.t[j]))
                        .sum::<f64>()
                })
                .collect();
            for (k, r) in solve(m, b).into_iter().enumerate() {
                x[free[k]] = self.t[free[k]] + r;
            }
            let g = self.gradient(&x);
            let mut changed = false;
            for i in 0..n {
                match active[i] {
                    None if x[i] < lo[i] => (active[i], changed) = (Some(lo[i]), true),
                    None if x[i] > up[i] => (active[i], changed) = (Some(up[i]), true),
                    Some(v) if (v == lo[i] && g[i] < 0.0) || (v == up[i] && g[i] > 0.0) => {
                        (active[i], changed) = (None, true)
                    }
                    _ => {}
                }
                if changed {
                    break;
                }
            }
            if !changed {
                let g = self.gradient(&x);
                for i in 0..n {
                    assert!(x[i] >= lo[i] && x[i] <= up[i]);
                    if active[i].is_none() {
                        assert!(g[i].abs() < 1e-12);
                    }
                }
                return x;
            }
        }
        panic!("test setup: active-set iteration did not settle");
    }
}

#[test]
fn quadratics_without_bounds() {
    for n in [1usize, 2, 5, 10] {
        let q = Quadratic::new(n);
        let lo = vec![-INF; n];
        let up = vec![INF; n];
        let x0 = vec![1.0; n];
        let r = run(&Bobyqa::default(), |x| q.value(x), &x0, &lo, &up);
        println!(
            "quadratic n={n} unconstrained: {} evaluations",
            r.evaluations
        );
        assert_eq!(r.code, ReturnCode::Converged);
        assert!(max_err(&r.x, &q.t) < 1e-6, "n={n}: {:?}", r.x);
        assert!(r.fmin < 1e-12);
    }
}

#[test]
fn quadratics_with_active_and_inactive_bounds() {
    for n in [1usize, 2, 5, 10] {
        let q = Quadratic::new(n);
        // Lower bound 0 on the even variables (whose targets are negative),
        // an upper bound on variable 1 below its target, and bounds that do
        // not bind on the rest.
        let mut lo = vec![-INF; n];
        let mut up = vec![INF; n];
        for i in 0..n {
            if i % 2 == 0 {
                lo[i] = 0.0;
            } else if i == 1 {
                up[i] = 0.5;
            } else {
                lo[i] = -3.0;
                up[i] = 3.0;
            }
        }
        let want = q.box_minimum(&lo, &up);
        let active: Vec<(usize, f64)> = (0..n)
            .filter(|&i| want[i] == lo[i] || want[i] == up[i])
            .map(|i| (i, want[i]))
            .collect();
        assert!(!active.is_empty());
        let x0 = vec![0.25; n];
        let r = run(&Bobyqa::default(), |x| q.value(x), &x0, &lo, &up);
        println!("quadratic n={n} bounded: {} evaluations", r.evaluations);
        assert_eq!(r.code, ReturnCode::Converged);
        assert!(max_err(&r.x, &want) < 1e-6, "n={n}: {:?} vs {want:?}", r.x);
        for &(i, v) in &active {
            assert_eq!(r.x[i], v, "bound on variable {i} must be hit exactly");
        }
    }
}

fn rosenbrock(x: &[f64]) -> f64 {
    // The "extended" form: independent pairs, unique minimiser at 1.
    x.chunks(2)
        .map(|p| 100.0 * (p[1] - p[0] * p[0]).powi(2) + (1.0 - p[0]).powi(2))
        .sum()
}

#[test]
fn rosenbrock_2d_and_4d() {
    let opt = Bobyqa {
        rho_begin: 0.5,
        rho_end: 1e-8,
        ..Bobyqa::default()
    };
    for (n, limit) in [(2usize, 1000usize), (4, 2000)] {
        let x0: Vec<f64> = (0..n)
            .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
            .collect();
        let r = run(&opt, rosenbrock, &x0, &vec![-INF; n], &vec![INF; n]);
        println!(
            "Rosenbrock n={n}: {} evaluations, f = {:e}",
            r.evaluations, r.fmin
        );
        assert_eq!(r.code, ReturnCode::Converged);
        assert!(max_err(&r.x, &vec![1.0; n]) < 1e-5, "{:?}", r.x);
        assert!(r.evaluations < limit);
    }
}

#[test]
fn rosenbrock_with_a_binding_bound() {
    // With x1 <= 0.5 the minimiser of 100(y − x²)² + (1 − x)² is (0.5, 0.25)
    // for y free; here y <= 0.2 binds instead: x solves the 1-D problem.
    let lo = [-2.0, -2.0];
    let up = [2.0, 0.2];
    let r = run(
        &Bobyqa {
            rho_end: 1e-9,
            ..Bobyqa::default()
        },
        rosenbrock,
        &[-1.2, 0.1],
        &lo,
        &up,
    );
    println!("bounded Rosenbrock: {} evaluations", r.evaluations);
    assert_eq!(r.x[1], 0.2);
    // d/dx [100(0.2 − x²)² + (1 − x)²] = 0.
    let g = -400.0 * r.x[0] * (0.2 - r.x[0] * r.x[0]) - 2.0 * (1.0 - r.x[0]);
    assert!(g.abs() < 1e-5, "{:?} {g}", r.x);
}

/// "Invdist2", the example distributed with Powell's BOBYQA: `m = n/2`
/// points in the square `[−1, 1]²` minimise the sum of the reciprocals of
/// their distances, starting equally spaced on the unit circle, with the
/// pairs `(n, npt)` that Powell used.  The solutions are local minima (for
/// `n = 10` not global ones, as Powell remarks); first-order conditions are
/// checked by differences.
#[test]
fn powell_inverse_distance_problem() {
    for (n, npt) in [(10usize, 16usize), (10, 21), (20, 26), (20, 41)] {
        let m = n / 2;
        let f = |x: &[f64]| {
            let mut s = 0.0;
            for i in 0..m {
                for j in 0..i {
                    let d = ((x[2 * i] - x[2 * j]).powi(2) + (x[2 * i + 1] - x[2 * j + 1]).powi(2))
                        .max(1e-12);
                    s += 1.0 / d.sqrt();
                }
            }
            s
        };
        let x0: Vec<f64> = (0..m)
            .flat_map(|j| {
                let a = 2.0 * std::f64::consts::PI * (j + 1) as f64 / m as f64;
                [a.cos(), a.sin()]
            })
            .collect();
        let opt = Bobyqa {
            rho_begin: 0.1,
            rho_end: 1e-6,
            npt: Some(npt),
            ..Bobyqa::default()
        };
        let r = run(&opt, f, &x0, &vec![-1.0; n], &vec![1.0; n]);
        println!(
            "Invdist2 n={n} npt={npt}: {} evaluations, f = {}",
            r.evaluations, r.fmin
        );
        assert_eq!(r.code, ReturnCode::Converged);
        assert!(r.fmin < f(&x0));
        for i in 0..n {
            let h = 1e-6;
            let (mut xp, mut xm) = (r.x.clone(), r.x.clone());
            xp[i] = (xp[i] + h).min(1.0);
            xm[i] = (xm[i] - h).max(-1.0);
            let g = (f(&xp) - f(&xm)) / (xp[i] - xm[i]);
            if r.x[i] == -1.0 {
                assert!(g > -1e-3, "component {i}: {g}");
            } else if r.x[i] == 1.0 {
                assert!(g < 1e-3, "component {i}: {g}");
            } else {
                assert!(g.abs() < 1e-3, "component {i} = {}: {g}", r.x[i]);
            }
        }
    }
}

#[test]
fn mixed_model_like_theta() {
    let f = |t: &[f64]| {
        (t[0] - 0.9).powi(2)
            + 10.0 * (t[1] - 0.02).powi(2)
            + (t[2] + 0.1).powi(2)
            + 0.3 * t[0] * t[1]
    };
    let lo = [0.0, -INF, 0.0];
    let up = [INF; 3];
    let r = run(&Bobyqa::default(), f, &[1.0, 0.0, 1.0], &lo, &up);
    println!("mixed-model-like θ (n=3): {} evaluations", r.evaluations);
    let t1 = 0.13 / 19.955;
    let want = [0.9 - 0.15 * t1, t1, 0.0];
    assert_eq!(r.code, ReturnCode::Converged);
    assert!(max_err(&r.x, &want) < 1e-6, "{:?}", r.x);
    assert_eq!(r.x[2], 0.0);
    assert!(r.evaluations < 150);
}

#[test]
fn infinite_and_nan_values_are_avoided() {
    let f = |x: &[f64]| {
        if x[0] > 2.5 {
            INF
        } else if x[1] > 3.0 {
            f64::NAN
        } else {
            (x[0] - 1.0).powi(2) + (x[1] - 0.5).powi(2) + 0.5 * x[0] * x[1]
        }
    };
    let r = run(&Bobyqa::default(), f, &[2.0, 2.5], &[-INF; 2], &[INF; 2]);
    println!(
        "objective with +inf/NaN region: {} evaluations",
        r.evaluations
    );
    assert_eq!(r.code, ReturnCode::Converged);
    assert!(
        max_err(&r.x, &[1.0 - 0.25 * 0.5 / 1.875, 0.5 / 1.875]) < 1e-6,
        "{:?}",
        r.x
    );
    assert!(r.fmin.is_finite());

    // Undefined at the start point itself.
    let g = |x: &[f64]| {
        if x[0] + x[1] > 1.5 {
            INF
        } else {
            (x[0] - 0.2).powi(2) + (x[1] + 0.3).powi(2)
        }
    };
    let r = run(&Bobyqa::default(), g, &[1.0, 1.0], &[0.0, -INF], &[INF; 2]);
    assert_eq!(r.code, ReturnCode::Converged);
    assert!(max_err(&r.x, &[0.2, -0.3]) < 1e-6, "{:?}", r.x);

    // −inf is taken as the best possible value, and does not break the run.
    let h = |x: &[f64]| {
        if x[0] < 0.2 {
            -INF
        } else {
            x[0] * x[0] + x[1] * x[1]
        }
    };
    let r = run(
        &Bobyqa::default(),
        h,
        &[1.0, 1.0],
        &[-1.0, -1.0],
        &[2.0, 2.0],
    );
    assert_eq!(r.fmin, -INF);
    assert!(r.x[0] < 0.2);

    // Never finite: a clean failure.
    let r = run(
        &Bobyqa::default(),
        |_| INF,
        &[1.0, 1.0],
        &[-INF; 2],
        &[INF; 2],
    );
    assert!(matches!(r.code, ReturnCode::Failure(_)));
    assert_eq!(r.evaluations, 5);
}

#[test]
fn one_dimensional_problems() {
    let opt = Bobyqa::default();
    // Interior optimum, unbounded.
    let r = run(
        &opt,
        |x| (x[0] - 0.3).powi(2) + 1.0,
        &[1.0],
        &[-INF],
        &[INF],
    );
    println!("1-D quadratic: {} evaluations", r.evaluations);
    assert!((r.x[0] - 0.3).abs() < 1e-6);
    // Optimum on the lower bound 0.
    let r = run(&opt, |x| (x[0] + 0.4).powi(2), &[1.0], &[0.0], &[INF]);
    println!("1-D, optimum at the bound: {} evaluations", r.evaluations);
    assert_eq!(r.x[0], 0.0);
    assert_eq!(r.code, ReturnCode::Converged);
    // A smooth non-quadratic θ-like objective with a lower bound 0.
    let r = run(&opt, |x| x[0].exp() - 2.0 * x[0], &[1.0], &[0.0], &[INF]);
    println!("1-D exp(θ) − 2θ: {} evaluations", r.evaluations);
    assert!((r.x[0] - 2f64.ln()).abs() < 1e-6, "{:?}", r.x);
    assert!(r.evaluations <= 40);
    // A start on the bound with the optimum inside.
    let r = run(
        &opt,
        |x| (x[0] - 1.7).powi(4) + (x[0] - 1.7).powi(2),
        &[0.0],
        &[0.0],
        &[INF],
    );
    assert!((r.x[0] - 1.7).abs() < 1e-5, "{:?}", r.x);
}

#[test]
fn evaluation_budget_is_respected_exactly() {
    for budget in [0usize, 1, 3, 4, 10, 37] {
        let opt = Bobyqa {
            max_evaluations: budget,
            ..Bobyqa::default()
        };
        let r = run(&opt, rosenbrock, &[-1.2, 1.0], &[-INF; 2], &[INF; 2]);
        assert_eq!(r.evaluations, budget);
        assert_eq!(r.code, ReturnCode::MaxEvaluations);
        assert!(r.x.len() == 2);
    }
}

#[test]
fn narrow_and_fixed_bounds() {
    // Bounds closer than 2 rho_begin: rho_begin is reduced.
    let f = |x: &[f64]| (x[0] - 0.1).powi(2) + (x[1] - 2.0).powi(2) + x[2].powi(2);
    let r = run(
        &Bobyqa::default(),
        f,
        &[0.3, 1.0, 5.0],
        &[0.0, 1.0, 4.0],
        &[0.5, 1.0, 6.0],
    );
    assert_eq!(r.code, ReturnCode::Converged);
    assert!(max_err(&r.x, &[0.1, 1.0, 4.0]) < 1e-6, "{:?}", r.x);
    assert_eq!(r.x[2], 4.0);
    // Every variable fixed: one evaluation.
    let r = run(
        &Bobyqa::default(),
        f,
        &[0.0, 0.0, 0.0],
        &[1.0; 3],
        &[1.0; 3],
    );
    assert_eq!(r.evaluations, 1);
    assert_eq!(r.x, vec![1.0; 3]);
}

#[test]
fn other_npt_values_and_ftol() {
    let q = Quadratic::new(4);
    for npt in [6usize, 9, 12, 15] {
        let opt = Bobyqa {
            npt: Some(npt),
            ..Bobyqa::default()
        };
        let r = run(&opt, |x| q.value(x), &[1.0; 4], &[-INF; 4], &[INF; 4]);
        println!("quadratic n=4 npt={npt}: {} evaluations", r.evaluations);
        assert!(max_err(&r.x, &q.t) < 1e-6, "npt={npt}: {:?}", r.x);
    }
    let opt = Bobyqa {
        ftol_abs: Some(1e-3),
        rho_end: 1e-10,
        ..Bobyqa::default()
    };
    let r = run(&opt, rosenbrock, &[-1.2, 1.0], &[-INF; 2], &[INF; 2]);
    assert_eq!(r.code, ReturnCode::FtolReached);
}

#[test]
fn invalid_arguments_fail_cleanly() {
    let opt = Bobyqa::default();
    let f = |x: &[f64]| x[0] * x[0];
    let r = run(&opt, f, &[1.0], &[2.0], &[1.0]);
    assert!(matches!(r.code, ReturnCode::Failure(_)));
    assert_eq!(r.evaluations, 0);
    let r = opt.minimize(&mut |x: &[f64]| x[0], &[1.0, 2.0], &[0.0], &[1.0]);
    assert!(matches!(r.code, ReturnCode::Failure(_)));
    let bad = Bobyqa {
        rho_begin: -1.0,
        ..Bobyqa::default()
    };
    let r = run(&bad, f, &[1.0], &[-INF], &[INF]);
    assert!(matches!(r.code, ReturnCode::Failure(_)));
    // Sign symmetries need a pivot with bounds [0, ∞), unbounded others
    // and disjoint groups.
    let lo = [0.0, -INF, -1.0];
    let up = [INF; 3];
    for (pivot, others) in [(0, vec![2]), (1, vec![0]), (0, vec![1, 1]), (0, vec![3])] {
        let bad = Bobyqa {
            sign_symmetries: vec![SignSymmetry { pivot, others }],
            ..Bobyqa::default()
        };
        let r = run(&bad, |x| x[0] * x[0] + x[1] * x[1], &[1.0; 3], &lo, &up);
        assert!(matches!(r.code, ReturnCode::Failure(_)), "{:?}", r.code);
        assert_eq!(r.evaluations, 0);
    }
}

#[test]
fn larger_random_problems() {
    let mut state = 3u64;
    let mut lcg = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    for n in [20usize, 40] {
        // A random positive definite quadratic; a lower bound 0 on every
        // third variable, as on the diagonal of a relative covariance factor.
        let b: Vec<f64> = (0..n * n).map(|_| lcg() / (n as f64).sqrt()).collect();
        let m = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| {
                        (0..n).map(|k| b[k * n + i] * b[k * n + j]).sum::<f64>()
                            + if i == j { 0.5 } else { 0.0 }
                    })
                    .collect()
            })
            .collect();
        let q = Quadratic {
            m,
            t: (0..n).map(|_| lcg()).collect(),
        };
        let lo: Vec<f64> = (0..n)
            .map(|i| if i % 3 == 0 { 0.0 } else { -INF })
            .collect();
        let up = vec![INF; n];
        let want = q.box_minimum(&lo, &up);
        let r = run(&Bobyqa::default(), |x| q.value(x), &vec![1.0; n], &lo, &up);
        println!("random quadratic n={n}: {} evaluations", r.evaluations);
        assert_eq!(r.code, ReturnCode::Converged);
        assert!(max_err(&r.x, &want) < 1e-5, "{}", max_err(&r.x, &want));
        for i in (0..n).filter(|&i| want[i] == 0.0) {
            assert_eq!(r.x[i], 0.0);
        }
    }
}

/// `‖λλᵀ − S‖²_F` for a lower-triangular `λ` stored column by column, as θ
/// of a mixed model is; unchanged when a column of `λ` is negated.
fn factor_misfit(theta: &[f64], s: &[Vec<f64>]) -> f64 {
    let k = s.len();
    let mut lambda = vec![vec![0.0; k]; k];
    let mut it = theta.iter();
    for j in 0..k {
        for row in lambda.iter_mut().skip(j) {
            row[j] = *it.next().unwrap();
        }
    }
    let mut sum = 0.0;
    for i in 0..k {
        for j in 0..k {
            let p: f64 = (0..k).map(|c| lambda[i][c] * lambda[j][c]).sum();
            sum += (p - s[i][j]).powi(2);
        }
    }
    sum
}

#[test]
fn covariance_columns_follow_the_theta_layout() {
    // A 3×3 factor, a 1×1 factor and a 2×2 factor.
    let lower = [0.0, -INF, -INF, 0.0, -INF, 0.0, 0.0, 0.0, -INF, 0.0];
    let syms = SignSymmetry::covariance_columns(&lower, &[INF; 10]);
    let want = [(0, vec![1, 2]), (3, vec![4]), (7, vec![8])];
    assert_eq!(syms.len(), want.len());
    for (s, (pivot, others)) in syms.iter().zip(want) {
        assert_eq!((s.pivot, &s.others), (pivot, &others));
    }
    // Finite upper bounds or other lower bounds are not columns.
    let lower = [0.0, -INF, 1.0, -INF];
    assert!(SignSymmetry::covariance_columns(&lower, &[1.0, INF, INF, INF]).is_empty());
    assert!(SignSymmetry::covariance_columns(&lower[2..], &[INF; 2]).is_empty());
}

#[test]
fn sign_symmetries_remove_spurious_boundary_minima() {
    // Rank-one fit of S = [1 −0.8; −0.8 1] by vvᵀ with v₀ ≥ 0: the global
    // minimum 0.04 is at v = √1.8 (1, −1)/√2, but (0, 1) is a strict local
    // minimum of the bounded problem (∂f/∂v₀ = 3.2 > 0 there).
    let s = [[1.0, -0.8], [-0.8, 1.0]];
    let f = |x: &[f64]| {
        (x[0] * x[0] - s[0][0]).powi(2)
            + 2.0 * (x[0] * x[1] - s[0][1]).powi(2)
            + (x[1] * x[1] - s[1][1]).powi(2)
    };
    let (lo, up) = ([0.0, -INF], [INF; 2]);
    let plain = run(&Bobyqa::default(), f, &[0.2, 1.2], &lo, &up);
    assert!(
        plain.x[0] == 0.0 && (plain.fmin - 2.28).abs() < 1e-9,
        "{plain:?}"
    );
    let opt = Bobyqa {
        sign_symmetries: vec![SignSymmetry {
            pivot: 0,
            others: vec![1],
        }],
        ..Bobyqa::default()
    };
    let r = run(&opt, f, &[0.2, 1.2], &lo, &up);
    println!(
        "rank-one fit with a sign symmetry: {} evaluations",
        r.evaluations
    );
    assert_eq!(r.code, ReturnCode::Converged);
    let v = 0.9f64.sqrt();
    assert!(max_err(&r.x, &[v, -v]) < 1e-6, "{:?}", r.x);
    assert!((r.fmin - 0.04).abs() < 1e-10);

    // A 3×3 factor from the identity: the result is the Cholesky factor.
    let s = [
        vec![4.0, -2.0, 1.0],
        vec![-2.0, 3.0, -1.5],
        vec![1.0, -1.5, 2.5],
    ];
    let lo = [0.0, -INF, -INF, 0.0, -INF, 0.0];
    let up = [INF; 6];
    let opt = Bobyqa {
        sign_symmetries: SignSymmetry::covariance_columns(&lo, &up),
        rho_end: 1e-8,
        ..Bobyqa::default()
    };
    let x0 = [1.0, 0.0, 0.0, 1.0, 0.0, 1.0];
    let r = run(&opt, |t| factor_misfit(t, &s), &x0, &lo, &up);
    println!(
        "3×3 factor with sign symmetries: {} evaluations",
        r.evaluations
    );
    let chol = [2.0, -1.0, 0.5, 2f64.sqrt(), -0.5f64.sqrt(), 1.75f64.sqrt()];
    assert!(max_err(&r.x, &chol) < 1e-6, "{:?}", r.x);
}

#[test]
fn scaled_variables() {
    // Badly scaled: x₀ lives on a scale of 100.  With scales the method
    // sees a well-scaled problem; the bounds (finite and non-zero, so not
    // exactly representable after scaling) are still met exactly.
    let f =
        |x: &[f64]| (x[0] / 100.0 - 0.3).powi(2) + (x[1] - 0.2).powi(2) + 0.1 * x[1] * x[0] / 100.0;
    let (lo, up) = ([10.1, -1.0], [70.3, 0.3]);
    let opt = Bobyqa {
        scales: Some(vec![100.0, 1.0]),
        ..Bobyqa::default()
    };
    let r = run(&opt, f, &[50.0, 0.0], &lo, &up);
    println!("scaled quadratic: {} evaluations", r.evaluations);
    // Stationary point in (u, v) = (x₀/100, x₁): u = 0.3 − v/20, v = 0.2 − u/20.
    let v = 0.185 / 0.9975;
    let want = [100.0 * (0.3 - 0.05 * v), v];
    assert!(
        (r.x[0] - want[0]).abs() < 1e-4 && (r.x[1] - want[1]).abs() < 1e-6,
        "{:?}",
        r.x
    );
    // The optimum on a lower bound that x / scale does not represent exactly.
    let r = run(
        &opt,
        |x| (x[0] - 3.0).powi(2) + x[1] * x[1],
        &[50.0, 0.0],
        &lo,
        &up,
    );
    assert_eq!(r.x[0], 10.1);
    assert!(r.x[1].abs() < 1e-6);
    // Invalid scales.
    for scales in [vec![1.0], vec![1.0, 0.0], vec![1.0, f64::NAN]] {
        let bad = Bobyqa {
            scales: Some(scales),
            ..Bobyqa::default()
        };
        let r = run(&bad, f, &[50.0, 0.0], &lo, &up);
        assert!(matches!(r.code, ReturnCode::Failure(_)));
    }
}
