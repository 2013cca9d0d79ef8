"""Griffe extension for the documentation build: Sphinx cross-reference roles in the
package's docstrings (``:func:`tidy```, ``:meth:`fit```, ``:class:`Foo```) are shown as
inline code, since mkdocstrings' numpy-style parser leaves the role text as it is."""

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|meth|class|attr|mod|data|exc|obj):`~?([^`]+)`")


class SphinxRolesAsCode(griffe.Extension):
    """Rewrites ``:role:`target``` to ```target``` in every docstring."""

    def on_object(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(lambda m: f"`{m.group(1)}`", obj.docstring.value)
