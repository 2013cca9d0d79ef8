"""Plots of sampling distributions: bootstrap densities and likelihood-profile ζ
plots."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from .._errors import ArgumentError, ArgumentTypeError
from ._common import check_level, figure_and_axes, names_or_all, two_sided_z

GRID_POINTS = 256
ZETA_LEVELS = (0.5, 0.8, 0.9, 0.95, 0.99)


def silverman_bandwidth(x: np.ndarray) -> float:
    """R's ``bw.nrd0``: 0.9·min(sd, IQR/1.34)·n^(−1/5), with its fallbacks for a
    vanishing spread."""
    sd = float(np.std(x, ddof=1)) if len(x) > 1 else 0.0
    q1, q3 = np.quantile(x, [0.25, 0.75])
    spread = min(sd, (q3 - q1) / 1.34)
    if spread <= 0.0:
        spread = sd or abs(float(x[0])) or 1.0
    return 0.9 * spread * len(x) ** -0.2


def gaussian_kde(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A Gaussian kernel density estimate of ``x`` on a grid reaching 3 bandwidths
    beyond the extreme values: (grid, density)."""
    h = silverman_bandwidth(x)
    grid = np.linspace(x.min() - 3 * h, x.max() + 3 * h, GRID_POINTS)
    density = np.zeros(GRID_POINTS)
    for chunk in np.array_split(x, max(1, len(x) // 2000)):
        density += np.exp(-0.5 * ((grid[:, None] - chunk[None, :]) / h) ** 2).sum(axis=1)
    return grid, density / (len(x) * h * np.sqrt(2 * np.pi))


def bootstrap_density(
    boot: Any, parameters: str | list[str] | None = None, *, ax: Any = None
) -> Any:
    """Density plots of a parametric bootstrap's replicates, one panel per parameter
    (MixedModels.jl's ``ridgeplot`` / lme4's ``densityplot`` of ``bootMer`` results).

    Each panel shows a Gaussian kernel density estimate (bandwidth R's ``bw.nrd0``), a
    rug with one tick per replicate that has a value (failed fits and undefined
    correlations are left out) and a vertical line at the value the responses were
    drawn from.

    Parameters
    ----------
    boot : ParametricBootstrap
        The result of :func:`mixedmodels.parametricbootstrap`.
    parameters : str or list of str, optional
        The parameters, by the names of ``boot.confint()`` (default: all of them:
        variance components, ``sigma``, fixed effects).
    ax : matplotlib Axes or sequence of Axes, optional
        One Axes per parameter. Default: a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on; per panel the density line (first line), the rug (second
        line, its points the replicate values) and the vertical line at the estimate.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    ArgumentError
        An unknown parameter, or one without any replicate value.
    ArgumentTypeError
        ``boot`` is not a :class:`ParametricBootstrap`.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
    >>> b = mm.parametricbootstrap(m, 100, seed=1, progress=False)
    >>> fig = mm.plot.bootstrap_density(b, ["sigma", "(Intercept)"])
    >>> [a.get_xlabel() for a in fig.axes]
    ['sigma', '(Intercept)']
    """
    from .._bootstrap import ParametricBootstrap

    if not isinstance(boot, ParametricBootstrap):
        raise ArgumentTypeError(
            f"`boot` must be a ParametricBootstrap, got {type(boot).__name__}", parameter="boot"
        )
    by_name = {name: (column, value) for name, column, value in boot._parameters}
    chosen = names_or_all("parameters", parameters, list(by_name))
    fig, axes = figure_and_axes(ax, len(chosen), panel_size=(3.5, 3.0), max_columns=3)
    for a, name in zip(axes, chosen, strict=True):
        column, estimate = by_name[name]
        x = boot.table[column].drop_nulls().to_numpy().astype(np.float64)
        x = x[np.isfinite(x)]
        if len(x) == 0:
            raise ArgumentError(f"`{name}` has no replicate value to plot", parameter="parameters")
        grid, density = gaussian_kde(x)
        a.plot(grid, density, color="C0")
        a.plot(x, np.zeros_like(x), "|", color="0.4", markersize=6)
        a.axvline(estimate, color="C1", linewidth=1.0)
        a.set_xlabel(name)
        a.set_ylabel("Density")
    axes[0].set_title(f"Parametric bootstrap, {boot.n} replicates", loc="left")
    return fig


def profile_table(profile: Any) -> pl.DataFrame:
    """The points of a profile: ``profile.table`` or a table given directly."""
    table = profile if isinstance(profile, pl.DataFrame) else getattr(profile, "table", None)
    if not isinstance(table, pl.DataFrame):
        raise ArgumentTypeError(
            "`profile` must be a profile result (with a polars `table`) or its table, got "
            f"{type(profile).__name__}",
            parameter="profile",
        )
    missing = {"parameter", "zeta", "value"} - set(table.columns)
    if missing:
        raise ArgumentError(f"the profile table lacks {sorted(missing)}", parameter="profile")
    return table


def zetaplot(
    profile: Any,
    parameters: str | list[str] | None = None,
    *,
    absolute: bool = False,
    levels: tuple[float, ...] = ZETA_LEVELS,
    ax: Any = None,
) -> Any:
    """Profile ζ plot: the signed square root of the likelihood-ratio statistic, ζ,
    against each parameter's value (lme4's ``xyplot`` of a profile, MixedModels.jl's
    ``zetaplot``). A straight line means the Wald interval is accurate.

    Horizontal lines mark ζ = ±Φ⁻¹((1 + level)/2) for each of ``levels``; when
    ``profile`` has a ``confint(level)`` method (a profile result), a vertical segment
    from 0 to that height marks each interval end it returns.

    Parameters
    ----------
    profile : ProfileResult or polars.DataFrame
        A profile result (its ``table``) or a table with columns ``parameter``,
        ``zeta`` and ``value``, one row per point.
    parameters : str or list of str, optional
        The parameters to show (default: all, in the table's order).
    absolute : bool, default False
        Plot |ζ| instead of ζ (lme4's ``absVal = TRUE``).
    levels : tuple of float, default (0.5, 0.8, 0.9, 0.95, 0.99)
        Confidence levels whose ζ values are marked.
    ax : matplotlib Axes or sequence of Axes, optional
        One Axes per parameter. Default: a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on; per panel the profile (first line: its points sorted by
        value), then the level lines and interval segments.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    ArgumentError
        An unknown parameter, a level outside (0, 1), or a table without the columns.
    ArgumentTypeError
        ``profile`` that is neither a profile result nor its table, a non-boolean
        ``absolute``, or ``levels`` that is not a tuple of numbers.

    Examples
    --------
    >>> import polars as pl
    >>> import mixedmodels as mm
    >>> t = pl.DataFrame({"parameter": ["a"] * 3, "zeta": [-1.0, 0.0, 1.2],
    ...                   "value": [0.5, 1.0, 1.6]})
    >>> fig = mm.plot.zetaplot(t)
    >>> fig.axes[0].get_ylabel()
    'ζ'
    """
    table = profile_table(profile)
    if not isinstance(absolute, bool):
        raise ArgumentTypeError("`absolute` must be a bool", parameter="absolute")
    if not isinstance(levels, tuple | list):
        raise ArgumentTypeError("`levels` must be a tuple of numbers", parameter="levels")
    levels = [check_level(v, "levels") for v in levels]
    available = table["parameter"].unique(maintain_order=True).to_list()
    chosen = names_or_all("parameters", parameters, available)
    has_confint = not isinstance(profile, pl.DataFrame) and callable(
        getattr(profile, "confint", None)
    )
    ends = {level: profile.confint(level) for level in levels} if has_confint else {}
    fig, axes = figure_and_axes(ax, len(chosen), panel_size=(3.5, 3.0), max_columns=3)
    for a, name in zip(axes, chosen, strict=True):
        rows = table.filter(pl.col("parameter") == name).sort("value")
        zeta = rows["zeta"].to_numpy().astype(np.float64)
        a.plot(rows["value"].to_numpy(), np.abs(zeta) if absolute else zeta, color="C0")
        for level in levels:
            z = two_sided_z(level)
            for height in (z,) if absolute else (-z, z):
                a.axhline(height, color="0.8", linewidth=0.6, zorder=0)
            if level in ends:
                row = ends[level].filter(pl.col("parameter") == name)
                for end, sign in (("lower", -1.0), ("upper", 1.0)):
                    x = row[end].item() if row.height else None
                    if x is not None and np.isfinite(x):
                        a.plot([x, x], [0.0, z if absolute else sign * z], color="C1", lw=0.8)
        a.set_xlabel(name)
        a.set_ylabel("|ζ|" if absolute else "ζ")
    return fig
