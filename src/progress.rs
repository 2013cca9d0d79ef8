//! Progress of long computations, for whoever watches them (a progress bar).
//!
//! The computation reports to a [`ProgressSink`] that travels with its
//! [`Interrupt`](crate::interrupt::Interrupt) (see
//! [`Interrupt::with_progress`](crate::interrupt::Interrupt::with_progress)),
//! so every fit, profile and bootstrap that can be interrupted can also be
//! watched, without new arguments:
//!
//! - a fit reports each objective evaluation it logs (`model::driver`'s
//!   `FitLog`, so the count ends at the fit record's `evaluations`) with its
//!   value, and the start of each optimizer stage by name (`theta (BFGS)`,
//!   `theta (BOBYQA)`, `joint (BOBYQA)`);
//! - a profile reports each parameter whose profile is done, of how many;
//! - a bootstrap reports the replicates done, of how many (the refits of
//!   the replicates report nothing: they have their own interrupts).
//!
//! Reports come from whichever thread computes (a worker of the thread
//! pool, too), so a sink is `Send + Sync` and cheap: [`ProgressCounter`]
//! keeps them in atomics, to be read with [`ProgressCounter::snapshot`] by a
//! watcher on another thread or, in the Python bindings, by the interrupt's
//! poll hook on the thread that holds the interpreter.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Receives the progress of a computation. Every method has a default that
/// ignores the report, so a sink implements only what it shows.
pub trait ProgressSink: Send + Sync {
    /// An objective evaluation of a fit, with its value (+∞ where it failed).
    fn evaluation(&self, objective: f64) {
        let _ = objective;
    }

    /// A stage of a fit starts (its name, e.g. `theta (BOBYQA)`).
    fn stage(&self, name: &'static str) {
        let _ = name;
    }

    /// `done` of `total` units of an outer loop are finished (profiled
    /// parameters, bootstrap replicates).
    fn units(&self, done: usize, total: usize) {
        let _ = (done, total);
    }
}

/// A shared sink.
pub type Progress = Arc<dyn ProgressSink>;

/// What a [`ProgressCounter`] has seen so far.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressSnapshot {
    /// Objective evaluations reported.
    pub evaluations: usize,
    /// The smallest finite objective reported (None: none yet).
    pub best: Option<f64>,
    /// The name of the last stage started (empty: none yet).
    pub stage: &'static str,
    /// Units of the outer loop done.
    pub done: usize,
    /// Units of the outer loop in all (0: no outer loop).
    pub total: usize,
}

/// A sink that counts in atomics (lock-free for evaluations): the sink of
/// the Python progress bars, and a simple one for Rust callers.
#[derive(Debug)]
pub struct ProgressCounter {
    evaluations: AtomicUsize,
    /// Bits of the smallest finite objective (+∞'s bits: none yet).
    best: AtomicU64,
    stage: Mutex<&'static str>,
    done: AtomicUsize,
    total: AtomicUsize,
}

impl Default for ProgressCounter {
    fn default() -> Self {
        ProgressCounter {
            evaluations: AtomicUsize::new(0),
            best: AtomicU64::new(f64::INFINITY.to_bits()),
            stage: Mutex::new(""),
            done: AtomicUsize::new(0),
            total: AtomicUsize::new(0),
        }
    }
}

impl ProgressCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// What has been reported so far.
    pub fn snapshot(&self) -> ProgressSnapshot {
        let best = f64::from_bits(self.best.load(Ordering::Relaxed));
        ProgressSnapshot {
            evaluations: self.evaluations.load(Ordering::Relaxed),
            best: best.is_finite().then_some(best),
            stage: *self.stage.lock().unwrap_or_else(|e| e.into_inner()),
            done: self.done.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
        }
    }
}

impl ProgressSink for ProgressCounter {
    fn evaluation(&self, objective: f64) {
        self.evaluations.fetch_add(1, Ordering::Relaxed);
        if objective.is_finite() {
            // Lower the best value unless another thread already went lower.
            let _ = self
                .best
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                    (objective < f64::from_bits(bits)).then_some(objective.to_bits())
                });
        }
    }

    fn stage(&self, name: &'static str) {
        *self.stage.lock().unwrap_or_else(|e| e.into_inner()) = name;
    }

    fn units(&self, done: usize, total: usize) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(done, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_counts_evaluations_keeps_the_best_and_the_last_stage() {
        let c = ProgressCounter::new();
        assert_eq!(
            c.snapshot(),
            ProgressSnapshot {
                evaluations: 0,
                best: None,
                stage: "",
                done: 0,
                total: 0
            }
        );
        c.stage("theta (BOBYQA)");
        for v in [3.0, f64::INFINITY, -1.5, 2.0, f64::NAN] {
            c.evaluation(v);
        }
        c.units(2, 7);
        let s = c.snapshot();
        assert_eq!(s.evaluations, 5);
        assert_eq!(s.best, Some(-1.5));
        assert_eq!(s.stage, "theta (BOBYQA)");
        assert_eq!((s.done, s.total), (2, 7));
    }

    #[test]
    fn evaluations_from_many_threads_are_all_counted() {
        let c = Arc::new(ProgressCounter::new());
        std::thread::scope(|s| {
            for t in 0..4 {
                let c = &c;
                s.spawn(move || (0..1000).for_each(|i| c.evaluation((t * 1000 + i) as f64)));
            }
        });
        let s = c.snapshot();
        assert_eq!(s.evaluations, 4000);
        assert_eq!(s.best, Some(0.0));
    }
}
