"""Ctrl-C during a fit: KeyboardInterrupt within a second, nothing left computing,
the model unfitted. Each fit runs in a child process that receives a real SIGINT."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

CHILD = textwrap.dedent(
    """
    import json, sys, time
    import mixedmodels as mm
    case = sys.argv[1]
    progress = True if sys.argv[2] == "bar" else None
    optimizer = "auto"
    if case == "small":
        # 55 θ on 180 rows: BOBYQA runs on the calling thread for many seconds
        # (180 random effects for 180 rows, which lme4 refuses by default; the
        # quasi-Newton method of the default fit takes a fraction of a second).
        def make():
            return mm.LinearMixedModel(
                "Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"),
                contrasts={"Days": mm.DummyCoding()}, check_nobs="ignore")
        optimizer = "bobyqa"
    else:
        # 73,421 rows: the (quasi-Newton) fit runs on the thread pool, watched
        # from this thread (about half a second: interrupted after 0.15 s).
        def make():
            return mm.LinearMixedModel(
                "y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept & service)",
                mm.dataset("insteval"))
    m = make()
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.perf_counter()
    try:
        m.fit(optimizer=optimizer, progress=progress)
        outcome = "finished"
    except KeyboardInterrupt:
        outcome = "KeyboardInterrupt"
    stopped = time.perf_counter()
    cpu = time.process_time()
    time.sleep(0.5)
    cpu_after = time.process_time() - cpu
    # Where the fit started: BOBYQA at λ = I, the θ of a new model; the
    # quasi-Newton method at the moment start (a quick fit reports it).
    fresh = make()
    if optimizer == "bobyqa":
        initial = list(fresh._core.theta)
    else:
        fresh.fit()
        initial = fresh.optsum["initial"]
    print(json.dumps({
        "initial": initial,
        "outcome": outcome,
        "stopped_at": stopped - start,
        "cpu_after": cpu_after,
        "fitted": m._core.is_fitted,
        "theta": list(m._core.theta),
    }), flush=True)
    """
)


def run_and_interrupt(case: str, after: float, progress: str = "default") -> dict:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, case, progress],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        child.stdin.write("go\n")
        child.stdin.flush()
        time.sleep(after)
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")
@pytest.mark.parametrize(
    ("case", "after", "progress"),
    [("small", 0.5, "default"), ("large", 0.15, "default"), ("small", 0.5, "bar")],
)
def test_sigint_stops_a_fit_within_a_second(case, after, progress):
    # "bar": with a progress bar, whose updates share the poll hook with Ctrl-C.
    r = run_and_interrupt(case, after, progress)
    assert r["outcome"] == "KeyboardInterrupt"
    # The signal came `after` seconds into the fit; the fit stopped within 1 s of it.
    assert r["stopped_at"] < after + 1.0
    # No thread keeps computing: the process uses (almost) no CPU afterwards.
    assert r["cpu_after"] < 0.05
    # The model is left unfitted at its starting θ.
    assert not r["fitted"]
    assert r["theta"] == r["initial"]
