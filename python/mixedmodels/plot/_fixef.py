"""The coefficient plot: fixed-effects estimates with their confidence intervals."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from .._errors import ArgumentError, ArgumentTypeError
from .._support import fitted_model
from ._common import check_level, figure_and_axes, two_sided_z


def interval_table(model: Any, level: float, intervals: Any) -> pl.DataFrame:
    """``name, estimate, lower, upper`` of the fixed effects: Wald intervals, or the
    rows of ``intervals`` (``parameter, lower, upper``) for the fixed effects."""
    names = list(model.fixefnames)
    beta = np.asarray(model.beta, dtype=np.float64)
    if intervals is None:
        half = two_sided_z(level) * np.asarray(model.stderror(), dtype=np.float64)
        lower, upper = beta - half, beta + half
    else:
        if not isinstance(intervals, pl.DataFrame):
            raise ArgumentTypeError(
                "`intervals` must be a polars DataFrame with columns parameter, lower, "
                f"upper, got {type(intervals).__name__}",
                parameter="intervals",
            )
        missing = {"parameter", "lower", "upper"} - set(intervals.columns)
        if missing:
            raise ArgumentError(
                f"`intervals` lacks the column(s) {sorted(missing)}", parameter="intervals"
            )
        rows = {r["parameter"]: (r["lower"], r["upper"]) for r in intervals.iter_rows(named=True)}
        absent = [n for n in names if n not in rows]
        if absent:
            raise ArgumentError(
                f"`intervals` has no row for the fixed effect(s) {absent}", parameter="intervals"
            )
        lower = np.array([np.nan if rows[n][0] is None else rows[n][0] for n in names], float)
        upper = np.array([np.nan if rows[n][1] is None else rows[n][1] for n in names], float)
    return pl.DataFrame({"name": names, "estimate": beta, "lower": lower, "upper": upper})


def coefplot(
    model: Any,
    *,
    level: float = 0.95,
    intervals: pl.DataFrame | None = None,
    intercept: bool = True,
    ax: Any = None,
) -> Any:
    """Coefficient plot: each fixed effect's estimate with its confidence interval
    (MixedModels.jl's ``coefplot``).

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        A fitted model.
    level : float, default 0.95
        Coverage of the Wald intervals β̂ ± Φ⁻¹((1 + level)/2)·se (ignored when
        ``intervals`` is given).
    intervals : polars.DataFrame, optional
        Other intervals to show: a table with columns ``parameter``, ``lower``,
        ``upper`` and a row per fixed effect, e.g. ``mm.parametricbootstrap(m,
        ...).confint()`` or a profile's ``confint()``.
    intercept : bool, default True
        Show the ``(Intercept)`` row.
    ax : matplotlib Axes, optional
        Where to draw. Default: a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on: one errorbar container, the coefficients in the model's
        order from the top (the first at y = n − 1, the last at y = 0; tick labels
        their names).

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    ArgumentError
        A ``level`` outside (0, 1), or ``intervals`` without a row per fixed effect.
    ArgumentTypeError
        ``intervals`` that is not a polars DataFrame, or a non-boolean ``intercept``.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
    >>> fig = mm.plot.coefplot(m, intercept=False)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['Days']
    """
    model = fitted_model(model, "coefplot")
    level = check_level(level)
    if not isinstance(intercept, bool):
        raise ArgumentTypeError("`intercept` must be a bool", parameter="intercept")
    table = interval_table(model, level, intervals)
    if not intercept:
        table = table.filter(pl.col("name") != "(Intercept)")
    fig, (a,) = figure_and_axes(ax, 1, panel_size=(5.0, max(2.5, 0.4 * table.height + 1.5)))
    y = np.arange(table.height)[::-1].astype(np.float64)
    est = table["estimate"].to_numpy()
    err = np.vstack([est - table["lower"].to_numpy(), table["upper"].to_numpy() - est])
    a.axvline(0.0, color="0.7", linewidth=0.8, zorder=0)
    a.errorbar(est, y, xerr=err, fmt="o", capsize=3)
    a.set_yticks(y, table["name"].to_list())
    a.set_xlabel("Estimate")
    title = "intervals as given" if intervals is not None else f"{level:.0%} Wald intervals"
    a.set_title(f"Fixed effects, {title}", loc="left")
    return fig
