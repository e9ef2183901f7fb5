"""Fixed points of a trained recurrent network and their stability (book chapter 20).

With its input held constant at ``x*`` (zero for the flip-flop task), a
recurrent network is an autonomous map ``h_t = F(h_{t-1})``: one step of
its cell. A **fixed point** satisfies ``F(h*) = h*``. Following Sussillo &
Barak (2013) we find them by minimising, from many starting states, the
speed of the map, equation ``fp-speed``::

    q(h) = 1/2 ||F(h) - h||^2,          grad q(h) = (J(h) - I)^T (F(h) - h)

where ``J(h) = dF/dh`` is the Jacobian of one step. ``(J - I)^T r`` needs
no Jacobian: it is one vector-Jacobian product, the cell's own step
backward with upstream gradient ``r`` (BPTT over a single step), minus
``r``. Each fixed point is classified by the eigenvalues of ``J(h*)``
(equation ``fp-linear``, ``h* + d -> h* + J d`` to first order):

* **stable** (an attractor): every ``|lambda| < 1``, nearby states flow in;
* **unstable**: every ``|lambda| > 1``;
* **saddle**: some inside, some outside the unit circle; states flow in
  along the stable directions and out along the others.

Shapes: states ``h`` (B, H), one row per starting point; ``x`` (D,) or
(B, D). Supported cells: ``"elman"`` (any activation) and ``"gru"``, whose
state is the single array ``h``; the parameters are those of
:func:`labrnn.init_cell` (an output layer's extra keys are ignored). The
search and the Jacobian run on any array library; eigenvalues and the
clustering of :func:`unique_points` are computed on the host (NumPy).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ..backend import device_of, from_numpy, namespace, to_numpy
from ..cells import get_cell
from ..errors import ShapeError
from ..validate import check_float, check_shape

__all__ = ["step_map", "fixed_point_loss", "step_jacobian", "find_fixed_points",
           "FixedPoints", "newton_refine", "classify_fixed_point", "unique_points", "pca_project", "STABILITY"]

STABILITY = ("stable", "saddle", "unstable")


def _check_cell(cell):
    c = get_cell(cell)
    if len(c.state_names) != 1:
        raise ValueError(f"fixed points here need a cell whose state is one array h, like "
                         f"'elman' or 'gru'; the state of {c.name!r} is {c.state_names}")
    return c


def _sizes(params, cell):
    _, D, H, _ = cell.check(params)
    return params[cell.recurrent_weight], H, D


def _inputs(h, params, cell, x):
    """Checked ``(xp, h, x (B, D))``: the constant input repeated for every state."""
    W, H, D = _sizes(params, _check_cell(cell))
    xp = namespace(h, W, names=["h", "params"])
    check_float("h", h, W.dtype)
    B, _ = check_shape("h", h, (("B", None), ("H", H)))
    if x is None:
        x = xp.zeros((B, D), dtype=W.dtype, device=device_of(W))
    else:
        if isinstance(x, (list, tuple, np.ndarray)) and not hasattr(x, "__array_namespace__"):
            x = from_numpy(np.asarray(x, dtype=float), like=W)
        namespace(x, W, names=["x", "params"])
        check_float("x", x, W.dtype)
        if x.ndim == 1:
            check_shape("x", x, (("D", D),))
            x = xp.broadcast_to(x[None, :], (B, D))
        else:
            check_shape("x", x, (("B", B), ("D", D)))
    return xp, h, x


def _forward(h, params, cell, x, activation):
    (F,), cache = get_cell(cell).step_forward(x, (h,), params, activation=activation)
    return F, cache


def _vjp(r, cache, cell):
    """``J^T r`` for every row: the step's backward pass with upstream gradient ``r``."""
    return get_cell(cell).step_backward((r,), cache)[1][0]


def step_map(h, params, cell="elman", x=None, activation=None):
    """``F(h)``: one step of ``cell`` from states ``h`` (B, H) with constant input ``x``.

    ``x`` (D,) or (B, D); zeros by default. ``activation`` is the Elman cell's ``f``.
    Returns (B, H).
    """
    xp, h, x = _inputs(h, params, cell, x)
    return _forward(h, params, cell, x, activation)[0]


def fixed_point_loss(h, params, cell="elman", x=None, activation=None):
    """The speed ``q(h)`` of equation ``fp-speed`` and its gradient, for every row of ``h``.

    Returns ``(q, dq)``: ``q`` (B,) ``= 1/2 ||F(h) - h||^2`` per state and
    ``dq`` (B, H) ``= (J - I)^T (F(h) - h)`` (one vector-Jacobian product).
    """
    xp, h, x = _inputs(h, params, cell, x)
    F, cache = _forward(h, params, cell, x, activation)
    r = F - h
    q = 0.5 * xp.sum(r * r, axis=1)
    return q, _vjp(r, cache, cell) - r


def step_jacobian(h, params, cell="elman", x=None, activation=None):
    """``J(h) = dF/dh`` (H, H) at one state ``h`` (H,) (rows: outputs, columns: inputs).

    Built from ``H`` vector-Jacobian products with the unit vectors:
    ``J^T e_i`` is row ``i`` of ``J``.
    """
    xp0 = namespace(h)
    if h.ndim != 1:
        raise ShapeError(f"h must be one state of shape (H,), received {tuple(h.shape)}")
    H = h.shape[0]
    hb = xp0.broadcast_to(h[None, :], (H, H))
    xp, hb, xb = _inputs(hb, params, cell, x)
    _, cache = _forward(hb, params, cell, xb, activation)
    eye = xp.eye(H, dtype=h.dtype, device=device_of(h))
    return _vjp(eye, cache, cell)


@dataclass
class FixedPoints:
    """What :func:`find_fixed_points` returns (host NumPy arrays).

    ``h`` (B, H): the state each search ended at; ``q`` (B,): its speed
    ``q(h)``; ``converged`` (B,) bool: ``q < tol``; ``q_history``: the
    median ``q`` over the starts at every step (to plot the search).
    """

    h: np.ndarray
    q: np.ndarray
    converged: np.ndarray
    q_history: np.ndarray


def newton_refine(params, h, cell="elman", x=None, activation=None, steps=10):
    """Newton steps on ``F(h) - h = 0`` from each row of ``h`` (B, H), equation ``fp-newton``.

    ``h <- h - (J(h) - I)^{-1} (F(h) - h)``: quadratic convergence near a fixed
    point of any stability (a saddle too, where gradient descent on ``q`` crawls).
    A step is kept only if it lowers that row's ``q``, so a slow point with no
    fixed point nearby stays where it was. ``x`` is one input (D,) or none.
    Returns the refined states (B, H), same library and device.
    """
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, received {steps!r}")
    xp, h, _ = _inputs(h, params, cell, x)
    if steps == 0:
        return h
    H = h.shape[1]
    eye = xp.eye(H, dtype=h.dtype, device=device_of(h))
    rows = []
    for b in range(h.shape[0]):
        hb = h[b:b + 1, ...]
        qb, _ = fixed_point_loss(hb, params, cell, x, activation)
        for _ in range(int(steps)):
            r = step_map(hb, params, cell, x, activation) - hb
            J = step_jacobian(hb[0, ...], params, cell, x, activation)
            d = xp.linalg.solve(J - eye, r[0, ...][:, None])[:, 0]
            cand = hb - d[None, :]
            qc, _ = fixed_point_loss(cand, params, cell, x, activation)
            if not bool(qc[0] < qb[0]):
                break
            hb, qb = cand, qc
        rows.append(hb)
    return xp.concat(rows, axis=0)


def find_fixed_points(params, h0, cell="elman", x=None, activation=None, steps=2000, lr=0.01,
                      decay=0.999, tol=1e-12, newton_steps=0):
    """Minimise ``q(h)`` (equation ``fp-speed``) from every starting state in ``h0`` (B, H).

    Adam (``lr`` decaying by ``decay`` per step, moments per coordinate,
    every start independent) for ``steps`` steps on the sum of the ``q``
    of the starts, which is each start's own ``q`` since they do not
    interact; then ``newton_steps`` guarded Newton steps
    (:func:`newton_refine`). A start has converged when ``q < tol``: a
    fixed point, or a slow point with ``q`` above ``tol`` otherwise
    (Sussillo & Barak 2013). Returns :class:`FixedPoints` on the host.
    """
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, received {steps!r}")
    for name, v, lo, hi in (("lr", lr, 0, np.inf), ("decay", decay, 0, 1), ("tol", tol, 0, np.inf)):
        if not (isinstance(v, numbers.Real) and lo < v <= hi):
            raise ValueError(f"{name} must be a number in ({lo}, {hi}], received {v!r}")
    xp, h, xc = _inputs(h0, params, cell, x)
    m = xp.zeros_like(h)
    v = xp.zeros_like(h)
    b1, b2, eps = 0.9, 0.999, 1e-12
    history = []
    for t in range(1, int(steps) + 1):
        q, g = fixed_point_loss(h, params, cell, xc, activation)
        history.append(float(np.median(to_numpy(q))))
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        step = lr * decay ** (t - 1)
        h = h - step * (m / (1 - b1 ** t)) / (xp.sqrt(v / (1 - b2 ** t)) + eps)
    if newton_steps:
        h = newton_refine(params, h, cell, x, activation, newton_steps)
    q, _ = fixed_point_loss(h, params, cell, xc, activation)
    qh = to_numpy(q)
    return FixedPoints(np.asarray(to_numpy(h)), qh, qh < tol, np.asarray(history))


def classify_fixed_point(J, tol=0.0):
    """Stability of a fixed point of a map from its Jacobian ``J`` (H, H), equation ``fp-linear``.

    Returns ``(kind, eigenvalues)``: ``"stable"`` if every ``|lambda| < 1 - tol``,
    ``"unstable"`` if every ``|lambda| > 1 + tol``, else ``"saddle"``; the
    eigenvalues (host, complex) sorted by decreasing modulus.
    """
    Jn = np.asarray(to_numpy(J), dtype=float)
    if Jn.ndim != 2 or Jn.shape[0] != Jn.shape[1]:
        raise ShapeError(f"J must be a square matrix (H, H), received shape {Jn.shape}")
    lam = np.linalg.eigvals(Jn)
    lam = lam[np.argsort(-np.abs(lam), kind="stable")]
    mod = np.abs(lam)
    if np.all(mod < 1 - tol):
        kind = "stable"
    elif np.all(mod > 1 + tol):
        kind = "unstable"
    else:
        kind = "saddle"
    return kind, lam


def unique_points(points, tol):
    """Cluster points closer than ``tol`` (Euclidean): ``(representatives, labels)``.

    Greedy and deterministic: each point joins the first representative
    within ``tol``, else becomes a new one. ``points`` (N, H);
    ``representatives`` (M, H) host array; ``labels`` (N,) ints in ``[0, M)``.
    """
    P = np.asarray(to_numpy(points), dtype=float)
    if P.ndim != 2:
        raise ShapeError(f"points must have shape (N, H), received {P.shape}")
    if not (isinstance(tol, numbers.Real) and tol > 0):
        raise ValueError(f"tol must be a positive distance, received {tol!r}")
    reps, labels = [], np.empty(len(P), dtype=np.int64)
    for i, p in enumerate(P):
        for j, r in enumerate(reps):
            if np.linalg.norm(p - r) < tol:
                labels[i] = j
                break
        else:
            labels[i] = len(reps)
            reps.append(p)
    return np.asarray(reps).reshape(len(reps), P.shape[1]), labels


def pca_project(X, k=2, fit=None):
    """Project the rows of ``X`` (N, H) on the ``k`` leading principal components.

    The components are fitted on ``fit`` (M, H) (default ``X`` itself): its
    mean is removed and the right singular vectors of the centred data are
    the directions, signs fixed so that each direction's largest entry is
    positive. Returns ``(Z (N, k), components (k, H), mean (H,))`` on the host.
    """
    Xn = np.asarray(to_numpy(X), dtype=float)
    Fn = Xn if fit is None else np.asarray(to_numpy(fit), dtype=float)
    if Xn.ndim != 2 or Fn.ndim != 2 or Fn.shape[1] != Xn.shape[1]:
        raise ShapeError(f"X and fit must have shapes (N, H) and (M, H) with the same H, "
                         f"received {Xn.shape} and {Fn.shape}")
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= min(Fn.shape):
        raise ValueError(f"k must be an integer in [1, {min(Fn.shape)}], received {k!r}")
    mean = Fn.mean(axis=0)
    _, _, Vt = np.linalg.svd(Fn - mean, full_matrices=False)
    comps = Vt[:k]
    big = np.argmax(np.abs(comps), axis=1)
    comps = comps * np.sign(comps[np.arange(k), big])[:, None]
    return (Xn - mean) @ comps.T, comps, mean
