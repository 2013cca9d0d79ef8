"""Summaries of a fitted model's variance, as R's performance, insight and lme4 compute
them: Nakagawa's marginal and conditional R², the intraclass correlation (ICC), the
principal components of the random-effects covariances (``rePCA``) and variance
inflation factors (VIF) of the fixed effects.

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
from statistics import NormalDist
from typing import Any

import numpy as np
import polars as pl

from ._base import MixedModel, warn
from ._errors import ArgumentError, ArgumentTypeError, ModelCheckWarning, SingularFitWarning

# Distribution-specific variances of the binomial links on the latent scale.
_BINOMIAL_LINK_VARIANCE = {
    "LogitLink": math.pi**2 / 3,
    "ProbitLink": 1.0,
    "CloglogLink": math.pi**2 / 6,
}
# insight's warning threshold for the Poisson null-model mean.
_SMALL_POISSON_MEAN = 6.0


def _check_model(model: Any, what: str) -> MixedModel:
    """``model`` as a fitted mixed model, or a typed error naming ``what``."""
    if not isinstance(model, MixedModel):
        raise ArgumentTypeError(
            f"`{what}` needs a LinearMixedModel or GeneralizedLinearMixedModel, "
            f"got {type(model).__name__}",
            parameter="model",
        )
    model._require_fit(what)
    return model


def _is_glmm(model: MixedModel) -> bool:
    return not model._has_sigma


def _check_tolerance(tolerance: Any) -> float:
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)):
        raise ArgumentTypeError(
            f"`tolerance` must be a number, got {type(tolerance).__name__}",
            parameter="tolerance",
        )
    if not (tolerance >= 0 and math.isfinite(tolerance)):
        raise ArgumentError(
            f"`tolerance` must be finite and non-negative, got {tolerance}", parameter="tolerance"
        )
    return float(tolerance)


def _singular_indices(model: MixedModel, tolerance: float) -> list[int]:
    """θ entries on λ's diagonal (lower bound 0) smaller than ``tolerance`` in absolute
    value: insight's test of a singular fit."""
    theta = np.asarray(model._core.theta)
    lower = np.asarray(model._core.lowerbd)
    return [int(i) for i in np.flatnonzero((lower == 0) & (np.abs(theta) < tolerance))]


def _mean_quadratic_form(x: np.ndarray, names: list[str], columns: list[str], cov: np.ndarray):
    """insight's mean random-effect variance of one term: (1/n) Σᵢ zᵢᵀ Σ zᵢ with zᵢ the
    term's columns read from X by name; returns (value, columns not found in X)."""
    if "(Intercept)" not in names:
        x = np.column_stack([np.ones(x.shape[0]), x])
        names = ["(Intercept)", *names]
    index = {n: j for j, n in enumerate(names)}
    keep = [k for k, c in enumerate(columns) if c in index]
    missing = [c for c in columns if c not in index]
    z = x[:, [index[columns[k]] for k in keep]]
    s = cov[np.ix_(keep, keep)]
    return float(np.einsum("ij,jk,ik->", z, s, z) / x.shape[0]), missing


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


def _distribution_variance(model: MixedModel) -> float:
    """The distribution-specific variance of the family and link (see the module)."""
    if not _is_glmm(model):
        return float(model._core.sigma) ** 2
    family, link = model._core.family, model._core.link
    if family in ("Bernoulli", "Binomial") and link in _BINOMIAL_LINK_VARIANCE:
        return _BINOMIAL_LINK_VARIANCE[link]
    if family == "Poisson" and link == "LogLink":
        return math.log1p(1.0 / _poisson_null_mean(model))
    if family == "Poisson" and link == "SqrtLink":
        return 0.25
    raise ArgumentError(
        f"no distribution-specific variance for family `{family}` with link `{link}`: R² and "
        "ICC support Bernoulli/Binomial with logit, probit or cloglog links and Poisson with "
        "log or sqrt links",
        parameter="model",
    )


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
    model = _check_model(model, "variance_decomposition")
    tolerance = _check_tolerance(tolerance)
    core = model._core
    x = np.asarray(core.X)
    names = list(core.coef_names)
    n = x.shape[0]
    eta_fixed = x @ np.asarray(core.beta)
    fixed = float(np.var(eta_fixed, ddof=1)) if n > 1 else 0.0
    terms, _ = core.varcorr()
    levels = [len(t["levels"]) for t in core.reterms()]
    random = dispersion = 0.0
    intercept: dict[str, float] = {}
    slope: dict[str, float] = {}
    not_in_x: list[str] = []
    glmm = _is_glmm(model)
    for term, nlev in zip(terms, levels, strict=True):
        cov = np.asarray(term["covariance"])
        columns = list(term["columns"])
        value, missing = _mean_quadratic_form(x, names, columns, cov)
        not_in_x += [f"{c}|{term['group']}" for c in missing if c != "(Intercept)"]
        if nlev == n:
            # An observation-level term: dispersion of a GLMM; insight leaves it out of
            # a linear mixed model.
            dispersion += value if glmm else 0.0
        else:
            random += value
        start = 0
        if columns and columns[0] == "(Intercept)":
            intercept[term["group"]] = float(cov[0, 0])
            start = 1
        for j in range(start, len(columns)):
            slope[f"{term['group']}.{columns[j]}"] = float(cov[j, j])
    if not_in_x:
        warn(
            ModelCheckWarning(
                f"random-effects columns {', '.join(not_in_x)} are not columns of the "
                "fixed-effects matrix: their variance is left out of the random-effect "
                "variance (as insight does); add them as fixed effects",
                check="random_slope_not_fixed",
                term=not_in_x[0],
            )
        )
    distribution = _distribution_variance(model)
    singular = bool(_singular_indices(model, tolerance))
    return {
        "fixed": fixed,
        "random": None if singular else random,
        "residual": distribution + dispersion,
        "distribution": distribution,
        "dispersion": dispersion,
        "intercept": intercept,
        "slope": slope,
    }


def _warn_singular(model: MixedModel, tolerance: float, what: str) -> None:
    indices = _singular_indices(model, tolerance)
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
    _check_model(model, "r2")
    v = variance_decomposition(model, tolerance=tolerance)
    f, e = v["fixed"], v["residual"]
    if v["random"] is None:
        _warn_singular(model, tolerance, "r2")
        return {"marginal": f / (f + e), "conditional": math.nan}
    r = v["random"]
    total = f + r + e
    return {"marginal": f / total, "conditional": (f + r) / total}


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
        An unsupported family or link (``parameter="model"``) or a non-boolean
        ``by_group``.
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
    _check_model(model, "icc")
    if not isinstance(by_group, bool):
        raise ArgumentTypeError(
            f"`by_group` must be a bool, got {type(by_group).__name__}", parameter="by_group"
        )
    v = variance_decomposition(model, tolerance=tolerance)
    r, e, f = v["random"], v["residual"], v["fixed"]
    if r is None:
        _warn_singular(model, tolerance, "icc")
    if by_group:
        if v["slope"]:
            warn(
                ModelCheckWarning(
                    "the model has random slopes: ICCs by group factor are not accurate",
                    check="random_slopes",
                )
            )
        groups = list(v["intercept"])
        values = [math.nan if r is None else v["intercept"][g] / (r + e) for g in groups]
        return pl.DataFrame(
            {"group": groups, "icc": values}, schema={"group": pl.String, "icc": pl.Float64}
        )
    if r is None:
        return {"adjusted": math.nan, "unadjusted": math.nan}
    return {"adjusted": r / (r + e), "unadjusted": r / (f + r + e)}


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
    model = _check_model(model, "rePCA")
    core = model._core
    blocks: dict[str, list[tuple[list[str], np.ndarray]]] = {}
    for term, lam in zip(core.reterms(), core.lambda_, strict=True):
        blocks.setdefault(term["name"], []).append((list(term["columns"]), np.asarray(lam)))
    out = {}
    for group, parts in blocks.items():
        size = sum(lam.shape[0] for _, lam in parts)
        full = np.zeros((size, size))
        at = 0
        for _, lam in parts:
            k = lam.shape[0]
            full[at : at + k, at : at + k] = lam
            at += k
        u, s, _ = np.linalg.svd(full)
        var = s**2
        total = var.sum()
        proportion = var / total if total > 0 else np.full_like(var, math.nan)
        out[group] = RePCA(
            group=group,
            columns=[c for cols, _ in parts for c in cols],
            sdev=s,
            rotation=u,
            proportion=proportion,
            cumulative=np.cumsum(proportion),
        )
    return out


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
    NotFittedError
        The model has no estimates.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("angle ~ 1 + recipe + temp + (1 | recipe & replicate)", mm.dataset("cake"))
    >>> mm.vif(m)["term"].to_list()
    ['recipe', 'temp']
    """
    model = _check_model(model, "vif")
    if ci is not None and (
        isinstance(ci, bool) or not isinstance(ci, (int, float)) or not 0 < ci < 1
    ):
        raise ArgumentError(f"`ci` must be a number in (0, 1) or None, got {ci!r}", parameter="ci")
    core = model._core
    labels, term_of = core.fixed_terms()
    if len(labels) < 2:
        raise ArgumentError(
            f"variance inflation factors need at least two fixed-effects terms; the model has "
            f"{len(labels)}",
            parameter="model",
        )
    v = np.asarray(core.vcov)
    keep = [j for j, t in enumerate(term_of) if t is not None]
    if len(keep) == len(term_of):
        warn(
            ModelCheckWarning(
                "the model has no intercept: VIFs may not be sensible", check="no_intercept"
            )
        )
    v = v[np.ix_(keep, keep)]
    assign = np.asarray([term_of[j] for j in keep])
    s = np.sqrt(np.diag(v))
    corr = v / np.outer(s, s)
    det_all = np.linalg.det(corr)
    terms, values = [], []
    for t, label in enumerate(labels):
        inside = assign == t
        if not inside.any():
            continue
        rest = ~inside
        d_in = np.linalg.det(corr[np.ix_(inside, inside)])
        d_out = np.linalg.det(corr[np.ix_(rest, rest)]) if rest.any() else 1.0
        terms.append(label)
        values.append(d_in * d_out / det_all)
    vifs = np.asarray(values)
    if any(" & " in t for t in terms) and (vifs > 10).any():
        warn(
            ModelCheckWarning(
                "the model has interaction terms: VIFs might be inflated", check="interaction_vif"
            )
        )
    low, high = _vif_intervals(vifs, core.nobs, len(core.beta), ci)
    return pl.DataFrame(
        {
            "term": terms,
            "vif": vifs,
            "vif_ci_low": 1 / (1 - low),
            "vif_ci_high": 1 / (1 - high),
            "se_factor": np.sqrt(vifs),
            "tolerance": 1 / vifs,
            "tolerance_ci_low": 1 - high,
            "tolerance_ci_high": 1 - low,
        }
    )


def _vif_intervals(vifs: np.ndarray, n: int, p: int, ci: float | None):
    """performance's interval of R² = 1 − 1/VIF (a logit-scale normal interval with the
    standard error of a multiple correlation's square): (low, high) of R²."""
    if ci is None:
        nan = np.full_like(vifs, math.nan)
        return nan, nan
    r = 1 - 1 / vifs
    z = NormalDist().inv_cdf((1 + ci) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        logit = np.log(r / (1 - r))
        se = np.sqrt((1 - r**2) ** 2 * (n - p - 1) ** 2 / ((n**2 - 1) * (n + 3)))
        se_logit = se / (r * (1 - r))
        low = 1 / (1 + np.exp(-(logit - z * se_logit)))
        high = 1 / (1 + np.exp(-(logit + z * se_logit)))
    return low, high
