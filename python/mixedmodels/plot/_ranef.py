"""Plots of the random effects: caterpillar and Q–Q caterpillar plots of the conditional
modes with their conditional intervals."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import ArgumentTypeError
from .._support import fitted_model
from ._common import check_level, figure_and_axes, normal_scores, pick, two_sided_z


def grouping_factor(model: Any, term: Any) -> str:
    """The grouping factor named by ``term`` (default: the model's first)."""
    names = [t["name"] for t in model._core.reterms()]
    if term is None:
        return names[0]
    return pick("term", term, names)


def modes_and_sds(model: Any, term: str) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Levels, columns, conditional modes b̂ (levels × columns) and conditional standard
    deviations (the square roots of the diagonal of each level's condVar block)."""
    table = model.ranef()[term]
    levels = [str(v) for v in table[term].to_list()]
    columns = table.columns[1:]
    b = table.select(columns).to_numpy().astype(np.float64)
    cv = np.asarray(model.condvar()[term], dtype=np.float64)
    sd = np.sqrt(np.diagonal(cv, axis1=1, axis2=2))
    return levels, columns, b, sd


def caterpillar(
    model: Any,
    term: str | None = None,
    *,
    level: float = 0.95,
    order: bool | str = True,
    ax: Any = None,
) -> Any:
    """Caterpillar plot: the conditional modes of one grouping factor's random effects
    with their conditional intervals, one panel per random-effects column (lme4's
    ``dotplot(ranef(m, condVar = TRUE))``, MixedModels.jl's ``caterpillar``).

    Each level's interval is b̂ ± z·sd with z = Φ⁻¹((1 + level)/2) and sd the square
    root of the level's diagonal entry of ``m.condvar()``.

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        A fitted model.
    term : str, optional
        The grouping factor (default: the model's first, as ``m.ranef()`` lists them).
    level : float, default 0.95
        Coverage of the intervals, 0 < level < 1.
    order : bool or str, default True
        Sort the levels by their mode in the first column (True), in the named column
        (a column name), or keep the order of the factor (False).
    ax : matplotlib Axes or sequence of Axes, optional
        Where to draw: one Axes per random-effects column. Default: a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on. In each panel the levels are at y = 0, 1, ... (tick labels
        the level names), the modes and intervals one errorbar container.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed (``pip install "mixedmodels[plot]"``).
    ArgumentError
        An unknown ``term`` or ``order`` column, or a ``level`` outside (0, 1).
    ArgumentTypeError
        ``order`` that is neither a bool nor a column name.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
    >>> fig = mm.plot.caterpillar(m, "Subject")
    >>> [a.get_xlabel() for a in fig.axes]
    ['(Intercept)', 'Days']
    """
    model = fitted_model(model, "caterpillar")
    term = grouping_factor(model, term)
    z = two_sided_z(check_level(level))
    levels, columns, b, sd = modes_and_sds(model, term)
    if isinstance(order, bool):
        perm = np.argsort(b[:, 0], kind="stable") if order else np.arange(len(levels))
    elif isinstance(order, str):
        perm = np.argsort(b[:, columns.index(pick("order", order, columns))], kind="stable")
    else:
        raise ArgumentTypeError(
            f"`order` must be a bool or a column name, got {type(order).__name__}",
            parameter="order",
        )
    height = max(3.0, 0.18 * len(levels) + 1.0)
    fig, axes = figure_and_axes(ax, len(columns), panel_size=(3.5, height))
    y = np.arange(len(levels))
    for j, (a, column) in enumerate(zip(axes, columns, strict=True)):
        a.axvline(0.0, color="0.7", linewidth=0.8, zorder=0)
        a.errorbar(b[perm, j], y, xerr=z * sd[perm, j], fmt="o", markersize=3, capsize=0)
        a.set_yticks(y, [levels[i] for i in perm])
        a.set_xlabel(column)
        if j == 0:
            a.set_ylabel(term)
        else:
            a.tick_params(labelleft=False)
    axes[0].set_title(f"{term}: conditional modes, {level:.0%} intervals", loc="left")
    return fig


def qqcaterpillar(
    model: Any,
    term: str | None = None,
    *,
    level: float = 0.95,
    ax: Any = None,
) -> Any:
    """Normal Q–Q caterpillar plot: each column's conditional modes, sorted, against
    standard normal quantiles, with their conditional intervals (lme4's
    ``qqmath(ranef(m, condVar = TRUE))``, MixedModels.jl's ``qqcaterpillar``).

    The quantiles are Φ⁻¹ of R's ``ppoints(n)`` for n levels; the intervals are
    b̂ ± z·sd as in :func:`caterpillar`.

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        A fitted model.
    term : str, optional
        The grouping factor (default: the model's first).
    level : float, default 0.95
        Coverage of the intervals, 0 < level < 1.
    ax : matplotlib Axes or sequence of Axes, optional
        One Axes per random-effects column. Default: a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on; per panel one errorbar container (modes in increasing
        order at the normal quantiles).

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    ArgumentError
        An unknown ``term``, or a ``level`` outside (0, 1).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
    >>> fig = mm.plot.qqcaterpillar(m)
    >>> fig.axes[0].get_ylabel()
    'Standard normal quantiles'
    """
    model = fitted_model(model, "qqcaterpillar")
    term = grouping_factor(model, term)
    z = two_sided_z(check_level(level))
    _levels, columns, b, sd = modes_and_sds(model, term)
    scores = normal_scores(b.shape[0])
    fig, axes = figure_and_axes(ax, len(columns), panel_size=(3.5, 3.5))
    for j, (a, column) in enumerate(zip(axes, columns, strict=True)):
        perm = np.argsort(b[:, j], kind="stable")
        a.axvline(0.0, color="0.7", linewidth=0.8, zorder=0)
        a.errorbar(b[perm, j], scores, xerr=z * sd[perm, j], fmt="o", markersize=3, capsize=0)
        a.set_xlabel(column)
        if j == 0:
            a.set_ylabel("Standard normal quantiles")
    axes[0].set_title(f"{term}: conditional modes, {level:.0%} intervals", loc="left")
    return fig
