"""Many responses on one design: ``mm.lmm_many`` against a loop of single ``mm.lmm``
fits and a loop of ``m.refit(y)``, on sleepstudy-sized data (180 rows,
``y ~ 1 + Days + (1 + Days | Subject)``).

Run: ``python benches/many_responses.py [--responses 1000] [--threads 2]``. Prints the
wall time of each way and the cost per response, and checks that the rows of
``lmm_many`` equal the single fits (largest relative difference of the objective).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import mixedmodels as mm

RHS = "1 + Days + (1 + Days | Subject)"


def responses(k: int, seed: int = 1) -> tuple[object, np.ndarray]:
    """sleepstudy and k responses drawn from its fitted model (n × k)."""
    d = mm.dataset("sleepstudy")
    m = mm.lmm(f"Reaction ~ {RHS}", d)
    y = np.asarray(m.simulate(n=k, seed=seed))
    return d, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--responses", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--single", type=int, default=100, help="fits in the loops")
    args = parser.parse_args()
    # Some responses give singular fits; the bench times them, it does not report them.
    warnings.simplefilter("ignore", mm.SingularFitWarning)
    d, y = responses(args.responses)
    k, loops = y.shape[1], min(args.single, y.shape[1])

    t0 = time.perf_counter()
    table = mm.lmm_many(f"y ~ {RHS}", d, y, threads=args.threads)
    many = time.perf_counter() - t0
    t0 = time.perf_counter()
    mm.lmm_many(f"y ~ {RHS}", d, y, threads=1)
    many1 = time.perf_counter() - t0

    t0 = time.perf_counter()
    single = []
    for j in range(loops):
        dj = d.with_columns(y=y[:, j])
        single.append(mm.lmm(f"y ~ {RHS}", dj).objective)
    single_time = time.perf_counter() - t0

    m = mm.lmm(f"Reaction ~ {RHS}", d)
    t0 = time.perf_counter()
    for j in range(loops):
        m.refit(y[:, j])
    refit_time = time.perf_counter() - t0

    diff = np.max(np.abs(table["objective"].to_numpy()[:loops] - single) / np.abs(single))
    print(f"responses: {k}, threads: {args.threads}, rows: {d.height}")
    print(f"lmm_many:            {many:8.3f} s  {1e3 * many / k:7.3f} ms/response")
    print(f"lmm_many, 1 thread:  {many1:8.3f} s  {1e3 * many1 / k:7.3f} ms/response")
    per = 1e3 * single_time / loops
    print(f"loop of mm.lmm:      {single_time:8.3f} s  {per:7.3f} ms/response")
    print(f"loop of m.refit(y):  {refit_time:8.3f} s  {1e3 * refit_time / loops:7.3f} ms/response")
    print(f"converged: {int(table['converged'].sum())}/{k}")
    print(f"largest relative difference of the objective against mm.lmm: {diff:.2e}")


if __name__ == "__main__":
    main()
