"""environment.yml (conda / Binder) must list what pyproject.toml lists.

Compared: pyproject's [project] dependencies plus the extras a reader's environment
needs (book, test, lab) against every entry of environment.yml (conda entries and
its pip: section), by normalised name and version specifier; and requires-python
against the `python` entry. The optional extras (gpu, instructor, torch) are not
part of the conda environment.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml  # PyYAML: installed with jupyter-book (book extra)
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
SYNCED_EXTRAS = ("book", "test", "lab")
# conda-forge name -> PyPI name, where they differ (none so far).
CONDA_TO_PYPI: dict[str, str] = {}
# Entries of environment.yml that are not dependencies of the package.
NOT_DEPENDENCIES = {"python", "pip"}


def _spec(req: str) -> tuple[str, str]:
    r = Requirement(req)
    return canonicalize_name(r.name), ",".join(sorted(str(s) for s in r.specifier))


def pyproject_deps() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in SYNCED_EXTRAS:
        reqs += project["optional-dependencies"][extra]
    return dict(_spec(r) for r in reqs)


def environment_entries() -> list[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    entries: list[str] = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            entries += [d for d in dep.get("pip", []) if not d.startswith(("-e", "."))]
        else:
            entries.append(dep)
    return entries


def environment_deps() -> dict[str, str]:
    deps = {}
    for entry in environment_entries():
        name, spec = _spec(entry.split("::")[-1])  # allow channel::name
        name = CONDA_TO_PYPI.get(name, name)
        if name not in NOT_DEPENDENCIES:
            deps[name] = spec
    return deps


def test_environment_yml_matches_pyproject() -> None:
    want, have = pyproject_deps(), environment_deps()
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    differ = sorted(n for n in set(want) & set(have) if want[n] != have[n])
    lines = []
    if missing:
        lines.append("in pyproject.toml but not environment.yml: " + ", ".join(
            f"{n}{want[n]}" for n in missing))
    if extra:
        lines.append("in environment.yml but not pyproject.toml: " + ", ".join(
            f"{n}{have[n]}" for n in extra))
    for n in differ:
        lines.append(f"{n}: pyproject.toml says '{want[n]}', environment.yml says '{have[n]}'")
    assert not lines, (
        "environment.yml drifted from pyproject.toml (dependencies + extras "
        f"{', '.join(SYNCED_EXTRAS)}):\n  " + "\n  ".join(lines)
    )


def test_environment_yml_python_matches_requires_python() -> None:
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    pythons = [_spec(e)[1] for e in environment_entries() if _spec(e)[0] == "python"]
    assert pythons == [_spec(f"python{requires}")[1]], (
        f"environment.yml pins python as {pythons}, pyproject.toml requires-python is '{requires}'"
    )
