//! Monotone piecewise-cubic Hermite interpolation (Fritsch & Carlson 1980,
//! with the derivative formulas of Fritsch & Butland 1984): through points
//! with increasing abscissae it never overshoots the data, so a monotone
//! profile gives a monotone interpolant whose inverse is a function too.
//! Profiles use it for p(ζ), the parameter as a function of ζ (lme4
//! inverts an interpolating spline of ζ(p) with `backSpline`).

/// A monotone cubic interpolant of y(x) through points with strictly
/// increasing x.
#[derive(Debug, Clone)]
pub struct MonotoneCubic {
    x: Vec<f64>,
    y: Vec<f64>,
    /// dy/dx at each point.
    d: Vec<f64>,
}

impl MonotoneCubic {
    /// The interpolant through (x, y); None unless there are at least two
    /// points, all finite, with x strictly increasing.
    pub fn new(x: &[f64], y: &[f64]) -> Option<Self> {
        let n = x.len();
        if n < 2 || y.len() != n || x.iter().chain(y).any(|v| !v.is_finite()) {
            return None;
        }
        if x.windows(2).any(|w| w[1] <= w[0]) {
            return None;
        }
        let h: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
        let delta: Vec<f64> = (0..n - 1).map(|k| (y[k + 1] - y[k]) / h[k]).collect();
        let mut d = vec![0.0; n];
        if n == 2 {
            d.fill(delta[0]);
        } else {
            for k in 1..n - 1 {
                let (a, b) = (delta[k - 1], delta[k]);
                if a * b > 0.0 {
                    // Weighted harmonic mean of the neighbouring slopes.
                    let w1 = 2.0 * h[k] + h[k - 1];
                    let w2 = h[k] + 2.0 * h[k - 1];
                    d[k] = (w1 + w2) / (w1 / a + w2 / b);
                }
            }
            d[0] = end_slope(h[0], h[1], delta[0], delta[1]);
            d[n - 1] = end_slope(h[n - 2], h[n - 3], delta[n - 2], delta[n - 3]);
        }
        Some(MonotoneCubic {
            x: x.to_vec(),
            y: y.to_vec(),
            d,
        })
    }

    /// The interpolant at `t`; None outside [x₀, x_last].
    pub fn eval(&self, t: f64) -> Option<f64> {
        let n = self.x.len();
        if !(t >= self.x[0] && t <= self.x[n - 1]) {
            return None;
        }
        let k = match self.x.partition_point(|&v| v <= t) {
            0 => 0,
            i => (i - 1).min(n - 2),
        };
        let h = self.x[k + 1] - self.x[k];
        let s = (t - self.x[k]) / h;
        let (s2, s3) = (s * s, s * s * s);
        let h00 = 2.0 * s3 - 3.0 * s2 + 1.0;
        let h10 = s3 - 2.0 * s2 + s;
        let h01 = -2.0 * s3 + 3.0 * s2;
        let h11 = s3 - s2;
        Some(h00 * self.y[k] + h10 * h * self.d[k] + h01 * self.y[k + 1] + h11 * h * self.d[k + 1])
    }
}

/// The slope at an end point: the three-point formula, kept within the
/// shape-preserving range (0 against the data's direction, at most three
/// times the secant where the slopes change sign).
fn end_slope(h0: f64, h1: f64, delta0: f64, delta1: f64) -> f64 {
    let d = ((2.0 * h0 + h1) * delta0 - h0 * delta1) / (h0 + h1);
    if d * delta0 <= 0.0 {
        0.0
    } else if delta0 * delta1 < 0.0 && d.abs() > 3.0 * delta0.abs() {
        3.0 * delta0
    } else {
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_and_reproduces_lines() {
        let x = [0.0, 1.0, 2.5, 4.0];
        let y: Vec<f64> = x.iter().map(|v| 3.0 * v - 1.0).collect();
        let s = MonotoneCubic::new(&x, &y).unwrap();
        for t in [0.0, 0.3, 1.0, 2.0, 3.9, 4.0] {
            assert!((s.eval(t).unwrap() - (3.0 * t - 1.0)).abs() < 1e-13);
        }
        assert!(s.eval(4.1).is_none());
        assert!(MonotoneCubic::new(&[0.0, 0.0], &[1.0, 2.0]).is_none());
    }

    #[test]
    fn monotone_data_give_a_monotone_interpolant() {
        // A step-like profile: a cubic spline through these points overshoots.
        let x = [0.0, 1.0, 2.0, 3.0, 4.0];
        let y = [0.0, 0.01, 0.02, 5.0, 5.01];
        let s = MonotoneCubic::new(&x, &y).unwrap();
        let mut last = f64::NEG_INFINITY;
        for i in 0..=400 {
            let v = s.eval(i as f64 / 100.0).unwrap();
            assert!(v >= last - 1e-15);
            last = v;
        }
        // a smooth function is matched closely
        let x: Vec<f64> = (0..9).map(|i| i as f64 * 0.5).collect();
        let y: Vec<f64> = x.iter().map(|v: &f64| v.sinh()).collect();
        let s = MonotoneCubic::new(&x, &y).unwrap();
        assert!((s.eval(1.3).unwrap() - 1.3f64.sinh()).abs() < 5e-3);
    }
}
