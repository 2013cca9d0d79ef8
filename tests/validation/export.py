"""Write the grid's frames for R, exactly: ``<key>.csv`` plus ``<key>.meta.json``.

The format is the one ``tests/fixtures/parquet_to_csv.py`` writes and
``tests/fixtures/fixture_io.R`` (``read_ds``) reads: doubles as C99 hexadecimal floats (R's
``as.numeric`` parses them exactly), integers and booleans as text, factors as their labels
with the level list (R's level order) in the meta file, nulls as empty fields (NA).

Usage (from the repository root)::

    python tests/validation/export.py OUT_DIR [key ...]   # default: every key in spec.json
"""

from __future__ import annotations

import csv
import json
import pathlib
import sys

import polars as pl

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from validation.frames import frame

SPEC = pathlib.Path(__file__).resolve().parent / "spec.json"


def write_frame(df: pl.DataFrame, key: str, out_dir: pathlib.Path) -> pathlib.Path:
    """Write ``df`` as ``out_dir/<key>.csv`` and ``<key>.meta.json``; returns the CSV path.

    Parameters
    ----------
    df : polars.DataFrame
        The frame (Float64, integer, Boolean, String and Enum columns).
    key : str
        The frame key (file stem).
    out_dir : pathlib.Path
        The folder to write to.

    Returns
    -------
    pathlib.Path
        The CSV file.

    Examples
    --------
    >>> write_frame(frame("dyestuff"), "dyestuff", pathlib.Path("/tmp"))  # doctest: +SKIP
    """
    cols, texts = [], []
    for name, dtype in df.schema.items():
        s = df[name]
        info: dict = {"name": name}
        if isinstance(dtype, pl.Enum):
            info.update(kind="factor", levels=dtype.categories.to_list(), ordered=False)
            vals = ["" if v is None else v for v in s.cast(pl.String).to_list()]
        elif dtype == pl.Float64:
            info["kind"] = "double"
            vals = ["" if v is None else float(v).hex() for v in s.to_list()]
        elif dtype.is_integer():
            info["kind"] = "integer"
            vals = ["" if v is None else str(int(v)) for v in s.to_list()]
        elif dtype == pl.Boolean:
            info["kind"] = "logical"
            vals = ["" if v is None else ("TRUE" if v else "FALSE") for v in s.to_list()]
        elif dtype == pl.String:
            info["kind"] = "character"
            vals = ["" if v is None else v for v in s.to_list()]
        else:
            continue  # dates and the like: no model uses them
        info["nulls"] = int(s.null_count())
        cols.append(info)
        texts.append(vals)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{key}.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
        w.writerow([c["name"] for c in cols])
        w.writerows(zip(*texts, strict=True))
    meta = {"dataset": key, "nrow": df.height, "columns": cols}
    (out_dir / f"{key}.meta.json").write_text(json.dumps(meta, indent=1))
    return path


def main(argv: list[str]) -> None:
    """Export the named frame keys (default: all of spec.json's) to ``argv[1]``."""
    out = pathlib.Path(argv[1]) if len(argv) > 1 else pathlib.Path("/tmp/mixedmodels_validation")
    keys = argv[2:] or sorted({m["data"] for m in json.loads(SPEC.read_text())["models"]})
    for key in keys:
        print(write_frame(frame(key), key, out))


if __name__ == "__main__":
    main(sys.argv)
