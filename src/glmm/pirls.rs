//! Penalised iteratively reweighted least squares (PIRLS; D. Bates,
//! "Computational methods for mixed models", lme4 vignette, and the
//! MixedModels.jl documentation of `pirls!`).
//!
//! At η the working weights are wᵢ = pᵢ (dμ/dη)² / V(μᵢ) (pᵢ the prior
//! weights) and the working response is zᵢ = ηᵢ − oᵢ + (yᵢ − μᵢ)/(dμ/dη).
//! Installing (z, √w) in the inner linear mixed model and factoring its L at
//! θ gives the penalised weighted least-squares update: û = L_Z⁻ᵀ(c_z − L_XZᵀβ)
//! for fixed β, or (β̂, û) jointly. The update is accepted when it reduces the
//! penalised deviance Σ dᵢ + ‖u‖², else it is halved towards the previous
//! (u, β) up to [`MAX_HALVINGS`] times.

use super::observations::{mu_and_deviances, mu_and_m2loglik};
use super::GeneralizedLinearMixedModel;
use crate::error::{Error, Result};
use crate::parallel::PARALLEL_LOOP_ROWS;
use crate::pls::PlsEngine;

/// Most PIRLS iterations per evaluation.
const MAX_ITER: usize = 100;
/// Most step halvings per iteration (lme4 and MixedModels.jl use 10).
const MAX_HALVINGS: usize = 10;
pub(crate) use crate::model::PIRLS_TOL;

impl GeneralizedLinearMixedModel {
    /// Install θ (checked against the layout): λ of each term in the
    /// engines (refactored at the next reweight).
    pub(crate) fn install_theta(&mut self, theta: &[f64]) -> Result<()> {
        self.layout
            .check(theta)
            .map_err(|m| Error::argument("theta", m))?;
        self.engine.install_theta(&self.layout, theta);
        if let Some(e) = self.engine_u.as_mut() {
            e.install_theta(&self.layout, theta);
        }
        Ok(())
    }

    /// o + Xβ, the part of η that does not depend on u.
    pub(crate) fn update_xb(&mut self) {
        self.xb.copy_from_slice(&self.offset);
        self.terms.add_x_beta(&self.beta, &mut self.xb);
    }

    /// η = (o + Xβ) + ZΛu (o + Xβ as last computed by
    /// [`update_xb`](Self::update_xb)), then μ and the unit deviances.
    /// Returns the penalised deviance Σ dᵢ + ‖u‖².
    pub(crate) fn update_eta(&mut self) -> f64 {
        self.eta.copy_from_slice(&self.xb);
        self.terms
            .add_z_lambda_u(self.engine.lambdas(), &self.u, &mut self.eta);
        self.update_mu()
    }

    /// μ and unit deviances from η; returns Σ dᵢ + ‖u‖². The observations
    /// are processed in two halves (on two threads for large models); the
    /// sum is the same either way.
    pub(crate) fn update_mu(&mut self) -> f64 {
        let (family, link, phi) = (self.family, self.link, self.phi);
        let parallel = self.parallel_elementwise();
        let (y, wt) = (&self.resp.y[..], &self.resp.wt[..]);
        let dispersion = family.has_dispersion();
        let kernel = |range: std::ops::Range<usize>, mu: &mut [f64], dev: &mut [f64]| {
            let (eta, y, wt) = (&self.eta[range.clone()], &y[range.clone()], &wt[range]);
            if dispersion {
                mu_and_m2loglik((family, link, phi), eta, y, wt, mu, dev);
            } else {
                mu_and_deviances(family, link, eta, y, wt, mu, dev);
            }
            dev.iter().sum::<f64>()
        };
        let n = self.eta.len();
        let half = n / 2;
        let (mu_a, mu_b) = self.mu.split_at_mut(half);
        let (dev_a, dev_b) = self.devres.split_at_mut(half);
        let (s1, s2) = if parallel {
            rayon::join(
                || kernel(0..half, mu_a, dev_a),
                || kernel(half..n, mu_b, dev_b),
            )
        } else {
            (kernel(0..half, mu_a, dev_a), kernel(half..n, mu_b, dev_b))
        };
        if link.restricts_eta() && !self.eta.iter().all(|&e| link.valid_eta(e)) {
            // Outside the link's domain: no step may end here.
            return f64::INFINITY;
        }
        s1 + s2 + self.u.iter().map(|v| v * v).sum::<f64>()
    }

    /// Run the per-observation loops on two threads? Only for models large
    /// enough to repay the hand-off, and unless one thread was requested.
    fn parallel_elementwise(&self) -> bool {
        self.threads != Some(1) && self.eta.len() >= PARALLEL_LOOP_ROWS
    }

    /// Install the working response and weights at the current η in an
    /// engine and refactor its L at θ. With `reduced`, the engine without X
    /// is used and the working response is taken net of o + Xβ.
    pub(crate) fn reweight(&mut self, reduced: bool) -> Result<()> {
        let n = self.eta.len();
        if reduced {
            self.ensure_reduced()?;
        }
        if self.family.has_dispersion() {
            return self.reweight_dispersion(reduced);
        }
        let parallel = self.parallel_elementwise();
        let base = if reduced { &self.xb } else { &self.offset };
        // For the canonical link dμ/dη = V(μ), so w = p V(μ) (no exp needed).
        let canonical = self.link == self.family.canonical_link();
        let (family, link) = (self.family, self.link);
        let (eta, mu, y, wt) = (&self.eta, &self.mu, &self.resp.y, &self.resp.wt);
        let kernel = |range: std::ops::Range<usize>, z: &mut [f64], sqrtw: &mut [f64]| {
            if canonical {
                // w = p V(μ): no dμ/dη, one division.
                for (k, i) in range.enumerate() {
                    let var = family.variance(mu[i]);
                    sqrtw[k] = (wt[i] * var).sqrt();
                    z[k] = eta[i] - base[i] + (y[i] - mu[i]) / var;
                }
                return;
            }
            for (k, i) in range.enumerate() {
                let var = family.variance(mu[i]);
                let me = link.mu_eta(eta[i]);
                sqrtw[k] = (wt[i] * me * me / var).sqrt();
                z[k] = eta[i] - base[i] + (y[i] - mu[i]) / me;
            }
        };
        let engine = match (reduced, self.engine_u.as_mut()) {
            (true, Some(e)) => e,
            _ => &mut self.engine,
        };
        // The working response and √w go straight into the engine.
        engine.set_weighted_response_with(|z, sqrtw| {
            let half = n / 2;
            let (z_a, z_b) = z.split_at_mut(half);
            let (w_a, w_b) = sqrtw.split_at_mut(half);
            if parallel {
                rayon::join(|| kernel(0..half, z_a, w_a), || kernel(half..n, z_b, w_b));
            } else {
                kernel(0..half, z_a, w_a);
                kernel(half..n, z_b, w_b);
            }
        });
        self.factorizations += 1;
        self.reduced_active = reduced;
        engine.refactor()
    }

    /// The engine without fixed effects (built on first use, with the
    /// current θ installed).
    pub(super) fn ensure_reduced(&mut self) -> Result<()> {
        if self.engine_u.is_none() {
            let n = self.eta.len();
            let mut e = PlsEngine::new(self.terms.clone(), false, vec![0.0; n], None, self.threads);
            e.install_theta(&self.layout, self.engine.theta());
            self.engine_u = Some(e);
        }
        Ok(())
    }

    /// Run PIRLS at the current θ to the conditional mode û (and β̂ when
    /// `vary_beta`), starting from the current (β, u), or from the family's
    /// starting μ if no PIRLS solution is held. With `reduced` (fixed β
    /// only), the engine without X does the work. On return that engine's L
    /// is factored at the weights of the final η (to `tol`,
    /// [`PIRLS_TOL`] but in the θ-only stage of a fit). Returns Σ dᵢ + ‖û‖².
    pub(crate) fn pirls(&mut self, vary_beta: bool, reduced: bool, tol: f64) -> Result<f64> {
        let reduced = reduced && !vary_beta;
        self.update_xb();
        let resume = if self.started {
            let pdev = self.update_eta();
            // A held state outside the link's domain is no start: begin
            // afresh as below.
            (pdev.is_finite() || !vary_beta).then_some(pdev)
        } else {
            None
        };
        let mut pdev_old = if let Some(pdev) = resume {
            pdev
        } else if vary_beta {
            // Start as glm does: μ from the data, η = g(μ); no step halving
            // against this point, which is not of the form o + Xβ + ZΛu.
            self.u.iter_mut().for_each(|v| *v = 0.0);
            let positive = self.family.has_dispersion() && self.link.requires_positive_mean();
            let ybar = self.resp.y.iter().sum::<f64>() / self.resp.y.len().max(1) as f64;
            for i in 0..self.eta.len() {
                let mut mu = self.family.mustart(self.resp.y[i], self.resp.wt[i]);
                if positive && mu <= 0.0 {
                    // Gaussian responses under a log or inverse link.
                    mu = ybar.abs().max(1e-3);
                }
                self.eta[i] = self.link.linkfun(mu);
                self.mu[i] = self.link.linkinv(self.eta[i]);
            }
            f64::INFINITY
        } else {
            self.u.iter_mut().for_each(|v| *v = 0.0);
            self.update_eta()
        };
        let mut converged = false;
        // Refactor L at the final η unless the last step was negligible.
        let mut final_reweight = true;
        let mut prev_step = f64::NAN;
        let mut iter = 0;
        while iter < MAX_ITER {
            iter += 1;
            self.interrupt.check()?;
            self.reweight(reduced)?;
            let beta0 = self.beta.clone();
            let u0 = self.u.clone();
            let eta0 = self.eta.clone();
            if vary_beta {
                self.beta = self.engine.beta();
                self.update_xb();
            }
            self.u = if reduced {
                self.active_engine().u_given_beta(&[]).concat()
            } else {
                self.engine.u_given_beta(&self.beta).concat()
            };
            let mut pdev = self.update_eta();
            let mut nhalf = 0;
            // (Written so that a NaN deviance also counts as no decrease.)
            while pdev.is_nan() || pdev > pdev_old * (1.0 + 1e-13) {
                nhalf += 1;
                if nhalf > MAX_HALVINGS {
                    let stalled =
                        pdev_old.is_finite() && (pdev - pdev_old).abs() <= 1e-10 * pdev_old;
                    self.beta = beta0;
                    self.u = u0;
                    self.update_xb();
                    pdev = self.update_eta();
                    if stalled {
                        // No decrease possible beyond rounding: at the mode,
                        // and L belongs to this η.
                        converged = true;
                        final_reweight = false;
                        break;
                    }
                    return Err(Error::Convergence {
                        message: format!(
                            "the conditional modes of the random effects could not be found at \
                             θ = {:?}: no step reduced the penalised deviance ({pdev_old}), so \
                             the fitted means sit where the data allow no improvement (often \
                             fitted probabilities or counts at their bound); check for a \
                             predictor or level that separates the response, or simplify the \
                             random effects (PIRLS step-halving failed)",
                            self.engine.theta()
                        ),
                    });
                }
                for (a, b) in self.u.iter_mut().zip(&u0) {
                    *a = 0.5 * (*a + b);
                }
                if vary_beta {
                    for (a, b) in self.beta.iter_mut().zip(&beta0) {
                        *a = 0.5 * (*a + b);
                    }
                    self.update_xb();
                }
                pdev = self.update_eta();
            }
            if converged {
                pdev_old = pdev;
                break;
            }
            let step = self
                .eta
                .iter()
                .zip(&eta0)
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            let scale = self.eta.iter().fold(1.0f64, |m, e| m.max(e.abs()));
            pdev_old = pdev;
            if nhalf == 0 {
                if step <= tol * scale {
                    converged = true;
                    final_reweight = false;
                    break;
                }
                // Newton's method: the next step is about C·step², C estimated
                // from the last two steps (at least 1). If that is below the
                // tolerance the mode is reached; L is then refactored at it.
                let c = if prev_step.is_finite() {
                    (step / (prev_step * prev_step)).max(1.0)
                } else {
                    1.0
                };
                // Only for Newton steps: when a dispersion family fell back
                // to the expected information (some observed weight ≤ 0) the
                // steps are Fisher scoring's, which converge linearly, and
                // the extrapolation would stop early (a crossed inverse
                // Gaussian model: −2 log L 1e-5 too high from a warm start).
                let newton = !self.family.has_dispersion() || self.observed_weights;
                if newton && c * step * step <= 0.1 * tol * scale {
                    converged = true;
                    break;
                }
                prev_step = step;
            } else {
                prev_step = f64::NAN;
            }
        }
        if !converged {
            return Err(Error::Convergence {
                message: format!(
                    "the conditional modes of the random effects did not settle in \
                     {MAX_ITER} iterations at θ = {:?}: the model may be nearly separated or \
                     its random effects nearly unidentifiable; check for extreme fitted means \
                     or simplify the random effects (PIRLS did not converge)",
                    self.engine.theta()
                ),
            });
        }
        self.started = true;
        self.last_pirls_iterations = iter;
        // L at the weights of the final η, so that log|L_Z|², R_X and the
        // conditional variances belong to the mode.
        if final_reweight {
            self.reweight(reduced)?;
        }
        Ok(pdev_old)
    }

    /// Make (β, u) the state: η, μ and the unit deviances from them, and L
    /// (of the engine with X) factored at their working weights.
    pub(crate) fn install_mode(&mut self) -> Result<()> {
        self.update_xb();
        self.update_eta();
        self.reweight(false)?;
        self.started = true;
        Ok(())
    }

    /// Penalised deviance Σ dᵢ + ‖u‖² at the current state.
    pub(crate) fn pdev(&self) -> f64 {
        self.devres.iter().sum::<f64>() + self.u.iter().map(|v| v * v).sum::<f64>()
    }
}
