"""What the plots share: the lazy matplotlib import, the figure and axes to draw on,
checks of the common keywords, normal quantiles and plotting positions."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from .._errors import ArgumentError, ArgumentTypeError, MissingDependencyError

INSTALL_HINT = 'pip install "mixedmodels[plot]"'


def pyplot() -> Any:
    """matplotlib.pyplot, imported on first use, or :class:`MissingDependencyError`."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise MissingDependencyError(
            f"the plots of mixedmodels need matplotlib; install it with `{INSTALL_HINT}`",
            package="matplotlib",
            feature="mixedmodels.plot",
        ) from e
    return plt


def figure_and_axes(
    ax: Any, panels: int, *, panel_size: tuple[float, float], max_columns: int | None = None
) -> tuple[Any, list]:
    """The figure and ``panels`` axes to draw on: new ones (side by side, in rows of at
    most ``max_columns``) when ``ax`` is None, else ``ax`` (one Axes when ``panels ==
    1``, else a sequence of that many)."""
    plt = pyplot()
    if ax is None:
        width, height = panel_size
        ncols = panels if max_columns is None else min(panels, max_columns)
        nrows = -(-panels // ncols)
        fig, grid = plt.subplots(
            nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False
        )
        axes = list(grid.ravel())
        for surplus in axes[panels:]:
            fig.delaxes(surplus)
        if nrows > 1:
            fig.set_layout_engine("constrained")
        return fig, axes[:panels]
    from matplotlib.axes import Axes

    given = [ax] if isinstance(ax, Axes) else ax
    if isinstance(given, np.ndarray):
        given = list(given.ravel())
    if not isinstance(given, Sequence) or not all(isinstance(a, Axes) for a in given):
        raise ArgumentTypeError(
            f"`ax` must be a matplotlib Axes or a sequence of Axes, got {type(ax).__name__}",
            parameter="ax",
        )
    if len(given) != panels:
        raise ArgumentError(
            f"this plot has {panels} panel(s); `ax` gives {len(given)} Axes", parameter="ax"
        )
    return given[0].figure, list(given)


def check_level(level: Any, name: str = "level") -> float:
    """``level`` as a float strictly between 0 and 1, or a typed error."""
    if isinstance(level, bool) or not isinstance(level, int | float):
        raise ArgumentTypeError(
            f"`{name}` must be a number, got {level!r} ({type(level).__name__})", parameter=name
        )
    if not 0.0 < float(level) < 1.0:
        raise ArgumentError(
            f"`{name}` must be between 0 and 1 (exclusive), got {level}", parameter=name
        )
    return float(level)


def two_sided_z(level: float) -> float:
    """Φ⁻¹((1 + level)/2): the half-width of a ``level`` normal interval in sds."""
    return NormalDist().inv_cdf((1.0 + level) / 2.0)


def normal_quantiles(p: Any) -> np.ndarray:
    """Φ⁻¹ of each probability in ``p``."""
    dist = NormalDist()
    return np.array([dist.inv_cdf(float(x)) for x in p])


def normal_scores(n: int) -> np.ndarray:
    """Φ⁻¹ of R's ``ppoints(n)``: (i − a)/(n + 1 − 2a), a = 3/8 for n ≤ 10, else 1/2."""
    a = 0.375 if n <= 10 else 0.5
    return normal_quantiles((np.arange(1, n + 1) - a) / (n + 1 - 2 * a))


def pick(name: str, value: Any, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``, else a typed error naming ``name``."""
    if not isinstance(value, str):
        raise ArgumentTypeError(
            f"`{name}` must be a string, got {value!r} ({type(value).__name__})", parameter=name
        )
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ArgumentError(f"`{name}` must be one of {listed}, got {value!r}", parameter=name)
    return value


def names_or_all(name: str, value: Any, available: Sequence[str]) -> list[str]:
    """A list of names drawn from ``available`` (all of them when ``value`` is None; a
    single string is one name)."""
    if value is None:
        return list(available)
    chosen = [value] if isinstance(value, str) else value
    if not isinstance(chosen, Sequence) or not all(isinstance(c, str) for c in chosen):
        raise ArgumentTypeError(
            f"`{name}` must be a string or a list of strings, got {type(value).__name__}",
            parameter=name,
        )
    for c in chosen:
        pick(name, c, available)
    if not chosen:
        raise ArgumentError(f"`{name}` must name at least one entry", parameter=name)
    return list(chosen)
