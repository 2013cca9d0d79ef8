"""Command line: fit a model and print its summary.

python -m mixedmodels "Reaction ~ 1 + Days + (1 + Days | Subject)" sleepstudy
python -m mixedmodels "y ~ 1 + x + (1 | g)" data.parquet --reml --contrasts x=effects
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import polars as pl

from . import _contrasts
from ._datasets import dataset, datasets
from ._errors import ArgumentError, MixedModelError
from ._glmm import glmm
from ._lmm import lmm

CODINGS = {
    "dummy": _contrasts.DummyCoding,
    "effects": _contrasts.EffectsCoding,
    "helmert": _contrasts.HelmertCoding,
    "seqdiff": _contrasts.SeqDiffCoding,
    "fulldummy": _contrasts.FullDummyCoding,
}


def load(source: str) -> pl.DataFrame:
    """A Parquet or CSV path, or the name of a bundled data set."""
    path = pathlib.Path(source)
    if path.suffix.lower() == ".parquet" and path.exists():
        return pl.read_parquet(path)
    if path.suffix.lower() == ".csv" and path.exists():
        return pl.read_csv(path)
    if source.lower() in datasets():
        return dataset(source)
    raise ArgumentError(
        f"{source!r} is neither a .parquet/.csv file nor a bundled data set "
        f"({', '.join(datasets())})",
        parameter="data",
    )


def parse_contrasts(items: list[str]) -> dict:
    """``col=coding`` or ``col=coding:base`` items into coding objects."""
    out = {}
    for item in items:
        if "=" not in item:
            raise ArgumentError(
                f"--contrasts expects col=coding, got {item!r}", parameter="contrasts"
            )
        col, spec = item.split("=", 1)
        name, _, base = spec.partition(":")
        if name not in CODINGS:
            raise ArgumentError(
                f"unknown coding {name!r}; choose from {', '.join(CODINGS)}",
                parameter="contrasts",
            )
        cls = CODINGS[name]
        out[col] = cls(base) if base and name in ("dummy", "effects") else cls()
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m mixedmodels``."""
    parser = argparse.ArgumentParser(
        prog="python -m mixedmodels",
        description="Fit a linear or generalized linear mixed model and print it.",
    )
    parser.add_argument("formula", help='model formula, e.g. "y ~ 1 + x + (1 | g)"')
    parser.add_argument("data", help="a .parquet or .csv path, or a bundled data set name")
    parser.add_argument("--reml", action="store_true", help="fit by REML instead of ML")
    parser.add_argument(
        "--contrasts",
        nargs="*",
        default=[],
        metavar="COL=CODING",
        help="codings: dummy[:base], effects[:base], helmert, seqdiff, fulldummy",
    )
    parser.add_argument("--family", help="fit a GLMM: bernoulli, binomial or poisson")
    parser.add_argument("--link", help="link function of a GLMM (default: canonical)")
    parser.add_argument(
        "--nagq", type=int, default=1, help="GLMM: adaptive Gauss-Hermite points (1: Laplace)"
    )
    parser.add_argument("--fast", action="store_true", help="GLMM: optimise θ only")
    args = parser.parse_args(argv)
    try:
        data = load(args.data)
        contrasts = parse_contrasts(args.contrasts) or None
        if args.family is None:
            if args.link or args.fast or args.nagq != 1:
                raise ArgumentError(
                    "--link, --nagq and --fast need --family (a GLMM)", parameter="family"
                )
            model = lmm(args.formula, data, reml=args.reml, contrasts=contrasts)
        else:
            if args.reml:
                raise ArgumentError("--reml applies to linear mixed models only", parameter="reml")
            model = glmm(
                args.formula,
                data,
                family=args.family,
                link=args.link,
                nagq=args.nagq,
                fast=args.fast,
                contrasts=contrasts,
            )
    except (MixedModelError, ValueError, TypeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
