//! The user's objective behind a counting, bookkeeping wrapper.
//!
//! Every call to `f` goes through [`Objective::eval`], which counts it,
//! enforces the budget, maps NaN to `+inf`, restores variables that were
//! removed because their bounds coincide, and remembers the best point.
//! Non-finite values cannot enter a quadratic model; [`Objective::model_value`]
//! replaces `+inf` by a value somewhat above the largest finite value seen, so
//! that such points look bad to the model without wrecking it (a moderated
//! form of the "extreme barrier" for undefined points).
//!
//! The method works on scaled variables `z = x / scale` and, with
//! [`SignSymmetry`]s, without the lower bounds of their pivots (see
//! [`Transform`]): before `f` is called, `z` is mapped back to the caller's
//! `x`, a point with a negative pivot is replaced by its mirror image, and
//! the result is kept within the caller's bounds, so that `f` only sees, and
//! the best point is kept as, points inside the box.

use super::{SignSymmetry, StopFlag};

/// From the variables of the method to the caller's.
#[derive(Debug, Clone)]
pub(super) struct Transform {
    /// Scale of each free variable.
    pub scale: Vec<f64>,
    /// Symmetries in the caller's (full) indices, all of them free.
    pub symmetries: Vec<SignSymmetry>,
    /// The caller's bounds (full length).
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
}

/// Counting wrapper around the objective.
pub(super) struct Objective<'a> {
    f: &'a mut dyn FnMut(&[f64]) -> f64,
    /// Full-length argument; fixed variables keep their values.
    full: Vec<f64>,
    /// Positions of the optimised variables in `full`.
    free: Vec<usize>,
    evaluations: usize,
    max_evaluations: usize,
    stop: Option<StopFlag>,
    transform: Transform,
    best_x: Vec<f64>,
    best_f: f64,
    finite_min: f64,
    finite_max: f64,
}

impl<'a> Objective<'a> {
    /// Wrap `f`; `full` is the complete starting point in the caller's
    /// coordinates (fixed variables already at their values), `free` the
    /// indices being optimised and `transform` the map from the method's
    /// variables to the caller's.
    pub(super) fn new(
        f: &'a mut dyn FnMut(&[f64]) -> f64,
        full: Vec<f64>,
        free: Vec<usize>,
        max_evaluations: usize,
        stop: Option<StopFlag>,
        transform: Transform,
    ) -> Self {
        let best_x = free.iter().map(|&i| full[i]).collect();
        Objective {
            f,
            full,
            free,
            evaluations: 0,
            max_evaluations,
            stop,
            transform,
            best_x,
            best_f: f64::INFINITY,
            finite_min: f64::INFINITY,
            finite_max: f64::NEG_INFINITY,
        }
    }

    /// Number of calls made so far.
    pub(super) fn evaluations(&self) -> usize {
        self.evaluations
    }

    /// The budget of calls.
    pub(super) fn max_evaluations(&self) -> usize {
        self.max_evaluations
    }

    /// Whether the budget allows another call.
    pub(super) fn can_evaluate(&self) -> bool {
        self.evaluations < self.max_evaluations && !self.stop.as_ref().is_some_and(StopFlag::is_set)
    }

    /// Call `f` at the free variables `z` of the method (which must satisfy
    /// the method's bounds).  Returns the value, NaN mapped to `+inf`, or
    /// `None` if the budget is used up (then `f` is not called).
    pub(super) fn eval(&mut self, z: &[f64]) -> Option<f64> {
        if !self.can_evaluate() {
            return None;
        }
        let t = &self.transform;
        for ((&i, &v), s) in self.free.iter().zip(z).zip(&t.scale) {
            self.full[i] = v * s;
        }
        for sym in &t.symmetries {
            if self.full[sym.pivot] < 0.0 {
                for &i in std::iter::once(&sym.pivot).chain(&sym.others) {
                    self.full[i] = -self.full[i];
                }
            }
        }
        // Undo the rounding errors of the scaling at the bounds.
        for &i in &self.free {
            self.full[i] = self.full[i].max(t.lower[i]).min(t.upper[i]);
        }
        self.evaluations += 1;
        let raw = (self.f)(&self.full);
        let value = if raw.is_nan() { f64::INFINITY } else { raw };
        if value.is_finite() {
            self.finite_min = self.finite_min.min(value);
            self.finite_max = self.finite_max.max(value);
        }
        if value < self.best_f {
            self.best_f = value;
            for (b, &i) in self.best_x.iter_mut().zip(&self.free) {
                *b = self.full[i];
            }
        }
        Some(value)
    }

    /// The value the model uses for `value`: itself if finite; for `+inf`
    /// the largest finite value seen plus the spread of finite values (at
    /// least a small multiple of their magnitude); for `−inf` the smallest
    /// finite value minus that spread, so that the model stays finite.
    /// `value` itself if nothing finite has been seen yet.
    pub(super) fn model_value(&self, value: f64) -> f64 {
        if value.is_finite() || !self.finite_max.is_finite() {
            return value;
        }
        let spread = (self.finite_max - self.finite_min).max(1e-3 * (1.0 + self.finite_max.abs()));
        if value > 0.0 {
            self.finite_max + spread
        } else {
            self.finite_min - spread
        }
    }

    /// The best value seen (`+inf` if none was finite).
    pub(super) fn best_f(&self) -> f64 {
        self.best_f
    }

    /// The best point seen, in the caller's full coordinates.
    pub(super) fn best_full_x(&self) -> Vec<f64> {
        let mut x = self.full.clone();
        for (&i, &v) in self.free.iter().zip(&self.best_x) {
            x[i] = v;
        }
        x
    }
}
