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
    """Treatment coding: one indicator column per level except ``base`` (default: the first)."""

    base: str | None = None

    def _spec(self) -> tuple:
        return ("dummy", self.base)


@dataclass(frozen=True)
class EffectsCoding:
    """Sum-to-zero coding: the ``base`` level (default: the first) is -1 in every column."""

    base: str | None = None

    def _spec(self) -> tuple:
        return ("effects", self.base)


@dataclass(frozen=True)
class HelmertCoding:
    """Helmert coding: each level against the mean of the levels before it."""

    def _spec(self) -> tuple:
        return ("helmert",)


@dataclass(frozen=True)
class SeqDiffCoding:
    """Sequential-difference coding: coefficient j is level j+1 minus level j."""

    def _spec(self) -> tuple:
        return ("seqdiff",)


@dataclass(frozen=True)
class FullDummyCoding:
    """Indicator columns for every level (no reference level)."""

    def _spec(self) -> tuple:
        return ("fulldummy",)


@dataclass(frozen=True)
class HypothesisCoding:
    """Coding from a hypothesis matrix: each of its k-1 rows (length k) is a contrast
    to estimate; the model-matrix coding is its pseudo-inverse. ``labels`` name the
    resulting columns (default ``H1``, ``H2``, ...)."""

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
