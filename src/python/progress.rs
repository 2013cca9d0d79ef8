//! Progress for Python: `_core.Progress` wraps a Python callable (the
//! package's tqdm bar) and a [`ProgressCounter`]. The computation runs with
//! the GIL released and reports to the counter (atomics, no GIL); the
//! interrupt's poll hook, which already takes the GIL on the calling thread
//! at most every [`POLL_INTERVAL`](crate::interrupt::POLL_INTERVAL) to look
//! for Ctrl-C, also calls the callable with the counter's snapshot, at most
//! every [`REPORT_INTERVAL`]. A callable that raises stops the computation
//! and its exception is raised in place of the interruption.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pyo3::prelude::*;

use super::convert::to_pyerr;
use crate::error::{Error, Result};
use crate::inference::bootstrap::Refit;
use crate::interrupt::Interrupt;
use crate::progress::ProgressCounter;

/// How often the Python callable is called at most.
pub const REPORT_INTERVAL: Duration = Duration::from_millis(100);

/// A counter of a computation's progress and the Python callable shown it:
/// `callback(evaluations, best, stage, done, total)` (best: the smallest
/// objective so far or None; stage: the fit's current stage or ""; done,
/// total: the profiled parameters or bootstrap replicates, 0 and 0 for a fit).
#[pyclass(name = "Progress", module = "mixedmodels._core", frozen)]
pub struct PyProgress {
    counter: Arc<ProgressCounter>,
    callback: Arc<Py<PyAny>>,
    /// What the callable raised (it then stopped the computation).
    raised: Arc<Mutex<Option<PyErr>>>,
}

/// A snapshot as the callable's arguments.
type SnapshotArgs = (usize, Option<f64>, &'static str, usize, usize);

fn arguments(counter: &ProgressCounter) -> SnapshotArgs {
    let s = counter.snapshot();
    (s.evaluations, s.best, s.stage, s.done, s.total)
}

#[pymethods]
impl PyProgress {
    /// A counter at zero that will be shown to `callback`.
    #[new]
    fn new(callback: Py<PyAny>) -> Self {
        PyProgress {
            counter: Arc::new(ProgressCounter::new()),
            callback: Arc::new(callback),
            raised: Arc::default(),
        }
    }

    /// What has been reported so far: (evaluations, best, stage, done, total).
    fn snapshot(&self) -> SnapshotArgs {
        arguments(&self.counter)
    }
}

impl PyProgress {
    /// An interrupt that stops on Ctrl-C (as `ctrl_c_interrupt`), calls the
    /// callable from its poll hook at most every [`REPORT_INTERVAL`], and
    /// carries the counter as the computation's progress sink.
    pub(crate) fn interrupt(&self) -> Interrupt {
        let counter = self.counter.clone();
        let callback = self.callback.clone();
        let raised = self.raised.clone();
        let next_report = Mutex::new(Instant::now());
        let hook = move || {
            Python::attach(|py| {
                if py.check_signals().is_err() {
                    return true;
                }
                let mut next = next_report.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                if now < *next {
                    return false;
                }
                *next = now + REPORT_INTERVAL;
                match callback.call1(py, arguments(&counter)) {
                    Ok(_) => false,
                    Err(e) => {
                        *raised.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                        true
                    }
                }
            })
        };
        Interrupt::with_hook(Arc::new(hook)).with_progress(self.counter.clone())
    }

    /// The error of a computation watched by this progress: what the
    /// callable raised, if it stopped the computation, else `e` converted.
    pub(crate) fn error(&self, e: Error) -> PyErr {
        let raised = self.raised.lock().unwrap_or_else(|e| e.into_inner()).take();
        match (e, raised) {
            (Error::Interrupted, Some(r)) => r,
            (e, _) => to_pyerr(e),
        }
    }
}

/// Run `work` on `model` with the GIL released; with `progress`, under its
/// interrupt (the model's Ctrl-C interrupt is put back afterwards).
pub(crate) fn watched<M: Refit, R: Send>(
    py: Python<'_>,
    model: &mut M,
    progress: Option<&PyProgress>,
    work: impl FnOnce(&mut M) -> Result<R> + Send,
) -> PyResult<R> {
    let Some(progress) = progress else {
        return py.detach(|| work(model)).map_err(to_pyerr);
    };
    model.use_interrupt(progress.interrupt());
    let result = py.detach(|| work(model));
    model.use_interrupt(super::ctrl_c_interrupt());
    result.map_err(|e| progress.error(e))
}

/// Register the class.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyProgress>()
}
