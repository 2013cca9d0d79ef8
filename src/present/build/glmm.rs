//! The summary of a generalized linear mixed model: method and nAGQ,
//! formula, distribution, link, the dispersion (families that have one),
//! deviance (the objective), variance components, counts, fixed-effects table.

use crate::model::MixedModel;
use std::fmt;

use super::{coef_table, counts, varcorr_table};
use crate::error::{Error, Result};
use crate::glmm::GeneralizedLinearMixedModel;
use crate::present::{Align, Block, Cell, Column, Document, Format, NumberFormat, Table};

/// logLik, deviance (the objective), AIC and BIC: shown in the rich formats.
fn fit_statistics(m: &GeneralizedLinearMixedModel) -> Table {
    let columns = ["logLik", "deviance", "AIC", "BIC"]
        .into_iter()
        .map(|h| Column::new(h, Align::Right))
        .collect();
    let mut t = Table::new(columns);
    t.push_row(
        [
            m.loglikelihood().unwrap_or(f64::NAN),
            m.objective(),
            m.aic().unwrap_or(f64::NAN),
            m.bic().unwrap_or(f64::NAN),
        ]
        .into_iter()
        .map(|v| Cell::Number(v, NumberFormat::Fixed(4)))
        .collect(),
    );
    t
}

/// The approximation and the dispersion φ (with k = 1/φ for NB2, and the
/// standard error of log φ when it was computed) of a family with a
/// dispersion parameter.
fn dispersion_lines(m: &GeneralizedLinearMixedModel, phi: f64, doc: &mut Document) {
    let kv = |key: &str, value: Cell| Block::KeyValue {
        indent: 2,
        key: key.into(),
        value,
    };
    doc.push(kv(
        "Approximation",
        Cell::text("Laplace with the observed information (glmmTMB's)"),
    ));
    let name = m.family().dispersion_name();
    let text = match m.dispersion_log_stderror() {
        Some(se) => format!("{name} = {phi:.6} (SE of log phi {se:.4})"),
        None => format!("{name} = {phi:.6}"),
    };
    doc.push(kv("Dispersion", Cell::text(text)));
    if m.family() == crate::glmm::Family::NegativeBinomial {
        doc.push(kv(
            "Size k",
            Cell::Number(1.0 / phi, NumberFormat::Fixed(4)),
        ));
    }
}

/// The summary document of `m` in whatever state it is in.
fn document(m: &GeneralizedLinearMixedModel) -> Document {
    let mut doc = Document::default();
    let kv = |key: &str, value: Cell| Block::KeyValue {
        indent: 2,
        key: key.into(),
        value,
    };
    doc.push(Block::Heading(format!(
        "Generalized Linear Mixed Model fit by maximum likelihood (nAGQ = {})",
        m.nagq()
    )));
    doc.push(Block::Code {
        indent: 2,
        text: m.terms().spec.source.trim().to_string(),
    });
    doc.push(kv("Distribution", Cell::text(m.family().name())));
    doc.push(kv("Link", Cell::text(m.link().name())));
    if let Some(phi) = m.dispersion() {
        dispersion_lines(m, phi, &mut doc);
    }
    doc.push(Block::Blank);
    doc.push(kv(
        "Deviance",
        Cell::Number(m.objective(), NumberFormat::Fixed(4)),
    ));
    doc.push(Block::RichOnly(Box::new(Block::Table(fit_statistics(m)))));
    doc.push(Block::Blank);
    doc.push(Block::Table(varcorr_table(&m.varcorr())));
    doc.push(Block::Blank);
    doc.blocks.extend(counts(m.nobs(), m.terms()));
    doc.push(Block::Blank);
    doc.push(Block::Table(coef_table(&m.coeftable())));
    doc
}

/// The summary of a fitted generalized linear mixed model as a
/// [`Document`]; an [`Error::NotFitted`] for an unfitted one.
pub fn glmm_summary(m: &GeneralizedLinearMixedModel) -> Result<Document> {
    if !m.is_fitted() {
        return Err(Error::not_fitted("the summary"));
    }
    Ok(document(m))
}

/// Write the plain-text summary of `m` (fitted or not: the state it is in),
/// as `Display` prints it.
pub fn write_glmm_summary(
    m: &GeneralizedLinearMixedModel,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    f.write_str(&document(m).render(Format::Text))
}
