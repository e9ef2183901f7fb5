"""Every committed notebook must carry the outputs of one clean top-to-bottom run.

The book renders stored outputs (execute_notebooks: "off") and nbval compares a fresh
run with them, so a notebook committed half-run, run out of order, stripped of its
outputs or holding an error would publish something the code does not produce.
Checked for every .ipynb under book/ and exercises/source/:

* every non-empty code cell has an execution_count, and the counts are exactly
  1, 2, ..., n in document order (a fresh kernel, run once, top to bottom);
* the notebook has stored outputs at all (not stripped);
* no stored output is an error, except in a cell tagged ``raises-exception``
  (the tag nbval and myst-nb both honour for a deliberate error).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIRS = ("book", "exercises/source")


def _notebooks() -> list[Path]:
    found = []
    for d in NOTEBOOK_DIRS:
        base = ROOT / d
        if base.is_dir():
            found += [
                p for p in base.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
            ]
    return sorted(found)


NOTEBOOKS = _notebooks()


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def problems(nb: dict) -> list[str]:
    """Human-readable list of what is wrong with a notebook's stored run."""
    out: list[str] = []
    code = [
        (i, c)
        for i, c in enumerate(nb.get("cells", []))
        if c.get("cell_type") == "code" and _source(c).strip()
    ]
    counts = [c.get("execution_count") for _, c in code]
    for (i, c), n in zip(code, counts):
        if n is None:
            out.append(f"cell {i} was never run (execution_count is null)")
    expected = list(range(1, len(code) + 1))
    if None not in counts and counts != expected:
        out.append(
            f"execution counts are {counts}, expected {expected}: restart the kernel "
            "and run all cells once, top to bottom, then save"
        )
    if code and not any(c.get("outputs") for _, c in code):
        out.append("no code cell has a stored output: outputs were stripped or never saved")
    for i, c in code:
        tags = c.get("metadata", {}).get("tags", [])
        for o in c.get("outputs", []):
            if o.get("output_type") == "error" and "raises-exception" not in tags:
                out.append(
                    f"cell {i} stored an error: {o.get('ename')}: {o.get('evalue')} "
                    "(tag the cell 'raises-exception' if the error is the point)"
                )
    return out


@pytest.mark.parametrize(
    "path", NOTEBOOKS, ids=[str(p.relative_to(ROOT)) for p in NOTEBOOKS]
)
def test_notebook_has_clean_stored_run(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    found = problems(nb)
    assert not found, f"{path.relative_to(ROOT)}:\n  " + "\n  ".join(found)


def test_some_notebooks_exist_or_explain() -> None:
    if not NOTEBOOKS:
        pytest.skip(f"no notebooks under {', '.join(NOTEBOOK_DIRS)} yet")


# The checker itself, on hand-made notebooks.
def _nb(*cells):
    return {"cells": list(cells), "nbformat": 4, "nbformat_minor": 5, "metadata": {}}


def _code(src, n, outputs=(), tags=()):
    return {
        "cell_type": "code",
        "source": src,
        "execution_count": n,
        "outputs": list(outputs),
        "metadata": {"tags": list(tags)},
    }


_OUT = {"output_type": "stream", "name": "stdout", "text": "ok\n"}
_ERR = {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": []}


def test_checker_accepts_clean_run() -> None:
    md = {"cell_type": "markdown", "source": "# t", "metadata": {}}
    assert problems(_nb(md, _code("a = 1", 1), _code("", None), _code("print(a)", 2, [_OUT]))) == []


def test_checker_rejects_out_of_order_unrun_stripped_and_errors() -> None:
    assert any("expected [1, 2]" in p for p in problems(_nb(_code("a", 2, [_OUT]), _code("b", 1))))
    assert any("never run" in p for p in problems(_nb(_code("a", 1, [_OUT]), _code("b", None))))
    assert any("stripped" in p for p in problems(_nb(_code("a", 1), _code("b", 2))))
    assert any("ValueError" in p for p in problems(_nb(_code("a", 1, [_ERR]))))
    assert problems(_nb(_code("a", 1, [_ERR], tags=["raises-exception"]))) == []
