//! `Display` of a GLMM: the plain-text rendering of the presentation layer
//! ([`crate::present`]).

use std::fmt;

use super::GeneralizedLinearMixedModel;
use crate::present::write_glmm_summary;

impl fmt::Display for GeneralizedLinearMixedModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_glmm_summary(self, f)
    }
}
