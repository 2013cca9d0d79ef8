"""Tests across fitted models."""

from __future__ import annotations

import polars as pl

from . import _core
from ._display import RichDisplay, check_format
from ._errors import ArgumentError


def _lrt_spec(models: tuple) -> list[tuple[float, int, int]]:
    """(−2 log-likelihood, dof, nobs) of each model, refusing REML fits."""
    if len(models) < 2:
        raise ArgumentError("likelihoodratiotest needs at least two models", parameter="models")
    spec = []
    for i, m in enumerate(models, start=1):
        if getattr(m, "reml", False):
            raise ArgumentError(
                f"model {i} was fitted by REML; likelihood-ratio tests need ML fits",
                parameter="models",
            )
        # −2 log-likelihood: for an LMM fitted by ML its deviance, for a GLMM not lme4's
        # deviance() (a sum of squared deviance residuals) but −2 logLik.
        spec.append((-2.0 * float(m.loglikelihood()), int(m.dof), int(m.nobs)))
    return spec


def likelihoodratiotest(*models) -> pl.DataFrame:
    """Likelihood-ratio tests of nested models fitted by maximum likelihood to the same
    data, simplest first; each row tests a model against the one before it. The
    "deviance" column is −2 log-likelihood (for GLMMs the Laplace or quadrature
    approximation, as in lme4's ``anova`` and MixedModels.jl). For the same tests as a
    printable table see :class:`LikelihoodRatioTest`.

    >>> import mixedmodels as mm
    >>> df = mm.dataset("sleepstudy")
    >>> m0 = mm.lmm("Reaction ~ 1 + (1 + Days | Subject)", df)
    >>> m1 = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", df)
    >>> round(mm.likelihoodratiotest(m0, m1)["chisq"][1], 4)
    23.5365
    """
    rows = _core.likelihood_ratio_test(_lrt_spec(models))
    return pl.DataFrame(
        {
            "model": [m.formula for m in models],
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


class LikelihoodRatioTest(RichDisplay):
    """Likelihood-ratio tests of nested models (as :func:`likelihoodratiotest`) as a
    table that prints in the layout of MixedModels.jl and renders as Markdown, HTML
    and LaTeX in notebooks; ``to_polars()`` gives the data frame.

    Parameters
    ----------
    *models : LinearMixedModel or GeneralizedLinearMixedModel
        Models fitted by maximum likelihood to the same data, simplest first.

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

    def __init__(self, *models):
        self._spec = _lrt_spec(models)
        self._labels = [m.formula for m in models]
        self._table = likelihoodratiotest(*models)

    def to_polars(self) -> pl.DataFrame:
        """The tests as a polars DataFrame (the result of :func:`likelihoodratiotest`)."""
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
        return _core.likelihood_ratio_table(self._labels, self._spec, check_format(format))

    def _render(self, format: str) -> str:
        return self.render(format)

    def __repr__(self) -> str:
        return self.render("text").rstrip("\n")
