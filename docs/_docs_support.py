"""Helpers for the code blocks that the documentation build executes.

Imported by a hidden block at the top of each page (``import _docs_support``); never part
of the installed package.
"""

import ast
import base64
import html
import inspect
import io
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import polars as pl

# Tables print as markdown tables, which the page renders.
pl.Config.set_tbl_formatting("MARKDOWN")
pl.Config.set_tbl_hide_dataframe_shape(True)
pl.Config.set_tbl_hide_column_data_types(True)
pl.Config.set_tbl_rows(12)
pl.Config.set_tbl_cols(14)
pl.Config.set_fmt_str_lengths(60)
pl.Config.set_tbl_width_chars(400)

# A warning in an example is shown by the example itself when it matters; the
# progress bars of refits are off in every example.
warnings.simplefilter("default")


def figure_html(fig, width: int = 680) -> str:
    """A matplotlib figure as an inline PNG ``<img>`` element; closes the figure.

    Pages print it from a ``show`` function defined in their own (hidden) setup block, as
    the build captures only the ``print`` of the code blocks themselves."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="figure" width="{width}" src="data:image/png;base64,{data}">'


def code(text: str) -> str:
    """``text`` as inline code that is safe inside a markdown table cell."""
    escaped = html.escape(text).replace("|", "&#124;").replace("`", "&#96;")
    return f"<code>{escaped}</code>"


def call_table(header: tuple[str, str], rows: list[tuple[str, str]], namespace: dict) -> str:
    """A markdown table of ``(their call, our call)`` pairs after running every call of ours.

    Each right-hand call is executed in ``namespace`` (the page's session), so a call that
    does not exist or fails stops the documentation build, as does an expression that
    names a method without calling it (``m.aic`` for ``m.aic()``). A left-hand entry may hold
    several calls separated by `` ; ``."""
    lines = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    for theirs, ours in rows:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for statement in ast.parse(ours).body:
                if isinstance(statement, ast.Expr):
                    value = eval(compile(ast.Expression(statement.value), ours, "eval"), namespace)
                    if inspect.ismethod(value):
                        raise ValueError(f"{ours!r} names a method without calling it")
                else:
                    exec(compile(ast.Module([statement], []), ours, "exec"), namespace)
        plt.close("all")
        lines.append(f"| {code(theirs)} | {code(ours)} |")
    return "\n".join(lines)
