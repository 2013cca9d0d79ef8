//! The tables of estimated marginal means and contrasts: label columns, then
//! numbers (estimates and standard errors to 4 significant digits, df to 2
//! decimals or ∞, ratios to 3 decimals, p-values as the other tables), with
//! emmeans' notes (df method, adjustment, confidence level) below.

use crate::present::{Align, Block, Cell, Column, Document, NumberFormat, Table};

/// One column of an emmeans table.
#[derive(Debug, Clone, PartialEq)]
pub enum EmmColumn {
    /// Labels (factor levels, contrast names).
    Labels(String, Vec<String>),
    /// Estimates, standard errors, interval ends: 4 significant digits.
    Values(String, Vec<f64>),
    /// Degrees of freedom: 2 decimals, ∞ for infinite.
    Df(String, Vec<f64>),
    /// t or z ratios: 3 decimals.
    Ratio(String, Vec<f64>),
    /// p-values.
    PValue(String, Vec<f64>),
}

impl EmmColumn {
    fn header(&self) -> &str {
        match self {
            EmmColumn::Labels(h, _)
            | EmmColumn::Values(h, _)
            | EmmColumn::Df(h, _)
            | EmmColumn::Ratio(h, _)
            | EmmColumn::PValue(h, _) => h,
        }
    }

    fn len(&self) -> usize {
        match self {
            EmmColumn::Labels(_, v) => v.len(),
            EmmColumn::Values(_, v)
            | EmmColumn::Df(_, v)
            | EmmColumn::Ratio(_, v)
            | EmmColumn::PValue(_, v) => v.len(),
        }
    }

    fn cell(&self, i: usize) -> Cell {
        let number = |v: f64, f| {
            if v.is_nan() {
                Cell::Empty
            } else {
                Cell::Number(v, f)
            }
        };
        match self {
            EmmColumn::Labels(_, v) => Cell::text(v[i].clone()),
            EmmColumn::Values(_, v) => number(v[i], NumberFormat::Significant(4)),
            EmmColumn::Df(_, v) if v[i].is_infinite() => Cell::text("∞"),
            EmmColumn::Df(_, v) => number(v[i], NumberFormat::Fixed(2)),
            EmmColumn::Ratio(_, v) => number(v[i], NumberFormat::Fixed(3)),
            EmmColumn::PValue(_, v) => number(v[i], NumberFormat::PValue),
        }
    }
}

/// A document with `caption`, the table of `columns` and the `notes` below it.
pub fn emmeans_document(caption: &str, columns: &[EmmColumn], notes: &[String]) -> Document {
    let mut table = Table::new(
        columns
            .iter()
            .map(|c| {
                let align = if matches!(c, EmmColumn::Labels(..)) {
                    Align::Left
                } else {
                    Align::Right
                };
                Column::new(c.header(), align)
            })
            .collect(),
    )
    .with_caption(caption);
    table.style.ruled = true;
    let n = columns.first().map_or(0, EmmColumn::len);
    for i in 0..n {
        table.push_row(columns.iter().map(|c| c.cell(i)).collect());
    }
    let mut doc = Document::default();
    doc.push(Block::Table(table));
    for note in notes {
        doc.push(Block::Line {
            indent: 0,
            text: note.clone(),
        });
    }
    doc
}
