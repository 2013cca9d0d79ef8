"""What the large-data benchmark scripts share: peak memory of a step, running a step
in a fresh process, and the commit a row records."""

from __future__ import annotations

import json
import resource
import subprocess
import sys


def peak_rss_gib() -> float:
    """Peak resident set size of this process (Linux: ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def run_step(script: str, *args: str) -> dict:
    """Run ``script`` with ``args`` in a fresh process (so that its peak RSS is its own)
    and read its JSON answer, the last line it prints; exit with its error output if it
    fails."""
    done = subprocess.run([sys.executable, script, *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"step {' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def commit() -> str:
    """The current commit (short), for the record."""
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return out.stdout.strip() or "unknown"
