//! Responses drawn from a mixed model (lme4's `simulate`, unconditional on
//! the random effects): per replicate, u ~ N(0, σ²I) (σ = 1 for families
//! without a scale), η = offset + Xβ + ZΛθ u and a response drawn given η from the model's distribution (Gaussian with
//! σ and the case weights for a linear mixed model; Bernoulli, Binomial with
//! the trials as prior weights, or Poisson for a generalized one).
//!
//! Replicate j draws from its own generator, ChaCha8 seeded from `seed` with
//! stream j ([`replicate_rng`]): its values depend only on (seed, j), not on
//! how many replicates are drawn nor on the threads that draw them. ChaCha's
//! stream and `seed_from_u64` are documented as portable and stable by
//! `rand_chacha` and `rand_core`; the samplers of `rand_distr` (normal,
//! binomial, Poisson) may change between its minor versions.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution, Poisson, StandardNormal};
use rayon::prelude::*;

use super::MixedModel;
use crate::error::{Error, Result};
use crate::family::Family;

/// The generator of replicate `j` for `seed`: ChaCha8 seeded by
/// `seed_from_u64(seed)` on stream `j`.
pub fn replicate_rng(seed: u64, j: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(j);
    rng
}

/// Parameters of a simulation; `None` uses the model's current (fitted) value.
#[derive(Debug, Clone, Default)]
pub struct SimulateOptions {
    /// Number of replicates (at least 1).
    pub n: usize,
    /// Covariance parameters θ (checked by the model's θ layout).
    pub theta: Option<Vec<f64>>,
    /// Fixed effects β, one per kept column of X.
    pub beta: Option<Vec<f64>>,
    /// Residual standard deviation σ > 0 (linear mixed models only).
    pub sigma: Option<f64>,
}

/// The conditional distribution of a model's response given η, to draw from.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseDistribution {
    /// y = η + σ ε / √w, ε ~ N(0, 1); `weights` are the case weights (None: 1).
    Gaussian {
        /// The case weights of the rows used, if any.
        weights: Option<Vec<f64>>,
    },
    /// A generalized linear model's family through its link; for Binomial
    /// the prior weights are the trials and the response is the proportion
    /// of successes. Bernoulli and Poisson draw one value per row whatever
    /// the prior weights (which weight the rows as repeated observations).
    Family {
        /// The response distribution.
        family: Family,
        /// The link g with η = g(μ).
        link: crate::family::Link,
        /// The prior weights (trials for Binomial).
        weights: Vec<f64>,
    },
}

/// What a model supplies to be simulated from, beyond [`MixedModel`].
pub trait Simulate: MixedModel {
    /// The offset of the linear predictor of the rows used, if any.
    fn linear_offset(&self) -> Option<&[f64]>;

    /// The conditional distribution of the response given η.
    fn response_distribution(&self) -> ResponseDistribution;
}

/// Draw `options.n` responses from `m`: a column-major nobs × n buffer
/// (column j is replicate j, drawn by [`replicate_rng`]`(seed, j)`).
///
/// Errors ([`Error::Argument`] naming the parameter): n = 0; θ rejected by
/// the layout; β of the wrong length or not finite; σ not positive and
/// finite, or σ given for a model without one (a generalized model);
/// Binomial trials that are not whole numbers.
pub fn simulate<M: Simulate + Sync>(
    m: &M,
    seed: u64,
    options: &SimulateOptions,
) -> Result<Vec<f64>> {
    let nobs = m.nobs();
    if options.n == 0 {
        return Err(Error::argument(
            "n",
            "the number of replicates must be at least 1",
        ));
    }
    let theta = match &options.theta {
        Some(t) => {
            m.layout()
                .check(t)
                .map_err(|msg| Error::argument("theta", msg))?;
            t.clone()
        }
        None => m.theta().to_vec(),
    };
    let p = m.terms().fixed.rank();
    let beta = match &options.beta {
        Some(b) if b.len() != p => {
            return Err(Error::argument(
                "beta",
                format!(
                    "β must have length {p} (the kept columns of X), got {}",
                    b.len()
                ),
            ))
        }
        Some(b) if b.iter().any(|v| !v.is_finite()) => {
            return Err(Error::argument("beta", "β must be finite"))
        }
        Some(b) => b.clone(),
        None => m.beta(),
    };
    let dist = m.response_distribution();
    let sigma = match (&dist, options.sigma) {
        (ResponseDistribution::Family { family, .. }, Some(_)) => {
            return Err(Error::argument(
                "sigma",
                format!(
                    "a {} model has no residual standard deviation; sigma is for linear mixed \
                     models only",
                    family.name()
                ),
            ))
        }
        (_, Some(s)) if !(s.is_finite() && s > 0.0) => {
            return Err(Error::argument(
                "sigma",
                format!("sigma must be positive and finite, got {s}"),
            ))
        }
        (_, Some(s)) => s,
        (_, None) => m.scale(),
    };
    if let ResponseDistribution::Family {
        family: Family::Binomial,
        weights,
        ..
    } = &dist
    {
        if let Some(i) = weights.iter().position(|w| w.fract() != 0.0) {
            return Err(Error::argument(
                "weights",
                format!(
                    "simulating a Binomial response needs whole numbers of trials (the prior \
                     weights); observation {i} has {}",
                    weights[i]
                ),
            ));
        }
    }
    let terms = m.terms();
    let lambdas = m.layout().lambdas(&theta);
    let q: usize = terms.random.iter().map(|t| t.nranef()).sum();
    let mut fixed = m
        .linear_offset()
        .map_or_else(|| vec![0.0; nobs], <[f64]>::to_vec);
    terms.add_x_beta(&beta, &mut fixed);
    let mut out = vec![0.0; nobs * options.n];
    out.par_chunks_mut(nobs.max(1))
        .enumerate()
        .try_for_each(|(j, y)| {
            let mut rng = replicate_rng(seed, j as u64);
            // u ~ N(0, σ²I): b = Λu has covariance σ²ΛΛᵀ (σ = 1 for a GLMM).
            let u: Vec<f64> = (0..q)
                .map(|_| sigma * rng.sample::<f64, _>(StandardNormal))
                .collect();
            y.copy_from_slice(&fixed);
            terms.add_z_lambda_u(&lambdas, &u, y);
            draw(&dist, sigma, &mut rng, y)
        })?;
    Ok(out)
}

/// Replace η in `y` by a response drawn given η.
fn draw(
    dist: &ResponseDistribution,
    sigma: f64,
    rng: &mut ChaCha8Rng,
    y: &mut [f64],
) -> Result<()> {
    match dist {
        ResponseDistribution::Gaussian { weights } => {
            for (i, v) in y.iter_mut().enumerate() {
                let e: f64 = rng.sample(StandardNormal);
                let w = weights.as_ref().map_or(1.0, |w| w[i]);
                *v += sigma * e / w.sqrt();
            }
        }
        ResponseDistribution::Family {
            family,
            link,
            weights,
        } => {
            let bad =
                |e: String| Error::Data(format!("cannot draw a {} response: {e}", family.name()));
            for (i, v) in y.iter_mut().enumerate() {
                let mu = link.linkinv(*v);
                *v = match family {
                    Family::Bernoulli => f64::from(u8::from(rng.random::<f64>() < mu)),
                    Family::Binomial => {
                        let trials = weights[i];
                        let d = Binomial::new(trials as u64, mu.clamp(0.0, 1.0))
                            .map_err(|e| bad(e.to_string()))?;
                        d.sample(rng) as f64 / trials
                    }
                    Family::Poisson if mu <= 0.0 => 0.0,
                    Family::Poisson => Poisson::new(mu)
                        .map_err(|e| bad(e.to_string()))?
                        .sample(rng),
                };
            }
        }
    }
    Ok(())
}
