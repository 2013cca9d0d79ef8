"""Regenerate the validation grid's lme4 fixtures with one command.

Steps: (optionally) rewrite the simulated designs; write ``spec.json`` from ``models.py``;
export every frame for R; run ``fit_lme4.R`` (under ``nice``) for the models without a
cached fit (or for the ids named); gather the per-model files into
``tests/validation/reference/<group>.json`` (one file per data set or simulated design).

Usage (from the repository root)::

    python tests/validation/regenerate.py                  # fit what is missing, gather
    python tests/validation/regenerate.py --refit          # fit every model again
    python tests/validation/regenerate.py cbpp_lap ...     # (re)fit these, gather
    python tests/validation/regenerate.py --simulate       # also rewrite data/*.csv.gz

The cache (default ``/tmp/mixedmodels_validation``, ``--cache``) holds the exported frames
and one ``fits/<id>.json`` per model, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import shutil
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from validation import export, simulate
from validation.frames import frame
from validation.models import models, write_spec

HERE = pathlib.Path(__file__).resolve().parent
REFERENCE_DIR = HERE / "reference"
CACHE = pathlib.Path("/tmp/mixedmodels_validation")


def group_of(data_key: str) -> str:
    """The reference file a model's record goes to: its data set, or its simulated design
    without the seed (``sim_vector_s2`` → ``sim_vector``).

    Parameters
    ----------
    data_key : str
        The model's frame key.

    Returns
    -------
    str
        The file stem.

    Examples
    --------
    >>> group_of("sim_vector_s2")
    'sim_vector'
    """
    return re.sub(r"_s\d+$", "", data_key)


def gather(fits_dir: pathlib.Path, out_dir: pathlib.Path = REFERENCE_DIR) -> list[str]:
    """Write ``out_dir/<group>.json`` from the per-model files; returns the ids missing.

    Each record is R's output plus ``spec`` (the model as in spec.json), in the order of
    ``models.py``. Files of groups no longer in the grid are removed.
    """
    groups: dict[str, list[dict]] = {}
    missing = []
    for m in models():
        path = fits_dir / f"{m['id']}.json"
        if not path.exists():
            missing.append(m["id"])
            continue
        rec = json.loads(path.read_text())
        spec = {k: v for k, v in m.items() if k != "ci"}
        groups.setdefault(group_of(m["data"]), []).append({"id": m["id"], "spec": spec, **rec})
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.json"):
        if old.stem not in groups:
            old.unlink()
    note = json.dumps(
        "lme4 reference fits of the validation grid, written by tests/validation/regenerate.py "
        "(see tests/validation/README.md)"
    )
    for name, recs in groups.items():
        # one record per line: readable diffs, exact doubles (repr round-trips)
        body = ",\n".join(json.dumps(r, ensure_ascii=False) for r in recs)
        text = f'{{"note": {note},\n"models": [\n{body}\n]}}\n'
        (out_dir / f"{name}.json").write_text(text)
    return missing


def main(argv: list[str] | None = None) -> int:
    """Run the chain; returns the exit status."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("ids", nargs="*", help="models to (re)fit (default: those not cached)")
    p.add_argument("--cache", type=pathlib.Path, default=CACHE)
    p.add_argument("--refit", action="store_true", help="fit every model again")
    p.add_argument("--simulate", action="store_true", help="rewrite data/*.csv.gz first")
    args = p.parse_args(argv)
    if args.simulate:
        simulate.write_all()
    n = write_spec()
    print(f"spec.json: {n} models")
    fits_dir = args.cache / "fits"
    if args.refit and fits_dir.exists():
        shutil.rmtree(fits_dir)
    for key in sorted({m["data"] for m in models()}):
        export.write_frame(frame(key), key, args.cache)
    cmd = ["nice", "-n", "10", "Rscript", str(HERE / "fit_lme4.R"), str(args.cache), str(fits_dir)]
    subprocess.run([*cmd, *args.ids], check=True)
    missing = gather(fits_dir)
    if missing:
        print(f"no lme4 output for {len(missing)} models: {missing}")
        return 1
    print(f"wrote {REFERENCE_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
