//! The trust-region subproblem with bounds (Powell 2009, §3):
//! approximately minimise `Q(x_opt + d)` subject to `‖d‖ ≤ Δ` and
//! `sl ≤ x_opt + d ≤ su`.
//!
//! The method is the one of the report: truncated conjugate gradients on the
//! free variables, where a variable that reaches a bound is fixed there and
//! the CG iterations restart; once `d` reaches the trust-region boundary, `d`
//! is improved by searches round the boundary in the plane of `d` and the
//! reduced gradient, again fixing variables that reach bounds.

use super::model::{dot, Model};

/// State of a variable in the active-set iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Activity {
    Free,
    Lower,
    Upper,
}

/// An approximate solution of the subproblem.
#[derive(Debug, Clone)]
pub(super) struct TrStep {
    /// The step, `xnew − x_opt`.
    pub d: Vec<f64>,
    /// `x_opt + d` relative to the base, with variables fixed at a bound set
    /// exactly to the bound.
    pub xnew: Vec<f64>,
    /// The model gradient at `x_opt + d`.
    pub gnew: Vec<f64>,
    /// The least curvature `sᵀ∇²Q s / ‖s‖²` met along the CG directions when
    /// the step is interior, 0 when it reaches the boundary, and −1 when no
    /// curvature was measured.
    pub crvmin: f64,
}

/// Solve the trust-region subproblem of radius `delta` for `model`.
pub(super) fn trsbox(model: &Model, delta: f64) -> TrStep {
    let n = model.n;
    let xopt = model.xopt();
    let (sl, su) = (&model.sl[..], &model.su[..]);
    let mut g = model.gopt.clone();
    let mut d = vec![0.0; n];
    let mut s = vec![0.0; n];
    let mut hs = vec![0.0; n];
    // Variables on a bound whose gradient pushes outwards stay fixed.
    let mut act: Vec<Activity> = (0..n)
        .map(|i| {
            if xopt[i] <= sl[i] && g[i] >= 0.0 {
                Activity::Lower
            } else if xopt[i] >= su[i] && g[i] <= 0.0 {
                Activity::Upper
            } else {
                Activity::Free
            }
        })
        .collect();
    let mut nact = act.iter().filter(|&&a| a != Activity::Free).count();
    let free = |act: &[Activity], i: usize| act[i] == Activity::Free;
    // `delsq` is Δ² less the squares of the fixed components of d.
    let mut delsq = delta * delta;
    let mut qred = 0.0;
    let mut crvmin = -1.0;
    let mut on_boundary = false;

    // Truncated conjugate gradients.
    let mut beta = 0.0;
    let mut gredsq = 0.0;
    let mut iterc = 0usize;
    let mut itermax = 0usize;
    loop {
        let mut stepsq = 0.0;
        for i in 0..n {
            s[i] = if free(&act, i) {
                beta * s[i] - g[i]
            } else {
                0.0
            };
            stepsq += s[i] * s[i];
        }
        if stepsq == 0.0 {
            break;
        }
        if beta == 0.0 {
            gredsq = stepsq;
            itermax = iterc + n - nact;
        }
        if gredsq * delsq <= 1e-4 * qred * qred {
            break;
        }
        model.hess_vec(&s, &mut hs);
        let (mut resid, mut ds) = (delsq, 0.0);
        for i in (0..n).filter(|&i| free(&act, i)) {
            resid -= d[i] * d[i];
            ds += d[i] * s[i];
        }
        if resid <= 0.0 {
            on_boundary = true;
            break;
        }
        let shs = dot(&s, &hs);
        // Distance along s to the trust-region boundary.
        let root = (stepsq * resid + ds * ds).sqrt();
        let blen = if ds < 0.0 {
            (root - ds) / stepsq
        } else {
            resid / (root + ds)
        };
        let mut stplen = if shs > 0.0 {
            blen.min(gredsq / shs)
        } else {
            blen
        };
        let mut hit = None;
        for i in (0..n).filter(|&i| free(&act, i) && s[i] != 0.0) {
            let room = if s[i] > 0.0 { su[i] } else { sl[i] } - xopt[i] - d[i];
            let t = room / s[i];
            if t < stplen {
                stplen = t;
                hit = Some(i);
            }
        }
        let ggsav = gredsq;
        let mut sdec = 0.0;
        if stplen > 0.0 {
            iterc += 1;
            let curv = shs / stepsq;
            if hit.is_none() && curv > 0.0 {
                crvmin = if crvmin < 0.0 { curv } else { crvmin.min(curv) };
            }
            gredsq = 0.0;
            for i in 0..n {
                g[i] += stplen * hs[i];
                if free(&act, i) {
                    d[i] += stplen * s[i];
                    gredsq += g[i] * g[i];
                }
            }
            sdec = (stplen * (ggsav - 0.5 * stplen * shs)).max(0.0);
            qred += sdec;
        }
        if let Some(i) = hit {
            act[i] = if s[i] > 0.0 {
                Activity::Upper
            } else {
                Activity::Lower
            };
            nact += 1;
            delsq -= d[i] * d[i];
            if delsq <= 0.0 {
                break;
            }
            beta = 0.0;
            continue;
        }
        if stplen < blen {
            if iterc >= itermax || sdec <= 0.01 * qred {
                break;
            }
            beta = gredsq / ggsav;
            continue;
        }
        on_boundary = true;
        break;
    }

    if on_boundary {
        crvmin = 0.0;
        boundary_search(model, &mut act, nact, &mut d, &mut g, qred);
    }

    let mut xnew = vec![0.0; n];
    for i in 0..n {
        xnew[i] = match act[i] {
            Activity::Lower => sl[i],
            Activity::Upper => su[i],
            Activity::Free => (xopt[i] + d[i]).max(sl[i]).min(su[i]),
        };
        d[i] = xnew[i] - xopt[i];
    }
    TrStep {
        d,
        xnew,
        gnew: g,
        crvmin,
    }
}

/// The second phase of the report's §3: with `‖d‖ = Δ`, replace the free part
/// of `d` by `cos θ d + sin θ s`, where `s ⊥ d` lies in the plane of `d` and
/// the reduced gradient and `‖s‖ = ‖d‖`; θ is chosen by sampling the
/// reduction at values of `tan(θ/2)` and interpolating, subject to the
/// bounds, which may fix further variables.
fn boundary_search(
    model: &Model,
    act: &mut [Activity],
    mut nact: usize,
    d: &mut [f64],
    g: &mut [f64],
    mut qred: f64,
) {
    let n = model.n;
    let xopt = model.xopt();
    let (sl, su) = (&model.sl[..], &model.su[..]);
    let mut s = vec![0.0; n];
    let mut hs = vec![0.0; n];
    let mut hred = vec![0.0; n];
    let mut dfree = vec![0.0; n];
    // Each pass either fixes a variable or must reduce Q by more than 1% of
    // the total so far; the cap only guards against rounding pathologies.
    for _ in 0..(4 * n + 20) {
        if nact + 1 >= n {
            return;
        }
        let (mut dredsq, mut dredg, mut gredsq) = (0.0, 0.0, 0.0);
        for i in (0..n).filter(|&i| act[i] == Activity::Free) {
            dredsq += d[i] * d[i];
            dredg += d[i] * g[i];
            gredsq += g[i] * g[i];
        }
        let temp = gredsq * dredsq - dredg * dredg;
        if temp <= 1e-4 * qred * qred || dredsq <= 0.0 {
            return;
        }
        let temp = temp.sqrt();
        for i in 0..n {
            s[i] = if act[i] == Activity::Free {
                (dredg * d[i] - dredsq * g[i]) / temp
            } else {
                0.0
            };
        }
        let sredg = -temp;

        // Largest tan(θ/2) in (0, 1] before a free variable leaves the box.
        let mut angbd = 1.0;
        let mut hit = None;
        let mut fixed_now = false;
        for i in 0..n {
            if act[i] != Activity::Free {
                continue;
            }
            let tempa = xopt[i] + d[i] - sl[i];
            let tempb = su[i] - xopt[i] - d[i];
            if tempa <= 0.0 || tempb <= 0.0 {
                act[i] = if tempa <= 0.0 {
                    Activity::Lower
                } else {
                    Activity::Upper
                };
                nact += 1;
                fixed_now = true;
                break;
            }
            let ssq = d[i] * d[i] + s[i] * s[i];
            let t = ssq - (xopt[i] - sl[i]).powi(2);
            if t > 0.0 {
                let t = t.sqrt() - s[i];
                if angbd * t > tempa {
                    angbd = tempa / t;
                    hit = Some((i, Activity::Lower));
                }
            }
            let t = ssq - (su[i] - xopt[i]).powi(2);
            if t > 0.0 {
                let t = t.sqrt() + s[i];
                if angbd * t > tempb {
                    angbd = tempb / t;
                    hit = Some((i, Activity::Upper));
                }
            }
        }
        if fixed_now {
            continue;
        }

        for i in 0..n {
            dfree[i] = if act[i] == Activity::Free { d[i] } else { 0.0 };
        }
        model.hess_vec(&dfree, &mut hred);
        model.hess_vec(&s, &mut hs);
        let shs = dot(&s, &hs);
        let dhs = dot(&dfree, &hs);
        let dhd = dot(&dfree, &hred);
        // Reduction of Q at tan(θ/2) = t.
        let reduction = |t: f64| {
            let sth = 2.0 * t / (1.0 + t * t);
            let curv = shs + t * (t * dhd - 2.0 * dhs);
            sth * (t * dredg - sredg - 0.5 * sth * curv)
        };
        let iu = (17.0 * angbd + 3.1) as usize;
        let (mut isav, mut redmax, mut rdprev, mut rdnext, mut prev) = (0, 0.0, 0.0, 0.0, 0.0);
        for i in 1..=iu {
            let r = reduction(angbd * i as f64 / iu as f64);
            if r > redmax {
                redmax = r;
                isav = i;
                rdprev = prev;
            } else if i == isav + 1 {
                rdnext = r;
            }
            prev = r;
        }
        if isav == 0 {
            return;
        }
        let mut t = angbd;
        if isav < iu {
            let den = 2.0 * redmax - rdprev - rdnext;
            let frac = if den > 0.0 {
                (rdnext - rdprev) / den
            } else {
                0.0
            };
            t = angbd * (isav as f64 + 0.5 * frac) / iu as f64;
        }
        let cth = (1.0 - t * t) / (1.0 + t * t);
        let sth = 2.0 * t / (1.0 + t * t);
        let sdec = reduction(t);
        if sdec <= 0.0 {
            return;
        }
        for i in 0..n {
            g[i] += (cth - 1.0) * hred[i] + sth * hs[i];
            if act[i] == Activity::Free {
                d[i] = cth * d[i] + sth * s[i];
            }
        }
        qred += sdec;
        if let Some((i, side)) = hit {
            if isav == iu {
                act[i] = side;
                nact += 1;
                continue;
            }
        }
        if sdec <= 0.01 * qred {
            return;
        }
    }
}
