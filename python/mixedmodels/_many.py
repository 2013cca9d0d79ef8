"""One design, many responses: fit the right-hand side of a formula to each of many
responses, building the terms, the factor layout and the X/Z blocks once
(``mixedmodels::lmm::many`` in the Rust core).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from . import _core
from ._data import to_polars
from ._errors import ArgumentError, ArgumentTypeError, DataError, DataTypeError
from ._executor import blocks, check_executor, executor_workers, run_blocks
from ._lmm import LinearMixedModel
from ._progress import ProgressBar
from ._validate import _choice, check_arguments

# The placeholder response of the design (mixedmodels::lmm::many::PLACEHOLDER_RESPONSE).
PLACEHOLDER = "mixedmodels_many_response_placeholder"
RESERVED = ("response", "objective", "sigma", "converged", "evaluations", "warning")


def lmm_many(
    formula: str,
    data: Any,
    responses: Any,
    *,
    reml: bool = False,
    optimizer: str = "auto",
    threads: int | None = None,
    executor: Any = None,
    progress: bool | None = None,
    **kwargs: Any,
) -> pl.DataFrame:
    """Fit one design to many responses: the formula's right-hand side, with each
    response in turn as the left-hand side.

    The terms, the levels of the grouping factors and the blocks of the mixed-model
    equations that do not involve the response are built once; for each response only
    its products with X and Z change, and it is fitted from its own start (the moment
    estimate of ``optsum["initial"]``) with the settings of a
    single fit, so each row equals ``mm.lmm`` of that response alone (to rounding,
    about 1e-12 relative) and does not depend on the number of threads or on the
    executor. The rows used are those with no missing value in the right-hand side's
    columns (and weights, offset), dropped or refused by ``missing`` as for
    :func:`lmm`; a response with a missing value in one of those rows is refused (its
    own fit would use other rows: fit it alone with :func:`lmm`).

    Parameters
    ----------
    formula : str
        The model formula; its left-hand side, if any (``y ~ ...``), is not read.
    data : polars, pandas or pyarrow table
        The data of the right-hand side (and of the responses named by column).
    responses : list of str or array_like
        Column names of ``data``, or a 2-d array with one response per column and one
        row per row of ``data``.
    reml : bool, default False
        Fit by REML instead of maximum likelihood.
    optimizer : {"auto", "bfgs", "bobyqa"}
        As for :meth:`LinearMixedModel.fit`.
    threads : int, optional
        Worker threads of a local run (default: one per available core; the GIL is
        released). Not allowed with ``executor``.
    executor : concurrent.futures.Executor or distributed.Client, optional
        Fit blocks of responses as tasks on this executor (each block on one thread of
        its worker). The design goes to the workers as a pickle of (formula, data,
        arguments) and is rebuilt there once per task: a pass over the data, cheaper
        than the fits of a block.
    progress : bool or None, default None
        Show a progress bar (tqdm) counting the fits: None shows one when the work
        lasts over a second and the output is interactive, True always, False never.
    **kwargs
        Further arguments of :class:`LinearMixedModel` (``contrasts``, ``weights``,
        ``offset``, ``sigma``, ``missing``, ``check_nobs``).

    Returns
    -------
    polars.DataFrame
        One row per response, in order: ``response`` (the column name, or the column
        index of an array as a string), ``objective``, θ by its names
        (``Subject.(Intercept)``, ...), β by the coefficients' names (prefixed
        ``beta_`` if taken), ``sigma``, ``converged``, ``evaluations`` and
        ``warning`` (why a fit did not converge or failed; a failed fit has null
        estimates).

    Raises
    ------
    DataError
        A response column is not in the data (``column``), or has a missing value in a
        row the design uses (``column``, ``row``).
    DataTypeError
        A response column is not numeric.
    ArgumentError
        No responses, an array with the wrong number of rows (``parameter="responses"``),
        or a bad ``threads``, ``reml`` or ``optimizer``.
    ArgumentTypeError
        ``executor`` is not an executor, or ``threads`` given with one.

    Examples
    --------
    >>> import mixedmodels as mm, numpy as np
    >>> d = mm.dataset("sleepstudy")
    >>> rng = np.random.default_rng(1)
    >>> d = d.with_columns(r2=d["Reaction"] + rng.normal(0, 20, d.height))
    >>> t = mm.lmm_many("y ~ 1 + Days + (1 + Days | Subject)", d, ["Reaction", "r2"])
    >>> t.columns[:4]
    ['response', 'objective', 'Subject.(Intercept)', 'Subject.Days.(Intercept)']
    >>> single = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", d)
    >>> bool(abs(t["objective"][0] - single.objective) < 1e-8)
    True
    """
    if not isinstance(formula, str):
        raise ArgumentTypeError(
            f"formula must be a string, got {type(formula).__name__}", parameter="formula"
        )
    check_arguments(reml=reml, threads=threads, progress=progress)
    _choice("auto", "bfgs", "bobyqa")("optimizer", optimizer)
    if executor is not None:
        check_executor(executor, threads)
    df = to_polars(data)
    names, matrix = _responses(df, responses)
    rhs = formula.split("~", 1)[1] if "~" in formula else formula
    if PLACEHOLDER in df.columns:
        raise DataError(f"the column name `{PLACEHOLDER}` is reserved", column=PLACEHOLDER)
    design_data = df.with_columns(pl.Series(PLACEHOLDER, np.arange(df.height, dtype=np.float64)))
    design = LinearMixedModel(f"{PLACEHOLDER} ~ {rhs}", design_data, **kwargs)
    fit = (bool(reml), optimizer)
    with ProgressBar(progress, "fits", "fit", units=True, total=len(names)) as bar:
        update = bar.tick
        if executor is None:
            raw = _core.fit_many(design._core, names, matrix, *fit, threads, update)
        else:
            parts = blocks(len(names), executor_workers(executor))
            done = np.cumsum([b - a for a, b in parts]).tolist()
            arguments = [(names[a:b], matrix[a:b], *fit) for a, b in parts]
            tick = None if update is None else (lambda i: update(done[i - 1]))
            raw = _merge(run_blocks(executor, _fit_block, design, arguments, tick))
    return _table(names, raw)


def _responses(df: pl.DataFrame, responses: Any) -> tuple[list[str], np.ndarray]:
    """Names and a C-contiguous (responses × rows) float array of the responses."""
    if isinstance(responses, str):
        responses = [responses]
    if isinstance(responses, list | tuple) and all(isinstance(r, str) for r in responses):
        if not responses:
            raise ArgumentError("no responses to fit", parameter="responses")
        columns = []
        for name in responses:
            if name not in df.columns:
                raise DataError(f"response column `{name}` not found in the data", column=name)
            series = df.get_column(name)
            if not series.dtype.is_numeric():
                raise DataTypeError(
                    f"response column `{name}` must be numeric, got {series.dtype}", column=name
                )
            columns.append(series.cast(pl.Float64).fill_null(np.nan).to_numpy())
        return list(responses), np.ascontiguousarray(np.vstack(columns))
    try:
        matrix = np.asarray(responses, dtype=np.float64)
    except (TypeError, ValueError):
        raise ArgumentTypeError(
            "`responses` must be a list of column names or a 2-d array of numbers, got "
            f"{type(responses).__name__}",
            parameter="responses",
        ) from None
    if matrix.ndim == 1:
        matrix = matrix[:, None]
    if matrix.ndim != 2 or matrix.shape[0] != df.height or matrix.shape[1] == 0:
        raise ArgumentError(
            f"`responses` must have one row per row of the data ({df.height}) and at least "
            f"one column, got an array of shape {matrix.shape}",
            parameter="responses",
        )
    names = [str(j) for j in range(matrix.shape[1])]
    return names, np.ascontiguousarray(matrix.T)


def _fit_block(
    design: LinearMixedModel, names: list[str], matrix: np.ndarray, reml: bool, optimizer: str
) -> dict[str, Any]:
    """A task of an executor: fit ``design`` to a block of responses on one thread."""
    return _core.fit_many(design._core, names, matrix, reml, optimizer, 1, None)


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The fits of consecutive blocks as one."""
    out = dict(parts[0])
    for key in ("objective", "sigma"):
        out[key] = np.concatenate([p[key] for p in parts])
    for key in ("beta", "theta"):
        out[key] = np.vstack([p[key] for p in parts])
    for key in ("converged", "evaluations", "warning"):
        out[key] = [v for p in parts for v in p[key]]
    return out


def _table(names: list[str], raw: dict[str, Any]) -> pl.DataFrame:
    """The polars table of the fits."""
    theta_names, coef_names = raw["theta_names"], raw["coef_names"]
    taken = set(RESERVED) | set(theta_names)
    columns: dict[str, Any] = {
        "response": pl.Series("response", names, dtype=pl.String),
        "objective": raw["objective"],
    }
    for j, name in enumerate(theta_names):
        columns[name] = raw["theta"][:, j]
    for j, name in enumerate(coef_names):
        column = name
        while column in taken:
            column = "beta_" + column
        taken.add(column)
        columns[column] = raw["beta"][:, j]
    columns["sigma"] = raw["sigma"]
    table = pl.DataFrame(columns).with_columns(
        pl.Series("converged", raw["converged"], dtype=pl.Boolean),
        pl.Series("evaluations", raw["evaluations"], dtype=pl.Int64),
        pl.Series("warning", raw["warning"], dtype=pl.String),
    )
    failed = pl.col("objective").is_nan()
    floats = [c for c, t in table.schema.items() if t == pl.Float64]
    return table.with_columns(
        pl.when(failed).then(None).otherwise(pl.col(c)).alias(c) for c in floats
    )
