"""The API appendix documents every module, and every public function has a docstring.

A reader should find any function of the package in the book: the appendix
(book/appendix/api.md) is generated from docstrings by ``automodule``, so it is
enough that each module is listed there and each public callable documents itself.

The package is organised in subpackages (``labrnn.cells``, ``labrnn.layers``,
``labrnn.models``, ``labrnn.training``, ``labrnn.lab``, ``labrnn.datasets``,
``labrnn.apps``, ``labrnn.checks``, ``labrnn.bench``), so "every module" means every
module at any depth whose dotted name has no private (``_``) part. A subpackage whose
``__init__`` is empty (no docstring, no names of its own) documents nothing and need
not be listed; one with content must be.
"""

import importlib
import inspect
import pathlib
import pkgutil
import re

import labrnn

ROOT = pathlib.Path(__file__).resolve().parents[1]
API_PAGE = ROOT / "book" / "appendix" / "api.md"


def _is_empty_package(mod):
    if not hasattr(mod, "__path__") or inspect.getdoc(mod):
        return False
    own = [v for k, v in vars(mod).items() if not k.startswith("_")
           and getattr(v, "__module__", None) == mod.__name__]
    return not own and not getattr(mod, "__all__", None)


def _modules():
    """Every public module of the package, as dotted names (``labrnn.cells.elman``)."""
    names = ["labrnn"]
    for m in pkgutil.walk_packages(labrnn.__path__, "labrnn."):
        if not any(part.startswith("_") for part in m.name.split(".")):
            names.append(m.name)
    return sorted(names)


def _listed():
    return re.findall(r"^\.\. automodule:: (\S+)\s*$", API_PAGE.read_text(), flags=re.M)


def test_the_module_walk_reaches_the_subpackages():
    names = _modules()
    for expected in ("labrnn.cells.base", "labrnn.cells.elman", "labrnn.layers.affine",
                     "labrnn.models.recurrent", "labrnn.training.loops", "labrnn.lab.plots",
                     "labrnn.apps.charlm", "labrnn.datasets.co2"):
        assert expected in names, f"{expected} not found by the module walk: {names}"
    assert not any(n.startswith("labrnn.bench.__") or "._" in n for n in names), names


def test_every_module_is_in_the_api_appendix():
    listed = set(_listed())
    missing = [m for m in _modules() if m != "labrnn" and m not in listed
               and not _is_empty_package(importlib.import_module(m))]
    assert not missing, f"add these modules to {API_PAGE.relative_to(ROOT)}: {missing}"


def test_every_module_the_appendix_names_exists():
    """A stale or misspelt ``automodule`` (an old path such as ``labrnn.plots``) would
    leave a hole in the book; every listed module must import."""
    listed = _listed()
    assert len(listed) == len(set(listed)), f"modules listed twice: {sorted(m for m in listed if listed.count(m) > 1)}"
    broken = []
    for name in listed:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            broken.append(f"{name} ({exc})")
    assert not broken, f"{API_PAGE.relative_to(ROOT)} names modules that do not import: {broken}"


def test_every_public_callable_has_a_docstring():
    undocumented = []
    for name in _modules():
        mod = importlib.import_module(name)
        for attr, obj in vars(mod).items():
            if attr.startswith("_") or not callable(obj) or getattr(obj, "__module__", None) != mod.__name__:
                continue
            if not inspect.getdoc(obj):
                undocumented.append(f"{name}.{attr}")
    assert not undocumented, f"public callables without a docstring: {undocumented}"
