//! Hooks the generalized linear mixed models (`crate::glmm`) use: access to
//! the summary formatting of this module without making it public API.

use super::{summary, CoefRow, LinearMixedModel};

impl LinearMixedModel {
    /// Render a fixed-effects table in the layout of the LMM summary
    /// (estimate, standard error, z, p), for the GLMM summary.
    pub(crate) fn render_coeftable(rows: &[CoefRow]) -> String {
        summary::format_coeftable(rows)
    }

    /// Write the observation and level counts (and dropped X columns) of the
    /// LMM summary, for the GLMM summary.
    pub(crate) fn render_counts(
        f: &mut std::fmt::Formatter<'_>,
        nobs: usize,
        terms: &crate::terms::ModelTerms,
    ) -> std::fmt::Result {
        summary::write_counts(f, nobs, terms)
    }
}
