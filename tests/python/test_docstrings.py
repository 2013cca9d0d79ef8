"""Every public item of the package is documented (numpydoc) and every example in the
package's docstrings runs.

The public API is everything in ``mixedmodels.__all__`` and ``mixedmodels.plot.__all__``,
and the public methods and properties of the public classes (those defined in the
package, inherited ones included). An item added later without its docstring, or
without the sections it needs, fails :func:`test_public_item_is_documented`.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
import warnings
from collections.abc import Iterator
from types import FunctionType, ModuleType

import pytest
from numpydoc import validate as numpydoc_validate

import mixedmodels as mm
from mixedmodels import _errors

# Errors the package raises, by name (the classes a Raises section names).
ERROR_NAMES = frozenset(
    name
    for name, obj in vars(_errors).items()
    if inspect.isclass(obj) and issubclass(obj, _errors.MixedModelError)
)
RAISE = re.compile(r"\braise\s+([A-Za-z_]\w*)\s*\(")


def _import_path(obj: object) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def _members(cls: type) -> Iterator[tuple[str, object]]:
    """(import path, object) of the public methods and properties of ``cls`` defined in
    the package, each under the class that defines it."""
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        owner = next((k for k in cls.__mro__ if name in vars(k)), None)
        if owner is None or not owner.__module__.startswith("mixedmodels"):
            continue
        value = vars(owner)[name]
        if isinstance(value, staticmethod | classmethod):
            value = value.__func__
        if isinstance(value, property | FunctionType):
            yield f"{_import_path(owner)}.{name}", value


def public_items() -> dict[str, object]:
    """Import path → object of every public item, each object once."""
    items: dict[str, object] = {}
    seen: set[int] = set()

    def add(path: str, obj: object) -> None:
        if id(obj) not in seen:
            seen.add(id(obj))
            items[path] = obj

    for module, names in [(mm, mm.__all__), (mm.plot, mm.plot.__all__)]:
        for name in names:
            obj = getattr(module, name)
            if isinstance(obj, ModuleType) or not callable(obj):
                continue  # the plot module (walked above) and __version__
            # Validated under the defining module's name: ``mixedmodels.datasets`` (the
            # function) is also the name of the data folder, which an import would bind.
            add(_import_path(obj), obj)
            if inspect.isclass(obj):
                for path, member in _members(obj):
                    add(path, member)
    return items


ITEMS = public_items()


def _function(obj: object) -> FunctionType | None:
    """The Python function whose source shows what ``obj`` raises (a property's getter;
    a class's ``__init__`` when the class defines one)."""
    if isinstance(obj, property):
        obj = obj.fget
    elif inspect.isclass(obj):
        obj = vars(obj).get("__init__")
    return obj if isinstance(obj, FunctionType) else None


def _raised(obj: object) -> set[str]:
    """The package's errors that ``obj`` raises itself: ``raise X(...)`` in its own
    source, and :class:`NotFittedError` when it is wrapped by ``needs_fit``."""
    fn = _function(obj)
    if fn is None:
        return set()
    names = set()
    if getattr(fn, "__wrapped__", None) is not None and "needs_fit" in fn.__qualname__:
        names.add("NotFittedError")
        fn = inspect.unwrap(fn)
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        return names
    return names | {n for n in RAISE.findall(source) if n in ERROR_NAMES}


def test_the_walk_finds_the_api():
    """The walk reaches the model classes' inherited extractors, the plots and the
    errors (a walk that found nothing would pass every check below)."""
    assert "mixedmodels._base.MixedModel.coeftable" in ITEMS
    assert "mixedmodels._lmm.LinearMixedModel.fit" in ITEMS
    assert "mixedmodels.plot._ranef.caterpillar" in ITEMS
    assert "mixedmodels._datasets.datasets" in ITEMS
    assert "mixedmodels._errors.DataError" in ITEMS
    assert len(ITEMS) > 150


@pytest.mark.parametrize("path", sorted(ITEMS))
def test_public_item_is_documented(path: str):
    """A summary line, every parameter in Parameters (names starting with ``_`` are
    private), Returns when a function returns a value and for every property, Raises
    naming each of the package's errors the item raises itself, and Examples."""
    obj = ITEMS[path]
    report = numpydoc_validate.validate(path)
    codes = {code: message for code, message in report["errors"]}
    problems = [codes[c] for c in ("GL08", "SS01", "RT01", "EX01") if c in codes]
    if isinstance(obj, property) and "GL08" not in codes:
        # numpydoc asks no Returns of a property; here its value is described there.
        if not numpydoc_validate.Validator(numpydoc_validate.get_doc_object(obj)).doc["Returns"]:
            problems.append("No Returns section found (the property's value)")
    if "GL08" not in codes:
        doc = numpydoc_validate.Validator(numpydoc_validate.get_doc_object(obj))
        documented = set(doc.doc_parameters)
        wanted = {p for p in doc.signature_parameters if not p.lstrip("*").startswith("_")}
        if wanted - documented:
            problems.append(f"parameters not documented: {sorted(wanted - documented)}")
        unknown = documented - set(doc.signature_parameters)
        if unknown:
            problems.append(f"unknown parameters: {sorted(unknown)}")
        # numpydoc reads a Raises entry's class as its type; a subclass may be named in
        # the description of its base class's entry.
        raises = " ".join(
            f"{name} {type_} {' '.join(desc)}" for name, type_, desc in doc.doc["Raises"]
        )
        missing = sorted(n for n in _raised(obj) if not re.search(rf"\b{n}\b", raises))
        if missing:
            problems.append(f"Raises does not name {missing}")
    assert not problems, f"{path}: " + "; ".join(problems)


def _package_modules() -> Iterator[ModuleType]:
    yield mm
    for info in pkgutil.walk_packages(mm.__path__, "mixedmodels."):
        if info.name != "mixedmodels.__main__":
            yield importlib.import_module(info.name)


def _doctests() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = {}
    for module in _package_modules():
        for test in finder.find(module, module.__name__):
            if test.examples:
                tests[test.name] = test
    return [tests[name] for name in sorted(tests)]


DOCTESTS = _doctests()


def test_doctests_are_found():
    """The package's examples are collected (the model classes' and the plots')."""
    names = {t.name for t in DOCTESTS}
    assert "mixedmodels._lmm.LinearMixedModel.fit" in names
    assert "mixedmodels.plot._ranef.caterpillar" in names


@pytest.mark.parametrize("test", DOCTESTS, ids=lambda t: t.name)
def test_docstring_example_runs(test: doctest.DocTest):
    """Run one docstring's examples; plots draw on the Agg backend."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    out: list[str] = []
    with warnings.catch_warnings():
        # An example shows what the function returns; warnings (a singular fit in an
        # example about singular fits) are not part of its output.
        warnings.simplefilter("ignore", mm.MixedModelWarning)
        runner.run(test, out=out.append, clear_globs=True)
    plt.close("all")
    assert runner.failures == 0, "".join(out)
