//! The main iteration of BOBYQA (Powell 2009, §1 outline; details in §2–§4).
//!
//! Each pass computes a trust-region step (§3).  A step that is long enough
//! is evaluated and replaces an interpolation point chosen to keep the
//! denominator of the `H` update large (§4); the radius Δ is revised from the
//! ratio of actual to predicted reduction.  A short step, or a poor ratio,
//! leads either to a geometry step that replaces the point farthest from
//! `x_opt` (§3), or to a reduction of the lower bound ρ on Δ once the model
//! is known to be accurate enough at the current scale.  The run ends when
//! ρ would fall below `rho_end`.
//!
//! Powell's RESCUE procedure (§5), which repairs `H` after severe rounding
//! errors, is not implemented: in the rare event that a denominator of the
//! update is unacceptable, the interpolation set is rebuilt around `x_opt`
//! with spacing ρ exactly as at the start (§2), at the cost of `npt − 1`
//! evaluations.

use super::altmov::geometry_candidates;
use super::design::Design;
use super::model::{dist_sq, dot, Model};
use super::objective::Objective;
use super::trsbox::{trsbox, TrStep};
use crate::optim::ReturnCode;

/// Parameters of one run, already checked and adapted to the problem.
#[derive(Debug, Clone)]
pub(super) struct Settings {
    pub rho_begin: f64,
    pub rho_end: f64,
    pub npt: usize,
    pub ftol_abs: Option<f64>,
}

/// What the previous iteration did (Powell's `NTRITS`: 0, > 0, −1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LastStep {
    /// Start, ρ reduction, geometry step or restart.
    Reset,
    /// An evaluated trust-region step.
    TrustRegion,
    /// A trust-region step too short to be worth evaluating.
    Short,
}

/// The next stage of the iteration.
#[derive(Debug)]
enum Action {
    TrustRegion,
    /// Consider a geometry step for points farther than `sqrt(distsq)`.
    Geometry(f64),
    ReduceRho,
    Finish(ReturnCode),
}

/// Minimise from `x0` (free variables, already adjusted as in report §2).
pub(super) fn run(
    settings: &Settings,
    obj: &mut Objective<'_>,
    x0: Vec<f64>,
    lower: &[f64],
    upper: &[f64],
) -> ReturnCode {
    let init = build_model(
        obj,
        lower,
        upper,
        x0,
        settings.rho_begin,
        settings.npt,
        None,
    );
    let model = match init {
        Ok(model) => model,
        Err(code) => return code,
    };
    let nf = obj.evaluations();
    let mut driver = Driver {
        settings,
        obj,
        lower,
        upper,
        model,
        rho: settings.rho_begin,
        delta: settings.rho_begin,
        last: LastStep::Reset,
        short_xnew: None,
        dnorm: 0.0,
        ratio: 1.0,
        diffs: [0.0; 3],
        nfsav: nf,
        itest: 0,
        restarted_at: None,
    };
    driver.iterate()
}

/// Evaluate the initial set of [`Design`] around `xbase` and build its model.
/// With `f_base` given, the base point is not evaluated again.
fn build_model(
    obj: &mut Objective<'_>,
    lower: &[f64],
    upper: &[f64],
    xbase: Vec<f64>,
    rho: f64,
    npt: usize,
    f_base: Option<f64>,
) -> Result<Model, ReturnCode> {
    let sl: Vec<f64> = lower.iter().zip(&xbase).map(|(l, x)| l - x).collect();
    let su: Vec<f64> = upper.iter().zip(&xbase).map(|(u, x)| u - x).collect();
    let mut design = Design::new(&sl, &su, rho, npt);
    let mut raw = Vec::with_capacity(npt);
    let eval = |obj: &mut Objective<'_>, design: &Design, k: usize| {
        let x = absolute(&xbase, &design.point(k), &sl, &su, lower, upper);
        obj.eval(&x).ok_or(ReturnCode::MaxEvaluations)
    };
    raw.push(match f_base {
        Some(f) => f,
        None => eval(obj, &design, 0)?,
    });
    for k in 1..design.axis_points() {
        raw.push(eval(obj, &design, k)?);
    }
    design.prefer_lower_values(&mut raw);
    for k in design.axis_points()..npt {
        raw.push(eval(obj, &design, k)?);
    }
    if !obj.best_f().is_finite() {
        return Err(ReturnCode::Failure(
            "the objective was not finite at any initial interpolation point".into(),
        ));
    }
    let fval = raw.iter().map(|&v| obj.model_value(v)).collect();
    Ok(Model::from_design(xbase, sl, su, &design, fval))
}

/// The caller's coordinates of `base + xrel`, forced into the box; a
/// component on a relative bound is put exactly on the bound.
fn absolute(
    base: &[f64],
    xrel: &[f64],
    sl: &[f64],
    su: &[f64],
    lower: &[f64],
    upper: &[f64],
) -> Vec<f64> {
    (0..base.len())
        .map(|i| {
            if xrel[i] <= sl[i] {
                lower[i]
            } else if xrel[i] >= su[i] {
                upper[i]
            } else {
                (base[i] + xrel[i]).max(lower[i]).min(upper[i])
            }
        })
        .collect()
}

struct Driver<'s, 'o, 'f> {
    settings: &'s Settings,
    obj: &'o mut Objective<'f>,
    lower: &'s [f64],
    upper: &'s [f64],
    model: Model,
    rho: f64,
    delta: f64,
    last: LastStep,
    /// The last short trust-region step, evaluated at the end if unused.
    short_xnew: Option<Vec<f64>>,
    /// Length of the last evaluated trust-region step, and its ratio of
    /// actual to predicted reduction.
    dnorm: f64,
    ratio: f64,
    /// `|f − Q|` at the three most recent new points (report §1).
    diffs: [f64; 3],
    /// Evaluation count at the last ρ reduction or step longer than ρ.
    nfsav: usize,
    /// Consecutive iterations in which the minimum-norm model looked better.
    itest: usize,
    /// Evaluation count just after the last restart.
    restarted_at: Option<usize>,
}

impl Driver<'_, '_, '_> {
    fn iterate(&mut self) -> ReturnCode {
        // Every cycle of stages evaluates f or reduces ρ; the cap is a guard.
        let cap = self
            .obj
            .max_evaluations()
            .saturating_add(1000)
            .saturating_mul(10);
        let mut action = Action::TrustRegion;
        for _ in 0..cap {
            action = match action {
                Action::TrustRegion => self.trust_region_iteration(),
                Action::Geometry(distsq) => self.geometry_check(distsq),
                Action::ReduceRho => self.reduce_rho(),
                Action::Finish(code) => return code,
            };
        }
        ReturnCode::Failure("iteration limit exceeded".into())
    }

    /// Evaluate at `xrel` (relative to the base); the value for the model.
    fn evaluate(&mut self, xrel: &[f64]) -> Option<f64> {
        let m = &self.model;
        let x = absolute(&m.xbase, xrel, &m.sl, &m.su, self.lower, self.upper);
        let raw = self.obj.eval(&x)?;
        Some(self.obj.model_value(raw))
    }

    fn record_error(&mut self, diff: f64) {
        self.diffs = [diff.abs(), self.diffs[0], self.diffs[1]];
    }

    /// Move the base to `x_opt` when the step is tiny compared with
    /// `‖x_opt‖` (report §4); returns the shift so that points computed
    /// relative to the old base can be moved too.
    fn maybe_shift_base(&mut self, dsq: f64) -> Option<Vec<f64>> {
        let xopt = self.model.xopt();
        if dsq <= 1e-3 * dot(xopt, xopt) {
            let s = xopt.to_vec();
            self.model.shift_base();
            Some(s)
        } else {
            None
        }
    }

    /// One trust-region iteration (report §1, §3, §4).
    fn trust_region_iteration(&mut self) -> Action {
        let mut step = trsbox(&self.model, self.delta);
        let dsq = dot(&step.d, &step.d);
        let dnorm = dsq.sqrt().min(self.delta);
        let vquad = self.model.predicted_change(&step.d);
        if dnorm < 0.5 * self.rho || vquad >= 0.0 || vquad.is_nan() {
            return self.short_step(step);
        }
        self.last = LastStep::TrustRegion;
        self.dnorm = dnorm;
        if let Some(s) = self.maybe_shift_base(dsq) {
            for (x, si) in step.xnew.iter_mut().zip(&s) {
                *x += -si;
            }
        }
        let (vlag, beta) = self.model.lagrange(&step.d);
        let xopt = self.model.xopt().to_vec();
        let Some(mut knew) = self.choose_replacement(&vlag, beta, &xopt) else {
            return self.restart();
        };
        let fopt = self.model.fopt();
        let Some(f) = self.evaluate(&step.xnew) else {
            return Action::Finish(ReturnCode::MaxEvaluations);
        };
        let diff = f - fopt - vquad;
        self.record_error(diff);
        if dnorm > self.rho {
            self.nfsav = self.obj.evaluations();
        }
        // Revise Δ from the ratio of actual to predicted reduction.
        self.ratio = (fopt - f) / -vquad;
        self.delta = if self.ratio <= 0.1 {
            (0.5 * self.delta).min(dnorm)
        } else if self.ratio <= 0.7 {
            (0.5 * self.delta).max(dnorm)
        } else {
            (0.5 * self.delta).max(2.0 * dnorm)
        };
        if self.delta <= 1.5 * self.rho {
            self.delta = self.rho;
        }
        // With a new best point, distances are measured from it instead.
        if f < fopt {
            if let Some(k) = self.choose_replacement(&vlag, beta, &step.xnew) {
                knew = k;
            }
        }
        if !self.model.replace(knew, &step.xnew, f, diff, vlag, beta) {
            return self.restart();
        }
        self.check_min_norm_model();
        if let Some(tol) = self.settings.ftol_abs {
            if f < fopt && fopt - f < tol {
                return Action::Finish(ReturnCode::FtolReached);
            }
        }
        if f <= fopt + 0.1 * vquad {
            return Action::TrustRegion;
        }
        let distsq = (2.0 * self.delta).powi(2).max((10.0 * self.rho).powi(2));
        Action::Geometry(distsq)
    }

    /// A step shorter than ρ/2 is not evaluated.  ρ is reduced only if the
    /// recent model errors are small compared with the curvature on the
    /// scale ρ and no bound that the step touches might be the wrong one to
    /// hold (report §1); otherwise the geometry is improved first.
    fn short_step(&mut self, step: TrStep) -> Action {
        self.last = LastStep::Short;
        let rho = self.rho;
        let distsq = (10.0 * rho).powi(2);
        let accurate = self.obj.evaluations() > self.nfsav + 2 && {
            let errbig = self.diffs.iter().fold(0.0f64, |m, &e| m.max(e));
            let curvature_ok = !(step.crvmin > 0.0 && errbig > 0.125 * rho * rho * step.crvmin);
            let bdtol = errbig / rho;
            let bounds_ok = (0..self.model.n).all(|j| {
                let bdtest = if step.xnew[j] == self.model.sl[j] {
                    step.gnew[j]
                } else if step.xnew[j] == self.model.su[j] {
                    -step.gnew[j]
                } else {
                    return true;
                };
                bdtest >= bdtol || bdtest + 0.5 * self.model.hess_diag(j) * rho >= bdtol
            });
            curvature_ok && bounds_ok
        };
        self.short_xnew = Some(step.xnew);
        if accurate {
            Action::ReduceRho
        } else {
            Action::Geometry(distsq)
        }
    }

    /// The point to replace by `x_opt + d` (report §4): the one maximising
    /// `max(1, (‖y_k − ref‖/Δ)⁴) σ_k` with `σ_k = Ω_kk β + ℓ_k²`, where
    /// `ref` is `x_opt`, or the new point once it is known to be better.
    /// The current `x_opt` itself is never replaced, even when the new point
    /// is better: keeping the previous best point (rather than a distant
    /// one) saved about a quarter of the evaluations on our test problems.
    /// `None` when rounding errors have made the denominators unreliable.
    fn choose_replacement(&self, vlag: &[f64], beta: f64, reference: &[f64]) -> Option<usize> {
        let m = &self.model;
        let delsq = self.delta * self.delta;
        let (mut best, mut scaden, mut biglsq) = (None, 0.0, 0.0f64);
        for k in (0..m.npt).filter(|&k| k != m.kopt) {
            let den = beta * m.omega_diag(k) + vlag[k] * vlag[k];
            let weight = (dist_sq(m.xpt.row(k), reference) / delsq).powi(2).max(1.0);
            if weight * den > scaden {
                scaden = weight * den;
                best = Some(k);
            }
            biglsq = biglsq.max(weight * vlag[k] * vlag[k]);
        }
        if scaden <= 0.5 * biglsq || !scaden.is_finite() {
            return None;
        }
        best
    }

    /// Replace the model by the minimum-Frobenius-norm interpolant when its
    /// projected gradient has been much smaller than that of the current
    /// model in three consecutive trust-region iterations.
    fn check_min_norm_model(&mut self) {
        let (g, lambda) = self.model.min_norm_model();
        let m = &self.model;
        let xopt = m.xopt();
        let projected = |g: &[f64]| -> f64 {
            (0..m.n)
                .map(|i| {
                    let gi = if xopt[i] <= m.sl[i] {
                        g[i].min(0.0)
                    } else if xopt[i] >= m.su[i] {
                        g[i].max(0.0)
                    } else {
                        g[i]
                    };
                    gi * gi
                })
                .sum()
        };
        if projected(&m.gopt) < 10.0 * projected(&g) {
            self.itest = 0;
        } else {
            self.itest += 1;
        }
        if self.itest >= 3 {
            self.model.use_min_norm_model(g, lambda);
            self.itest = 0;
        }
    }

    /// Replace the point farthest from `x_opt` if it is farther than
    /// `sqrt(distsq)`; otherwise continue or reduce ρ (report §1).
    fn geometry_check(&mut self, distsq: f64) -> Action {
        let (knew, farthest) = self.model.farthest_point();
        if farthest > distsq {
            let dist = farthest.sqrt();
            if self.last == LastStep::Short {
                self.delta = (0.1 * self.delta).min(0.5 * dist);
                if self.delta <= 1.5 * self.rho {
                    self.delta = self.rho;
                }
            }
            self.last = LastStep::Reset;
            let adelt = (0.1 * dist).min(self.delta).max(self.rho);
            return self.geometry_step(knew, adelt);
        }
        if self.last == LastStep::Short {
            return Action::ReduceRho;
        }
        if self.ratio > 0.0 || self.delta.max(self.dnorm) > self.rho {
            return Action::TrustRegion;
        }
        Action::ReduceRho
    }

    /// Replace `y_knew` by the better of the candidates of
    /// [`geometry_candidates`]: the line point is judged by its denominator
    /// `σ`, the Cauchy point by `τ²`, as in the report.
    fn geometry_step(&mut self, knew: usize, adelt: f64) -> Action {
        self.maybe_shift_base(adelt * adelt);
        let cands = geometry_candidates(&self.model, knew, adelt);
        let alpha = self.model.omega_diag(knew);
        let assess = |x: Vec<f64>| {
            let d: Vec<f64> = x
                .iter()
                .zip(self.model.xopt())
                .map(|(a, b)| a - b)
                .collect();
            let (vlag, beta) = self.model.lagrange(&d);
            let tau = vlag[knew];
            let sigma = alpha * beta + tau * tau;
            (x, d, vlag, beta, tau, sigma)
        };
        let line = cands.line.map(assess).map(|c| (c.5, c));
        let cauchy = cands.cauchy.map(assess).map(|c| (c.4 * c.4, c));
        let mut options: Vec<_> = line.into_iter().chain(cauchy).collect();
        options.sort_by(|a, b| b.0.total_cmp(&a.0));
        let chosen = options.into_iter().map(|o| o.1).find(|c| {
            let (tau, sigma) = (c.4, c.5);
            sigma.is_finite() && sigma > 0.0 && sigma > 0.5 * tau * tau
        });
        let Some((xnew, d, vlag, beta, _, _)) = chosen else {
            return self.restart();
        };
        let fopt = self.model.fopt();
        let vquad = self.model.predicted_change(&d);
        let Some(f) = self.evaluate(&xnew) else {
            return Action::Finish(ReturnCode::MaxEvaluations);
        };
        let diff = f - fopt - vquad;
        self.record_error(diff);
        if !self.model.replace(knew, &xnew, f, diff, vlag, beta) {
            return self.restart();
        }
        Action::TrustRegion
    }

    /// Reduce ρ (report §1), or finish when it has reached `rho_end`.
    fn reduce_rho(&mut self) -> Action {
        let rho_end = self.settings.rho_end;
        if self.rho > rho_end {
            self.delta = 0.5 * self.rho;
            let ratio = self.rho / rho_end;
            self.rho = if ratio <= 16.0 {
                rho_end
            } else if ratio <= 250.0 {
                ratio.sqrt() * rho_end
            } else {
                0.1 * self.rho
            };
            self.delta = self.delta.max(self.rho);
            self.last = LastStep::Reset;
            self.nfsav = self.obj.evaluations();
            return Action::TrustRegion;
        }
        // As in the report, a final short step is still tried (unless it is
        // no step at all).
        if self.last == LastStep::Short {
            if let Some(x) = self.short_xnew.take().filter(|x| x != self.model.xopt()) {
                if self.evaluate(&x).is_none() {
                    return Action::Finish(ReturnCode::MaxEvaluations);
                }
            }
        }
        Action::Finish(ReturnCode::Converged)
    }

    /// Rebuild the interpolation set around `x_opt` with spacing ρ (the
    /// replacement for RESCUE, see the module documentation).
    fn restart(&mut self) -> Action {
        let nf = self.obj.evaluations();
        if self.restarted_at == Some(nf) {
            return Action::Finish(ReturnCode::Failure(
                "rounding errors in the interpolation matrices prevent further progress".into(),
            ));
        }
        let m = &self.model;
        let xbase = absolute(&m.xbase, m.xopt(), &m.sl, &m.su, self.lower, self.upper);
        let fopt = m.fopt();
        let rebuilt = build_model(
            self.obj,
            self.lower,
            self.upper,
            xbase,
            self.rho,
            self.settings.npt,
            Some(fopt),
        );
        match rebuilt {
            Ok(model) => self.model = model,
            Err(code) => return Action::Finish(code),
        }
        let nf = self.obj.evaluations();
        self.restarted_at = Some(nf);
        self.nfsav = nf;
        self.last = LastStep::Reset;
        self.diffs = [0.0; 3];
        self.itest = 0;
        self.delta = self.delta.max(self.rho);
        Action::TrustRegion
    }
}

#[cfg(test)]
mod tests {
    use super::super::objective::Transform;
    use super::*;

    /// The replacement for RESCUE: rebuilding around `x_opt` costs `npt − 1`
    /// evaluations, keeps `x_opt`, and the run still converges; a second
    /// restart without progress in between is reported as a failure.
    #[test]
    fn restart_rebuilds_the_set_around_the_best_point() {
        let mut f = |x: &[f64]| (x[0] - 0.3).powi(2) + 2.0 * (x[1] + 0.2).powi(2) + x[0] * x[1];
        let (lower, upper) = ([0.0, f64::NEG_INFINITY], [f64::INFINITY; 2]);
        let transform = Transform {
            scale: vec![1.0; 2],
            symmetries: Vec::new(),
            lower: lower.to_vec(),
            upper: upper.to_vec(),
        };
        let mut obj = Objective::new(&mut f, vec![1.0, 1.0], vec![0, 1], 10_000, None, transform);
        let settings = Settings {
            rho_begin: 0.5,
            rho_end: 1e-8,
            npt: 5,
            ftol_abs: None,
        };
        let model = build_model(&mut obj, &lower, &upper, vec![1.0, 1.0], 0.5, 5, None).unwrap();
        let nf = obj.evaluations();
        let mut driver = Driver {
            settings: &settings,
            obj: &mut obj,
            lower: &lower,
            upper: &upper,
            model,
            rho: 0.5,
            delta: 0.5,
            last: LastStep::Reset,
            short_xnew: None,
            dnorm: 0.0,
            ratio: 1.0,
            diffs: [0.0; 3],
            nfsav: nf,
            itest: 0,
            restarted_at: None,
        };
        for _ in 0..4 {
            driver.trust_region_iteration();
        }
        let best = driver.model.fopt();
        let before = driver.obj.evaluations();
        assert!(matches!(driver.restart(), Action::TrustRegion));
        assert_eq!(driver.obj.evaluations(), before + 4);
        assert_eq!(driver.model.fopt(), best);
        assert!(matches!(
            driver.restart(),
            Action::Finish(ReturnCode::Failure(_))
        ));
        driver.restarted_at = None;
        assert_eq!(driver.iterate(), ReturnCode::Converged);
        let x = driver.obj.best_full_x();
        // Minimiser of the quadratic: 2(x0 − 0.3) + x1 = 0, 4(x1 + 0.2) + x0 = 0.
        assert!((x[0] - 3.2 / 7.0).abs() < 1e-6, "{x:?}");
        assert!((x[1] + 1.1 / 3.5).abs() < 1e-6, "{x:?}");
    }
}
