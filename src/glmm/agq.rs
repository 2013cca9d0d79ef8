//! Adaptive Gauss–Hermite quadrature for a model with a single scalar
//! random-effects term (Pinheiro & Bates 1995; lme4's nAGQ > 1;
//! MixedModels.jl's `deviance(m, nAGQ)`).
//!
//! With one scalar term the random effects of different levels j are
//! conditionally independent and the likelihood factors into one-dimensional
//! integrals, −2 log ∫ exp(−D_j(u)/2) du/√(2π), with D_j(u) = Σ_{i∈j} dᵢ + u²
//! (up to the saturated constant). Centring at the conditional mode û_j and
//! scaling by s_j = 1/L_jj (L_jj the diagonal of L_Z at the mode, so s_j is
//! the Laplace approximation's conditional standard deviation),
//! u = û_j + s_j z turns each integral into s_j e^{−D_j(û_j)/2} E[e^{−(D_j(u) − D_j(û_j))/2 + z²/2}]
//! over z ~ N(0, 1), evaluated by a k-point Gauss–Hermite rule for the normal
//! density. Hence −2ℓ ≈ Σ_j [D_j(û_j) + log L_jj² − 2 log m_j] with m_j the
//! quadrature sum; for k = 1 (m_j = 1) this is the Laplace approximation.
//!
//! For the families with a dispersion parameter φ the terms dᵢ are the full
//! −2 wt log p(y | μ, φ) (constants included) and the adaptive scale comes
//! from the observed information, as in their Laplace objective:
//! L_jj² = 1 + λ² Σ_{i∈j} wtᵢ zᵢ² wᵢ with wᵢ = −∂² log p/∂η², the curvature of
//! D_j/2 at û_j, formed per level (so observed weights of either sign are
//! allowed as long as each level's curvature is positive).

use std::sync::OnceLock;

use super::observations::{mu_and_deviances, mu_and_m2loglik};
use super::GeneralizedLinearMixedModel;
use crate::error::{Error, Result};

/// Nodes and weights of the k-point Gauss–Hermite rule for the standard
/// normal density: Σ wᵢ f(zᵢ) ≈ E f(Z), Z ~ N(0, 1), exact for polynomials of
/// degree < 2k; the weights sum to 1.
///
/// The nodes are the eigenvalues of the Jacobi matrix of the probabilists'
/// Hermite polynomials (zero diagonal, off-diagonal √1, …, √(k−1); Golub &
/// Welsch 1969), found by Sturm-sequence bisection and polished by Newton's
/// method on the orthonormal polynomial q_k; the weights are the Christoffel
/// numbers 1 / Σ_{j<k} q_j(zᵢ)².
pub fn gauss_hermite_normal(k: usize) -> (Vec<f64>, Vec<f64>) {
    if k == 0 {
        return (vec![], vec![]);
    }
    // Number of eigenvalues below x (Sturm count of the LDLᵀ pivots of J − xI).
    let count_below = |x: f64| -> usize {
        let mut count = 0;
        let mut d = -x;
        for j in 0..k {
            if j > 0 {
                d = -x - j as f64 / d;
            }
            if d == 0.0 {
                d = -1e-300;
            }
            if d < 0.0 {
                count += 1;
            }
        }
        count
    };
    let radius = 2.0 * (k as f64).sqrt() + 1.0;
    let mut nodes = Vec::with_capacity(k);
    for i in 0..k {
        let (mut lo, mut hi) = (-radius, radius);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if count_below(mid) > i {
                hi = mid;
            } else {
                lo = mid;
            }
            if hi - lo <= 4.0 * f64::EPSILON * mid.abs().max(1.0) {
                break;
            }
        }
        nodes.push(0.5 * (lo + hi));
    }
    // Newton polish on q_k, then Christoffel weights.
    let orthonormal = |x: f64| -> (f64, f64, f64) {
        // Returns (q_k(x), q_k'(x), Σ_{j<k} q_j(x)²).
        let (mut q0, mut q1) = (0.0, 1.0);
        let (mut d0, mut d1) = (0.0, 0.0);
        let mut sumsq = 0.0;
        for j in 0..k {
            sumsq += q1 * q1;
            let jf = j as f64;
            let s = (jf + 1.0).sqrt();
            let q2 = (x * q1 - jf.sqrt() * q0) / s;
            let d2 = (q1 + x * d1 - jf.sqrt() * d0) / s;
            q0 = q1;
            q1 = q2;
            d0 = d1;
            d1 = d2;
        }
        (q1, d1, sumsq)
    };
    let mut weights = Vec::with_capacity(k);
    for x in nodes.iter_mut() {
        for _ in 0..3 {
            let (q, dq, _) = orthonormal(*x);
            if dq != 0.0 {
                *x -= q / dq;
            }
        }
        weights.push(1.0 / orthonormal(*x).2);
    }
    // Exact symmetry.
    for i in 0..k / 2 {
        let j = k - 1 - i;
        let z = 0.5 * (nodes[j] - nodes[i]);
        let w = 0.5 * (weights[i] + weights[j]);
        nodes[i] = -z;
        nodes[j] = z;
        weights[i] = w;
        weights[j] = w;
    }
    if k % 2 == 1 {
        nodes[k / 2] = 0.0;
    }
    let total: f64 = weights.iter().sum();
    weights.iter_mut().for_each(|w| *w /= total);
    (nodes, weights)
}

/// Rules computed so far, by number of points (nAGQ is at most 100).
static RULES: [OnceLock<(Vec<f64>, Vec<f64>)>; 101] = [const { OnceLock::new() }; 101];

/// [`gauss_hermite_normal`]`(k)`, computed once per process.
pub(super) fn cached_rule(k: usize) -> &'static (Vec<f64>, Vec<f64>) {
    RULES[k].get_or_init(|| gauss_hermite_normal(k))
}

impl GeneralizedLinearMixedModel {
    /// The adaptive Gauss–Hermite approximation to −2ℓ (without the
    /// saturated constant) with `k` points, at the conditional modes held
    /// (PIRLS must have run at the current (β, θ)). Needs one scalar term
    /// (checked when nAGQ was set, by `check_nagq`).
    pub(crate) fn agq_deviance(&self, k: usize) -> Result<f64> {
        let term = &self.terms.random[0];
        let nl = term.nlevels();
        let lam = self.engine.theta()[0];
        let ldiag: Vec<f64> = if self.family.has_dispersion() {
            self.observed_curvature_roots(lam)?
        } else {
            self.active_engine()
                .scalar_term_diagonal(0)
                .expect("a single scalar term's block of L is diagonal")
                .to_vec()
        };
        let sd: Vec<f64> = ldiag.iter().map(|d| 1.0 / d).collect();
        let mut devc0: Vec<f64> = self.u.iter().map(|u| u * u).collect();
        for (i, d) in self.devres.iter().enumerate() {
            devc0[term.refs[i] as usize] += d;
        }
        let (nodes, weights) = cached_rule(k);
        let mut mult = vec![0.0; nl];
        let mut devc = vec![0.0; nl];
        let n = self.eta.len();
        let (mut eta, mut mu, mut dev) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        for (&z, &w) in nodes.iter().zip(weights) {
            if z == 0.0 {
                mult.iter_mut().for_each(|m| *m += w);
                continue;
            }
            for l in 0..nl {
                let u = self.u[l] + z * sd[l];
                devc[l] = u * u;
            }
            // η, μ and unit deviances at this node, then summed by level.
            self.at_node(z, &sd, &mut eta, &mut mu, &mut dev);
            for (i, d) in dev.iter().enumerate() {
                devc[term.refs[i] as usize] += d;
            }
            for l in 0..nl {
                mult[l] += w * (-0.5 * (devc[l] - devc0[l]) + 0.5 * z * z).exp();
            }
        }
        let mut total = 0.0;
        for l in 0..nl {
            total += devc0[l] + 2.0 * ldiag[l].ln() - 2.0 * mult[l].ln();
        }
        Ok(total)
    }

    /// η, μ and the unit deviances (−2 log p for a family with a dispersion
    /// parameter) of every row at node `z` of the rule: u = û + z·sd per
    /// level (`sd` = 1/L_jj), so η = η̂ + λ zᵢ z sd.
    pub(super) fn at_node(
        &self,
        z: f64,
        sd: &[f64],
        eta: &mut [f64],
        mu: &mut [f64],
        dev: &mut [f64],
    ) {
        let term = &self.terms.random[0];
        let lam = self.engine.theta()[0];
        for i in 0..eta.len() {
            let l = term.refs[i] as usize;
            eta[i] = self.eta[i] + lam * term.z[i] * z * sd[l];
        }
        let (y, wt) = (&self.resp.y, &self.resp.wt);
        if self.family.has_dispersion() {
            let fam = (self.family, self.link, self.phi);
            mu_and_m2loglik(fam, eta, y, wt, mu, dev);
        } else {
            mu_and_deviances(self.family, self.link, eta, y, wt, mu, dev);
        }
    }

    /// For a family with a dispersion parameter and one scalar term with
    /// scale `lam`: per level j, √(1 + λ² Σ_{i∈j} wtᵢ zᵢ² wᵢ) with wᵢ the
    /// observed information −∂² log p/∂η² at the conditional mode (the
    /// diagonal of the Cholesky factor of the Laplace Hessian, which is
    /// diagonal for one scalar term). An error if a level's curvature is not
    /// positive (the mode is not a maximum there).
    fn observed_curvature_roots(&self, lam: f64) -> Result<Vec<f64>> {
        let term = &self.terms.random[0];
        let mut h = vec![1.0; term.nlevels()];
        for i in 0..self.eta.len() {
            let (_, w) = self.family.eta_score_weight(
                self.link,
                self.resp.y[i],
                self.mu[i],
                self.eta[i],
                self.phi,
                true,
            );
            let zl = lam * term.z[i];
            h[term.refs[i] as usize] += self.resp.wt[i] * zl * zl * w;
        }
        if let Some(j) = h.iter().position(|v| !(*v > 0.0 && v.is_finite())) {
            return Err(Error::Convergence {
                message: format!(
                    "adaptive Gauss-Hermite quadrature for the {} family: the curvature of the \
                     log-likelihood at the conditional mode of level {j} of {} is {} (not \
                     positive) at θ = {:?}",
                    self.family.name(),
                    term.grouping,
                    h[j],
                    self.engine.theta()
                ),
            });
        }
        Ok(h.into_iter().map(f64::sqrt).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Column, Data};
    use crate::glmm::{Family, GlmmOptions, Link};

    /// For the dispersion families the one-node rule is the Laplace
    /// objective exactly (the same mode, curvature and log density), also
    /// when some observed weights are negative (Gaussian with a log link and
    /// responses beyond 2μ), where the Laplace path forms the Hessian densely.
    #[test]
    fn one_node_is_laplace_for_dispersion_families() {
        let n = 120;
        let x: Vec<f64> = (0..n)
            .map(|i| ((i * 37) % 23) as f64 / 11.0 - 1.0)
            .collect();
        let g: Vec<String> = (0..n).map(|i| format!("g{}", i % 12)).collect();
        let noise: Vec<f64> = (0..n)
            .map(|i| ((i * 53) % 29) as f64 / 14.0 - 1.0)
            .collect();
        let cases = [
            (Family::Gamma, Link::Log, 0.3, 0.05),
            (Family::InverseGaussian, Link::Log, 0.3, 0.02),
            (Family::NegativeBinomial, Link::Log, 0.5, 0.4),
            (Family::Gaussian, Link::Log, 2.5, 1.5),
        ];
        for (family, link, noise_scale, phi) in cases {
            let y: Vec<f64> = (0..n)
                .map(|i| {
                    let mu = (1.0 + 0.3 * x[i] + 0.2 * ((i % 12) as f64 / 6.0 - 1.0)).exp();
                    let v = mu * (1.0 + noise_scale * noise[i]);
                    if family == Family::NegativeBinomial {
                        v.round()
                    } else {
                        v
                    }
                })
                .collect();
            let strs: Vec<&str> = g.iter().map(String::as_str).collect();
            let data = Data::new()
                .with_column("y", Column::numeric(y))
                .unwrap()
                .with_column("x", Column::numeric(x.clone()))
                .unwrap()
                .with_column("g", Column::from_strings(&strs))
                .unwrap();
            let mut m = GeneralizedLinearMixedModel::new(
                "y ~ 1 + x + (1 | g)",
                &data,
                family,
                Some(link),
                &GlmmOptions::default(),
            )
            .unwrap();
            m.set_dispersion(phi).unwrap();
            let laplace = m.evaluate(&[0.3], Some(&[1.0, 0.3]), 1).unwrap();
            let one = m.agq_deviance(1).unwrap();
            assert!(
                (one - laplace).abs() <= 1e-12 * laplace.abs(),
                "{family:?}: {one} vs {laplace}"
            );
            // More nodes move the value (the test could fail).
            let nine = m.agq_deviance(9).unwrap();
            assert!((nine - laplace).abs() > 1e-9 * laplace.abs(), "{family:?}");
        }
    }

    #[test]
    fn gauss_hermite_integrates_normal_moments() {
        for k in 1..=20 {
            let (z, w) = gauss_hermite_normal(k);
            // E Z^{2m} = (2m − 1)!! exactly for 2m < 2k.
            let mut dfact = 1.0;
            for m in 0..k {
                let got: f64 = z
                    .iter()
                    .zip(&w)
                    .map(|(z, w)| w * z.powi(2 * m as i32))
                    .sum();
                assert!(
                    (got - dfact).abs() <= 1e-11 * dfact,
                    "k = {k}, moment {}: {got} vs {dfact}",
                    2 * m
                );
                dfact *= (2 * m + 1) as f64;
            }
        }
        let (z, w) = gauss_hermite_normal(3);
        assert!((z[2] - 3f64.sqrt()).abs() < 1e-15 && (w[1] - 2.0 / 3.0).abs() < 1e-15);
    }
}
