"""Command line: fit a model and print its summary.

python -m mixedmodels "Reaction ~ 1 + Days + (1 + Days | Subject)" sleepstudy
python -m mixedmodels "y ~ 1 + x + (1 | g)" data.parquet --reml --contrasts x=effects
python -m mixedmodels "y ~ 1 + x + (1 | g)" data.csv --weights w --offset o --format markdown
python -m mixedmodels "y ~ 1 + x + (1 | g)" data.csv --family poisson --link log --nagq 5

Errors (a bad formula, column, keyword or data source) print one line ``error: ...`` on
standard error and exit with status 2.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import polars as pl

from . import _contrasts
from ._datasets import dataset, datasets
from ._display import FORMATS
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


def one_line(error: BaseException) -> str:
    """The error's type and the first line of its message (multi-line messages, such as a
    formula with a caret under the bad token, are cut to their first line)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m mixedmodels``: fit the model and print its summary.

    Parameters
    ----------
    argv : list of str, optional
        The command-line arguments (default: ``sys.argv[1:]``): a formula, a data source
        (``.parquet``/``.csv`` path or bundled data set name) and the options
        ``--reml``, ``--contrasts COL=CODING ...``, ``--weights COLUMN``,
        ``--offset COLUMN``, ``--family``, ``--link``, ``--nagq``, ``--fast`` and
        ``--format text|markdown|html|latex``.

    Returns
    -------
    int
        0 after printing the summary; 2 after a one-line ``error: ...`` message on
        standard error for bad input (argparse itself exits with 2 on unknown options).

    Examples
    --------
    >>> from mixedmodels.__main__ import main
    >>> main(["Yield ~ 1 + (1 | Batch)", "dyestuff", "--format", "markdown"])  # doctest: +SKIP
    0
    """
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
    parser.add_argument(
        "--family",
        help=(
            "fit a GLMM: bernoulli, binomial, poisson, gamma, inversegaussian, normal "
            "or negativebinomial"
        ),
    )
    parser.add_argument("--link", help="link function of a GLMM (default: canonical)")
    parser.add_argument(
        "--nagq", type=int, default=1, help="GLMM: adaptive Gauss-Hermite points (1: Laplace)"
    )
    parser.add_argument("--fast", action="store_true", help="GLMM: optimise θ only")
    parser.add_argument("--weights", metavar="COLUMN", help="column of case (prior) weights")
    parser.add_argument("--offset", metavar="COLUMN", help="column of the offset")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="summary format: text (default), markdown, html or latex",
    )
    args = parser.parse_args(argv)
    try:
        data = load(args.data)
        contrasts = parse_contrasts(args.contrasts) or None
        if args.family is None:
            if args.link or args.fast or args.nagq != 1:
                raise ArgumentError(
                    "--link, --nagq and --fast need --family (a GLMM)", parameter="family"
                )
            model = lmm(
                args.formula,
                data,
                reml=args.reml,
                contrasts=contrasts,
                weights=args.weights,
                offset=args.offset,
            )
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
                weights=args.weights,
                offset=args.offset,
            )
        text = model.summary(format=args.format)
    except (MixedModelError, ValueError, TypeError, OSError, pl.exceptions.PolarsError) as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        return 2
    print(text.rstrip("\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
