//! The fixed-effects coefficient table.

use crate::lmm::CoefRow;
use crate::present::{Align, Cell, Column, NumberFormat, Table};

/// The fixed-effects table (estimate, standard error, z, p; six significant
/// digits), ruled in plain text as in the MixedModels.jl manual.
pub fn coef_table(rows: &[CoefRow]) -> Table {
    let sig = |x: f64| Cell::Number(x, NumberFormat::Significant(6));
    let mut t = Table::new(vec![
        Column::new("", Align::Left),
        Column::new("Estimate", Align::Right),
        Column::new("Std.Error", Align::Right),
        Column::new("z value", Align::Right),
        Column::new("P(>|z|)", Align::Right),
    ])
    .with_caption("Fixed-effects parameters");
    t.style.ruled = true;
    for r in rows {
        t.push_row(vec![
            Cell::text(r.name.clone()),
            sig(r.estimate),
            sig(r.stderror),
            sig(r.z),
            Cell::Number(r.p, NumberFormat::PValue),
        ]);
    }
    t
}
