"""What the local and the Dask streaming paths share: the builder of a streamed model,
a chunk's columns coded for it, and the checks on a chunk's columns."""

from __future__ import annotations

from typing import Any

import polars as pl

from . import _core
from ._contrasts import contrast_specs
from ._data import encode_columns
from ._errors import ArgumentError, DataError


def check_present(schema_names: list[str], names: list[str]) -> None:
    """A DataError naming the first formula column missing from the data."""
    for name in names:
        if name not in schema_names:
            shown = ", ".join(schema_names[:12]) + (" …" if len(schema_names) > 12 else "")
            raise DataError(
                f"column `{name}` not found in the data (columns: {shown})", column=name
            )


def is_string_like(dtype: Any) -> bool:
    """Does a column of this type get its levels from its values (sorted)?"""
    return dtype == pl.String or isinstance(dtype, pl.Categorical)


def encode_chunk(df: pl.DataFrame, names: list[str], levels: dict[str, list[str]]) -> dict:
    """A chunk's columns encoded for the native module, string columns coded in the
    levels of the whole data."""
    casts = [pl.col(n).cast(pl.String).cast(pl.Enum(lv)) for n, lv in levels.items()]
    if casts:
        df = df.with_columns(casts)
    return encode_columns(df, names)


def new_builder(formula: str, options: dict) -> Any:
    """A native builder for ``formula`` with the model's keyword options."""
    for what in ("weights", "offset"):
        if options.get(what) is not None:
            raise ArgumentError(
                f"{what} per row are not supported when the data are streamed in chunks "
                "(use offset(...) in the formula for an offset column)",
                parameter=what,
            )
    return _core.StreamBuilder(
        formula,
        contrast_specs(options.get("contrasts")),
        options.get("sigma"),
        options.get("missing", "drop"),
        options.get("threads"),
        options.get("_zerocorr"),
        options.get("check_nobs", "error"),
    )
