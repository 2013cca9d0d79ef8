//! The likelihood-ratio-test table.

use crate::inference::LrtRow;
use crate::present::{Align, Cell, Column, NumberFormat, Table};

/// Likelihood-ratio tests, one row per model (`labels`, e.g. the formulas):
/// its degrees of freedom, −2 log-likelihood, and against the model before
/// it χ², its degrees of freedom and p (empty in the first row).
pub fn lrt_table(labels: &[String], rows: &[LrtRow]) -> Table {
    let mut t = Table::new(vec![
        Column::new("model", Align::Left),
        Column::new("model-dof", Align::Right),
        Column::new("-2 logLik", Align::Right),
        Column::new("χ²", Align::Right),
        Column::new("χ²-dof", Align::Right),
        Column::new("P(>χ²)", Align::Right),
    ])
    .with_caption("Likelihood-ratio tests");
    t.style.ruled = true;
    let opt = |x: Option<f64>, f: NumberFormat| x.map_or(Cell::Empty, |v| Cell::Number(v, f));
    for (label, r) in labels.iter().zip(rows) {
        t.push_row(vec![
            Cell::text(label.clone()),
            Cell::Integer(r.dof as i64),
            Cell::Number(r.deviance, NumberFormat::Fixed(4)),
            opt(r.chisq, NumberFormat::Fixed(4)),
            r.chisq_dof.map_or(Cell::Empty, |k| Cell::Integer(k as i64)),
            opt(r.p, NumberFormat::PValue),
        ]);
    }
    t
}
