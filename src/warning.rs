//! Warnings about a model that the checks report instead of refusing it
//! (`crate::checks`, `terms::reversed_terms`): a kind, the term involved and
//! a sentence. The models keep them (`warnings()`); the Python layer turns
//! each kind into its warning class.

/// What a [`ModelWarning`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarningKind {
    /// A grouping factor has too many levels for the observations.
    NobsVsNlev,
    /// A random-effects term has too many random effects for the observations.
    NobsVsNre,
    /// A random-effects term looks reversed (`(Subject | Days)`).
    ReversedTerm,
    /// After the fit: the response is constant within every level of a
    /// grouping factor, so the residual variance is not identified.
    ConstantWithinGroups,
    /// After the fit: the residual standard deviation went to zero.
    ResidualVanishes,
}

impl WarningKind {
    /// The kind's name (`nobs_vs_nlev`, `nobs_vs_nre`, `reversed_term`,
    /// `constant_within_groups`, `residual_vanishes`).
    pub fn name(self) -> &'static str {
        match self {
            WarningKind::NobsVsNlev => "nobs_vs_nlev",
            WarningKind::NobsVsNre => "nobs_vs_nre",
            WarningKind::ReversedTerm => "reversed_term",
            WarningKind::ConstantWithinGroups => "constant_within_groups",
            WarningKind::ResidualVanishes => "residual_vanishes",
        }
    }
}

/// A warning about a model: its kind, the term involved and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelWarning {
    /// What the warning is about.
    pub kind: WarningKind,
    /// The grouping factor or random-effects term involved, if any.
    pub term: Option<String>,
    /// The sentence saying why.
    pub message: String,
}
