//! Fitting GLMMs whose family has a dispersion parameter φ (Gamma, inverse
//! Gaussian, Gaussian with a non-identity link, negative binomial NB2) as
//! glmmTMB does: φ is estimated jointly with (θ, β) by maximising the
//! Laplace approximation of the likelihood, and that approximation uses the
//! observed information of the conditional log density (the Newton–Raphson
//! weights of PIRLS; for the canonical links they equal the expected ones).
//!
//! θ is defined as for the other GLMMs: the lower Cholesky factor of each
//! term's covariance, unscaled (for a scalar term its standard deviation);
//! φ is not a scale of the random effects.
//!
//! Stage 1 optimises (θ, log φ) with β from PIRLS; stage 2 (unless `fast`)
//! optimises (β, θ, log φ) jointly from there, in the whitened β coordinates
//! of [`JointMap`]. Both use BOBYQA. The objective, deviance and
//! log-likelihood contain the family's constants, so −2 log L and the AIC
//! are comparable with glmmTMB's.

use super::dispersion_quasi_newton::DispersionPoint;
use super::fit::{JointMap, JOINT_RHO_END};

use super::GeneralizedLinearMixedModel;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::model::driver::{run_stage, theta_optimizer, FitLog};
use crate::model::scaling::ThetaScaling;
use crate::model::{FitRecord, FitSettings, OptimizerChoice, Stage, StageRecord};
use crate::optim::{Bobyqa, ReturnCode};
use faer::{Mat, Side};

/// Largest q·n for which the Laplace objective with observed weights of both
/// signs is computed with a dense ZΛ (n × q) and Hessian (q × q).
const DENSE_LIMIT: f64 = 2e7;

/// Bounds of log φ in the optimizer (φ within [1e-10, 1e10]).
const LOG_PHI_BOUND: f64 = 23.0;
/// Joint stage: initial step of log φ.
const LOG_PHI_STEP: f64 = 0.1;
/// Joint stage: final radius (tighter than the other families': log φ is
/// reported with its standard error and compared to 1e-4 relative).
const DISPERSION_JOINT_RHO_END: f64 = JOINT_RHO_END / 3.0;
impl GeneralizedLinearMixedModel {
    /// The dispersion parameter φ (Gamma: 1/shape; inverse Gaussian: φ;
    /// Gaussian: σ²; NB2: 1/k), or None for families without one.
    pub fn dispersion(&self) -> Option<f64> {
        self.family.has_dispersion().then_some(self.phi)
    }

    /// The standard error of log φ at the fit, from the numerical Hessian of
    /// the Laplace objective in (β, θ off its bounds, log φ) (the
    /// `sdreport` standard error of glmmTMB's log-dispersion parameter);
    /// None without a dispersion parameter, before a fit, after a `fast`
    /// fit, with more than 30 such coordinates, or when the Hessian is not
    /// positive definite. Computed on first request (on a copy of the model
    /// at the fit's θ and β: a differenced Hessian costs a gradient per
    /// coordinate, about a third of a small model's fit; the copy holds the
    /// model's rows and A a second time), then kept.
    pub fn dispersion_log_stderror(&self) -> Option<f64> {
        *self
            .phi_log_se
            .get_or_init(|| self.fitted_log_phi_stderror())
    }

    /// The standard error of log φ at the fit's (θ, β) and φ, on a copy.
    fn fitted_log_phi_stderror(&self) -> Option<f64> {
        let record = self.record.as_ref()?;
        if !self.family.has_dispersion() || record.settings.fast {
            return None;
        }
        let mut m = self.clone();
        // Its own flag: a stop request left on the model's (an interrupted
        // bootstrap's) must not become a stored None.
        m.interrupt = Interrupt::new();
        let (theta, beta) = (&record.final_theta, &record.final_beta);
        m.evaluate(theta, Some(beta), record.settings.nagq).ok()?;
        m.log_phi_stderror(theta, beta)
    }

    /// Set φ (for evaluating the objective at given parameters, e.g. a
    /// reference fit's); the model becomes unfitted.
    pub fn set_dispersion(&mut self, phi: f64) -> Result<()> {
        if !self.family.has_dispersion() {
            return Err(Error::argument(
                "dispersion",
                format!(
                    "the {} family has no dispersion parameter",
                    self.family.name()
                ),
            ));
        }
        if !(phi.is_finite() && phi > 0.0) {
            return Err(Error::argument(
                "dispersion",
                format!("the dispersion must be positive and finite, got {phi}"),
            ));
        }
        self.phi = phi;
        self.record = None;
        self.phi_log_se = std::sync::OnceLock::new();
        Ok(())
    }

    /// Refuse `what` (a method whose conditional fits would hold φ at its
    /// estimate, e.g. likelihood profiles) for a family with a dispersion
    /// parameter.
    pub fn refuse_with_dispersion(&self, what: &str) -> Result<()> {
        if self.family.has_dispersion() {
            return Err(Error::argument(
                "model",
                format!(
                    "{what} are not available for the {} family: their conditional fits do \
                     not re-estimate the dispersion parameter; use Wald or parametric \
                     bootstrap intervals",
                    self.family.name()
                ),
            ));
        }
        Ok(())
    }

    /// The PIRLS reweight of the dispersion families: working weights are
    /// the observed information −∂² log p/∂η² (Newton's method, and the
    /// Hessian of the Laplace approximation) when all are positive, else
    /// the expected information (and `observed_weights` is cleared).
    pub(super) fn reweight_dispersion(&mut self, reduced: bool) -> Result<()> {
        let n = self.eta.len();
        let (family, link, phi) = (self.family, self.link, self.phi);
        let base = if reduced { &self.xb } else { &self.offset };
        let (eta, mu, y, wt) = (&self.eta, &self.mu, &self.resp.y, &self.resp.wt);
        let mut observed = true;
        let mut sw: Vec<(f64, f64)> = (0..n)
            .map(|i| family.eta_score_weight(link, y[i], mu[i], eta[i], phi, true))
            .collect();
        if sw
            .iter()
            .any(|&(s, w)| !(w > 0.0 && w.is_finite() && s.is_finite()))
        {
            observed = false;
            sw = (0..n)
                .map(|i| family.eta_score_weight(link, y[i], mu[i], eta[i], phi, false))
                .collect();
        }
        let engine = match (reduced, self.engine_u.as_mut()) {
            (true, Some(e)) => e,
            _ => &mut self.engine,
        };
        engine.set_weighted_response_with(|z, sqrtw| {
            for i in 0..n {
                let (s, w) = sw[i];
                sqrtw[i] = (wt[i] * w).sqrt();
                z[i] = eta[i] - base[i] + s / w;
            }
        });
        self.observed_weights = observed;
        self.factorizations += 1;
        self.reduced_active = reduced;
        engine.refactor()
    }

    /// The objective with φ = exp(log φ) installed, +∞ where PIRLS fails.
    pub(super) fn evaluate_with_phi(
        &mut self,
        theta: &[f64],
        beta: Option<&[f64]>,
        log_phi: f64,
        tol: f64,
    ) -> f64 {
        self.phi = log_phi.exp();
        self.evaluate_or_inf(theta, beta, tol)
    }

    /// Fit a model of a family with a dispersion parameter (see the module
    /// documentation). Called by the common fit for these families.
    pub(super) fn run_dispersion(&mut self, settings: &FitSettings) -> Result<FitRecord> {
        let (fast, nagq) = (settings.fast, settings.nagq);
        if settings.optimizer == OptimizerChoice::Bfgs && nagq > 1 {
            let why = "the quasi-Newton method for families with a dispersion parameter uses \
                       the Laplace objective's gradient (nAGQ = 1); use optimizer = \"bobyqa\" \
                       or \"auto\"";
            return Err(Error::argument("optimizer", why));
        }
        // BFGS with the exact gradient where there is one; `auto` hands a
        // failed quasi-Newton stage (e.g. a negative observed weight, where
        // the gradient is not available) over to BOBYQA.
        let quasi_newton = settings.optimizer != OptimizerChoice::Bobyqa && nagq == 1;
        let fallback = settings.optimizer == OptimizerChoice::Auto;
        let super::fit::FitStart {
            timer,
            lower,
            start,
            interrupt,
            mut log,
        } = self.begin_fit(nagq)?;
        // φ's start: the moment estimate at the fitted means of θ₀, twice.
        self.phi = 1.0;
        for _ in 0..2 {
            self.evaluate(&start, None, nagq)?;
            self.phi = self
                .family
                .dispersion_start(&self.resp.y, &self.mu, &self.resp.wt);
        }
        // θ₀ in units of the residual standard deviation on the η scale at
        // those means: θ here is unscaled (a linear mixed model's θ₀ = 1 is
        // σ_b = σ), and θ₀ = 1 would be a standard deviation of 1 on the
        // log scale for a Gamma response with a coefficient of variation
        // of 0.08.
        let scale = self.eta_residual_scale();
        let start: Vec<f64> = start.iter().map(|t| t * scale).collect();
        let finitial = self.evaluate(&start, None, nagq)?;
        // Stage 1: (θ, log φ), β from PIRLS.
        let k = start.len();
        let x0: Vec<f64> = start.iter().copied().chain([self.phi.ln()]).collect();
        let lo: Vec<f64> = lower.iter().copied().chain([-LOG_PHI_BOUND]).collect();
        let hi: Vec<f64> = self
            .layout
            .upper()
            .into_iter()
            .chain([LOG_PHI_BOUND])
            .collect();
        let stage_tol = if fast {
            settings.pirls_tol
        } else {
            1e-5f64.max(settings.pirls_tol)
        };
        let mut stages = Vec::new();
        // The quasi-Newton result, or where BOBYQA starts: θ₀, or the best
        // point of a failed quasi-Newton stage.
        let mut x1 = None;
        let mut bobyqa_start = x0.clone();
        if quasi_newton {
            let (r, stage) = self.dispersion_theta_stage_bfgs(
                &x0,
                scale,
                &lo,
                &hi,
                settings.max_evaluations,
                stage_tol,
                !fast,
                &mut log,
                &interrupt,
            )?;
            stages.push(stage);
            if !(fallback && matches!(r.code, ReturnCode::Failure(_))) {
                x1 = Some(r.x);
            } else if r.fmin.is_finite() {
                bobyqa_start = r.x;
            }
        }
        let x1 = match x1 {
            Some(x) => x,
            None => {
                let (x, stage) = self.dispersion_theta_stage_bobyqa(
                    &bobyqa_start,
                    &lo,
                    &hi,
                    settings,
                    stage_tol,
                    &mut log,
                    &interrupt,
                )?;
                stages.push(stage);
                x
            }
        };
        let mut theta = x1[..k].to_vec();
        let mut log_phi = x1[k];
        self.phi = log_phi.exp();
        let mut fmin = self.evaluate(&theta, None, nagq)?;
        if !fast {
            // Stage 2: (β, θ, log φ) from there.
            let mut joint = None;
            if quasi_newton {
                let (point, r, stage) = self.dispersion_joint_stage_bfgs(
                    &theta,
                    log_phi,
                    LOG_PHI_BOUND,
                    settings.max_evaluations,
                    settings.pirls_tol,
                    &mut log,
                    &interrupt,
                )?;
                stages.push(stage);
                if !(fallback && matches!(r.code, ReturnCode::Failure(_))) {
                    joint = Some(point);
                } else {
                    // BOBYQA from stage 1's point (the joint map's centre).
                    self.phi = log_phi.exp();
                    self.evaluate(&theta, None, nagq)?;
                }
            }
            let DispersionPoint {
                beta: b,
                theta: th,
                log_phi: lp,
            } = match joint {
                Some(j) => j,
                None => {
                    let (j, stage) = self.dispersion_joint_stage_bobyqa(
                        &theta, log_phi, &lower, settings, &mut log, &interrupt,
                    )?;
                    stages.push(stage);
                    j
                }
            };
            self.phi = lp.exp();
            let f2 = self.evaluate(&th, Some(&b), nagq)?;
            if f2 <= fmin {
                theta = th;
                log_phi = lp;
                fmin = f2;
            } else {
                self.phi = log_phi.exp();
                fmin = self.evaluate(&theta, None, nagq)?;
            }
        }
        self.phi = log_phi.exp();
        // Tiny diagonal entries of θ tried at zero (φ and β held).
        let scaling = ThetaScaling::new(&self.layout);
        let beta_opt = (!fast).then(|| self.beta.clone());
        let diagonal = self.layout.diagonal();
        let (theta, fz, zeroed) = scaling.zero_trials(&diagonal, theta, fmin, &mut |trial| {
            let v = self.evaluate_or_inf(trial, beta_opt.as_deref(), settings.pirls_tol);
            log.push(trial, &self.beta, v, !fast);
            v
        });
        // The KKT certificate in (β, θ) at the optimal φ.
        let (theta, beta_opt, certificate) =
            self.certificate(settings, theta, beta_opt, fz, &interrupt)?;
        let fmin = self.evaluate(&theta, beta_opt.as_deref(), nagq)?;
        let final_beta = self.beta.clone();
        self.fast = fast;
        Ok(FitRecord {
            settings: settings.clone(),
            initial: start,
            finitial,
            lower,
            final_theta: theta,
            final_beta,
            fmin,
            evaluations: log.entries.len(),
            gradient_evaluations: stages.iter().map(|s| s.gradient_evaluations).sum(),
            zeroed,
            factorizations: self.factorizations,
            seconds: timer.elapsed().as_secs_f64(),
            stages,
            fitlog: log.entries,
            certificate,
        })
    }

    /// 1/√w̄, w̄ the prior-weighted mean of the expected information
    /// μ′²/Var(y | μ, φ) at the current means: the standard deviation of a
    /// working residual on the η scale (1 if not finite and positive).
    fn eta_residual_scale(&self) -> f64 {
        let (family, link, phi) = (self.family, self.link, self.phi);
        let (mut sw, mut swi) = (0.0, 0.0);
        for i in 0..self.eta.len() {
            let me = link.mu_eta(self.eta[i]);
            let w = me * me / family.variance_phi(self.mu[i], phi);
            sw += self.resp.wt[i];
            swi += self.resp.wt[i] * w;
        }
        let scale = (sw / swi).sqrt();
        if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        }
    }

    /// Stage 1 with BOBYQA: (θ, log φ) from x0 in [lo, hi], β from PIRLS
    /// (to `tol`); to `rho_end` for a `fast` fit, else to 3e-3 (the joint
    /// stage's start). Returns (θ, log φ) at the best point.
    #[allow(clippy::too_many_arguments)]
    fn dispersion_theta_stage_bobyqa(
        &mut self,
        x0: &[f64],
        lo: &[f64],
        hi: &[f64],
        settings: &FitSettings,
        tol: f64,
        log: &mut FitLog,
        interrupt: &Interrupt,
    ) -> Result<(Vec<f64>, StageRecord)> {
        let k = x0.len() - 1;
        let mut bobyqa = theta_optimizer(
            &self.layout,
            settings.rho_begin,
            if settings.fast {
                settings.rho_end
            } else {
                3e-3
            },
            settings.max_evaluations,
            interrupt,
        );
        if let Some(s) = bobyqa.scales.as_mut() {
            s.push(1.0);
        }
        let before = self.factorizations;
        let (result, mut stage) = {
            let mut f = |x: &[f64]| {
                let v = self.evaluate_with_phi(&x[..k], None, x[k], tol);
                log.push(&x[..k], &self.beta, v, false);
                v
            };
            run_stage(Stage::Theta, &bobyqa, &mut f, x0, lo, hi, interrupt)?
        };
        stage.factorizations = self.factorizations - before;
        Ok((result.x, stage))
    }

    /// Stage 2 with BOBYQA: (β, θ, log φ) in the joint map centred at
    /// `theta`, the current β and `log_phi` (the state of an evaluation
    /// there). Returns (β, θ, log φ) at the best point.
    fn dispersion_joint_stage_bobyqa(
        &mut self,
        theta: &[f64],
        log_phi: f64,
        lower: &[f64],
        settings: &FitSettings,
        log: &mut FitLog,
        interrupt: &Interrupt,
    ) -> Result<(DispersionPoint, StageRecord)> {
        let before = self.factorizations;
        let (p, k) = (self.beta.len(), theta.len());
        let map = JointMap::new(self, theta);
        let x0 = vec![0.0; p + k + 1];
        let mut lo = map.lower(lower);
        lo.push((-LOG_PHI_BOUND - log_phi) / LOG_PHI_STEP);
        let mut hi = vec![f64::INFINITY; p + k];
        hi.push((LOG_PHI_BOUND - log_phi) / LOG_PHI_STEP);
        let joint = Bobyqa {
            rho_begin: 1.0,
            rho_end: DISPERSION_JOINT_RHO_END,
            max_evaluations: settings.max_evaluations,
            stop: Some(interrupt.flag().clone().into()),
            ..Bobyqa::default()
        };
        let (result, mut stage) = {
            let mut f = |x: &[f64]| {
                let par = map.params(&x[..p + k]);
                let (b, th) = par.split_at(p);
                let lp = log_phi + LOG_PHI_STEP * x[p + k];
                let v = self.evaluate_with_phi(th, Some(b), lp, settings.pirls_tol);
                log.push(th, b, v, true);
                v
            };
            run_stage(Stage::Joint, &joint, &mut f, &x0, &lo, &hi, interrupt)?
        };
        stage.factorizations = self.factorizations - before;
        let par = map.params(&result.x[..p + k]);
        let (b, th) = par.split_at(p);
        let point = DispersionPoint {
            beta: b.to_vec(),
            theta: th.to_vec(),
            log_phi: log_phi + LOG_PHI_STEP * result.x[p + k],
        };
        Ok((point, stage))
    }

    /// The error when the Hessian of the penalised log-likelihood at the
    /// conditional modes is not positive definite, or too large for the
    /// dense computation that observed weights of both signs need.
    fn observed_information_error(&self, why: &str) -> Error {
        Error::Convergence {
            message: format!(
                "the Laplace approximation with the observed information of the {} family \
                 with the {} link is not available at θ = {:?}: {why}",
                self.family.name(),
                self.link.name(),
                self.engine.theta()
            ),
        }
    }

    /// The Laplace objective Σ −2 log p + ‖û‖² + log|H| when some observed
    /// weight is negative (non-canonical links, an observation far from its
    /// mean), so that L cannot hold H: H = I + ΛᵀZᵀWZΛ with the signed
    /// observed weights is formed densely (q × q) and factored.
    pub(super) fn objective_with_signed_weights(&self) -> Result<f64> {
        let n = self.eta.len();
        let q = self.u.len();
        if (q as f64) * (n as f64) > DENSE_LIMIT {
            return Err(self.observed_information_error(&format!(
                "some observed weights are negative and the model is too large ({n} \
                 observations × {q} random effects) to form the Hessian densely"
            )));
        }
        let (family, link, phi) = (self.family, self.link, self.phi);
        let w: Vec<f64> = (0..n)
            .map(|i| {
                let (_, w) = family.eta_score_weight(
                    link,
                    self.resp.y[i],
                    self.mu[i],
                    self.eta[i],
                    phi,
                    true,
                );
                w * self.resp.wt[i]
            })
            .collect();
        // The columns of ZΛ.
        let lambdas = self.engine.lambdas();
        let mut zl = Mat::<f64>::zeros(n, q);
        let mut e = vec![0.0; q];
        let mut col = vec![0.0; n];
        for j in 0..q {
            e[j] = 1.0;
            col.iter_mut().for_each(|v| *v = 0.0);
            self.terms.add_z_lambda_u(lambdas, &e, &mut col);
            e[j] = 0.0;
            for i in 0..n {
                zl[(i, j)] = col[i];
            }
        }
        let wzl = Mat::<f64>::from_fn(n, q, |i, j| w[i] * zl[(i, j)]);
        let mut h = zl.transpose() * &wzl;
        for j in 0..q {
            h[(j, j)] += 1.0;
        }
        let llt = h
            .llt(Side::Lower)
            .map_err(|_| self.observed_information_error("its Hessian is not positive definite"))?;
        let l = llt.L();
        let logdet: f64 = (0..q).map(|j| 2.0 * l[(j, j)].ln()).sum();
        Ok(self.pdev() + logdet)
    }
}
