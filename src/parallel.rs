//! Where a fit runs when it may use several threads.
//!
//! The dense kernels (faer) and the per-observation loops of PIRLS hand work
//! to rayon's pool. Between parallel sections the pool's workers keep
//! spinning for a while; if the fit itself ran on the caller's thread it
//! would compete with them for the cores during its sequential parts (on a
//! 2-core machine a 500,000-row GLMM fit took 10 s on two threads against 9 s
//! on one). Running the whole fit on a worker of the pool leaves one thread
//! per core.

/// From this many observations a fit runs on the pool (below it, handing
/// the fit to another thread costs more than the parallel kernels save:
/// 20–90 µs on fits of 0.1–0.5 ms).
pub(crate) const PARALLEL_ROWS: usize = 4096;

/// From this many observations the per-observation loops of PIRLS run in
/// two halves on two threads; below it the hand-off costs as much as it
/// saves (VerbAgg, 7,584 rows: 58–65 ms on two threads as on one).
pub(crate) const PARALLEL_LOOP_ROWS: usize = 50_000;

/// Run `f` on a worker thread of rayon's global pool when `parallel`, else
/// (or when already on a worker) on the calling thread.
pub(crate) fn on_pool<R: Send>(parallel: bool, f: impl FnOnce() -> R + Send) -> R {
    if !parallel || rayon::current_thread_index().is_some() {
        return f();
    }
    let mut out = None;
    rayon::scope(|s| s.spawn(|_| out = Some(f())));
    out.expect("the spawned fit ran to completion")
}
