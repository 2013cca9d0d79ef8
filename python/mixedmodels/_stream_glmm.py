"""Generalized linear mixed models from data that are not held in memory.

PIRLS reads the data once per iteration: each chunk's rows are coded with the model's
levels, their linear predictor formed from the current (β, u), and their deviance and
weighted cross-products added to sums whose size is set by the levels, not the rows
(the native ``StreamedGlmm``). The fit is lme4's ``nAGQ = 0`` (``fast``): β and the
conditional modes from PIRLS at each θ, θ by BOBYQA. Memory: the sums plus one chunk.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import polars as pl

from . import _core
from ._base import warn_dropped_rows
from ._chunks import encode_chunk
from ._contrasts import contrast_specs
from ._errors import (
    ArgumentError,
    ConvergenceWarning,
    ModelCheckWarning,
    NotFittedError,
)
from ._families import Family, Link, family_and_link
from ._stream import (
    check_chunk_rows,
    chunks,
    is_dask_frame,
    is_pyarrow_dataset,
    level_lists,
    sliceable,
    used_columns,
)
from ._stream_fitted import is_rereadable
from ._support import warn
from ._validate import check_arguments


def is_path_or_dataset(data: Any) -> bool:
    """Is ``data`` a Parquet path or glob or a pyarrow dataset (always read in chunks)?"""
    return isinstance(data, str | os.PathLike) or is_pyarrow_dataset(data)


def refuse_for_streaming(**given: Any) -> None:
    """Refuse the keywords of :func:`glmm` that a fit from streamed data cannot honour,
    naming the first: it is fitted with ``fast=True`` and ``nagq=1`` (lme4's nAGQ = 0),
    by BOBYQA, without per-row weights or offsets, threads or a progress bar."""
    allowed = {
        "fast": (True,),
        "nagq": (1,),
        "weights": (None,),
        "offset": (None,),
        "threads": (None,),
        "progress": (None, False),
        "optimizer": ("auto", "bobyqa"),
    }
    for name, value in given.items():
        if not any(_same(value, ok) for ok in allowed[name]):
            raise ArgumentError(
                f"{name}={value!r} is not available for a GLMM from streamed data (fitted "
                "with fast=True, nAGQ = 0, by BOBYQA; use offset(...) in the formula for "
                "an offset)",
                parameter=name,
            )


def _same(value: Any, allowed: Any) -> bool:
    """Is ``value`` the allowed scalar (None, a bool, an int or a string) itself?"""
    if allowed is None or isinstance(allowed, bool):
        return value is allowed
    return type(value) is type(allowed) and value == allowed


class StreamedGeneralizedLinearMixedModel:
    """A generalized linear mixed model fitted from data read in chunks.

    The fit is lme4's ``nAGQ = 0`` (``fast=True`` of
    :class:`GeneralizedLinearMixedModel`): at each θ, PIRLS finds β and the conditional
    modes together, with one pass over the data per iteration (about three per value
    of the objective); θ minimises the Laplace objective by BOBYQA. No row is held:
    memory is that of the sums of the weighted cross-products (set by the numbers of
    levels and columns) plus one chunk. Bernoulli (0/1 response) and Poisson (counts)
    families, any of their links; ``offset(...)`` in the formula.

    Parameters
    ----------
    formula : str
        As for :class:`GeneralizedLinearMixedModel`.
    data : str, os.PathLike, polars.LazyFrame, pyarrow dataset or table
        A Parquet path or glob, a LazyFrame (run once into a temporary Parquet file per
        construction and per fit), a pyarrow dataset, or an in-memory table read in
        chunks. It is read again on every pass, so it must give the same rows each
        time.
    family : str, Family or Family subclass, default "bernoulli"
        ``"bernoulli"`` or ``"poisson"``.
    link : str, Link or Link subclass, optional
        The link (default: the family's canonical link).
    contrasts : dict, optional
        As for :class:`GeneralizedLinearMixedModel`.
    missing : {"drop", "raise"}, default "drop"
        Rows with a missing value in a column the formula reads: dropped (with a
        :class:`MissingDataWarning`) or refused.
    check_nobs : {"error", "warn", "ignore"}, default "error"
        As for :class:`GeneralizedLinearMixedModel` (a grouping factor may have as many
        levels as observations).
    chunk_rows : int, optional
        Rows per chunk (default 1,000,000).

    Raises
    ------
    ArgumentError
        A family other than Bernoulli or Poisson, a Dask DataFrame or one-shot source
        (the data must be read many times), or another bad keyword.
    DataError
        A missing column, or a response the family cannot take (the row is named).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> d = mm.dataset("grouseticks").lazy()
    >>> m = mm.StreamedGeneralizedLinearMixedModel(
    ...     "TICKS ~ 1 + YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION)", d,
    ...     family="poisson", chunk_rows=100).fit()
    >>> round(m.objective, 3)  # as mm.glmm(..., fast=True) in memory
    1045.649
    """

    def __init__(
        self,
        formula: str,
        data: Any,
        family: str | Family | type[Family] = "bernoulli",
        link: str | Link | type[Link] | None = None,
        contrasts: dict | None = None,
        missing: str = "drop",
        check_nobs: str = "error",
        chunk_rows: int | None = None,
    ):
        check_arguments(missing=missing, check_nobs=check_nobs)
        if is_dask_frame(data):
            raise ArgumentError(
                "a GLMM cannot be fitted from a Dask DataFrame (PIRLS reads the data once "
                "per iteration); give a Parquet path or a LazyFrame",
                parameter="data",
            )
        if not is_rereadable(data):
            raise ArgumentError(
                "a GLMM from streamed data reads its source once per PIRLS iteration; a "
                "one-shot source cannot be read again",
                parameter="data",
            )
        family_name, link_name = family_and_link(family, link)
        self.formula = formula
        self._data = data
        self._rows = check_chunk_rows(chunk_rows)
        self._names = used_columns(formula)
        with sliceable(data) as lazy:
            self._levels = level_lists(lazy, self._names)
            self._core = _core.StreamedGlmm(
                formula,
                family_name,
                link_name,
                self._source(lazy),
                contrast_specs(contrasts),
                missing,
                check_nobs,
            )
        self._fit: dict | None = None
        self._report_build()

    def _source(self, lazy: pl.LazyFrame) -> Callable[[], Iterator[dict]]:
        """The callable the native model calls for every pass: the encoded chunks."""
        names, levels, rows = self._names, self._levels, self._rows

        def source() -> Iterator[dict]:
            for chunk in chunks(self._data, lazy, names, rows):
                yield encode_chunk(chunk, names, levels)

        return source

    def _report_build(self) -> None:
        self.missing: dict[str, int] = warn_dropped_rows(self._core)
        for kind, term, message in self._core.model_warnings():
            warn(ModelCheckWarning(message, check=kind, term=term))

    def fit(self, max_evaluations: int = 10_000) -> StreamedGeneralizedLinearMixedModel:
        """Fit the model (reading the data once per PIRLS iteration).

        Parameters
        ----------
        max_evaluations : int, default 10000
            Most values of the objective (each a PIRLS run over the data).

        Returns
        -------
        StreamedGeneralizedLinearMixedModel
            The model, fitted; a :class:`ConvergenceWarning` when BOBYQA stopped
            without converging.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.StreamedGeneralizedLinearMixedModel(
        ...     "TICKS ~ 1 + YEAR + (1 | BROOD)", mm.dataset("grouseticks"),
        ...     family="poisson", chunk_rows=200).fit()
        >>> m.optsum["passes"] > m.optsum["evaluations"]
        True
        """
        check_arguments(max_evaluations=max_evaluations)
        with sliceable(self._data) as lazy:
            self._fit = dict(self._core.fit(self._source(lazy), max_evaluations))
        if not self._fit["converged"]:
            warn(
                ConvergenceWarning(
                    f"the fit did not converge: {self._fit['return_code']}",
                    return_code=self._fit["return_code"],
                    evaluations=self._fit["evaluations"],
                ),
            )
        return self

    def _fitted(self) -> dict:
        if self._fit is None:
            raise NotFittedError("the model is not fitted; call fit() first", what="fit")
        return self._fit

    @property
    def nobs(self) -> int:
        """Observations used.

        Returns
        -------
        int
            Rows without a missing value in a column the formula reads.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.StreamedGeneralizedLinearMixedModel(
        ...     "TICKS ~ 1 + (1 | BROOD)", mm.dataset("grouseticks"), family="poisson")
        >>> m.nobs
        403
        """
        return int(self._core.nobs)

    @property
    def theta(self) -> np.ndarray:
        """θ̂, the unscaled Cholesky factor of the random effects' covariance.

        Returns
        -------
        numpy.ndarray
            One entry per covariance parameter (``optsum["theta_names"]``).

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.StreamedGeneralizedLinearMixedModel(
        ...     "TICKS ~ 1 + (1 | BROOD)", mm.dataset("grouseticks"), family="poisson").fit()
        >>> m.theta.shape
        (1,)
        """
        return np.array(self._fitted()["theta"])

    @property
    def beta(self) -> np.ndarray:
        """β̂, the fixed effects.

        Returns
        -------
        numpy.ndarray
            In the order of ``fixefnames``.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.StreamedGeneralizedLinearMixedModel(
        ...     "TICKS ~ 1 + (1 | BROOD)", mm.dataset("grouseticks"), family="poisson").fit()
        >>> m.beta.shape
        (1,)
        """
        return np.array(self._fitted()["beta"])

    @property
    def fixefnames(self) -> list[str]:
        """Names of the fixed effects.

        Returns
        -------
        list of str
            As :attr:`GeneralizedLinearMixedModel.fixefnames`.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.StreamedGeneralizedLinearMixedModel(
        ...     "TICKS ~ 1 + YEAR + (1 | BROOD)", mm.dataset("grouseticks"),
        ...     family="poisson").fit()
        >>> m.fixefnames
        ['(Intercept)', 'YEAR: 96', 'YEAR: 97']
        """
        return list(self._fitted()["beta_names"])

    @property
    def component_names(self) -> list[str]:
        """Names of θ's components (``sd_(Intercept)|g``, ``cor_x.(Intercept)|g``, ...), as
        :attr:`GeneralizedLinearMixedModel.component_names`.

        Returns
        -------
        list of str

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.StreamedGeneralizedLinearMixedModel(
        ...     "TICKS ~ 1 + (1 | BROOD)", mm.dataset("grouseticks"), family="poisson").fit()
        >>> m.component_names
        ['sd_(Intercept)|BROOD']
        """
        return list(self._fitted()["theta_names"])

    def stderror(self) -> np.ndarray:
        """Standard errors of β̂ (from R_X at the final PIRLS weights, as for a ``fast``
        fit in memory).

        Returns
        -------
        numpy.ndarray
            In the order of ``fixefnames``.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.StreamedGeneralizedLinearMixedModel(
        ...     "TICKS ~ 1 + (1 | BROOD)", mm.dataset("grouseticks"), family="poisson").fit()
        >>> bool(m.stderror()[0] > 0)
        True
        """
        return np.array(self._fitted()["stderror"])

    @property
    def objective(self) -> float:
        """The objective at θ̂: −2 log L of the Laplace approximation with β from PIRLS
        (lme4's ``deviance`` of an ``nAGQ = 0`` fit).

        Returns
        -------
        float

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.StreamedGeneralizedLinearMixedModel(
        ...     "TICKS ~ 1 + (1 | BROOD)", mm.dataset("grouseticks"), family="poisson").fit()
        >>> m.objective > 0
        True
        """
        return float(self._fitted()["objective"])

    @property
    def optsum(self) -> dict:
        """The fit's record: θ (``theta``, ``theta_names``: the component names), β and
        its names, standard errors, objective, deviance, evaluations,
        passes over the data, convergence, return code and seconds.

        Returns
        -------
        dict

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.StreamedGeneralizedLinearMixedModel(
        ...     "TICKS ~ 1 + (1 | BROOD)", mm.dataset("grouseticks"), family="poisson").fit()
        >>> m.optsum["converged"]
        True
        """
        return dict(self._fitted())

    def coeftable(self) -> pl.DataFrame:
        """The fixed effects with standard errors, z statistics and p-values.

        Returns
        -------
        polars.DataFrame
            Columns ``name``, ``estimate``, ``stderror``, ``z``, ``p`` (as
            :meth:`GeneralizedLinearMixedModel.coeftable`).

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.StreamedGeneralizedLinearMixedModel(
        ...     "TICKS ~ 1 + (1 | BROOD)", mm.dataset("grouseticks"), family="poisson").fit()
        >>> m.coeftable().columns
        ['name', 'estimate', 'stderror', 'z', 'p']
        """
        self._fitted()
        names, est, se, z, p = self._core.coeftable()
        return pl.DataFrame({"name": names, "estimate": est, "stderror": se, "z": z, "p": p})

    def objective_at(self, theta: Any) -> float:
        """The objective at θ (PIRLS over the data from the last iterate).

        Parameters
        ----------
        theta : sequence of float
            θ, within its bounds.

        Returns
        -------
        float

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.StreamedGeneralizedLinearMixedModel(
        ...     "TICKS ~ 1 + (1 | BROOD)", mm.dataset("grouseticks"), family="poisson")
        >>> m.objective_at([1.0]) > 0
        True
        """
        with sliceable(self._data) as lazy:
            return float(self._core.objective_at(self._source(lazy), [float(t) for t in theta]))

    def __repr__(self) -> str:
        title = "Generalized linear mixed model from streamed data (fast, nAGQ = 0)"
        head = f"{title}\n  {self.formula}"
        if self._fit is None:
            return head + "\n  (not fitted)"
        fit = self._fit
        pairs = zip(fit["theta_names"], fit["theta"], strict=True)
        lines = [
            head,
            f"  objective (-2 log L): {fit['objective']:.4f}; {self.nobs} observations; "
            f"{fit['evaluations']} evaluations, {fit['passes']} passes over the data",
            "  theta: " + ", ".join(f"{n} = {t:.6g}" for n, t in pairs),
            str(self.coeftable()),
        ]
        return "\n".join(lines)
