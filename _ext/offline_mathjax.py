"""Serve MathJax 3 from the built book itself, so equations render offline.

Jupyter Book 1 (Sphinx's ``sphinx.ext.mathjax``) loads MathJax 3 from a CDN by
default. Students read the book from ``_build/html`` on their own disk, often
offline, and CI has no network, so the book ships its own copy instead.

Source of the files: the PyPI package ``django-static-mathjax`` (import name
``mathjax``; pure data, no Django import, no dependencies). It carries the
official MathJax 3.2.2 distribution (Apache-2.0) including the ``es5/`` combined
components, the CHTML web fonts and the lazily loaded TeX extensions. It is a
dependency of the ``book`` extra, so nothing large is vendored in this
repository and nothing is fetched at build time beyond ``pip install``.

At the end of an HTML build this extension copies the parts of ``es5/`` a page
can ask for into ``_build/html/_static/mathjax/`` and points ``mathjax_path``
at ``tex-mml-chtml.js`` there (the same component Sphinx would load from the
CDN). The other combined bundles and the SVG output are left out (~8 MB copied).
"""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Relative to ``_static`` (Sphinx resolves a relative ``mathjax_path`` there).
MATHJAX_PATH = "mathjax/tex-mml-chtml.js"

#: Parts of es5/ that tex-mml-chtml.js never loads.
_SKIP = shutil.ignore_patterns(
    "mml-chtml.js", "mml-svg.js", "tex-chtml.js", "tex-svg.js", "tex-mml-svg.js",
    "tex-chtml-full.js", "tex-chtml-full-speech.js", "tex-svg-full.js",
    "node-main.js", "svg", "svg.js", "adaptors",
)


def mathjax_es5_dir() -> Path:
    """The es5/ folder of the installed MathJax 3 distribution."""
    try:
        root = files("mathjax") / "static" / "mathjax"
    except ModuleNotFoundError as exc:  # pragma: no cover - message for humans
        raise RuntimeError(
            "MathJax for the offline book is missing: install the book extra "
            "(pip install -e '.[book]'), which brings django-static-mathjax"
        ) from exc
    es5 = Path(str(root)) / "es5"
    if not (es5 / "tex-mml-chtml.js").is_file():
        raise RuntimeError(f"no MathJax 3 es5/tex-mml-chtml.js under {root}")
    return es5


def _configure(app: Sphinx, config) -> None:
    mathjax_es5_dir()  # fail early, with a clear message, if it is missing
    config.mathjax_path = MATHJAX_PATH


def _copy(app: Sphinx, exc: Exception | None) -> None:
    if exc is not None or app.builder.format != "html":
        return
    src = mathjax_es5_dir()
    dest = Path(app.outdir) / "_static" / "mathjax"
    shutil.copytree(src, dest, ignore=_SKIP, dirs_exist_ok=True)
    licence = src.parent / "LICENSE"
    if licence.is_file():
        shutil.copy2(licence, dest / "LICENSE")
    logger.info("offline_mathjax: MathJax 3 copied to %s", dest)


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _configure)
    app.connect("build-finished", _copy)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
