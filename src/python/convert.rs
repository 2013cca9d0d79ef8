//! Conversions between Python objects and the crate's types: columns,
//! contrasts and errors. Nothing statistical happens here.

use std::collections::HashMap;

use numpy::{PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::exceptions::{PyKeyboardInterrupt, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::contrasts::Coding;
use crate::data::{Column, Data};
use crate::error::Error;
use crate::terms::MissingPolicy;

/// The Python module holding the exception and warning classes.
const ERRORS_MODULE: &str = "mixedmodels._errors";

/// Map a crate error to the typed Python exception of `mixedmodels._errors`
/// (`DataError`, `FormulaError`, ...), with the variant's fields as attributes
/// and the error's message as `str(e)`; [`Error::Interrupted`] becomes
/// `KeyboardInterrupt`.
pub fn to_pyerr(e: Error) -> PyErr {
    if matches!(e, Error::Interrupted) {
        return PyKeyboardInterrupt::new_err(e.to_string());
    }
    Python::attach(|py| {
        typed_error(py, &e).unwrap_or_else(|_| PyValueError::new_err(e.to_string()))
    })
}

/// An `ArgumentTypeError` for `parameter` (a value of the wrong type).
pub fn argument_type_error(parameter: &str, message: String) -> PyErr {
    Python::attach(|py| {
        let fields = PyDict::new(py);
        fields
            .set_item("parameter", parameter)
            .and_then(|_| instantiate(py, "ArgumentTypeError", message.clone(), &fields))
            .unwrap_or_else(|_| PyTypeError::new_err(message))
    })
}

/// The exception class for `e` and its fields.
fn typed_error(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let fields = PyDict::new(py);
    let class = match e {
        Error::Formula(f) => {
            fields.set_item("formula", &f.formula)?;
            fields.set_item("position", f.position)?;
            "FormulaError"
        }
        Error::Column { column, .. } => {
            fields.set_item("column", column)?;
            "DataError"
        }
        Error::Level { column, level, .. } => {
            fields.set_item("column", column)?;
            fields.set_item("level", level)?;
            "DataError"
        }
        Error::Row { column, row, .. } => {
            fields.set_item("column", column)?;
            fields.set_item("row", row)?;
            "DataError"
        }
        Error::Term { term, .. } => {
            fields.set_item("term", term)?;
            "DataError"
        }
        Error::Type { term, column, .. } => {
            fields.set_item("term", term)?;
            fields.set_item("column", column)?;
            "DataTypeError"
        }
        Error::Data(_) => "DataError",
        Error::NoRandomEffects { formula } => {
            fields.set_item("formula", formula)?;
            "NoRandomEffectsError"
        }
        Error::Argument { parameter, .. } => {
            fields.set_item("parameter", parameter)?;
            "ArgumentError"
        }
        Error::NotPositiveDefinite { term, row } => {
            fields.set_item("term", term)?;
            fields.set_item("row", row)?;
            "SingularModelError"
        }
        Error::Separation {
            coefficients,
            at_bound,
            nobs,
        } => {
            fields.set_item("coefficients", coefficients)?;
            fields.set_item("at_bound", at_bound)?;
            fields.set_item("nobs", nobs)?;
            "SeparationError"
        }
        Error::Convergence { .. } => "ConvergenceError",
        Error::NotFitted { what } => {
            fields.set_item("what", what)?;
            "NotFittedError"
        }
        Error::RowsNotStored { what } => {
            fields.set_item("what", what)?;
            "RowsNotStoredError"
        }
        Error::Restore { .. } => "RestoreError",
        Error::Comparison {
            model,
            other,
            reason,
            ..
        } => {
            fields.set_item("model", model)?;
            fields.set_item("other", other)?;
            fields.set_item("reason", reason)?;
            match reason.as_str() {
                "fixed effects" | "random effects" => "NotNestedError",
                _ => "ModelComparisonError",
            }
        }
        Error::Interrupted => return Ok(PyKeyboardInterrupt::new_err(e.to_string())),
    };
    instantiate(py, class, e.to_string(), &fields)
}

/// `class(message, **fields)` from [`ERRORS_MODULE`], as a `PyErr`.
fn instantiate(
    py: Python<'_>,
    class: &str,
    message: String,
    fields: &Bound<'_, PyDict>,
) -> PyResult<PyErr> {
    let class = py.import(ERRORS_MODULE)?.getattr(class)?;
    Ok(PyErr::from_value(class.call((message,), Some(fields))?))
}

/// Build a [`Data`] from a dict: name → float64 array (numeric, with an
/// `integer` flag as a tuple `(array, bool)`) or `(uint32 codes, [levels])`.
pub fn data_from_dict(columns: &Bound<'_, PyDict>) -> PyResult<Data> {
    let mut data = Data::new();
    for (key, value) in columns.iter() {
        let name: String = key.extract()?;
        let tuple = value.cast::<PyTuple>().map_err(|_| {
            to_pyerr(Error::wrong_type(
                &name,
                &name,
                "expected a tuple from the Python layer",
            ))
        })?;
        let first = tuple.get_item(0)?;
        let column = if let Ok(arr) = first.extract::<PyReadonlyArray1<'_, f64>>() {
            let integer: bool = tuple.get_item(1)?.extract()?;
            Column::Numeric {
                values: arr
                    .as_slice()
                    .map(<[f64]>::to_vec)
                    .unwrap_or_else(|_| arr.as_array().to_vec()),
                integer,
            }
        } else if let Ok(arr) = first.extract::<PyReadonlyArray1<'_, u32>>() {
            let levels: Vec<String> = tuple.get_item(1)?.extract()?;
            let codes = arr.as_array().to_vec();
            let _ = arr.len();
            Column::Categorical { codes, levels }
        } else {
            return Err(to_pyerr(Error::wrong_type(
                &name,
                &name,
                "expected a float64 or uint32 array",
            )));
        };
        data.add_column(name, column).map_err(to_pyerr)?;
    }
    Ok(data)
}

/// Contrasts from a dict: name → `("dummy", base | None)`, `("effects", base | None)`,
/// `("helmert",)`, `("seqdiff",)`, `("hypothesis", rows, labels | None)`, `("fulldummy",)`.
pub fn contrasts_from_dict(
    contrasts: Option<&Bound<'_, PyDict>>,
) -> PyResult<HashMap<String, Coding>> {
    let mut out = HashMap::new();
    let Some(d) = contrasts else { return Ok(out) };
    for (key, value) in d.iter() {
        let name: String = key.extract()?;
        let t = value.cast::<PyTuple>().map_err(|_| {
            argument_type_error(
                "contrasts",
                format!("contrast for `{name}`: expected a coding object"),
            )
        })?;
        let kind: String = t.get_item(0)?.extract()?;
        let base = || -> PyResult<Option<String>> {
            if t.len() > 1 {
                t.get_item(1)?.extract()
            } else {
                Ok(None)
            }
        };
        let coding = match kind.as_str() {
            "dummy" => match base()? {
                Some(b) => Coding::DummyBase(b),
                None => Coding::Dummy,
            },
            "effects" => Coding::Effects(base()?),
            "helmert" => Coding::Helmert,
            "seqdiff" => Coding::SeqDiff,
            "fulldummy" => Coding::FullDummy,
            "hypothesis" => Coding::Hypothesis {
                hypotheses: t.get_item(1)?.extract()?,
                labels: t.get_item(2)?.extract()?,
            },
            other => {
                return Err(to_pyerr(Error::argument(
                    "contrasts",
                    format!("contrast for `{name}`: unknown coding {other:?}"),
                )))
            }
        };
        out.insert(name, coding);
    }
    Ok(out)
}

/// `"error"`, `"warn"` or `"ignore"` (the `check_nobs` argument).
pub fn check_action(s: &str) -> PyResult<crate::checks::CheckAction> {
    crate::checks::CheckAction::from_name(s).map_err(to_pyerr)
}

/// A model's warnings as (kind, term, message) tuples for the Python layer.
pub fn warning_tuples(
    warnings: Vec<crate::checks::ModelWarning>,
) -> Vec<(&'static str, Option<String>, String)> {
    warnings
        .into_iter()
        .map(|w| (w.kind.name(), w.term, w.message))
        .collect()
}

/// `"drop"` or `"raise"`.
pub fn missing_policy(s: &str) -> PyResult<MissingPolicy> {
    match s {
        "drop" => Ok(MissingPolicy::Drop),
        "raise" => Ok(MissingPolicy::Raise),
        other => Err(to_pyerr(Error::argument(
            "missing",
            format!("must be \"drop\" or \"raise\", got {other:?}"),
        ))),
    }
}
