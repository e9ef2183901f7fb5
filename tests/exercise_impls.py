"""Implementations of the graded-exercise functions, as source text.

One table for three tests: ``test_checks.py`` runs them against the checks in
``labrnn.checks``; the committed sample submissions under ``exercises/samples/submitted/``
were built from them, and ``test_grading_loop.py`` expects the messages listed
here in the autograded notebooks.

* ``SOLUTIONS[func]``: the instructor's solution (the same code as in the source
  notebook); ``ALTERNATIVES[func]``: another correct implementation written
  differently (loop order, vectorisation, in-place), which must pass too.
* ``WRONG[func]``: ``(variant, source, expected message fragment)`` for the
  mistakes students really make.
"""

SOLUTIONS = {
    "rnn_step_forward": '''\
def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):
    a_t = x_t @ W_xh.T + h_prev @ W_hh.T + b_h
    return np.tanh(a_t)
''',
    "rnn_step_backward": '''\
def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh):
    da = dh_t * (1 - h_t**2)
    dx_t = da @ W_xh
    dh_prev = da @ W_hh
    dW_xh = da.T @ x_t
    dW_hh = da.T @ h_prev
    db_h = da.sum(axis=0)
    return dx_t, dh_prev, dW_xh, dW_hh, db_h
''',
    "rnn_backward": '''\
def rnn_backward(dh, x, h0, hs, W_xh, W_hh):
    T = x.shape[0]
    dx = np.zeros_like(x)
    dW_xh, dW_hh, db_h = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])
    dh_next = np.zeros_like(h0)
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else hs[t - 1]
        da = (dh[t] + dh_next) * (1 - hs[t]**2)
        dx[t] = da @ W_xh
        dW_xh += da.T @ x[t]
        dW_hh += da.T @ h_prev
        db_h += da.sum(axis=0)
        dh_next = da @ W_hh
    return dx, dh_next, dW_xh, dW_hh, db_h
''',
    "clip_by_global_norm": '''\
def clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    scale = min(1.0, max_norm / norm)
    return {name: g * scale for name, g in grads.items()}, norm
''',
    "masked_cross_entropy": '''\
def masked_cross_entropy(logits, targets, mask):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    nll = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    count = mask.sum()
    loss = (nll * mask).sum() / count
    onehot = np.eye(logits.shape[-1])[targets]
    dlogits = (np.exp(log_p) - onehot) * (mask / count)[..., None]
    return loss, dlogits
''',
    "sample_char": '''\
def sample_char(logits, temperature, rng):
    if temperature == 0:
        return int(np.argmax(logits))
    z = logits / temperature
    p = np.exp(z - z.max())
    p = p / p.sum()
    return int(rng.choice(len(p), p=p))
''',
    "lstm_step_forward": '''\
def lstm_step_forward(x_t, h_prev, c_prev, W_x, W_h, b):
    H = h_prev.shape[1]
    a = x_t @ W_x.T + h_prev @ W_h.T + b
    i = sigmoid(a[:, 0:H])
    f = sigmoid(a[:, H:2*H])
    g = np.tanh(a[:, 2*H:3*H])
    o = sigmoid(a[:, 3*H:4*H])
    c_t = f * c_prev + i * g
    h_t = o * np.tanh(c_t)
    return h_t, c_t
''',
    "lstm_step_backward": '''\
def lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b):
    H = h_prev.shape[1]
    a = x_t @ W_x.T + h_prev @ W_h.T + b
    i, f, o = sigmoid(a[:, 0:H]), sigmoid(a[:, H:2*H]), sigmoid(a[:, 3*H:4*H])
    g = np.tanh(a[:, 2*H:3*H])
    c_t = f * c_prev + i * g
    tc = np.tanh(c_t)
    dc = dc_t + dh_t * o * (1 - tc**2)
    da_i = dc * g * i * (1 - i)
    da_f = dc * c_prev * f * (1 - f)
    da_g = dc * i * (1 - g**2)
    da_o = dh_t * tc * o * (1 - o)
    da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)
    return da @ W_x, da @ W_h, dc * f, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)
''',
    "gru_step_forward": '''\
def gru_step_forward(x_t, h_prev, W_x, W_h, b, b_hn):
    H = h_prev.shape[1]
    ax = x_t @ W_x.T + b
    ah = h_prev @ W_h.T
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H:2*H] + ah[:, H:2*H])
    n = np.tanh(ax[:, 2*H:] + r * (ah[:, 2*H:] + b_hn))
    return (1 - z) * n + z * h_prev
''',
    "bidirectional_combine": '''\
def bidirectional_combine(h_fw, h_bw_reversed, lengths, merge):
    T, B, H = h_fw.shape
    h_bw = np.zeros_like(h_bw_reversed)
    for b in range(B):
        L = lengths[b]
        h_bw[:L, b] = h_bw_reversed[:L, b][::-1]
    mask = (np.arange(T)[:, None] < lengths[None, :])[..., None]
    if merge == "concat":
        y = np.concatenate([h_fw, h_bw], axis=-1)
    else:
        y = h_fw + h_bw
    return y * mask
''',
    "beam_search": '''\
def beam_search(step_fn, bos, eos, beam_width, max_len, alpha):
    beams = [((bos,), 0.0)]
    finished = []
    for _ in range(max_len):
        candidates = []
        for prefix, logp in beams:
            log_probs = step_fn(prefix)
            for v in range(len(log_probs)):
                candidates.append((prefix + (v,), logp + log_probs[v]))
        candidates.sort(key=lambda c: -c[1])
        beams = []
        for prefix, logp in candidates[:beam_width]:
            if prefix[-1] == eos:
                finished.append((prefix, logp))
            else:
                beams.append((prefix, logp))
        if not beams:
            break
    finished += beams
    scored = [(logp / (len(prefix) - 1) ** alpha, prefix) for prefix, logp in finished]
    score, best = max(scored, key=lambda s: s[0])
    return list(best[1:]), score
''',
    "additive_attention_weights": '''\
def additive_attention_weights(q, keys, W_q, W_k, v, mask):
    e = np.tanh(keys @ W_k.T + q @ W_q.T) @ v
    e = np.where(mask, e, -np.inf)
    e = e - e.max(axis=0, keepdims=True)
    w = np.exp(e)
    return w / w.sum(axis=0, keepdims=True)
''',
}

# Correct, but written differently: explicit loops, einsum, in-place updates.
ALTERNATIVES = {
    "rnn_step_forward": '''\
def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):
    B, H = h_prev.shape
    h = np.empty((B, H))
    for n in range(B):
        for j in range(H):
            h[n, j] = np.tanh(W_xh[j] @ x_t[n] + W_hh[j] @ h_prev[n] + b_h[j])
    return h
''',
    "rnn_step_backward": '''\
def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh):
    da = dh_t.copy()
    da *= 1 - h_t * h_t
    return (np.einsum("bh,hd->bd", da, W_xh), np.einsum("bh,hk->bk", da, W_hh),
            np.einsum("bh,bd->hd", da, x_t), np.einsum("bh,bk->hk", da, h_prev),
            np.einsum("bh->h", da))
''',
    "rnn_backward": '''\
def rnn_backward(dh, x, h0, hs, W_xh, W_hh):
    T = len(x)
    das = [None] * T
    carry = 0.0
    for t in range(T - 1, -1, -1):
        das[t] = (dh[t] + carry) * (1 - hs[t] ** 2)
        carry = das[t] @ W_hh
    da = np.stack(das)
    h_prevs = np.concatenate([h0[None], hs[:-1]])
    return (da @ W_xh, carry, np.einsum("tbh,tbd->hd", da, x),
            np.einsum("tbh,tbk->hk", da, h_prevs), da.sum(axis=(0, 1)))
''',
    "clip_by_global_norm": '''\
def clip_by_global_norm(grads, max_norm):
    total = 0.0
    for g in grads.values():
        total += float(np.vdot(g, g))
    norm = total ** 0.5
    clipped = {}
    for name in grads:
        clipped[name] = grads[name].copy()
        if norm > max_norm:
            clipped[name] *= max_norm / norm        # in place, on a copy
    return clipped, norm
''',
    "masked_cross_entropy": '''\
def masked_cross_entropy(logits, targets, mask):
    T, B, C = logits.shape
    loss, count = 0.0, 0.0
    dlogits = np.zeros_like(logits)
    for t in range(T):
        for n in range(B):
            if mask[t, n]:
                z = logits[t, n] - logits[t, n].max()
                p = np.exp(z) / np.exp(z).sum()
                loss -= np.log(p[targets[t, n]])
                dlogits[t, n] = p
                dlogits[t, n, targets[t, n]] -= 1
                count += 1
    return loss / count, dlogits / count
''',
    "sample_char": '''\
def sample_char(logits, temperature, rng):
    if temperature <= 0:
        return int(logits.argmax())
    p = np.exp((logits - logits.max()) / temperature)
    cdf = np.cumsum(p / p.sum())
    return int(min(np.searchsorted(cdf, rng.random(), side="right"), len(p) - 1))
''',
    "lstm_step_forward": '''\
def lstm_step_forward(x_t, h_prev, c_prev, W_x, W_h, b):
    a = np.concatenate([x_t, h_prev], axis=1) @ np.concatenate([W_x, W_h], axis=1).T + b
    i, f, g, o = np.split(a, 4, axis=1)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_t), c_t
''',
    "lstm_step_backward": '''\
def lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b):
    a = x_t @ W_x.T + h_prev @ W_h.T + b
    i, f, g, o = np.split(a, 4, axis=1)
    i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
    c_t = f * c_prev + i * g
    dc = dc_t + dh_t * o * (1 - np.tanh(c_t) ** 2)
    da = np.hstack([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g),
                    dh_t * np.tanh(c_t) * o * (1 - o)])
    return (np.einsum("bk,kd->bd", da, W_x), np.einsum("bk,kh->bh", da, W_h), dc * f,
            np.einsum("bk,bd->kd", da, x_t), np.einsum("bk,bh->kh", da, h_prev),
            np.einsum("bk->k", da))
''',
    "gru_step_forward": '''\
def gru_step_forward(x_t, h_prev, W_x, W_h, b, b_hn):
    W_xr, W_xz, W_xn = np.split(W_x, 3)
    W_hr, W_hz, W_hn = np.split(W_h, 3)
    b_r, b_z, b_n = np.split(b, 3)
    r = sigmoid(x_t @ W_xr.T + h_prev @ W_hr.T + b_r)
    z = sigmoid(x_t @ W_xz.T + h_prev @ W_hz.T + b_z)
    n = np.tanh(x_t @ W_xn.T + b_n + r * (h_prev @ W_hn.T + b_hn))
    return n + z * (h_prev - n)
''',
    "bidirectional_combine": '''\
def bidirectional_combine(h_fw, h_bw_reversed, lengths, merge):
    T, B, H = h_fw.shape
    t = np.arange(T)[:, None]
    src = np.where(t < lengths, lengths - 1 - t, t)           # (T, B)
    h_bw = np.take_along_axis(h_bw_reversed, src[..., None], axis=0)
    m = (t < lengths)[..., None]
    if merge == "sum":
        return np.where(m, h_fw + h_bw, 0.0)
    out = np.zeros((T, B, 2 * H))
    out[..., :H] = np.where(m, h_fw, 0.0)
    out[..., H:] = np.where(m, h_bw, 0.0)
    return out
''',
    "beam_search": '''\
import heapq
import math

def beam_search(step_fn, bos, eos, beam_width, max_len, alpha):
    live = [(0.0, [bos])]
    done = []
    for step in range(max_len):
        ext = []
        for logp, seq in live:
            lp = np.asarray(step_fn(tuple(seq)))
            for tok, l in enumerate(lp):
                ext.append((logp + float(l), seq + [tok]))
        top = heapq.nlargest(beam_width, ext, key=lambda e: e[0])
        done.extend(e for e in top if e[1][-1] == eos)
        live = [e for e in top if e[1][-1] != eos]
        if not live:
            break
    best_score, best = -math.inf, None
    for logp, seq in done + live:
        s = logp / math.pow(len(seq) - 1, alpha)
        if s > best_score:
            best_score, best = s, seq
    return np.array(best[1:]), best_score
''',
    "additive_attention_weights": '''\
def additive_attention_weights(q, keys, W_q, W_k, v, mask):
    T, B, _ = keys.shape
    alpha = np.zeros((T, B))
    for b in range(B):
        real = mask[:, b]
        e = np.einsum("a,ta->t", v, np.tanh(np.einsum("ah,h->a", W_q, q[b])
                                            + np.einsum("ak,tk->ta", W_k, keys[real, b])))
        e -= e.max()
        p = np.exp(e)
        alpha[real, b] = p / p.sum()
    return alpha
''',
}

# (variant id, source, fragment of the message the check must give)
WRONG = {
    "rnn_step_forward": [
        ("no_bias", '''\
def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T)
''', "does not change when b_h changes: is the bias b_h added?"),
        ("W_hh_transposed", '''\
def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh + b_h)
''', "W_hh is used transposed"),
        ("W_xh_transposed", '''\
def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh + h_prev @ W_hh.T + b_h)
''', "W_xh (shape (H, D)) is used transposed"),
        ("no_tanh", '''\
def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return x_t @ W_xh.T + h_prev @ W_hh.T + b_h
''', "without the nonlinearity: apply tanh"),
        ('returns_list', '''\
def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h).tolist()
''', 'not a Python list'),
    ],
    "rnn_step_backward": [
        ("deriv_1_minus_h", '''\
def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh):
    da = dh_t * (1 - h_t)
    return da @ W_xh, da @ W_hh, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)
''', "the derivative of tanh is 1 - h_t**2"),
        ("dh_prev_transposed", '''\
def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh):
    da = dh_t * (1 - h_t**2)
    return da @ W_xh, da @ W_hh.T, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)
''', "dh_prev = da @ W_hh"),
        ("db_not_summed", '''\
def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh):
    da = dh_t * (1 - h_t**2)
    return da @ W_xh, da @ W_hh, da.T @ x_t, da.T @ h_prev, da
''', "db_h has the wrong shape: received (3, 5), expected (5,)"),
        ("dW_transposed", '''\
def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh):
    da = dh_t * (1 - h_t**2)
    return da @ W_xh, da @ W_hh, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)
''', "dW_xh has the wrong shape: received (4, 5), expected (5, 4)"),
    ],
    "rnn_backward": [
        ("no_future", '''\
def rnn_backward(dh, x, h0, hs, W_xh, W_hh):
    dx = np.zeros_like(x)
    dW_xh, dW_hh, db_h = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])
    for t in reversed(range(x.shape[0])):
        h_prev = h0 if t == 0 else hs[t - 1]
        da = dh[t] * (1 - hs[t]**2)
        dx[t] = da @ W_xh
        dW_xh += da.T @ x[t]
        dW_hh += da.T @ h_prev
        db_h += da.sum(axis=0)
    return dx, da @ W_hh, dW_xh, dW_hh, db_h
''', "the gradient from the future is missing"),
        ("not_summed", '''\
def rnn_backward(dh, x, h0, hs, W_xh, W_hh):
    dx = np.zeros_like(x)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[0])):
        h_prev = h0 if t == 0 else hs[t - 1]
        da = (dh[t] + dh_next) * (1 - hs[t]**2)
        dx[t] = da @ W_xh
        dW_xh = da.T @ x[t]
        dW_hh = da.T @ h_prev
        db_h = da.sum(axis=0)
        dh_next = da @ W_hh
    return dx, dh_next, dW_xh, dW_hh, db_h
''', "only the contribution of time step t = 0"),
        ("h_current", '''\
def rnn_backward(dh, x, h0, hs, W_xh, W_hh):
    dx = np.zeros_like(x)
    dW_xh, dW_hh, db_h = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[0])):
        da = (dh[t] + dh_next) * (1 - hs[t]**2)
        dx[t] = da @ W_xh
        dW_xh += da.T @ x[t]
        dW_hh += da.T @ hs[t]
        db_h += da.sum(axis=0)
        dh_next = da @ W_hh
    return dx, dh_next, dW_xh, dW_hh, db_h
''', "dW_hh sums da_t.T @ h_{t-1}"),
        ('modifies_dh_in_place', '''\
def rnn_backward(dh, x, h0, hs, W_xh, W_hh):
    dx = np.zeros_like(x)
    dW_xh, dW_hh, db_h = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])
    for t in reversed(range(x.shape[0])):
        h_prev = h0 if t == 0 else hs[t - 1]
        da = dh[t] * (1 - hs[t]**2)
        dx[t] = da @ W_xh
        dW_xh += da.T @ x[t]
        dW_hh += da.T @ h_prev
        db_h += da.sum(axis=0)
        if t > 0:
            dh[t - 1] += da @ W_hh              # writes into the caller's dh
    return dx, da @ W_hh, dW_xh, dW_hh, db_h
''', 'changed its input `dh` in place'),
    ],
    "clip_by_global_norm": [
        ("per_array", '''\
def clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    return {k: g * min(1.0, max_norm / np.linalg.norm(g)) for k, g in grads.items()}, norm
''', "rescaled by its OWN norm"),
        ("always_rescale", '''\
def clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    return {k: g * max_norm / norm for k, g in grads.items()}, norm
''', "only rescale when global_norm > max_norm"),
        ("norm_after", '''\
def clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    clipped = {k: g * min(1.0, max_norm / norm) for k, g in grads.items()}
    return clipped, np.sqrt(sum(np.sum(g**2) for g in clipped.values()))
''', "the norm AFTER clipping"),
        ("by_value", '''\
def clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    return {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}, norm
''', "clipping by VALUE"),
        ('in_place', '''\
def clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    if norm > max_norm:
        for g in grads.values():
            g *= max_norm / norm
    return grads, norm
''', 'changed its input `grads` in place'),
    ],
    "masked_cross_entropy": [
        ("mean_over_all", '''\
def masked_cross_entropy(logits, targets, mask):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    nll = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    loss = (nll * mask).mean()
    onehot = np.eye(logits.shape[-1])[targets]
    return loss, (np.exp(log_p) - onehot) * mask[..., None] / mask.size
''', "divided by the number of ALL positions"),
        ("mask_ignored", '''\
def masked_cross_entropy(logits, targets, mask):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    nll = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    onehot = np.eye(logits.shape[-1])[targets]
    return nll.mean(), (np.exp(log_p) - onehot) / nll.size
''', "the padded positions (mask == 0) are counted"),
        ("unstable", '''\
def masked_cross_entropy(logits, targets, mask):
    p = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    nll = -np.log(np.take_along_axis(p, targets[..., None], axis=-1)[..., 0])
    onehot = np.eye(logits.shape[-1])[targets]
    return (nll * mask).sum() / mask.sum(), (p - onehot) * (mask / mask.sum())[..., None]
''', "Subtract the maximum logit"),
        ('epsilon_in_log', '''\
def masked_cross_entropy(logits, targets, mask):
    z = logits - logits.max(axis=-1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    p_y = np.take_along_axis(p, targets[..., None], axis=-1)[..., 0]
    nll = -np.log(p_y + 1e-12)
    onehot = np.eye(logits.shape[-1])[targets]
    return (nll * mask).sum() / mask.sum(), (p - onehot) * (mask / mask.sum())[..., None]
''', 'caps the loss at -log(1e-12) = 27.6'),
    ],
    "sample_char": [
        ("multiplied", '''\
def sample_char(logits, temperature, rng):
    if temperature == 0:
        return int(np.argmax(logits))
    z = logits * temperature
    p = np.exp(z - z.max())
    return int(rng.choice(len(p), p=p / p.sum()))
''', "the temperature multiplies the logits; it must DIVIDE them"),
        ("global_rng", '''\
def sample_char(logits, temperature, rng):
    if temperature == 0:
        return int(np.argmax(logits))
    z = logits / temperature
    p = np.exp(z - z.max())
    return int(np.random.choice(len(p), p=p / p.sum()))
''', "draw your random numbers from the rng argument"),
        ("no_zero_limit", '''\
def sample_char(logits, temperature, rng):
    z = logits / temperature
    p = np.exp(z - z.max())
    return int(rng.choice(len(p), p=p / p.sum()))
''', "return argmax(logits) when T == 0"),
        ("greedy", '''\
def sample_char(logits, temperature, rng):
    return int(np.argmax(logits))
''', "it always returns the argmax"),
        ('divides_logits_in_place', '''\
def sample_char(logits, temperature, rng):
    if temperature == 0:
        return int(np.argmax(logits))
    logits /= temperature
    p = np.exp(logits - logits.max())
    return int(rng.choice(len(p), p=p / p.sum()))
''', 'changed its input `logits` in place'),
    ],
    "lstm_step_forward": [
        ("if_swapped", '''\
def lstm_step_forward(x_t, h_prev, c_prev, W_x, W_h, b):
    H = h_prev.shape[1]
    a = x_t @ W_x.T + h_prev @ W_h.T + b
    f, i = sigmoid(a[:, 0:H]), sigmoid(a[:, H:2*H])
    g, o = np.tanh(a[:, 2*H:3*H]), sigmoid(a[:, 3*H:])
    c_t = f * c_prev + i * g
    return o * np.tanh(c_t), c_t
''', "input and forget gates swapped"),
        ("h_no_tanh", '''\
def lstm_step_forward(x_t, h_prev, c_prev, W_x, W_h, b):
    H = h_prev.shape[1]
    a = x_t @ W_x.T + h_prev @ W_h.T + b
    i, f = sigmoid(a[:, 0:H]), sigmoid(a[:, H:2*H])
    g, o = np.tanh(a[:, 2*H:3*H]), sigmoid(a[:, 3*H:])
    c_t = f * c_prev + i * g
    return o * c_t, c_t
''', "h_t = o * c_t is missing the tanh"),
        ("g_sigmoid", '''\
def lstm_step_forward(x_t, h_prev, c_prev, W_x, W_h, b):
    H = h_prev.shape[1]
    a = x_t @ W_x.T + h_prev @ W_h.T + b
    i, f = sigmoid(a[:, 0:H]), sigmoid(a[:, H:2*H])
    g, o = sigmoid(a[:, 2*H:3*H]), sigmoid(a[:, 3*H:])
    c_t = f * c_prev + i * g
    return o * np.tanh(c_t), c_t
''', "the candidate g uses a sigmoid"),
        ('no_bias', '''\
def lstm_step_forward(x_t, h_prev, c_prev, W_x, W_h, b):
    H = h_prev.shape[1]
    a = x_t @ W_x.T + h_prev @ W_h.T
    i, f = sigmoid(a[:, 0:H]), sigmoid(a[:, H:2*H])
    g, o = np.tanh(a[:, 2*H:3*H]), sigmoid(a[:, 3*H:])
    c_t = f * c_prev + i * g
    return o * np.tanh(c_t), c_t
''', 'do not change when b changes: is the bias added?'),
        ('keras_gate_order', '''\
def lstm_step_forward(x_t, h_prev, c_prev, W_x, W_h, b):
    H = h_prev.shape[1]
    a = x_t @ W_x.T + h_prev @ W_h.T + b
    i, g = sigmoid(a[:, 0:H]), np.tanh(a[:, H:2*H])
    f, o = sigmoid(a[:, 2*H:3*H]), sigmoid(a[:, 3*H:])
    c_t = f * c_prev + i * g
    return o * np.tanh(c_t), c_t
''', 'TensorFlow/Keras store i, c, f, o'),
    ],
    "lstm_step_backward": [
        ("no_dh_to_c", '''\
def lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b):
    i, f, g, o = np.split(x_t @ W_x.T + h_prev @ W_h.T + b, 4, axis=1)
    i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
    c_t = f * c_prev + i * g
    dc = dc_t
    da = np.hstack([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2),
                    dh_t * np.tanh(c_t) * o * (1 - o)])
    return da @ W_x, da @ W_h, dc * f, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)
''', "the gradient reaching c_t through h_t = o * tanh(c_t) is missing"),
        ("no_carousel_f", '''\
def lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b):
    i, f, g, o = np.split(x_t @ W_x.T + h_prev @ W_h.T + b, 4, axis=1)
    i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
    c_t = f * c_prev + i * g
    dc = dc_t + dh_t * o * (1 - np.tanh(c_t)**2)
    da = np.hstack([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2),
                    dh_t * np.tanh(c_t) * o * (1 - o)])
    return da @ W_x, da @ W_h, dc, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)
''', "dc_prev = dc * f_t"),
        ("tanh_deriv_c", '''\
def lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b):
    i, f, g, o = np.split(x_t @ W_x.T + h_prev @ W_h.T + b, 4, axis=1)
    i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
    c_t = f * c_prev + i * g
    dc = dc_t + dh_t * o * (1 - c_t**2)
    da = np.hstack([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2),
                    dh_t * np.tanh(c_t) * o * (1 - o)])
    return da @ W_x, da @ W_h, dc * f, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)
''', "the derivative of tanh(c_t) is 1 - tanh(c_t)**2"),
        ('g_sigmoid_derivative', '''\
def lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b):
    i, f, g, o = np.split(x_t @ W_x.T + h_prev @ W_h.T + b, 4, axis=1)
    i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
    c_t = f * c_prev + i * g
    dc = dc_t + dh_t * o * (1 - np.tanh(c_t)**2)
    da = np.hstack([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * g * (1 - g),
                    dh_t * np.tanh(c_t) * o * (1 - o)])
    return da @ W_x, da @ W_h, dc * f, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)
''', 'the derivative of the sigmoid; g = tanh(a_g)'),
        ('keras_gate_order', '''\
def lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b):
    i, g, f, o = np.split(x_t @ W_x.T + h_prev @ W_h.T + b, 4, axis=1)
    i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
    c_t = f * c_prev + i * g
    dc = dc_t + dh_t * o * (1 - np.tanh(c_t)**2)
    da = np.hstack([dc * g * i * (1 - i), dc * i * (1 - g**2), dc * c_prev * f * (1 - f),
                    dh_t * np.tanh(c_t) * o * (1 - o)])
    return da @ W_x, da @ W_h, dc * f, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)
''', 'TensorFlow/Keras store i, c, f, o'),
        ('no_bias', '''\
def lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b):
    i, f, g, o = np.split(x_t @ W_x.T + h_prev @ W_h.T, 4, axis=1)
    i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
    c_t = f * c_prev + i * g
    dc = dc_t + dh_t * o * (1 - np.tanh(c_t)**2)
    da = np.hstack([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2),
                    dh_t * np.tanh(c_t) * o * (1 - o)])
    return da @ W_x, da @ W_h, dc * f, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)
''', 'the gates are recomputed without the bias'),
        ('o_tanh_derivative', '''\
def lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b):
    i, f, g, o = np.split(x_t @ W_x.T + h_prev @ W_h.T + b, 4, axis=1)
    i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
    c_t = f * c_prev + i * g
    dc = dc_t + dh_t * o * (1 - np.tanh(c_t)**2)
    da = np.hstack([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2),
                    dh_t * np.tanh(c_t) * (1 - o**2)])
    return da @ W_x, da @ W_h, dc * f, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)
''', 'da_o uses 1 - o**2'),
        ('f_times_c_t', '''\
def lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b):
    i, f, g, o = np.split(x_t @ W_x.T + h_prev @ W_h.T + b, 4, axis=1)
    i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
    c_t = f * c_prev + i * g
    dc = dc_t + dh_t * o * (1 - np.tanh(c_t)**2)
    da = np.hstack([dc * g * i * (1 - i), dc * c_t * f * (1 - f), dc * i * (1 - g**2),
                    dh_t * np.tanh(c_t) * o * (1 - o)])
    return da @ W_x, da @ W_h, dc * f, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)
''', 'da_f uses c_t'),
    ],
    "gru_step_forward": [
        ("flipped", '''\
def gru_step_forward(x_t, h_prev, W_x, W_h, b, b_hn):
    H = h_prev.shape[1]
    ax, ah = x_t @ W_x.T + b, h_prev @ W_h.T
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H:2*H] + ah[:, H:2*H])
    n = np.tanh(ax[:, 2*H:] + r * (ah[:, 2*H:] + b_hn))
    return z * n + (1 - z) * h_prev
''', "the update convention is flipped"),
        ("reset_before", '''\
def gru_step_forward(x_t, h_prev, W_x, W_h, b, b_hn):
    H = h_prev.shape[1]
    ax, ah = x_t @ W_x.T + b, h_prev @ W_h.T
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H:2*H] + ah[:, H:2*H])
    n = np.tanh(ax[:, 2*H:] + (r * h_prev) @ W_h[2*H:].T + b_hn)
    return (1 - z) * n + z * h_prev
''', "the reset gate is applied BEFORE the product"),
        ("no_b_hn", '''\
def gru_step_forward(x_t, h_prev, W_x, W_h, b, b_hn):
    H = h_prev.shape[1]
    ax, ah = x_t @ W_x.T + b, h_prev @ W_h.T
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H:2*H] + ah[:, H:2*H])
    n = np.tanh(ax[:, 2*H:] + r * ah[:, 2*H:])
    return (1 - z) * n + z * h_prev
''', "h_t does not change when b_hn changes"),
        ('keras_gate_order', '''\
def gru_step_forward(x_t, h_prev, W_x, W_h, b, b_hn):
    H = h_prev.shape[1]
    ax, ah = x_t @ W_x.T + b, h_prev @ W_h.T
    z = sigmoid(ax[:, :H] + ah[:, :H])
    r = sigmoid(ax[:, H:2*H] + ah[:, H:2*H])
    n = np.tanh(ax[:, 2*H:] + r * (ah[:, 2*H:] + b_hn))
    return (1 - z) * n + z * h_prev
''', 'Keras stores z, r, h'),
        ('no_bias', '''\
def gru_step_forward(x_t, h_prev, W_x, W_h, b, b_hn):
    H = h_prev.shape[1]
    ax, ah = x_t @ W_x.T, h_prev @ W_h.T
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H:2*H] + ah[:, H:2*H])
    n = np.tanh(ax[:, 2*H:] + r * (ah[:, 2*H:] + b_hn))
    return (1 - z) * n + z * h_prev
''', 'without the bias b'),
        ('n_sigmoid', '''\
def gru_step_forward(x_t, h_prev, W_x, W_h, b, b_hn):
    H = h_prev.shape[1]
    ax, ah = x_t @ W_x.T + b, h_prev @ W_h.T
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H:2*H] + ah[:, H:2*H])
    n = sigmoid(ax[:, 2*H:] + r * (ah[:, 2*H:] + b_hn))
    return (1 - z) * n + z * h_prev
''', 'the candidate n uses a sigmoid'),
    ],
    "bidirectional_combine": [
        ("whole_padded_length", '''\
def bidirectional_combine(h_fw, h_bw_reversed, lengths, merge):
    T = h_fw.shape[0]
    h_bw = h_bw_reversed[::-1]
    mask = (np.arange(T)[:, None] < lengths[None, :])[..., None]
    y = np.concatenate([h_fw, h_bw], axis=-1) if merge == "concat" else h_fw + h_bw
    return y * mask
''', "reversing the whole padded time axis"),
        ("not_reversed_back", '''\
def bidirectional_combine(h_fw, h_bw_reversed, lengths, merge):
    T = h_fw.shape[0]
    mask = (np.arange(T)[:, None] < lengths[None, :])[..., None]
    if merge == "concat":
        return np.concatenate([h_fw, h_bw_reversed], axis=-1) * mask
    return (h_fw + h_bw_reversed) * mask
''', "not reversed back into time order"),
        ("padding_not_zeroed", '''\
def bidirectional_combine(h_fw, h_bw_reversed, lengths, merge):
    h_bw = h_bw_reversed.copy()
    for b, L in enumerate(lengths):
        h_bw[:L, b] = h_bw_reversed[:L, b][::-1]
    return np.concatenate([h_fw, h_bw], axis=-1) if merge == "concat" else h_fw + h_bw
''', "padded steps (t >= L_b) are not zero"),
        ('sum_concatenates', '''\
def bidirectional_combine(h_fw, h_bw_reversed, lengths, merge):
    T, B, H = h_fw.shape
    h_bw = np.zeros_like(h_bw_reversed)
    for b in range(B):
        h_bw[:lengths[b], b] = h_bw_reversed[:lengths[b], b][::-1]
    mask = (np.arange(T)[:, None] < lengths[None, :])[..., None]
    return np.concatenate([h_fw, h_bw], axis=-1) * mask
''', "merge='sum' adds the two directions"),
    ],
    "beam_search": [
        ("no_length_normalisation", '''\
def beam_search(step_fn, bos, eos, beam_width, max_len, alpha):
    beams, finished = [((bos,), 0.0)], []
    for _ in range(max_len):
        cand = [(p + (v,), s + l) for p, s in beams for v, l in enumerate(step_fn(p))]
        cand.sort(key=lambda c: -c[1])
        beams = [c for c in cand[:beam_width] if c[0][-1] != eos]
        finished += [c for c in cand[:beam_width] if c[0][-1] == eos]
        if not beams:
            break
    best = max(finished + beams, key=lambda c: c[1])
    return list(best[0][1:]), best[1] / (len(best[0]) - 1) ** alpha
''', "win on the raw log-probability"),
        ("extends_past_eos", '''\
def beam_search(step_fn, bos, eos, beam_width, max_len, alpha):
    beams = [((bos,), 0.0)]
    for _ in range(max_len):
        cand = [(p + (v,), s + l) for p, s in beams for v, l in enumerate(step_fn(p))]
        cand.sort(key=lambda c: -c[1])
        beams = cand[:beam_width]
    best = max(beams, key=lambda c: c[1] / (len(c[0]) - 1) ** alpha)
    return list(best[0][1:]), best[1] / (len(best[0]) - 1) ** alpha
''', "is finished"),
        ("greedy", '''\
def beam_search(step_fn, bos, eos, beam_width, max_len, alpha):
    prefix, logp = (bos,), 0.0
    for _ in range(max_len):
        lp = step_fn(prefix)
        v = int(np.argmax(lp))
        prefix, logp = prefix + (v,), logp + lp[v]
        if v == eos:
            break
    return list(prefix[1:]), logp / (len(prefix) - 1) ** alpha
''', "are the greedy answer"),
        ("raw_score", '''\
def beam_search(step_fn, bos, eos, beam_width, max_len, alpha):
    beams, finished = [((bos,), 0.0)], []
    for _ in range(max_len):
        cand = [(p + (v,), s + l) for p, s in beams for v, l in enumerate(step_fn(p))]
        cand.sort(key=lambda c: -c[1])
        beams = [c for c in cand[:beam_width] if c[0][-1] != eos]
        finished += [c for c in cand[:beam_width] if c[0][-1] == eos]
        if not beams:
            break
    best = max(finished + beams, key=lambda c: c[1] / (len(c[0]) - 1) ** alpha)
    return list(best[0][1:]), best[1]
''', "the score is wrong: it is the raw log-probability"),
        ('drops_live_at_max_len', '''\
def beam_search(step_fn, bos, eos, beam_width, max_len, alpha):
    beams, finished = [((bos,), 0.0)], []
    for _ in range(max_len):
        cand = [(p + (v,), s + l) for p, s in beams for v, l in enumerate(step_fn(p))]
        cand.sort(key=lambda c: -c[1])
        beams = [c for c in cand[:beam_width] if c[0][-1] != eos]
        finished += [c for c in cand[:beam_width] if c[0][-1] == eos]
        if not beams:
            break
    pool = finished if finished else beams
    best = max(pool, key=lambda c: c[1] / (len(c[0]) - 1) ** alpha)
    return list(best[0][1:]), best[1] / (len(best[0]) - 1) ** alpha
''', 'count as finished too'),
    ],
    "additive_attention_weights": [
        ("mask_ignored", '''\
def additive_attention_weights(q, keys, W_q, W_k, v, mask):
    e = np.tanh(keys @ W_k.T + q @ W_q.T) @ v
    w = np.exp(e - e.max(axis=0))
    return w / w.sum(axis=0)
''', "the mask is ignored"),
        ("zeroed_after_softmax", '''\
def additive_attention_weights(q, keys, W_q, W_k, v, mask):
    e = np.tanh(keys @ W_k.T + q @ W_q.T) @ v
    w = np.exp(e - e.max(axis=0))
    return w / w.sum(axis=0) * mask
''', "set to 0 after the softmax"),
        ("wrong_axis", '''\
def additive_attention_weights(q, keys, W_q, W_k, v, mask):
    e = np.tanh(keys @ W_k.T + q @ W_q.T) @ v
    e = np.where(mask, e, -np.inf)
    w = np.exp(e - e.max(axis=1, keepdims=True))
    return w / w.sum(axis=1, keepdims=True)
''', "the softmax runs over the batch axis"),
        ("no_max_subtraction", '''\
def additive_attention_weights(q, keys, W_q, W_k, v, mask):
    e = np.tanh(keys @ W_k.T + q @ W_q.T) @ v
    w = np.exp(e) * mask
    return w / w.sum(axis=0)
''', "exp(e) overflows"),
        ('max_over_padding', '''\
def additive_attention_weights(q, keys, W_q, W_k, v, mask):
    e = np.tanh(keys @ W_k.T + q @ W_q.T) @ v
    w = np.exp(e - e.max(axis=0, keepdims=True)) * mask
    return w / w.sum(axis=0, keepdims=True)
''', 'a PADDED step has the largest score'),
    ],
}

# ---------------------------------------------------------------- Parts IV and V (part45)
SOLUTIONS.update({
    "masked_sequence_loss": '''\
def masked_sequence_loss(logits, targets, mask):
    m = np.asarray(mask, dtype=float)
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    nll = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    n = m.sum()
    loss = (nll * m).sum() / n
    onehot = np.eye(logits.shape[-1])[targets]
    dlogits = (np.exp(log_p) - onehot) * (m / n)[..., None]
    return loss, dlogits
''',
    "rmsprop_update": '''\
def rmsprop_update(param, grad, state, lr, rho, eps):
    v = rho * state + (1 - rho) * grad ** 2
    new_param = param - lr * grad / (np.sqrt(v) + eps)
    return new_param, v
''',
    "top_k_sample": '''\
def top_k_sample(logits, k, temperature, rng):
    z = logits / temperature
    cut = np.sort(z)[-k]
    z = np.where(z >= cut, z, -np.inf)
    p = np.exp(z - z.max())
    p = p / p.sum()
    return int(rng.choice(len(p), p=p))
''',
    "token_accuracy": '''\
def token_accuracy(pred, gold, lengths):
    T = gold.shape[0]
    mask = np.arange(T)[:, None] < lengths[None, :]
    correct = (pred == gold) & mask
    return float(correct.sum() / mask.sum())
''',
    "seasonal_naive_errors": '''\
def seasonal_naive_errors(series, test_start, horizons, season=12):
    N = len(series)
    origins = np.arange(test_start - 1, N - 1)
    out = {}
    for h in horizons:
        o = origins[origins + h < N]
        back = season * int(np.ceil(h / season))
        err = series[o + h] - series[o + h - back]
        out[h] = (float(np.sqrt(np.mean(err ** 2))), float(np.mean(np.abs(err))))
    return out
''',
    "masked_attention_context": '''\
def masked_attention_context(query, keys, values, mask, W_q, W_k, v):
    e = np.tanh(keys @ W_k.T + query @ W_q.T) @ v
    e = np.where(mask, e, -np.inf)
    e = e - e.max(axis=0, keepdims=True)
    w = np.exp(e)
    alpha = w / w.sum(axis=0, keepdims=True)
    context = (alpha[..., None] * values).sum(axis=0)
    return context, alpha
''',
    "speed_and_gradient": '''\
def speed_and_gradient(h, W, b):
    F = np.tanh(W @ h + b)
    r = F - h
    J = (1 - F ** 2)[:, None] * W
    q = 0.5 * r @ r
    grad = (J - np.eye(len(h))).T @ r
    return q, grad
''',
    "ctc_alpha": '''\
def ctc_alpha(log_probs, target, blank=0):
    T = log_probs.shape[0]
    S = len(target)
    ext = np.full(2 * S + 1, blank)
    ext[1::2] = target
    L = len(ext)
    skip = np.zeros(L, dtype=bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    alpha = np.full((T, L), -np.inf)
    alpha[0, :2] = log_probs[0, ext[:2]]
    for t in range(1, T):
        prev = alpha[t - 1]
        a = prev.copy()
        a[1:] = np.logaddexp(a[1:], prev[:-1])
        a[2:] = np.where(skip[2:], np.logaddexp(a[2:], prev[:-2]), a[2:])
        alpha[t] = a + log_probs[t, ext]
    return alpha
''',
})

ALTERNATIVES.update({
    "masked_sequence_loss": '''\
def masked_sequence_loss(logits, targets, mask):
    T, B, V = logits.shape
    total, count = 0.0, 0
    dlogits = np.zeros_like(logits)
    for t in range(T):
        for b in range(B):
            if not mask[t, b]:
                continue
            z = logits[t, b]
            lse = z.max() + np.log(np.sum(np.exp(z - z.max())))
            total += lse - z[targets[t, b]]
            dlogits[t, b] = np.exp(z - lse)
            dlogits[t, b, targets[t, b]] -= 1.0
            count += 1
    return total / count, dlogits / count
''',
    "rmsprop_update": '''\
def rmsprop_update(param, grad, state, lr, rho, eps):
    new_state = state.copy()
    new_state *= rho
    new_state += (1.0 - rho) * np.square(grad)
    step = lr * grad
    step /= np.sqrt(new_state) + eps
    return param - step, new_state
''',
    "top_k_sample": '''\
def top_k_sample(logits, k, temperature, rng):
    kth = np.partition(logits, len(logits) - k)[len(logits) - k]
    keep = np.flatnonzero(logits >= kth)
    z = logits[keep] / temperature
    p = np.exp(z - np.max(z))
    p /= p.sum()
    u = rng.random()
    j = min(int(np.searchsorted(np.cumsum(p), u, side="right")), len(keep) - 1)
    return int(keep[j])
''',
    "token_accuracy": '''\
def token_accuracy(pred, gold, lengths):
    right = total = 0
    for b, L in enumerate(lengths):
        right += int(np.count_nonzero(pred[:L, b] == gold[:L, b]))
        total += int(L)
    return right / total
''',
    "seasonal_naive_errors": '''\
import math

def seasonal_naive_errors(series, test_start, horizons, season=12):
    N = len(series)
    result = {}
    for h in horizons:
        errors = []
        for o in range(test_start - 1, N - 1 - h + 1):
            if o + h >= N:
                break
            source = o + h
            while source > o:
                source -= season
            errors.append(series[o + h] - series[source])
        errors = np.array(errors)
        result[h] = (math.sqrt(np.mean(errors * errors)), np.abs(errors).mean())
    return result
''',
    "masked_attention_context": '''\
def masked_attention_context(query, keys, values, mask, W_q, W_k, v):
    S, B, H = keys.shape
    alpha = np.zeros((S, B))
    context = np.zeros((B, H))
    for b in range(B):
        real = np.flatnonzero(mask[:, b])
        e = np.einsum("a,sa->s", v, np.tanh(W_q @ query[b] + keys[real, b] @ W_k.T))
        w = np.exp(e - e.max())
        alpha[real, b] = w / w.sum()
        context[b] = np.einsum("s,sh->h", alpha[real, b], values[real, b])
    return context, alpha
''',
    "speed_and_gradient": '''\
def speed_and_gradient(h, W, b):
    F = np.tanh(W @ h + b)
    r = F - h
    # (J - I)^T r = W^T ((1 - F^2) * r) - r, without forming J
    grad = W.T @ ((1 - F * F) * r) - r
    return float(np.sum(r ** 2) / 2), grad
''',
    "ctc_alpha": '''\
import math

def ctc_alpha(log_probs, target, blank=0):
    T = log_probs.shape[0]
    ext = [blank]
    for label in target:
        ext += [int(label), blank]
    L = len(ext)
    alpha = np.full((T, L), -np.inf)
    alpha[0, 0] = log_probs[0, ext[0]]
    if L > 1:
        alpha[0, 1] = log_probs[0, ext[1]]
    for t in range(1, T):
        for s in range(L):
            terms = [alpha[t - 1, s]]
            if s >= 1:
                terms.append(alpha[t - 1, s - 1])
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                terms.append(alpha[t - 1, s - 2])
            m = max(terms)
            if m == -math.inf:
                continue
            alpha[t, s] = m + math.log(sum(math.exp(x - m) for x in terms)) \\
                + log_probs[t, ext[s]]
    return alpha
''',
})

WRONG.update({
    "masked_sequence_loss": [
        ("mask_ignored", '''\
def masked_sequence_loss(logits, targets, mask):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    nll = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    onehot = np.eye(logits.shape[-1])[targets]
    return nll.mean(), (np.exp(log_p) - onehot) / nll.size
''', "the mask is ignored"),
        ("divided_by_TB", '''\
def masked_sequence_loss(logits, targets, mask):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    nll = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    onehot = np.eye(logits.shape[-1])[targets]
    return (nll * mask).mean(), (np.exp(log_p) - onehot) * mask[..., None] / mask.size
''', "it is divided by T*B"),
        ("unstable_softmax", '''\
def masked_sequence_loss(logits, targets, mask):
    p = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    nll = -np.log(np.take_along_axis(p, targets[..., None], axis=-1)[..., 0])
    onehot = np.eye(logits.shape[-1])[targets]
    n = mask.sum()
    return (nll * mask).sum() / n, (p - onehot) * (mask / n)[..., None]
''', "unstable softmax"),
        ("gradient_not_masked", '''\
def masked_sequence_loss(logits, targets, mask):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    nll = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    n = mask.sum()
    onehot = np.eye(logits.shape[-1])[targets]
    return (nll * mask).sum() / n, (np.exp(log_p) - onehot) / n
''', "the gradient is not masked"),
    ],
    "rmsprop_update": [
        ("rho_swapped", '''\
def rmsprop_update(param, grad, state, lr, rho, eps):
    v = (1 - rho) * state + rho * grad ** 2
    return param - lr * grad / (np.sqrt(v) + eps), v
''', "rho and 1 - rho are swapped"),
        ("no_sqrt", '''\
def rmsprop_update(param, grad, state, lr, rho, eps):
    v = rho * state + (1 - rho) * grad ** 2
    return param - lr * grad / (v + eps), v
''', "the square root is missing"),
        ("eps_inside_sqrt", '''\
def rmsprop_update(param, grad, state, lr, rho, eps):
    v = rho * state + (1 - rho) * grad ** 2
    return param - lr * grad / np.sqrt(v + eps), v
''', "eps is inside the square root"),
        ("state_not_updated", '''\
def rmsprop_update(param, grad, state, lr, rho, eps):
    v = rho * state + (1 - rho) * grad ** 2
    return param - lr * grad / (np.sqrt(v) + eps), state
''', "new_state is the old state"),
        ("state_in_place", '''\
def rmsprop_update(param, grad, state, lr, rho, eps):
    state *= rho
    state += (1 - rho) * grad ** 2
    return param - lr * grad / (np.sqrt(state) + eps), state
''', "changed its input `state` in place"),
    ],
    "top_k_sample": [
        ("k_smallest", '''\
def top_k_sample(logits, k, temperature, rng):
    keep = np.argsort(logits)[:k]
    z = logits[keep] / temperature
    p = np.exp(z - z.max())
    return int(keep[rng.choice(k, p=p / p.sum())])
''', "the k SMALLEST logits are kept"),
        ("temperature_multiplied", '''\
def top_k_sample(logits, k, temperature, rng):
    z = logits * temperature
    z = np.where(z >= np.sort(z)[-k], z, -np.inf)
    p = np.exp(z - z.max())
    return int(rng.choice(len(p), p=p / p.sum()))
''', "the temperature multiplies the logits"),
        ("not_renormalised", '''\
def top_k_sample(logits, k, temperature, rng):
    z = logits / temperature
    p = np.exp(z - z.max())
    p = p / p.sum()
    p[p < np.sort(p)[-k]] = 0.0
    return int(rng.choice(len(p), p=p))
''', "must be renormalised"),
        ("ties_dropped", '''\
def top_k_sample(logits, k, temperature, rng):
    keep = np.argsort(logits)[-k:]
    z = logits[keep] / temperature
    p = np.exp(z - z.max())
    return int(keep[rng.choice(k, p=p / p.sum())])
''', "ties with the k-th largest is never drawn"),
        ("overflow", '''\
def top_k_sample(logits, k, temperature, rng):
    z = logits / temperature
    p = np.where(z >= np.sort(z)[-k], np.exp(z), 0.0)
    return int(rng.choice(len(p), p=p / p.sum()))
''', "exp(900) overflows"),
    ],
    "token_accuracy": [
        ("padding_counted", '''\
def token_accuracy(pred, gold, lengths):
    return float(np.mean(pred == gold))
''', "the padded positions are counted"),
        ("mean_of_sentences", '''\
def token_accuracy(pred, gold, lengths):
    accs = [np.mean(pred[:L, b] == gold[:L, b]) for b, L in enumerate(lengths)]
    return float(np.mean(accs))
''', "the mean of the per-sentence accuracies"),
    ],
    "seasonal_naive_errors": [
        ("last_value", '''\
def seasonal_naive_errors(series, test_start, horizons, season=12):
    N = len(series)
    origins = np.arange(test_start - 1, N - 1)
    out = {}
    for h in horizons:
        o = origins[origins + h < N]
        err = series[o + h] - series[o]
        out[h] = (float(np.sqrt(np.mean(err ** 2))), float(np.mean(np.abs(err))))
    return out
''', "errors of the LAST value"),
        ("looks_ahead", '''\
def seasonal_naive_errors(series, test_start, horizons, season=12):
    N = len(series)
    origins = np.arange(test_start - 1, N - 1)
    out = {}
    for h in horizons:
        o = origins[origins + h < N]
        err = series[o + h] - series[o + h - season]
        out[h] = (float(np.sqrt(np.mean(err ** 2))), float(np.mean(np.abs(err))))
    return out
''', "it looks into the future"),
        ("rmse_mae_swapped", '''\
def seasonal_naive_errors(series, test_start, horizons, season=12):
    N = len(series)
    origins = np.arange(test_start - 1, N - 1)
    out = {}
    for h in horizons:
        o = origins[origins + h < N]
        err = series[o + h] - series[o + h - season * int(np.ceil(h / season))]
        out[h] = (float(np.mean(np.abs(err))), float(np.sqrt(np.mean(err ** 2))))
    return out
''', "RMSE and MAE are swapped"),
    ],
    "masked_attention_context": [
        ("mask_ignored", '''\
def masked_attention_context(query, keys, values, mask, W_q, W_k, v):
    e = np.tanh(keys @ W_k.T + query @ W_q.T) @ v
    w = np.exp(e - e.max(axis=0))
    alpha = w / w.sum(axis=0)
    return (alpha[..., None] * values).sum(axis=0), alpha
''', "the mask is ignored"),
        ("softmax_over_batch", '''\
def masked_attention_context(query, keys, values, mask, W_q, W_k, v):
    e = np.tanh(keys @ W_k.T + query @ W_q.T) @ v
    e = np.where(mask, e, -np.inf)
    w = np.exp(e - e.max(axis=1, keepdims=True))
    alpha = w / w.sum(axis=1, keepdims=True)
    return (alpha[..., None] * values).sum(axis=0), alpha
''', "the softmax runs over the batch axis"),
        ("zeroed_after_softmax", '''\
def masked_attention_context(query, keys, values, mask, W_q, W_k, v):
    e = np.tanh(keys @ W_k.T + query @ W_q.T) @ v
    w = np.exp(e - e.max(axis=0))
    alpha = w / w.sum(axis=0) * mask
    return (alpha[..., None] * values).sum(axis=0), alpha
''', "set to 0 AFTER the softmax"),
        ("keys_as_values", '''\
def masked_attention_context(query, keys, values, mask, W_q, W_k, v):
    e = np.tanh(keys @ W_k.T + query @ W_q.T) @ v
    e = np.where(mask, e, -np.inf)
    w = np.exp(e - e.max(axis=0))
    alpha = w / w.sum(axis=0)
    return (alpha[..., None] * keys).sum(axis=0), alpha
''', "weighted sum of the KEYS"),
    ],
    "speed_and_gradient": [
        ("J_not_J_minus_I", '''\
def speed_and_gradient(h, W, b):
    F = np.tanh(W @ h + b)
    r = F - h
    J = (1 - F ** 2)[:, None] * W
    return 0.5 * r @ r, J.T @ r
''', "it is J^T (F(h) - h)"),
        ("transpose_missing", '''\
def speed_and_gradient(h, W, b):
    F = np.tanh(W @ h + b)
    r = F - h
    J = (1 - F ** 2)[:, None] * W
    return 0.5 * r @ r, (J - np.eye(len(h))) @ r
''', "the transpose is missing"),
        ("wrong_sign", '''\
def speed_and_gradient(h, W, b):
    F = np.tanh(W @ h + b)
    r = h - F
    J = (1 - F ** 2)[:, None] * W
    return 0.5 * r @ r, (J - np.eye(len(h))).T @ r
''', "the sign is wrong"),
    ],
    "ctc_alpha": [
        ("skips_repeated_label", '''\
def ctc_alpha(log_probs, target, blank=0):
    T = log_probs.shape[0]
    ext = np.full(2 * len(target) + 1, blank)
    ext[1::2] = target
    alpha = np.full((T, len(ext)), -np.inf)
    alpha[0, :2] = log_probs[0, ext[:2]]
    for t in range(1, T):
        prev = alpha[t - 1]
        a = prev.copy()
        a[1:] = np.logaddexp(a[1:], prev[:-1])
        skip = ext[2:] != blank
        a[2:] = np.where(skip, np.logaddexp(a[2:], prev[:-2]), a[2:])
        alpha[t] = a + log_probs[t, ext]
    return alpha
''', "allowed over a REPEATED label"),
        ("start_without_first_label", '''\
def ctc_alpha(log_probs, target, blank=0):
    T = log_probs.shape[0]
    ext = np.full(2 * len(target) + 1, blank)
    ext[1::2] = target
    skip = np.zeros(len(ext), dtype=bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    alpha = np.full((T, len(ext)), -np.inf)
    alpha[0, 0] = log_probs[0, blank]
    for t in range(1, T):
        prev = alpha[t - 1]
        a = prev.copy()
        a[1:] = np.logaddexp(a[1:], prev[:-1])
        a[2:] = np.where(skip[2:], np.logaddexp(a[2:], prev[:-2]), a[2:])
        alpha[t] = a + log_probs[t, ext]
    return alpha
''', "alpha_1 is initialised without the first label"),
        ("probabilities", '''\
def ctc_alpha(log_probs, target, blank=0):
    T = log_probs.shape[0]
    y = np.exp(log_probs)
    ext = np.full(2 * len(target) + 1, blank)
    ext[1::2] = target
    skip = np.zeros(len(ext), dtype=bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    alpha = np.zeros((T, len(ext)))
    alpha[0, :2] = y[0, ext[:2]]
    for t in range(1, T):
        prev = alpha[t - 1]
        a = prev.copy()
        a[1:] += prev[:-1]
        a[2:] += np.where(skip[2:], prev[:-2], 0.0)
        alpha[t] = a * y[t, ext]
    return np.log(alpha)
''', "probabilities underflow to 0"),
        ("no_final_blank", '''\
def ctc_alpha(log_probs, target, blank=0):
    T = log_probs.shape[0]
    ext = np.full(2 * len(target), blank)
    ext[1::2] = target
    skip = np.zeros(len(ext), dtype=bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    alpha = np.full((T, len(ext)), -np.inf)
    alpha[0, :2] = log_probs[0, ext[:2]]
    for t in range(1, T):
        prev = alpha[t - 1]
        a = prev.copy()
        a[1:] = np.logaddexp(a[1:], prev[:-1])
        a[2:] = np.where(skip[2:], np.logaddexp(a[2:], prev[:-2]), a[2:])
        alpha[t] = a + log_probs[t, ext]
    return alpha
''', "a blank at BOTH ends"),
        ("skip_into_blank", '''\
def ctc_alpha(log_probs, target, blank=0):
    T = log_probs.shape[0]
    ext = np.full(2 * len(target) + 1, blank)
    ext[1::2] = target
    alpha = np.full((T, len(ext)), -np.inf)
    alpha[0, :2] = log_probs[0, ext[:2]]
    for t in range(1, T):
        prev = alpha[t - 1]
        a = prev.copy()
        a[1:] = np.logaddexp(a[1:], prev[:-1])
        a[2:] = np.logaddexp(a[2:], prev[:-2])
        alpha[t] = a + log_probs[t, ext]
    return alpha
''', "allowed into a blank too"),
    ],
})

# Misbehaving code, whatever the function: (source template, message fragment).
HANGS = '''\
def {name}(*args):
    while True:
        pass
'''
RETURNS_NONE = '''\
def {name}(*args):
    result = 0
'''
PRINTS_A_LOT = '''\
_solution = {name}

def {name}(*args):
    for i in range(10000):
        print("debug", i)
    return _solution(*args)
'''

PREAMBLE = '''\
import numpy as np

def sigmoid(a):
    return 1 / (1 + np.exp(-a))
'''


_LOADED = [0]


def load(source, preamble=PREAMBLE, namespace=None):
    """Execute ``source`` (after ``preamble``) and return the namespace.

    The code is registered with ``linecache`` under a name of its own (as IPython does
    for a cell), so that ``inspect.getsource`` finds it: the sandboxed checks send
    the functions' source to another process.
    """
    import linecache
    ns = {"__name__": "__main__"} if namespace is None else namespace
    _LOADED[0] += 1
    text = preamble + source
    filename = f"<student code {_LOADED[0]}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    exec(compile(text, filename, "exec"), ns)
    return ns


# ====================================================================== sample submissions
# The notebooks under exercises/samples/submitted/<student>/<assignment>/ are the release
# with the solution cells replaced (as students hand them in: not executed). They are
# written by `python tests/exercise_impls.py` (after regenerating the release), and
# tests/test_release_sync.py checks that the committed ones are what this writes.
ASSIGNMENT_FUNCS = {
    "part1_elman": ["rnn_step_forward", "rnn_step_backward", "rnn_backward",
                    "clip_by_global_norm", "masked_cross_entropy", "sample_char"],
    "part2_gated": ["lstm_step_forward", "lstm_step_backward", "gru_step_forward"],
    "part3_architectures": ["bidirectional_combine", "beam_search",
                            "additive_attention_weights"],
    "part45_applications": ["masked_sequence_loss", "rmsprop_update", "top_k_sample",
                            "token_accuracy", "seasonal_naive_errors",
                            "masked_attention_context", "speed_and_gradient", "ctc_alpha"],
}

MISBEHAVING = {   # part1_elman; the test cell of sample_char is deleted
    "rnn_step_forward": HANGS.format(name="rnn_step_forward").rstrip("\n"),
    "rnn_step_backward": RETURNS_NONE.format(name="rnn_step_backward").rstrip("\n"),
    "rnn_backward": ("# an infinite loop at the top level of a cell: nbgrader's time limit "
                     "stops it\nwhile True:\n    pass\n\n" + SOLUTIONS["rnn_backward"]),
    "clip_by_global_norm": (SOLUTIONS["clip_by_global_norm"] + "\n"
                            + PRINTS_A_LOT.format(name="clip_by_global_norm")),
    "masked_cross_entropy": ("import a_module_that_does_not_exist\n\n"
                             + SOLUTIONS["masked_cross_entropy"]),
    "sample_char": SOLUTIONS["sample_char"],
}

# One line switches the checks off (as the issue found): correct code everywhere, but the
# first solution cell replaces the checks and NumPy's comparison. Every test scores 0.
TAMPER = dict(SOLUTIONS)
TAMPER["rnn_step_forward"] = SOLUTIONS["rnn_step_forward"] + '''
for _name in dir(checks):
    if _name.startswith("check_"):
        setattr(checks, _name, lambda *args, **kwargs: print("\\u2714 correct"))
np.allclose = lambda *args, **kwargs: True
'''

# Abuse, one case per function (expected: points, message fragment, flag kind or None).
ABUSE = {
    "part1_elman": {
        "rnn_step_forward": ('''\
import labrnn

def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):
    h_t, _ = labrnn.rnn_step_forward(x_t, h_prev, {"W_xh": W_xh, "W_hh": W_hh, "b_h": b_h})
    return h_t
''', "uses labrnn's own implementation", "labrnn-implementation"),
        "rnn_step_backward": ('''\
from labrnn import rnn_step_backward as step_back

def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh):
    params = {"W_xh": W_xh, "W_hh": W_hh, "b_h": np.zeros(W_hh.shape[0])}
    dx, dh_prev, g = step_back(dh_t, (x_t, h_prev, h_t, params, "tanh"))
    return dx, dh_prev, g["W_xh"], g["W_hh"], g["b_h"]
''', "uses labrnn's own implementation", "labrnn-implementation"),
        "rnn_backward": ('''\
import os

def rnn_backward(dh, x, h0, hs, W_xh, W_hh):
    os._exit(0)
''', "ended before the check finished", "suspicious"),
        "clip_by_global_norm": ('''\
def clip_by_global_norm(grads, max_norm):
    while True:
        try:
            while True:
                pass
        except:
            pass
''', "did not return within", None),
        "masked_cross_entropy": ('''\
def masked_cross_entropy(logits, targets, mask):
    blocks = []
    while True:
        blocks.append(np.empty(10**8))
''', "memory", None),
        "sample_char": ('''\
print("x" * 1_000_000)          # a megabyte at the top level of the cell

def sample_char(logits, temperature, rng):
    if temperature == 0:
        print("y" * 1_000_000)  # and one in a call
        return int(np.argmax(logits))
    if temperature == 0:
        return int(np.argmax(logits))
    z = logits / temperature
    p = np.exp(z - z.max())
    return int(rng.choice(len(p), p=p / p.sum()))
''', "sample_char is correct", None),
    },
    "part3_architectures": {
        "bidirectional_combine": ('''\
def bidirectional_combine(h_fw, h_bw_reversed, lengths, merge):
    T, B, H = h_fw.shape
    h_bw = np.zeros_like(h_bw_reversed)
    for b in range(B):
        h_bw[:lengths[b], b] = h_bw_reversed[:lengths[b], b][::-1]
    mask = (np.arange(T)[:, None] < lengths[None, :])[..., None]
    y = np.concatenate([h_fw, h_bw], axis=-1) if merge == "concat" else h_fw + h_bw
    return (y * mask).tolist()
''', "not a Python list", None),
        "beam_search": ('''\
import labrnn.models.decoding as dec

def _search(step_fn, bos, eos, beam_width, max_len, alpha):
    def step(prefix, token):
        prefix = prefix + (int(token),)
        return np.asarray(step_fn(prefix)), prefix
    hyps = dec.beam_search(step, (), bos, eos, max_len, beam_width, alpha=alpha)
    return list(hyps[0].tokens), hyps[0].score

def beam_search(step_fn, bos, eos, beam_width, max_len, alpha):
    return _search(step_fn, bos, eos, beam_width, max_len, alpha)
''', "uses labrnn's own implementation", "labrnn-implementation"),
        "additive_attention_weights": ('''\
def additive_attention_weights(q, keys, W_q, W_k, v, mask):
    keys[~mask] = 0.0                       # in place: the caller's keys change
    e = np.tanh(keys @ W_k.T + q @ W_q.T) @ v
    e = np.where(mask, e, -np.inf)
    w = np.exp(e - e.max(axis=0, keepdims=True))
    return w / w.sum(axis=0, keepdims=True)
''', "changed its input `keys` in place", None),
    },
    # Parts IV-V: labrnn's implementation found at run time (the tripwire) and called from
    # a helper (seen in the source), an input changed in place; the other functions are
    # left as handed out.
    "part45_applications": {
        "rmsprop_update": ('''\
def rmsprop_update(param, grad, state, lr, rho, eps):
    state *= rho                            # in place: the caller's state changes
    state += (1 - rho) * grad ** 2
    return param - lr * grad / (np.sqrt(state) + eps), state.copy()
''', "changed its input `state` in place", None),
        "seasonal_naive_errors": ('''\
from labrnn.lab import forecast as fc

def _errors(series, test_start, horizons, season):
    N = len(series)
    o = np.arange(test_start - 1, N - 1)
    yhat = fc.seasonal_naive_forecast(series, o, max(horizons), season)
    truth = fc.forecast_targets(series, o, max(horizons), N)
    rmse, mae, _ = fc.errors_by_horizon(yhat, truth)
    return {h: (float(rmse[h - 1]), float(mae[h - 1])) for h in horizons}

def seasonal_naive_errors(series, test_start, horizons, season=12):
    return _errors(series, test_start, horizons, season)
''', "uses labrnn's own implementation", "labrnn-implementation"),
        "ctc_alpha": ('''\
def ctc_alpha(log_probs, target, blank=0):
    module = __import__("labrnn.training." + "ctc", fromlist=["x"])
    return np.asarray(getattr(module, "ctc_" + "alpha")(log_probs, target, blank=blank))
''', "it called labrnn.training.ctc.ctc_alpha", "labrnn-implementation"),
    },
}


def sample_sources():
    """``{(student, assignment): ({grade_id: solution source}, [deleted grade_ids])}``."""
    out = {}
    for a, funcs in ASSIGNMENT_FUNCS.items():
        out[("full", a)] = ({f: SOLUTIONS[f] for f in funcs}, [])
        out[("alternative", a)] = ({f: ALTERNATIVES[f] for f in funcs}, [])
        for k in (1, 2):
            out[(f"wrong_{k}", a)] = ({f: WRONG[f][k - 1][1] if k <= len(WRONG[f])
                                       else SOLUTIONS[f] for f in funcs}, [])
    out[("misbehaving", "part1_elman")] = (MISBEHAVING, ["test_sample_char"])
    out[("tamper", "part1_elman")] = ({f: TAMPER[f] for f in ASSIGNMENT_FUNCS["part1_elman"]},
                                      [])
    for a, cases in ABUSE.items():
        out[("abuse", a)] = ({f: src for f, (src, _, _) in cases.items()}, [])
    return out


def build_sample(release_path, solutions, deleted=()):
    """The release notebook (a dict) with its solution cells replaced by ``solutions``."""
    import json
    nb = json.loads(open(release_path, encoding="utf-8").read())
    cells = []
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in deleted:
            continue
        if gid in solutions:
            lines = solutions[gid].rstrip("\n").split("\n")
            cell["source"] = [line + "\n" for line in lines[:-1]] + [lines[-1]]
        cells.append(cell)
    nb["cells"] = cells
    return nb


def write_samples(exercises):
    """Write every sample submission under ``exercises/samples/submitted/``."""
    import json
    from pathlib import Path
    exercises = Path(exercises)
    for (student, a), (solutions, deleted) in sample_sources().items():
        nb = build_sample(exercises / "release" / a / f"{a}.ipynb", solutions, deleted)
        path = exercises / "samples" / "submitted" / student / a / f"{a}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    from pathlib import Path
    write_samples(Path(__file__).resolve().parents[1] / "exercises")
