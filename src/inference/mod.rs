//! Inference across fitted models: likelihood-ratio tests.

mod lrt;

pub use lrt::{likelihood_ratio_test, LrtRow};
