"""Rich display of results in notebooks: every rendering comes from the Rust
presentation layer (``src/present/``); nothing here formats or parses text."""

from __future__ import annotations

FORMATS = ("text", "markdown", "html", "latex")


def check_format(format: str) -> str:
    """The format name in lower case, or a ValueError naming the known formats.

    >>> check_format("HTML")
    'html'
    """
    name = str(format).lower()
    if name not in FORMATS:
        raise ValueError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    return name


class RichDisplay:
    """Mixin: Jupyter's ``_repr_html_``, ``_repr_markdown_`` and ``_repr_latex_`` from
    one ``_render(format)`` that returns the rendered text, or None when there is
    nothing to show (an unfitted model), so that the notebook falls back to ``repr``.
    """

    def _render(self, format: str) -> str | None:
        raise NotImplementedError

    def _repr_html_(self) -> str | None:
        return self._render("html")

    def _repr_markdown_(self) -> str | None:
        return self._render("markdown")

    def _repr_latex_(self) -> str | None:
        return self._render("latex")
