"""The classic mixed-model data sets shipped with the package (Parquet files)."""

from __future__ import annotations

from importlib import resources

import polars as pl

from ._errors import ArgumentError


def _folder():
    return resources.files("mixedmodels") / "datasets"


def datasets() -> list[str]:
    """Names of the bundled data sets, sorted.

    Returns
    -------
    list of str
        Names to pass to :func:`dataset`.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> "sleepstudy" in mm.datasets()
    True
    """
    return sorted(
        p.name.removesuffix(".parquet") for p in _folder().iterdir() if p.name.endswith(".parquet")
    )


def dataset(name: str) -> pl.DataFrame:
    """Load a bundled data set as a polars DataFrame (factors as ``pl.Enum`` in R's
    level order, column names as in R: ``sleepstudy`` has ``Reaction``, ``Days``,
    ``Subject``).

    Parameters
    ----------
    name : str
        A name from :func:`datasets` (case-insensitive; a ``.parquet`` suffix is ignored).

    Returns
    -------
    polars.DataFrame
        The data set.

    Raises
    ------
    ArgumentError
        No bundled data set of that name (``parameter="name"``).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> mm.dataset("sleepstudy").columns
    ['Reaction', 'Days', 'Subject']
    >>> mm.dataset("Dyestuff").shape
    (30, 2)
    """
    key = name.lower().removesuffix(".parquet")
    path = _folder() / f"{key}.parquet"
    if not path.is_file():
        raise ArgumentError(
            f"unknown data set {name!r}; available: {', '.join(datasets())}", parameter="name"
        )
    with resources.as_file(path) as p:
        return pl.read_parquet(p)
