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
