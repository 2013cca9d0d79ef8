#!/usr/bin/env python3
"""Time of the studentized range distribution (``ptukey`` / ``qtukey``) and of a Tukey
table of 45 pairwise contrasts (10 means, Kenward–Roger df).

    python benches/ptukey_speed.py              # 50 calls per point
    python benches/ptukey_speed.py --calls 200

Prints the median time per ``ptukey`` call at a few (q, n, df) points, one ``qtukey``
call, and ``pairs()`` + ``confint()`` of the 45-contrast table (its p-values are 45
``ptukey`` calls, its intervals one ``qtukey``). Values are printed too, so a change of
the quadrature that moves them shows here as well as in the tests.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import polars as pl

import mixedmodels as mm

POINTS = [
    (3.5, 10, 12.0),
    (2.0, 4, 5.0),
    (4.1, 6, 77.4),
    (8.0, 5, 3.5),
    (3.1, 15, 1000.0),
    (5.7, 10, 210.0),
    (3.0, 3, 2.0),
]


def median_seconds(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=50, help="calls per point")
    args = parser.parse_args()
    for q, n, df in POINTS:
        p = mm._core.ptukey(q, n, df, lower_tail=False)
        t = median_seconds(lambda q=q, n=n, df=df: mm._core.ptukey(q, n, df), args.calls)
        print(f"ptukey({q}, {n}, {df}) upper = {p:.15g}   {t * 1e3:.3f} ms")
    t = median_seconds(lambda: mm._core.qtukey(0.95, 10, 12.0), max(3, args.calls // 10))
    print(f"qtukey(0.95, 10, 12) = {mm._core.qtukey(0.95, 10, 12.0):.15g}   {t * 1e3:.2f} ms")
    rng = np.random.default_rng(1)
    data = pl.DataFrame(
        {
            "g": [str(i) for i in range(10)] * 20,
            "b": [str(i % 7) for i in range(200)],
            "y": rng.normal(size=200),
        }
    )
    means = mm.emmeans(mm.lmm("y ~ 1 + g + (1 | b)", data, reml=True), "g")

    def table() -> None:
        means.pairs().confint()

    t = median_seconds(table, 5)
    print(f"45-contrast Tukey table (pairs + confint): {t * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
