"""Large-data benchmark of a GLMM fitted from streamed data.

Writes a chunked Parquet data set from a seed, a Bernoulli response with
``y ~ 1 + x + (1 | g)`` (logit link, 10,000 levels of g by default, known θ and β),
and fits it with ``mm.glmm(..., fast=True)`` from the files: PIRLS reads them once per
iteration and no row is held. Each step runs in its own process, so that its peak RSS is
its own; ``--compare`` also fits the same model in memory. Reports wall time, passes
over the data, evaluations, peak RSS and the estimates against the truth; appends a
Markdown row to ``benches/results/large_glmm.md`` with ``--record``.

Usage::

    python benches/large_glmm.py --rows 10_000_000 --record
    python benches/large_glmm.py --rows 1_000_000 --compare
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from _large import commit, peak_rss_gib, run_step

FORMULA = "y ~ 1 + x + (1 | g)"
#: True standard deviation of the g effects (logit scale) and fixed effects.
SD_G = 0.6
BETA = (-0.5, 0.8)
ROWS_PER_FILE = 1_000_000
ROW_GROUP = 250_000
RESULTS = Path(__file__).resolve().parent / "results" / "large_glmm.md"


def generate(folder: Path, rows: int, ng: int, seed: int) -> None:
    """Write ``rows`` rows as Parquet files of ROWS_PER_FILE rows, file by file from
    ``seed`` (memory: one file)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    bg = rng.normal(0, SD_G, ng)
    folder.mkdir(parents=True, exist_ok=True)
    for k, start in enumerate(range(0, rows, ROWS_PER_FILE)):
        n = min(ROWS_PER_FILE, rows - start)
        g = rng.integers(0, ng, n)
        x = rng.uniform(-1, 1, n)
        eta = BETA[0] + BETA[1] * x + bg[g]
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(np.float64)
        table = pa.table({"y": y, "x": x, "g": g + 1})
        pq.write_table(table, folder / f"part-{k:05d}.parquet", row_group_size=ROW_GROUP)


def fit(folder: Path, in_memory: bool, chunk_rows: int) -> dict:
    """Fit the model streamed from the files (or after reading them into memory)."""
    import polars as pl

    import mixedmodels as mm

    start = time.perf_counter()
    source = str(folder / "*.parquet")
    if in_memory:
        m = mm.glmm(FORMULA, pl.read_parquet(source), family="bernoulli", fast=True)
        passes = None
    else:
        m = mm.glmm(FORMULA, source, family="bernoulli", fast=True, chunk_rows=chunk_rows)
        passes = int(m.optsum["passes"])
    end = time.perf_counter()
    return {
        "mode": "in memory" if in_memory else "streamed",
        "wall_s": end - start,
        "evaluations": int(m.optsum["evaluations"]),
        "passes": passes,
        "peak_rss_gib": peak_rss_gib(),
        "load": os.getloadavg()[0],
        "objective": float(m.objective),
        "theta": [float(t) for t in m.theta],
        "beta": [float(b) for b in m.beta],
        "nobs": int(m.nobs),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    p.add_argument("--g-levels", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=20261205)
    p.add_argument("--chunk-rows", type=int, default=1_000_000)
    p.add_argument("--dir", type=Path, default=None, help="where to write the data")
    p.add_argument("--compare", action="store_true", help="also fit in memory")
    p.add_argument("--record", action="store_true", help="append to results/large_glmm.md")
    p.add_argument("--step", choices=["fit-streamed", "fit-memory"], help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.step:
        print(json.dumps(fit(a.dir, a.step == "fit-memory", a.chunk_rows)))
        return
    base = a.dir or Path(tempfile.mkdtemp(prefix="mm-large-glmm-"))
    folder = base / f"bernoulli-rows-{a.rows}-levels-{a.g_levels}-seed-{a.seed}"
    if not folder.exists():
        t = time.perf_counter()
        generate(folder, a.rows, a.g_levels, a.seed)
        print(f"generated {a.rows:,} rows in {time.perf_counter() - t:.1f} s at {folder}")
    common = ["--dir", str(folder), "--chunk-rows", str(a.chunk_rows)]
    results = [run_step(__file__, "--step", "fit-streamed", *common)]
    if a.compare:
        results.append(run_step(__file__, "--step", "fit-memory", *common))
    for r in results:
        print(
            f"{r['mode']:>9}: {r['wall_s']:.1f} s, {r['evaluations']} evaluations, "
            f"{r['passes']} passes, peak RSS {r['peak_rss_gib']:.2f} GiB, load "
            f"{r['load']:.1f}, θ = {r['theta']} (truth [{SD_G}]), β = {r['beta']} "
            f"(truth {list(BETA)})"
        )
    rel = None
    if len(results) == 2:
        s, m = results
        rel = max(
            abs(x - y) / abs(y)
            for x, y in zip(
                [s["objective"], *s["theta"], *s["beta"]],
                [m["objective"], *m["theta"], *m["beta"]],
                strict=True,
            )
        )
        print(f"largest relative difference streamed vs in memory: {rel:.2e}")
    if a.record:
        new = not RESULTS.exists()
        with RESULTS.open("a") as out:
            if new:
                out.write(
                    "# GLMM from streamed data: large-data runs\n\n"
                    "`python benches/large_glmm.py` (Bernoulli, `y ~ 1 + x + (1 | g)`, "
                    "fast = nAGQ 0); one row per fit.\n\n"
                    "| commit | rows | levels of g | mode | chunk rows | wall (s) | "
                    "evaluations | passes | peak RSS (GiB) | θ | β | vs in memory | load |\n"
                    "|---|---:|---:|---|---:|---:|---:|---:|---:|---|---|---:|---:|\n"
                )
            for r in results:
                diff = f"{rel:.1e}" if rel is not None else "–"
                out.write(
                    f"| {commit()} | {a.rows:,} | {a.g_levels:,} | {r['mode']} | "
                    f"{a.chunk_rows:,} | {r['wall_s']:.1f} | {r['evaluations']} | "
                    f"{r['passes'] if r['passes'] is not None else '–'} | "
                    f"{r['peak_rss_gib']:.2f} | {', '.join(f'{t:.5f}' for t in r['theta'])} | "
                    f"{', '.join(f'{b:.5f}' for b in r['beta'])} | {diff} | {r['load']:.1f} |\n"
                )


if __name__ == "__main__":
    main()
