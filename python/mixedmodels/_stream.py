"""Linear mixed models from data that are not held in memory.

A = [Z X y]ᵀ[Z X y] is a sum over rows whose size is set by the numbers of levels and
columns, so it is accumulated chunk by chunk (in the native module) and the model fitted
from A alone. The data are read twice: pass 1 lists the levels of the string and
categorical columns the formula uses (so that every chunk codes them alike), pass 2 reads
the chunks (at most ``chunk_rows`` rows each) and adds them to the sums.

When the data are streamed: a Parquet path or glob, a polars LazyFrame, a pyarrow dataset
or a Dask DataFrame is always streamed; an in-memory table (polars, pandas, pyarrow Table,
dict) is streamed when ``chunk_rows`` is given. Memory: the blocks of A plus one chunk.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl

from . import _core
from ._chunks import check_present, encode_chunk, is_string_like, new_builder
from ._data import to_polars
from ._errors import ArgumentError, ArgumentTypeError

#: Rows per chunk when streaming without ``chunk_rows``.
DEFAULT_CHUNK_ROWS = 1_000_000


def is_dask_frame(data: Any) -> bool:
    """Is ``data`` a Dask DataFrame (checked without importing Dask)?"""
    module = type(data).__module__
    return module.startswith("dask") and hasattr(data, "map_partitions")


def is_streamed_source(data: Any) -> bool:
    """Is ``data`` a source that is streamed whatever ``chunk_rows`` (a Parquet path or
    glob, a LazyFrame, a pyarrow dataset, a Dask DataFrame)?"""
    if isinstance(data, str | os.PathLike | pl.LazyFrame) or is_dask_frame(data):
        return True
    return is_pyarrow_dataset(data)


def check_chunk_rows(chunk_rows: Any) -> int:
    """``chunk_rows`` as a positive int (the default when None)."""
    if chunk_rows is None:
        return DEFAULT_CHUNK_ROWS
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ArgumentError(
            f"chunk_rows must be a positive integer, got {chunk_rows!r}", parameter="chunk_rows"
        )
    return chunk_rows


def is_pyarrow_dataset(data: Any) -> bool:
    """Is ``data`` a pyarrow dataset (checked without importing pyarrow)?"""
    return type(data).__module__.startswith("pyarrow._dataset")


@contextmanager
def sliceable(data: Any) -> Iterator[pl.LazyFrame]:
    """The source as a LazyFrame whose row slices are fixed and cheap, for as long as the
    context is open.

    Parquet files are scanned (a slice reads its row groups only) and an in-memory table
    is wrapped. A LazyFrame query is run once and written to a temporary Parquet file
    (polars' sink, which holds a bounded number of rows at a time) that is scanned
    instead: a query need not give its rows in the same order twice (a sort with ties
    does not), so slicing the query itself could skip rows or read them twice. A pyarrow
    dataset is scanned through polars (its chunks come from :func:`chunks`).
    """
    if isinstance(data, pl.LazyFrame):
        with tempfile.TemporaryDirectory(prefix="mixedmodels-") as folder:
            path = os.path.join(folder, "rows.parquet")
            data.sink_parquet(path, engine="streaming")
            yield pl.scan_parquet(path)
        return
    if isinstance(data, str | os.PathLike):
        path = os.fspath(data)
        if os.path.isdir(path):
            path = os.path.join(path, "**", "*.parquet")
        yield pl.scan_parquet(path)
        return
    if is_pyarrow_dataset(data):
        yield pl.scan_pyarrow_dataset(data)
        return
    yield to_polars(data).lazy()


def used_columns(formula: str) -> list[str]:
    """The columns the formula reads."""
    if not isinstance(formula, str):
        raise ArgumentTypeError(
            f"formula must be a string, got {type(formula).__name__}", parameter="formula"
        )
    return list(_core.describe_formula(formula)["variables"])


def level_lists(lazy: pl.LazyFrame, names: list[str]) -> dict[str, list[str]]:
    """Pass 1: the sorted distinct values of every String or Categorical column in
    ``names`` (the level order of the in-memory path), in one streaming query."""
    schema = lazy.collect_schema()
    check_present(schema.names(), names)
    strings = [n for n in names if is_string_like(schema[n])]
    if not strings:
        return {}
    query = lazy.select(
        [pl.col(n).cast(pl.String).drop_nulls().unique().implode().alias(n) for n in strings]
    )
    row = query.collect(engine="streaming").row(0, named=True)
    return {n: sorted(row[n]) for n in strings}


def chunks(
    data: Any, lazy: pl.LazyFrame, names: list[str], chunk_rows: int
) -> Iterator[pl.DataFrame]:
    """Pass 2: the used columns in chunks of at most ``chunk_rows`` rows, one chunk in
    memory at a time.

    ``lazy`` is the :func:`sliceable` form of ``data``; each chunk is a slice of it,
    collected on its own. (polars' batch iterators, ``collect_batches`` and
    ``sink_batches``, run the query ahead of their consumer: they held all 100M rows of
    the large-data benchmark, 5.6 GiB, while the blocks of A were accumulated.) A pyarrow
    dataset is read by its own scanner, one batch ahead at most.
    """
    if is_pyarrow_dataset(data):
        batches = data.to_batches(
            columns=names, batch_size=chunk_rows, batch_readahead=1, fragment_readahead=1
        )
        for batch in batches:
            if batch.num_rows:
                yield pl.from_arrow(batch)
        return
    query = lazy.select(names)
    total = query.select(pl.len()).collect(engine="streaming").item()
    for start in range(0, total, chunk_rows):
        yield query.slice(start, chunk_rows).collect(engine="streaming")


def build_streamed(
    formula: str, data: Any, chunk_rows: int | None, options: dict
) -> tuple[Any, dict]:
    """The native model of ``formula`` on ``data`` read in chunks (Dask DataFrames go to
    the Dask backend), and what a later pass over the data needs to code its chunks
    alike (``levels``: the level lists of the string columns; for Dask also what the
    workers rebuild the model from, see :func:`._dask.accumulate_dask`)."""
    rows = check_chunk_rows(chunk_rows)
    names = used_columns(formula)
    builder = new_builder(formula, options)
    if is_dask_frame(data):
        from ._dask import accumulate_dask

        record = accumulate_dask(builder, formula, data, names, options)
        return builder.finish(), record
    with sliceable(data) as lazy:
        levels = level_lists(lazy, names)
        for chunk in chunks(data, lazy, names, rows):
            builder.add_chunk(encode_chunk(chunk, names, levels))
    return builder.finish(), {"levels": levels}
