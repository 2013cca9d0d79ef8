//! Inference across fitted models: likelihood-ratio tests, and the checks
//! that the models may be compared by one (same family, rows and response;
//! nested fixed and random effects); confidence intervals of one model's
//! parameters (Wald, `confint.rs`; likelihood profiles, `profile/`); and the
//! parametric bootstrap of one fitted model ([`bootstrap`]); denominator
//! degrees of freedom, t and F tests of the fixed effects ([`ddf`]).

pub mod bootstrap;
mod compare;
pub mod confint;
pub mod confint_row;
pub mod ddf;
pub mod emmeans;
mod lrt;
mod nesting;
pub mod profile;

pub use compare::{check_models, ComparedModel, Comparison, RESPONSE_TOL};
pub use confint::wald_confint;
pub use confint_row::ConfintRow;
pub use lrt::{likelihood_ratio_test, LrtRow};
pub use nesting::{fixed_not_nested, random_not_nested, NESTED_TOL};
pub use profile::{confint_glmm, confint_lmm, profile_glmm, profile_lmm, Profile, ProfileSettings};
