//! The analytic gradient of the Laplace objective of a GLMM with respect to
//! (θ, β), and of the `fast` objective (β from PIRLS with u) with respect to θ.
//!
//! # The objective
//!
//! At (θ, β) PIRLS finds the conditional mode û of the penalised deviance
//! P(u) = Σᵢ dᵢ(ηᵢ) + ‖u‖², η = o + Xβ + ZΛu, and the objective is
//!
//!   f = Σᵢ dᵢ(η̂ᵢ) + ‖û‖² + log det Ω,  Ω = ΛᵀZᵀW(η̂)ZΛ + I,
//!
//! with W the working (Fisher scoring) weights at the mode,
//! wᵢ = pᵢ μ′(ηᵢ)²/V(μᵢ) (pᵢ the prior weight; pᵢV(μᵢ) for the canonical
//! link). For `fast` (lme4's nAGQ = 0) β̂ is found with û, jointly
//! minimising P over (u, β), and f is the same expression at (û, β̂).
//!
//! # Derivatives along the mode
//!
//! Write rᵢ = −½ ∂dᵢ/∂ηᵢ = pᵢ(yᵢ − μᵢ)μ′ᵢ/Vᵢ and Dᵢ = −∂rᵢ/∂ηᵢ =
//! wᵢ − pᵢ(yᵢ − μᵢ)(μ″ᵢ/Vᵢ − μ′ᵢ²V′ᵢ/Vᵢ²), the observed information in ηᵢ
//! (equal to wᵢ for the canonical link). The mode satisfies ½∂P/∂u =
//! −ΛᵀZᵀr + u = 0 (and −Xᵀr = 0 for `fast`); the Hessian of ½P is
//! H = ΛᵀZᵀDZΛ + I (for `fast` the joint H_J over (u, β) with the blocks
//! ΛᵀZᵀDX and XᵀDX). A θ entry k sits at (row, col) of a term's λ, so
//! ∂Λ/∂θ_k = Λ_k has a 1 at (l·v + row, l·v + col) in every level l.
//!
//! * Penalised deviance: by the envelope theorem (û, and β̂ for `fast`,
//!   are stationary) only the explicit dependence counts:
//!   ∂/∂θ_k = −2 rᵀZΛ_kû, ∂/∂β = −2Xᵀr (Laplace only).
//! * log det Ω at fixed W: ∂_k of [`PlsEngine::logdet_gradient`](crate::pls::PlsEngine::logdet_gradient).
//! * log det Ω through W: ∂ log det Ω/∂wᵢ = hᵢ = zᵢᵀΛΩ⁻¹Λᵀzᵢ
//!   ([`PlsEngine::logdet_weight_gradient`](crate::pls::PlsEngine::logdet_weight_gradient)),
//!   so with sᵢ = hᵢ ∂wᵢ/∂ηᵢ the contribution is sᵀ dη̂, where
//!   dη̂ = ZΛ_kû + ZΛ dû for θ_k (plus X dβ̂ for `fast`) and X + ZΛ dû
//!   for β (Laplace). The implicit function theorem on the stationarity
//!   equations gives dû = −H⁻¹ ∂(½∂P/∂u)/∂θ_k; one adjoint solve,
//!   v = H⁻¹ΛᵀZᵀs (for `fast` [v_u; v_β] = H_J⁻¹[ΛᵀZᵀs; Xᵀs]), serves
//!   all k.
//!
//! Collecting terms, with a = ZΛv_u (+ Xv_β for `fast`) and
//! q = s − 2r − D∘a (elementwise):
//!
//!   ∂f/∂θ_k = ∂_k log det Ω|_W + Σ_l [(Zᵀq)_{l,row} û_{l,col} + (Zᵀr)_{l,row} v_{l,col}],
//!   ∂f/∂β = Xᵀq  (Laplace).
//!
//! For the canonical link D = W, so H (H_J) is L Lᵀ of the factor PIRLS left
//! (its leading blocks); otherwise H is factored once more, with the
//! observed weights D in the engine without X (D ≥ 0 for every family and
//! link allowed here: their log-likelihoods are concave in η), and for
//! `fast` the X rows enter through the Schur complement
//! XᵀDX − (ΛᵀZᵀDX)ᵀH⁻¹(ΛᵀZᵀDX).
//!
//! # Families with a dispersion parameter
//!
//! Their dᵢ = −2pᵢ log p(yᵢ | μᵢ, φ) and their PIRLS weights are the
//! observed information, w = D (`dispersion.rs`), so H is L Lᵀ as for a
//! canonical link, and ∂wᵢ/∂ηᵢ takes the third derivative of log p
//! (`family::dispersion_derivatives`). The gradient gains a last entry in
//! log φ: with everything else held, φ enters dᵢ, wᵢ and rᵢ directly, and
//! the mode moves by dû = H⁻¹ΛᵀZᵀ∂r/∂log φ (and β̂ with it for `fast`), so
//!
//!   ∂f/∂log φ = Σᵢ [∂dᵢ/∂log φ + hᵢ ∂wᵢ/∂log φ + aᵢ ∂rᵢ/∂log φ],
//!
//! the first term by the envelope theorem, a = ZΛv_u (+ Xv_β) the adjoint
//! above. Where some observed weight is negative PIRLS falls back to the
//! expected information and the objective is formed densely; the gradient
//! is then not available (an error).
//!
//! # Cost
//!
//! One PIRLS (as [`evaluate`](GeneralizedLinearMixedModel::evaluate)), the
//! θ derivative of log det Ω at fixed W (as for a linear mixed model), one
//! sparse solve per observation for h, two triangular solves, and O(n·v)
//! per term; plus one factorization without X for a non-canonical link.

use super::pirls::PIRLS_TOL;
use super::{Family, GeneralizedLinearMixedModel, Link};
use crate::blocks::{backward_solve_transposed, forward_solve};
use crate::error::{Error, Result};
use crate::terms::ModelTerms;

/// Per-observation derivatives at the mode (see the module docs).
pub(super) struct ModeDerivatives {
    /// rᵢ = −½ ∂dᵢ/∂ηᵢ.
    pub r: Vec<f64>,
    /// ∂wᵢ/∂ηᵢ of the working weights.
    pub dw: Vec<f64>,
    /// Observed information Dᵢ = −∂rᵢ/∂ηᵢ (wᵢ for the canonical link).
    pub d: Vec<f64>,
    /// For a family with a dispersion parameter, the derivatives in log φ.
    pub log_phi: Option<LogPhiDerivatives>,
}

/// Per-observation derivatives in log φ at fixed η (families with a
/// dispersion parameter; their working weights are the observed
/// information, w = D).
pub(super) struct LogPhiDerivatives {
    /// ∂dᵢ/∂log φ.
    pub deviance: Vec<f64>,
    /// ∂rᵢ/∂log φ.
    pub r: Vec<f64>,
    /// ∂wᵢ/∂log φ.
    pub w: Vec<f64>,
}

impl GeneralizedLinearMixedModel {
    /// The Laplace objective and its gradient at θ with β fixed
    /// (`Some(β)`: gradient with respect to (θ, β), laid out [θ…, β…]), or
    /// the `fast` objective (`None`: β from PIRLS with u, lme4's nAGQ = 0)
    /// and its gradient with respect to θ.
    ///
    /// The objective is f = Σᵢ dᵢ(η̂ᵢ) + ‖û‖² + log det Ω with
    /// Ω = ΛᵀZᵀWZΛ + I at the conditional mode (the value
    /// [`evaluate`](Self::evaluate) returns with nAGQ = 1). With, at the mode,
    /// rᵢ = −½∂dᵢ/∂ηᵢ, the working weights wᵢ and Dᵢ = −∂rᵢ/∂ηᵢ (= wᵢ for the
    /// canonical link), sᵢ = (∂ log det Ω/∂wᵢ)(∂wᵢ/∂ηᵢ), the adjoint
    /// v = H⁻¹ΛᵀZᵀs (H = ΛᵀZᵀDZΛ + I, the Hessian of ½ the penalised
    /// deviance in u; for `fast` [v_u; v_β] = H_J⁻¹[ΛᵀZᵀs; Xᵀs] with the
    /// joint Hessian in (u, β)) and q = s − 2r − D∘(ZΛv_u + Xv_β):
    ///
    /// ∂f/∂θ_k = ∂_k log det Ω|_W + Σ_l [(Zᵀq)_{l,row} û_{l,col} + (Zᵀr)_{l,row} v_{l,col}],
    /// ∂f/∂β = Xᵀq,
    ///
    /// θ_k sitting at (row, col) of its term's λ and l running over the
    /// term's levels. The first term is the derivative at fixed weights (as
    /// for a linear mixed model); the rest follows from the envelope theorem
    /// for the penalised deviance and the implicit function theorem for û
    /// (and β̂) in log det Ω (derivation in the source of this module).
    ///
    /// The model's state is left as `evaluate` leaves it (β, u, η, μ at the
    /// mode, L factored there); its nAGQ is not changed. With nAGQ > 1 and
    /// β given, the objective and gradient are those of adaptive
    /// Gauss–Hermite quadrature (`agq_gradient.rs`); else the Laplace
    /// approximation's. Fails as
    /// `evaluate` does (θ or β invalid, PIRLS not converging).
    ///
    /// For a family with a dispersion parameter the gradient has one more
    /// entry, last: the derivative in log φ at the model's φ
    /// ([`set_dispersion`](Self::set_dispersion)); it is the Laplace
    /// objective's only (nAGQ > 1 is refused, `Error::Argument` on `nagq`),
    /// and it is refused where an observed weight is negative
    /// (`Error::Argument` on `family`).
    ///
    /// As for the linear mixed model, this is the two-sided derivative of a
    /// function that stays smooth across λ's zero diagonal; at a diagonal
    /// entry on its bound 0 it is the one-sided derivative into the
    /// feasible region.
    pub fn objective_and_gradient(
        &mut self,
        theta: &[f64],
        beta: Option<&[f64]>,
    ) -> Result<(f64, Vec<f64>)> {
        if self.family.has_dispersion() && self.nagq > 1 {
            let why = "the analytic gradient of a family with a dispersion parameter is that \
                       of the Laplace approximation (nAGQ = 1)";
            return Err(Error::argument("nagq", why));
        }
        self.install_theta(theta)?;
        if let Some(b) = beta {
            self.install_beta(b)?;
        }
        let fast = beta.is_none();
        self.pirls(fast, false, PIRLS_TOL)?;
        // L of the engine with X at the working weights of the final η
        // exactly, as `evaluate` leaves it.
        self.reweight(false)?;
        if self.nagq > 1 && !fast {
            let objective = self.agq_deviance(self.nagq)?;
            return Ok((objective, self.agq_gradient(self.nagq)?));
        }
        let objective = self.pdev() + self.engine.logdet_z();
        let gradient = self.mode_gradient(fast)?;
        Ok((objective, gradient))
    }

    /// The gradient at the mode held, read off the factor of the engine
    /// PIRLS left active (with X for `fast`, without X for the Laplace
    /// objective at fixed β: only L's random-effects blocks are used, and
    /// they are the same in both engines), factored at the weights of the
    /// mode (to PIRLS's tolerance): with respect to (θ, β) for the Laplace
    /// objective, θ only for `fast`.
    pub(super) fn mode_gradient(&mut self, fast: bool) -> Result<Vec<f64>> {
        if self.family.has_dispersion() && !self.observed_weights {
            return Err(self.signed_weights_error());
        }
        let md = self.mode_derivatives();
        let terms = self.terms.clone();
        let (nre, p) = (self.u.len(), self.beta.len());
        let engine = self.active_engine();
        // The derivative of log det Ω at fixed weights, before a
        // non-canonical link's solve refactors the engine without X.
        let mut grad = engine.logdet_gradient(&self.layout, false);
        // s = h ∘ ∂w/∂η: the derivative of log det Ω along η through W.
        let h = engine.logdet_weight_gradient();
        let s: Vec<f64> = h.iter().zip(&md.dw).map(|(h, dw)| h * dw).collect();
        let lambdas = engine.lambdas().to_vec();
        // The adjoint right-hand side [ΛᵀZᵀs; Xᵀs] (X rows for `fast` only).
        let mut v = vec![0.0; nre + if fast { p } else { 0 }];
        add_lambda_t_z_t(&terms, &lambdas, &s, &mut v[..nre]);
        if fast {
            for (j, vj) in v[nre..].iter_mut().enumerate() {
                *vj = dot(terms.fixed.column(j), &s);
            }
        }
        // The engine's weights are D for the canonical links and for the
        // dispersion families (whose PIRLS weights are the observed
        // information), so its factor holds H.
        if self.link == self.family.canonical_link() || md.log_phi.is_some() {
            self.solve_fisher(&mut v, fast);
        } else {
            self.solve_observed(&mut v, fast, &md.d)?;
        }
        // a = ZΛv_u (+ Xv_β); q = s − 2r − D∘a.
        let mut q = vec![0.0; s.len()];
        terms.add_z_lambda_u(&lambdas, &v[..nre], &mut q);
        if fast {
            terms.add_x_beta(&v[nre..], &mut q);
        }
        // ∂f/∂log φ = Σᵢ ∂dᵢ/∂log φ + hᵢ ∂wᵢ/∂log φ + aᵢ ∂rᵢ/∂log φ: the
        // deviance at the mode held (envelope theorem), log det Ω through
        // W at η held, and through the mode, dû = H⁻¹ΛᵀZᵀ∂r/∂log φ, met
        // by the adjoint a (module docs).
        let log_phi_derivative = md.log_phi.as_ref().map(|lp| {
            (0..q.len())
                .map(|i| lp.deviance[i] + h[i] * lp.w[i] + q[i] * lp.r[i])
                .sum::<f64>()
        });
        for i in 0..q.len() {
            q[i] = s[i] - 2.0 * md.r[i] - md.d[i] * q[i];
        }
        let mut offset = 0;
        let mut ztq = Vec::new();
        let mut ztr = Vec::new();
        for (t, term) in terms.random.iter().enumerate() {
            let range = self.layout.term_range(t);
            let (vt, nl) = (term.ncols(), term.nlevels());
            let (ut, vv) = (
                &self.u[offset..offset + nl * vt],
                &v[offset..offset + nl * vt],
            );
            offset += nl * vt;
            if range.is_empty() {
                continue;
            }
            zt_times(term, &q, &mut ztq);
            zt_times(term, &md.r, &mut ztr);
            for (g, e) in grad[range.clone()]
                .iter_mut()
                .zip(&self.layout.entries()[range])
            {
                *g += (0..nl)
                    .map(|l| {
                        ztq[l * vt + e.row] * ut[l * vt + e.col]
                            + ztr[l * vt + e.row] * vv[l * vt + e.col]
                    })
                    .sum::<f64>();
            }
        }
        if !fast {
            grad.extend((0..p).map(|j| dot(terms.fixed.column(j), &q)));
        }
        grad.extend(log_phi_derivative);
        Ok(grad)
    }

    /// The error for a gradient asked where some observed weight of a
    /// dispersion family is negative: the objective is then computed
    /// densely (`objective_with_signed_weights`) and has no analytic
    /// gradient here.
    fn signed_weights_error(&self) -> Error {
        Error::argument(
            "family",
            "the analytic gradient is not available where an observed weight is negative \
             (the Laplace objective is then formed densely)",
        )
    }

    /// rᵢ = −½∂dᵢ/∂ηᵢ at (η, μ) into `r` (module docs).
    pub(super) fn scores(&self, eta: &[f64], mu: &[f64], r: &mut [f64]) {
        let (family, link) = (self.family, self.link);
        let canonical = link == family.canonical_link();
        for i in 0..eta.len() {
            let (y, pw) = (self.resp.y[i], self.resp.wt[i]);
            r[i] = if canonical {
                pw * (y - mu[i])
            } else {
                pw * (y - mu[i]) * link.mu_eta(eta[i]) / family.variance(mu[i])
            };
        }
    }

    /// The working weights wᵢ = pᵢμ′(ηᵢ)²/V(μᵢ) at the current η (those of
    /// L at the mode).
    pub(super) fn working_weights(&self) -> Vec<f64> {
        let (family, link) = (self.family, self.link);
        let canonical = link == family.canonical_link();
        (0..self.eta.len())
            .map(|i| {
                let (pw, var) = (self.resp.wt[i], family.variance(self.mu[i]));
                if canonical {
                    pw * var
                } else {
                    let me = link.mu_eta(self.eta[i]);
                    pw * me * me / var
                }
            })
            .collect()
    }

    /// r, ∂w/∂η and D at the current η and μ (module docs).
    pub(super) fn mode_derivatives(&self) -> ModeDerivatives {
        if self.family.has_dispersion() {
            return self.dispersion_mode_derivatives();
        }
        let n = self.eta.len();
        let (family, link) = (self.family, self.link);
        let canonical = link == family.canonical_link();
        let mut md = ModeDerivatives {
            r: vec![0.0; n],
            dw: vec![0.0; n],
            d: vec![0.0; n],
            log_phi: None,
        };
        for i in 0..n {
            let (eta, mu, y, pw) = (self.eta[i], self.mu[i], self.resp.y[i], self.resp.wt[i]);
            let var = family.variance(mu);
            let dvar = variance_derivative(family, mu);
            if canonical {
                // μ′ = V(μ), μ″ = V′(μ)V(μ): r = p(y − μ), w = D = pV, ∂w/∂η = pV′V.
                md.r[i] = pw * (y - mu);
                md.d[i] = pw * var;
                md.dw[i] = pw * dvar * var;
            } else {
                let me = link.mu_eta(eta);
                let me2 = mu_eta_derivative(link, eta, mu, me);
                let w = pw * me * me / var;
                md.r[i] = pw * (y - mu) * me / var;
                md.dw[i] = pw * (2.0 * me * me2 / var - me * me * me * dvar / (var * var));
                md.d[i] = w - pw * (y - mu) * (me2 / var - me * me * dvar / (var * var));
            }
        }
        md
    }

    /// r, ∂w/∂η, D = w and the derivatives in log φ for a family with a
    /// dispersion parameter, whose working weights are the observed
    /// information (`dispersion.rs`), prior weights multiplying each
    /// observation's log density.
    fn dispersion_mode_derivatives(&self) -> ModeDerivatives {
        let n = self.eta.len();
        let mut md = ModeDerivatives {
            r: vec![0.0; n],
            dw: vec![0.0; n],
            d: vec![0.0; n],
            log_phi: Some(LogPhiDerivatives {
                deviance: vec![0.0; n],
                r: vec![0.0; n],
                w: vec![0.0; n],
            }),
        };
        let lp = md.log_phi.as_mut().expect("set above");
        for i in 0..n {
            let (y, pw) = (self.resp.y[i], self.resp.wt[i]);
            let e = self
                .family
                .eta_derivatives(self.link, y, self.mu[i], self.eta[i], self.phi);
            md.r[i] = pw * e.score;
            md.d[i] = pw * e.weight;
            md.dw[i] = pw * e.weight_eta;
            lp.deviance[i] = -2.0 * pw * e.loglik_log_phi;
            lp.r[i] = pw * e.score_log_phi;
            lp.w[i] = pw * e.weight_log_phi;
        }
        md
    }

    /// x ← Ω⁻¹x with the factor of the engine with X at the mode: Ω the
    /// random-effects part (Laplace) or, for `fast`, the (u, β) part (the
    /// canonical link, where the Hessian of ½P is Ω).
    fn solve_fisher(&self, x: &mut [f64], fast: bool) {
        let engine = self.active_engine();
        let mut offsets = engine.re_offsets();
        let mut nblocks = offsets.len() - 1;
        if fast {
            offsets.push(x.len());
            nblocks += 1;
        }
        let l = engine.l_blocks();
        forward_solve(l, &offsets, nblocks, x);
        backward_solve_transposed(l, &offsets, nblocks, x);
    }

    /// x ← H⁻¹x with H the Hessian of ½P at the mode for a non-canonical
    /// link: ΛᵀZᵀDZΛ + I factored in the engine without X at the weights
    /// D, and for `fast` the X rows through the Schur complement.
    fn solve_observed(&mut self, x: &mut [f64], fast: bool, d: &[f64]) -> Result<()> {
        self.ensure_reduced()?;
        let eu = self
            .engine_u
            .as_mut()
            .expect("the engine without X was just built");
        // Rounding aside, D ≥ 0 (concave log-likelihoods in η). The
        // response is not used, but its row of L must factor: a constant
        // (the penalised residual of 0 would end the factorization).
        eu.set_weighted_response_with(|z, sqrtw| {
            z.fill(1.0);
            sqrtw
                .iter_mut()
                .zip(d)
                .for_each(|(w, d)| *w = d.max(0.0).sqrt());
        });
        self.factorizations += 1;
        eu.refactor()?;
        let eu = self.engine_u.as_ref().expect("built above");
        let offsets = eu.re_offsets();
        let nblocks = offsets.len() - 1;
        let nre = offsets[nblocks];
        let l = eu.l_blocks();
        if !fast {
            forward_solve(l, &offsets, nblocks, x);
            backward_solve_transposed(l, &offsets, nblocks, x);
            return Ok(());
        }
        // H_J = [H C; Cᵀ XᵀDX], C = ΛᵀZᵀDX. With H = L Lᵀ and F = L⁻¹C:
        // S = XᵀDX − FᵀF, y = L⁻¹x_u, x_β ← S⁻¹(x_β − Fᵀy), x_u ← L⁻ᵀ(y − F x_β).
        let terms = &self.terms;
        let p = x.len() - nre;
        let mut f = vec![0.0; nre * p];
        let mut dx = vec![0.0; d.len()];
        let mut s = vec![0.0; p * p];
        for j in 0..p {
            let xj = terms.fixed.column(j);
            dx.iter_mut()
                .zip(xj.iter().zip(d))
                .for_each(|(o, (x, d))| *o = x * d);
            for k in 0..=j {
                s[j * p + k] = dot(terms.fixed.column(k), &dx);
            }
            let fj = &mut f[j * nre..(j + 1) * nre];
            add_lambda_t_z_t(terms, eu.lambdas(), &dx, fj);
            forward_solve(l, &offsets, nblocks, fj);
        }
        for j in 0..p {
            for k in 0..=j {
                s[j * p + k] -= dot(&f[j * nre..(j + 1) * nre], &f[k * nre..(k + 1) * nre]);
            }
        }
        let (xu, xb) = x.split_at_mut(nre);
        forward_solve(l, &offsets, nblocks, xu);
        for (j, b) in xb.iter_mut().enumerate() {
            *b -= dot(&f[j * nre..(j + 1) * nre], xu);
        }
        cholesky_solve_lower(&mut s, p, xb)?;
        for (j, b) in xb.iter().enumerate() {
            for (u, fj) in xu.iter_mut().zip(&f[j * nre..(j + 1) * nre]) {
                *u -= fj * b;
            }
        }
        backward_solve_transposed(l, &offsets, nblocks, xu);
        Ok(())
    }
}

/// dV/dμ of the family's variance function.
fn variance_derivative(family: Family, mu: f64) -> f64 {
    match family {
        Family::Bernoulli | Family::Binomial => 1.0 - 2.0 * mu,
        Family::Poisson => 1.0,
        // (The dispersion families are fitted without this gradient.)
        Family::Gamma => 2.0 * mu,
        Family::InverseGaussian => 3.0 * mu * mu,
        Family::Gaussian => 0.0,
        Family::NegativeBinomial => 1.0 + 2.0 * mu,
    }
}

/// d²μ/dη² at η, given μ = g⁻¹(η) and `me` = dμ/dη there.
fn mu_eta_derivative(link: Link, eta: f64, mu: f64, me: f64) -> f64 {
    match link {
        Link::Logit => me * (1.0 - 2.0 * mu),
        Link::Probit => -eta * me,
        Link::Cloglog => me * (1.0 - eta.min(700.0).exp()),
        Link::Log => me,
        Link::Identity => 0.0,
        Link::Inverse => 2.0 / (eta * eta * eta),
        Link::Sqrt => 2.0,
        Link::InverseSquare => 0.75 * eta.powf(-2.5),
    }
}

/// out += ΛᵀZᵀa (stacked term by term, per term column-major v × ℓ).
fn add_lambda_t_z_t(terms: &ModelTerms, lambdas: &[Vec<f64>], a: &[f64], out: &mut [f64]) {
    let mut offset = 0;
    for (term, lam) in terms.random.iter().zip(lambdas) {
        let v = term.ncols();
        let o = &mut out[offset..offset + term.nranef()];
        offset += term.nranef();
        if v == 1 {
            let lam = lam[0];
            for ((&ai, &z), &l) in a.iter().zip(&term.z).zip(&term.refs) {
                o[l as usize] += lam * z * ai;
            }
            continue;
        }
        for (i, &ai) in a.iter().enumerate() {
            let l = term.refs[i] as usize;
            let zi = &term.z[i * v..(i + 1) * v];
            for r in 0..v {
                // (λᵀzᵢ)_r, λ lower triangular and column-major.
                let val: f64 = (r..v).map(|c| lam[r * v + c] * zi[c]).sum();
                o[l * v + r] += val * ai;
            }
        }
    }
}

/// out ← Z_tᵀa for one term (column-major v × ℓ), resized as needed.
fn zt_times(term: &crate::terms::ReTerm, a: &[f64], out: &mut Vec<f64>) {
    let v = term.ncols();
    out.clear();
    out.resize(term.nranef(), 0.0);
    for (i, (&l, &ai)) in term.refs.iter().zip(a).enumerate() {
        let dst = &mut out[l as usize * v..(l as usize + 1) * v];
        for (d, z) in dst.iter_mut().zip(&term.z[i * v..(i + 1) * v]) {
            *d += z * ai;
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Solve S x = b in place for a small symmetric positive definite S (its
/// lower triangle row-major p × p, overwritten by its Cholesky factor).
fn cholesky_solve_lower(s: &mut [f64], p: usize, b: &mut [f64]) -> Result<()> {
    for j in 0..p {
        let mut djj = s[j * p + j];
        for k in 0..j {
            djj -= s[j * p + k] * s[j * p + k];
        }
        if djj.is_nan() || djj <= 0.0 {
            return Err(Error::NotPositiveDefinite {
                term: "the fixed effects (Hessian of the penalised deviance)".into(),
                row: j,
            });
        }
        let djj = djj.sqrt();
        s[j * p + j] = djj;
        for i in j + 1..p {
            let mut sij = s[i * p + j];
            for k in 0..j {
                sij -= s[i * p + k] * s[j * p + k];
            }
            s[i * p + j] = sij / djj;
        }
    }
    for i in 0..p {
        let mut v = b[i];
        for k in 0..i {
            v -= s[i * p + k] * b[k];
        }
        b[i] = v / s[i * p + i];
    }
    for i in (0..p).rev() {
        let mut v = b[i];
        for k in i + 1..p {
            v -= s[k * p + i] * b[k];
        }
        b[i] = v / s[i * p + i];
    }
    Ok(())
}
