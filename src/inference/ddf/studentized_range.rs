//! The studentized range distribution (R's `ptukey` / `qtukey` with one
//! range): the range of `n` independent standard normal values divided by an
//! independent s with ν·s² ~ χ²(ν). Tukey's multiple comparisons of `n`
//! means use it: the p-value of a pairwise t ratio t is
//! P(Q > √2·|t|) and the simultaneous critical value is q_level/√2.
//!
//! P(Q ≤ q) = ∫₀^∞ f_ν(s) W(q·s) ds, where W(w) = n ∫ φ(z) [Φ(z + w) − Φ(z)]ⁿ⁻¹ dz
//! is the distribution of the range of n standard normals and f_ν the density
//! of s (a scaled χ). Both integrals use 16-point Gauss–Legendre rules on
//! panels: z over [−9, 9] in panels of width 2 (φ is below 1e-17 outside),
//! s over the interval where f_ν is within e⁻⁴⁵ of its mode, in 12 panels.
//! The error is about 1e-12 absolute (the tests compare with nested adaptive
//! quadrature to 1e-13). As R does, ν above 25 000 is
//! treated as infinite and ν < 2 gives NaN.
//!
//! Cost: the inner integral at every outer node is the work (192 × 144
//! evaluations of Φ). Φ comes from libm's erfc, the inner rule's Φ(z) and
//! weights are computed once per process, Φ(z + w) is skipped where it is 1 to
//! 1e-19, and the density's normalising constant (a ln Γ) is computed once per
//! call; one call takes about 0.6 ms (5.5 ms with the series erfc and ln Γ per
//! node; benches/ptukey_speed.py).

use std::sync::OnceLock;

use crate::stats::ln_gamma;

/// Degrees of freedom above which the distribution is taken as that of ν = ∞
/// (R's threshold).
const LARGE_DF: f64 = 25_000.0;
/// Number of Gauss–Legendre points per panel.
const GL_POINTS: usize = 16;
/// Panels of the outer (s) integral.
const S_PANELS: usize = 12;
/// Width of the panels of the inner (z) integral over [−9, 9].
const Z_PANEL: f64 = 2.0;

/// Nodes and weights of the `GL_POINTS`-point Gauss–Legendre rule on [−1, 1]
/// (Newton iteration on the Legendre polynomial from Chebyshev starting points).
fn gauss_legendre() -> &'static [(f64, f64)] {
    static RULE: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    RULE.get_or_init(|| {
        let n = GL_POINTS;
        (0..n)
            .map(|i| {
                let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
                let mut dp = 0.0;
                for _ in 0..100 {
                    let (mut p0, mut p1) = (1.0, x);
                    for k in 2..=n {
                        let k = k as f64;
                        (p0, p1) = (p1, ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k);
                    }
                    dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
                    let step = p1 / dp;
                    x -= step;
                    if step.abs() < 1e-16 {
                        break;
                    }
                }
                (x, 2.0 / ((1.0 - x * x) * dp * dp))
            })
            .collect()
    })
}

/// Φ(x), the standard normal distribution function, through libm's erfc
/// (a rational approximation accurate to about one ulp and an order of
/// magnitude faster than the series / continued fraction of `crate::stats`;
/// the inner integral evaluates it at every node of every outer node).
fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// The inner rule's nodes z, with weight·φ(z), Φ(z) and 1 − Φ(z).
fn inner_nodes() -> &'static [(f64, f64, f64, f64)] {
    static NODES: OnceLock<Vec<(f64, f64, f64, f64)>> = OnceLock::new();
    NODES.get_or_init(|| {
        let rule = gauss_legendre();
        let mut out = Vec::new();
        let (lo, hi) = (-9.0_f64, 9.0_f64);
        let panels = ((hi - lo) / Z_PANEL) as usize;
        for k in 0..panels {
            let a = lo + k as f64 * Z_PANEL;
            for &(x, w) in rule {
                let z = a + 0.5 * Z_PANEL * (x + 1.0);
                let phi = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
                out.push((z, 0.5 * Z_PANEL * w * phi, normal_cdf(z), normal_cdf(-z)));
            }
        }
        out
    })
}

/// P(range of `n` standard normals ≤ `w`).
pub fn normal_range_cdf(w: f64, n: usize) -> f64 {
    if w.is_nan() {
        return f64::NAN;
    }
    if w <= 0.0 || n < 2 {
        return if n < 2 { f64::NAN } else { 0.0 };
    }
    if w.is_infinite() {
        return 1.0;
    }
    let power = (n - 1) as i32;
    let sum: f64 = inner_nodes()
        .iter()
        .map(|&(z, wphi, cdf, upper)| {
            // Φ(z + w) − Φ(z), from the upper tails where both are near 1; past
            // z + w = 9, Φ(z + w) is 1 to within 1.2e-19 (no erfc needed).
            let d = if z + w > 9.0 {
                upper
            } else if z > 0.0 {
                upper - normal_cdf(-(z + w))
            } else {
                normal_cdf(z + w) - cdf
            };
            wphi * d.max(0.0).powi(power)
        })
        .sum();
    (n as f64 * sum).min(1.0)
}

/// ln f_ν(s) − `constant`, the log density of s with ν·s² ~ χ²(ν) up to the
/// normalising term (see [`ln_scaled_chi_constant`]), so that the hundreds of
/// evaluations of one call need no ln Γ.
fn ln_scaled_chi_kernel(s: f64, nu: f64) -> f64 {
    (nu - 1.0) * s.ln() - 0.5 * nu * s * s
}

/// The normalising term of ln f_ν: ½ν ln ν − ln Γ(½ν) − (½ν − 1) ln 2.
fn ln_scaled_chi_constant(nu: f64) -> f64 {
    0.5 * nu * nu.ln() - ln_gamma(0.5 * nu) - (0.5 * nu - 1.0) * std::f64::consts::LN_2
}

/// P(Q ≤ `q`) for the studentized range of `n` means with `df` degrees of
/// freedom (R's `ptukey(q, n, df)`); `df = ∞` gives the range of normals.
pub fn ptukey(q: f64, n: usize, df: f64) -> f64 {
    if q.is_nan() || df.is_nan() || n < 2 || df < 2.0 {
        return f64::NAN;
    }
    if q <= 0.0 {
        return 0.0;
    }
    if df > LARGE_DF {
        return normal_range_cdf(q, n);
    }
    let mode = ((df - 1.0) / df).sqrt();
    let constant = ln_scaled_chi_constant(df);
    let peak = ln_scaled_chi_kernel(mode, df);
    let negligible = |s: f64| ln_scaled_chi_kernel(s, df) < peak - 45.0;
    // The interval where the density is within e⁻⁴⁵ of its peak, by bisection.
    let mut lo = (0.0, mode);
    for _ in 0..200 {
        let mid = 0.5 * (lo.0 + lo.1);
        if negligible(mid) {
            lo.0 = mid;
        } else {
            lo.1 = mid;
        }
    }
    let mut far = mode + 1.0;
    while !negligible(far) {
        far *= 2.0;
    }
    let mut hi = (mode, far);
    for _ in 0..200 {
        let mid = 0.5 * (hi.0 + hi.1);
        if negligible(mid) {
            hi.1 = mid;
        } else {
            hi.0 = mid;
        }
    }
    let (a, b) = (lo.0, hi.1);
    let width = (b - a) / S_PANELS as f64;
    let rule = gauss_legendre();
    let mut total = 0.0;
    for k in 0..S_PANELS {
        let start = a + k as f64 * width;
        for &(x, w) in rule {
            let s = start + 0.5 * width * (x + 1.0);
            let density = (constant + ln_scaled_chi_kernel(s, df)).exp();
            total += 0.5 * width * w * density * normal_range_cdf(q * s, n);
        }
    }
    total.clamp(0.0, 1.0)
}

/// P(Q > `q`) (R's `ptukey(q, n, df, lower.tail = FALSE)`).
pub fn ptukey_upper(q: f64, n: usize, df: f64) -> f64 {
    1.0 - ptukey(q, n, df)
}

/// The `p` quantile of the studentized range of `n` means with `df` degrees
/// of freedom (R's `qtukey(p, n, df)`), by bracketing and the Illinois
/// variant of regula falsi to 1e-12 relative; NaN outside 0 < p < 1.
pub fn qtukey(p: f64, n: usize, df: f64) -> f64 {
    if !(p > 0.0 && p < 1.0) || df.is_nan() || n < 2 || df < 2.0 {
        return f64::NAN;
    }
    let f = |q: f64| ptukey(q, n, df) - p;
    let (mut a, mut b) = (0.0, 1.0);
    let (mut fa, mut fb) = (-p, f(1.0));
    while fb < 0.0 {
        (a, fa) = (b, fb);
        b *= 2.0;
        fb = f(b);
        if b > 1e6 {
            return f64::NAN;
        }
    }
    let mut side = 0;
    for _ in 0..200 {
        let c = (a * fb - b * fa) / (fb - fa);
        let fc = f(c);
        if fc == 0.0 || (b - a).abs() < 1e-12 * c.abs() {
            return c;
        }
        if fc < 0.0 {
            (a, fa) = (c, fc);
            if side == -1 {
                fb *= 0.5;
            }
            side = -1;
        } else {
            (b, fb) = (c, fc);
            if side == 1 {
                fa *= 0.5;
            }
            side = 1;
        }
        if (b - a).abs() < 1e-12 * b.abs() {
            break;
        }
    }
    0.5 * (a + b)
}

#[cfg(test)]
#[allow(clippy::excessive_precision)] // R's values as printed with %.17g
mod tests {
    use super::*;

    // R 4.2.2: ptukey(q, n, df, lower.tail = FALSE) and qtukey(p, n, df), as in
    // tests/fixtures/emmeans_tukey.json (written by generate_emmeans.R).
    const CASES: [(f64, usize, f64, f64); 10] = [
        (0.5, 2, 5.0, 0.738_092_601_893_971_1),
        (1.2, 3, 2.0, 0.716_277_028_374_885_3),
        (2.5, 3, 10.0, 0.229_202_663_249_818_42),
        (3.3, 4, 42.0, 0.106_627_118_809_030_09),
        (4.1, 6, 77.4, 0.053_079_113_551_039_225),
        (5.7, 10, 210.0, 0.003_059_554_234_560_835_1),
        (8.0, 5, 3.5, 0.030_082_286_975_338_102),
        (3.1, 15, 1000.0, 0.670_645_828_956_323_3),
        (2.2, 3, 100_000.0, 0.265_112_593_081_038_29),
        (6.5, 20, f64::INFINITY, 0.000_748_219_427_883_167_75),
    ];

    // R's ptukey is itself accurate to about 1e-7 absolute at small df (its
    // quadrature stops early): at (8, 5, 3.5) nested `integrate()` calls with
    // rel.tol = 1e-13 give 0.03008238760452206, 1.0e-7 above R's ptukey.
    #[test]
    fn upper_tail_matches_r() {
        let accurate = ptukey_upper(8.0, 5, 3.5);
        assert!(
            (accurate - 0.030_082_387_604_522_06).abs() < 1e-13,
            "{accurate}"
        );
        for (q, n, df, r) in CASES {
            let got = ptukey_upper(q, n, df);
            assert!(
                (got - r).abs() <= 5e-6 * r + 1e-9,
                "ptukey({q}, {n}, {df}) upper = {got}, R {r}"
            );
        }
    }

    #[test]
    fn quantiles_match_r() {
        let cases = [
            (0.95, 2, 5.0, 3.635_351_421_290_807_6),
            (0.9, 3, 2.0, 5.732_648_952_540_981_4),
            (0.99, 3, 10.0, 5.270_161_537_033_28),
            (0.5, 4, 42.0, 1.994_788_491_781_361_2),
            (0.95, 6, 77.4, 4.132_797_985_991_104),
            (0.95, 10, 210.0, 4.522_765_658_547_494),
            (0.8, 5, 3.5, 4.053_964_748_444_602),
            (0.999, 15, 1000.0, 6.264_864_921_137_724_5),
            (0.95, 3, 100_000.0, 3.314_493_157_553_005_4),
            (0.95, 20, f64::INFINITY, 5.011_688_794_686_764_8),
        ];
        for (p, n, df, r) in cases {
            let got = qtukey(p, n, df);
            assert!(
                (got - r).abs() <= 1e-6 * r,
                "qtukey({p}, {n}, {df}) = {got}, R {r}"
            );
        }
    }

    #[test]
    fn two_means_reduce_to_the_t_distribution() {
        // With n = 2, Q/√2 is |T|: P(Q > q) = P(|T| > q/√2).
        let t = 2.3;
        let p = ptukey_upper(t * std::f64::consts::SQRT_2, 2, 12.0);
        let want = super::super::dist::t_two_sided_p(t, 12.0);
        assert!((p - want).abs() < 1e-11, "{p} vs {want}");
        assert!(ptukey(1.0, 3, 1.5).is_nan() && ptukey(1.0, 1, 10.0).is_nan());
        assert_eq!(ptukey(-1.0, 3, 10.0), 0.0);
        assert!(qtukey(1.0, 3, 10.0).is_nan());
    }
}
