"""The parametric bootstrap of a fitted model (lme4's ``bootMer``, MixedModels.jl's
``parametricbootstrap``): responses drawn from the model, the model refitted to each,
the estimates collected in a polars table, and coverage intervals from them.

The work is done in Rust (``mixedmodels::inference::bootstrap``) on worker threads with
the GIL released; this module validates the arguments, shows progress, builds the table
and saves or loads it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import polars as pl

from . import _core
from ._errors import ArgumentError, ArgumentTypeError, RestoreError
from ._executor import bootstrap_on_executor, check_executor
from ._progress import ProgressBar
from ._support import _vector, is_model
from ._validate import _choice, check_arguments

FORMAT = "mixedmodels-parametric-bootstrap"
VERSION = 1
# Columns of the table besides the parameters.
RESERVED = ("replicate", "objective", "sigma", "phi", "converged", "warning")
DTYPES = {"Int64": pl.Int64, "Float64": pl.Float64, "Boolean": pl.Boolean, "String": pl.String}


def parametricbootstrap(
    model: Any,
    n: int,
    *,
    seed: int,
    threads: int | None = None,
    progress: bool | None = None,
    theta: Any = None,
    beta: Any = None,
    sigma: float | None = None,
    executor: Any = None,
) -> ParametricBootstrap:
    """Parametric bootstrap: refit ``model`` to ``n`` responses drawn from it.

    Replicate k draws a response exactly as column k of ``model.simulate(seed=seed,
    n=n)`` (its own random stream, which depends only on ``seed`` and k) and refits a copy
    of the model to it with the settings of the original fit (criterion, nAGQ, optimizer
    settings), keeping all symbolic work: a linear mixed model's search for θ starts at
    the fitted θ̂, a generalized one starts as every GLMM fit does. The replicates run on
    ``threads`` worker threads with the GIL released; the table is the same whatever
    the number of threads. A fit that fails or does not converge stays in the table,
    with ``converged`` false and the reason in ``warning`` (its estimates are null
    when it failed).

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        A fitted model.
    n : int
        Number of replicates (at least 1).
    seed : int
        Seed of the random draws, 0 ≤ seed < 2**64.
    threads : int, optional
        Worker threads (default: one per available core).
    progress : bool or None
        Show a progress bar of the replicates: True always, False never, None
        (default) when the output is interactive and the bootstrap lasts more than a
        second.
    theta, beta : array_like, optional
        Covariance parameters θ and fixed effects β to draw from (default: the fitted).
    sigma : float, optional
        Residual standard deviation to draw from (linear mixed models only; default σ̂).
    executor : concurrent.futures.Executor or distributed.Client, optional
        Run blocks of replicates as tasks on this executor (each block on one thread of
        its worker; the model goes to the workers as a pickle and is rebuilt there).
        The table equals the local one for the same seed, bit for bit. ``threads`` is
        not allowed with it.

    Returns
    -------
    ParametricBootstrap
        The replicates' estimates (:attr:`ParametricBootstrap.table`) and their
        coverage intervals (:meth:`ParametricBootstrap.confint`).

    Raises
    ------
    NotFittedError
        The model has not been fitted.
    ArgumentError
        A bad ``n``, ``seed``, ``threads``, ``theta``, ``beta`` or ``sigma`` (named by
        ``parameter``), or ``sigma`` for a generalized model.
    ArgumentTypeError
        ``model`` is not a mixed model, ``executor`` is not an executor, or
        ``threads`` is given with one.
    KeyboardInterrupt
        Ctrl-C: the workers stop within a fit.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
    >>> b = mm.parametricbootstrap(m, 20, seed=42, progress=False)
    >>> b.table.columns[:6]
    ['replicate', 'objective', 'sigma', '(Intercept)', 'Days', 'Subject.(Intercept)']
    >>> b.confint(method="percentile")["parameter"].to_list()[3:]
    ['sigma', '(Intercept)', 'Days']
    """
    if not is_model(model):
        raise ArgumentTypeError(
            f"`model` must be a fitted LinearMixedModel or GeneralizedLinearMixedModel, "
            f"got {type(model).__name__}",
            parameter="model",
        )
    check_arguments(n=n, seed=seed, threads=threads, progress=progress, sigma=sigma)
    if executor is not None:
        check_executor(executor, threads)
    with ProgressBar(progress, "parametric bootstrap", "fit", units=True, total=int(n)) as bar:
        if executor is not None:
            s = None if sigma is None else float(sigma)
            drawn = (_vector("theta", theta), _vector("beta", beta), s)
            raw = bootstrap_on_executor(executor, model, int(n), int(seed), drawn, bar.tick)
            return ParametricBootstrap._from_native(raw, model.formula)
        raw = model._core.parametric_bootstrap(
            int(n),
            int(seed),
            None if threads is None else int(threads),
            _vector("theta", theta),
            _vector("beta", beta),
            None if sigma is None else float(sigma),
            bar.native,
        )
    return ParametricBootstrap._from_native(raw, model.formula)


class ParametricBootstrap:
    """The replicates of a parametric bootstrap (see :func:`parametricbootstrap`, which
    builds it, and :meth:`load`).

    Parameters
    ----------
    table : polars.DataFrame
        The replicates' estimates (the attribute below).
    parameters : list of tuple of (str, str, float)
        Per parameter, in lme4's ``confint`` order: its name, its column in ``table``
        and the value the responses were drawn from.
    formula : str
        The model's formula.
    seed : int
        The seed of the draws.

    Attributes
    ----------
    table : polars.DataFrame
        One row per replicate: ``replicate`` (k, from 0), ``objective``, ``sigma`` (models
        with a residual standard deviation), ``phi`` (the dispersion of a GLMM family
        with one: Gamma, inverse Gaussian, negative binomial, Gaussian with a link;
        also a row of ``confint``), the fixed effects by their names, θ by lme4's
        names (``Subject.(Intercept)``, ...), the variance components by lme4's
        ``confint(oldNames=FALSE)`` names (``sd_(Intercept)|Subject``,
        ``cor_Days.(Intercept)|Subject``), ``converged`` and ``warning``. A fixed effect
        whose name is taken by another column is prefixed ``beta_``.
    formula : str
        The model's formula.
    seed : int
        The seed of the draws.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
    >>> b = mm.parametricbootstrap(m, 50, seed=1, progress=False)
    >>> b.n
    50
    """

    def __init__(
        self,
        table: pl.DataFrame,
        parameters: list[tuple[str, str, float]],
        formula: str,
        seed: int,
    ) -> None:
        self.table = table
        # (parameter name, table column, the value the responses were drawn from), in
        # lme4's confint order: variance components, sigma, fixed effects.
        self._parameters = parameters
        self.formula = formula
        self.seed = seed

    @classmethod
    def _from_native(cls, raw: dict[str, Any], formula: str) -> ParametricBootstrap:
        """Build the table from what the native bootstrap returns."""
        coef, theta, comp = raw["coef_names"], raw["theta_names"], raw["component_names"]
        taken = set(RESERVED) | set(theta) | set(comp)
        beta_columns = []
        for name in coef:
            column = name
            while column in taken:
                column = "beta_" + column
            taken.add(column)
            beta_columns.append(column)
        n = len(raw["objective"])
        columns: dict[str, Any] = {
            "replicate": pl.Series("replicate", range(n), dtype=pl.Int64),
            "objective": raw["objective"],
        }
        if raw["sigma"] is not None:
            columns["sigma"] = raw["sigma"]
        if raw["dispersion"] is not None:
            columns["phi"] = raw["dispersion"]
        for j, column in enumerate(beta_columns):
            columns[column] = raw["beta"][:, j]
        for j, name in enumerate(theta):
            columns[name] = raw["theta"][:, j]
        for j, name in enumerate(comp):
            columns[name] = raw["components"][:, j]
        table = pl.DataFrame(columns).with_columns(
            pl.Series("converged", raw["converged"], dtype=pl.Boolean),
            pl.Series("warning", raw["warning"], dtype=pl.String),
        )
        # A failed fit (NaN objective) has no estimates: null, not NaN.
        failed = pl.col("objective").is_nan()
        floats = [c for c, t in table.schema.items() if t == pl.Float64]
        table = table.with_columns(
            pl.when(failed).then(None).otherwise(pl.col(c)).alias(c) for c in floats
        )
        g = raw["generating"]
        parameters = [(c, c, v) for c, v in zip(comp, g["components"], strict=True)]
        if g["sigma"] is not None:
            parameters.append(("sigma", "sigma", g["sigma"]))
        if g["dispersion"] is not None:
            parameters.append(("phi", "phi", g["dispersion"]))
        parameters += [
            (name, column, v) for name, column, v in zip(coef, beta_columns, g["beta"], strict=True)
        ]
        return cls(table, parameters, formula, int(raw["seed"]))

    @property
    def n(self) -> int:
        """The number of replicates.

        Returns
        -------
        int
            The rows of :attr:`table`.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> mm.parametricbootstrap(m, 5, seed=1, progress=False).n
        5
        """
        return self.table.height

    @property
    def nonconverged(self) -> int:
        """The number of replicates whose fit failed or did not converge (their rows
        have ``converged`` false and the reason in ``warning``).

        Returns
        -------
        int
            Count of rows of :attr:`table` with ``converged`` false.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> mm.parametricbootstrap(m, 20, seed=1, progress=False).nonconverged
        0
        """
        return int((~self.table["converged"]).sum())

    def confint(self, level: float = 0.95, method: str = "shortest") -> pl.DataFrame:
        """Coverage intervals of the parameters from the replicates.

        Parameters
        ----------
        level : float, default 0.95
            The share of the replicates the interval covers, 0 < level < 1.
        method : {"shortest", "percentile"}
            ``shortest``: the shortest interval between two replicate values holding
            ⌈level·n⌉ of them (MixedModels.jl's ``shortestcovint``); ``percentile``: the
            (1 − level)/2 and (1 + level)/2 sample quantiles, interpolated linearly
            (numpy's default). Null and NaN values (failed fits, correlations of a zero
            standard deviation) are left out.

        Returns
        -------
        polars.DataFrame
            Columns ``parameter``, ``estimate`` (the value the responses were drawn from:
            the fit's unless given), ``lower``, ``upper``; the rows in the order of lme4's
            ``confint(oldNames=FALSE)``: variance components, ``sigma``, fixed effects.

        Raises
        ------
        ArgumentError
            A ``level`` outside (0, 1) or an unknown ``method``; ArgumentTypeError for a
            ``level`` that is not a number.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> ci = mm.parametricbootstrap(m, 200, seed=3, progress=False).confint(level=0.9)
        >>> ci["parameter"].to_list()
        ['sd_(Intercept)|Batch', 'sigma', '(Intercept)']
        """
        _choice("shortest", "percentile")("method", method)
        if isinstance(level, bool) or not isinstance(level, int | float):
            raise ArgumentTypeError(
                f"`level` must be a number, got {level!r} ({type(level).__name__})",
                parameter="level",
            )
        if not 0.0 < float(level) < 1.0:
            raise ArgumentError(
                f"`level` must be between 0 and 1 (exclusive), got {level}", parameter="level"
            )
        rows = []
        for name, column, estimate in self._parameters:
            values = self.table[column].fill_null(math.nan).to_list()
            lower, upper = _core.coverage_interval(values, float(level), method)
            rows.append((name, estimate, lower, upper))
        return pl.DataFrame(
            rows,
            schema={
                "parameter": pl.String,
                "estimate": pl.Float64,
                "lower": pl.Float64,
                "upper": pl.Float64,
            },
            orient="row",
        )

    def save(self, path: str | Path) -> None:
        """Write the replicates to ``path`` (JSON; exact doubles, NaN written as ``NaN``).

        Parameters
        ----------
        path : str or pathlib.Path
            The file to write.

        Examples
        --------
        >>> import mixedmodels as mm, tempfile, os
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> b = mm.parametricbootstrap(m, 20, seed=1, progress=False)
        >>> path = os.path.join(tempfile.mkdtemp(), "boot.json")
        >>> b.save(path)
        >>> mm.ParametricBootstrap.load(path).table.equals(b.table)
        True
        """
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "formula": self.formula,
            "seed": self.seed,
            "parameters": [list(p) for p in self._parameters],
            "columns": [
                {"name": c, "dtype": str(self.table.schema[c]), "values": self.table[c].to_list()}
                for c in self.table.columns
            ],
        }
        Path(path).write_text(json.dumps(doc), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> ParametricBootstrap:
        """Read replicates written by :meth:`save`.

        Parameters
        ----------
        path : str or pathlib.Path
            A file written by :meth:`save`.

        Returns
        -------
        ParametricBootstrap
            The same table, parameters, formula and seed.

        Raises
        ------
        RestoreError
            The file is not a saved bootstrap (or of a newer version).

        Examples
        --------
        >>> import mixedmodels as mm, tempfile, os
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> path = os.path.join(tempfile.mkdtemp(), "boot.json")
        >>> mm.parametricbootstrap(m, 10, seed=1, progress=False).save(path)
        >>> mm.ParametricBootstrap.load(path).n
        10
        """
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
            if doc.get("format") != FORMAT:
                raise ValueError("not a saved parametric bootstrap")
            if doc.get("version") != VERSION:
                raise ValueError(f"version {doc.get('version')} (this reads {VERSION})")
            table = pl.DataFrame(
                [
                    pl.Series(c["name"], c["values"], dtype=DTYPES[c["dtype"]])
                    for c in doc["columns"]
                ]
            )
            parameters = [(str(a), str(b), float(v)) for a, b, v in doc["parameters"]]
            return cls(table, parameters, str(doc["formula"]), int(doc["seed"]))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise RestoreError(f"cannot load the bootstrap from {path}: {e}") from None

    def __repr__(self) -> str:
        failed = self.nonconverged
        note = f", {failed} not converged" if failed else ""
        return (
            f"ParametricBootstrap: {self.n} replicates of {self.formula} (seed {self.seed}{note})"
        )


def load_bootstrap(path: str | Path) -> ParametricBootstrap:
    """Read replicates written by :meth:`ParametricBootstrap.save`.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.

    Returns
    -------
    ParametricBootstrap
        As saved.

    Raises
    ------
    RestoreError
        The file is not a saved bootstrap (or of a newer version).

    Examples
    --------
    >>> import mixedmodels as mm, tempfile, os
    >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
    >>> path = os.path.join(tempfile.mkdtemp(), "boot.json")
    >>> mm.parametricbootstrap(m, 10, seed=1, progress=False).save(path)
    >>> mm.load_bootstrap(path).seed
    1
    """
    return ParametricBootstrap.load(path)
