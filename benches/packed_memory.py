#!/usr/bin/env python3
"""Peak memory and fit time of crossed models whose second grouping factor has many
levels: the dense diagonal block of L for that factor is stored packed (its lower
triangle, rectangular full packed form) since the `packed` change; run this script
with an installed build from before and from after it to compare.

    python benches/packed_memory.py                       # all cases, one fit each
    python benches/packed_memory.py --cases insteval_dept --label after
    python benches/packed_memory.py --json out.json

Each case runs in a fresh Python process: it generates (seeded) or loads the data,
records the resident set size, constructs and fits the model (``mm.lmm``, ML, default
optimizer), and reports the fit's wall time, evaluations, objective, θ, and the peak
resident set size (VmHWM) of the process, minus the size after loading the data
("Δ MiB": what the model itself took at its peak).

Cases:
    crossed_20000x3000  1,000,000 rows, ``y ~ 1 + x + (1|g) + (1|h)``, g 20,000 and
                        h 3,000 levels drawn uniformly (seed 20261205): L[h,h] is a
                        dense 3,000 × 3,000 block (69 MiB square, 34 MiB packed).
    crossed_100x8000    1,000,000 rows, g 8,000 and h 100 levels: the dense block is
                        only 100 × 100 (a check that small crossed models do not slow).
    insteval_dept       ``y ~ 1 + service + (1|s) + (1|d) + (1|dept)`` on InstEval
                        (73,421 rows; d: 1,128 levels, dense).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

SEED = 20261205

CASES = {
    "crossed_20000x3000": ("synthetic", 1_000_000, 20_000, 3_000, "y ~ 1 + x + (1|g) + (1|h)"),
    "crossed_100x8000": ("synthetic", 1_000_000, 8_000, 100, "y ~ 1 + x + (1|g) + (1|h)"),
    "insteval_dept": ("insteval", 0, 0, 0, "y ~ 1 + service + (1|s) + (1|d) + (1|dept)"),
}


def vm_kib(field: str) -> int:
    """A field of /proc/self/status in KiB (VmRSS, VmHWM)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def load_average() -> float:
    """The machine's one-minute load average (other jobs share the cores)."""
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def synthetic(n: int, ng: int, nh: int):
    """n rows, g and h drawn uniformly, y = 1 + 0.5 x + b_g + b_h + e."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(SEED)
    g = rng.integers(0, ng, n)
    h = rng.integers(0, nh, n)
    x = rng.standard_normal(n)
    y = 1.0 + 0.5 * x + rng.normal(0, 0.5, ng)[g] + rng.normal(0, 0.3, nh)[h]
    y = y + rng.standard_normal(n)
    return pl.DataFrame(
        {
            "y": y,
            "x": x,
            "g": pl.Series([f"g{i}" for i in g]).cast(pl.Categorical),
            "h": pl.Series([f"h{i}" for i in h]).cast(pl.Categorical),
        }
    )


def run_case(name: str) -> dict:
    """Fit one case in this process; return the measurements."""
    import mixedmodels as mm

    kind, n, ng, nh, formula = CASES[name]
    df = mm.dataset("insteval") if kind == "insteval" else synthetic(n, ng, nh)
    rss0 = vm_kib("VmRSS")
    load0 = load_average()
    t0 = time.perf_counter()
    m = mm.lmm(formula, df)
    seconds = time.perf_counter() - t0
    opt = m.optsum or {}
    return {
        "case": name,
        "formula": formula,
        "rows": df.height,
        "seconds": seconds,
        "evaluations": opt.get("evaluations"),
        "objective": float(m.objective),
        "theta": [float(t) for t in m.theta],
        "rss_after_data_mib": rss0 / 1024,
        "peak_mib": vm_kib("VmHWM") / 1024,
        "delta_mib": (vm_kib("VmHWM") - rss0) / 1024,
        "optimizer": opt.get("optimizer"),
        "load_before": load0,
        "load_after": load_average(),
    }


def main() -> None:
    """Run the cases in fresh processes and print one line per case."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--label", default="", help="tag for the rows (e.g. before/after)")
    ap.add_argument("--json", help="append the rows to this JSON-lines file")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_case(args.child)))
        return
    for name in args.cases.split(","):
        out = subprocess.run(
            [sys.executable, __file__, "--child", name],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        row = json.loads(out.strip().splitlines()[-1])
        row["label"] = args.label
        print(
            f"{args.label:>7} {name:<20} fit {row['seconds']:8.2f} s  evals {row['evaluations']:>4}"
            f"  {row['seconds'] / max(row['evaluations'] or 1, 1):7.3f} s/eval"
            f"  peak {row['peak_mib']:7.0f} MiB  Δ {row['delta_mib']:7.0f} MiB"
            f"  objective {row['objective']:.6f}"
            f"  load {row['load_before']:.1f}-{row['load_after']:.1f}",
            flush=True,
        )
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
