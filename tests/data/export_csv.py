"""Export the bundled Parquet data sets to CSV for the Rust integration tests.

Each data set becomes `<name>.csv` (header `column:type`, type f64, int or enum;
nulls as empty fields) and, for enum columns, `<name>.levels` (one line per
column: name, then its levels in order, tab-separated).

Run from the repository root: python tests/data/export_csv.py
"""

import pathlib

import polars as pl

NAMES = [
    "dyestuff",
    "dyestuff2",
    "sleepstudy",
    "penicillin",
    "pastes",
    "insteval",
    "cake",
    "machines",
    "oxboys",
    "scotssec",
    "gcsemv",
    "verbagg",
    "contraception",
    "cbpp",
    "grouseticks",
    "mmmec",
    "oxide",
    "arabidopsis",
    "kb07",
]
root = pathlib.Path(__file__).resolve().parents[2]
out = root / "tests" / "data"
for name in NAMES:
    df = pl.read_parquet(root / "datasets" / f"{name}.parquet")
    header, levels, cols = [], [], []
    for col, dtype in df.schema.items():
        if isinstance(dtype, (pl.Enum, pl.Categorical)):
            if isinstance(dtype, pl.Enum):
                cats = dtype.categories.to_list()
            else:
                cats = sorted(df[col].drop_nulls().unique().to_list())
            header.append(f"{col}:enum")
            levels.append("\t".join([col, *cats]))
            cols.append(pl.col(col).cast(pl.String))
        elif dtype.is_integer():
            header.append(f"{col}:int")
            cols.append(pl.col(col))
        elif dtype == pl.Boolean:
            header.append(f"{col}:enum")
            levels.append("\t".join([col, "false", "true"]))
            cols.append(pl.col(col).cast(pl.String))
        elif dtype.is_float():
            header.append(f"{col}:f64")
            cols.append(pl.col(col))
        else:
            continue
    body = df.select(cols)
    body.columns = header
    body.write_csv(out / f"{name}.csv", float_precision=None, null_value="")
    (out / f"{name}.levels").write_text("\n".join(levels) + ("\n" if levels else ""))
