"""Markdown renderings of model tables for notebooks."""

from __future__ import annotations

import math

import polars as pl


def format_pvalue(p: float) -> str:
    """A p-value as the seed manual prints it: 4 decimals, or ``<1e-k``."""
    if math.isnan(p):
        return "NaN"
    if p >= 1e-4:
        return f"{p:.4f}"
    if p < 1e-99:
        return "<1e-99"
    return f"<1e{math.ceil(math.log10(p))}"


def coeftable_markdown(table: pl.DataFrame) -> str:
    """The fixed-effects table as a Markdown table."""
    lines = ["| | Estimate | Std.Error | z value | P(>\\|z\\|) |", "|:--|--:|--:|--:|--:|"]
    for r in table.iter_rows(named=True):
        lines.append(
            f"| {r['name']} | {r['estimate']:.6g} | {r['stderror']:.6g} | "
            f"{r['z']:.6g} | {format_pvalue(r['p'])} |"
        )
    return "\n".join(lines)


def varcorr_markdown(terms: list[dict], residual_sd: float | None) -> str:
    """Variance components as a Markdown table."""
    lines = ["| Group | Column | Variance | Std.Dev. |", "|:--|:--|--:|--:|"]
    for t in terms:
        for j, col in enumerate(t["columns"]):
            group = t["group"] if j == 0 else ""
            lines.append(f"| {group} | {col} | {t['covariance'][j, j]:.6g} | {t['sd'][j]:.6g} |")
    if residual_sd is not None:
        lines.append(f"| Residual | | {residual_sd**2:.6g} | {residual_sd:.6g} |")
    return "\n".join(lines)
