"""Deep (stacked) recurrent networks with dropout and residual connections (book chapter 8).

Layer ``l`` reads the outputs of layer ``l - 1`` (layer 0 reads ``x``),
equation ``deep-stack``::

    u^(0) = x,     y^(l) = RNN_l( u^(l) * m^(l) ),     u^(l+1) = y^(l) [+ u^(l) when residual]

* **Dropout between layers** (``dropout=p``, inverted dropout): the input of
  every layer above the first is multiplied by a mask ``m`` whose entries are
  ``0`` with probability ``p`` and ``1/(1-p)`` otherwise, so the expected
  value is unchanged and nothing is rescaled at test time (pass ``dropout=0``).
  A fresh mask entry for every step, ``m: (T, B, F)``.
* **Variational dropout** (``variational=True``; Gal & Ghahramani 2016): ONE
  mask ``(B, F)`` per sequence, reused at every step, for those inputs; and
  ``recurrent_dropout=p`` drops the recurrent input ``h_{t-1}`` of every
  layer with one mask ``(B, H)`` reused at every step (always variational:
  a fresh mask per step on the recurrence destroys the memory).
* **Residual connections** (``residual=True``): ``u^(l+1) = y^(l) + u^(l)``
  for every layer whose input and output sizes match (others are skipped).
  Padded steps stay zero.
* Each layer may be **bidirectional** (:mod:`labrnn.models.bidirectional`).

Masks are drawn on the host from ``seed`` (:func:`dropout_mask`), or passed in
``masks`` (a dict keyed ``"l1.in"``, ``"l0.h"``, ``"l0.fw.h"``, ...) to
repeat a pass exactly, e.g. in a gradient check; the masks used are returned
in ``cache["masks"]``. Parameters are one flat dict (:mod:`labrnn.paramtree`):
layer ``l``'s under ``"l{l}."`` (then ``"fw."`` / ``"bw."`` if bidirectional).
Initial states: a list with one state per layer (a state tuple, or the pair
``(fw, bw)`` of state tuples for a bidirectional layer; ``None`` for zeros).
"""

from __future__ import annotations

from ..backend import device_of, from_numpy, host_rng, namespace
from ..cells import get_cell, init_cell
from ..errors import ShapeError
from ..validate import check_bool
from .bidirectional import bidirectional_backward, bidirectional_forward, init_bidirectional
from ..layers.masking import check_lengths, sequence_mask
from ..paramtree import subparams, with_prefix
from .recurrent import recurrent_backward, recurrent_forward

__all__ = ["init_stacked", "dropout_mask", "stacked_forward", "stacked_backward",
           "count_layers"]


def init_stacked(cell, D, H, layers, bidirectional=False, merge="concat", seed=0, xp=None,
                 device=None, dtype="float64", **init_kw):
    """Parameters of a ``layers``-deep stack; ``H`` an int or one size per layer.

    Layer ``l`` reads ``D`` features (``l = 0``) or the previous layer's
    output size (``H``, or ``2H`` for a bidirectional layer with ``merge="concat"``).
    """
    bidirectional = check_bool("bidirectional", bidirectional)
    if not isinstance(merge, str) or merge not in ("concat", "sum"):
        raise ValueError(f"unknown merge {merge!r}; choose one of ['concat', 'sum']")
    if isinstance(layers, bool) or not isinstance(layers, int):
        raise TypeError(f"layers must be an int >= 1, received {layers!r}")
    sizes = [H] * layers if isinstance(H, int) else list(H)
    if layers < 1 or len(sizes) != layers:
        raise ValueError(f"layers must be >= 1 with one hidden size per layer, received "
                         f"layers={layers}, H={H!r}")
    params, d_in = {}, D
    for l, h in enumerate(sizes):
        kw = dict(seed=[seed, l], xp=xp, device=device, dtype=dtype, **init_kw)
        p = init_bidirectional(cell, d_in, h, **kw) if bidirectional else init_cell(cell, d_in,
                                                                                   h, **kw)
        params.update(with_prefix(f"l{l}.", p))
        d_in = 2 * h if bidirectional and merge == "concat" else h
    return params


def count_layers(params):
    """Number of layers ``L`` of a stacked parameter dict (keys ``l0.*`` .. ``l{L-1}.*``)."""
    L = 0
    while any(k.startswith(f"l{L}.") for k in params):
        L += 1
    if L == 0:
        raise KeyError(f"params holds no layer 'l0.*'; its keys are {sorted(params)}")
    return L


def dropout_mask(shape, p, seed, like):
    """Inverted-dropout mask of ``shape``: 0 with probability ``p``, else ``1/(1-p)``.

    Drawn on the host from ``seed`` (an int or a ``numpy.random.Generator``)
    and moved to ``like``'s namespace, device and dtype.
    """
    p = _check_probability("p", p)
    keep = host_rng(seed).random(tuple(shape)) >= p
    return from_numpy(keep / (1.0 - p), like=like)


def _draw_masks(L, T, B, sizes_in, sizes_h, bidirectional, dropout, recurrent_dropout,
                variational, seed, like):
    if seed is None:
        raise ValueError("dropout > 0 needs a seed (or explicit masks=): labrnn never draws "
                         "unseeded random numbers")
    rng = host_rng(seed)
    masks = {}
    for l in range(L):
        if dropout > 0 and l > 0:
            shape = (B, sizes_in[l]) if variational else (T, B, sizes_in[l])
            masks[f"l{l}.in"] = dropout_mask(shape, dropout, rng, like)
        if recurrent_dropout > 0:
            for d in (("fw.", "bw.") if bidirectional else ("",)):
                masks[f"l{l}.{d}h"] = dropout_mask((B, sizes_h[l]), recurrent_dropout, rng, like)
    return masks


MASK_KINDS = ("in", "h", "fw.h", "bw.h")


def _check_probability(name, p):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1), received {p!r}")
    return float(p)


def _check_masks(masks, L, bidirectional):
    if not isinstance(masks, dict):
        raise TypeError(f"masks must be a dict keyed like 'l1.in' or 'l0.h', received "
                        f"{type(masks).__name__}")
    kinds = ("in", "fw.h", "bw.h") if bidirectional else ("in", "h")
    allowed = {f"l{l}.{k}" for l in range(L) for k in kinds}
    unknown = sorted(set(masks) - allowed)
    if unknown:
        raise KeyError(f"masks holds unknown key {unknown[0]!r}; the keys of this "
                       f"{L}-layer stack are {sorted(allowed)} (a misspelt key would be "
                       "silently ignored)")
    return masks


def _layer_H(sub, c, bidirectional, l):
    """The hidden size of layer ``l`` (its recurrent weight's second axis), checked."""
    p = subparams(sub, "fw.") if bidirectional else sub
    if c.recurrent_weight not in p:
        hint = (" (its parameters are bidirectional: pass bidirectional=True)"
                if not bidirectional and f"fw.{c.recurrent_weight}" in sub else "")
        raise KeyError(f"layer {l} has no {'fw.' if bidirectional else ''}{c.recurrent_weight} "
                       f"of a {c.name} cell; its keys are {sorted(sub)}{hint}")
    return p[c.recurrent_weight].shape[-1]


def stacked_forward(x, params, state0=None, lengths=None, *, cell="elman", bidirectional=False,
                    merge="concat", activation=None, dropout=0.0, recurrent_dropout=0.0,
                    variational=False, residual=False, seed=None, masks=None):
    """Run a stack of recurrent layers over ``x`` (T, B, D) (equation ``deep-stack``).

    Returns ``(y, states, cache)``: ``y`` the top layer's outputs ``(T, B, F)``,
    ``states`` a list with each layer's final state (a state tuple, or the pair
    ``(fw, bw)`` for bidirectional layers). ``state0`` is a list like it
    (``None``: zeros). ``cache["masks"]`` holds the dropout masks used. See the
    module docstring for ``dropout``, ``recurrent_dropout``, ``variational``,
    ``residual``.
    """
    bidirectional = check_bool("bidirectional", bidirectional)
    variational = check_bool("variational", variational)
    residual = check_bool("residual", residual)
    dropout = _check_probability("dropout", dropout)
    recurrent_dropout = _check_probability("recurrent_dropout", recurrent_dropout)
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of named arrays, received {type(params).__name__}")
    c = get_cell(cell)
    xp = namespace(x, names=["x"])
    if getattr(x, "ndim", None) != 3:
        raise ShapeError(f"x must have shape (T, B, D), received "
                         f"{tuple(getattr(x, 'shape', ())) or type(x).__name__}")
    L = count_layers(params)
    T, B = x.shape[0], x.shape[1]
    if state0 is None:
        state0 = [None] * L
    if not isinstance(state0, (list, tuple)) or len(state0) != L:
        raise ValueError(f"state0 must be a list with one initial state per layer ({L}), "
                         f"received {type(state0).__name__}"
                         + (f" of length {len(state0)}" if isinstance(state0, (list, tuple))
                            else ""))
    if lengths is not None:
        lengths = check_lengths(lengths, T, B, x)
    tmask = (xp.astype(sequence_mask(lengths, T), x.dtype)[..., None] if lengths is not None
             else None)
    subs = [subparams(params, f"l{l}.") for l in range(L)]
    sizes_h = [_layer_H(sub, c, bidirectional, l) for l, sub in enumerate(subs)]
    sizes_in = [x.shape[-1]] + [2 * h if bidirectional and merge == "concat" else h
                                for h in sizes_h[:-1]]
    if masks is None:
        masks = {}
        if dropout > 0 or recurrent_dropout > 0:
            masks = _draw_masks(L, T, B, sizes_in, sizes_h, bidirectional, dropout,
                                recurrent_dropout, variational, seed, x)
    else:
        masks = _check_masks(masks, L, bidirectional)
    inp, caches, states, res = x, [], [], []
    for l in range(L):
        m_in = masks.get(f"l{l}.in")
        u = inp if m_in is None else inp * (m_in[None, ...] if m_in.ndim == 2 else m_in)
        if bidirectional:
            hm = (masks.get(f"l{l}.fw.h"), masks.get(f"l{l}.bw.h"))
            y, st, cl = bidirectional_forward(u, subs[l], state0[l], lengths, cell=c,
                                              merge=merge, activation=activation, h_masks=hm)
        else:
            y, st, cl = recurrent_forward(u, subs[l], state0[l], lengths, cell=c,
                                          activation=activation, return_state=True,
                                          h_mask=masks.get(f"l{l}.h"))
        use_res = residual and y.shape[-1] == inp.shape[-1]
        if use_res:
            y = y + (inp if tmask is None else inp * tmask)
        caches.append(cl)
        states.append(st)
        res.append(use_res)
        inp = y
    cache = {"layer": "stacked", "caches": caches, "masks": masks, "residual": res,
             "tmask": tmask, "bidirectional": bidirectional, "L": L}
    return inp, states, cache


def stacked_backward(dy, cache, dstate_T=None):
    """Backward of :func:`stacked_forward`: ``(dx, dstate0, grads)``.

    ``dy`` (T, B, F), the gradient of the top layer's outputs (``None`` when only
    states reach the loss); ``dstate_T`` (optional): a list with one entry per
    layer, the gradient of that layer's returned final state (``None`` entries
    for none). ``dstate0`` is a list with each layer's initial-state gradient.
    """
    if not (isinstance(cache, dict) and cache.get("layer") == "stacked"):
        raise TypeError("cache must be the last value returned by stacked_forward")
    L = cache["L"]
    if dstate_T is not None and (not isinstance(dstate_T, (list, tuple)) or len(dstate_T) != L):
        raise ValueError(f"dstate_T must be a list with one entry per layer ({L}), received "
                         f"{type(dstate_T).__name__}"
                         + (f" of length {len(dstate_T)}" if isinstance(dstate_T, (list, tuple))
                            else ""))
    grads, d, d0 = {}, dy, [None] * L
    for l in range(L - 1, -1, -1):
        ds = None if dstate_T is None else dstate_T[l]
        if d is None and ds is None:
            ref = (cache["caches"][l]["fw"] if cache["bidirectional"] else
                   cache["caches"][l])["inner"].states[0]
            width = ref.shape[-1] * (2 if cache["bidirectional"] and
                                     cache["caches"][l]["merge"] == "concat" else 1)
            xp = namespace(ref)
            d = xp.zeros(ref.shape[:2] + (width,), dtype=ref.dtype, device=device_of(ref))
        if cache["bidirectional"]:
            dx, d0[l], g = bidirectional_backward(d, cache["caches"][l], dstate_T=ds)
        else:
            dx, d0[l], g = recurrent_backward(d, cache["caches"][l], dstate_T=ds)
        grads.update(with_prefix(f"l{l}.", g))
        m_in = cache["masks"].get(f"l{l}.in")
        if m_in is not None:
            dx = dx * (m_in[None, ...] if m_in.ndim == 2 else m_in)
        if cache["residual"][l] and d is not None:
            tm = cache["tmask"]
            dx = dx + (d if tm is None else d * tm)
        d = dx
    return d, d0, grads
