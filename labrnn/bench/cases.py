"""What the benchmark suite times: the cases, their inputs and the presets.

A *case* is one workload at one size: a recurrent cell alone (``kind="cell"``),
a two-layer stack (``"stacked"``), a bidirectional layer (``"bidir"``), an LSTM
encoder with additive attention over its outputs (``"attention"``), a whole
training step of a character-level language model (``"charlm"``) or the
array-API overhead measurement (``"overhead"``: labrnn's LSTM against the same
algorithm written directly for NumPy). ``mode`` is ``"fwd"`` (forward only) or
``"fwdbwd"`` (forward and backward, every gradient including ``dx``).

Sizes follow the book's time-major convention: ``T`` steps, batch ``B``, input
features ``D``, hidden units ``H`` (for ``"charlm"``: ``D`` is the embedding
size and ``V`` the vocabulary). Every implementation builds its workload from
the same host arrays, :func:`make_inputs`, drawn from a seeded generator, so
labrnn, PyTorch and the NumPy reference see identical weights and data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Case", "KINDS", "MODES", "CELLS", "TORCH_CELLS", "PRESETS", "preset_cases",
           "make_inputs", "target_for"]

KINDS = ("cell", "stacked", "bidir", "attention", "charlm", "overhead")
MODES = ("fwd", "fwdbwd")
CELLS = ("elman", "lstm", "gru", "lnlstm")
TORCH_CELLS = ("elman", "lstm", "gru")   # PyTorch has no layer-normalised LSTM module


@dataclass(frozen=True)
class Case:
    """One workload at one size (see the module docstring)."""

    kind: str
    cell: str
    T: int
    B: int
    D: int
    H: int
    mode: str = "fwdbwd"
    layers: int = 1
    V: int = 0
    #: upper bound on time(labrnn) / time(reference) that the issue sets, or None
    target: float | None = None
    #: the implementation the target compares with ("torch" or "numpy")
    reference: str = "torch"
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"case kind must be one of {list(KINDS)}, received {self.kind!r}")
        if self.cell not in CELLS:
            raise ValueError(f"case cell must be one of {list(CELLS)}, received {self.cell!r}")
        if self.mode not in MODES:
            raise ValueError(f"case mode must be one of {list(MODES)}, received {self.mode!r}")
        for name in ("T", "B", "D", "H", "layers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"case {name} must be a positive int, received {v!r}")
        if self.kind == "charlm" and self.V < 2:
            raise ValueError(f"a charlm case needs a vocabulary V >= 2, received V={self.V!r}")

    @property
    def id(self):
        """A readable unique name, e.g. ``cell/lstm/T100-B32-D128-H256/fwdbwd``."""
        size = f"T{self.T}-B{self.B}-D{self.D}-H{self.H}"
        if self.layers > 1:
            size += f"-L{self.layers}"
        if self.V:
            size += f"-V{self.V}"
        return f"{self.kind}/{self.cell}/{size}/{self.mode}"

    def to_dict(self):
        """The case as a JSON-ready dict (``id`` included)."""
        d = dataclasses.asdict(self)
        d["id"] = self.id
        return d

    @classmethod
    def from_dict(cls, d):
        """Inverse of :meth:`to_dict`."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def replace(self, **kw):
        """A copy with some fields changed."""
        return dataclasses.replace(self, **kw)


def target_for(cell, B):
    """The issue's bound on time(labrnn)/time(PyTorch), forward + backward, one thread.

    LSTM: 1.0 at every target size; Elman and GRU: 0.5 at ``B = 1`` and 0.9 at the
    larger sizes.
    """
    if cell == "lstm":
        return 1.0
    return 0.5 if B == 1 else 0.9


#: (T, B, D, H) of the issue's targets
TARGET_SIZES = ((100, 32, 128, 256), (100, 64, 256, 512), (50, 1, 128, 64))


def _targets():
    cases = []
    for cell in ("lstm", "elman", "gru"):
        for T, B, D, H in TARGET_SIZES:
            for mode in MODES:
                cases.append(Case("cell", cell, T, B, D, H, mode,
                                  target=target_for(cell, B) if mode == "fwdbwd" else None))
    cases.append(Case("charlm", "lstm", 100, 32, 32, 256, "fwdbwd", V=65, target=1.0))
    for T, B, D, H in TARGET_SIZES:
        cases.append(Case("overhead", "lstm", T, B, D, H, "fwdbwd", target=1.05,
                          reference="numpy"))
    cases += [Case("stacked", "lstm", 100, 32, 128, 256, layers=2),
              Case("bidir", "lstm", 100, 32, 128, 256),
              Case("attention", "lstm", 100, 32, 128, 256)]
    return cases


def _grid():
    cases = []
    for cell in CELLS:
        for T in (50, 100, 1000):
            for B in (1, 8, 32, 128):
                for H in (64, 256, 512, 1024):
                    for mode in MODES:
                        cases.append(Case("cell", cell, T, B, max(H // 2, 32), H, mode))
    for kind, layers in (("stacked", 2), ("bidir", 1), ("attention", 1)):
        for B in (1, 32, 128):
            for H in (64, 256, 1024):
                for mode in MODES:
                    cases.append(Case(kind, "lstm", 100, B, max(H // 2, 32), H, mode,
                                      layers=layers))
    for B, H in ((32, 256), (64, 512)):
        cases.append(Case("charlm", "lstm", 100, B, 32, H, "fwdbwd", V=65))
    for T, B, D, H in TARGET_SIZES:
        cases.append(Case("overhead", "lstm", T, B, D, H, "fwdbwd", target=1.05,
                          reference="numpy"))
    return cases


def _quick():
    cases = [Case("cell", cell, 6, 2, 3, 4, mode) for cell in CELLS for mode in MODES]
    cases += [Case("stacked", "lstm", 5, 2, 3, 4, layers=2), Case("bidir", "gru", 5, 2, 3, 4),
              Case("attention", "lstm", 5, 2, 3, 4),
              Case("charlm", "lstm", 6, 2, 3, 4, V=7, target=1.0),
              Case("overhead", "lstm", 6, 2, 3, 4, target=1.05, reference="numpy")]
    return cases


#: preset name -> (description, case factory, timing settings)
PRESETS = {
    "quick": ("tiny sizes, for the tests (seconds)", _quick,
              {"rounds": 2, "min_round_s": 0.005, "peak_n": 256,
               "memory": {"Ts": [2, 4, 8], "B": 2, "D": 3, "H": 4}}),
    "targets": ("the issue's target sizes (a few minutes)", _targets,
                {"rounds": 5, "min_round_s": 0.2, "peak_n": 2048,
                 "memory": {"Ts": [25, 50, 100, 200], "B": 32, "D": 128, "H": 256}}),
    "grid": ("every cell over B 1..128, H 64..1024, T 50..1000, and the models (hours)", _grid,
             {"rounds": 5, "min_round_s": 0.2, "peak_n": 2048,
              "memory": {"Ts": [50, 100, 200, 500, 1000], "B": 32, "D": 128, "H": 256}}),
}


def preset_cases(name):
    """The cases of preset ``name`` (one of :data:`PRESETS`)."""
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, received {name!r}")
    return PRESETS[name][1]()


def make_inputs(case, dtype="float64", seed=0):
    """The host arrays every implementation of ``case`` starts from (NumPy, ``dtype``).

    Returns a dict: ``params`` (labrnn's layout and keys, see :mod:`labrnn.cells`,
    :mod:`labrnn.models.stacked`, :mod:`labrnn.models.bidirectional`, :mod:`labrnn.layers.attention`,
    :mod:`labrnn.apps.charlm`), and the data: ``x (T, B, D)`` and ``dout``, the
    gradient arriving at the output (``(T, B, H)``, ``(T, B, 2H)`` for ``"bidir"``,
    ``(B, H)`` for ``"attention"``), or ``ids (T + 1, B)`` for ``"charlm"``.
    """
    from ..layers.attention import init_attention
    from ..models.bidirectional import init_bidirectional
    from ..cells import init_cell
    from ..paramtree import with_prefix
    from ..models.stacked import init_stacked

    rng = np.random.default_rng([seed, 7])
    T, B, D, H = case.T, case.B, case.D, case.H
    if case.kind == "charlm":
        from ..apps.charlm import init_charlm
        params = init_charlm(case.V, hidden=H, layers=case.layers, embed=D, seed=seed,
                             dtype="float64")
        ids = rng.integers(0, case.V, size=(T + 1, B))
        return {"params": _cast(params, dtype), "ids": ids}
    if case.kind in ("cell", "overhead"):
        params, F = init_cell(case.cell, D, H, seed=seed), H
    elif case.kind == "stacked":
        params, F = init_stacked(case.cell, D, H, case.layers, seed=seed), H
    elif case.kind == "bidir":
        params, F = init_bidirectional(case.cell, D, H, seed=seed), 2 * H
    else:   # attention: an encoder cell, then additive attention with the last state as query
        params = {**with_prefix("enc.", init_cell(case.cell, D, H, seed=seed)),
                  **with_prefix("att.", init_attention("additive", H, H, seed=seed + 1))}
        F = H
    if case.kind != "charlm":
        # The zero biases of init_* would hide a bias that is dropped or doubled.
        for k in params:
            if k.endswith(("b", "b_h", "b_hn")):
                params[k] = params[k] + rng.normal(0.0, 0.1, size=params[k].shape)
    x = rng.normal(0.0, 1.0, size=(T, B, D))
    dshape = (B, F) if case.kind == "attention" else (T, B, F)
    dout = rng.normal(0.0, 1.0, size=dshape)
    return {"params": _cast(params, dtype), "x": x.astype(dtype), "dout": dout.astype(dtype)}


def _cast(params, dtype):
    return {k: np.asarray(v).astype(dtype) for k, v in params.items()}
