"""The API appendix documents every module, and every public function has a docstring.

A reader should find any function of the package in the book: the appendix
(book/appendix/api.md) is generated from docstrings by ``automodule``, so it is
enough that each module is listed there and each public callable documents itself.
"""

import importlib
import inspect
import pathlib
import pkgutil

import labrnn

ROOT = pathlib.Path(__file__).resolve().parents[1]
API_PAGE = ROOT / "book" / "appendix" / "api.md"


def _modules():
    return sorted(m.name for m in pkgutil.iter_modules(labrnn.__path__) if not m.name.startswith("_"))


def test_every_module_is_in_the_api_appendix():
    text = API_PAGE.read_text()
    missing = [m for m in _modules() if f"automodule:: labrnn.{m}\n" not in text]
    assert not missing, f"add these modules to {API_PAGE.relative_to(ROOT)}: {missing}"


def test_every_public_callable_has_a_docstring():
    undocumented = []
    for name in _modules():
        mod = importlib.import_module(f"labrnn.{name}")
        for attr, obj in vars(mod).items():
            if attr.startswith("_") or not callable(obj) or getattr(obj, "__module__", None) != mod.__name__:
                continue
            if not inspect.getdoc(obj):
                undocumented.append(f"labrnn.{name}.{attr}")
    assert not undocumented, f"public callables without a docstring: {undocumented}"
