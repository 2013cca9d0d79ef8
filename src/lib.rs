//! `mixedmodels`: linear and generalized linear mixed-effects models.
//!
//! The formulation is that of lme4 and MixedModels.jl (Bates et al. 2015): the
//! profiled deviance of a linear mixed model is evaluated through a blocked
//! sparse Cholesky factor and minimised over the relative covariance
//! parameters θ with a projected quasi-Newton method and its exact gradient
//! (`optim::Bfgs`), BOBYQA as fallback; generalized linear mixed models use
//! the derivative-free, bound-constrained BOBYQA (`optim::Bobyqa`).
//!
//! ```
//! use mixedmodels::{data::{Column, Data}, lmm::{LinearMixedModel, LmmOptions}, MixedModel};
//! # fn main() -> mixedmodels::Result<()> {
//! let data = Data::new()
//!     .with_column("y", Column::numeric(vec![1.0, 2.0, 2.5, 4.0, 3.0, 3.5]))?
//!     .with_column("g", Column::from_strings(&["a", "a", "b", "b", "c", "c"]))?;
//! let mut m = LinearMixedModel::new("y ~ 1 + (1 | g)", &data, &LmmOptions::default())?;
//! m.fit(false)?;
//! println!("{m}");
//! // lme4: deviance(lmer(y ~ 1 + (1 | g), REML = FALSE)) = 16.33517698, θ = 0.8164966
//! assert!((m.objective() - 16.335_176_98).abs() < 1e-6);
//! assert!((m.theta()[0] - 0.816_496_6).abs() < 1e-4);
//! # Ok(()) }
//! ```
//!
//! The crate is pure Rust; the Python bindings live behind the `python` feature.

// Numerical kernels index several arrays with one loop variable; iterator chains
// would hide the mathematics, so this lint is off crate-wide.
#![allow(clippy::needless_range_loop)]
#![warn(missing_docs)]

pub mod blocks;
pub mod checks;
pub mod contrasts;
pub mod data;
pub mod error;
pub mod family;
pub mod formula;
pub mod glmm;
pub mod inference;
pub mod interrupt;
pub mod lmm;
pub mod model;
pub mod optim;
mod parallel;
pub mod pls;
pub mod present;
pub mod progress;
pub mod stats;
pub mod stream;
pub mod terms;
pub mod warning;

pub use error::{Error, Result};
pub use glmm::{Family, GeneralizedLinearMixedModel, GlmmOptions, Link};
pub use lmm::{LinearMixedModel, LmmOptions};
pub use model::{FitRecord, FitSettings, MixedModel};

#[cfg(feature = "python")]
mod python;

/// The README, whose Rust example runs as a doctest (`cargo test --doc`).
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
