#!/usr/bin/env python3
"""Parametric bootstrap timings: this package beside lme4's ``bootMer`` and mixedlm's
``bootMer``, in one run, with MixedModels.jl's published figure.

Each (tool, case, threads) cell runs in a fresh process that builds and fits the model,
then times only the bootstrap (ours: best of ``--repeats``; the peers: one run). Cases:
``sleepstudy`` (``Reaction ~ 1 + Days + (1 + Days | Subject)``, ML, 1000 replicates) and
``cbpp`` (binomial ``incidence/size ~ 1 + period + (1 | herd)``, Laplace, 200 replicates).
Threads: ours ``threads=``; lme4 ``parallel="multicore", ncpus=``; mixedlm ``n_jobs=``.
Each cell also reports the bootstrap standard deviation of the second fixed effect (a
check that the tools bootstrap the same thing) and the CPU other processes used while it
ran (the machine's load; ``--wait-idle`` waits for a quiet machine first).

MixedModels.jl's figure: 0.727 s for 1000 replicates of the sleepstudy model
(``@timed parametricbootstrap(MersenneTwister(42), 1000, m2; progress=false)``), in the
"Reduced Precision Bootstrap" section of its documentation, docs/src/bootstrap.md as built
on 16 October 2024 (https://juliastats.org/MixedModels.jl/dev/bootstrap/; Julia 1.8, the
documentation build machine, one process). It is quoted, not measured here.

    python benches/bootstrap.py                      # both cases, every tool found
    python benches/bootstrap.py --cases sleepstudy --tools ours,lme4
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

CASES = {
    "sleepstudy": {
        "n": 1000,
        "ours": ("Reaction ~ 1 + Days + (1 + Days | Subject)", None),
        "mixedlm": ("Reaction ~ Days + (Days | Subject)", None),
        "lme4": "lmer(Reaction ~ 1 + Days + (1 + Days | Subject), sleepstudy, REML = FALSE)",
    },
    "cbpp": {
        "n": 200,
        "ours": ("cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)", "binomial"),
        "mixedlm": ("prop ~ 1 + period + (1 | herd)", "binomial"),
        "lme4": (
            "glmer(cbind(incidence, size - incidence) ~ 1 + period + (1 | herd), cbpp, "
            "family = binomial)"
        ),
    },
}
# (seconds, replicates, source) of MixedModels.jl's published sleepstudy bootstrap.
JULIA = (0.727492265, 1000, "MixedModels.jl docs, bootstrap page (built 2024-10-16)")
TOOLS = ["ours", "lme4", "mixedlm"]

R_SCRIPT = r"""
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
n <- as.integer(args[2]); ncpus <- as.integer(args[3])
m <- eval(parse(text = args[1]))
FUN <- function(x) c(fixef(x), getME(x, "theta"))
par <- if (ncpus > 1) "multicore" else "no"
t <- system.time(b <- bootMer(m, FUN, nsim = n, seed = 1, parallel = par, ncpus = ncpus))
cat("RESULT seconds", t[["elapsed"]], "\n")
cat("RESULT cpu", sum(t[c("user.self", "sys.self", "user.child", "sys.child")], na.rm = TRUE), "\n")
cat("RESULT failed", sum(!stats::complete.cases(b$t)), "\n")
cat("RESULT sd", sd(b$t[, 2], na.rm = TRUE), "\n")
cat("RESULT version", as.character(packageVersion("lme4")), "\n")
"""


def busy_seconds() -> float:
    """Machine-wide busy CPU seconds since boot, from /proc/stat (0 where unavailable)."""
    try:
        with open("/proc/stat") as fh:
            vals = [int(v) for v in fh.readline().split()[1:]]
    except OSError:
        return 0.0
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return (sum(vals[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_idle(max_wait: float, threshold: float = 0.5) -> None:
    """Wait at most ``max_wait`` s until other processes use under ``threshold`` cores."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < max_wait:
        b0 = busy_seconds()
        time.sleep(1.0)
        if busy_seconds() - b0 < threshold:
            return
        time.sleep(2.0)


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished child processes (workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def cell_ours(case: str, threads: int, repeats: int) -> dict:
    import mixedmodels as mm

    formula, family = CASES[case]["ours"]
    data = mm.dataset(case)
    if family:
        m = mm.glmm(formula, data, family=mm.Binomial())
    else:
        m = mm.lmm(formula, data)
    n = CASES[case]["n"]
    best, cpu, b = float("inf"), 0.0, None
    for _ in range(repeats):
        c0, t0 = cpu_seconds(), time.perf_counter()
        b = mm.parametricbootstrap(m, n, seed=1, threads=threads, progress=False)
        t = time.perf_counter() - t0
        if t < best:
            best, cpu = t, cpu_seconds() - c0
    name = m.fixefnames[1]
    return {
        "seconds": best,
        "cpu": cpu,
        "failed": b.nonconverged,
        "sd": float(b.table[name].std()),
        "version": mm.__version__,
    }


def cell_mixedlm(case: str, threads: int) -> dict:
    import mixedlm
    import polars as pl

    import mixedmodels as mm

    formula, family = CASES[case]["mixedlm"]
    df = mm.dataset(case)
    if family:
        df = df.with_columns((pl.col("incidence") / pl.col("size")).alias("prop"))
    df = df.to_pandas()
    if family:
        from mixedlm.families import Binomial

        m = mixedlm.glmer(formula, df, family=Binomial(), weights="size")
    else:
        m = mixedlm.lmer(formula, df, REML=False)
    c0, t0 = cpu_seconds(), time.perf_counter()
    b = mixedlm.bootMer(m, nsim=CASES[case]["n"], seed=1, n_jobs=threads)
    t = time.perf_counter() - t0
    import numpy as np

    beta = np.asarray(b.beta_samples)
    return {
        "seconds": t,
        # Its pool's worker processes outlive the call: their CPU is not counted.
        "cpu": cpu_seconds() - c0 if threads == 1 else None,
        "failed": int(b.n_failed),
        "sd": float(np.nanstd(beta[:, 1], ddof=1)),
        "version": importlib.metadata.version("mixedlm"),
    }


def cell_lme4(case: str, threads: int) -> dict:
    r = subprocess.run(
        ["Rscript", "-e", R_SCRIPT, CASES[case]["lme4"], str(CASES[case]["n"]), str(threads)],
        capture_output=True,
        text=True,
    )
    out = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "RESULT":
            out[parts[1]] = parts[2]
    if "seconds" not in out:
        raise RuntimeError(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "no result")
    return {
        "seconds": float(out["seconds"]),
        # With multicore, forked workers' CPU reaches system.time only partly.
        "cpu": float(out["cpu"]) if threads == 1 else None,
        "failed": int(out["failed"]),
        "sd": float(out["sd"]),
        "version": out.get("version"),
    }


def available(tool: str) -> str | None:
    """Why ``tool`` cannot run here (None if it can)."""
    if tool == "lme4":
        return None if shutil.which("Rscript") else "Rscript not found"
    if tool == "mixedlm" and importlib.util.find_spec("mixedlm") is None:
        return "mixedlm is not installed (pip install mixedlm)"
    return None


def run_cell(tool: str, case: str, threads: int, repeats: int) -> dict:
    """Run one cell in a fresh process; its result with the machine's load average when it
    started (runnable processes; above 0.5 the machine was not idle)."""
    cmd = [sys.executable, __file__, "--cell", f"{tool}:{case}:{threads}:{repeats}"]
    row = {"tool": tool, "case": case, "threads": threads, "load": os.getloadavg()[0]}
    r = subprocess.run(cmd, capture_output=True, text=True)
    try:
        row |= json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        tail = r.stderr.strip().splitlines()
        row["error"] = tail[-1] if tail else "no output"
    return row


def table(rows: list[dict]) -> list[list[str]]:
    ours = {(r["case"], r["threads"]): r for r in rows if r["tool"] == "ours" and "error" not in r}
    head = [
        "case",
        "tool",
        "threads",
        "replicates",
        "time",
        "per replicate",
        "CPU",
        "sd(β₂)",
        "failed",
        "peer/ours",
        "CPU peer/ours",
        "note",
    ]
    out = [head]
    for r in rows:
        n = CASES[r["case"]]["n"]
        if "error" in r:
            cells = [r["case"], r["tool"], str(r["threads"]), str(n), "—"]
            out.append(cells + [""] * 6 + [r["error"]])
            continue
        base = ours.get((r["case"], r["threads"]))
        peer = base is not None and r["tool"] != "ours"
        ratio = f"{r['seconds'] / base['seconds']:.2f}" if peer else ""
        cpu = r.get("cpu")
        if r["tool"] in ("lme4", "mixedlm") and r["threads"] > 1:
            cpu = None  # worker processes' CPU is not (fully) counted
        cpu_ratio = f"{cpu / base['cpu']:.2f}" if peer and cpu else ""
        note = r.get("note", "")
        if r.get("load", 0) > 0.5:
            note = (note + "; " if note else "") + f"load {r['load']:.1f}"
        out.append(
            [
                r["case"],
                r["tool"],
                str(r["threads"]),
                str(n),
                f"{r['seconds']:.3f} s",
                f"{1e3 * r['seconds'] / n:.2f} ms",
                f"{cpu:.2f} s" if cpu else "",
                f"{r['sd']:.4g}" if r.get("sd") is not None else "",
                str(r.get("failed", "")),
                ratio,
                cpu_ratio,
                note,
            ]
        )
    return out


def markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeats", type=int, default=3, help="runs of ours (best reported)")
    ap.add_argument("--wait-idle", type=float, default=0.0, help="max seconds to wait")
    ap.add_argument("--out", default=str(RESULTS / "bootstrap"))
    ap.add_argument("--render", action="store_true", help="rewrite OUT.md from OUT.json")
    ap.add_argument("--cell", help=argparse.SUPPRESS)
    args = ap.parse_args()
    out = Path(args.out)
    if args.render:
        saved = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
        write(out, saved["info"], saved["rows"])
        return 0
    if args.cell:
        tool, case, threads, repeats = args.cell.split(":")
        if tool == "ours":
            res = cell_ours(case, int(threads), int(repeats))
        elif tool == "mixedlm":
            res = cell_mixedlm(case, int(threads))
        else:
            res = cell_lme4(case, int(threads))
        print(json.dumps(res))
        return 0
    rows = []
    for case in args.cases.split(","):
        for tool in args.tools.split(","):
            for threads in (int(t) for t in args.threads.split(",")):
                reason = available(tool)
                if reason:
                    rows.append({"tool": tool, "case": case, "threads": threads, "error": reason})
                    continue
                if args.wait_idle > 0:
                    wait_idle(args.wait_idle)
                row = run_cell(tool, case, threads, args.repeats)
                rows.append(row)
                print(
                    f"{case:10} {tool:8} threads={threads}: {row.get('seconds', row.get('error'))}",
                    flush=True,
                )
        if case == "sleepstudy":
            seconds, n, source = JULIA
            rows.append(
                {
                    "tool": "MixedModels.jl",
                    "case": case,
                    "threads": 1,
                    "seconds": seconds * CASES[case]["n"] / n,
                    "sd": None,
                    "note": f"published, not measured: {source}",
                }
            )
    info = {
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "command": "python benches/bootstrap.py " + " ".join(sys.argv[1:]),
        "nproc": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    write(out, info, rows)
    return 0


def write(out: Path, info: dict, rows: list[dict]) -> None:
    """Print the table and write OUT.md and OUT.json."""
    text = markdown(table(rows))
    header = (
        f"# Parametric bootstrap ({info['date']})\n\n"
        f"Command: `{info['command']}`\n\n"
        f"Machine: nproc {info['nproc']}, {info['platform']}, python {info['python']}\n\n"
        "time: wall-clock seconds of the bootstrap alone (ours: best of the repeats); CPU: "
        "CPU seconds of it, workers included (a measure the machine's load does not "
        "inflate; not given for the peers' multi-process runs, whose workers' CPU is not "
        "counted); peer/ours and CPU peer/ours: the peer's over ours on as many threads "
        "(MixedModels.jl: over ours on 1 thread); load: the 1-minute load average when "
        "the cell started.\n\n"
    )
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(header + text + "\n", encoding="utf-8")
    out.with_suffix(".json").write_text(
        json.dumps({"info": info, "rows": rows}, indent=1), encoding="utf-8"
    )


if __name__ == "__main__":
    sys.exit(main())
