//! The quasi-Newton approximation B of the Hessian: a dense symmetric
//! positive definite matrix, updated by Powell's damped BFGS formula and
//! solved on the free variables by a Cholesky factorization.

/// A dense approximation B of the Hessian (row-major n × n).
#[derive(Debug, Clone)]
pub(super) struct Hessian {
    n: usize,
    b: Vec<f64>,
    /// Has B been scaled from a first pair (s, y) yet?
    scaled: bool,
    /// Scratch: B s, the reduced matrix and its factor.
    bs: Vec<f64>,
    reduced: Vec<f64>,
}

/// Powell's damping threshold: the update keeps sᵀr ≥ 0.2 sᵀBs.
const DAMPING: f64 = 0.2;

impl Hessian {
    /// B = γ I.
    pub(super) fn new(n: usize, gamma: f64) -> Self {
        let mut b = vec![0.0; n * n];
        (0..n).for_each(|i| b[i * n + i] = gamma);
        Hessian {
            n,
            b,
            scaled: false,
            bs: vec![0.0; n],
            reduced: Vec::new(),
        }
    }

    /// B from a symmetric positive definite matrix (row-major n × n),
    /// used as is: not rescaled by the first secant pair.
    pub(super) fn from_matrix(n: usize, b: Vec<f64>) -> Self {
        debug_assert_eq!(b.len(), n * n);
        Hessian {
            n,
            b,
            scaled: true,
            bs: vec![0.0; n],
            reduced: Vec::new(),
        }
    }

    /// B (row-major n × n).
    pub(super) fn matrix(&self) -> &[f64] {
        &self.b
    }

    /// Is B numerically positive definite (its Cholesky factor exists)?
    pub(super) fn is_positive_definite(&mut self) -> bool {
        let all: Vec<usize> = (0..self.n).collect();
        let g = vec![0.0; self.n];
        let mut d = vec![0.0; self.n];
        self.newton_step(&all, &g, &mut d)
    }

    /// Update B with the step `s` and gradient change `y`. Before the first
    /// update B is rescaled to (yᵀy / sᵀy) I (Shanno and Phua 1978) when
    /// sᵀy > 0. A pair without positive curvature (sᵀy ≤ 0: the objective
    /// is concave along s, as the profiled deviance is at large θ) or a step
    /// too small to carry information leaves B unchanged. Otherwise, when
    /// sᵀy < sᵀBs, B is first scaled by τ = sᵀy / sᵀBs (self-scaling,
    /// Oren and Luenberger 1974, restricted to τ < 1 as in Al-Baali 1998):
    /// the deviance's curvature falls as θ grows, and unscaled BFGS keeps
    /// the large curvature of the first steps in the directions it has not
    /// revisited. The update is then Powell's damped BFGS formula (Powell
    /// 1978; Nocedal and Wright 2006, procedure 18.2): y is replaced by
    /// r = φ y + (1 − φ) B s with φ chosen so that sᵀr ≥ 0.2 sᵀBs (after
    /// the scaling φ = 1: the damping guards against rounding).
    pub(super) fn update(&mut self, s: &[f64], y: &[f64]) {
        let n = self.n;
        let sy: f64 = s.iter().zip(y).map(|(a, b)| a * b).sum();
        if !self.scaled {
            let yy: f64 = y.iter().map(|v| v * v).sum();
            if sy > 0.0 && yy > 0.0 && (yy / sy).is_finite() {
                let gamma = yy / sy;
                self.b.iter_mut().for_each(|v| *v = 0.0);
                (0..n).for_each(|i| self.b[i * n + i] = gamma);
            }
            self.scaled = true;
        }
        for i in 0..n {
            self.bs[i] = (0..n).map(|j| self.b[i * n + j] * s[j]).sum();
        }
        let mut sbs: f64 = s.iter().zip(&self.bs).map(|(a, b)| a * b).sum();
        if !(sbs > 0.0 && sbs.is_finite() && sy > 0.0) {
            return;
        }
        if sy < sbs {
            // Restricted self-scaling: B overestimates the curvature along s.
            let tau = sy / sbs;
            self.b.iter_mut().for_each(|v| *v *= tau);
            self.bs.iter_mut().for_each(|v| *v *= tau);
            sbs *= tau;
        }
        let phi = if sy >= DAMPING * sbs {
            1.0
        } else {
            (1.0 - DAMPING) * sbs / (sbs - sy)
        };
        let r: Vec<f64> = (0..n)
            .map(|i| phi * y[i] + (1.0 - phi) * self.bs[i])
            .collect();
        let sr: f64 = s.iter().zip(&r).map(|(a, b)| a * b).sum();
        if !(sr > 0.0 && sr.is_finite()) {
            return;
        }
        for i in 0..n {
            for j in 0..n {
                self.b[i * n + j] += r[i] * r[j] / sr - self.bs[i] * self.bs[j] / sbs;
            }
        }
    }

    /// Solve B_FF d = −g_F on the free variables `free` (indices); the
    /// result in `d` at those indices. Returns false when B_FF is not
    /// numerically positive definite (then `d` is unspecified).
    pub(super) fn newton_step(&mut self, free: &[usize], g: &[f64], d: &mut [f64]) -> bool {
        let m = free.len();
        let n = self.n;
        self.reduced.clear();
        self.reduced.resize(m * m, 0.0);
        let a = &mut self.reduced;
        for (p, &i) in free.iter().enumerate() {
            for (q, &j) in free.iter().enumerate().take(p + 1) {
                a[p * m + q] = self.b[i * n + j];
            }
        }
        // Cholesky, lower triangle, in place.
        for c in 0..m {
            let mut diag = a[c * m + c];
            for k in 0..c {
                diag -= a[c * m + k] * a[c * m + k];
            }
            if !(diag > 0.0 && diag.is_finite()) {
                return false;
            }
            let piv = diag.sqrt();
            a[c * m + c] = piv;
            for r in c + 1..m {
                let mut v = a[r * m + c];
                for k in 0..c {
                    v -= a[r * m + k] * a[c * m + k];
                }
                a[r * m + c] = v / piv;
            }
        }
        // L z = −g_F, then Lᵀ d_F = z.
        let mut z: Vec<f64> = free.iter().map(|&i| -g[i]).collect();
        for r in 0..m {
            let s: f64 = (0..r).map(|k| a[r * m + k] * z[k]).sum();
            z[r] = (z[r] - s) / a[r * m + r];
        }
        for r in (0..m).rev() {
            let s: f64 = (r + 1..m).map(|k| a[k * m + r] * z[k]).sum();
            z[r] = (z[r] - s) / a[r * m + r];
        }
        for (p, &i) in free.iter().enumerate() {
            d[i] = z[p];
        }
        z.iter().all(|v| v.is_finite())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secant_condition_and_positive_definiteness() {
        let mut h = Hessian::new(2, 1.0);
        // A quadratic with Hessian diag(2, 10): y = H s.
        let s = [1.0, 0.5];
        let y = [2.0, 5.0];
        h.update(&s, &y);
        for i in 0..2 {
            let bs: f64 = (0..2).map(|j| h.b[i * 2 + j] * s[j]).sum();
            assert!((bs - y[i]).abs() < 1e-12, "B s = y");
        }
        // A pair with negative curvature is damped, not taken.
        h.update(&[1.0, 0.0], &[-1.0, 0.0]);
        let mut d = [0.0; 2];
        assert!(h.newton_step(&[0, 1], &[1.0, 1.0], &mut d));
        assert!(d[0] + d[1] < 0.0, "a descent direction");
    }

    #[test]
    fn reduced_solve_on_free_variables() {
        let mut h = Hessian::new(3, 2.0);
        let mut d = [9.0; 3];
        assert!(h.newton_step(&[0, 2], &[4.0, 1.0, -2.0], &mut d));
        assert!((d[0] + 2.0).abs() < 1e-15 && d[1] == 9.0 && (d[2] - 1.0).abs() < 1e-15);
    }
}
