//! The summary of a linear mixed model: method, formula, fit statistics,
//! variance components, counts, fixed-effects table.

use crate::model::MixedModel;
use std::fmt;

use super::{coef_table, counts, varcorr_table};
use crate::error::{Error, Result};
use crate::lmm::LinearMixedModel;
use crate::present::{Align, Block, Cell, Column, Document, Format, NumberFormat, Table};

/// logLik, −2 logLik, AIC and BIC of an ML fit, five decimals, in equally
/// wide columns.
fn fit_statistics(m: &LinearMixedModel) -> Table {
    let objective = m.objective();
    let dof = m.dof() as f64;
    let n = m.nobs() as f64;
    let stats = [
        -0.5 * objective,
        objective,
        objective + 2.0 * dof,
        objective + dof * n.ln(),
    ];
    let cells: Vec<Cell> = stats
        .iter()
        .map(|&v| Cell::Number(v, NumberFormat::Fixed(5)))
        .collect();
    let width = cells
        .iter()
        .map(|c| c.render().len())
        .max()
        .unwrap_or(10)
        .max(9)
        + 1;
    let columns = ["logLik", "-2 logLik", "AIC", "BIC"]
        .into_iter()
        .map(|h| Column::new(h, Align::Right).gap(1).min_width(width))
        .collect();
    let mut t = Table::new(columns);
    t.push_row(cells);
    t
}

/// The summary document of `m` in whatever state it is in.
fn document(m: &LinearMixedModel) -> Document {
    let mut doc = Document::default();
    let method = if m.is_reml() {
        "REML"
    } else {
        "maximum likelihood"
    };
    doc.push(Block::Heading(format!(
        "Linear mixed model fit by {method}"
    )));
    doc.push(Block::Code {
        indent: 1,
        text: m.terms.spec.source.trim().to_string(),
    });
    if m.is_reml() {
        doc.push(Block::KeyValue {
            indent: 1,
            key: "REML criterion at convergence".into(),
            value: Cell::Number(m.objective(), NumberFormat::Shortest),
        });
    } else {
        doc.push(Block::Table(fit_statistics(m)));
    }
    doc.push(Block::Blank);
    doc.push(Block::Table(varcorr_table(&m.varcorr())));
    doc.blocks.extend(counts(m.nobs(), &m.terms));
    doc.push(Block::Blank);
    let mut coef = coef_table(&m.coeftable());
    coef.style.caption_indent = 2;
    doc.push(Block::Table(coef));
    doc
}

/// The summary of a fitted linear mixed model as a [`Document`]; an
/// [`Error::NotFitted`] for an unfitted one.
pub fn lmm_summary(m: &LinearMixedModel) -> Result<Document> {
    if !m.is_fitted() {
        return Err(Error::not_fitted("the summary"));
    }
    Ok(document(m))
}

/// Write the plain-text summary of `m` (fitted or not: the state it is in),
/// as `Display` prints it.
pub fn write_lmm_summary(m: &LinearMixedModel, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(&document(m).render(Format::Text))
}
