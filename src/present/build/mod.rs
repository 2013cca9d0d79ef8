//! Builders: tables and summaries made from the models' public extractors.

mod coef;
mod ddf;
mod emmeans;
mod glmm;
mod lmm;
mod lrt;
mod varcorr;

pub use coef::coef_table;
pub use ddf::{anova_document, coef_df_table, f_test_document, WALD_NOTE};
pub use emmeans::{emmeans_document, EmmColumn};
pub use glmm::{glmm_summary, write_glmm_summary};
pub use lmm::{lmm_summary, write_lmm_summary};
pub use lrt::lrt_table;
pub use varcorr::varcorr_table;

use super::{Block, Cell};
use crate::terms::ModelTerms;

/// The lines after the variance components: observations and levels of the
/// grouping factors, and the fixed-effects columns dropped, if any.
fn counts(nobs: usize, terms: &ModelTerms) -> Vec<Block> {
    let levels: Vec<String> = terms
        .random
        .iter()
        .map(|t| t.nlevels().to_string())
        .collect();
    let mut blocks = vec![Block::Line {
        indent: 1,
        text: format!(
            "Number of obs: {nobs}; levels of grouping factors: {}",
            levels.join(", ")
        ),
    }];
    if !terms.fixed.dropped.is_empty() {
        blocks.push(Block::KeyValue {
            indent: 1,
            key: "Fixed-effects columns dropped as linearly dependent".into(),
            value: Cell::text(terms.fixed.dropped_names().join(", ")),
        });
    }
    blocks
}
