//! The crate's error type: every failure is a value that names what went wrong.
//!
//! Each variant keeps its fields (the column, term, level, row, parameter or
//! coefficients involved), so that callers — the Python layer among them —
//! can act on them without reading the message. The messages speak of the
//! model and the data, and say what to try.

use std::fmt;

/// Everything that can go wrong while specifying or fitting a model.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The formula could not be parsed or expanded (position and formula kept).
    Formula(crate::formula::FormulaError),
    /// A column is missing, has the wrong type, or holds unusable values.
    Column {
        /// The column's name in the data.
        column: String,
        /// What is wrong with it.
        message: String,
    },
    /// A level of a categorical column (a contrast's base level, say) is unusable.
    Level {
        /// The column (or grouping factor) the level belongs to.
        column: String,
        /// The level's label.
        level: String,
        /// What is wrong with it.
        message: String,
    },
    /// A value in one row of the data is unusable (a weight, offset or response).
    Row {
        /// The column (or argument, such as `weights`) holding the value.
        column: String,
        /// The row's index in the data as given (0-based).
        row: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A model term cannot be built from the data (names the term).
    Term {
        /// The term's label (`Days`, `(1 | Subject)`, `Subject`, a response).
        term: String,
        /// What is wrong with it.
        message: String,
    },
    /// A value has the wrong type: a categorical column where the model needs
    /// numbers (a function of it, a `cbind` count, an LMM or Poisson response).
    Type {
        /// The model term (or response) that needs the value.
        term: String,
        /// The column of the data that has the wrong type.
        column: String,
        /// What is wrong and what the term needs.
        message: String,
    },
    /// The data as a whole cannot support the model (e.g. no rows left).
    Data(String),
    /// The formula has no random-effects term: it is a fixed-effects model,
    /// which lme4 refuses as well.
    NoRandomEffects {
        /// The formula as given.
        formula: String,
    },
    /// An argument passed to a function or method is invalid.
    Argument {
        /// The parameter's name (`theta`, `weights`, `nagq`, …).
        parameter: String,
        /// What is wrong with the value given.
        message: String,
    },
    /// The penalised least-squares system could not be factored: the model is
    /// numerically singular at the covariance parameters tried.
    NotPositiveDefinite {
        /// The random-effects term (grouping factor), or `fixed effects`.
        term: String,
        /// Row of that block where the factorization broke down.
        row: usize,
    },
    /// The fixed effects separate the response: no finite estimate exists.
    Separation {
        /// The coefficients carrying the divergent direction.
        coefficients: Vec<String>,
        /// Observations fitted at the bound of the mean.
        at_bound: usize,
        /// Observations in all.
        nobs: usize,
    },
    /// An iterative step (PIRLS) failed to converge.
    Convergence {
        /// What failed, in terms of the model.
        message: String,
    },
    /// A result was asked of a model that has not been fitted.
    NotFitted {
        /// What was asked for.
        what: String,
    },
    /// A result that needs the rows of the data was asked of a model built
    /// from data streamed in chunks, which keeps only A = [Z X y]ᵀ[Z X y].
    RowsNotStored {
        /// What was asked for (`fitted`, `residuals`, `leverage`, ...).
        what: String,
    },
    /// The computation was interrupted (Ctrl-C); the model is left unfitted.
    Interrupted,
    /// Models given to a likelihood-ratio test cannot be compared: another
    /// family, other rows or response, or not nested.
    Comparison {
        /// Position (1-based, in the order given) of the model that differs.
        model: usize,
        /// Position of the model it was compared with.
        other: usize,
        /// What differs: `family`, `rows`, `response`, `weights`,
        /// `fixed effects` or `random effects` (the last two: not nested).
        reason: String,
        /// How it differs.
        message: String,
    },
    /// A saved fit could not be read or does not belong to this model.
    Restore {
        /// What is wrong with the saved fit.
        message: String,
    },
}

impl Error {
    /// An [`Error::Argument`] for `parameter`.
    pub fn argument(parameter: &str, message: impl Into<String>) -> Self {
        Error::Argument {
            parameter: parameter.to_string(),
            message: message.into(),
        }
    }

    /// An [`Error::Type`]: `column` of the data is categorical where `term`
    /// needs numbers.
    pub fn wrong_type(term: &str, column: &str, message: impl Into<String>) -> Self {
        Error::Type {
            term: term.to_string(),
            column: column.to_string(),
            message: message.into(),
        }
    }

    /// An [`Error::NotFitted`] for `what`.
    pub fn not_fitted(what: &str) -> Self {
        Error::NotFitted {
            what: what.to_string(),
        }
    }
}

/// Shorthand for results carrying [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Formula(e) => write!(f, "{e}"),
            Error::Column { column, message } => write!(f, "column `{column}`: {message}"),
            Error::Level {
                column,
                level,
                message,
            } => write!(f, "column `{column}`, level `{level}`: {message}"),
            Error::Row {
                column,
                row,
                message,
            } => write!(f, "`{column}`, row {row}: {message}"),
            Error::Term { term, message } | Error::Type { term, message, .. } => {
                write!(f, "term `{term}`: {message}")
            }
            Error::Data(m) => f.write_str(m),
            Error::NoRandomEffects { formula } => write!(
                f,
                "the formula `{formula}` has no random-effects term such as `(1 | group)`: it \
                 describes a fixed-effects model, which is fitted by ordinary (or generalized) \
                 least squares, not as a mixed model; add a random-effects term or use a \
                 linear-model package (e.g. statsmodels' `ols` or `glm`)"
            ),
            Error::Argument { parameter, message } => write!(f, "`{parameter}`: {message}"),
            Error::NotPositiveDefinite { term, row } => write!(
                f,
                "the model is numerically singular at these covariance parameters: the \
                 conditional covariance of {term} has no positive variance left at its row {row} \
                 (the random effects are collinear with each other or with the fixed effects); \
                 simplify the random-effects structure (fewer columns, or uncorrelated terms with \
                 `||` / zerocorr) or rescale the predictors"
            ),
            Error::Separation {
                coefficients,
                at_bound,
                nobs,
            } => {
                let names = coefficients
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                write!(
                    f,
                    "the fixed effects separate the response: {at_bound} of {nobs} observations \
                     are fitted exactly at the bound of the mean (probability 0 or 1, or a zero \
                     count), and the estimate of {names} grows without bound, so the model has no \
                     finite maximum likelihood estimate; remove or merge the predictor or factor \
                     level that predicts the response perfectly"
                )
            }
            Error::Convergence { message } => f.write_str(message),
            Error::RowsNotStored { what } => write!(
                f,
                "`{what}` needs the rows of the data, and this model was built from data \
                 streamed in chunks, which keeps only their sums of squares and products"
            ),
            Error::NotFitted { what } => write!(
                f,
                "{what} needs a fitted model; call `fit` first (or restore a saved fit)"
            ),
            Error::Interrupted => f.write_str("interrupted; the model is left unfitted"),
            Error::Restore { message } => write!(f, "cannot restore the saved fit: {message}"),
            Error::Comparison {
                model,
                other,
                message,
                ..
            } => write!(
                f,
                "model {model} cannot be compared with model {other}: {message}"
            ),
        }
    }
}

impl std::error::Error for Error {}

impl From<crate::formula::FormulaError> for Error {
    fn from(e: crate::formula::FormulaError) -> Self {
        Error::Formula(e)
    }
}
