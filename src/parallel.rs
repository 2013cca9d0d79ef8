//! Where a fit runs when it may use several threads.
//!
//! The dense kernels (faer) and the per-observation loops of PIRLS hand work
//! to rayon's pool. Between parallel sections the pool's workers keep
//! spinning for a while; if the fit itself ran on the caller's thread it
//! would compete with them for the cores during its sequential parts (on a
//! 2-core machine a 500,000-row GLMM fit took 10 s on two threads against 9 s
//! on one). Running the whole fit on a worker of the pool leaves one thread
//! per core (`model::driver::run_fit`, which also watches for interruption).

/// From this many observations a fit runs on the pool (below it, handing
/// the fit to another thread costs more than the parallel kernels save:
/// 20–90 µs on fits of 0.1–0.5 ms).
pub(crate) const PARALLEL_ROWS: usize = 4096;

/// From this many observations the per-observation loops of PIRLS run in
/// two halves on two threads; below it the hand-off costs as much as it
/// saves (VerbAgg, 7,584 rows: 58–65 ms on two threads as on one).
pub(crate) const PARALLEL_LOOP_ROWS: usize = 50_000;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::error::{Error, Result};
use crate::interrupt::{Interrupt, POLL_INTERVAL};

/// Run `work` on a new pool of `copies.len()` threads (named
/// `mixedmodels-<name>-<i>`), one model copy per thread, each with its own
/// interrupt flag: the worker pool of the parametric bootstrap and of
/// many-response fits. Until every worker is done, every [`POLL_INTERVAL`]
/// a stop of `interrupt` is forwarded to every copy's flag (re-sent every
/// tick: a worker clears its flag when a fit starts) and `tick` gets the
/// count the workers keep in `done`. Returns the items of all workers in
/// the order of their indices; [`Error::Interrupted`] when stopped, or when
/// fewer than `expected` items came back (only an interruption stops a
/// worker early).
pub(crate) fn run_on_copies<M: Send, T: Send>(
    name: &str,
    copies: Vec<(M, Interrupt)>,
    interrupt: &Interrupt,
    done: &AtomicUsize,
    expected: usize,
    tick: &mut dyn FnMut(usize),
    work: &(dyn Fn(M) -> Result<Vec<(usize, T)>> + Sync),
) -> Result<Vec<T>> {
    let threads = copies.len();
    let prefix = format!("mixedmodels-{name}");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |i| format!("{prefix}-{i}"))
        .build()
        .map_err(|e| Error::argument("threads", format!("cannot start {threads} threads: {e}")))?;
    let flags: Vec<Interrupt> = copies.iter().map(|(_, f)| f.clone()).collect();
    let (tx, rx) = mpsc::channel::<Result<Vec<(usize, T)>>>();
    let mut finished = Vec::with_capacity(threads);
    pool.in_place_scope(|s| {
        for (model, _) in copies {
            let tx = tx.clone();
            s.spawn(move |_| {
                let _ = tx.send(work(model));
            });
        }
        drop(tx);
        while finished.len() < threads {
            match rx.recv_timeout(POLL_INTERVAL) {
                Ok(r) => finished.push(r),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if interrupt.poll() {
                flags.iter().for_each(Interrupt::trigger);
            }
            tick(done.load(Ordering::Relaxed));
        }
    });
    if interrupt.is_triggered() {
        return Err(Error::Interrupted);
    }
    let mut rows = Vec::with_capacity(expected);
    for r in finished {
        rows.extend(r?);
    }
    if rows.len() != expected {
        return Err(Error::Interrupted);
    }
    rows.sort_by_key(|(k, _)| *k);
    Ok(rows.into_iter().map(|(_, t)| t).collect())
}
