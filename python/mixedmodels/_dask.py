"""The Dask backend of streamed linear mixed models.

Pass 1 (the levels of the string columns) and pass 2 (the partial sums of A) run on the
workers, one task per partition; the partial sums travel as bytes and are summed as a
binary tree (also on the workers), and only the summed A reaches the client, which
builds and fits the model. Install with ``pip install "mixedmodels[dask]"``.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from . import _core
from ._chunks import check_present, encode_chunk, is_string_like, new_builder
from ._errors import MissingDependencyError


def _require_dask() -> Any:
    try:
        import dask
    except ImportError as e:  # pragma: no cover - exercised only without dask
        raise MissingDependencyError(
            'the Dask backend needs dask: pip install "mixedmodels[dask]"', package="dask"
        ) from e
    return dask


def _partition_levels(pdf: Any, strings: list[str]) -> dict[str, list[str]]:
    """Distinct non-null values of the string columns of one pandas partition."""
    df = pl.from_pandas(pdf[strings])
    return {n: df.get_column(n).cast(pl.String).drop_nulls().unique().to_list() for n in strings}


def _union_levels(a: dict, b: dict) -> dict:
    return {n: sorted(set(a[n]) | set(b[n])) for n in a}


def _partition_sums(pdf: Any, formula: str, names: list[str], levels: dict, options: dict) -> bytes:
    """The partial sums of A over one pandas partition, as bytes."""
    builder = new_builder(formula, options)
    df = pl.from_pandas(pdf[names])
    if df.height:
        builder.add_chunk(encode_chunk(df, names, levels))
    return builder.take_bytes()


def _tree_sum(items: list, combine: Any) -> Any:
    """Combine delayed items pairwise, level by level (a binary tree)."""
    dask = _require_dask()
    level = list(items)
    while len(level) > 1:
        nxt = [dask.delayed(combine)(a, b) for a, b in zip(level[::2], level[1::2], strict=False)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def accumulate_dask(builder: Any, formula: str, ddf: Any, names: list[str], options: dict) -> dict:
    """Fill ``builder`` with the sums of A over the Dask DataFrame ``ddf``: per-partition
    sums computed on the workers and summed as a tree.

    Returns what the workers rebuild the model from to compute its fitted values
    (:mod:`._stream_fitted`): the level lists of the string columns (``levels``), rows
    that show the coding of the variables (``coding_rows``) and the summed sums as bytes
    (``sums``, as large as A's blocks)."""
    dask = _require_dask()
    check_present(list(ddf.columns), names)
    head = pl.from_pandas(ddf[names].head(1000, npartitions=-1))
    strings = [n for n in names if is_string_like(head.schema[n])]
    parts = ddf[names].to_delayed()
    levels: dict[str, list[str]] = {}
    if strings:
        per_part = [dask.delayed(_partition_levels)(p, strings) for p in parts]
        levels = dask.compute(_tree_sum(per_part, _union_levels))[0]
    sums = [dask.delayed(_partition_sums)(p, formula, names, levels, options) for p in parts]
    total = dask.compute(_tree_sum(sums, _core.merge_partial_bytes))[0]
    coding_rows = head.drop_nulls()
    builder.learn_coding(encode_chunk(coding_rows, names, levels))
    builder.merge_bytes(total)
    return {"levels": levels, "coding_rows": coding_rows, "sums": total}
