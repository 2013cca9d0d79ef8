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
        /// The dispersion φ of the families that have one (Gamma: 1/shape,
        /// inverse Gaussian: φ, Gaussian: σ², NB2: 1/k); ignored otherwise.
        dispersion: f64,
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
/// (column j is replicate j, drawn by [`replicate_rng`]`(seed, j)`; see
/// [`Simulator`]).
///
/// Errors ([`Error::Argument`] naming the parameter): n = 0, and those of
/// [`Simulator::new`].
pub fn simulate<M: Simulate + Sync>(
    m: &M,
    seed: u64,
    options: &SimulateOptions,
) -> Result<Vec<f64>> {
    if !m.has_rows() {
        return Err(Error::RowsNotStored {
            what: "simulate".into(),
        });
    }
    if options.n == 0 {
        return Err(Error::argument(
            "n",
            "the number of replicates must be at least 1",
        ));
    }
    let simulator = Simulator::new(
        m,
        seed,
        options.theta.as_deref(),
        options.beta.as_deref(),
        options.sigma,
    )?;
    let nobs = m.nobs();
    let mut out = vec![0.0; nobs * options.n];
    out.par_chunks_mut(nobs.max(1))
        .enumerate()
        .try_for_each(|(j, y)| simulator.replicate(j as u64, y))?;
    Ok(out)
}

/// The draws of one simulation, with the parameters checked and the fixed
/// part o + Xβ and each term's λ computed once: replicate j is a function
/// of (seed, j) alone, whoever draws it and in whatever order (the
/// parametric bootstrap draws replicate j as [`simulate`]'s column j).
#[derive(Debug, Clone)]
pub struct Simulator<'a> {
    terms: &'a crate::terms::ModelTerms,
    seed: u64,
    lambdas: Vec<Vec<f64>>,
    /// o + Xβ of the rows used.
    fixed: Vec<f64>,
    /// Number of spherical random effects.
    q: usize,
    sigma: f64,
    dist: ResponseDistribution,
}

impl<'a> Simulator<'a> {
    /// Prepare draws from `m` with the given parameters (None: the model's
    /// current value).
    ///
    /// Errors ([`Error::Argument`] naming the parameter): θ rejected by the
    /// layout; β of the wrong length or not finite; σ not positive and
    /// finite, or σ given for a model without one (a generalized model);
    /// Binomial trials that are not whole numbers.
    pub fn new<M: Simulate>(
        m: &'a M,
        seed: u64,
        theta: Option<&[f64]>,
        beta: Option<&[f64]>,
        sigma: Option<f64>,
    ) -> Result<Self> {
        let theta = match theta {
            Some(t) => {
                m.layout()
                    .check(t)
                    .map_err(|msg| Error::argument("theta", msg))?;
                t.to_vec()
            }
            None => m.theta().to_vec(),
        };
        let p = m.terms().fixed.rank();
        let beta = match beta {
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
            Some(b) => b.to_vec(),
            None => m.beta(),
        };
        let dist = m.response_distribution();
        let sigma = match (&dist, sigma) {
            (ResponseDistribution::Family { family, .. }, Some(_)) => {
                return Err(Error::argument(
                    "sigma",
                    format!(
                        "a {} model has no residual standard deviation; sigma is for linear \
                         mixed models only",
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
                        "simulating a Binomial response needs whole numbers of trials (the \
                         prior weights); observation {i} has {}",
                        weights[i]
                    ),
                ));
            }
        }
        let terms = m.terms();
        let lambdas = m.layout().lambdas(&theta);
        let q = terms.random.iter().map(|t| t.nranef()).sum();
        let mut fixed = m
            .linear_offset()
            .map_or_else(|| vec![0.0; m.nobs()], <[f64]>::to_vec);
        terms.add_x_beta(&beta, &mut fixed);
        Ok(Simulator {
            terms,
            seed,
            lambdas,
            fixed,
            q,
            sigma,
            dist,
        })
    }

    /// Number of observations of a replicate.
    pub fn nobs(&self) -> usize {
        self.fixed.len()
    }

    /// Draw replicate `j` into `y` (length [`nobs`](Self::nobs)) from
    /// [`replicate_rng`]`(seed, j)`.
    pub fn replicate(&self, j: u64, y: &mut [f64]) -> Result<()> {
        let mut rng = replicate_rng(self.seed, j);
        // u ~ N(0, σ²I): b = Λu has covariance σ²ΛΛᵀ (σ = 1 for a GLMM).
        let u: Vec<f64> = (0..self.q)
            .map(|_| self.sigma * rng.sample::<f64, _>(StandardNormal))
            .collect();
        y.copy_from_slice(&self.fixed);
        self.terms.add_z_lambda_u(&self.lambdas, &u, y);
        draw(&self.dist, self.sigma, &mut rng, y)
    }
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
            dispersion,
            weights,
        } => {
            let phi = *dispersion;
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
                    Family::Gamma => rand_distr::Gamma::new(1.0 / phi, mu * phi)
                        .map_err(|e| bad(format!("{e} (mean {mu})")))?
                        .sample(rng),
                    Family::InverseGaussian => rand_distr::InverseGaussian::new(mu, 1.0 / phi)
                        .map_err(|e| bad(format!("{e} (mean {mu})")))?
                        .sample(rng),
                    Family::Gaussian => {
                        let e: f64 = rng.sample(StandardNormal);
                        mu + phi.sqrt() * e
                    }
                    Family::NegativeBinomial if mu <= 0.0 => 0.0,
                    Family::NegativeBinomial => {
                        // The Gamma–Poisson mixture: λ ~ Gamma(k, μ/k).
                        let k = 1.0 / phi;
                        let lambda = rand_distr::Gamma::new(k, mu / k)
                            .map_err(|e| bad(format!("{e} (mean {mu})")))?
                            .sample(rng);
                        if lambda > 0.0 {
                            Poisson::new(lambda)
                                .map_err(|e| bad(e.to_string()))?
                                .sample(rng)
                        } else {
                            0.0
                        }
                    }
                };
            }
        }
    }
    Ok(())
}
