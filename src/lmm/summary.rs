//! `Display` of a linear mixed model and its variance components: the
//! plain-text rendering of the presentation layer ([`crate::present`]).

use std::fmt;

use super::{LinearMixedModel, VarCorr};
use crate::present::{varcorr_table, write_lmm_summary, Format};

impl fmt::Display for VarCorr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&varcorr_table(self).render(Format::Text))
    }
}

impl fmt::Display for LinearMixedModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_lmm_summary(self, f)
    }
}
