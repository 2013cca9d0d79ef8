#!/usr/bin/env python3
"""Scale invariance, measured: each model refitted with one predictor multiplied by 10^k,
k = −8 … 8, against the fit at k = 0. For every k it prints the objective's relative
error (REML: after removing the exact 2k·log 10 per scaled column of X, which lme4's REML
criterion also contains), the largest relative difference of the fitted values, the
certificate's status and the evaluations; a failed fit prints its exception.

    python benches/scale_invariance.py               # all models
    python benches/scale_invariance.py --models sleepstudy_ml,contraception_joint

The assertions live in tests/scale_invariance.rs; this prints the whole table (for
before/after comparisons of the fit driver).
"""

from __future__ import annotations

import argparse
import math
import warnings

import numpy as np
import polars as pl

import mixedmodels as mm


def cycle(n: int) -> pl.Series:
    """A covariate cycling through 17 values in 0–4 (as tests/scale_invariance.rs)."""
    return pl.Series([((i * 37) % 17) / 4.0 for i in range(n)])


def sleep_x() -> pl.DataFrame:
    d = mm.dataset("sleepstudy")
    return d.with_columns(x=cycle(d.height))


def penicillin_x() -> pl.DataFrame:
    d = mm.dataset("penicillin")
    return d.with_columns(x=cycle(d.height))


def pastes_x() -> pl.DataFrame:
    d = mm.dataset("pastes")
    return d.with_columns(x=cycle(d.height))


SLEEP = "Reaction ~ 1 + Days + (1 + Days | Subject)"
CONTRA = "use ~ 1 + age + (1 + age | district)"

# name: (data, formula, column, kind, options, columns of X scaled)
MODELS = {
    "sleepstudy_ml": (lambda: mm.dataset("sleepstudy"), SLEEP, "Days", "lmm", {}, 1),
    "sleepstudy_reml": (
        lambda: mm.dataset("sleepstudy"),
        SLEEP,
        "Days",
        "lmm",
        {"reml": True},
        1,
    ),
    "sleepstudy_x_only": (sleep_x, "Reaction ~ 1 + Days + x + (1 | Subject)", "x", "lmm", {}, 1),
    "penicillin_crossed": (
        penicillin_x,
        "diameter ~ 1 + x + (1 + x | plate) + (1 | sample)",
        "x",
        "lmm",
        {},
        1,
    ),
    "pastes_nested": (
        pastes_x,
        "strength ~ 1 + x + (1 | batch) + (0 + x | batch & cask)",
        "x",
        "lmm",
        {},
        1,
    ),
    "contraception_fast": (
        lambda: mm.dataset("contraception"),
        CONTRA,
        "age",
        "glmm",
        {"family": "bernoulli", "fast": True},
        1,
    ),
    "contraception_joint": (
        lambda: mm.dataset("contraception"),
        CONTRA,
        "age",
        "glmm",
        {"family": "bernoulli"},
        1,
    ),
}


def fit(kind: str, formula: str, data: pl.DataFrame, options: dict):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "lmm":
            return mm.lmm(formula, data, **options)
        return mm.glmm(formula, data, **options)


def series(name: str) -> None:
    make, formula, column, kind, options, nx = MODELS[name]
    data = make()
    base = fit(kind, formula, data, options)
    reml = options.get("reml", False)
    print(f"\n{name}: {formula}, {column} × 10^k (k = 0: objective {base.objective:.10f})")
    header = ("k", "objective rel. error", "fitted rel. diff.", "certificate", "evals")
    print(" ".join(h.rjust(w) for h, w in zip(header, (4, 21, 18, 12, 6), strict=True)))
    for k in range(-8, 9):
        scaled = data.with_columns(pl.col(column) * 10.0**k)
        try:
            m = fit(kind, formula, scaled, options)
        except Exception as e:  # a failed fit is part of the table
            print(f"{k:>4} {type(e).__name__:>21}")
            continue
        shift = 2 * nx * k * math.log(10) if reml else 0.0
        rel = abs(m.objective - shift - base.objective) / abs(base.objective)
        fitted = np.max(np.abs(m.fitted() - base.fitted()) / np.abs(base.fitted()))
        status = m.optsum["certificate"]["status"]
        print(f"{k:>4} {rel:>21.1e} {fitted:>18.1e} {status:>12} {m.optsum['evaluations']:>6}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated names")
    args = parser.parse_args()
    for name in args.models.split(","):
        series(name)


if __name__ == "__main__":
    main()
