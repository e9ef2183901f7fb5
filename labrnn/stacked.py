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
* Each layer may be **bidirectional** (:mod:`labrnn.bidirectional`).

Masks are drawn on the host from ``seed`` (:func:`dropout_mask`), or passed in
``masks`` (a dict keyed ``"l1.in"``, ``"l0.h"``, ``"l0.fw.h"``, ...) to
repeat a pass exactly, e.g. in a gradient check; the masks used are returned
in ``cache["masks"]``. Parameters are one flat dict (:mod:`labrnn.paramtree`):
layer ``l``'s under ``"l{l}."`` (then ``"fw."`` / ``"bw."`` if bidirectional).
Initial states are zero.
"""

from __future__ import annotations

from .backend import from_numpy, host_rng, namespace
from .bidirectional import bidirectional_backward, bidirectional_forward, init_bidirectional
from .cells import init_cell
from .masking import check_lengths, sequence_mask
from .paramtree import subparams, with_prefix
from .recurrent import recurrent_backward, recurrent_forward

__all__ = ["init_stacked", "dropout_mask", "stacked_forward", "stacked_backward",
           "count_layers"]


def init_stacked(cell, D, H, layers, bidirectional=False, merge="concat", seed=0, xp=None,
                 device=None, dtype="float64", **init_kw):
    """Parameters of a ``layers``-deep stack; ``H`` an int or one size per layer.

    Layer ``l`` reads ``D`` features (``l = 0``) or the previous layer's
    output size (``H``, or ``2H`` for a bidirectional layer with ``merge="concat"``).
    """
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
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must lie in [0, 1), received {p}")
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


def _hidden_size(p, cell):
    return p["W_hh"].shape[0] if cell == "elman" else p["W_h"].shape[1]


def stacked_forward(x, params, *, cell="elman", bidirectional=False, merge="concat",
                    lengths=None, activation="tanh", dropout=0.0, recurrent_dropout=0.0,
                    variational=False, residual=False, seed=None, masks=None,
                    return_state=False):
    """Run a stack of recurrent layers over ``x`` (T, B, D) (equation ``deep-stack``).

    Returns ``(y, cache)`` or, with ``return_state=True``, ``(y, states, cache)``:
    ``y`` the top layer's outputs ``(T, B, F)``, ``states`` a list with each
    layer's final state (a pair ``(fw, bw)`` for bidirectional layers).
    ``cache["masks"]`` holds the dropout masks used. See the module docstring
    for ``dropout``, ``recurrent_dropout``, ``variational``, ``residual``.
    """
    xp = namespace(x)
    L = count_layers(params)
    T, B = x.shape[0], x.shape[1]
    if lengths is not None:
        lengths = check_lengths(lengths, T, B, x)
    tmask = (xp.astype(sequence_mask(lengths, T), x.dtype)[..., None] if lengths is not None
             else None)
    subs = [subparams(params, f"l{l}.") for l in range(L)]
    sizes_h = [_hidden_size(subparams(s, "fw.") if bidirectional else s, cell) for s in subs]
    sizes_in = [x.shape[-1]] + [2 * h if bidirectional and merge == "concat" else h
                                for h in sizes_h[:-1]]
    if masks is None:
        masks = {}
        if dropout > 0 or recurrent_dropout > 0:
            masks = _draw_masks(L, T, B, sizes_in, sizes_h, bidirectional, dropout,
                                recurrent_dropout, variational, seed, x)
    inp, caches, states, res = x, [], [], []
    for l in range(L):
        m_in = masks.get(f"l{l}.in")
        u = inp if m_in is None else inp * (m_in[None, ...] if m_in.ndim == 2 else m_in)
        if bidirectional:
            hm = (masks.get(f"l{l}.fw.h"), masks.get(f"l{l}.bw.h"))
            y, st, c = bidirectional_forward(u, subs[l], cell=cell, lengths=lengths,
                                             merge=merge, activation=activation,
                                             return_state=True, h_masks=hm)
        else:
            y, st, c = recurrent_forward(u, subs[l], None, activation, cell=cell,
                                         lengths=lengths, return_state=True,
                                         h_mask=masks.get(f"l{l}.h"))
        use_res = bool(residual) and y.shape[-1] == inp.shape[-1]
        if use_res:
            y = y + (inp if tmask is None else inp * tmask)
        caches.append(c)
        states.append(st)
        res.append(use_res)
        inp = y
    cache = {"layer": "stacked", "caches": caches, "masks": masks, "residual": res,
             "tmask": tmask, "bidirectional": bidirectional, "L": L}
    if return_state:
        return inp, states, cache
    return inp, cache


def stacked_backward(dy, cache, dstates=None):
    """Backward of :func:`stacked_forward`: ``dy`` (T, B, F) -> ``(dx, grads)``.

    ``dstates`` (optional): a list with one entry per layer, the gradient of
    that layer's returned final state (``None`` entries for none).
    """
    if not (isinstance(cache, dict) and cache.get("layer") == "stacked"):
        raise TypeError("cache must be the last value returned by stacked_forward")
    L = cache["L"]
    if dstates is not None and len(dstates) != L:
        raise ValueError(f"dstates must have one entry per layer ({L}), received {len(dstates)}")
    grads, d = {}, dy
    for l in range(L - 1, -1, -1):
        ds = None if dstates is None else dstates[l]
        if cache["bidirectional"]:
            dx, _, g = bidirectional_backward(d, cache["caches"][l], dstate=ds)
        else:
            dx, _, g = recurrent_backward(d, cache["caches"][l], dstate=ds)
        grads.update(with_prefix(f"l{l}.", g))
        m_in = cache["masks"].get(f"l{l}.in")
        if m_in is not None:
            dx = dx * (m_in[None, ...] if m_in.ndim == 2 else m_in)
        if cache["residual"][l]:
            tm = cache["tmask"]
            dx = dx + (d if tm is None else d * tm)
        d = dx
    return d, grads
