"""The shrinkage plot: each level's random effects fitted by least squares within the
level, without the penalty, next to the conditional modes (MixedModels.jl's
``shrinkageplot``)."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np

from .._errors import ArgumentError, RowsNotStoredError
from .._support import fitted_model, is_glmm
from ._common import figure_and_axes
from ._ranef import grouping_factor


def within_level_fits(model: Any, term: str) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Levels, columns, the unpenalised per-level least-squares random effects and the
    conditional modes b̂ of the grouping factor ``term`` (both levels × columns).

    The working response is the partial residual r = y − Xβ̂ − Σ_{s≠term} Z_s b̂_s;
    within each level the term's columns are fitted to r by (weighted) least squares.
    The conditional modes solve the same problem with the penalty of the estimated
    covariance, so the segment between the two shows the shrinkage. A level whose
    rows cannot determine all columns (rank-deficient) gets NaN.
    """
    if not getattr(model._core, "rows_stored", True):
        raise RowsNotStoredError(
            "the within-level fits need each row's random-effects columns, which a model "
            "built from streamed data does not keep",
            what="shrinkageplot",
        )
    reterm = next(t for t in model.reterms if t.name == term)
    k = [t.name for t in model.reterms].index(term)
    b = np.asarray(model.b[k], dtype=np.float64)
    refs = np.asarray(reterm.refs, dtype=np.int64)
    zt = np.asarray(reterm.z, dtype=np.float64)
    own = np.einsum("ij,ij->i", zt, b[refs])
    partial = np.asarray(model.y, dtype=np.float64) - np.asarray(model.fitted()) + own
    weights = model._core.weights
    root_w = np.ones(len(partial)) if weights is None else np.sqrt(np.asarray(weights))
    ols = np.full_like(b, np.nan)
    for g in range(b.shape[0]):
        rows = refs == g
        zg = zt[rows] * root_w[rows, None]
        coef, _, rank, _ = np.linalg.lstsq(zg, partial[rows] * root_w[rows], rcond=None)
        if rank == b.shape[1]:
            ols[g] = coef
    return list(reterm.levels), list(reterm.columns), ols, b


def shrinkageplot(model: Any, term: str | None = None, *, ax: Any = None) -> Any:
    """Shrinkage plot of a linear mixed model's random effects for one grouping factor
    (MixedModels.jl's ``shrinkageplot``).

    For each level, the random effects fitted by least squares to that level's rows
    alone (no penalty; open circles) and the conditional modes b̂ (filled), joined by a
    segment: the modes are pulled toward 0 the more, the less a level's rows say. Both
    are on the scale of b (deviations from the fixed effects), holding β̂ and the other
    terms' modes at their estimates. With two or more columns there is one panel per
    pair of columns; with one column, one panel with the levels along y.

    Parameters
    ----------
    model : LinearMixedModel
        A fitted linear mixed model.
    term : str, optional
        The grouping factor (default: the model's first).
    ax : matplotlib Axes or sequence of Axes, optional
        One Axes per panel (pairs of columns, or 1). Default: a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on; per panel two scatter collections (``label`` "within-level
        least squares" and "conditional mode") and one line collection of the segments.
        Levels with a rank-deficient within-level fit are left out.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    ArgumentError
        A generalized linear mixed model (``parameter="model"``), or an unknown ``term``.
    RowsNotStoredError
        A model built from streamed data (it keeps no rows to fit within levels).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
    >>> fig = mm.plot.shrinkageplot(m)
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('(Intercept)', 'Days')
    """
    model = fitted_model(model, "shrinkageplot")
    if is_glmm(model):
        raise ArgumentError(
            "`shrinkageplot` needs a linear mixed model (its within-level least-squares "
            "fits have no counterpart for a GLMM)",
            parameter="model",
        )
    from matplotlib.collections import LineCollection

    term = grouping_factor(model, term)
    levels, columns, ols, b = within_level_fits(model, term)
    keep = np.all(np.isfinite(ols), axis=1)
    if len(columns) == 1:
        pairs: list[tuple[int, int]] = [(0, 0)]
    else:
        pairs = list(combinations(range(len(columns)), 2))
    fig, axes = figure_and_axes(ax, len(pairs), panel_size=(4.0, 4.0))
    for a, (i, j) in zip(axes, pairs, strict=True):
        if len(columns) == 1:
            y = np.arange(int(keep.sum()), dtype=np.float64)
            start = np.column_stack([ols[keep, 0], y])
            end = np.column_stack([b[keep, 0], y])
            a.set_yticks(y, [lv for lv, k in zip(levels, keep, strict=True) if k])
            a.set_ylabel(term)
        else:
            start, end = ols[keep][:, [i, j]], b[keep][:, [i, j]]
            a.set_ylabel(columns[j])
        a.set_xlabel(columns[i])
        a.add_collection(LineCollection(np.stack([start, end], axis=1), colors="0.6", lw=0.8))
        a.scatter(
            start[:, 0],
            start[:, 1],
            facecolors="none",
            edgecolors="C0",
            label="within-level least squares",
        )
        a.scatter(end[:, 0], end[:, 1], color="C1", label="conditional mode")
        a.autoscale_view()
    axes[0].legend(loc="best", fontsize="small")
    axes[0].set_title(f"{term}: shrinkage", loc="left")
    return fig
