//! Random-effects terms that look reversed, `(Subject | Days)`: found while
//! the terms are built, where the data's variables are at hand.

use super::{ModelFrame, Variable};
use crate::formula::RandomSpec;
use crate::warning::{ModelWarning, WarningKind};

/// Random-effects terms that look reversed: the grouping factor is a numeric
/// column (not given a coding) while the term's expression holds a factor,
/// as in `(Subject | Days)`, or the grouping factor is a numeric column with
/// non-integer values (a continuous variable). Names the term.
pub fn reversed_terms(specs: &[RandomSpec], frame: &ModelFrame) -> Vec<ModelWarning> {
    let numeric = |name: &str| match frame.variable(name) {
        Ok(Variable::Numeric(v)) => Some(v),
        _ => None,
    };
    let mut out = Vec::new();
    for spec in specs {
        let grouping: Vec<(&String, Vec<f64>)> = spec
            .grouping
            .iter()
            .filter_map(|g| numeric(g).map(|v| (g, v)))
            .collect();
        let Some((g, values)) = grouping.first() else {
            continue;
        };
        let factor = spec
            .effects
            .terms
            .iter()
            .flat_map(|t| t.columns())
            .find(|c| matches!(frame.variable(c), Ok(Variable::Factor { .. })));
        let continuous = values.iter().any(|v| v.fract() != 0.0);
        let why = match (factor, continuous) {
            (Some(f), _) => format!(
                "its grouping factor `{g}` is a numeric column while `{f}`, a factor, is inside \
                 the random-effects expression"
            ),
            (None, true) => format!(
                "its grouping factor `{g}` is a numeric column with non-integer values (a \
                 continuous variable)"
            ),
            (None, false) => continue,
        };
        out.push(ModelWarning {
            kind: WarningKind::ReversedTerm,
            term: Some(spec.label.clone()),
            message: format!(
                "the random-effects term `{}` looks reversed: {why}; the grouping factor goes on \
                 the right of `|` (e.g. `(1 + Days | Subject)`, not `(Subject | Days)`)",
                spec.label
            ),
        });
    }
    out
}
