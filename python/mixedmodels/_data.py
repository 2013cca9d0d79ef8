"""Turning user data into the columns the native module takes.

Only the columns a formula uses are converted. Numeric columns become float64 arrays
(nulls as NaN); String, Categorical, Enum and Boolean columns become uint32 codes plus
level labels. Level order: the Enum's category order, else sorted (Boolean: false,
true); the first level is the reference level of treatment contrasts. Nulls in a
categorical column get the code 2**32 - 1, which the core treats as missing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from ._errors import ArgumentError, ArgumentTypeError, DataError, DataTypeError

MISSING_CODE = np.uint32(0xFFFFFFFF)

#: Up to this many rows, level codes are looked up in Python: polars's own route
#: (an expression evaluated through a lazy frame) costs about 25 µs whatever the
#: length, which dominated the construction of small models (dyestuff: 3.5 µs
#: instead of 28 µs); the lookup costs about 0.08 µs a row.
SMALL_COLUMN = 256


def _codes_by_lookup(values: list, levels: list[str]) -> np.ndarray:
    """uint32 codes of ``values`` (strings or None) in ``levels``, None → MISSING_CODE."""
    index = {level: code for code, level in enumerate(levels)}
    missing = int(MISSING_CODE)
    return np.fromiter(
        (missing if v is None else index[v] for v in values), dtype=np.uint32, count=len(values)
    )


def to_polars(data: Any) -> pl.DataFrame:
    """Accept a polars DataFrame, a pandas DataFrame, a pyarrow Table or a dict of columns."""
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, pl.LazyFrame):
        return data.collect()
    module = type(data).__module__
    if module.startswith("pandas"):
        return pl.from_pandas(data)
    if module.startswith("pyarrow"):
        out = pl.from_arrow(data)
        if isinstance(out, pl.DataFrame):
            return out
    if isinstance(data, dict):
        return pl.DataFrame(data)
    raise ArgumentTypeError(
        "data must be a polars DataFrame, a pandas DataFrame, a pyarrow Table or a dict of "
        f"columns, got {type(data).__name__}",
        parameter="data",
    )


def _encode_codes(values: pl.Series, levels: list[str]) -> np.ndarray:
    if values.len() <= SMALL_COLUMN:
        return _codes_by_lookup(values.to_list(), levels)
    codes = values.cast(pl.Enum(levels)).to_physical().cast(pl.UInt32)
    return codes.fill_null(int(MISSING_CODE)).to_numpy().astype(np.uint32, copy=False)


def encode_column(name: str, s: pl.Series) -> tuple:
    """One column as ``(float64 array, is_integer)`` or ``(uint32 codes, levels)``."""
    dtype = s.dtype
    if isinstance(dtype, pl.Enum):
        levels = [str(v) for v in dtype.categories.to_list()]
        if s.len() <= SMALL_COLUMN:
            return (_codes_by_lookup(s.to_list(), levels), levels)
        physical = s.to_physical()
        if physical.null_count():
            physical = physical.cast(pl.UInt32).fill_null(int(MISSING_CODE))
        return (physical.to_numpy().astype(np.uint32, copy=False), levels)
    if isinstance(dtype, pl.Categorical) or dtype == pl.String:
        strings = s.cast(pl.String)
        levels = sorted(strings.drop_nulls().unique().to_list())
        return (_encode_codes(strings, levels), levels)
    if dtype == pl.Boolean:
        strings = s.cast(pl.String)
        return (_encode_codes(strings, ["false", "true"]), ["false", "true"])
    if dtype.is_numeric():
        if s.null_count():
            s = s.cast(pl.Float64).fill_null(float("nan"))
        values = s.to_numpy()  # zero-copy for a float64 column without nulls
        return (np.ascontiguousarray(values, dtype=np.float64), bool(dtype.is_integer()))
    raise DataTypeError(
        f"column `{name}` has type {dtype}; formulas use numeric, string, categorical, "
        "enum or boolean columns",
        column=name,
    )


def encode_columns(df: pl.DataFrame, names: list[str]) -> dict[str, tuple]:
    """Encode the named columns of ``df``; an unknown name is a DataError naming it."""
    for name in names:
        if name not in df.columns:
            shown = ", ".join(df.columns[:12]) + (" …" if df.width > 12 else "")
            raise DataError(
                f"column `{name}` not found in the data (columns: {shown})", column=name
            )
    return {name: encode_column(name, df.get_column(name)) for name in names}


def per_row_values(df: pl.DataFrame, value: Any, what: str) -> list[float] | None:
    """Per-row numbers (``what`` is "weights" or "offset") given as a column name or an
    array with one value per row; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        if value not in df.columns:
            raise DataError(f"{what} column `{value}` not found in the data", column=value)
        series = df.get_column(value)
        if not series.dtype.is_numeric():
            raise DataTypeError(
                f"{what} column `{value}` must be numeric, got {series.dtype}", column=value
            )
        return series.cast(pl.Float64).fill_null(float("nan")).to_list()
    arr = np.asarray(value, dtype=np.float64).ravel()
    if arr.shape[0] != df.height:
        raise ArgumentError(
            f"{what} has length {arr.shape[0]}, the data have {df.height} rows", parameter=what
        )
    return arr.tolist()
