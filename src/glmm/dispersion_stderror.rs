//! The standard error of log φ of a family with a dispersion parameter:
//! the Hessian of the Laplace objective in (β, θ off its bounds, log φ) by
//! central differences of the analytic gradient (of the objective where an
//! observed weight is negative), Cov = 2 H⁻¹ (glmmTMB's `sdreport`
//! standard error of its log-dispersion parameter).

use super::pirls::PIRLS_TOL;
use super::GeneralizedLinearMixedModel;
use crate::model::MixedModel;

/// Relative step of the central differences for the Hessian of the
/// objective (in each coordinate's unit).
const HESSIAN_STEP: f64 = 1e-3;
/// Most coordinates for that Hessian (it costs about 2d² evaluations);
/// beyond, the standard error of log φ is not computed.
const HESSIAN_MAX_DIM: usize = 30;

impl GeneralizedLinearMixedModel {
    /// SE of log φ from the Hessian H of the objective (−2 log L) in
    /// (β, θ not at a bound, log φ): Cov = 2 H⁻¹. H by central differences
    /// of the analytic gradient (2d gradients), or where there is none (a
    /// negative observed weight) of the objective (about 2d² values; not
    /// beyond 30 coordinates).
    pub(super) fn log_phi_stderror(&mut self, theta: &[f64], beta: &[f64]) -> Option<f64> {
        let p = beta.len();
        let se_beta = self.stderror();
        let at_bound = self.layout.at_bound(theta, 1e-4);
        let free_theta: Vec<usize> = (0..theta.len()).filter(|i| !at_bound.contains(i)).collect();
        let log_phi = self.phi.ln();
        // Coordinates: β (step ∝ its SE), free θ, log φ.
        let mut steps: Vec<f64> = (0..p)
            .map(|i| {
                HESSIAN_STEP
                    * se_beta
                        .get(i)
                        .copied()
                        .filter(|s| s.is_finite() && *s > 0.0)
                        .unwrap_or(1.0)
            })
            .collect();
        steps.extend(
            free_theta
                .iter()
                .map(|&i| HESSIAN_STEP * theta[i].abs().max(0.05 * self.layout.units()[i])),
        );
        steps.push(HESSIAN_STEP);
        let d = steps.len();
        if let Some(h) = self.log_phi_hessian_by_gradient(theta, beta, &free_theta, &steps) {
            self.phi = log_phi.exp();
            let inv = spd_inverse(&h, d)?;
            let var = 2.0 * inv[d * d - 1];
            return (var.is_finite() && var > 0.0).then(|| var.sqrt());
        }
        if d > HESSIAN_MAX_DIM {
            // 2d² evaluations: not worth it for a standard error.
            return None;
        }
        let mut f = |delta: &[f64]| {
            let b: Vec<f64> = (0..p).map(|i| beta[i] + delta[i]).collect();
            let mut th = theta.to_vec();
            for (j, &i) in free_theta.iter().enumerate() {
                th[i] += delta[p + j];
            }
            self.evaluate_with_phi(&th, Some(&b), log_phi + delta[d - 1], PIRLS_TOL)
        };
        let f0 = f(&vec![0.0; d]);
        let mut h = vec![0.0; d * d];
        let mut e = vec![0.0; d];
        for i in 0..d {
            e[i] = steps[i];
            let fp = f(&e);
            e[i] = -steps[i];
            let fm = f(&e);
            e[i] = 0.0;
            h[i * d + i] = (fp - 2.0 * f0 + fm) / (steps[i] * steps[i]);
            for j in 0..i {
                let mut g = |si: f64, sj: f64| {
                    e[i] = si * steps[i];
                    e[j] = sj * steps[j];
                    let v = f(&e);
                    e[i] = 0.0;
                    e[j] = 0.0;
                    v
                };
                let v = (g(1.0, 1.0) - g(1.0, -1.0) - g(-1.0, 1.0) + g(-1.0, -1.0))
                    / (4.0 * steps[i] * steps[j]);
                h[i * d + j] = v;
                h[j * d + i] = v;
            }
        }
        self.phi = log_phi.exp();
        let inv = spd_inverse(&h, d)?;
        let var = 2.0 * inv[d * d - 1];
        (var.is_finite() && var > 0.0).then(|| var.sqrt())
    }

    /// The Hessian of the objective in (β, θ[free_theta], log φ) by central
    /// differences of the analytic gradient with the given steps (2d
    /// gradients), symmetrised; None where the gradient is not available
    /// (a negative observed weight). φ is left changed.
    fn log_phi_hessian_by_gradient(
        &mut self,
        theta: &[f64],
        beta: &[f64],
        free_theta: &[usize],
        steps: &[f64],
    ) -> Option<Vec<f64>> {
        let (p, nt, d) = (beta.len(), theta.len(), steps.len());
        let log_phi = self.phi.ln();
        // The gradient in the coordinates at (β, θ, log φ) + δ.
        let mut grad = |delta: &[f64]| -> Option<Vec<f64>> {
            let b: Vec<f64> = (0..p).map(|i| beta[i] + delta[i]).collect();
            let mut th = theta.to_vec();
            for (j, &i) in free_theta.iter().enumerate() {
                th[i] += delta[p + j];
            }
            self.phi = (log_phi + delta[d - 1]).exp();
            let (_, g) = self.objective_and_gradient(&th, Some(&b)).ok()?;
            // [θ…, β…, log φ] → [β…, θ[free]…, log φ].
            let mut out = g[nt..nt + p].to_vec();
            out.extend(free_theta.iter().map(|&i| g[i]));
            out.push(g[nt + p]);
            Some(out)
        };
        let mut h = vec![0.0; d * d];
        let mut e = vec![0.0; d];
        for j in 0..d {
            e[j] = steps[j];
            let gp = grad(&e)?;
            e[j] = -steps[j];
            let gm = grad(&e)?;
            e[j] = 0.0;
            for i in 0..d {
                h[i * d + j] = (gp[i] - gm[i]) / (2.0 * steps[j]);
            }
        }
        for i in 0..d {
            for j in 0..i {
                let v = 0.5 * (h[i * d + j] + h[j * d + i]);
                h[i * d + j] = v;
                h[j * d + i] = v;
            }
        }
        Some(h)
    }
}
/// Inverse of a symmetric positive definite d × d matrix (row-major) by
/// Cholesky; None if it is not positive definite.
fn spd_inverse(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for j in 0..d {
        let mut s = a[j * d + j];
        for k in 0..j {
            s -= l[j * d + k] * l[j * d + k];
        }
        if !(s > 0.0 && s.is_finite()) {
            return None;
        }
        l[j * d + j] = s.sqrt();
        for i in j + 1..d {
            let mut s = a[i * d + j];
            for k in 0..j {
                s -= l[i * d + k] * l[j * d + k];
            }
            l[i * d + j] = s / l[j * d + j];
        }
    }
    // Columns of L⁻ᵀ L⁻¹ by solving L Lᵀ x = eₖ.
    let mut inv = vec![0.0; d * d];
    for c in 0..d {
        let mut x = vec![0.0; d];
        for i in 0..d {
            let mut s = if i == c { 1.0 } else { 0.0 };
            for k in 0..i {
                s -= l[i * d + k] * x[k];
            }
            x[i] = s / l[i * d + i];
        }
        for i in (0..d).rev() {
            let mut s = x[i];
            for k in i + 1..d {
                s -= l[k * d + i] * x[k];
            }
            x[i] = s / l[i * d + i];
        }
        for i in 0..d {
            inv[i * d + c] = x[i];
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::spd_inverse;

    #[test]
    fn spd_inverse_inverts() {
        let a = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
        let inv = spd_inverse(&a, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| a[i * 3 + k] * inv[k * 3 + j]).sum();
                assert!((v - f64::from(u8::from(i == j))).abs() < 1e-12);
            }
        }
        assert!(spd_inverse(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
    }
}
