//! Interrupting long computations (Ctrl-C).
//!
//! An [`Interrupt`] is a shared flag plus an optional *poll hook*: a
//! function the computation calls at most every [`POLL_INTERVAL`] to ask
//! whether it should stop (the Python bindings run the interpreter's signal
//! handlers there, so that Ctrl-C raises `KeyboardInterrupt`). Fits check
//! the flag before every objective evaluation and every PIRLS iteration; a
//! fit run on the thread pool is watched from the calling thread, which
//! polls the hook while it waits. Once the flag is set the computation
//! returns [`Error::Interrupted`] and the model is left unfitted.
//!
//! An interrupt may also carry a [`ProgressSink`](crate::progress::ProgressSink)
//! ([`with_progress`](Interrupt::with_progress)): whatever can be stopped
//! reports its progress there (see [`crate::progress`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::progress::{Progress, ProgressSink};

/// How often the poll hook is called at most.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// A function asked whether to stop (true: stop).
pub type PollHook = Arc<dyn Fn() -> bool + Send + Sync>;

/// A flag shared between a computation and whoever may stop it.
#[derive(Clone)]
pub struct Interrupt {
    flag: Arc<AtomicBool>,
    hook: Option<PollHook>,
    /// The clock's origin for `next_poll`.
    origin: Instant,
    /// Nanoseconds after `origin` when the hook is next due (0: now).
    next_poll: Arc<AtomicU64>,
    /// Where the computation reports its progress (None: nowhere).
    progress: Option<Progress>,
}

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt {
            flag: Arc::default(),
            hook: None,
            origin: Instant::now(),
            next_poll: Arc::default(),
            progress: None,
        }
    }
}

impl std::fmt::Debug for Interrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interrupt")
            .field("triggered", &self.is_triggered())
            .field("hook", &self.hook.is_some())
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl Interrupt {
    /// A flag that only [`trigger`](Self::trigger) sets.
    pub fn new() -> Self {
        Self::default()
    }

    /// A flag that is also set when `hook` returns true (asked at most every
    /// [`POLL_INTERVAL`]).
    pub fn with_hook(hook: PollHook) -> Self {
        Interrupt {
            hook: Some(hook),
            ..Self::default()
        }
    }

    /// This interrupt, its computation reporting progress to `sink`.
    pub fn with_progress(self, sink: Progress) -> Self {
        Interrupt {
            progress: Some(sink),
            ..self
        }
    }

    /// The sink the computation reports its progress to, if any.
    pub fn progress(&self) -> Option<&dyn ProgressSink> {
        self.progress.as_deref()
    }

    /// The shared sink itself (for a reporter that outlives a borrow).
    pub fn progress_handle(&self) -> Option<Progress> {
        self.progress.clone()
    }

    /// Ask the computation to stop.
    pub fn trigger(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }

    /// Clear the flag (before a new computation).
    pub fn reset(&self) {
        self.flag.store(false, Ordering::Relaxed);
        self.next_poll.store(0, Ordering::Relaxed);
    }

    /// Has the computation been asked to stop?
    pub fn is_triggered(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// The shared flag itself (for the optimizer's stop test).
    pub fn flag(&self) -> &Arc<AtomicBool> {
        &self.flag
    }

    /// Ask the hook if it is time to (at most every [`POLL_INTERVAL`]); set
    /// the flag when it says stop. Returns whether the flag is set. On a
    /// worker of rayon's pool only the flag is read: the thread that waits
    /// for the pool polls the hook (it is the one that can see Ctrl-C).
    pub fn poll(&self) -> bool {
        if self.is_triggered() {
            return true;
        }
        if rayon::current_thread_index().is_some() {
            return false;
        }
        if let Some(hook) = &self.hook {
            let now = self.origin.elapsed().as_nanos() as u64;
            let next = self.next_poll.load(Ordering::Relaxed);
            let due = now >= next
                && self
                    .next_poll
                    .compare_exchange(
                        next,
                        now + POLL_INTERVAL.as_nanos() as u64,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    )
                    .is_ok();
            if due && hook() {
                self.trigger();
            }
        }
        self.is_triggered()
    }

    /// [`poll`](Self::poll) as a result: `Err(Error::Interrupted)` once stopped.
    pub fn check(&self) -> Result<()> {
        if self.poll() {
            Err(Error::Interrupted)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn hook_is_polled_at_most_every_interval_and_sets_the_flag() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let i = Interrupt::with_hook(Arc::new(move || c.fetch_add(1, Ordering::Relaxed) >= 1));
        assert!(i.check().is_ok());
        assert!(i.check().is_ok()); // within the interval: the hook is not asked
        assert_eq!(calls.load(Ordering::Relaxed), 1);
        std::thread::sleep(POLL_INTERVAL + Duration::from_millis(5));
        assert_eq!(i.check(), Err(Error::Interrupted));
        assert!(i.is_triggered());
        i.reset();
        assert!(!i.is_triggered());
        let j = Interrupt::new();
        let k = j.clone();
        k.trigger();
        assert!(j.poll());
    }
}
