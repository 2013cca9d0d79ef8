"""Likelihood profiles and confidence intervals of a fitted model's parameters (lme4's
``profile`` and ``confint``, MixedModels.jl's ``profile``). The numbers come from
``src/inference/profile/`` and ``src/inference/confint.rs``; this module checks the
arguments and builds the polars tables."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import polars as pl

from . import _core
from ._errors import ArgumentError, ArgumentTypeError, MixedModelWarning
from ._progress import ProgressBar
from ._validate import check_arguments

# The leading columns of ProfileResult.table; a parameter of the same name gets a "_".
TABLE_COLUMNS = ("parameter", "zeta", "value")


def check_level(level: Any) -> float:
    """The confidence level as a float strictly between 0 and 1, else a typed error naming
    ``level``."""
    if isinstance(level, bool | np.bool_) or not isinstance(level, numbers.Real):
        raise ArgumentTypeError(
            f"`level` must be a number, got {level!r} ({type(level).__name__})",
            parameter="level",
        )
    if not (0.0 < float(level) < 1.0):
        raise ArgumentError(
            f"`level` must lie strictly between 0 and 1, got {level}", parameter="level"
        )
    return float(level)


def check_threshold(threshold: Any) -> float:
    """The profile's |ζ| threshold as a positive finite float, else a typed error naming
    ``threshold``."""
    if isinstance(threshold, bool | np.bool_) or not isinstance(threshold, numbers.Real):
        raise ArgumentTypeError(
            f"`threshold` must be a number, got {threshold!r} ({type(threshold).__name__})",
            parameter="threshold",
        )
    if not (math.isfinite(threshold) and threshold > 0):
        raise ArgumentError(
            f"`threshold` must be positive and finite, got {threshold}", parameter="threshold"
        )
    return float(threshold)


def confint_frame(columns: tuple[list[str], list[float], list, list]) -> pl.DataFrame:
    """The table ``parameter, estimate, lower, upper`` (null where there is no end)."""
    names, estimate, lower, upper = columns
    return pl.DataFrame(
        {"parameter": names, "estimate": estimate, "lower": lower, "upper": upper},
        schema={
            "parameter": pl.String,
            "estimate": pl.Float64,
            "lower": pl.Float64,
            "upper": pl.Float64,
        },
    )


class ProfileResult:
    """The likelihood profile of every parameter of a fitted model (see :func:`profile`,
    which builds it).

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        The profiled model (kept to refine the intervals' ends).
    native : mixedmodels._core.Profile
        The profile computed by the core.

    Attributes
    ----------
    table : polars.DataFrame
        One row per conditional fit: ``parameter`` (the one held fixed), ``zeta``,
        ``value`` (its value) and one column per parameter with its value at that fit.
    parameters : list of str
        The parameters in lme4's ``confint(oldNames = FALSE)`` order.
    estimates : dict of str to float
        Their values at the optimum (ζ = 0).
    deviance : float
        The deviance at the optimum (for a linear model the ML deviance, also when it
        was fitted by REML).
    refitted_ml : bool
        Whether the model was fitted by REML and profiled on the ML deviance.
    warnings : list of str
        Problems met on the way (a conditional fit that failed, a non-monotone profile).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
    >>> pr = mm.profile(m)
    >>> pr.parameters[2:]
    ['sd_Days|Subject', 'sigma', '(Intercept)', 'Days']
    >>> pr.confint(0.95).filter(parameter="Days")["lower"].round(4).item()
    7.3587
    """

    def __init__(self, model: Any, native: _core.Profile) -> None:
        self._model = model
        self._native = native

    @property
    def parameters(self) -> list[str]:
        """The parameters, in lme4's ``confint`` order.

        Returns
        -------
        list of str
            Standard deviations and correlations of the random effects, ``sigma``,
            then the coefficients.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> pr = mm.profile(mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff")))
        >>> pr.parameters
        ['sd_(Intercept)|Batch', 'sigma', '(Intercept)']
        """
        return self._native.parameters

    @property
    def estimates(self) -> dict[str, float]:
        """Each parameter's value at the optimum (ζ = 0).

        Returns
        -------
        dict of str to float
            Parameter name → estimate (ML estimates, also for a REML fit).

        Examples
        --------
        >>> import mixedmodels as mm
        >>> pr = mm.profile(mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff")))
        >>> {k: round(v, 3) for k, v in pr.estimates.items()}
        {'sd_(Intercept)|Batch': 37.26, 'sigma': 49.51, '(Intercept)': 1527.5}
        """
        return dict(zip(self._native.parameters, self._native.estimates, strict=True))

    @property
    def deviance(self) -> float:
        """The deviance at the optimum (for a linear model the ML deviance).

        Returns
        -------
        float
            The deviance each profile's ζ is measured from.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> pr = mm.profile(mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff")))
        >>> round(pr.deviance, 4)
        327.3271
        """
        return self._native.deviance

    @property
    def threshold(self) -> float:
        """|ζ| up to which each profile was followed.

        Returns
        -------
        float
            The ``threshold`` given to :func:`profile`.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> pr = mm.profile(mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff")))
        >>> pr.threshold
        4.0
        """
        return self._native.threshold

    @property
    def refitted_ml(self) -> bool:
        """Was the model fitted by REML (and profiled on the ML deviance)?

        Returns
        -------
        bool
            True when a REML fit was refitted by ML to profile it.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> pr = mm.profile(mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff")))
        >>> pr.refitted_ml
        False
        """
        return self._native.refitted_ml

    @property
    def warnings(self) -> list[str]:
        """Problems met while profiling (each also given as a warning).

        Returns
        -------
        list of str
            Messages: a conditional fit that failed, a non-monotone profile; empty if none.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> pr = mm.profile(mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff")))
        >>> pr.warnings
        []
        """
        return self._native.warnings

    @property
    def table(self) -> pl.DataFrame:
        """The profile's points, one row per conditional fit (see the class docstring).

        Returns
        -------
        polars.DataFrame
            ``parameter``, ``zeta``, ``value``, then one column per parameter.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> pr = mm.profile(mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff")))
        >>> t = pr.table
        >>> t.filter(parameter="sigma")["zeta"].is_sorted()
        True
        """
        which, zeta, values = self._native.points()
        names = self.parameters
        cols: dict[str, Any] = {
            "parameter": [names[i] for i in which],
            "zeta": zeta,
            "value": values[np.arange(len(which)), which],
        }
        for j, name in enumerate(names):
            while name in cols:
                name += "_"
            cols[name] = values[:, j]
        return pl.DataFrame(cols)

    def confint(self, level: float = 0.95, *, refine: bool = True) -> pl.DataFrame:
        """Profile confidence intervals: where ζ(p) = ∓Φ⁻¹((1 + level)/2).

        A monotone cubic spline through each profile's points, p(ζ), gives first ends
        (lme4 inverts an interpolating spline of ζ(p) the same way); with ``refine`` each
        end is then found by Brent's method on the exact profile within the bracketing
        points, a few conditional fits per end (it needs the model, unchanged since it
        was profiled). An end beyond the attainable end of a range (a standard deviation
        whose profile stays above −z down to 0, a correlation reaching ±1) is that bound,
        as lme4 reports it.

        Parameters
        ----------
        level : float, default 0.95
            The confidence level, 0 < level < 1; Φ⁻¹((1 + level)/2) must not exceed the
            profile's ``threshold``.
        refine : bool, default True
            Refine the spline's ends on the exact profile.

        Returns
        -------
        polars.DataFrame
            ``parameter``, ``estimate`` (at the profile's optimum), ``lower``, ``upper``
            (null where the profile does not reach the level).

        Raises
        ------
        ArgumentError
            A bad ``level`` (also one beyond the threshold), or (``parameter="profile"``)
            a model refitted or changed since it was profiled; ArgumentTypeError for a
            ``refine`` that is not a bool.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> mm.profile(m).confint(0.9).columns
        ['parameter', 'estimate', 'lower', 'upper']
        """
        level = check_level(level)
        if type(refine) is not bool:
            raise ArgumentTypeError(
                f"`refine` must be True or False, got {refine!r}", parameter="refine"
            )
        if refine:
            columns = _core.profile_confint(self._model._core, self._native, level)
        else:
            columns = self._native.confint(level)
        return confint_frame(columns)

    def __repr__(self) -> str:
        return (
            f"<ProfileResult of {len(self.parameters)} parameters, "
            f"{self._native.conditional_fits} conditional fits, |ζ| ≤ {self.threshold:g}>"
        )


def profile(model: Any, *, threshold: float = 4.0, progress: bool | None = None) -> ProfileResult:
    """Profile the likelihood of every parameter of a fitted model.

    For a parameter p with estimate p̂ the profile is ζ(p) = sign(p − p̂)·√(d(p) − d(p̂)),
    d(p) being the deviance minimised over the other parameters with p held fixed. The
    parameters are lme4's (``confint(oldNames = FALSE)``): each random effect's standard
    deviation (``sd_(Intercept)|Subject``) and correlation
    (``cor_Days.(Intercept)|Subject``), the residual ``sigma`` (linear models) and each
    fixed-effects coefficient. A linear model is profiled on its ML deviance (a REML fit
    is refitted by ML first, as lme4's ``profile`` does); a generalized one on its Laplace
    (or quadrature) deviance in (θ, β). Each profile steps out from the estimate,
    about 0.5 in ζ at a time, until |ζ| exceeds ``threshold`` or the parameter reaches
    the end of its range. The model is left as it was.

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        A fitted model (a linear one with σ estimated).
    threshold : float, default 4.0
        Follow each profile until |ζ| exceeds this (MixedModels.jl's default; enough for
        intervals up to level 0.9999).
    progress : bool or None
        Show a progress bar of the parameters profiled: True always, False never,
        None (default) when the output is interactive and profiling lasts more than a
        second.

    Returns
    -------
    ProfileResult
        The points (``.table``) and intervals (``.confint(level)``).

    Raises
    ------
    NotFittedError
        The model is not fitted.
    ArgumentError
        A bad ``threshold``, or a linear model with σ fixed (``parameter="sigma"``).
    ArgumentTypeError
        ``model`` is not a mixed model.

    Examples
    --------
    >>> import mixedmodels as mm, polars as pl
    >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
    >>> pr = mm.profile(m)
    >>> pr.table.columns[:4]
    ['parameter', 'zeta', 'value', 'sd_(Intercept)|Subject']
    >>> pr.confint().filter(parameter="sigma").select(pl.col("lower", "upper").round(3)).rows()
    [(22.898, 28.858)]
    """
    from ._support import is_model, warn

    if not is_model(model):
        raise ArgumentTypeError(
            f"`model` must be a LinearMixedModel or GeneralizedLinearMixedModel, got "
            f"{type(model).__name__}",
            parameter="model",
        )
    threshold = check_threshold(threshold)
    check_arguments(progress=progress)
    with ProgressBar(progress, "profile", "param", units=True) as bar:
        native = _core.profile_model(model._core, threshold, bar.native)
    for message in native.warnings:
        warn(MixedModelWarning(message))
    return ProfileResult(model, native)
