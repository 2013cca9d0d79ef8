"""Tests across fitted models."""

from __future__ import annotations

import polars as pl

from . import _core
from ._errors import ArgumentError


def likelihoodratiotest(*models) -> pl.DataFrame:
    """Likelihood-ratio tests of nested models fitted by maximum likelihood to the same
    data, simplest first; each row tests a model against the one before it. The
    "deviance" column is −2 log-likelihood (for GLMMs the Laplace or quadrature
    approximation, as in lme4's ``anova`` and MixedModels.jl).

    >>> import mixedmodels as mm
    >>> df = mm.dataset("sleepstudy")
    >>> m0 = mm.lmm("Reaction ~ 1 + (1 + Days | Subject)", df)
    >>> m1 = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", df)
    >>> round(mm.likelihoodratiotest(m0, m1)["chisq"][1], 4)
    23.5365
    """
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
    rows = _core.likelihood_ratio_test(spec)
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
