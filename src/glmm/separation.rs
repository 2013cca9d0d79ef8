//! Detecting separation: fixed effects that predict the response perfectly
//! for some observations (a level of a factor whose responses are all 0, a
//! covariate above which every response is 1, a Poisson level with only
//! zero counts). The likelihood then keeps increasing as the coefficients
//! move along a direction d with (Xd)ᵢ pushing those observations' fitted
//! values to the bound, so no finite estimate exists; the random effects,
//! being penalised, cannot absorb it.
//!
//! The check fits the fixed-effects part alone (a GLM with the model's
//! offset and prior weights) by iteratively reweighted least squares. Without
//! separation IRLS converges quadratically; with it the iterates keep moving
//! along d (each step moves a separated linear predictor by up to about one
//! unit towards ±∞) while fitted values reach the bound of the mean. The
//! coefficients whose columns carry d are named.

use faer::linalg::solvers::Solve;
use faer::{Mat, Side};

use super::{Family, GeneralizedLinearMixedModel};
use crate::error::Error;

/// IRLS iterations of the check (enough for separated linear predictors to
/// pass ±30, where fitted probabilities are within 1e-13 of 0 or 1).
const ITERATIONS: usize = 40;
/// A fitted mean this close to its bound counts as fitted at the bound.
const AT_BOUND: f64 = 1e-9;
/// The direction of divergence is measured from this iteration to the last.
const EARLY: usize = 10;
/// Separation moves some linear predictor by more than this between
/// iteration [`EARLY`] and the last (a converged fit by less than 1e-6).
const MOVED: f64 = 1.0;
/// A coefficient is named when its share of the direction (|dⱼ|·‖xⱼ‖) is at
/// least this fraction of the largest share.
const SHARE: f64 = 0.1;

/// The outcome of a separation check.
#[derive(Debug, Clone, PartialEq)]
pub struct Separation {
    /// Coefficients along whose columns the fixed-effects fit diverges,
    /// largest share first.
    pub coefficients: Vec<String>,
    /// Observations fitted at the bound of the mean (0 or 1, or 0 counts).
    pub at_bound: usize,
    /// Observations in all.
    pub nobs: usize,
}

impl Separation {
    /// The error reported for a separated model, naming its first coefficient.
    pub fn into_error(self) -> Error {
        Error::Separation {
            coefficients: self.coefficients,
            at_bound: self.at_bound,
            nobs: self.nobs,
        }
    }
}

impl GeneralizedLinearMixedModel {
    /// Check the fixed effects for separation (see the module documentation):
    /// `Some` with the coefficients involved when the fixed-effects-only fit
    /// diverges with observations fitted at the bound of the mean.
    pub fn separation(&self) -> Option<Separation> {
        let x = &self.terms.fixed.x;
        let n = self.eta.len();
        let p = self.beta.len();
        if p == 0 {
            return None;
        }
        let (family, link) = (self.family, self.link);
        let (y, wt) = (&self.resp.y, &self.resp.wt);
        let mut eta: Vec<f64> = (0..n)
            .map(|i| link.linkfun(family.mustart(y[i], wt[i])))
            .collect();
        let mut history: Vec<Vec<f64>> = Vec::with_capacity(ITERATIONS);
        for _ in 0..ITERATIONS {
            // Normal equations of the weighted least-squares step (lower triangle).
            let mut xtwx = Mat::<f64>::zeros(p, p);
            let mut xtwz = Mat::<f64>::zeros(p, 1);
            for i in 0..n {
                let mu = link.linkinv(eta[i]);
                let me = link.mu_eta(eta[i]);
                let w = wt[i] * me * me / family.variance(mu);
                let z = eta[i] - self.offset[i] + (y[i] - mu) / me;
                for a in 0..p {
                    let xa = x[a * n + i] * w;
                    xtwz[(a, 0)] += xa * z;
                    for b in 0..=a {
                        xtwx[(a, b)] += xa * x[b * n + i];
                    }
                }
            }
            // A tiny ridge keeps the factorisation alive when the weights of
            // separated observations underflow towards zero.
            let ridge = 1e-12
                * (0..p)
                    .map(|j| xtwx[(j, j)])
                    .fold(f64::MIN_POSITIVE, f64::max);
            for j in 0..p {
                xtwx[(j, j)] += ridge;
            }
            xtwx.llt(Side::Lower).ok()?.solve_in_place(xtwz.as_mut());
            let beta: Vec<f64> = (0..p).map(|j| xtwz[(j, 0)]).collect();
            for (i, e) in eta.iter_mut().enumerate() {
                *e = self.offset[i] + (0..p).map(|j| x[j * n + i] * beta[j]).sum::<f64>();
            }
            history.push(beta);
        }
        let at_bound = (0..n)
            .filter(|&i| {
                let mu = link.linkinv(eta[i]);
                match family {
                    Family::Bernoulli | Family::Binomial => {
                        (y[i] == 0.0 && mu < AT_BOUND) || (y[i] == 1.0 && mu > 1.0 - AT_BOUND)
                    }
                    Family::Poisson | Family::NegativeBinomial => y[i] == 0.0 && mu < AT_BOUND,
                    Family::Gamma | Family::InverseGaussian | Family::Gaussian => false,
                }
            })
            .count();
        // Without separation IRLS has converged long before the last
        // iterations; with it the separated linear predictors kept moving
        // towards ±∞ (until the bound of the mean, or the ridge, stops them).
        let last = &history[ITERATIONS - 1];
        let d: Vec<f64> = last
            .iter()
            .zip(&history[EARLY])
            .map(|(a, b)| a - b)
            .collect();
        let moved = (0..n)
            .map(|i| (0..p).map(|j| x[j * n + i] * d[j]).sum::<f64>().abs())
            .fold(0.0, f64::max);
        let moving = moved > MOVED;
        let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if at_bound == 0 || !moving {
            return None;
        }
        // Each coefficient's share of the direction, in the scale of its column.
        let shares: Vec<f64> = (0..p)
            .map(|j| d[j].abs() * norm(&x[j * n..(j + 1) * n]))
            .collect();
        let top = shares.iter().cloned().fold(0.0, f64::max);
        let names = self.terms.fixed.coef_names();
        let mut order: Vec<usize> = (0..p).filter(|&j| shares[j] >= SHARE * top).collect();
        order.sort_by(|&a, &b| shares[b].total_cmp(&shares[a]));
        Some(Separation {
            coefficients: order.into_iter().map(|j| names[j].clone()).collect(),
            at_bound,
            nobs: n,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Column, Data};
    use crate::glmm::GlmmOptions;

    /// 200 observations in 10 groups (g) and 3 levels of f; x and z uniform
    /// on (−2, 2) and u uniform on (0, 1) from a fixed generator; y from
    /// `y_of(x, f, u)`.
    fn data(y_of: impl Fn(f64, u32, f64) -> f64) -> Data {
        let mut state: u64 = 7;
        let mut unif = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let n = 200;
        let x: Vec<f64> = (0..n).map(|_| unif() * 4.0 - 2.0).collect();
        let z: Vec<f64> = (0..n).map(|_| unif() * 4.0 - 2.0).collect();
        let u: Vec<f64> = (0..n).map(|_| unif()).collect();
        let g: Vec<u32> = (0..n as u32).map(|i| i % 10).collect();
        let f: Vec<u32> = (0..n as u32).map(|i| (i / 10) % 3).collect();
        let y: Vec<f64> = (0..n).map(|i| y_of(x[i], f[i], u[i])).collect();
        let labels = |k: usize, p: &str| (0..k).map(|i| format!("{p}{i}")).collect();
        Data::new()
            .with_column("y", Column::numeric(y))
            .unwrap()
            .with_column("x", Column::numeric(x))
            .unwrap()
            .with_column("z", Column::numeric(z))
            .unwrap()
            .with_column("g", Column::categorical(g, labels(10, "g")))
            .unwrap()
            .with_column("f", Column::categorical(f, labels(3, "f")))
            .unwrap()
    }

    fn model(formula: &str, d: &Data, family: Family) -> GeneralizedLinearMixedModel {
        GeneralizedLinearMixedModel::new(formula, d, family, None, &GlmmOptions::default()).unwrap()
    }

    fn logistic(eta: f64) -> f64 {
        1.0 / (1.0 + (-eta).exp())
    }

    #[test]
    fn complete_separation_names_the_covariate() {
        let d = data(|x, _, _| if x > 0.0 { 1.0 } else { 0.0 });
        let mut m = model("y ~ 1 + x + z + (1 | g)", &d, Family::Bernoulli);
        let sep = m.separation().expect("separated");
        assert_eq!(sep.coefficients, ["x"]);
        assert_eq!(sep.at_bound, 200);
        let err = m.fit(false, 1).unwrap_err();
        assert!(
            matches!(&err, Error::Separation { coefficients, at_bound: 200, nobs: 200 }
                if coefficients == &["x"]),
            "{err:?}"
        );
    }

    #[test]
    fn a_level_with_only_zeros_is_named() {
        // Level f2 never succeeds; elsewhere y is random.
        let d = data(|x, f, u| {
            if f == 2 {
                0.0
            } else {
                f64::from(u8::from(u < logistic(0.5 * x)))
            }
        });
        let mut m = model("y ~ 1 + x + f + (1 | g)", &d, Family::Bernoulli);
        let sep = m.separation().expect("quasi-separated");
        assert_eq!(sep.coefficients, ["f: f2"]);
        assert!(sep.at_bound > 0 && sep.at_bound < 200);
        let err = m.fit(false, 1).unwrap_err();
        assert!(err.to_string().contains("`f: f2`"), "{err}");
    }

    #[test]
    fn poisson_level_with_only_zero_counts_is_named() {
        let d = data(|x, f, u| {
            if f == 1 {
                0.0
            } else {
                (3.0 * u + x.abs()).floor()
            }
        });
        let mut m = model("y ~ 1 + f + (1 | g)", &d, Family::Poisson);
        assert_eq!(m.separation().expect("separated").coefficients, ["f: f1"]);
        assert!(m.fit(false, 1).is_err());
    }

    #[test]
    fn no_separation_without_a_perfect_predictor() {
        let d = data(|x, _, u| f64::from(u8::from(u < logistic(1.5 * x))));
        let mut m = model("y ~ 1 + x + z + f + (1 | g)", &d, Family::Bernoulli);
        assert_eq!(m.separation(), None);
        m.fit(false, 1).unwrap();
    }
}
