"""The type stubs of the native module (python/mixedmodels/_core.pyi) match the module:
the same classes, functions, methods and properties, and the same parameter names.
Stub classes whose names start with ``_`` are stub-only bases (what the native classes
share); their members count as members of every stub class deriving from them."""

import ast
import inspect
from pathlib import Path

import mixedmodels
from mixedmodels import _core

STUB = Path(mixedmodels.__file__).parent / "_core.pyi"


def stub_tree():
    """{class name or None: {member: (kind, [parameter names])}} from the stub file."""
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    out = {None: {}}

    def params(fn):
        a = fn.args
        names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
        return [n for n in names if n != "self"]

    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            out[None][node.name] = ("function", params(node))
        elif isinstance(node, ast.ClassDef):
            members = {}
            for base in node.bases:
                if isinstance(base, ast.Name) and base.id in out:
                    members.update(out[base.id])
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    is_prop = any(
                        isinstance(d, ast.Name) and d.id == "property" for d in item.decorator_list
                    )
                    kind = "property" if is_prop else "method"
                    members[item.name] = (kind, params(item))
            out[node.name] = members
    return out


def native_members(cls):
    out = {}
    for name, value in vars(cls).items():
        if name.startswith("_") and name != "__init__":
            continue
        if name == "__init__":
            continue
        kind = "property" if inspect.isgetsetdescriptor(value) else "method"
        out[name] = kind
    return out


def signature_names(obj):
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [p for p in sig.parameters if p not in ("self", "$self")]


def test_stub_lists_exactly_the_native_classes_and_functions():
    stub = stub_tree()
    native_classes = {n for n, v in vars(_core).items() if isinstance(v, type)}
    assert {c for c in stub if c is not None and not c.startswith("_")} == native_classes
    native_functions = {
        n for n, v in vars(_core).items() if callable(v) and not isinstance(v, type)
    }
    assert set(stub[None]) == native_functions
    for name in native_functions:
        assert signature_names(getattr(_core, name)) == stub[None][name][1], name


def test_stub_members_match_the_native_classes():
    stub = stub_tree()
    for cls_name, members in stub.items():
        if cls_name is None or cls_name.startswith("_"):
            continue
        cls = getattr(_core, cls_name)
        native = native_members(cls)
        declared = {n: k for n, (k, _) in members.items() if n != "__init__"}
        assert declared == native, cls_name
        for name, (kind, params) in members.items():
            if kind == "method" and name != "__init__":
                assert signature_names(getattr(cls, name)) == params, f"{cls_name}.{name}"
        if "__init__" in members:
            assert signature_names(cls) == members["__init__"][1], f"{cls_name}()"


def conforms(value, annotation: str, namespace: dict) -> bool:
    """Does ``value`` have the type the stub's annotation (a string) describes?
    Checks containers' lengths and element types as deep as the annotation goes."""
    import typing

    import numpy as np

    hint = eval(annotation, namespace)

    def check(v, h) -> bool:
        if h is typing.Any:
            return True
        if h is None or h is type(None):
            return v is None
        origin = typing.get_origin(h)
        args = typing.get_args(h)
        if origin in (typing.Union, __import__("types").UnionType):
            return any(check(v, a) for a in args)
        if h is float:
            return isinstance(v, float)
        if h is int:
            return isinstance(v, int) and not isinstance(v, bool)
        if h in (bool, str):
            return isinstance(v, h)
        if origin is np.ndarray or (origin is None and h is np.ndarray):
            return isinstance(v, np.ndarray)
        if origin is list:
            return isinstance(v, list) and all(check(x, args[0]) for x in v)
        if origin is tuple:
            return (
                isinstance(v, tuple)
                and len(v) == len(args)
                and all(check(x, a) for x, a in zip(v, args, strict=True))
            )
        if origin is dict:
            return isinstance(v, dict)
        return True

    return check(value, hint)


def test_fitted_models_return_what_the_stub_says():
    import mixedmodels as mm

    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    namespace: dict = {}
    exec("from typing import Any\nimport numpy as np\nimport numpy.typing as npt", namespace)
    ss = mm.dataset("sleepstudy")
    models = {
        "LinearMixedModel": mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", ss)._core,
        "GeneralizedLinearMixedModel": mm.glmm(
            "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
            mm.dataset("cbpp"),
            family="binomial",
        )._core,
    }
    checked = 0
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or node.name not in models:
            continue
        core = models[node.name]
        inherited = [
            item
            for base in node.bases
            if isinstance(base, ast.Name) and base.id in classes
            for item in classes[base.id].body
        ]
        for item in inherited + node.body:
            if not isinstance(item, ast.FunctionDef) or item.returns is None:
                continue
            a = item.args
            required = len(a.args) - 1 - len(a.defaults)
            if item.name.startswith("_") or required > 0 or item.name in ("fit", "restore_fit"):
                continue
            is_prop = any(
                isinstance(d, ast.Name) and d.id == "property" for d in item.decorator_list
            )
            value = getattr(core, item.name)
            if not is_prop:
                value = value()
            annotation = ast.unparse(item.returns)
            assert conforms(value, annotation, namespace), (node.name, item.name, annotation)
            checked += 1
    assert checked > 60
