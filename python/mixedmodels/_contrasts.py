"""Contrast codings for categorical variables in fixed- and random-effects terms.

Each coding describes how a factor with k levels becomes model-matrix columns; the
matrices themselves are computed in Rust. Pass them per column:
``contrasts={"days": DummyCoding()}`` (this also turns a numeric column into a factor).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._errors import ArgumentTypeError


@dataclass(frozen=True)
class DummyCoding:
    """Treatment coding: one indicator column per level except ``base`` (default: the first).

    Parameters
    ----------
    base : str, optional
        The reference level (default: the first level).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("angle ~ 1 + recipe + (1 | replicate)", mm.dataset("cake"),
    ...            contrasts={"recipe": mm.DummyCoding(base="C")})
    >>> m.fixefnames
    ['(Intercept)', 'recipe: A', 'recipe: B']
    >>> m.beta.round(3).tolist()  # A − C and B − C
    [31.6, 1.522, 0.044]
    """

    base: str | None = None

    def _spec(self) -> tuple:
        return ("dummy", self.base)


@dataclass(frozen=True)
class EffectsCoding:
    """Sum-to-zero coding: the ``base`` level (default: the first) is -1 in every column.

    Parameters
    ----------
    base : str, optional
        The reference level (default: the first level).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("angle ~ 1 + recipe + (1 | replicate)", mm.dataset("cake"),
    ...            contrasts={"recipe": mm.EffectsCoding()})
    >>> m.fixefnames
    ['(Intercept)', 'recipe: B', 'recipe: C']
    >>> m.beta.round(3).tolist()  # B and C minus the mean of the level means
    [32.122, -0.478, -0.522]
    """

    base: str | None = None

    def _spec(self) -> tuple:
        return ("effects", self.base)


@dataclass(frozen=True)
class HelmertCoding:
    """Helmert coding: each level against the mean of the levels before it.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("angle ~ 1 + recipe + (1 | replicate)", mm.dataset("cake"),
    ...            contrasts={"recipe": mm.HelmertCoding()})
    >>> m.fixefnames
    ['(Intercept)', 'recipe: B', 'recipe: C']
    >>> m.beta.round(3).tolist()  # (B − A)/2, (C − mean(A, B))/3
    [32.122, -0.739, -0.261]
    """

    def _spec(self) -> tuple:
        return ("helmert",)


@dataclass(frozen=True)
class SeqDiffCoding:
    """Sequential-difference coding: coefficient j is level j+1 minus level j.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("angle ~ 1 + recipe + (1 | replicate)", mm.dataset("cake"),
    ...            contrasts={"recipe": mm.SeqDiffCoding()})
    >>> m.fixefnames
    ['(Intercept)', 'recipe: B', 'recipe: C']
    >>> m.beta.round(3).tolist()  # B − A, C − B
    [32.122, -1.478, -0.044]
    """

    def _spec(self) -> tuple:
        return ("seqdiff",)


@dataclass(frozen=True)
class FullDummyCoding:
    """Indicator columns for every level (no reference level); in a random-effects
    term this gives one random effect per level (MixedModels.jl's ``fulldummy``).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.LinearMixedModel("angle ~ 1 + (1 + recipe | replicate)", mm.dataset("cake"),
    ...                         contrasts={"recipe": mm.FullDummyCoding()})
    >>> m.reterms[0].columns
    ['(Intercept)', 'recipe: A', 'recipe: B', 'recipe: C']
    """

    def _spec(self) -> tuple:
        return ("fulldummy",)


@dataclass(frozen=True)
class HypothesisCoding:
    """Coding from a hypothesis matrix: each of its k-1 rows (length k) is a contrast
    to estimate; the model-matrix coding is its pseudo-inverse. ``labels`` name the
    resulting columns (default ``H1``, ``H2``, ...).

    Parameters
    ----------
    hypotheses : sequence of sequence of float
        The k − 1 hypothesis rows, each with one entry per level.
    labels : sequence of str, optional
        Names of the coded columns.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> d = mm.dataset("cake")
    >>> h = mm.HypothesisCoding([[-1, 1, 0], [0, -1, 1]], labels=["B-A", "C-B"])
    >>> m = mm.LinearMixedModel("angle ~ 1 + recipe + (1 | replicate)", d,
    ...                         contrasts={"recipe": h})
    >>> m.fixefnames
    ['(Intercept)', 'recipe: B-A', 'recipe: C-B']
    """

    hypotheses: Sequence[Sequence[float]]
    labels: Sequence[str] | None = None

    def _spec(self) -> tuple:
        rows = [[float(v) for v in row] for row in self.hypotheses]
        labels = None if self.labels is None else [str(s) for s in self.labels]
        return ("hypothesis", rows, labels)


Coding = (
    DummyCoding | EffectsCoding | HelmertCoding | SeqDiffCoding | FullDummyCoding | HypothesisCoding
)


def contrast_specs(contrasts: dict | None) -> dict[str, tuple] | None:
    """Translate ``{column: coding}`` into the tuples the native module takes."""
    if contrasts is None:
        return None
    if not isinstance(contrasts, dict):
        raise ArgumentTypeError(
            "contrasts must be a dict mapping column names to codings", parameter="contrasts"
        )
    out = {}
    for name, coding in contrasts.items():
        if not hasattr(coding, "_spec"):
            raise ArgumentTypeError(
                f"contrast for column `{name}` must be a coding such as DummyCoding(), "
                f"got {type(coding).__name__}",
                parameter="contrasts",
            )
        out[str(name)] = coding._spec()
    return out
