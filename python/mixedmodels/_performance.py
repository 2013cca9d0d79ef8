"""Summaries of a fitted model's variance, as R's performance, insight and lme4 compute
them: Nakagawa's marginal and conditional R², the intraclass correlation (ICC), the
principal components of the random-effects covariances (``rePCA``) and variance
inflation factors (VIF) of the fixed effects. The numbers come from the Rust core
(``mixedmodels::model::{variance, collinearity, repca}``); this module refits the null
model a log-link Poisson model needs, issues the warnings and builds the tables.

The variance decomposition follows ``insight::get_variance`` (insight 0.19, the engine
of performance 0.10's ``r2_nakagawa`` and ``icc``):

* fixed: the sample variance (divisor n − 1) of the fixed-effects predictor Xβ̂
  (without offset);
* random: for each random-effects term whose grouping factor has fewer levels than
  there are observations, the mean over observations of zᵢᵀ Σ zᵢ, where Σ is the term's
  covariance and zᵢ holds the values of the term's columns *read from the fixed-effects
  matrix X by column name* (a column not in X, such as a random slope without its fixed
  effect, is left out, as insight does; a :class:`ModelCheckWarning` says so);
* distribution-specific (residual) variance: σ̂² for a linear mixed model; π²/3, 1 and
  π²/6 for binomial/Bernoulli models with logit, probit and cloglog links; for Poisson
  models with the log link the lognormal approximation log(1 + 1/λ) with
  λ = exp(β₀) from the null model (the same random-effects terms, offset, weights and
  family, fixed part ``~ 1``, refitted here), and 0.25 with the square-root link;
* dispersion (GLMMs only): the variance of observation-level terms (a grouping factor
  with one level per observation, e.g. ``(1 | INDEX)`` in grouseticks), computed as the
  random variance and added to the residual variance.

Then R²_marginal = fixed / (fixed + random + residual), R²_conditional = (fixed +
random) / (fixed + random + residual), ICC_adjusted = random / (random + residual) and
ICC_unadjusted = random / (fixed + random + residual).

One deliberate difference: performance 0.10.2 adds up the random variance over the
*grouping factors* (the names of ``ranef``), so that of several terms with one grouping
factor (``(1 | g) + (0 + x | g)``, ``(1 + x || g)``) only the first counts. Here every
term counts (insight's own formula applied to every ``VarCorr`` term; the fixtures
record both).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from ._base import MixedModel
from ._errors import ArgumentError, ArgumentTypeError, ModelCheckWarning, SingularFitWarning
from ._support import fitted_model, warn

# insight's warning threshold for the Poisson null-model mean.
_SMALL_POISSON_MEAN = 6.0


def _check_tolerance(tolerance: Any) -> float:
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)):
        raise ArgumentTypeError(
            f"`tolerance` must be a number, got {type(tolerance).__name__}",
            parameter="tolerance",
        )
    return float(tolerance)


def _poisson_null_mean(model: MixedModel) -> float:
    """exp(β₀) of the null model: the model's random-effects terms with an intercept
    only, on the rows used, with the model's offset, prior weights, family, link and
    quadrature (insight refits it with ``update``)."""
    from ._glmm import GeneralizedLinearMixedModel

    core = model._core
    rows = pl.Series(np.asarray(core.rows, dtype=np.int64))
    data = model._data.select(pl.all().gather(rows))
    args = dict(model._ctor)
    args["offset"] = None if core.offset is None else np.asarray(core.offset)
    if args.get("weights") is not None:
        args["weights"] = np.asarray(core.prior_weights)
    args["contrasts"] = None
    with warnings.catch_warnings():
        # Warnings about the null model's fit are not about the user's model.
        warnings.simplefilter("ignore")
        null = GeneralizedLinearMixedModel(core.null_model_formula(), data, **args)
        null.fit(fast=bool(core.is_fast), nagq=int(core.nagq))
    mean = math.exp(float(null.beta[0]))
    if mean < _SMALL_POISSON_MEAN:
        warn(
            ModelCheckWarning(
                f"the null model's mean exp(β₀) = {mean:.3g} is below {_SMALL_POISSON_MEAN:g}: "
                "the lognormal approximation of the distribution-specific variance may be "
                "unreliable",
                check="poisson_mean",
            )
        )
    return mean


def _decomposition(model: MixedModel, tolerance: Any) -> dict[str, Any]:
    """The native decomposition (with the null model's mean where needed), after the
    warning about random-effects columns missing from X."""
    tolerance = _check_tolerance(tolerance)
    core = model._core
    null_mean = _poisson_null_mean(model) if core.needs_null_mean else None
    v = core.variance_decomposition(null_mean, tolerance)
    if v["not_in_x"]:
        missing = [c for c in v["not_in_x"] if not c.startswith("(Intercept)|")]
        if missing:
            warn(
                ModelCheckWarning(
                    f"random-effects columns {', '.join(missing)} are not columns of the "
                    "fixed-effects matrix: their variance is left out of the random-effect "
                    "variance (as insight does); add them as fixed effects",
                    check="random_slope_not_fixed",
                    term=missing[0],
                )
            )
    return v


def variance_decomposition(model: Any, *, tolerance: float = 1e-5) -> dict[str, Any]:
    """The variance components of Nakagawa's R² and the ICC (``insight::get_variance``).

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        A fitted model (linear; Bernoulli/Binomial with logit, probit or cloglog link;
        Poisson with log or sqrt link).
    tolerance : float, default 1e-5
        θ entries on a covariance factor's diagonal below this (in absolute value) make
        the fit singular: then ``random`` is None, as insight reports it.

    Returns
    -------
    dict
        ``fixed`` (variance of Xβ̂), ``random`` (mean random-effect variance, None for a
        singular fit), ``residual`` (= ``distribution`` + ``dispersion``),
        ``distribution`` (distribution-specific variance), ``dispersion``
        (observation-level terms of a GLMM), ``intercept`` (grouping factor → random
        intercept variance, for terms whose first column is the intercept) and ``slope``
        (``"group.column"`` → variance of the other columns).

    Raises
    ------
    ArgumentError
        A family and link without a distribution-specific variance (``parameter`` is
        ``"model"``), or a bad ``tolerance``.
    NotFittedError
        The model has no estimates.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
    >>> v = mm.variance_decomposition(m)
    >>> round(v["fixed"], 1), round(v["residual"], 1)
    (909.0, 654.9)
    """
    model = fitted_model(model, "variance_decomposition")
    v = _decomposition(model, tolerance)
    return {
        "fixed": v["fixed"],
        "random": v["random"],
        "residual": v["residual"],
        "distribution": v["distribution"],
        "dispersion": v["dispersion"],
        "intercept": dict(v["intercept"]),
        "slope": dict(v["slope"]),
    }


def _warn_singular(model: MixedModel, v: dict[str, Any], tolerance: float, what: str) -> None:
    indices = list(v["singular"])
    warn(
        SingularFitWarning(
            f"{what}: some variance components are (nearly) zero (θ entries {indices} below "
            f"{tolerance:g}); the random-effect variance is not used, as in performance",
            theta=[float(t) for t in model._core.theta],
            indices=indices,
        )
    )


def r2(model: Any, *, tolerance: float = 1e-5) -> dict[str, float]:
    """Nakagawa's marginal and conditional R² (``performance::r2_nakagawa``).

    The marginal R² is the share of the fixed effects in the total variance
    fixed + random + residual; the conditional R² the share of fixed and random effects
    (see :func:`variance_decomposition` for the components).

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        A fitted model (linear; Bernoulli/Binomial with logit, probit or cloglog link;
        Poisson with log or sqrt link). A log-link Poisson model's null model is fitted
        for the distribution-specific variance.
    tolerance : float, default 1e-5
        Singular-fit threshold on θ (see :func:`variance_decomposition`). For a singular
        fit the marginal R² is fixed / (fixed + residual), the conditional R² NaN, with a
        :class:`SingularFitWarning` (performance's behaviour).

    Returns
    -------
    dict
        ``{"marginal": float, "conditional": float}``.

    Raises
    ------
    ArgumentError
        An unsupported family or link (``parameter="model"``).
    NotFittedError
        The model has no estimates.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
    >>> {k: round(v, 4) for k, v in mm.r2(m).items()}
    {'marginal': 0.2876, 'conditional': 0.7928}
    """
    model = fitted_model(model, "r2")
    v = _decomposition(model, tolerance)
    if v["random"] is None:
        _warn_singular(model, v, tolerance, "r2")
    marginal, conditional = v["r2"]
    return {"marginal": marginal, "conditional": conditional}


def icc(model: Any, *, by_group: bool = False, tolerance: float = 1e-5) -> Any:
    """The intraclass correlation coefficient (``performance::icc``).

    The adjusted ICC is random / (random + residual), the unadjusted one
    random / (fixed + random + residual) (see :func:`variance_decomposition`).

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        A fitted model (families and links as for :func:`r2`).
    by_group : bool, default False
        Return the ICC of each random intercept instead: its variance over
        random + residual (performance's ``by_group = TRUE``; with random slopes a
        :class:`ModelCheckWarning` says that these are not accurate).
    tolerance : float, default 1e-5
        Singular-fit threshold on θ: for a singular fit the ICCs are NaN, with a
        :class:`SingularFitWarning` (performance returns NA).

    Returns
    -------
    dict or polars.DataFrame
        ``{"adjusted": float, "unadjusted": float}``; with ``by_group`` a table with
        columns ``group`` and ``icc``.

    Raises
    ------
    ArgumentError
        An unsupported family or link (``parameter="model"``).
    ArgumentTypeError
        A non-boolean ``by_group``, or ``model`` that is not a mixed model.
    NotFittedError
        The model has no estimates.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"), reml=True)
    >>> round(mm.icc(m)["adjusted"], 4)
    0.4185
    >>> mm.icc(m, by_group=True)["group"].to_list()
    ['Batch']
    """
    model = fitted_model(model, "icc")
    if not isinstance(by_group, bool):
        raise ArgumentTypeError(
            f"`by_group` must be a bool, got {type(by_group).__name__}", parameter="by_group"
        )
    v = _decomposition(model, tolerance)
    if v["random"] is None:
        _warn_singular(model, v, tolerance, "icc")
    if by_group:
        if v["slope"]:
            warn(
                ModelCheckWarning(
                    "the model has random slopes: ICCs by group factor are not accurate",
                    check="random_slopes",
                )
            )
        groups = [g for g, _ in v["icc_by_group"]]
        values = [x for _, x in v["icc_by_group"]]
        return pl.DataFrame(
            {"group": groups, "icc": values}, schema={"group": pl.String, "icc": pl.Float64}
        )
    adjusted, unadjusted = v["icc"]
    return {"adjusted": adjusted, "unadjusted": unadjusted}


@dataclass(frozen=True)
class RePCA:
    """Principal components of one grouping factor's relative covariance factor
    (lme4's ``rePCA``): the singular value decomposition of the block-diagonal Λ of
    the grouping factor's terms.

    Attributes
    ----------
    group : str
        The grouping factor.
    columns : list of str
        The random-effects columns (of every term of the factor, in model order).
    sdev : numpy.ndarray
        Singular values of Λ (standard deviations relative to σ), decreasing.
    rotation : numpy.ndarray
        Left singular vectors, one column per component (signs are arbitrary).
    proportion : numpy.ndarray
        Proportion of variance of each component, sdev² / Σ sdev² (unrounded; lme4's
        ``summary`` rounds to 5 decimals).
    cumulative : numpy.ndarray
        Cumulative proportions.

    Parameters
    ----------
    group, columns, sdev, rotation, proportion, cumulative
        The attributes above (:func:`rePCA` builds them).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
    >>> pca = mm.rePCA(m)["Subject"]
    >>> pca.group, pca.columns
    ('Subject', ['(Intercept)', 'Days'])
    >>> pca.cumulative.round(4).tolist()
    [0.9457, 1.0]
    """

    group: str
    columns: list[str]
    sdev: np.ndarray
    rotation: np.ndarray
    proportion: np.ndarray
    cumulative: np.ndarray

    def to_polars(self) -> pl.DataFrame:
        """One row per component: ``component`` (1-based), ``sdev``, ``proportion``,
        ``cumulative`` (lme4's importance table).

        Returns
        -------
        polars.DataFrame
            One row per principal component.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
        >>> mm.rePCA(m)["Subject"].to_polars().columns
        ['component', 'sdev', 'proportion', 'cumulative']
        """
        return pl.DataFrame(
            {
                "component": list(range(1, len(self.sdev) + 1)),
                "sdev": self.sdev,
                "proportion": self.proportion,
                "cumulative": self.cumulative,
            }
        )


def rePCA(model: Any) -> dict[str, RePCA]:
    """Principal components of the random-effects covariances (lme4's ``rePCA``).

    For each grouping factor the relative covariance factors λ of its terms are put in
    one block-diagonal matrix, whose singular values and left singular vectors are the
    components. A component with a (near) zero standard deviation points to an
    over-parameterised random-effects structure.

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        A fitted model.

    Returns
    -------
    dict of str to RePCA
        Per grouping factor, in model order.

    Raises
    ------
    NotFittedError
        The model has no estimates.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
    >>> pca = mm.rePCA(m)["Subject"]
    >>> pca.proportion.round(3).tolist()
    [0.946, 0.054]
    """
    model = fitted_model(model, "rePCA")
    return {
        d["group"]: RePCA(
            group=d["group"],
            columns=list(d["columns"]),
            sdev=d["sdev"],
            rotation=d["rotation"],
            proportion=d["proportion"],
            cumulative=d["cumulative"],
        )
        for d in model._core.re_pca()
    }


def vif(model: Any, *, ci: float | None = 0.95) -> pl.DataFrame:
    """Variance inflation factors of the fixed-effects terms
    (``performance::check_collinearity``).

    Each term's (generalized) VIF is det(R_tt) det(R_−t,−t) / det R, where R is the
    correlation matrix of β̂ without the intercept and t the term's columns (Fox and
    Monette's GVIF; the usual VIF for a one-column term). For a GLMM β̂'s covariance is
    the R_X-based one (lme4's ``vcov(m, use.hessian = FALSE)``); performance uses lme4's
    default, the finite-difference Hessian, which differs slightly.

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        A fitted model with at least two fixed-effects terms.
    ci : float or None, default 0.95
        Level of performance's confidence intervals of the VIF and the tolerance (None:
        no intervals, NaN columns).

    Returns
    -------
    polars.DataFrame
        One row per term (formula order; a term all of whose columns were dropped for
        rank deficiency is left out): ``term``, ``vif``, ``vif_ci_low``,
        ``vif_ci_high``, ``se_factor`` (√VIF), ``tolerance`` (1/VIF),
        ``tolerance_ci_low``, ``tolerance_ci_high``.

    Raises
    ------
    ArgumentError
        Fewer than two fixed-effects terms (``parameter="model"``), or ``ci`` outside
        (0, 1).
    ArgumentTypeError
        ``ci`` that is neither a number nor None, or ``model`` that is not a mixed model.
    NotFittedError
        The model has no estimates.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("angle ~ 1 + recipe + temp + (1 | recipe & replicate)", mm.dataset("cake"))
    >>> mm.vif(m)["term"].to_list()
    ['recipe', 'temp']
    """
    model = fitted_model(model, "vif")
    if ci is not None and (isinstance(ci, bool) or not isinstance(ci, (int, float))):
        raise ArgumentTypeError(
            f"`ci` must be a number or None, got {type(ci).__name__}", parameter="ci"
        )
    rows, has_intercept = model._core.collinearity(None if ci is None else float(ci))
    if len(rows) < 2:
        raise ArgumentError(
            "variance inflation factors need at least two fixed-effects terms; the model has "
            f"{len(rows)}",
            parameter="model",
        )
    if not has_intercept:
        warn(
            ModelCheckWarning(
                "the model has no intercept: VIFs may not be sensible", check="no_intercept"
            )
        )
    columns = [
        "term",
        "vif",
        "vif_ci_low",
        "vif_ci_high",
        "se_factor",
        "tolerance",
        "tolerance_ci_low",
        "tolerance_ci_high",
    ]
    table = pl.DataFrame(
        rows, schema={c: pl.String if c == "term" else pl.Float64 for c in columns}, orient="row"
    )
    if any(" & " in t for t in table["term"]) and (table["vif"] > 10).any():
        warn(
            ModelCheckWarning(
                "the model has interaction terms: VIFs might be inflated", check="interaction_vif"
            )
        )
    return table
