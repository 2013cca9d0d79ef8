//! The exact gradient of the adaptive Gauss–Hermite objective (nAGQ > 1,
//! one scalar random-effects term) with respect to (θ, β), for the families
//! without a dispersion parameter.
//!
//! # The objective
//!
//! With λ = θ₁, level j's rows i (column value zᵢ), the penalised deviance
//! D_j(u) = Σᵢ dᵢ(ηᵢ(u)) + u², ηᵢ(u) = oᵢ + xᵢβ + λzᵢu, its mode û_j (PIRLS),
//! L_j² = 1 + λ² Σᵢ zᵢ²wᵢ(η̂ᵢ) (the working weights at the mode: the
//! diagonal of L) and the k-point rule (x_q, ω_q) for the standard normal,
//! the objective of `agq.rs` is, per level (dropping j),
//!
//!   F = D(û) + log L² − 2 log Σ_q ω_q exp(−½(D(u_q) − D(û)) + ½x_q²)
//!     = 2 log L − 2 log Σ_q c_q exp(−½D(u_q)),  u_q = û + x_q/L,
//!
//! with c_q = ω_q exp(½x_q²): the node points move with û and L.
//!
//! # Its derivative
//!
//! With π_q the normalised terms of the sum, for a parameter φ (λ or a β):
//!
//!   dF/dφ = 2L′/L + Σ_q π_q [∂_φD(u_q) + D′(u_q)(dû/dφ − x_q L′/L²)]
//!         = Σ_q π_q ∂_φD(u_q) + A dû/dφ + L′(2/L − B/L²),
//!
//! A = Σ π_q D′(u_q), B = Σ π_q x_q D′(u_q), L′ = dL/dφ. With
//! rᵢ = −½∂dᵢ/∂ηᵢ and the observed information Dᵢ = −∂rᵢ/∂ηᵢ
//! (`gradient.rs`):
//!
//! * at fixed u: ∂D/∂β = −2Σ rᵢxᵢ, ∂D/∂λ = −2uΣ rᵢzᵢ, D′(u) = −2λΣ rᵢzᵢ + 2u;
//! * the mode (implicit function theorem on D′(û) = 0, D″ = 2λ²Σ Dᵢzᵢ² + 2):
//!   dû/dβ = −λΣ Dᵢzᵢxᵢ / H, dû/dλ = (Σ rᵢzᵢ − λûΣ Dᵢzᵢ²) / H,
//!   H = 1 + λ²Σ Dᵢzᵢ²;
//! * the scale: d(L²)/dφ = 2λ(dλ/dφ)Σ zᵢ²wᵢ + λ²Σ zᵢ²(∂wᵢ/∂η)dη̂ᵢ/dφ with
//!   dη̂ᵢ/dβ = xᵢ + λzᵢ dû/dβ and dη̂ᵢ/dλ = zᵢû + λzᵢ dû/dλ.
//!
//! Everything is a sum over a level's rows, at the mode or at a node.
//!
//! # Cost
//!
//! One pass over the rows at the mode and one per node (η, μ, the unit
//! deviances and rᵢ, as the objective's own passes), O(n·p) each: about
//! twice the objective's cost, with no factorization.

use super::GeneralizedLinearMixedModel;
use crate::error::{Error, Result};

/// Per-level sums at the mode (module docs).
struct ModeSums {
    /// Σ Dᵢzᵢ² (the observed curvature).
    dzz: Vec<f64>,
    /// Σ rᵢzᵢ.
    rz: Vec<f64>,
    /// Σ zᵢ²wᵢ (the working weights, as in L).
    wzz: Vec<f64>,
    /// Σ Dᵢzᵢxᵢ, p per level.
    dzx: Vec<f64>,
}

impl GeneralizedLinearMixedModel {
    /// The gradient of [`agq_deviance`](Self::agq_deviance) with `k` nodes
    /// with respect to (θ, β) (laid out [θ₁, β…]) at the conditional modes
    /// held (PIRLS must have run at the current (θ, β), leaving L factored
    /// at the mode's working weights). One scalar term, no dispersion
    /// parameter (checked).
    pub(crate) fn agq_gradient(&self, k: usize) -> Result<Vec<f64>> {
        if self.family.has_dispersion() || self.terms.random.len() != 1 {
            let why = "the quadrature gradient is for one scalar term and no dispersion parameter";
            return Err(Error::argument("nagq", why));
        }
        let term = &self.terms.random[0];
        let (nl, n, p) = (term.nlevels(), self.eta.len(), self.beta.len());
        let lam = self.engine.theta()[0];
        let ldiag = self
            .active_engine()
            .scalar_term_diagonal(0)
            .expect("a single scalar term's block of L is diagonal")
            .to_vec();
        let md = self.mode_derivatives();
        let x = &self.terms.fixed;
        let refs = &term.refs;
        // Sums at the mode.
        let mut ms = ModeSums {
            dzz: vec![0.0; nl],
            rz: vec![0.0; nl],
            wzz: vec![0.0; nl],
            dzx: vec![0.0; nl * p],
        };
        let weights = self.working_weights();
        for i in 0..n {
            let (l, z) = (refs[i] as usize, term.z[i]);
            ms.dzz[l] += md.d[i] * z * z;
            ms.rz[l] += md.r[i] * z;
            ms.wzz[l] += weights[i] * z * z;
        }
        for j in 0..p {
            let xj = x.column(j);
            for i in 0..n {
                let l = refs[i] as usize;
                ms.dzx[l * p + j] += md.d[i] * term.z[i] * xj[i];
            }
        }
        // dû/dφ per level: [λ, β…] (p + 1 values per level).
        let m = p + 1;
        let mut du = vec![0.0; nl * m];
        for l in 0..nl {
            let h = 1.0 + lam * lam * ms.dzz[l];
            du[l * m] = (ms.rz[l] - lam * self.u[l] * ms.dzz[l]) / h;
            for j in 0..p {
                du[l * m + 1 + j] = -lam * ms.dzx[l * p + j] / h;
            }
        }
        // dL/dφ = d(L²)/dφ / 2L per level.
        let mut dl = vec![0.0; nl * m];
        for l in 0..nl {
            dl[l * m] = 2.0 * lam * ms.wzz[l];
        }
        for i in 0..n {
            let (l, z) = (refs[i] as usize, term.z[i]);
            let c = lam * lam * z * z * md.dw[i];
            dl[l * m] += c * (z * self.u[l] + lam * z * du[l * m]);
            for j in 0..p {
                dl[l * m + 1 + j] += c * (x.column(j)[i] + lam * z * du[l * m + 1 + j]);
            }
        }
        for l in 0..nl {
            let scale = 0.5 / ldiag[l];
            dl[l * m..(l + 1) * m].iter_mut().for_each(|v| *v *= scale);
        }
        // The nodes: per level the sums of e_q, e_q ∂_φD(u_q), e_q D′(u_q)
        // and e_q x_q D′(u_q), e_q = c_q exp(−½(D(u_q) − D(û))).
        let (nodes, node_weights) = super::agq::cached_rule(k);
        let mut d0: Vec<f64> = self.u.iter().map(|u| u * u).collect();
        for (i, d) in self.devres.iter().enumerate() {
            d0[refs[i] as usize] += d;
        }
        let mut total = vec![0.0; nl];
        let mut dphi = vec![0.0; nl * m];
        let (mut sum_a, mut sum_b) = (vec![0.0; nl], vec![0.0; nl]);
        let (mut eta, mut mu, mut dev, mut r) =
            (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let (mut dq, mut rzq) = (vec![0.0; nl], vec![0.0; nl]);
        let mut rx = vec![0.0; nl * p];
        let sd: Vec<f64> = ldiag.iter().map(|d| 1.0 / d).collect();
        for (&xq, &wq) in nodes.iter().zip(node_weights) {
            self.at_node(xq, &sd, &mut eta, &mut mu, &mut dev);
            self.scores(&eta, &mu, &mut r);
            let uq = |l: usize| self.u[l] + xq * sd[l];
            (0..nl).for_each(|l| {
                dq[l] = uq(l) * uq(l);
                rzq[l] = 0.0;
            });
            rx.iter_mut().for_each(|v| *v = 0.0);
            for i in 0..n {
                let l = refs[i] as usize;
                dq[l] += dev[i];
                rzq[l] += r[i] * term.z[i];
            }
            for j in 0..p {
                let xj = x.column(j);
                for i in 0..n {
                    rx[refs[i] as usize * p + j] += r[i] * xj[i];
                }
            }
            for l in 0..nl {
                let e = wq * (-0.5 * (dq[l] - d0[l]) + 0.5 * xq * xq).exp();
                total[l] += e;
                let u = uq(l);
                dphi[l * m] += e * (-2.0 * u * rzq[l]);
                for j in 0..p {
                    dphi[l * m + 1 + j] += e * (-2.0 * rx[l * p + j]);
                }
                let dprime = -2.0 * lam * rzq[l] + 2.0 * u;
                sum_a[l] += e * dprime;
                sum_b[l] += e * xq * dprime;
            }
        }
        let mut grad = vec![0.0; m];
        for l in 0..nl {
            let (a, b) = (sum_a[l] / total[l], sum_b[l] / total[l]);
            let lj = ldiag[l];
            for c in 0..m {
                grad[c] += dphi[l * m + c] / total[l]
                    + a * du[l * m + c]
                    + dl[l * m + c] * (2.0 / lj - b / (lj * lj));
            }
        }
        if grad.iter().all(|g| g.is_finite()) {
            Ok(grad)
        } else {
            Err(Error::Convergence {
                message: format!(
                    "the gradient of the quadrature objective is not finite at θ = {:?}",
                    self.engine.theta()
                ),
            })
        }
    }
}
