"""Residual diagnostics: residuals against fitted values, a normal Q–Q plot of the
residuals and the scale–location plot."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._support import fitted_model, is_glmm
from .._tidy import augment
from ._common import figure_and_axes, names_or_all, normal_quantiles, normal_scores

KINDS = ("fitted", "qq", "scale")


def residual_columns(model: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fitted values, residuals and standardized (Pearson / σ̂) residuals, as
    :func:`mixedmodels.augment` defines ``.fitted``, ``.resid`` and ``.wtres``."""
    a = augment(model)
    sigma = 1.0 if is_glmm(model) else float(model.sigma)
    return (
        a[".fitted"].to_numpy(),
        a[".resid"].to_numpy(),
        a[".wtres"].to_numpy() / sigma,
    )


def residplot(model: Any, kind: str | list[str] | None = None, *, ax: Any = None) -> Any:
    """Residual diagnostics of a fitted model, one panel per kind.

    ``"fitted"``
        Residuals against fitted values, with a line at 0.
    ``"qq"``
        Normal Q–Q plot: the sorted standardized residuals against Φ⁻¹ of R's
        ``ppoints(n)``, with the line through the sample's quartiles and Φ⁻¹(0.25), Φ⁻¹(0.75) (R's
        ``qqline``).
    ``"scale"``
        Scale–location: √|standardized residual| against fitted values.

    Residuals and fitted values are those of :func:`mixedmodels.augment`: response
    residuals y − ŷ and fitted values for a linear mixed model, deviance residuals and
    the linear predictor for a GLMM. Standardized residuals are the Pearson residuals
    divided by σ̂ (by 1 for a GLMM).

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        A fitted model.
    kind : str or list of str, optional
        Which panels, from ``"fitted"``, ``"qq"``, ``"scale"`` (default: all three).
    ax : matplotlib Axes or sequence of Axes, optional
        One Axes per panel. Default: a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on; each panel holds one scatter collection with a point per
        observation used.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    ArgumentError
        An unknown ``kind`` (``parameter="kind"``).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
    >>> fig = mm.plot.residplot(m)
    >>> [a.get_xlabel() for a in fig.axes]
    ['Fitted values', 'Standard normal quantiles', 'Fitted values']
    """
    model = fitted_model(model, "residplot")
    kinds = names_or_all("kind", kind, KINDS)
    fitted, resid, standardized = residual_columns(model)
    fig, axes = figure_and_axes(ax, len(kinds), panel_size=(4.0, 3.5))
    for a, k in zip(axes, kinds, strict=True):
        if k == "fitted":
            a.axhline(0.0, color="0.6", linewidth=0.8)
            a.scatter(fitted, resid, s=8)
            a.set_xlabel("Fitted values")
            a.set_ylabel("Residuals")
            a.set_title("Residuals vs fitted", loc="left")
        elif k == "qq":
            sample = np.sort(standardized)
            theory = normal_scores(len(sample))
            q_sample = np.quantile(sample, [0.25, 0.75])
            q_theory = normal_quantiles((0.25, 0.75))
            slope = (q_sample[1] - q_sample[0]) / (q_theory[1] - q_theory[0])
            a.axline((q_theory[0], q_sample[0]), slope=slope, color="0.6", linewidth=0.8)
            a.scatter(theory, sample, s=8)
            a.set_xlabel("Standard normal quantiles")
            a.set_ylabel("Standardized residuals")
            a.set_title("Normal Q–Q", loc="left")
        else:
            a.scatter(fitted, np.sqrt(np.abs(standardized)), s=8)
            a.set_xlabel("Fitted values")
            a.set_ylabel("√|standardized residuals|")
            a.set_title("Scale–location", loc="left")
    return fig
