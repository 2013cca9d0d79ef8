//! The printed summary of a GLMM, in the layout of the MixedModels.jl
//! manual: method and nAGQ, formula, distribution, link, deviance (the
//! objective), variance components, counts, fixed-effects table.

use std::fmt;

use super::GeneralizedLinearMixedModel;
use crate::lmm::LinearMixedModel;
use crate::model::MixedModel;

impl fmt::Display for GeneralizedLinearMixedModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Generalized Linear Mixed Model fit by maximum likelihood (nAGQ = {})",
            self.nagq
        )?;
        writeln!(f, "  {}", self.terms.spec.source.trim())?;
        writeln!(f, "  Distribution: {}", self.family.name())?;
        writeln!(f, "  Link: {}", self.link.name())?;
        writeln!(f)?;
        writeln!(f, "  Deviance: {:.4}", self.objective())?;
        writeln!(f)?;
        write!(f, "{}", self.varcorr())?;
        writeln!(f)?;
        LinearMixedModel::render_counts(f, self.nobs(), &self.terms)?;
        writeln!(f)?;
        writeln!(f, "Fixed-effects parameters:")?;
        write!(
            f,
            "{}",
            LinearMixedModel::render_coeftable(&self.coeftable())
        )
    }
}
