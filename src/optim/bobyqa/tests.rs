//! Internal consistency of the model and of the factored KKT inverse `H`.

use super::design::Design;
use super::model::{dot, Mat, Model};
use super::trsbox::trsbox;

/// A quadratic test function with coupled variables.
fn quad(x: &[f64]) -> f64 {
    let n = x.len();
    (0..n)
        .map(|i| {
            let xi = x[i] - 0.3 * (i as f64 + 1.0);
            let next = x[(i + 1) % n];
            (1.0 + i as f64) * xi * xi + 0.4 * xi * next + 0.7 * xi
        })
        .sum::<f64>()
        + 2.0
}

fn build(
    f: &dyn Fn(&[f64]) -> f64,
    xbase: &[f64],
    lower: &[f64],
    upper: &[f64],
    rho: f64,
    npt: usize,
) -> Model {
    let sl: Vec<f64> = lower.iter().zip(xbase).map(|(l, x)| l - x).collect();
    let su: Vec<f64> = upper.iter().zip(xbase).map(|(u, x)| u - x).collect();
    let mut design = Design::new(&sl, &su, rho, npt);
    let at = |d: &Design, k: usize| {
        let p: Vec<f64> = d.point(k).iter().zip(xbase).map(|(a, b)| a + b).collect();
        f(&p)
    };
    let mut fv: Vec<f64> = (0..design.axis_points()).map(|k| at(&design, k)).collect();
    design.prefer_lower_values(&mut fv);
    for k in design.axis_points()..npt {
        fv.push(at(&design, k));
    }
    Model::from_design(xbase.to_vec(), sl, su, &design, fv)
}

/// Largest violation of the parts of `W H = I` that involve stored blocks:
/// `XΩ = 0`, `XΞᵀ = [0; I]` on the gradient rows, and the columns of
/// `AΩ + YΞ_g − I` and `AΞ_gᵀ + YΥ` being constant vectors (the unknown
/// constant rows of `Ξ` and `Υ` contribute constants).
fn kkt_residual(m: &Model) -> f64 {
    let (n, npt) = (m.n, m.npt);
    let y = |k: usize| m.xpt.row(k);
    let mut omega = Mat::zeros(npt, npt);
    for k in 0..npt {
        for l in 0..npt {
            omega[(k, l)] = dot(m.zmat.row(k), m.zmat.row(l));
        }
    }
    let a = |k: usize, l: usize| 0.5 * dot(y(k), y(l)).powi(2);
    let mut worst = 0.0f64;
    for l in 0..npt {
        worst = worst.max((0..npt).map(|k| omega[(k, l)]).sum::<f64>().abs());
        for i in 0..n {
            worst = worst.max((0..npt).map(|k| y(k)[i] * omega[(k, l)]).sum::<f64>().abs());
        }
    }
    for j in 0..n {
        worst = worst.max((0..npt).map(|k| m.bmat[(k, j)]).sum::<f64>().abs());
        for i in 0..n {
            let v: f64 = (0..npt).map(|k| y(k)[i] * m.bmat[(k, j)]).sum();
            worst = worst.max((v - if i == j { 1.0 } else { 0.0 }).abs());
        }
    }
    let spread = |c: Vec<f64>| c.iter().map(|v| (v - c[0]).abs()).fold(0.0, f64::max);
    for l in 0..npt {
        let c: Vec<f64> = (0..npt)
            .map(|k| {
                let ao: f64 = (0..npt).map(|p| a(k, p) * omega[(p, l)]).sum();
                ao + dot(y(k), m.bmat.row(l)) - if k == l { 1.0 } else { 0.0 }
            })
            .collect();
        worst = worst.max(spread(c));
    }
    for j in 0..n {
        let c: Vec<f64> = (0..npt)
            .map(|k| {
                let ab: f64 = (0..npt).map(|p| a(k, p) * m.bmat[(p, j)]).sum();
                let yu: f64 = (0..n).map(|i| y(k)[i] * m.bmat[(npt + i, j)]).sum();
                ab + yu
            })
            .collect();
        worst = worst.max(spread(c));
    }
    worst
}

/// Largest `|Q(y_k) − f_k|` over the interpolation points.
fn interpolation_error(m: &Model) -> f64 {
    let xopt = m.xopt().to_vec();
    (0..m.npt)
        .map(|k| {
            let d: Vec<f64> = m.xpt.row(k).iter().zip(&xopt).map(|(a, b)| a - b).collect();
            (m.fopt() + m.predicted_change(&d) - m.fval[k]).abs()
        })
        .fold(0.0, f64::max)
}

/// A deterministic pseudo-random sequence in [−1, 1].
fn lcg(state: &mut u64) -> f64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
}

#[test]
fn initial_factorisation_satisfies_kkt_identities() {
    for n in [1usize, 2, 3, 5] {
        let full = (n + 1) * (n + 2) / 2;
        for npt in [n + 2, 2 * n + 1, full] {
            if npt < n + 2 || npt > full {
                continue;
            }
            let base: Vec<f64> = (0..n).map(|i| 0.1 * i as f64).collect();
            // Unbounded, at a lower bound, and close to an upper bound.
            let cases: [(Vec<f64>, Vec<f64>); 3] = [
                (vec![f64::NEG_INFINITY; n], vec![f64::INFINITY; n]),
                (base.clone(), vec![f64::INFINITY; n]),
                (vec![-5.0; n], base.iter().map(|b| b + 0.3).collect()),
            ];
            for (lo, up) in &cases {
                let m = build(&quad, &base, lo, up, 0.5, npt);
                assert!(
                    kkt_residual(&m) < 1e-10,
                    "n={n} npt={npt}: {}",
                    kkt_residual(&m)
                );
                assert!(interpolation_error(&m) < 1e-10);
            }
        }
    }
}

#[test]
fn updates_and_base_shifts_preserve_the_factorisation() {
    let mut state = 7u64;
    for (n, npt) in [(1usize, 3usize), (3, 5), (3, 7), (4, 15), (6, 13)] {
        let base = vec![0.2; n];
        let inf = vec![f64::INFINITY; n];
        let ninf = vec![f64::NEG_INFINITY; n];
        let mut m = build(&quad, &base, &ninf, &inf, 0.4, npt);
        for it in 0..60 {
            let xopt = m.xopt().to_vec();
            let d: Vec<f64> = (0..n).map(|_| 0.3 * lcg(&mut state)).collect();
            let xnew: Vec<f64> = xopt.iter().zip(&d).map(|(a, b)| a + b).collect();
            let (vlag, beta) = m.lagrange(&d);
            let t = (0..npt)
                .filter(|&k| k != m.kopt)
                .max_by(|&a, &b| {
                    let da = beta * m.omega_diag(a) + vlag[a] * vlag[a];
                    let db = beta * m.omega_diag(b) + vlag[b] * vlag[b];
                    da.total_cmp(&db)
                })
                .unwrap();
            let abs: Vec<f64> = xnew.iter().zip(&m.xbase).map(|(a, b)| a + b).collect();
            let f = quad(&abs);
            let diff = f - m.fopt() - m.predicted_change(&d);
            assert!(m.replace(t, &xnew, f, diff, vlag, beta));
            if it % 7 == 3 {
                m.shift_base();
            }
            assert!(
                kkt_residual(&m) < 1e-7,
                "n={n} npt={npt} it={it}: {}",
                kkt_residual(&m)
            );
            assert!(
                interpolation_error(&m) < 1e-8,
                "{}",
                interpolation_error(&m)
            );
        }
        // The model gradient at x_opt must then match a check of the true
        // quadratic when interpolation determines the model completely.
        if npt == (n + 1) * (n + 2) / 2 {
            let x: Vec<f64> = m.xopt().iter().zip(&m.xbase).map(|(a, b)| a + b).collect();
            for i in 0..n {
                let h = 1e-5;
                let mut xp = x.clone();
                xp[i] += h;
                let mut xm = x.clone();
                xm[i] -= h;
                let g = (quad(&xp) - quad(&xm)) / (2.0 * h);
                assert!((g - m.gopt[i]).abs() < 1e-6);
            }
        }
    }
}

#[test]
fn lagrange_values_at_interpolation_points_are_kronecker() {
    let n = 3;
    let inf = vec![f64::INFINITY; n];
    let ninf = vec![f64::NEG_INFINITY; n];
    let m = build(&quad, &[0.0, 0.5, -0.5], &ninf, &inf, 0.3, 7);
    let xopt = m.xopt().to_vec();
    for k in 0..m.npt {
        let d: Vec<f64> = m.xpt.row(k).iter().zip(&xopt).map(|(a, b)| a - b).collect();
        let (vlag, beta) = m.lagrange(&d);
        for (j, v) in vlag.iter().take(m.npt).enumerate() {
            let want = if j == k { 1.0 } else { 0.0 };
            assert!((v - want).abs() < 1e-10);
        }
        assert!(beta.abs() < 1e-10);
    }
}

#[test]
fn trust_region_step_respects_bounds_and_radius() {
    let n = 4;
    let lo = vec![0.0, -1.0, f64::NEG_INFINITY, 0.0];
    let up = vec![f64::INFINITY, 1.0, f64::INFINITY, 0.5];
    // Steep descent towards the bounds.
    let f = |x: &[f64]| dot(x, x) + 3.0 * x[0] + 2.0 * x[1] - 5.0 * x[3] + x[2];
    let m = build(&f, &[0.0, 0.0, 0.0, 0.0], &lo, &up, 0.25, 9);
    for delta in [0.1, 0.5, 2.0] {
        let step = trsbox(&m, delta);
        let norm = dot(&step.d, &step.d).sqrt();
        assert!(norm <= delta * (1.0 + 1e-12));
        for i in 0..n {
            assert!(step.xnew[i] >= m.sl[i] && step.xnew[i] <= m.su[i]);
        }
        assert!(m.predicted_change(&step.d) < 0.0);
    }
    // A long radius reaches the model minimiser on the box exactly.
    let step = trsbox(&m, 10.0);
    assert_eq!(step.xnew[0], m.sl[0]);
    assert_eq!(step.xnew[3], m.su[3]);
}

/// TRSBOX is approximate; compare its reduction of Q with the best of many
/// feasible random steps on random (also indefinite) bounded models.
#[test]
fn trust_region_step_is_close_to_the_best_feasible_step() {
    let mut state = 11u64;
    let (mut worst, mut sum, mut counted) = (f64::INFINITY, 0.0, 0);
    for trial in 0..100 {
        let n = 2 + trial % 2;
        let c: Vec<f64> = (0..n * n).map(|_| lcg(&mut state)).collect();
        let g0: Vec<f64> = (0..n).map(|_| lcg(&mut state)).collect();
        let f = move |x: &[f64]| {
            (0..n)
                .map(|i| {
                    g0[i] * x[i]
                        + (0..n)
                            .map(|j| 0.25 * (c[i * n + j] + c[j * n + i]) * x[i] * x[j])
                            .sum::<f64>()
                })
                .sum::<f64>()
        };
        let lo: Vec<f64> = (0..n).map(|_| -0.3 - 0.7 * lcg(&mut state).abs()).collect();
        let up: Vec<f64> = (0..n).map(|_| 0.3 + 0.7 * lcg(&mut state).abs()).collect();
        let base: Vec<f64> = (0..n)
            .map(|i| if lcg(&mut state) > 0.3 { lo[i] } else { 0.0 })
            .collect();
        let m = build(&f, &base, &lo, &up, 0.1, 2 * n + 1);
        let delta = 0.2 + 0.8 * lcg(&mut state).abs();
        let step = trsbox(&m, delta);
        let got = -m.predicted_change(&step.d);
        let xopt = m.xopt().to_vec();
        let mut best = 0.0f64;
        for _ in 0..20_000 {
            let d: Vec<f64> = (0..n).map(|_| delta * lcg(&mut state)).collect();
            let feasible = dot(&d, &d) <= delta * delta
                && (0..n).all(|i| xopt[i] + d[i] >= m.sl[i] && xopt[i] + d[i] <= m.su[i]);
            if feasible {
                best = best.max(-m.predicted_change(&d));
            }
        }
        if best > 1e-12 {
            worst = worst.min(got / best);
            sum += got / best;
            counted += 1;
        }
    }
    assert!(worst > 0.6, "worst ratio {worst}");
    assert!(
        sum / counted as f64 > 0.97,
        "mean ratio {}",
        sum / counted as f64
    );
}
