"""Tests across fitted models: likelihood-ratio tests of nested models.

The Python side gathers the models (their formula, data and options, response, weights,
family) and refits REML fits by ML when it must; the checks that the models may be
compared (same family, rows, response and weights; nested fixed-effects column spaces and
random-effects terms) and the tests themselves are computed in Rust (src/inference/).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from . import _core
from ._base import MixedModel
from ._contrasts import contrast_specs
from ._display import RichDisplay, check_format
from ._errors import ArgumentError, ArgumentTypeError, RefitWarning
from ._glmm import GeneralizedLinearMixedModel
from ._support import prepare, warn


@dataclass
class _Tests:
    """What a likelihood-ratio test compares: labels, (criterion, dof, nobs) per model,
    whether the criteria are REML criteria, and the models refitted by ML."""

    labels: list[str]
    spec: list[tuple[float, int, int]]
    reml: bool
    refitted: list[int]


def _describe(m: MixedModel) -> dict[str, Any]:
    """The model as the native check takes it: formula, data columns and term options
    (its terms are rebuilt from them), response, weights, family and link, dof."""
    glmm = isinstance(m, GeneralizedLinearMixedModel)
    _, columns = prepare(m.formula, m._data)
    weights = m._core.prior_weights if glmm else m._core.weights
    return {
        "formula": m.formula,
        "columns": columns,
        "contrasts": contrast_specs(m._ctor.get("contrasts")),
        "missing": m._ctor.get("missing", "drop"),
        "zerocorr": m._ctor.get("_zerocorr"),
        "family": (m.family, m.link) if glmm else None,
        "y": np.asarray(m.y, dtype=np.float64).tolist(),
        "weights": None if weights is None else np.asarray(weights, dtype=np.float64).tolist(),
        "dof": int(m.dof),
    }


def _ml_copy(m: MixedModel) -> MixedModel:
    """A copy of a linear mixed model fitted by ML: rebuilt from its formula, data and
    constructor arguments, with its current response; ``m`` is left as it is."""
    with warnings.catch_warnings():
        # The warnings about dropped rows and columns were given when m was built.
        warnings.simplefilter("ignore")
        copy = type(m)(m.formula, m._data, **m._ctor)
    y = np.asarray(m.y, dtype=np.float64)
    if not np.array_equal(np.asarray(copy.y), y):
        copy._core.set_response(y.tolist())
    return copy.fit(reml=False)


def _prepare(models: tuple, check_nested: bool) -> _Tests:
    """Check the models, refit REML fits by ML where needed, and gather the criteria."""
    if len(models) < 2:
        raise ArgumentError("likelihoodratiotest needs at least two models", parameter="models")
    for i, m in enumerate(models, start=1):
        if not isinstance(m, MixedModel):
            raise ArgumentTypeError(
                f"model {i} is a {type(m).__name__}, not a mixed model", parameter="models"
            )
        m._require_fit("likelihoodratiotest")
    same_fixed = _core.likelihood_ratio_check([_describe(m) for m in models], check_nested)
    reml = [bool(getattr(m, "reml", False)) for m in models]
    labels = [m.formula for m in models]
    if all(reml) and same_fixed:
        # Same fixed effects, all REML: the REML criteria are comparable (lme4's
        # anova(..., refit = FALSE); MixedModels.jl compares REML fits only so).
        spec = [(float(m.objective), int(m.dof), int(m.nobs)) for m in models]
        return _Tests(labels, spec, True, [])
    refitted = [i for i, r in enumerate(reml, start=1) if r]
    if refitted:
        warn(
            RefitWarning(
                f"refitting model(s) {', '.join(map(str, refitted))} with ML (instead of "
                "REML); the models given are unchanged",
                models=refitted,
            )
        )
    fits = [_ml_copy(m) if r else m for m, r in zip(models, reml, strict=True)]
    # −2 log-likelihood: for an LMM fitted by ML its deviance, for a GLMM not lme4's
    # deviance() (a sum of squared deviance residuals) but −2 logLik.
    spec = [(-2.0 * float(m.loglikelihood()), int(m.dof), int(m.nobs)) for m in fits]
    return _Tests(labels, spec, False, refitted)


def _frame(tests: _Tests) -> pl.DataFrame:
    rows = _core.likelihood_ratio_test(tests.spec)
    return pl.DataFrame(
        {
            "model": tests.labels,
            "dof": [r[0] for r in rows],
            "deviance": [r[1] for r in rows],
            "chisq": [r[2] for r in rows],
            "chisq_dof": [r[3] for r in rows],
            "p": [r[4] for r in rows],
        },
        schema={
            "model": pl.String,
            "dof": pl.Int64,
            "deviance": pl.Float64,
            "chisq": pl.Float64,
            "chisq_dof": pl.Int64,
            "p": pl.Float64,
        },
    )


def likelihoodratiotest(*models: MixedModel, check_nested: bool = True) -> pl.DataFrame:
    """Likelihood-ratio tests of nested models, simplest first; each row tests a model
    against the one before it, as lme4's ``anova`` and MixedModels.jl's
    ``likelihoodratiotest`` do.

    The models must be of the same family and link and fitted to the same rows of the
    data with the same response and weights (else :class:`ModelComparisonError`), and
    each must be nested in the next (else :class:`NotNestedError`): its fixed-effects
    columns in the column space of the next model's (each column's residual after
    projection at most 1e-8 of its norm), and each of its random-effects terms covered
    by a term of the next model grouping the rows the same way, whose columns span its
    columns within every group and which has at least as many covariance parameters.

    Models fitted by REML are refitted by ML (copies; the models given are unchanged),
    with a :class:`RefitWarning`, unless all were fitted by REML and have the same
    fixed effects: then their REML criteria are compared directly (lme4's
    ``anova(..., refit = FALSE)``) and the ``deviance`` column holds them. Otherwise
    it is −2 log-likelihood (for GLMMs the Laplace or quadrature approximation).

    Parameters
    ----------
    *models : LinearMixedModel or GeneralizedLinearMixedModel
        Two or more fitted models, simplest first (increasing number of parameters).
    check_nested : bool, default True
        Refuse models not nested in the next; ``False`` skips that check (the family,
        rows, response and weights are always checked).

    Returns
    -------
    polars.DataFrame
        One row per model: ``model`` (formula), ``dof``, ``deviance``, and against the
        model before it ``chisq``, ``chisq_dof`` and ``p`` (null in the first row).
        :class:`LikelihoodRatioTest` is the same table, printable.

    Raises
    ------
    ModelComparisonError
        The models differ in family or link, rows, response or weights
        (:class:`NotNestedError`: a model not nested in the next).
    ArgumentError
        Fewer than two models; ArgumentTypeError for an argument that is not a mixed
        model.
    NotFittedError
        A model that is not fitted.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> df = mm.dataset("sleepstudy")
    >>> m0 = mm.lmm("Reaction ~ 1 + (1 + Days | Subject)", df)
    >>> m1 = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", df)
    >>> round(mm.likelihoodratiotest(m0, m1)["chisq"][1], 4)
    23.5365
    """
    return _frame(_prepare(models, check_nested))


class LikelihoodRatioTest(RichDisplay):
    """Likelihood-ratio tests of nested models (as :func:`likelihoodratiotest`, with its
    checks and refits) as a table that prints in the layout of MixedModels.jl and
    renders as Markdown, HTML and LaTeX in notebooks; ``to_polars()`` gives the data
    frame.

    Parameters
    ----------
    *models : LinearMixedModel or GeneralizedLinearMixedModel
        Two or more fitted models, simplest first.
    check_nested : bool, default True
        Refuse models not nested in the next (``False`` skips that check).

    Attributes
    ----------
    reml : bool
        Are the criteria REML criteria (all models fitted by REML with the same fixed
        effects, compared without refitting)?
    refitted : list of int
        Positions (1-based) of the models refitted by ML.

    Raises
    ------
    ModelComparisonError
        The models differ in family or link, rows, response or weights
        (:class:`NotNestedError`: a model not nested in the next).
    ArgumentError
        Fewer than two models; ArgumentTypeError for an argument that is not a mixed
        model.
    NotFittedError
        A model that is not fitted.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> df = mm.dataset("sleepstudy")
    >>> m0 = mm.lmm("Reaction ~ 1 + (1 + Days | Subject)", df)
    >>> m1 = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", df)
    >>> t = mm.LikelihoodRatioTest(m0, m1)
    >>> t.to_polars()["chisq_dof"].to_list()
    [None, 1]
    >>> "<table" in t.render("html")
    True
    """

    def __init__(self, *models: MixedModel, check_nested: bool = True):
        self._tests = _prepare(models, check_nested)
        self._table = _frame(self._tests)
        self.reml = self._tests.reml
        self.refitted = list(self._tests.refitted)

    def to_polars(self) -> pl.DataFrame:
        """The tests as a polars DataFrame (the result of :func:`likelihoodratiotest`).

        Returns
        -------
        polars.DataFrame
            A copy of the table: one row per model with its tests against the previous.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> d = mm.dataset("sleepstudy")
        >>> m0 = mm.lmm("Reaction ~ 1 + Days + (1 | Subject)", d)
        >>> m1 = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", d)
        >>> mm.LikelihoodRatioTest(m0, m1).to_polars()["dof"].to_list()
        [4, 6]
        """
        return self._table.clone()

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
        >>> df = mm.dataset("sleepstudy")
        >>> m0 = mm.lmm("Reaction ~ 1 + (1 + Days | Subject)", df)
        >>> m1 = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", df)
        >>> mm.LikelihoodRatioTest(m0, m1).render().splitlines()[0]
        'Likelihood-ratio tests:'
        """
        t = self._tests
        return _core.likelihood_ratio_table(t.labels, t.spec, check_format(format), t.reml)

    def _render(self, format: str) -> str:
        return self.render(format)

    def __repr__(self) -> str:
        return self.render("text").rstrip("\n")
