"""Connectionist temporal classification: loss, gradient and decoding (book chapter 18).

A network reads ``T`` frames and emits at every frame a distribution over ``C``
classes: the ``C - 1`` labels and one extra *blank* (index ``blank``, 0 by
default). A *path* ``pi`` (one class per frame) maps to a labelling by the
collapse ``B``: merge runs of equal classes, then drop blanks
(``B(a a - a b b -) = a a b``, equation ``ctc-collapse``). The probability of a
labelling ``l`` sums over every path that collapses to it, equation ``ctc-prob``::

    p(l | x) = sum_{pi : B(pi) = l} prod_t y_t(pi_t)

and the loss is ``-log p(l | x)``. The sum is computed by dynamic programming over
the *extended* labelling ``l' = (-, l_1, -, l_2, ..., l_S, -)`` of length
``2S + 1`` (equation ``ctc-extended``), in log space (no underflow for long
inputs). Forward variables, equation ``ctc-alpha``::

    alpha_1(1) = y_1(-),   alpha_1(2) = y_1(l_1),   alpha_1(s) = 0 for s > 2
    alpha_t(s) = y_t(l'_s) * (alpha_{t-1}(s) + alpha_{t-1}(s-1) [+ alpha_{t-1}(s-2)])

where the skip term ``alpha_{t-1}(s-2)`` is allowed only when ``l'_s`` is a label
that differs from ``l'_{s-2}`` (a repeated label needs a blank between its copies).
Backward variables ``beta_t(s)`` (equation ``ctc-beta``) run the same recursion from
the end and also include ``y_t(l'_s)``. Then ``p(l|x) = alpha_T(S') + alpha_T(S'-1)``
(``S' = 2S + 1``, equation ``ctc-loss``) and, for every ``t``,
``p(l|x) = sum_s alpha_t(s) beta_t(s) / y_t(l'_s)``.

Gradient with respect to the unnormalised scores ``z`` (logits) when
``y_t = softmax(z_t)``, equation ``ctc-grad``::

    dL/dz_t(k) = y_t(k) - (1 / p(l|x)) * sum_{s : l'_s = k} alpha_t(s) beta_t(s) / y_t(l'_s)

the softmax minus the occupancy ``gamma_t(k)`` (the posterior probability that the
path is in class ``k`` at frame ``t``).

The batched functions follow :func:`torch.nn.functional.ctc_loss`:
``log_probs`` ``(T, B, C)`` (time-major, log-softmax outputs), ``targets`` either
padded ``(B, S)`` or concatenated 1-d (``sum(target_lengths)``), ``input_lengths``
and ``target_lengths`` ``(B,)`` integers (arrays, lists or tuples), ``blank`` and
``reduction`` (``"mean"``: each loss divided by its target length, then averaged
over the batch; ``"sum"``; ``"none"``: the ``(B,)`` losses). A target that needs
more frames than its input has (``S`` labels plus one blank between every pair of
equal neighbours) has probability zero, an infinite loss: by default this raises a
``ValueError`` naming the sequence; with ``zero_infinity=True`` its loss and its
gradient are set to zero, as PyTorch's option does.

Decoding: :func:`ctc_greedy_decode` (best path: the most likely class per frame,
collapsed) and :func:`ctc_prefix_beam_search` (equation ``ctc-prefix``: a beam of
labelling prefixes, each with the probability of ending in a blank and in a
non-blank, so that paths collapsing to the same prefix are merged).
:func:`ctc_brute_force` and :func:`ctc_exhaustive_decode` enumerate every path; they
are exponential in ``T`` and exist to check the others on tiny inputs.
"""

from __future__ import annotations

import itertools
import math
import numbers

import numpy as np

from ..layers.activations import log_softmax
from ..backend import device_of, from_numpy, namespace, to_numpy
from ..errors import DTypeError, ShapeError
from ..validate import check_float, check_shape

__all__ = ["REDUCTIONS", "collapse", "extend_labels", "ctc_alpha", "ctc_beta", "ctc_loss",
           "ctc_loss_and_grad", "ctc_brute_force", "ctc_greedy_decode",
           "ctc_prefix_beam_search", "ctc_exhaustive_decode", "edit_distance"]

REDUCTIONS = ("mean", "sum", "none")


# ---------------------------------------------------------------- small helpers (host side)

def collapse(path, blank=0):
    """The many-to-one map ``B`` (equation ``ctc-collapse``): merge repeats, then drop blanks.

    ``path`` is a sequence of class indices (any iterable of ints or a 1-d array);
    returns a tuple of ints. ``collapse([1, 1, 0, 1, 2, 2, 0]) == (1, 1, 2)``.
    """
    out, prev = [], None
    for c in (int(v) for v in np.asarray(to_numpy(path)).reshape(-1)):
        if c != prev and c != blank:
            out.append(c)
        prev = c
    return tuple(out)


def extend_labels(target, blank=0):
    """The extended labelling ``l' = (-, l_1, -, l_2, ..., l_S, -)`` (equation ``ctc-extended``).

    ``target`` is a 1-d sequence of ``S`` labels; returns a NumPy int64 array of
    length ``2S + 1`` (blanks at even positions).
    """
    t = np.asarray(to_numpy(target)).reshape(-1).astype(np.int64)
    ext = np.full(2 * t.size + 1, blank, dtype=np.int64)
    ext[1::2] = t
    return ext


def _min_frames(target):
    """Frames a target needs: its length plus one blank between each pair of equal neighbours."""
    t = np.asarray(target).reshape(-1)
    return int(t.size + np.count_nonzero(t[1:] == t[:-1]))


def _check_blank(blank, C):
    if isinstance(blank, bool) or not isinstance(blank, numbers.Integral) or not 0 <= blank < C:
        raise ValueError(f"blank must be an integer class index in [0, C={C}), received {blank!r}")
    return int(blank)


def _host_ints(name, value, expected):
    """Lengths and targets are read on the host (they steer Python loops); must be integers."""
    if isinstance(value, (list, tuple)) or isinstance(value, numbers.Number):
        host = np.asarray(value)
        if value == [] or value == ():
            host = host.astype(np.int64)
    else:
        try:
            xp = namespace(value, names=[name])
        except (TypeError, ValueError) as exc:
            raise DTypeError(f"{name} must be an integer array or a list of ints, received "
                             f"{type(value).__name__}") from exc
        if not xp.isdtype(value.dtype, "integral"):
            raise DTypeError(f"{name} must hold integers, received dtype {value.dtype}; "
                             f"expected {expected}")
        host = to_numpy(value)
    if host.dtype == object or not np.issubdtype(host.dtype, np.integer):
        raise DTypeError(f"{name} must hold integers, received dtype {host.dtype}; "
                         f"expected {expected}")
    return host.astype(np.int64)


def _check_log_probs(log_probs, name="log_probs", ndim=3):
    check_float(name, log_probs)
    xp = namespace(log_probs)
    syms = (("T", None), ("B", None), ("C", None)) if ndim == 3 else (("T", None), ("C", None))
    shape = check_shape(name, log_probs, syms)
    if shape[0] == 0:
        raise ShapeError(f"{name} is empty along axis 0 (T=0): CTC needs at least one frame")
    if bool(xp.any(xp.isnan(log_probs))) or bool(xp.any(log_probs == math.inf)):
        raise ValueError(f"{name} contains NaN or +inf; it must hold log-probabilities "
                         "(e.g. labrnn.log_softmax(logits)): finite values or -inf")
    return shape


def _prepare(log_probs, targets, input_lengths, target_lengths, blank, name="log_probs"):
    """Validate a batch; return host arrays ``(il, tl, tg_list)`` and the shape."""
    T, B, C = _check_log_probs(log_probs, name)
    blank = _check_blank(blank, C)
    il = _host_ints("input_lengths", input_lengths, f"(B={B},) frame counts")
    tl = _host_ints("target_lengths", target_lengths, f"(B={B},) label counts")
    for nm, arr in (("input_lengths", il), ("target_lengths", tl)):
        if arr.shape != (B,):
            raise ShapeError(f"{nm} must have shape (B={B},), one entry per sequence, received "
                             f"{arr.shape}")
    if (il < 1).any():
        b = int(np.argmax(il < 1))
        raise ValueError(f"input_lengths must be at least 1, found {il[b]} at position {b}")
    if (il > T).any():
        b = int(np.argmax(il > T))
        raise ValueError(f"input_lengths must not exceed T={T} (the frames in {name}), found "
                         f"{il[b]} at position {b}")
    if (tl < 0).any():
        b = int(np.argmax(tl < 0))
        raise ValueError(f"target_lengths must be non-negative, found {tl[b]} at position {b}")
    tg = _host_ints("targets", targets, "padded (B, S) or concatenated (sum(target_lengths),)")
    if tg.ndim == 2:
        if tg.shape[0] != B:
            raise ShapeError(f"targets must have shape (B={B}, S) when padded, received {tg.shape}")
        if (tl > tg.shape[1]).any():
            b = int(np.argmax(tl > tg.shape[1]))
            raise ValueError(f"target_lengths[{b}]={tl[b]} exceeds the padded target width "
                             f"S={tg.shape[1]} of targets {tg.shape}")
        seqs = [tg[b, :tl[b]] for b in range(B)]
    elif tg.ndim == 1:
        if int(tl.sum()) != tg.shape[0]:
            raise ShapeError(f"concatenated targets have {tg.shape[0]} labels but target_lengths "
                             f"sum to {int(tl.sum())}; they must be equal")
        ends = np.cumsum(tl)
        seqs = [tg[e - n:e] for e, n in zip(ends, tl)]
    else:
        raise ShapeError(f"targets must be 1-d (concatenated) or 2-d (B, S) (padded), received "
                         f"shape {tg.shape}")
    for b, s in enumerate(seqs):
        if s.size and ((s < 0).any() or (s >= C).any()):
            raise ValueError(f"targets of sequence {b} must lie in [0, C={C}), found "
                             f"{int(s.min())}..{int(s.max())}")
        if (s == blank).any():
            raise ValueError(f"targets of sequence {b} contain the blank index {blank} at "
                             f"position {int(np.argmax(s == blank))}: the blank is not a label")
    return T, B, C, blank, il, tl, seqs


# ---------------------------------------------------------------- log-space recursions

def _lse(a, b):
    """``log(exp(a) + exp(b))``, stable, -inf where both are -inf."""
    xp = namespace(a)
    return xp.logaddexp(a, b)


def _shift(xp, a, k, fill):
    """``a[..., s - k]`` with ``fill`` for ``s < k`` (shift right along the last axis)."""
    k = min(k, a.shape[-1])
    pad = xp.full(tuple(a.shape[:-1]) + (k,), fill, dtype=a.dtype, device=device_of(a))
    return xp.concat([pad, a[..., :a.shape[-1] - k]], axis=-1)


def _unshift(xp, a, k, fill):
    """``a[..., s + k]`` with ``fill`` for ``s >= L - k`` (shift left)."""
    k = min(k, a.shape[-1])
    pad = xp.full(tuple(a.shape[:-1]) + (k,), fill, dtype=a.dtype, device=device_of(a))
    return xp.concat([a[..., k:], pad], axis=-1)


def _batch_tables(log_probs, seqs, il, blank):
    """Extended labels on the device and the emission table ``e[t, b, s] = log y_t(l'_s)``."""
    xp = namespace(log_probs)
    T, B, C = log_probs.shape
    S = max((s.size for s in seqs), default=0)
    L = 2 * S + 1
    ext = np.full((B, L), blank, dtype=np.int64)
    valid = np.zeros((B, L), dtype=bool)
    skip = np.zeros((B, L), dtype=bool)
    for b, s in enumerate(seqs):
        e = extend_labels(s, blank)
        ext[b, :e.size] = e
        valid[b, :e.size] = True
        skip[b, 2:e.size] = (e[2:] != blank) & (e[2:] != e[:-2])
    flat = (np.arange(B)[:, None] * C + ext).reshape(-1)
    dev = device_of(log_probs)
    idx = from_numpy(flat, xp=xp, device=dev)
    emit = xp.reshape(xp.take(xp.reshape(log_probs, (T, B * C)), idx, axis=1), (T, B, L))
    lengths_ext = np.array([2 * s.size + 1 for s in seqs], dtype=np.int64)
    return (emit, from_numpy(ext, xp=xp, device=dev), from_numpy(valid, xp=xp, device=dev),
            from_numpy(skip, xp=xp, device=dev), lengths_ext)


def _alpha_batch(emit, valid, skip):
    """log alpha (T, B, L) of equation ``ctc-alpha``; padded positions stay -inf."""
    xp = namespace(emit)
    T = emit.shape[0]
    ninf = -math.inf
    neg = xp.full(emit.shape[1:], ninf, dtype=emit.dtype, device=device_of(emit))
    pos = xp.arange(emit.shape[2], device=device_of(emit))
    start = (pos < 2)[None, :] & valid
    a = xp.where(start, emit[0, ...], neg)
    out = [a]
    for t in range(1, T):
        acc = _lse(a, _shift(xp, a, 1, ninf))
        acc = xp.where(skip, _lse(acc, _shift(xp, a, 2, ninf)), acc)
        a = xp.where(valid, acc + emit[t, ...], neg)
        out.append(a)
    return xp.stack(out, axis=0)


def _beta_batch(emit, valid, skip, il, lengths_ext):
    """log beta (T, B, L) of equation ``ctc-beta``, each sequence started at its own last frame."""
    xp = namespace(emit)
    T, B, L = emit.shape
    dev = device_of(emit)
    ninf = -math.inf
    neg = xp.full((B, L), ninf, dtype=emit.dtype, device=dev)
    pos = np.arange(L)[None, :]
    ends = from_numpy((pos >= lengths_ext[:, None] - 2) & (pos < lengths_ext[:, None]),
                      xp=xp, device=dev)
    # skip into s from s + 2 is allowed when l'_{s+2} may be skipped to from s
    skip_back = _unshift(xp, skip, 2, False)
    last = from_numpy(il - 1, xp=xp, device=dev)
    b_ = neg
    out = [None] * T
    for t in range(T - 1, -1, -1):
        acc = _lse(b_, _unshift(xp, b_, 1, ninf))
        acc = xp.where(skip_back, _lse(acc, _unshift(xp, b_, 2, ninf)), acc)
        rec = xp.where(valid, acc + emit[t, ...], neg)
        init = xp.where(ends, emit[t, ...], neg)
        here = (last == t)[:, None]
        after = (last < t)[:, None]
        b_ = xp.where(here, init, xp.where(after, neg, rec))
        out[t] = b_
    return xp.stack(out, axis=0)


def _nll(alpha, il, lengths_ext):
    """``-log(alpha_T(S') + alpha_T(S'-1))`` per sequence (equation ``ctc-loss``), on the device."""
    xp = namespace(alpha)
    T, B, L = alpha.shape
    dev = device_of(alpha)
    flat = xp.reshape(alpha, (T * B * L,))
    b = np.arange(B)
    base = (il - 1) * B * L + b * L
    i_last = from_numpy(base + lengths_ext - 1, xp=xp, device=dev)
    i_prev = from_numpy(base + np.maximum(lengths_ext - 2, 0), xp=xp, device=dev)
    a_last = xp.take(flat, i_last)
    a_prev = xp.take(flat, i_prev)
    single = from_numpy(lengths_ext == 1, xp=xp, device=dev)
    ninf = xp.full((B,), -math.inf, dtype=alpha.dtype, device=dev)
    return -_lse(a_last, xp.where(single, ninf, a_prev))


def _reduce(losses, tl, B, reduction):
    xp = namespace(losses)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return xp.sum(losses)
    div = from_numpy(np.maximum(tl, 1).astype(np.float64), like=losses)
    return xp.sum(losses / div) / B


def _check_reduction(reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {list(REDUCTIONS)}, received {reduction!r}")
    return reduction


def _infinite(losses, il, seqs, zero_infinity, name):
    """Find infinite losses; raise (default) or return a mask of them (``zero_infinity``)."""
    xp = namespace(losses)
    bad = ~xp.isfinite(losses)
    if not bool(xp.any(bad)):
        return None
    if zero_infinity:
        return bad
    b = int(np.argmax(to_numpy(bad)))
    need = _min_frames(seqs[b])
    if need > il[b]:
        why = (f"its target of {seqs[b].size} labels needs at least {need} frames (one blank "
               f"between equal neighbours) but input_lengths[{b}]={il[b]}")
    else:
        why = f"every path of its target has probability 0 under {name} (a -inf entry)"
    raise ValueError(f"the CTC loss of sequence {b} is infinite: {why}. Shorten the target, "
                     "lengthen the input, or pass zero_infinity=True to give such sequences a "
                     "zero loss and gradient")


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """CTC loss ``-log p(l | x)`` of a batch (equations ``ctc-alpha`` and ``ctc-loss``).

    The arguments follow :func:`torch.nn.functional.ctc_loss`.

    Parameters
    ----------
    log_probs : float array (T, B, C)
        Log-probabilities per frame (log-softmax outputs), time-major.
    targets : integer array (B, S) padded, or (sum(target_lengths),) concatenated
        Labels in ``[0, C)``, never ``blank``.
    input_lengths, target_lengths : integer arrays, lists or tuples (B,)
        Frames ``1 <= T_b <= T`` and labels ``S_b >= 0`` of each sequence.
    blank : int
        Index of the blank class.
    reduction : {"mean", "sum", "none"}
        ``"mean"``: each loss over its target length, then the batch mean; ``"sum"``;
        ``"none"``: the ``(B,)`` losses.
    zero_infinity : bool
        ``False`` (default): an infinite loss (a target too long for its input)
        raises ``ValueError`` naming the sequence. ``True``: such losses are 0.

    Returns
    -------
    A 0-d array (or ``(B,)`` for ``"none"``) on ``log_probs``' device.
    """
    reduction = _check_reduction(reduction)
    T, B, C, blank, il, tl, seqs = _prepare(log_probs, targets, input_lengths, target_lengths,
                                            blank)
    emit, _, valid, skip, lext = _batch_tables(log_probs, seqs, il, blank)
    alpha = _alpha_batch(emit, valid, skip)
    losses = _nll(alpha, il, lext)
    bad = _infinite(losses, il, seqs, zero_infinity, "log_probs")
    if bad is not None:
        xp = namespace(losses)
        losses = xp.where(bad, xp.zeros_like(losses), losses)
    return _reduce(losses, tl, B, reduction)


def ctc_loss_and_grad(logits, targets, input_lengths, target_lengths, blank=0, reduction="mean",
                      zero_infinity=False):
    """CTC loss of ``log_softmax(logits)`` and its gradient w.r.t. ``logits`` (equation ``ctc-grad``).

    What training uses: ``logits`` (T, B, C) are the network's unnormalised
    scores; the gradient is, per sequence, ``softmax(z_t) - gamma_t`` with the
    occupancy ``gamma_t(k) = sum_{s: l'_s = k} exp(log alpha_t(s) + log beta_t(s)
    - log y_t(l'_s) + loss)``, zero at padded frames ``t >= T_b``, scaled as the
    ``reduction`` scales the loss. Other arguments as for :func:`ctc_loss`.

    Returns ``(loss, dlogits)``: ``loss`` as :func:`ctc_loss` returns it, ``dlogits``
    (T, B, C).
    """
    reduction = _check_reduction(reduction)
    _check_log_probs(logits, "logits")
    xp = namespace(logits)
    lp = log_softmax(logits, axis=-1)
    T, B, C, blank, il, tl, seqs = _prepare(lp, targets, input_lengths, target_lengths, blank,
                                            name="logits")
    emit, ext, valid, skip, lext = _batch_tables(lp, seqs, il, blank)
    alpha = _alpha_batch(emit, valid, skip)
    beta = _beta_batch(emit, valid, skip, il, lext)
    losses = _nll(alpha, il, lext)
    bad = _infinite(losses, il, seqs, zero_infinity, "log_softmax(logits)")
    dev = device_of(logits)
    zero_l = xp.zeros_like(losses)
    safe = losses if bad is None else xp.where(bad, zero_l, losses)
    # occupancy of each extended position, then summed into its class
    log_occ = alpha + beta - emit + safe[None, :, None]
    keep = valid[None, ...] if bad is None else valid[None, ...] & ~bad[None, :, None]
    occ = xp.where(keep, xp.exp(log_occ), xp.zeros_like(log_occ))                  # (T, B, L)
    onehot = xp.astype(ext[..., None] == xp.arange(C, device=dev)[None, None, :], logits.dtype)
    gamma = xp.permute_dims(xp.matmul(xp.permute_dims(occ, (1, 0, 2)), onehot), (1, 0, 2))
    mask = xp.astype(xp.arange(T, device=dev)[:, None] < from_numpy(il, xp=xp, device=dev)[None, :],
                     logits.dtype)                                                 # (T, B)
    scale = np.ones(B)
    if reduction == "mean":
        scale = 1.0 / (np.maximum(tl, 1) * B)
    if bad is not None:
        scale = scale * (1.0 - to_numpy(bad).astype(np.float64))
    w = mask * from_numpy(scale, like=logits)[None, :]
    dlogits = (xp.exp(lp) - gamma) * w[..., None]
    return _reduce(safe, tl, B, reduction), dlogits


def _single(log_probs, target, blank):
    T, C = _check_log_probs(log_probs, "log_probs", ndim=2)
    blank = _check_blank(blank, C)
    tg = _host_ints("target", target, "a 1-d sequence of labels")
    if tg.ndim != 1:
        raise ShapeError(f"target must be 1-d (one sequence of S labels), received shape {tg.shape}")
    if tg.size and ((tg < 0).any() or (tg >= C).any()):
        raise ValueError(f"target must lie in [0, C={C}), found {int(tg.min())}..{int(tg.max())}")
    if (tg == blank).any():
        raise ValueError(f"target contains the blank index {blank} at position "
                         f"{int(np.argmax(tg == blank))}: the blank is not a label")
    xp = namespace(log_probs)
    lp3 = xp.reshape(log_probs, (T, 1, C))
    il = np.array([T])
    return lp3, [tg], il, blank


def ctc_alpha(log_probs, target, blank=0):
    """Log forward variables ``log alpha_t(s)`` of ONE sequence (equation ``ctc-alpha``).

    ``log_probs`` (T, C) log-probabilities of one sequence, ``target`` (S,)
    labels (an integer array or a list). Returns ``log alpha`` of shape
    (T, 2S + 1) over the extended labelling of :func:`extend_labels`, on
    ``log_probs``' device; unreachable entries are ``-inf``. The loss is
    ``-logaddexp(alpha[-1, -1], alpha[-1, -2])`` (``-alpha[-1, -1]`` when S = 0).
    """
    lp3, seqs, il, blank = _single(log_probs, target, blank)
    emit, _, valid, skip, _ = _batch_tables(lp3, seqs, il, blank)
    return _alpha_batch(emit, valid, skip)[:, 0, :]


def ctc_beta(log_probs, target, blank=0):
    """Log backward variables ``log beta_t(s)`` of ONE sequence (equation ``ctc-beta``).

    Same arguments and shape as :func:`ctc_alpha`. ``beta_t(s)`` includes the
    emission ``y_t(l'_s)``, so ``alpha_t(s) beta_t(s) / y_t(l'_s)`` is the
    probability of the paths through ``s`` at frame ``t``.
    """
    lp3, seqs, il, blank = _single(log_probs, target, blank)
    emit, _, valid, skip, lext = _batch_tables(lp3, seqs, il, blank)
    return _beta_batch(emit, valid, skip, il, lext)[:, 0, :]


# ---------------------------------------------------------------- brute force (tests, the book)

def _host_log_probs(log_probs, ndim=2):
    _check_log_probs(log_probs, "log_probs", ndim=ndim)
    return np.asarray(to_numpy(log_probs), dtype=np.float64)


def ctc_brute_force(log_probs, target, blank=0, max_paths=2_000_000):
    """``-log p(l|x)`` and the occupancy by enumerating every path (equation ``ctc-prob``).

    For checking on tiny inputs only: ``C**T`` paths (refused beyond
    ``max_paths``). ``log_probs`` (T, C), ``target`` (S,). Returns NumPy
    ``(loss, gamma)`` with ``gamma[t, k]`` the posterior probability that a path
    collapsing to ``target`` is in class ``k`` at frame ``t`` (so the gradient
    w.r.t. the logits is ``softmax - gamma``). The loss is ``inf`` (and gamma
    zeros) when no path collapses to the target.
    """
    lp = _host_log_probs(log_probs)
    T, C = lp.shape
    blank = _check_blank(blank, C)
    tgt = tuple(int(v) for v in np.asarray(to_numpy(target)).reshape(-1))
    if C ** T > max_paths:
        raise ValueError(f"brute force over C**T = {C}**{T} paths exceeds max_paths={max_paths}")
    logs, paths = [], []
    for path in itertools.product(range(C), repeat=T):
        if collapse(path, blank) == tgt:
            paths.append(path)
            logs.append(float(sum(lp[t, k] for t, k in enumerate(path))))
    gamma = np.zeros((T, C))
    if not paths:
        return math.inf, gamma
    logs = np.array(logs)
    m = logs.max()
    w = np.exp(logs - m)
    total = w.sum()
    for path, wi in zip(paths, w):
        gamma[np.arange(T), list(path)] += wi / total
    return float(-(m + math.log(total))), gamma


def ctc_exhaustive_decode(log_probs, blank=0, max_paths=2_000_000):
    """Probability of every labelling by enumerating every path; for checking decoders.

    ``log_probs`` (T, C). Returns a list of ``(labelling, log_prob)`` sorted from
    the most probable down (ties by labelling), over every labelling some path
    collapses to. The first entry is the exact best labelling.
    """
    lp = _host_log_probs(log_probs)
    T, C = lp.shape
    blank = _check_blank(blank, C)
    if C ** T > max_paths:
        raise ValueError(f"exhaustive decoding over C**T = {C}**{T} paths exceeds "
                         f"max_paths={max_paths}")
    acc = {}
    for path in itertools.product(range(C), repeat=T):
        lab = collapse(path, blank)
        v = float(sum(lp[t, k] for t, k in enumerate(path)))
        acc[lab] = np.logaddexp(acc[lab], v) if lab in acc else v
    return sorted(acc.items(), key=lambda kv: (-kv[1], kv[0]))


# ---------------------------------------------------------------- decoding

def ctc_greedy_decode(log_probs, input_lengths=None, blank=0):
    """Best-path decoding: ``collapse(argmax_k y_t(k) for t < T_b)`` per sequence.

    ``log_probs`` (T, B, C) (or (T, C) for one sequence); ``input_lengths``
    (B,) optional (default: all ``T``). Returns a list of ``B`` tuples of labels
    (one tuple for a (T, C) input). The best *path* need not collapse to the
    best *labelling*; :func:`ctc_prefix_beam_search` searches labellings.
    """
    single = getattr(log_probs, "ndim", None) == 2
    if single:
        lp = _host_log_probs(log_probs, ndim=2)[:, None, :]
    else:
        lp = _host_log_probs(log_probs, ndim=3)
    T, B, C = lp.shape
    blank = _check_blank(blank, C)
    if input_lengths is None:
        il = np.full(B, T)
    else:
        il = _host_ints("input_lengths", input_lengths, f"(B={B},) frame counts")
        if il.shape != (B,):
            raise ShapeError(f"input_lengths must have shape (B={B},), received {il.shape}")
        if (il < 1).any() or (il > T).any():
            raise ValueError(f"input_lengths must lie in [1, T={T}], found {il.min()}..{il.max()}")
    best = np.argmax(lp, axis=-1)
    out = [collapse(best[:il[b], b], blank) for b in range(B)]
    return out[0] if single else out


def ctc_prefix_beam_search(log_probs, beam_width=8, blank=0, n_best=1):
    """CTC prefix beam search over labellings of ONE sequence (equation ``ctc-prefix``).

    Keeps, for each labelling prefix ``p``, the log-probabilities ``P_b(p)`` and
    ``P_nb(p)`` that the frames so far collapse to ``p`` with the last frame a
    blank / a non-blank. At each frame, with ``y = y_t``:

    * blank: ``P_b'(p) += (P_b(p) + P_nb(p)) y(-)``;
    * the last label ``c`` of ``p`` again: ``P_nb'(p) += P_nb(p) y(c)`` (a repeat
      collapses) and ``P_nb'(p + c) += P_b(p) y(c)`` (a blank separated them);
    * any other label ``c``: ``P_nb'(p + c) += (P_b(p) + P_nb(p)) y(c)``.

    Paths that collapse to the same prefix add up in one entry (the merging
    that a path-level beam lacks); the ``beam_width`` prefixes with the largest
    ``P_b + P_nb`` survive each frame. A beam at least as wide as the number of
    reachable prefixes is exact. ``log_probs`` (T, C) host or device array.

    Returns a list of the ``n_best`` pairs ``(labelling, log_prob)``, best first.
    """
    lp = _host_log_probs(log_probs)
    T, C = lp.shape
    blank = _check_blank(blank, C)
    for name, v in (("beam_width", beam_width), ("n_best", n_best)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, received {v!r}")
    ninf = -math.inf
    lae = np.logaddexp
    beam = {(): (0.0, ninf)}                       # prefix -> (log P_b, log P_nb)
    for t in range(T):
        y = lp[t]
        nxt = {}

        def add(p, b=ninf, nb=ninf):
            ob, onb = nxt.get(p, (ninf, ninf))
            nxt[p] = (lae(ob, b), lae(onb, nb))

        for p, (pb, pnb) in beam.items():
            tot = lae(pb, pnb)
            add(p, b=tot + y[blank])
            for c in range(C):
                if c == blank:
                    continue
                if p and p[-1] == c:
                    add(p, nb=pnb + y[c])
                    add(p + (c,), nb=pb + y[c])
                else:
                    add(p + (c,), nb=tot + y[c])
        ranked = sorted(nxt.items(), key=lambda kv: (-lae(*kv[1]), kv[0]))
        beam = dict(ranked[:beam_width])
    out = sorted(((p, float(lae(*v))) for p, v in beam.items()), key=lambda kv: (-kv[1], kv[0]))
    return out[:n_best]


def edit_distance(ref, hyp):
    """Levenshtein distance between two sequences (substitutions, insertions, deletions cost 1).

    The digit error rate of chapter 18 is ``sum edit_distance / sum len(ref)``.
    """
    ref, hyp = list(ref), list(hyp)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]
