"""One-to-many generation: a decoder that spells a sequence from one vector (book chapter 19).

The decoder of chapter 10 alone, started from an encoding of a single input
vector ``v`` (an image, a set of parameters) instead of an encoder's final
state, equation ``vec2seq``::

    s_0 = tanh(W_enc v + b_enc)                       the encoding is the initial state
    s_t = cell(emb(y_{t-1}), s_{t-1})                 y_0 = BOS
    p(y_t | y_<t, v) = softmax(W_out s_t + b_out)

and trained by teacher forcing on the masked mean cross-entropy of the
target tokens (each target ends with EOS; padding after it is ignored).
For the pair-state cells (``"lstm"``, ``"lnlstm"``) the encoding is ``h_0``
and ``c_0 = 0``. The free-running decoder, :func:`make_step_fn`, plugs into
:func:`labrnn.models.decoding.greedy_decode`, ``beam_search`` and ``sample_decode``.

Parameters are one flat dict: ``enc.W (H, D)``, ``enc.b (H,)``,
``emb.E (V, E)``, ``dec.*`` (a cell ``E -> H``, :func:`labrnn.cells.init_cell`),
``out.W (V, H)``, ``out.b (V,)``. Shapes: ``v (B, D)``; targets ``tgt (T, B)``
integer token ids, time-major.
"""

from __future__ import annotations

import numpy as np

from ..layers.activations import log_softmax
from ..backend import device_of, from_numpy, host_rng, namespace, to_numpy
from ..cells import cell_backward, cell_forward, get_cell, init_cell
from ..layers.embedding import embedding_backward, embedding_forward, init_embedding
from ..errors import ShapeError
from ..layers.init import glorot_uniform
from ..layers.affine import affine_backward, affine_forward
from ..training.losses import softmax_cross_entropy
from ..layers.masking import sequence_mask
from .recurrent import recurrent_forward
from ..validate import check_float, check_shape

__all__ = ["init_vec2seq", "vec2seq_encode", "vec2seq_forward", "vec2seq_backward",
           "vec2seq_loss", "make_step_fn", "sequence_log_probs"]


def _check_cell(cell):
    return get_cell(cell)


def init_vec2seq(D, V, E, H, cell="gru", seed=0, xp=None, device=None, dtype="float64"):
    """Parameters of a vector-to-sequence decoder (keys in the module docstring).

    ``D`` input features, ``V`` output tokens (BOS and EOS included), ``E``
    embedding size, ``H`` state size. Drawn on the host from ``seed``.
    """
    _check_cell(cell)
    kw = dict(xp=xp, device=device, dtype=dtype)
    rng = host_rng([seed, 0])
    p = {"enc.W": from_numpy(glorot_uniform((H, D), rng), **kw),
         "enc.b": from_numpy(np.zeros(H), **kw),
         "emb.E": init_embedding(V, E, seed=[seed, 1], **kw)}
    p.update({f"dec.{k}": a for k, a in init_cell(cell, E, H, seed=[seed, 2], **kw).items()})
    rng = host_rng([seed, 3])
    p["out.W"] = from_numpy(glorot_uniform((V, H), rng), **kw)
    p["out.b"] = from_numpy(np.zeros(V), **kw)
    return p


def _dec(params):
    return {k[4:]: a for k, a in params.items() if k.startswith("dec.")}


def _state(cell, h0):
    """The state tuple that starts from ``h0``: ``(h0,)``, or ``(h0, 0)`` for a pair-state cell."""
    rest = tuple(namespace(h0).zeros_like(h0) for _ in get_cell(cell).state_names[1:])
    return (h0,) + rest


def vec2seq_encode(v, params, cell="gru"):
    """The decoder's initial state from ``v`` (B, D): ``(tanh(W_enc v + b_enc),)`` (B, H)
    (the pair ``(h_0, 0)`` for the LSTMs). Returns ``(state, cache)``."""
    _check_cell(cell)
    W = params["enc.W"]
    xp = namespace(v, W, names=["v", "params['enc.W']"])
    check_float("v", v, W.dtype)
    check_shape("v", v, (("B", None), ("D", W.shape[1])))
    a, acache = affine_forward(v, W, params["enc.b"])
    h0 = xp.tanh(a)
    return _state(cell, h0), (acache, h0)


def vec2seq_forward(v, tgt_in, params, cell="gru"):
    """Teacher-forced logits ``(T, B, V)`` for decoder inputs ``tgt_in`` (T, B) (BOS first).

    Returns ``(logits, cache)``.
    """
    state0, ecache = vec2seq_encode(v, params, cell)
    ids = tgt_in if not isinstance(tgt_in, (list, tuple, np.ndarray)) else \
        from_numpy(np.asarray(tgt_in), like=params["emb.E"])
    if ids.ndim != 2 or ids.shape[1] != v.shape[0]:
        raise ShapeError(f"tgt_in must have shape (T, B={v.shape[0]}) of token ids, received "
                         f"{tuple(ids.shape)}")
    x, emb_cache = embedding_forward(ids, params["emb.E"])
    h, _, dcache = cell_forward(cell, x, _dec(params), state0)
    logits, ocache = affine_forward(h, params["out.W"], params["out.b"])
    return logits, {"cell": cell, "enc": ecache, "emb": emb_cache, "dec": dcache, "out": ocache}


def vec2seq_backward(dlogits, cache):
    """Backward of :func:`vec2seq_forward`: ``dlogits`` (T, B, V) -> ``(dv, grads)``."""
    dh, dW, db = affine_backward(dlogits, cache["out"])
    dx, dstate0, gdec = cell_backward(dh, cache["dec"])
    grads = {"out.W": dW, "out.b": db, "emb.E": embedding_backward(dx, cache["emb"])}
    grads.update({f"dec.{k}": g for k, g in gdec.items()})
    dh0 = dstate0[0]
    acache, h0 = cache["enc"]
    dv, grads["enc.W"], grads["enc.b"] = affine_backward(dh0 * (1.0 - h0 * h0), acache)
    return dv, grads


def _shift(tgt, bos):
    xp = namespace(tgt)
    first = xp.full((1, tgt.shape[1]), bos, dtype=tgt.dtype, device=device_of(tgt))
    return xp.concat([first, tgt[:-1, ...]], axis=0)


def vec2seq_loss(v, tgt, params, bos, cell="gru", tgt_lengths=None):
    """Masked mean cross-entropy of targets ``tgt`` (T, B) (each ending with EOS at
    ``tgt_lengths[b] - 1``) and its gradients. Returns ``(loss, grads, logits)``."""
    E = params["emb.E"]
    if isinstance(tgt, (list, tuple, np.ndarray)):
        tgt = from_numpy(np.asarray(tgt), like=E)
    xp = namespace(tgt)
    T, B = tgt.shape
    lengths = [T] * B if tgt_lengths is None else tgt_lengths
    logits, cache = vec2seq_forward(v, _shift(tgt, bos), params, cell)
    if isinstance(lengths, np.ndarray):
        lengths = [int(n) for n in lengths]
    mask = xp.astype(sequence_mask(lengths, T, like=tgt), logits.dtype)
    loss, dlogits = softmax_cross_entropy(logits, tgt, mask)
    _, grads = vec2seq_backward(dlogits, cache)
    return loss, grads, logits


def make_step_fn(params, cell="gru"):
    """The decoder as ``step_fn(state, token) -> (log_probs (B, V), state)`` for
    :mod:`labrnn.models.decoding`; start from the state of :func:`vec2seq_encode` (B = 1)."""
    _check_cell(cell)
    dec, E = _dec(params), params["emb.E"]

    def step_fn(state, token):
        B = state[0].shape[0]
        ids = from_numpy(np.full((B,), int(token), dtype=np.int64), like=E) \
            if isinstance(token, (int, np.integer)) else token
        x, _ = embedding_forward(ids[None, :], E)
        out, new, _ = recurrent_forward(x, dec, state, cell=cell, return_state=True)
        logits, _ = affine_forward(out[-1, ...], params["out.W"], params["out.b"])
        return log_softmax(logits), new

    return step_fn


def sequence_log_probs(v, seqs, params, bos, cell="gru"):
    """``log p(y | v)`` of each candidate sequence for each input: (B, N) host array.

    ``v`` (B, D); ``seqs`` a list of N token sequences (each ending with EOS).
    Teacher-forced scoring: the sum over a sequence's tokens of
    ``log p(y_t | y_<t, v)``. With every possible output listed (the ten
    digit names), ``exp`` of a row shows how the decoder's probability mass
    is spread, and what it leaves to sequences not in the list.
    """
    B = v.shape[0]
    out = np.zeros((B, len(seqs)))
    for j, s in enumerate(seqs):
        tgt = np.repeat(np.asarray(s, dtype=np.int64)[:, None], B, axis=1)
        logits, _ = vec2seq_forward(v, _shift(from_numpy(tgt, like=params["emb.E"]), bos),
                                    params, cell)
        lp = np.asarray(to_numpy(log_softmax(logits)))
        out[:, j] = lp[np.arange(len(s))[:, None], np.arange(B)[None, :], tgt].sum(axis=0)
    return out
