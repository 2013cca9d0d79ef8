//! The crate's error type: every failure is a value that names what went wrong.

use std::fmt;

/// Everything that can go wrong while specifying or fitting a model.
///
/// Each variant carries a message that names the offending column, term or
/// level, so that the Python layer can surface it unchanged.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The formula could not be parsed or expanded (message quotes the formula).
    Formula(crate::formula::FormulaError),
    /// A column is missing, has the wrong type, or holds unusable values.
    Column { column: String, message: String },
    /// A model term cannot be built from the data (names the term).
    Term { term: String, message: String },
    /// The data as a whole cannot support the model (e.g. no rows left).
    Data(String),
    /// An argument passed to a method is invalid.
    Argument(String),
    /// A numerical failure (e.g. a factor that is not positive definite).
    Numerical(String),
}

/// Shorthand for results carrying [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Formula(e) => write!(f, "{e}"),
            Error::Column { column, message } => write!(f, "column `{column}`: {message}"),
            Error::Term { term, message } => write!(f, "term `{term}`: {message}"),
            Error::Data(m) | Error::Argument(m) | Error::Numerical(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<crate::formula::FormulaError> for Error {
    fn from(e: crate::formula::FormulaError) -> Self {
        Error::Formula(e)
    }
}
