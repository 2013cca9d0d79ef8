"""Fitted values and residuals of a linear mixed model built from streamed data.

Such a model keeps A = [Z X y]ᵀ[Z X y], not the rows, so its fitted values
offset + Xβ̂ + Zb̂ and residuals y − fitted are computed by one more pass over its
source, chunk by chunk (the native ``ChunkFitter``: each chunk's rows coded as new data
are for ``predict``, with the model's levels, contrasts and missing-value rule). The
result has one value per observation used, in the order of the source's rows; nothing
is cached (each call reads the data again).

A Dask DataFrame gives a lazy Dask Series (one task per partition, indexed as the
DataFrame, rows dropped for missing values left out): each worker rebuilds the model
from the summed A kept at the build and installs θ̂, so that nothing but the partition's
rows and the result travels.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import polars as pl

from . import _core
from ._chunks import encode_chunk, new_builder
from ._errors import DataError, RowsNotStoredError
from ._stream import check_chunk_rows, chunks, is_dask_frame, sliceable, used_columns


def is_rereadable(data: Any) -> bool:
    """Can the source be read again (not a one-shot iterator or pyarrow batch reader)?"""
    return not (isinstance(data, Iterator) or type(data).__name__ == "RecordBatchReader")


def streamed_values(
    model: Any, kind: str, random_effects: bool = True, what: str | None = None
) -> Any:
    """``model.fitted()`` (``kind="fitted"``) or ``model.residuals()`` of a model built
    from streamed data: a numpy array, or a lazy Dask Series for a Dask source. Without
    ``random_effects``, the population values offset + Xβ̂ (``predict`` of the fitted
    rows with ``random_effects=False``) and y minus them. ``what`` names the request in
    errors (default ``kind``)."""
    source = model._data
    if not is_rereadable(source):
        what = what or kind
        raise RowsNotStoredError(
            f"`{what}` of a model built from a one-shot source needs the data read again, "
            "which it cannot be",
            what=what,
        )
    if is_dask_frame(source):
        return _dask_values(model, kind, random_effects)
    fitter = _core.ChunkFitter(model._core, model._args["missing"], random_effects)
    names = used_columns(model.formula)
    levels = model._stream["levels"]
    rows = check_chunk_rows(model._args["chunk_rows"])
    parts = []
    with sliceable(source) as lazy:
        for chunk in chunks(source, lazy, names, rows):
            _, fitted, residuals = fitter.chunk(encode_chunk(chunk, names, levels))
            parts.append(fitted if kind == "fitted" else residuals)
    out = np.concatenate(parts) if parts else np.empty(0)
    _check_count(out.size, model.nobs)
    return out


def _check_count(got: int, nobs: int) -> None:
    if got != nobs:
        raise DataError(
            f"the data give {got} observations, the model was built from {nobs}: the source "
            "changed since the model was built"
        )


# ---- Dask ---------------------------------------------------------------------------------

#: Fitters rebuilt on this process (a Dask worker), by the key of their model: the last one.
_FITTERS: dict[str, Any] = {}


def _dask_values(model: Any, kind: str, random_effects: bool) -> Any:
    """A lazy Dask Series of the model's fitted values or residuals."""
    import pandas as pd

    from ._dask import _require_dask

    dask = _require_dask()
    record = model._stream
    theta = [float(t) for t in model.theta]
    state = repr((theta, random_effects)).encode()
    key = hashlib.sha256(record["sums"] + state).hexdigest()
    recipe = {
        "key": key,
        "formula": model.formula,
        "options": model._ctor,
        "names": used_columns(model.formula),
        "levels": record["levels"],
        "coding_rows": record["coding_rows"],
        "sums": record["sums"],
        "theta": theta,
        "missing": model._args["missing"],
        "random_effects": random_effects,
    }
    shared = dask.delayed(recipe, pure=True, traverse=False)
    meta = pd.Series(np.empty(0), dtype="float64", name=kind)
    ddf = model._data
    return ddf.map_partitions(_partition_values, shared, kind, meta=meta, align_dataframes=False)


def _fitter(recipe: dict) -> Any:
    """The native fitter of the recipe's model, rebuilt once per process (the last one
    is kept; a local variable is returned, so threads that rebuild concurrently each
    get theirs)."""
    key = recipe["key"]
    fitter = _FITTERS.get(key)
    if fitter is None:
        builder = new_builder(recipe["formula"], recipe["options"])
        names, levels = recipe["names"], recipe["levels"]
        builder.learn_coding(encode_chunk(recipe["coding_rows"], names, levels))
        builder.merge_bytes(recipe["sums"])
        core = builder.finish()
        core.objective_at(recipe["theta"])
        fitter = _core.ChunkFitter(core, recipe["missing"], recipe["random_effects"])
        _FITTERS.clear()
        _FITTERS[key] = fitter
    return fitter


def _partition_values(pdf: Any, recipe: dict, kind: str) -> Any:
    """The fitted values or residuals of one pandas partition's rows used, indexed as
    the partition."""
    import pandas as pd

    names = recipe["names"]
    df = pl.from_pandas(pdf[names])
    if df.height == 0:
        return pd.Series(np.empty(0), dtype="float64", index=pdf.index[:0], name=kind)
    rows, fitted, residuals = _fitter(recipe).chunk(encode_chunk(df, names, recipe["levels"]))
    values = fitted if kind == "fitted" else residuals
    return pd.Series(values, index=pdf.index[rows], name=kind)
