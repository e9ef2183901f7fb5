"""Every equation a ``labrnn`` docstring names is an equation label in the book.

Docstrings say "equation ``rnn-state``" (or "eq. ``bptt-da``"); the book labels
its display equations ``$$ ... $$ (rnn-state)``. A reader of the code must find
the derivation in one step, so a docstring may not name a label the book lacks.
"""

import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
REF = re.compile(r"(?:equations?|eqs?\.)\s+``([a-z0-9]+(?:-[a-z0-9]+)*)``", re.IGNORECASE)
LIST_REF = re.compile(r"``([a-z0-9]+(?:-[a-z0-9]+)+)``")


def book_labels():
    labels = set()
    for path in (ROOT / "book").rglob("*"):
        if path.suffix == ".ipynb":
            text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                             if c["cell_type"] == "markdown")
        elif path.suffix == ".md":
            text = path.read_text()
        else:
            continue
        labels |= set(re.findall(r"\$\$\s*\(([\w-]+)\)", text))
        labels |= set(re.findall(r":label:\s*([\w-]+)", text))
    return labels


def docstring_references():
    refs = {}
    for path in sorted((ROOT / "labrnn").rglob("*.py")):
        text = path.read_text()
        for m in REF.finditer(text):
            # "equations ``a``, ``b`` and ``c``": take the whole list after the keyword
            tail = text[m.start():m.start() + 200].split("\n")[0]
            for label in [m.group(1)] + LIST_REF.findall(tail):
                refs.setdefault(label, set()).add(str(path.relative_to(ROOT)))
    return refs


def test_docstring_equations_exist_in_the_book():
    labels = book_labels()
    assert len(labels) > 50, "found too few equation labels: is the book where the test looks?"
    missing = {k: sorted(v) for k, v in docstring_references().items() if k not in labels}
    assert not missing, ("docstrings name equations that no page of the book labels "
                         f"(label them in the book or fix the docstring): {missing}")
