//! Conversions between Python objects and the crate's types: columns,
//! contrasts and errors. Nothing statistical happens here.

use std::collections::HashMap;

use numpy::{PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::contrasts::Coding;
use crate::data::{Column, Data};
use crate::error::Error;
use crate::terms::MissingPolicy;

/// Map a crate error to the Python exception a user expects.
pub fn to_pyerr(e: Error) -> PyErr {
    match &e {
        Error::Interrupted => pyo3::exceptions::PyKeyboardInterrupt::new_err(e.to_string()),
        Error::Term { message, .. } | Error::Column { message, .. }
            if message.contains("is categorical") || message.contains("needs a numeric") =>
        {
            PyTypeError::new_err(e.to_string())
        }
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// Build a [`Data`] from a dict: name → float64 array (numeric, with an
/// `integer` flag as a tuple `(array, bool)`) or `(uint32 codes, [levels])`.
pub fn data_from_dict(columns: &Bound<'_, PyDict>) -> PyResult<Data> {
    let mut data = Data::new();
    for (key, value) in columns.iter() {
        let name: String = key.extract()?;
        let tuple = value.cast::<PyTuple>().map_err(|_| {
            PyTypeError::new_err(format!(
                "column `{name}`: expected a tuple from the Python layer"
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
            return Err(PyTypeError::new_err(format!(
                "column `{name}`: expected a float64 or uint32 array"
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
            PyTypeError::new_err(format!("contrast for `{name}`: expected a coding object"))
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
                return Err(PyValueError::new_err(format!(
                    "contrast for `{name}`: unknown coding {other:?}"
                )))
            }
        };
        out.insert(name, coding);
    }
    Ok(out)
}

/// `"drop"` or `"raise"`.
pub fn missing_policy(s: &str) -> PyResult<MissingPolicy> {
    match s {
        "drop" => Ok(MissingPolicy::Drop),
        "raise" => Ok(MissingPolicy::Raise),
        other => Err(PyValueError::new_err(format!(
            "missing must be \"drop\" or \"raise\", got {other:?}"
        ))),
    }
}
