"""Degrees of freedom and F tests of fixed effects: the coefficient table with t tests
on Satterthwaite's or Kenward–Roger's degrees of freedom, joint tests of contrasts
Lβ = rhs, and per-term analysis-of-variance tables of types 1, 2 and 3.

Linear mixed models use Satterthwaite's method (as lmerTest) or Kenward and Roger's (as
pbkrtest; REML fits only) when ``ddf`` names one; with ``ddf=None`` every model gets
large-sample Wald tests (z for coefficients, χ² for hypotheses, reported as
F = χ²/num_df with den_df = ∞). Generalized linear mixed models only have the latter:
``ddf`` on one raises :class:`ArgumentError` naming ``ddf``. All numerics are in Rust
(``src/inference/ddf/``); the tables render through the presentation layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from . import _core
from ._display import RichDisplay, check_format
from ._errors import ArgumentError, ArgumentTypeError
from ._support import fitted_model, prepare

_SCHEMA = {
    "num_df": pl.Int64,
    "den_df": pl.Float64,
    "F": pl.Float64,
    "p": pl.Float64,
}


def _check_ddf(ddf: Any) -> str | None:
    if ddf is None or isinstance(ddf, str):
        return ddf
    raise ArgumentTypeError(
        f'`ddf` must be "satterthwaite", "kenward-roger" or None, got {type(ddf).__name__}',
        parameter="ddf",
    )


def _check_type(type: Any) -> int:
    if isinstance(type, bool) or not isinstance(type, (int, np.integer)):
        raise ArgumentTypeError(f"`type` must be 1, 2 or 3, got {type!r}", parameter="type")
    if int(type) not in (1, 2, 3):
        raise ArgumentError(f"`type` must be 1, 2 or 3, got {type}", parameter="type")
    return int(type)


def _rows_of(L: Any) -> list[list[float]]:
    """The hypothesis matrix as rows of floats (a vector is one row)."""
    try:
        a = np.asarray(L, dtype=np.float64)
    except (TypeError, ValueError):
        raise ArgumentTypeError(
            f"`L` must be a matrix of numbers, got {type(L).__name__}", parameter="L"
        ) from None
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ArgumentError(f"`L` must be a matrix, got an array of shape {a.shape}", parameter="L")
    return a.tolist()


def _rhs_of(rhs: Any, nrows: int) -> list[float] | None:
    if rhs is None:
        return None
    try:
        v = np.atleast_1d(np.asarray(rhs, dtype=np.float64))
    except (TypeError, ValueError):
        raise ArgumentTypeError(
            f"`rhs` must be numbers, got {type(rhs).__name__}", parameter="rhs"
        ) from None
    if v.ndim != 1:
        raise ArgumentError("`rhs` must be a vector", parameter="rhs")
    if v.size == 1 and nrows > 1:
        v = np.repeat(v, nrows)
    return v.tolist()


def coeftable_with_df(model: Any, ddf: str) -> pl.DataFrame:
    """The coefficient table of a fitted linear mixed model with t tests on ``ddf``'s
    degrees of freedom (what :meth:`MixedModel.coeftable` returns for ``ddf`` given)."""
    ddf = _check_ddf(ddf)
    core = model._core
    if not isinstance(core, _core.LinearMixedModel):
        _core.contrast_test_of(core, [[0.0] * len(model.fixefnames)], None, ddf)
    names, est, se, df, t, p = _core.lmm_coeftable_ddf(core, ddf)
    return pl.DataFrame({"name": names, "estimate": est, "stderror": se, "df": df, "t": t, "p": p})


def _anova_rows(model: Any, type: int, ddf: str | None) -> list:
    columns = prepare(model.formula, model._data)[1] if type == 3 else None
    return _core.anova_of(model._core, columns, type, ddf)


def _anova_frame(rows: list) -> pl.DataFrame:
    def col(k: int) -> list:
        return [None if t is None else t[k] for _, t in rows]

    return pl.DataFrame(
        {
            "term": [r[0] for r in rows],
            "num_df": [0 if t is None else t[0] for _, t in rows],
            "den_df": col(1),
            "F": col(2),
            "p": col(3),
        },
        schema={"term": pl.String, **_SCHEMA},
    )


def anova(model: Any, type: int = 3, ddf: str | None = None) -> pl.DataFrame:
    """F tests of each fixed-effects term of a fitted model (an analysis-of-variance
    table), with the hypotheses lmerTest builds for each type.

    Type 1 tests terms sequentially, type 2 each term adjusted for the terms that do not
    contain it, type 3 each term adjusted for all others (marginal hypotheses built on
    treatment-coded indicators, mapped to the model's coding; as lmerTest's default).
    With one term, or one coefficient, every type gives the type-1 hypotheses.

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        A fitted model.
    type : {1, 2, 3}, default 3
        Which hypotheses to test.
    ddf : {"satterthwaite", "kenward-roger"} or None, default None
        Denominator degrees of freedom of a linear mixed model: Satterthwaite's
        approximation (lmerTest) or Kenward and Roger's (pbkrtest; REML fits only).
        None gives large-sample Wald tests (F = χ²/num_df, den_df = ∞), the only
        tests of a generalized linear mixed model.

    Returns
    -------
    polars.DataFrame
        One row per term: ``term``, ``num_df``, ``den_df``, ``F``, ``p`` (a term
        without estimable columns has ``num_df`` 0 and nulls). :class:`Anova` is the
        same table, printable.

    Raises
    ------
    ArgumentError
        ``type`` not 1, 2 or 3; an unknown ``ddf``; ``ddf`` for a generalized linear
        mixed model; Kenward–Roger for an ML fit, a model with weights or a model too
        large for its dense matrices.
    ArgumentTypeError
        ``type`` or ``ddf`` of the wrong type, or ``model`` that is not a mixed model.
    NotFittedError
        The model has no estimates.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("angle ~ recipe * temp + (1 | recipe:replicate)", mm.dataset("cake"),
    ...            reml=True)
    >>> t = mm.anova(m, type=3, ddf="satterthwaite")
    >>> t["term"].to_list()
    ['recipe', 'temp', 'recipe & temp']
    >>> round(t["den_df"][0], 2), t["num_df"][0]
    (254.02, 2)
    """
    model = fitted_model(model, "anova")
    return _anova_frame(_anova_rows(model, _check_type(type), _check_ddf(ddf)))


class Anova(RichDisplay):
    """The analysis-of-variance table of :func:`anova` as a printable table (text,
    Markdown, HTML, LaTeX through the presentation layer); ``to_polars()`` gives the
    data frame.

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        A fitted model.
    type : {1, 2, 3}, default 3
        Which hypotheses to test.
    ddf : {"satterthwaite", "kenward-roger"} or None, default None
        As for :func:`anova`.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"),
    ...            reml=True)
    >>> a = mm.Anova(m, ddf="kenward-roger")
    >>> a.to_polars()["den_df"].round(3).to_list()
    [17.0]
    >>> print(a)  # doctest: +SKIP
    """

    def __init__(self, model: Any, type: int = 3, ddf: str | None = None):
        model = fitted_model(model, "Anova")
        self.type = _check_type(type)
        self.ddf = _check_ddf(ddf)
        self._rows = _anova_rows(model, self.type, self.ddf)

    def to_polars(self) -> pl.DataFrame:
        """The table as a polars DataFrame (the result of :func:`anova`).

        Returns
        -------
        polars.DataFrame
            One row per term: ``term``, ``num_df``, ``den_df``, ``F``, ``p``.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("angle ~ recipe + temp + (1 | recipe:replicate)", mm.dataset("cake"))
        >>> mm.Anova(m, type=1).to_polars()["num_df"].to_list()
        [2, 1]
        """
        return _anova_frame(self._rows)

    def render(self, format: str = "text") -> str:
        """The table as text, Markdown, HTML or LaTeX.

        Parameters
        ----------
        format : {"text", "markdown", "html", "latex"}
            The output format.

        Returns
        -------
        str
            The rendered table.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.glmm("cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        ...             mm.dataset("cbpp"), family=mm.Binomial())
        >>> "Wald" in mm.Anova(m).render()
        True
        """
        return _core.anova_render(self._rows, self.type, self.ddf, check_format(format))

    def _render(self, format: str) -> str:
        return self.render(format)

    def __repr__(self) -> str:
        return self.render("text").rstrip("\n")


def contrast_test(model: Any, L: Any, rhs: Any = None, ddf: str | None = None) -> pl.DataFrame:
    """Joint test of the hypothesis Lβ = rhs (lmerTest's ``contest(..., joint = TRUE)``).

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        A fitted model.
    L : array_like
        The hypothesis matrix, one row per linear combination of the fixed-effects
        coefficients (a vector is one row); columns in the order of ``fixefnames``.
        Linearly dependent rows are reduced to independent ones.
    rhs : array_like or float, optional
        The hypothesised values (default 0).
    ddf : {"satterthwaite", "kenward-roger"} or None, default None
        As for :func:`anova`.

    Returns
    -------
    polars.DataFrame
        One row: ``num_df`` (the rank of L), ``den_df``, ``F``, ``p``.

    Raises
    ------
    NotFittedError
        The model has no estimates.
    ArgumentError
        ``L`` or ``rhs`` of the wrong shape, or a bad ``ddf``; ArgumentTypeError for
        ``L`` or ``rhs`` that are not numbers, or ``model`` that is not a mixed model.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"),
    ...            reml=True)
    >>> t = mm.contrast_test(m, [[0, 1]], ddf="satterthwaite")
    >>> round(t["den_df"][0], 3), round(t["F"][0], 2)
    (17.0, 45.85)
    """
    model = fitted_model(model, "contrast_test")
    rows = _rows_of(L)
    test = _core.contrast_test_of(model._core, rows, _rhs_of(rhs, len(rows)), _check_ddf(ddf))
    return pl.DataFrame({k: [v] for k, v in zip(_SCHEMA, test, strict=True)}, schema=_SCHEMA)
