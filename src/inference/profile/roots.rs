//! Root finding on a bracket: Brent's (1973) method — inverse quadratic
//! interpolation or the secant step when they land well inside the bracket,
//! bisection otherwise — started from a guess. Profiles use it to find where
//! the exact ζ(p) reaches ±z, each evaluation being one conditional fit.

use crate::error::Result;

/// Where to stop: the bracket is narrower than `x_tol`, or |f| < `f_tol`.
#[derive(Debug, Clone, Copy)]
pub struct RootTolerance {
    /// Width of the final bracket.
    pub x_tol: f64,
    /// Size of f that counts as zero.
    pub f_tol: f64,
    /// Most evaluations of f.
    pub max_evaluations: usize,
}

/// A root of `f` in [a, b], where f(a) = `fa` and f(b) = `fb` have opposite
/// signs (or one is 0), evaluating first at `guess` when it lies strictly
/// inside. Returns the point with the smallest |f| found when the bracket
/// is closed or the budget is spent. `f` may fail (the error is returned).
pub fn brent(
    f: &mut dyn FnMut(f64) -> Result<f64>,
    (mut a, mut fa): (f64, f64),
    (mut b, mut fb): (f64, f64),
    guess: Option<f64>,
    tol: RootTolerance,
) -> Result<f64> {
    if fa == 0.0 {
        return Ok(a);
    }
    if fb == 0.0 {
        return Ok(b);
    }
    let mut evaluations = 0;
    // Shrink the bracket with the guess first.
    if let Some(g) = guess.filter(|g| (g - a) * (g - b) < 0.0) {
        let fg = f(g)?;
        evaluations += 1;
        if fg == 0.0 || fg.abs() < tol.f_tol {
            return Ok(g);
        }
        if (fg < 0.0) == (fa < 0.0) {
            (a, fa) = (g, fg);
        } else {
            (b, fb) = (g, fg);
        }
    }
    // Brent–Dekker: b is the best point, a the previous one, c keeps the
    // sign change with b.
    let (mut c, mut fc) = (a, fa);
    let mut d = b - a;
    let mut e = d;
    loop {
        if (fb > 0.0) == (fc > 0.0) {
            (c, fc) = (a, fa);
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            (a, fa) = (b, fb);
            (b, fb) = (c, fc);
            (c, fc) = (a, fa);
        }
        let tol1 = 2.0 * f64::EPSILON * b.abs() + 0.5 * tol.x_tol;
        let m = 0.5 * (c - b);
        if m.abs() <= tol1 || fb.abs() < tol.f_tol || evaluations >= tol.max_evaluations {
            return Ok(b);
        }
        if e.abs() >= tol1 && fa.abs() > fb.abs() {
            // Interpolate: secant when a == c, else inverse quadratic.
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                p = 2.0 * m * s;
                q = 1.0 - s;
            } else {
                let qa = fa / fc;
                let r = fb / fc;
                p = s * (2.0 * m * qa * (qa - r) - (b - a) * (r - 1.0));
                q = (qa - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * m * q - (tol1 * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = m;
                e = m;
            }
        } else {
            d = m;
            e = m;
        }
        (a, fa) = (b, fb);
        b += if d.abs() > tol1 { d } else { tol1.copysign(m) };
        fb = f(b)?;
        evaluations += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_roots_quickly() {
        let tol = RootTolerance {
            x_tol: 1e-12,
            f_tol: 0.0,
            max_evaluations: 100,
        };
        let mut count = 0;
        let mut f = |x: f64| {
            count += 1;
            Ok(x.powi(3) - 2.0 * x - 5.0)
        };
        let (fa, fb) = (2f64.powi(3) - 9.0, 3f64.powi(3) - 11.0);
        let r = brent(&mut f, (2.0, fa), (3.0, fb), Some(2.1), tol).unwrap();
        assert!((r - 2.094_551_481_542_326_5).abs() < 1e-11);
        assert!(count < 12, "{count} evaluations");
        // a bad guess outside the bracket is ignored
        let mut g = |x: f64| Ok(x - 0.25);
        let r = brent(&mut g, (0.0, -0.25), (1.0, 0.75), Some(7.0), tol).unwrap();
        assert!((r - 0.25).abs() < 1e-12);
    }
}
