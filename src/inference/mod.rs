//! Inference across fitted models: likelihood-ratio tests, and the checks
//! that the models may be compared by one (same family, rows and response;
//! nested fixed and random effects); and the parametric bootstrap of one
//! fitted model ([`bootstrap`]).

pub mod bootstrap;
mod compare;
pub mod ddf;
mod lrt;
mod nesting;

pub use compare::{check_models, ComparedModel, Comparison, RESPONSE_TOL};
pub use lrt::{likelihood_ratio_test, LrtRow};
pub use nesting::{fixed_not_nested, random_not_nested, NESTED_TOL};
