//! The model-formula language of lme4 and MixedModels.jl.
//!
//! A formula such as `Reaction ~ 1 + Days + (1 + Days | Subject)` is turned
//! into a symbolic [`ModelSpec`] in two stages:
//!
//! 1. [`parse`] tokenises the text and builds an [`ast::Formula`] by
//!    recursive descent, keeping the character span of every node so that
//!    errors can point at the offending character;
//! 2. [`parse_formula`] expands that tree with R's term algebra (crossing,
//!    nesting, removal, intercept control) into the response (a column, an
//!    arithmetic expression of columns, or `cbind(successes, failures)`),
//!    fixed-effects terms, random-effects terms and offsets.
//!
//! No data is involved: whether a variable is numeric or categorical is
//! decided later, when the spec meets a data frame.

pub mod ast;

mod algebra;
mod expand;
mod lexer;
mod numexpr;
mod parser;
mod spec;

#[cfg(test)]
mod tests;

use std::fmt;

pub use expand::parse_formula;
pub use numexpr::{ArithOp, Func, NumExpr};
pub use parser::parse;
pub use spec::{Atom, CbindSpec, ModelSpec, RandomSpec, ResponseSpec, Term, TermsSpec};

/// A formula that could not be parsed or expanded.
///
/// `position` is a character (not byte) index into `formula`; it may equal the
/// formula's length when the problem is an unexpected end of input. The
/// `Display` form shows the message, the formula, and a caret under the
/// offending character.
#[derive(Debug, Clone, PartialEq)]
pub struct FormulaError {
    /// What went wrong, naming the token, function or term involved.
    pub message: String,
    /// Character index of the offending character in `formula`.
    pub position: usize,
    /// The complete formula text as given.
    pub formula: String,
}

impl FormulaError {
    /// Builds an error for `formula` at character index `position`.
    pub fn new(message: impl Into<String>, position: usize, formula: &str) -> Self {
        FormulaError {
            message: message.into(),
            position,
            formula: formula.to_string(),
        }
    }
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.message)?;
        // Line breaks inside the formula would separate it from its caret.
        let shown: String = self
            .formula
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
            .collect();
        writeln!(f, "{shown}")?;
        // Tabs are echoed as tabs so the caret lines up however they render.
        let pad: String = self
            .formula
            .chars()
            .take(self.position)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(f, "{pad}^")
    }
}

impl std::error::Error for FormulaError {}
