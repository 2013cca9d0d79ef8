"""Tidy tables of a fitted model, with broom.mixed's conventions: ``tidy`` (one row per
parameter or conditional mode), ``glance`` (one row of fit statistics) and ``augment``
(per-observation diagnostics) of lmer and glmer fits."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from ._data import to_polars
from ._errors import ArgumentError
from ._support import fitted_model, is_glmm
from ._tidy_table import tidy

__all__ = ["augment", "glance", "tidy"]


def glance(model: Any) -> pl.DataFrame:
    """One row of fit statistics, as broom.mixed's ``glance`` of an lmer or glmer fit.

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        A fitted model.

    Returns
    -------
    polars.DataFrame
        One row with broom.mixed's columns ``nobs``, ``sigma`` (σ̂; 1 for a GLMM, as
        lme4's ``sigma``), ``logLik``, ``AIC``, ``BIC``, ``deviance`` and
        ``df.residual`` (nobs minus the number of parameters). For a linear mixed model
        fitted by REML, ``logLik`` is the REML log-likelihood (−REML criterion / 2), AIC
        and BIC are computed from it, and the column ``REMLcrit`` (the REML criterion)
        replaces ``deviance``, as in broom.mixed. A GLMM's ``deviance`` is the sum of
        the unit deviances at the conditional modes (lme4's ``deviance``), its
        ``logLik`` the Laplace (or quadrature) log-likelihood with the full density.

    Raises
    ------
    NotFittedError
        The model has no estimates.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
    >>> mm.glance(m).columns
    ['nobs', 'sigma', 'logLik', 'AIC', 'BIC', 'deviance', 'df.residual']
    """
    model = fitted_model(model, "glance")
    core = model._core
    n, npar = int(core.nobs), int(core.dof)
    row: dict[str, Any] = {"nobs": n}
    if is_glmm(model):
        row["sigma"] = 1.0
        row["logLik"] = float(core.loglikelihood())
        row["AIC"] = float(core.aic())
        row["BIC"] = float(core.bic())
        row["deviance"] = float(core.deviance)
    elif core.is_reml:
        crit = float(core.objective)
        row["sigma"] = float(core.sigma)
        row["logLik"] = -crit / 2
        row["AIC"] = crit + 2 * npar
        row["BIC"] = crit + math.log(n) * npar
        row["REMLcrit"] = crit
    else:
        row["sigma"] = float(core.sigma)
        row["logLik"] = float(core.loglikelihood())
        row["AIC"] = float(core.aic())
        row["BIC"] = float(core.bic())
        row["deviance"] = float(core.deviance())
    row["df.residual"] = n - npar
    return pl.DataFrame([row])


# The columns augment adds (every one replaces a column of the same name in the data).
AUGMENT_COLUMNS = (
    ".fitted",
    ".resid",
    ".hat",
    ".cooksd",
    ".fixed",
    ".mu",
    ".offset",
    ".sqrtXwt",
    ".sqrtrwt",
    ".weights",
    ".wtres",
    ".eta",
)


def _augment_data(model: Any, data: Any) -> pl.DataFrame:
    """The rows used in fitting: of the model's own data, or of ``data`` when it has one
    row per input row (then the used rows are taken) or per observation used."""
    core = model._core
    rows = pl.Series(np.asarray(core.rows, dtype=np.int64))
    if data is None:
        return model._data.select(pl.all().gather(rows))
    df = to_polars(data)
    if df.height == core.nobs:
        return df
    if df.height == core.input_rows:
        return df.select(pl.all().gather(rows))
    raise ArgumentError(
        f"`data` must have one row per observation used ({core.nobs}) or per row of the "
        f"model's data ({core.input_rows}), got {df.height}",
        parameter="data",
    )


def augment(model: Any, data: Any = None) -> pl.DataFrame:
    """The data with per-observation diagnostics, as broom.mixed's ``augment`` of an
    lmer or glmer fit (its column names; lme4's definitions).

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        A fitted model.
    data : polars, pandas or pyarrow table, or dict of columns, optional
        The data to extend: one row per row of the model's data (the rows used are
        kept) or one per observation used. Default: the model's data, rows used (all
        its columns; broom.mixed uses the model frame, i.e. only the formula's columns).

    Returns
    -------
    polars.DataFrame
        The data plus (replacing columns of the same names):

        ``.fitted``
            ``predict(m)``: the fitted values of a linear mixed model, the linear
            predictor η̂ (link scale) of a GLMM.
        ``.resid``
            Response residuals y − μ̂ of a linear mixed model, deviance residuals of
            a GLMM (lme4's default ``residuals``).
        ``.hat``
            lme4's hat values; for a GLMM lme4 (and so broom.mixed) weights the rows by
            the prior weights only, while the factors are at the working weights —
            lme4 warns that these "may not make sense"; they are given as lme4 has them.
        ``.cooksd``
            lme4's Cook's distance (r/(1 − h))² h / (σ̂² p) with Pearson residuals r,
            the hat values above, σ̂² = 1 for a GLMM and p the rank of X.
        ``.fixed``
            The population prediction Xβ̂ + offset (link scale).
        ``.mu``
            The fitted mean μ̂ (response scale).
        ``.offset``
            The offset (0 without).
        ``.sqrtXwt``, ``.sqrtrwt``
            lme4's square roots of the row weights of the penalised least-squares
            system and of the residual weights (both √w for a linear mixed model;
            √(p/V(μ)) dμ/dη and √(p/V(μ)) for a GLMM).
        ``.weights``
            The prior (case) weights (1 without).
        ``.wtres``
            Weighted (Pearson) residuals ``.sqrtrwt`` · (y − μ̂).
        ``.eta``
            GLMMs only: the linear predictor η̂.

    Raises
    ------
    ArgumentError
        ``data`` with a number of rows that matches neither the data nor the
        observations used (``parameter="data"``).
    NotFittedError
        The model has no estimates.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
    >>> a = mm.augment(m)
    >>> a.columns[:3], a.height
    (['Reaction', 'Days', 'Subject'], 180)
    >>> round(a[".hat"].sum(), 2)  # the trace of the hat matrix
    28.61
    """
    model = fitted_model(model, "augment")
    df = _augment_data(model, data)
    core = model._core
    n = int(core.nobs)
    glmm = is_glmm(model)
    offset = core.offset
    fixed = core.predict(None, False, "error", "link", None)
    if glmm:
        eta = np.asarray(core.fitted("link"))
        mu = np.asarray(core.fitted("response"))
        cols = {".fitted": eta, ".resid": core.residuals("deviance")}
        weights = np.asarray(core.prior_weights)
    else:
        mu = np.asarray(core.fitted)
        cols = {".fitted": mu, ".resid": core.residuals}
        w = core.weights
        weights = np.ones(n) if w is None else np.asarray(w)
    cols[".hat"] = core.hatvalues()
    cols[".cooksd"] = core.cooks_distance()
    cols[".fixed"] = fixed
    cols[".mu"] = mu
    cols[".offset"] = np.zeros(n) if offset is None else np.asarray(offset)
    cols[".sqrtXwt"] = core.sqrt_working_weights()
    cols[".sqrtrwt"] = core.sqrt_residual_weights()
    cols[".weights"] = weights
    cols[".wtres"] = core.pearson_residuals()
    if glmm:
        cols[".eta"] = eta
    new = pl.DataFrame({k: np.asarray(v, dtype=np.float64) for k, v in cols.items()})
    return pl.concat([df.drop([c for c in new.columns if c in df.columns]), new], how="horizontal")
