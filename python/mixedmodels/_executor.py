"""Running blocks of independent fits on an executor: a ``concurrent.futures.Executor``
(threads or processes) or a Dask ``distributed.Client``.

The model goes to the workers as a pickle: the data, the constructor's arguments and
the saved fit (``MixedModel.__reduce__``); a worker rebuilds the terms and restores the
fit once per task. Rebuilding costs one pass over the data, less than a fit, and needs
no serialisation of the native engine; a Dask client receives the model once
(``scatter``) and every task on a worker uses that copy. Each block is fitted on one
thread of its worker (the executor supplies the parallelism), and every fit in a block
depends only on its own input, so the merged result equals the local one bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any

from ._errors import ArgumentTypeError


def is_dask_client(executor: Any) -> bool:
    """Is ``executor`` a Dask ``distributed.Client`` (without importing distributed)?"""
    cls = type(executor)
    return cls.__name__ == "Client" and cls.__module__.split(".")[0] == "distributed"


def check_executor(executor: Any, threads: Any = None) -> None:
    """Refuse anything but a ``concurrent.futures.Executor`` or a Dask client, and a
    ``threads`` given with it (an executor runs each block on one thread).

    Parameters
    ----------
    executor : object
        The value of an ``executor`` argument.
    threads : object, optional
        The value of the call's ``threads`` argument.

    Raises
    ------
    ArgumentTypeError
        ``executor`` is neither (``parameter="executor"``), or ``threads`` is given
        (``parameter="threads"``).

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> from mixedmodels._executor import check_executor
    >>> with ThreadPoolExecutor(2) as pool:
    ...     check_executor(pool)
    >>> try:
    ...     check_executor("dask")
    ... except TypeError as e:
    ...     print(e.parameter)
    executor
    """
    if not (isinstance(executor, Executor) or is_dask_client(executor)):
        raise ArgumentTypeError(
            "`executor` must be a concurrent.futures.Executor or a dask distributed.Client, "
            f"got {type(executor).__name__}",
            parameter="executor",
        )
    if threads is not None:
        raise ArgumentTypeError(
            "`threads` is for a local run; an executor runs each block on one thread",
            parameter="threads",
        )


def executor_workers(executor: Any) -> int:
    """The number of tasks ``executor`` runs at once (at least 1)."""
    if is_dask_client(executor):
        return max(1, sum(executor.nthreads().values()))
    return max(1, int(getattr(executor, "_max_workers", 1) or 1))


def blocks(n: int, workers: int, per_worker: int = 4) -> list[tuple[int, int]]:
    """Split ``range(n)`` into about ``per_worker`` contiguous blocks per worker.

    Examples
    --------
    >>> from mixedmodels._executor import blocks
    >>> blocks(10, 2, per_worker=2)
    [(0, 3), (3, 6), (6, 9), (9, 10)]
    """
    size = max(1, math.ceil(n / (workers * per_worker)))
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def run_blocks(
    executor: Any,
    task: Callable[..., Any],
    model: Any,
    arguments: Sequence[tuple],
    progress: Callable[[int], None] | None = None,
) -> list[Any]:
    """Run ``task(model, *arguments[i])`` for every i on ``executor``; the results in
    the order of ``arguments``. ``progress`` (if given) is called with the number of
    tasks done as they finish."""
    if is_dask_client(executor):
        shared = executor.scatter(model, broadcast=True)
        futures = [executor.submit(task, shared, *a, pure=False) for a in arguments]
    else:
        futures = [executor.submit(task, model, *a) for a in arguments]
    try:
        results = []
        for i, f in enumerate(futures):
            results.append(f.result())
            if progress is not None:
                progress(i + 1)
        return results
    finally:
        for f in futures:
            f.cancel()


def bootstrap_on_executor(
    executor: Any,
    model: Any,
    n: int,
    seed: int,
    parameters: tuple[Any, Any, Any],
    progress: Callable[[int], None] | None,
) -> dict[str, Any]:
    """The native bootstrap's result for replicates ``0..n``, run as blocks of
    replicates on ``executor`` and merged in replicate order (replicate k draws from
    the stream of (seed, k) wherever it runs, so the result equals the local one)."""
    parts = blocks(n, executor_workers(executor))
    done = [b for _, b in parts]
    arguments = [(a, b - a, seed, *parameters) for a, b in parts]
    tick = None if progress is None else (lambda i: progress(done[i - 1]))
    return merge_bootstrap(run_blocks(executor, bootstrap_block, model, arguments, tick))


def bootstrap_block(
    model: Any, first: int, n: int, seed: int, theta: Any, beta: Any, sigma: Any
) -> dict[str, Any]:
    """A task of an executor: replicates ``first..first + n`` on one thread."""
    return model._core.parametric_bootstrap_block(first, n, seed, 1, theta, beta, sigma)


def merge_bootstrap(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Consecutive blocks of the native bootstrap's result as one."""
    import numpy as np

    out = dict(parts[0])
    out["objective"] = np.concatenate([p["objective"] for p in parts])
    if out["sigma"] is not None:
        out["sigma"] = np.concatenate([p["sigma"] for p in parts])
    for key in ("beta", "theta", "components"):
        out[key] = np.vstack([p[key] for p in parts])
    for key in ("converged", "warning"):
        out[key] = [v for p in parts for v in p[key]]
    return out
