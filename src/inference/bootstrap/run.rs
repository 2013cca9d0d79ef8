//! Running the replicates: a pool of worker threads, each with its own
//! copy of the model, taking replicate indices from a shared counter, while
//! the calling thread reports progress and watches for interruption.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::{GeneratingValues, ParametricBootstrap, Refit, Replicate};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::model::{FitSettings, MixedModel, Simulator, VarCorr};
use crate::parallel::run_on_copies;

/// What to bootstrap: the number of replicates, the seed, the parameters to
/// draw from (None: the fitted ones) and the threads to refit on.
#[derive(Debug, Clone, Default)]
pub struct BootstrapOptions {
    /// Number of replicates (at least 1).
    pub n: usize,
    /// The index of the first replicate: the run draws replicates
    /// `first..first + n` (0 for a whole bootstrap; a block of one, to be
    /// joined with the others by [`ParametricBootstrap::merge`]).
    pub first: usize,
    /// Seed of the draws (replicate k uses ChaCha8 on stream k).
    pub seed: u64,
    /// θ to draw from.
    pub theta: Option<Vec<f64>>,
    /// β to draw from.
    pub beta: Option<Vec<f64>>,
    /// σ to draw from (linear mixed models only).
    pub sigma: Option<f64>,
    /// Worker threads (None: the size of rayon's global pool).
    pub threads: Option<usize>,
}

/// Draw `options.n` responses (replicates `options.first..options.first +
/// options.n`) from the fitted model `m` and refit a copy of it to each (see the [module](super) description). `progress` is called
/// on this thread with the number of replicates done, about every
/// [`POLL_INTERVAL`](crate::interrupt::POLL_INTERVAL) and once at the end, as is the interrupt's progress
/// sink (if any); `interrupt` is polled as often (its hook runs here) and,
/// once set, stops the workers within a fit.
///
/// Errors: [`Error::NotFitted`] for a model without a fit (the refits use
/// its fit's settings); [`Error::Argument`] for n = 0, threads = 0 and the
/// parameters refused by [`Simulator::new`]; [`Error::Interrupted`].
pub fn parametric_bootstrap<M: Refit>(
    m: &M,
    options: &BootstrapOptions,
    interrupt: &Interrupt,
    progress: &mut dyn FnMut(usize),
) -> Result<ParametricBootstrap> {
    let (n, first) = (options.n, options.first);
    if n == 0 {
        return Err(Error::argument(
            "n",
            "the number of replicates must be at least 1",
        ));
    }
    if options.threads == Some(0) {
        return Err(Error::argument("threads", "threads must be at least 1"));
    }
    let record = m
        .fit_record()
        .ok_or_else(|| Error::not_fitted("the parametric bootstrap"))?;
    let simulator = Simulator::new(
        m,
        options.seed,
        options.theta.as_deref(),
        options.beta.as_deref(),
        options.sigma,
    )?;
    let generating = generating_values(m, options);
    let settings = FitSettings {
        threads: Some(1),
        ..record.settings.clone()
    };
    let start = m.theta().to_vec();
    let threads = options
        .threads
        .unwrap_or_else(rayon::current_num_threads)
        .min(n);
    let workers: Vec<(M, Interrupt)> = (0..threads)
        .map(|_| {
            let mut w = m.clone();
            let flag = Interrupt::new();
            w.use_interrupt(flag.clone());
            w.use_threads(Some(1));
            (w, flag)
        })
        .collect();
    interrupt.reset();
    interrupt.progress().inspect(|p| p.units(0, n));
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let job = Job {
        simulator: &simulator,
        settings: &settings,
        start: &start,
        first,
        n,
        next: &next,
        done: &done,
        stop: interrupt,
    };
    let mut tick = |done: usize| {
        interrupt.progress().inspect(|p| p.units(done, n));
        progress(done);
    };
    let replicates = run_on_copies("bootstrap", workers, interrupt, &done, n, &mut tick, &|m| {
        job.work(m)
    })?;
    Ok(ParametricBootstrap {
        seed: options.seed,
        first,
        coef_names: m.coef_names(),
        theta_names: m.layout().names().to_vec(),
        component_names: m.layout().component_names().to_vec(),
        generating,
        replicates,
    })
}

/// What every worker shares.
struct Job<'a> {
    simulator: &'a Simulator<'a>,
    settings: &'a FitSettings,
    start: &'a [f64],
    /// The index of the first replicate.
    first: usize,
    n: usize,
    /// The next replicate index to take.
    next: &'a AtomicUsize,
    /// Replicates finished.
    done: &'a AtomicUsize,
    /// The caller's flag: set, no new replicate is started.
    stop: &'a Interrupt,
}

impl Job<'_> {
    /// Refit `model` to replicates taken from the counter until none is
    /// left or the caller stops; the replicates done, with their indices.
    fn work<M: Refit>(&self, mut model: M) -> Result<Vec<(usize, Replicate)>> {
        let mut rows = Vec::new();
        let mut y = vec![0.0; self.simulator.nobs()];
        loop {
            if self.stop.is_triggered() {
                return Err(Error::Interrupted);
            }
            let k = self.next.fetch_add(1, Ordering::Relaxed);
            if k >= self.n {
                return Ok(rows);
            }
            let fitted = self
                .simulator
                .replicate((self.first + k) as u64, &mut y)
                .and_then(|()| model.set_response(&y))
                .and_then(|()| model.refit(self.settings, self.start));
            let row = match fitted {
                Ok(()) => Replicate::of_fit(&model),
                Err(Error::Interrupted) => return Err(Error::Interrupted),
                Err(e) => Replicate::failed(&model, &e),
            };
            rows.push((k, row));
            self.done.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The parameters the responses are drawn from, as a replicate's estimates.
fn generating_values<M: MixedModel>(m: &M, options: &BootstrapOptions) -> GeneratingValues {
    let theta = options.theta.clone().unwrap_or_else(|| m.theta().to_vec());
    let sigma = m.residual_sd().map(|s| options.sigma.unwrap_or(s));
    let lambdas = m.layout().lambdas(&theta);
    let vc = VarCorr::new(&m.terms().random, &lambdas, sigma.unwrap_or(1.0), sigma);
    GeneratingValues {
        objective: m.objective(),
        sigma,
        dispersion: m.dispersion_parameter(),
        beta: options.beta.clone().unwrap_or_else(|| m.beta()),
        components: super::variance_components(m.layout(), &vc),
        theta,
    }
}
