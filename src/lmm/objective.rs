//! The profiled objective: set θ, refactor L, read off log-determinants and
//! the penalised residual sum of squares (Bates et al. 2015, eqs. 34 and 41).

use super::LinearMixedModel;
use crate::blocks::{tri, update_l, Block};
use crate::error::{Error, Result};

/// ln(2π).
const LN_2PI: f64 = 1.837_877_066_409_345_5;

impl LinearMixedModel {
    /// The current θ.
    pub fn theta(&self) -> &[f64] {
        &self.theta
    }

    /// Lower bounds of θ (0 on λ diagonals, −∞ elsewhere).
    pub fn lower_bounds(&self) -> Vec<f64> {
        self.terms
            .random
            .iter()
            .flat_map(|t| t.lower_bounds())
            .collect()
    }

    /// Install θ and refactor L. Fails when θ has the wrong length, holds a
    /// non-finite value or violates a lower bound, or L is not positive definite.
    pub fn set_theta(&mut self, theta: &[f64]) -> Result<()> {
        self.check_theta(theta)?;
        self.install_theta(theta);
        self.refactor()
    }

    fn check_theta(&self, theta: &[f64]) -> Result<()> {
        let nth = self.terms.ntheta();
        if theta.len() != nth {
            return Err(Error::argument(
                "theta",
                format!("θ must have length {nth}, got {}", theta.len()),
            ));
        }
        if let Some(i) = theta.iter().position(|t| !t.is_finite()) {
            return Err(Error::argument(
                "theta",
                format!("θ[{i}] is {}; θ must be finite", theta[i]),
            ));
        }
        let lower = self.lower_bounds();
        if let Some(i) = (0..nth).find(|&i| theta[i] < lower[i]) {
            return Err(Error::argument(
                "theta",
                format!(
                    "θ[{i}] = {} is below its lower bound {}",
                    theta[i], lower[i]
                ),
            ));
        }
        Ok(())
    }

    fn install_theta(&mut self, theta: &[f64]) {
        self.theta.copy_from_slice(theta);
        let mut offset = 0;
        for (t, lam) in self.terms.random.iter().zip(self.lambdas.iter_mut()) {
            let nt = t.ntheta();
            t.lambda_into(&theta[offset..offset + nt], lam);
            offset += nt;
        }
    }

    fn refactor(&mut self) -> Result<()> {
        update_l(
            &mut self.l,
            &self.a,
            &self.structure,
            &self.lambdas,
            &mut self.ws,
        )
        .map_err(|e| Error::NotPositiveDefinite {
            term: match self.terms.random.get(e.block) {
                Some(t) => format!("the random effects of `{}`", t.grouping),
                None => "the fixed effects".into(),
            },
            row: e.index,
        })
    }

    /// Evaluate the objective (−2 log-likelihood, or the REML criterion) at θ
    /// without changing the fitted state's optimum record.
    pub fn objective_at(&mut self, theta: &[f64]) -> Result<f64> {
        self.set_theta(theta)?;
        Ok(self.objective())
    }

    /// Evaluate for the optimizer. Where L cannot be factored the value is +∞,
    /// which BOBYQA replaces in its model by a finite penalty above every value
    /// seen (a fixed huge number would wreck the quadratic model); never a panic.
    pub(crate) fn objective_for_optimizer(&mut self, theta: &[f64]) -> f64 {
        self.install_theta(theta);
        match self.refactor() {
            Ok(()) => {
                let f = self.objective();
                if f.is_nan() {
                    f64::INFINITY
                } else {
                    f
                }
            }
            Err(_) => f64::INFINITY,
        }
    }

    /// The last diagonal block of L (dense, (p+1) × (p+1)).
    pub(crate) fn l_xy(&self) -> &faer::Mat<f64> {
        let k = self.structure.nterms;
        match &self.l[tri(k, k)] {
            Block::Dense(m) => m,
            _ => unreachable!("the [X y] block is dense"),
        }
    }

    /// Penalised, weighted residual sum of squares r² at the current θ.
    pub fn pwrss(&self) -> f64 {
        let p = self.structure.p;
        let r = self.l_xy()[(p, p)];
        r * r
    }

    /// log |L_Z|² = log det(Λᵀ Zᵀ W Z Λ + I) at the current θ.
    pub fn logdet_z(&self) -> f64 {
        (0..self.structure.nterms)
            .map(|j| 2.0 * log_diag_sum(&self.l[tri(j, j)]))
            .sum()
    }

    /// log |R_X|², the fixed-effects part of the log-determinant.
    pub fn logdet_x(&self) -> f64 {
        let m = self.l_xy();
        (0..self.structure.p).map(|i| 2.0 * m[(i, i)].ln()).sum()
    }

    /// log-determinant as MixedModels.jl's `logdet`: log|L_Z|², plus log|R_X|² for REML.
    pub fn logdet(&self) -> f64 {
        self.logdet_z() + if self.reml { self.logdet_x() } else { 0.0 }
    }

    /// The objective at the current θ: −2ℓ (ML) or −2ℓ_R (REML), with the
    /// −Σ log wᵢ term for case weights and σ fixed when requested.
    pub fn objective(&self) -> f64 {
        let n = self.nobs() as f64;
        let denom = if self.reml {
            n - self.structure.p as f64
        } else {
            n
        };
        let pwrss = self.pwrss();
        let ld = self.logdet();
        let core = match self.sigma_fixed {
            None => denom * (1.0 + LN_2PI + (pwrss / denom).ln()),
            Some(s) => denom * (LN_2PI + 2.0 * s.ln()) + pwrss / (s * s),
        };
        ld + core - self.log_weights
    }
}

/// Σ log of the diagonal of a factored diagonal block.
fn log_diag_sum(b: &Block) -> f64 {
    match b {
        Block::Diag(d) => {
            let v = d.v;
            (0..d.nblocks)
                .map(|l| (0..v).map(|r| d.block(l)[r * v + r].ln()).sum::<f64>())
                .sum()
        }
        Block::Dense(m) => (0..m.nrows()).map(|i| m[(i, i)].ln()).sum(),
        Block::Sparse(_) => unreachable!("diagonal blocks are never sparse"),
    }
}
