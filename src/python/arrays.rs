//! Buffers from the core handed to Python as numpy arrays.

use ndarray::{Array2, ShapeBuilder};
use numpy::{IntoPyArray, PyArray2};
use pyo3::prelude::*;

/// A column-major `rows × cols` buffer as a 2-d array.
pub fn colmajor<'py>(
    py: Python<'py>,
    rows: usize,
    cols: usize,
    data: Vec<f64>,
) -> Bound<'py, PyArray2<f64>> {
    Array2::from_shape_vec((rows, cols).f(), data)
        .expect("shape matches data")
        .into_pyarray(py)
}

/// A row-major `rows × cols` buffer as a 2-d array.
pub fn rowmajor<'py>(
    py: Python<'py>,
    rows: usize,
    cols: usize,
    data: Vec<f64>,
) -> Bound<'py, PyArray2<f64>> {
    Array2::from_shape_vec((rows, cols), data)
        .expect("shape matches data")
        .into_pyarray(py)
}
