//! The presentation layer: model summaries, variance components,
//! coefficient and likelihood-ratio-test tables as values ([`Table`],
//! [`Document`]) built once from the models' public extractors, and rendered
//! as plain text (the layout of the MixedModels.jl manual), Markdown, HTML
//! (a real `<table>`) or LaTeX (`tabular`).
//!
//! ```no_run
//! use mixedmodels::present::{lmm_summary, Format};
//! # fn show(m: &mixedmodels::LinearMixedModel) -> mixedmodels::Result<()> {
//! let doc = lmm_summary(m)?;
//! println!("{}", doc.render(Format::Markdown));
//! # Ok(()) }
//! ```

mod build;
mod cell;
mod html;
mod latex;
mod markdown;
mod table;
mod text;

pub use build::{
    anova_document, coef_df_table, coef_table, emmeans_document, f_test_document, glmm_summary,
    lmm_summary, lrt_table, varcorr_table, write_glmm_summary, write_lmm_summary, EmmColumn,
    WALD_NOTE,
};
pub use cell::{pvalue, shared_decimals, significant, Cell, NumberFormat};
pub use table::{Align, Column, Table, TextLayout, TextStyle};

use crate::error::{Error, Result};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text, the layout of the MixedModels.jl manual.
    Text,
    /// GitHub-flavoured Markdown (pipe tables).
    Markdown,
    /// An HTML fragment with `<table>` elements.
    Html,
    /// A LaTeX fragment with `tabular` environments.
    Latex,
}

impl Format {
    /// The format named `"text"`, `"markdown"`, `"html"` or `"latex"` (any case).
    pub fn from_name(name: &str) -> Result<Format> {
        match name.to_ascii_lowercase().as_str() {
            "text" => Ok(Format::Text),
            "markdown" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            "latex" => Ok(Format::Latex),
            _ => Err(Error::argument(
                "format",
                format!(
                    "unknown format `{name}`; use \"text\", \"markdown\", \"html\" or \"latex\""
                ),
            )),
        }
    }
}

/// One block of a [`Document`].
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A title line (bold in the rich formats).
    Heading(String),
    /// A line of text, indented by `indent` spaces in plain text.
    Line {
        /// Spaces before the text (plain text only).
        indent: usize,
        /// The text.
        text: String,
    },
    /// A formula or other code, indented by `indent` spaces in plain text.
    Code {
        /// Spaces before the text (plain text only).
        indent: usize,
        /// The code.
        text: String,
    },
    /// `key: value`, indented by `indent` spaces in plain text.
    KeyValue {
        /// Spaces before the key (plain text only).
        indent: usize,
        /// The key.
        key: String,
        /// The value.
        value: Cell,
    },
    /// A table.
    Table(Table),
    /// An empty line in plain text (the rich formats separate blocks anyway).
    Blank,
    /// A block shown in Markdown, HTML and LaTeX but not in plain text.
    RichOnly(Box<Block>),
}

/// A sequence of blocks: a model summary.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    /// The blocks, in order.
    pub blocks: Vec<Block>,
}

impl Document {
    /// Append a block.
    pub fn push(&mut self, block: Block) {
        self.blocks.push(block);
    }

    /// The document written in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => text::document(self),
            Format::Markdown => markdown::document(self),
            Format::Html => html::document(self),
            Format::Latex => latex::document(self),
        }
    }
}

impl Table {
    /// The table written in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => text::table(self),
            Format::Markdown => markdown::table(self),
            Format::Html => html::table(self),
            Format::Latex => latex::table(self),
        }
    }
}

#[cfg(test)]
mod tests;
