"""Encoder-decoder (sequence-to-sequence) models (book chapters 10 and 11).

The **encoder** reads the source tokens ``src`` (S, B) and summarises them;
its final state ``h_S`` is the **context** ``c``. The **decoder** is a second
recurrent network that starts from ``c`` and emits the target one token at a
time, reading its own previous token (``BOS`` at the first step), equation
``seq2seq-decoder``::

    s_0 = h_S                                               the context initialises the decoder
    s_t = cell([emb(y_{t-1}) ; c_t], s_{t-1})               (c_t omitted for decoder="init")
    logits_t = W_out [s_t ; c_t] + b_out                    (s_t only for decoder="init")

Three decoder variants, selected by the keyword ``decoder``:

* ``"init"``: the context only initialises the decoder (Sutskever et al. 2014);
* ``"feed"``: the same context ``c_t = h_S`` is also concatenated to the
  decoder input and to the output layer's input at every step (Cho et al. 2014);
* ``"attention"``: ``c_t`` is recomputed at every step by attention
  (:mod:`labrnn.layers.attention`, ``score="additive" | "general" | "dot"``) with the
  previous decoder state as query over the encoder outputs, padded source
  steps masked (Bahdanau et al. 2015).

**Teacher forcing** (training, :func:`seq2seq_forward`): the decoder reads the
*true* previous tokens, ``tgt_in = [BOS, y_1, ..., y_{T-1}]`` (:func:`shift_right`),
so all steps of the target are scored in one pass; :func:`seq2seq_loss`
adds the masked mean cross-entropy over each target's length (the target ends
with ``EOS``) and the full backward pass. **Free running** (inference): the
decoder reads its own predictions through :func:`make_step_fn`, which plugs
into :func:`labrnn.models.decoding.greedy_decode`, ``beam_search`` and ``sample_decode``.

Padding never changes a result: the encoder runs with ``src_lengths``
(its state freezes after each source's end, :mod:`labrnn.models.recurrent`), the
attention masks padded source steps, and the loss masks padded target steps;
a decoder step only reads earlier target tokens, so padding after a target's
end cannot reach its real steps.

Parameters are one flat dict (:mod:`labrnn.paramtree`): ``src.E`` (V_src, E),
``tgt.E`` (V_tgt, E), ``enc.*`` (a cell E -> H), ``dec.*`` (a cell with
E [+ H] inputs and H units), ``attn.*`` (the score's parameters), ``out.W``
(V_tgt, H [+ H]) and ``out.b`` (V_tgt,). Encoder and decoder use the same
``cell`` (``"elman" | "lstm" | "gru" | "lnlstm"``), so the encoder's state has the form
the decoder needs; for the LSTM the context and the query are ``h`` of ``(h, c)``.
Shapes are time-major: ``src (S, B)``, ``tgt (T, B)`` integer token ids.

**Deep and bidirectional encoders** (keywords ``enc_layers=1`` and
``bidirectional=False``; the defaults give the single-layer encoder above,
equation ``seq2seq-encoder``). With ``enc_layers > 1`` or ``bidirectional=True``
the encoder is a stack (:mod:`labrnn.models.stacked`, equation ``deep-stack``) whose
layers may be bidirectional (:mod:`labrnn.models.bidirectional`, equation
``bidir-merge``, ``merge="concat"``), run with ``src_lengths``; its parameters
live under ``enc.l0.*`` .. ``enc.l{L-1}.*`` (then ``fw.`` / ``bw.``). The keys
are the top layer's outputs, ``(S, B, Hk)`` with ``Hk = 2H`` when
bidirectional (``H`` otherwise), so ``attn.*`` is made with
``init_attention(score, H, Hk)`` and the attention context ``c_t`` is
``Hk`` wide. A unidirectional stack starts the decoder from the top layer's
final state. A bidirectional one has two final states, ``->h_S`` (each
sequence's own last step) and ``<-h_1``; a learned **bridge** maps them to the
decoder's initial state::

    s_0 = tanh(W_br [->h_S ; <-h_1] + b_br)      bridge.W (H, 2H), bridge.b (H,)
    c_0 = tanh(W_brc [->c_S ; <-c_1] + b_brc)    bridge.W_c (H, 2H), bridge.b_c (H,)  (LSTMs)

For the pair-state cells (``"lstm"``, ``"lnlstm"``) the memory cell is
bridged the same way with its own parameters. With ``decoder="feed"`` the
fixed context is ``c = s_0`` (``h`` of the bridged state, width ``H``). Sizes:
``dec.*`` reads ``E + C`` inputs and ``out.W`` is ``(V_tgt, H + C)``, with
``C = 0`` (init), ``H`` (feed) or ``Hk`` (attention).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..layers.activations import log_softmax
from ..layers.attention import SCORES, attention_backward, attention_forward, init_attention
from ..backend import device_of, from_numpy, host_rng, namespace
from ..cells import get_cell, init_cell, run_backward, run_forward
from ..layers.embedding import check_ids, embedding_backward, embedding_forward, init_embedding
from ..errors import DTypeError, ShapeError
from ..layers.init import glorot_uniform
from ..layers.affine import affine_backward, affine_forward
from ..training.losses import softmax_cross_entropy
from ..layers.masking import check_lengths, sequence_mask
from ..paramtree import add_grads, subparams, with_prefix
from .recurrent import recurrent_backward, recurrent_forward
from .stacked import count_layers, init_stacked, stacked_backward, stacked_forward
from ..validate import check_array, check_int

__all__ = ["DECODERS", "init_seq2seq", "shift_right", "seq2seq_forward", "seq2seq_backward",
           "seq2seq_loss", "seq2seq_encode", "make_step_fn", "DecoderState"]

DECODERS = ("init", "feed", "attention")


class DecoderState(NamedTuple):
    """What the free-running decoder carries between steps (opaque to the searches).

    ``state``: the decoder cell's state, a tuple (``(h,)``, or ``(h, c)`` for the LSTM);
    ``keys``: the encoder outputs (S, B, Hk) (``Hk = 2H`` for a bidirectional
    encoder, else ``H``); ``mask``: boolean (S, B) source mask;
    ``context``: the fixed context ``h`` of ``s_0`` (B, H); ``alpha``: the attention
    weights (S, B) of the last step (``None`` before the first step or without attention).
    """

    state: object
    keys: object
    mask: object
    context: object
    alpha: object = None


def _check_config(decoder, cell, score, enc_layers=1, bidirectional=False):
    if isinstance(enc_layers, bool) or not isinstance(enc_layers, (int, np.integer)) \
            or enc_layers < 1:
        raise ValueError(f"enc_layers must be an integer >= 1 (the number of encoder layers), "
                         f"received {enc_layers!r}")
    if not isinstance(bidirectional, (bool, np.bool_)):
        raise TypeError(f"bidirectional must be True or False, received {bidirectional!r} "
                        f"({type(bidirectional).__name__})")
    if decoder not in DECODERS:
        raise ValueError(f"unknown decoder {decoder!r}; choose one of {list(DECODERS)}")
    get_cell(cell)
    if decoder == "attention" and score not in SCORES:
        raise ValueError(f"unknown attention score {score!r}; choose one of {list(SCORES)}")
    if decoder == "attention" and score == "dot" and bidirectional:
        raise ValueError("score='dot' needs queries and keys of the same width, but a "
                         "bidirectional encoder gives keys of width 2H against decoder states "
                         "of width H: use score='additive' or 'general'")


def _n_state(cell):
    """How many arrays the state of ``cell`` holds: 1 (``(h,)``) or 2 (``(h, c)``)."""
    return len(get_cell(cell).state_names)


def _stacked_encoder(enc_layers, bidirectional):
    """True when the encoder is a :mod:`labrnn.models.stacked` stack (``enc.l0.*`` keys)."""
    return enc_layers > 1 or bool(bidirectional)


def init_seq2seq(V_src, V_tgt, E, H, *, decoder="attention", cell="gru", score="additive",
                 A=None, enc_layers=1, bidirectional=False, seed=0, xp=None, device=None,
                 dtype="float64", **init_kw):
    """Parameters of an encoder-decoder (see the module docstring for the keys).

    ``V_src``, ``V_tgt``: vocabulary sizes (BOS and EOS included); ``E``:
    embedding size; ``H``: hidden size of encoder and decoder; ``decoder`` in
    :data:`DECODERS`; ``score`` and ``A`` for ``decoder="attention"`` (see
    :func:`labrnn.init_attention`); ``enc_layers`` and ``bidirectional``
    choose the encoder (a :mod:`labrnn.models.stacked` stack under ``enc.l{l}.*``
    and, when bidirectional, the bridge ``bridge.*``, see the module
    docstring); ``init_kw`` go to the cells' initialisers
    (:func:`labrnn.cells.init_cell`). Every number is drawn on the host from
    ``seed``; the defaults give exactly the parameters of earlier versions.
    """
    _check_config(decoder, cell, score, enc_layers, bidirectional)
    kw = dict(xp=xp, device=device, dtype=dtype)
    Hk = 2 * H if bidirectional else H
    ctx = {"init": 0, "feed": H, "attention": Hk}[decoder]
    p = {"src.E": init_embedding(V_src, E, seed=[seed, 0], **kw),
         "tgt.E": init_embedding(V_tgt, E, seed=[seed, 1], **kw)}
    if _stacked_encoder(enc_layers, bidirectional):
        p.update(with_prefix("enc.", init_stacked(cell, E, H, int(enc_layers), bool(bidirectional),
                                                  seed=[seed, 2], **kw, **init_kw)))
    else:
        p.update(with_prefix("enc.", init_cell(cell, E, H, seed=[seed, 2], **kw, **init_kw)))
    p.update(with_prefix("dec.", init_cell(cell, E + ctx, H, seed=[seed, 3], **kw, **init_kw)))
    if decoder == "attention":
        p.update(with_prefix("attn.", init_attention(score, H, Hk, A, seed=[seed, 4], **kw)))
    if bidirectional:
        brng = host_rng([seed, 6])
        for w, b in (("W", "b"), ("W_c", "b_c"))[:_n_state(cell)]:
            p[f"bridge.{w}"] = from_numpy(glorot_uniform((H, 2 * H), brng), **kw)
            p[f"bridge.{b}"] = from_numpy(np.zeros(H), **kw)
    rng = host_rng([seed, 5])
    p["out.W"] = from_numpy(glorot_uniform((V_tgt, H + ctx), rng), **kw)
    p["out.b"] = from_numpy(np.zeros(V_tgt), **kw)
    return p


def shift_right(tgt, bos):
    """Teacher-forcing inputs ``[BOS, y_1, ..., y_{T-1}]`` (T, B) of targets ``tgt`` (T, B).

    ``tgt`` holds integer token ids; ``bos`` is an integer token id ``>= 0`` (a float
    such as ``2.7`` or a bool is refused, not truncated).
    """
    check_array("tgt", tgt, "a (T, B) integer array of token ids")
    xp = namespace(tgt, names=["tgt"])
    if tgt.ndim != 2:
        raise ShapeError(f"tgt must have shape (T, B) of token ids, received {tuple(tgt.shape)}")
    if not xp.isdtype(tgt.dtype, "integral"):
        raise DTypeError(f"tgt must hold integer token ids, received dtype {tgt.dtype}")
    bos = check_int("bos", bos, low=0)
    first = xp.full((1, tgt.shape[1]), bos, dtype=tgt.dtype, device=device_of(tgt))
    return xp.concat([first, tgt[:-1, ...]], axis=0)


def _as_ids(name, ids, like):
    if isinstance(ids, (list, tuple, np.ndarray)):
        host = np.asarray(ids)
        if not np.issubdtype(host.dtype, np.integer):
            raise DTypeError(f"{name} must hold integer token ids, received dtype {host.dtype}")
        ids = from_numpy(host, like=like)
    namespace(ids, like, names=[name, "params"])
    if ids.ndim != 2:
        raise ShapeError(f"{name} must have shape ({'S' if name == 'src' else 'T'}, B) of token "
                         f"ids (time-major), received {tuple(ids.shape)}")
    return ids


def _encoder_dims(enc, cell, enc_layers, bidirectional):
    """``(E_enc, H)`` of the encoder's parameters: input size of its first layer, state size."""
    stacked = _stacked_encoder(enc_layers, bidirectional)
    has_layers = any(k.startswith("l0.") for k in enc)
    if stacked != has_layers:
        made = ("a stacked encoder (enc.l0.*: enc_layers > 1 or bidirectional=True)" if has_layers
                else "a single-layer unidirectional encoder (enc_layers=1, bidirectional=False)")
        raise ValueError(f"enc_layers={enc_layers}, bidirectional={bidirectional} do not match "
                         f"the params, which hold {made}; pass the options given to "
                         "init_seq2seq")
    if not stacked:
        _, E_enc, H, _ = get_cell(cell).check(enc)
        return E_enc, H
    L = count_layers(enc)
    if L != enc_layers:
        raise ValueError(f"enc_layers={enc_layers}, but the params hold an encoder of {L} "
                         f"layer(s) (enc.l0.* .. enc.l{L - 1}.*)")
    dirs = ("fw.", "bw.") if bidirectional else ("",)
    if bidirectional and not any(k.startswith("l0.fw.") for k in enc):
        raise ValueError("bidirectional=True, but the encoder's layers have no 'fw.'/'bw.' "
                         "directions; pass the options given to init_seq2seq")
    if not bidirectional and any(k.startswith("l0.fw.") for k in enc):
        raise ValueError("bidirectional=False, but the encoder's layers are bidirectional "
                         "('fw.'/'bw.' keys); pass bidirectional=True")
    E_enc = H = None
    for l in range(L):
        for d in dirs:
            sub = subparams(enc, f"l{l}.{d}")
            _, D_l, H_l, _ = get_cell(cell).check(sub)
            if H is None:
                E_enc, H = D_l, H_l
            want = E_enc if l == 0 else (2 * H if bidirectional else H)
            if D_l != want or H_l != H:
                raise ShapeError(f"encoder layer {l}{' ' + d[:-1] if d else ''} reads D={D_l} "
                                 f"features with H={H_l} units; expected D={want}, H={H} "
                                 "(every layer has H units and reads the layer below)")
    return E_enc, H


def _check_params(params, decoder, cell, score, enc_layers=1, bidirectional=False):
    """Sub-dicts and sizes of a seq2seq parameter dict, checked against the configuration.

    Returns ``(enc, dec, attn, E, H, V, C)``, ``C`` the width of the context
    the decoder reads (0, ``H`` or ``Hk``).
    """
    _check_config(decoder, cell, score, enc_layers, bidirectional)
    enc, dec = subparams(params, "enc."), subparams(params, "dec.")
    for k in ("src.E", "tgt.E", "out.W", "out.b"):
        if k not in params:
            raise KeyError(f"params has no {k!r}; build them with init_seq2seq (keys: "
                           f"{sorted(params)})")
    E_enc, H = _encoder_dims(enc, cell, enc_layers, bidirectional)
    _, D_dec, H_dec, _ = get_cell(cell).check(dec)
    if H_dec != H:
        raise ShapeError(f"the decoder's state (B, H={H_dec}) does not match the encoder's final "
                         f"state (B, H={H}): the context initialises the decoder, so both need "
                         "the same hidden size")
    E = params["tgt.E"].shape[1]
    if params["src.E"].shape[1] != E_enc:
        raise ShapeError(f"params['src.E'] has shape {tuple(params['src.E'].shape)}, the "
                         f"encoder reads E={E_enc} features")
    Hk = 2 * H if bidirectional else H
    ctx = {"init": 0, "feed": H, "attention": Hk}[decoder]
    if D_dec != E + ctx:
        need = {0: "E", H: "E + H"}.get(ctx, "E + 2H")
        raise ShapeError(f"the decoder reads {D_dec} inputs, decoder={decoder!r} needs "
                         f"{need} = {E + ctx} (E={E}, H={H}); were the params made with "
                         f"another decoder= or bidirectional= in init_seq2seq?")
    V = params["out.W"].shape[0]
    if tuple(params["out.W"].shape) != (V, H + ctx):
        need = {0: "H", H: "2H"}.get(ctx, "3H")
        raise ShapeError(f"params['out.W'] must have shape (V, {need}="
                         f"{H + ctx}), received {tuple(params['out.W'].shape)}")
    if bidirectional:
        for w, b in (("W", "b"), ("W_c", "b_c"))[:_n_state(cell)]:
            for k, shape in ((f"bridge.{w}", (H, 2 * H)), (f"bridge.{b}", (H,))):
                if k not in params:
                    raise KeyError(f"params has no {k!r}: a bidirectional encoder needs the "
                                   "bridge to the decoder's initial state; build the params "
                                   "with init_seq2seq(..., bidirectional=True)")
                if tuple(params[k].shape) != shape:
                    raise ShapeError(
                        f"params[{k!r}] must have shape {shape}: the bridge maps the encoder's "
                        f"final states [h_fw; h_bw] (B, 2H={2 * H}) to the decoder's initial "
                        f"state (B, H={H}), received {tuple(params[k].shape)}")
    attn = None
    if decoder == "attention":
        attn = subparams(params, "attn.") if score != "dot" else {}
    return enc, dec, attn, E, H, V, ctx


def seq2seq_encode(src, params, *, decoder="attention", cell="gru", score="additive",
                   src_lengths=None, enc_layers=1, bidirectional=False):
    """Run the encoder (equation ``seq2seq-encoder``); returns ``(DecoderState, cache)``.

    ``src`` (S, B) token ids; ``src_lengths`` (B,) optional. The state holds
    ``s_0 = h_S`` (each sequence's state at its own last step; the top
    layer's with ``enc_layers > 1``; the bridge of both directions' final
    states with ``bidirectional=True``, see the module docstring), the
    encoder outputs ``(S, B, Hk)`` (zero at padded steps), the source mask
    and the context.
    """
    enc, dec, attn, E, H, V, C = _check_params(params, decoder, cell, score, enc_layers,
                                               bidirectional)
    E_src = params["src.E"]
    src = _as_ids("src", src, E_src)
    check_ids("src", src, E_src.shape[0])
    xp = namespace(E_src)
    S, B = src.shape
    lengths = check_lengths([S] * B if src_lengths is None else src_lengths, S, B, E_src)
    x, ecache = embedding_forward(src, E_src)
    bridge = None
    if not _stacked_encoder(enc_layers, bidirectional):
        keys, state, rcache = recurrent_forward(x, enc, None, lengths, cell=cell,
                                                return_state=True)
    else:
        keys, states, rcache = stacked_forward(x, enc, None, lengths, cell=cell,
                                               bidirectional=bidirectional)
        state = states[-1]
        if bidirectional:
            state, bridge = _bridge_forward(state, params, cell)
    mask = sequence_mask(lengths, S)
    context = state[0]
    cache = {"emb": ecache, "rnn": rcache, "bridge": bridge, "L": int(enc_layers),
             "bidirectional": bool(bidirectional)}
    return DecoderState(state, keys, mask, context), cache


def _bridge_forward(state, params, cell):
    """``s_0 = tanh(W_br [h_fw ; h_bw] + b_br)`` (and the same for ``c`` of a pair state)."""
    fw, bw = state
    xp = namespace(fw[0])
    names = (("W", "b"), ("W_c", "b_c"))
    out, caches = [], []
    for k in range(len(fw)):
        w, b = names[k]
        a, acache = affine_forward(xp.concat([fw[k], bw[k]], axis=-1), params[f"bridge.{w}"],
                                   params[f"bridge.{b}"])
        s = xp.tanh(a)
        out.append(s)
        caches.append((acache, s))
    return tuple(out), caches


def _bridge_backward(ds0, caches, cell):
    """Backward of :func:`_bridge_forward`: ``ds0`` -> ``((dstate_fw, dstate_bw), grads)``."""
    names = (("W", "b"), ("W_c", "b_c"))
    dfw, dbw, grads = [], [], {}
    for k, (acache, s) in enumerate(caches):
        da = ds0[k] * (1.0 - s * s)
        dcat, dW, db = affine_backward(da, acache)
        H = s.shape[-1]
        dfw.append(dcat[:, :H])
        dbw.append(dcat[:, H:])
        grads[f"bridge.{names[k][0]}"], grads[f"bridge.{names[k][1]}"] = dW, db
    return (tuple(dfw), tuple(dbw)), grads


def _dec_step(emb_t, dstate, params, dec, attn, decoder, cell, score):
    """One decoder step; returns ``(out_t (B, H [+ H]), new DecoderState, step cache)``."""
    xp = namespace(emb_t)
    s = tuple(dstate.state)
    acache, alpha = None, None
    if decoder == "attention":
        c_t, alpha, acache = attention_forward(s[0], dstate.keys, attn, score, dstate.mask)
    elif decoder == "feed":
        c_t = dstate.context
    inp = emb_t if decoder == "init" else xp.concat([emb_t, c_t], axis=-1)
    c = get_cell(cell)                 # the parameters were checked once, at the entry
    _, new, ccache = run_forward(c, xp, inp[None, ...], dec, c.variant(dec), s)
    out = new[0] if decoder == "init" else xp.concat([new[0], c_t], axis=-1)
    nstate = DecoderState(new, dstate.keys, dstate.mask, dstate.context, alpha)
    return out, nstate, (ccache, acache)


def seq2seq_forward(src, tgt_in, params, *, decoder="attention", cell="gru", score="additive",
                    src_lengths=None, enc_layers=1, bidirectional=False):
    """Teacher-forced forward pass: the logits of every target step.

    Parameters
    ----------
    src : integer array (S, B)
        Source token ids, padded to the longest source.
    tgt_in : integer array (T, B)
        Decoder inputs, the targets shifted right (:func:`shift_right`):
        ``[BOS, y_1, ..., y_{T-1}]``.
    params : dict from :func:`init_seq2seq`
    decoder : {"init", "feed", "attention"}, keyword-only
    cell : {"elman", "lstm", "gru", "lnlstm"}, keyword-only
    score : {"additive", "general", "dot"}, keyword-only (attention only)
    src_lengths : integer array (B,), optional
        True source lengths (default: all ``S``).
    enc_layers : int >= 1, keyword-only
        Encoder layers (equation ``deep-stack``), as given to :func:`init_seq2seq`.
    bidirectional : bool, keyword-only
        Bidirectional encoder layers (equation ``bidir-merge``) and the bridge
        to the decoder's initial state, as given to :func:`init_seq2seq`.

    Returns
    -------
    logits : (T, B, V)
    cache : for :func:`seq2seq_backward`; ``cache["alpha"]`` holds the
        attention weights (T, S, B) (``None`` without attention).
    """
    enc_kw = dict(enc_layers=enc_layers, bidirectional=bidirectional)
    dstate, enc_cache = seq2seq_encode(src, params, decoder=decoder, cell=cell, score=score,
                                       src_lengths=src_lengths, **enc_kw)
    enc, dec, attn, E, H, V, C = _check_params(params, decoder, cell, score, **enc_kw)
    E_tgt = params["tgt.E"]
    tgt_in = _as_ids("tgt_in", tgt_in, E_tgt)
    check_ids("tgt_in", tgt_in, E_tgt.shape[0])
    S, B = dstate.keys.shape[0], dstate.keys.shape[1]
    if tgt_in.shape[1] != B:
        raise ShapeError(f"tgt_in must have shape (T, B={B}) (one column per source sequence), "
                         f"received {tuple(tgt_in.shape)}")
    xp = namespace(E_tgt)
    emb, tcache = embedding_forward(tgt_in, E_tgt)
    outs, steps, alphas = [], [], []
    for t in range(tgt_in.shape[0]):
        out, dstate, sc = _dec_step(emb[t, ...], dstate, params, dec, attn, decoder, cell, score)
        outs.append(out)
        steps.append(sc)
        alphas.append(dstate.alpha)
    O = xp.stack(outs, axis=0)
    logits, ocache = affine_forward(O, params["out.W"], params["out.b"])
    cache = {"layer": "seq2seq", "config": (decoder, cell, score), "enc": enc_cache,
             "emb": tcache, "steps": steps, "out": ocache, "E": E, "H": H,
             "keys": dstate.keys, "context": dstate.context,
             "alpha": xp.stack(alphas, axis=0) if decoder == "attention"
             else None}
    return logits, cache


def seq2seq_backward(dlogits, cache):
    """Backward of :func:`seq2seq_forward`: ``dlogits`` (T, B, V) -> ``grads`` (every key of params).

    Backpropagation through time through the decoder (and, with attention,
    through every step's attention into the encoder outputs), then through
    the bridge (bidirectional encoders) and the encoder into both embedding tables.
    """
    if not (isinstance(cache, dict) and cache.get("layer") == "seq2seq"):
        raise TypeError("cache must be the last value returned by seq2seq_forward")
    decoder, cell, score = cache["config"]
    H, E = cache["H"], cache["E"]
    xp = namespace(dlogits)
    T = len(cache["steps"])
    V = cache["out"][1].shape[0]
    B = cache["keys"].shape[1]
    if tuple(dlogits.shape) != (T, B, V):
        raise ShapeError(f"dlogits must have the logits' shape (T={T}, B={B}, V={V}), received "
                         f"{tuple(dlogits.shape)}")
    dO, dW, db = affine_backward(dlogits, cache["out"])
    grads = {"out.W": dW, "out.b": db}
    keys = cache["keys"]
    dkeys = xp.zeros_like(keys)
    dctx = xp.zeros_like(cache["context"])
    parts = _n_state(cell)
    carry = tuple(xp.zeros_like(dctx) for _ in range(parts))
    demb = [None] * T
    gdec, gattn = {}, {}
    for t in range(T - 1, -1, -1):
        ccache, acache = cache["steps"][t]
        do = dO[t, ...]
        dh = do if decoder == "init" else do[:, :H]
        dstate = (carry[0] + dh,) + carry[1:]
        dinp, dprev, g = run_backward(ccache.cell, xp, None, ccache, dstate)
        dinp = dinp[0, ...]
        gdec = add_grads(gdec, g)
        if decoder == "init":
            demb[t] = dinp
        else:
            demb[t] = dinp[:, :E]
            dc = do[:, H:] + dinp[:, E:]
            if decoder == "feed":
                dctx = dctx + dc
            else:
                dq, dk, ga = attention_backward(dc, acache)
                dkeys = dkeys + dk
                gattn = add_grads(gattn, ga)
                dprev = (dprev[0] + dq,) + tuple(dprev[1:])
        carry = tuple(dprev)
    grads.update(with_prefix("dec.", gdec))
    if decoder == "attention":
        grads.update(with_prefix("attn.", gattn))
    grads["tgt.E"] = embedding_backward(xp.stack(demb, axis=0), cache["emb"])
    ds0 = (carry[0] + dctx,) + carry[1:]
    ecache = cache["enc"]
    if ecache["rnn"].get("layer") != "stacked":
        dx, _, genc = recurrent_backward(dkeys, ecache["rnn"], dstate_T=ds0)
    else:
        if ecache["bridge"] is not None:
            dtop, gbr = _bridge_backward(ds0, ecache["bridge"], cell)
            grads.update(gbr)
        else:
            dtop = ds0
        dx, _, genc = stacked_backward(dkeys, ecache["rnn"],
                                       dstate_T=[None] * (ecache["L"] - 1) + [dtop])
    grads.update(with_prefix("enc.", genc))
    grads["src.E"] = embedding_backward(dx, cache["enc"]["emb"])
    return grads


def seq2seq_loss(src, tgt, params, *, bos, decoder="attention", cell="gru", score="additive",
                 src_lengths=None, tgt_lengths=None, enc_layers=1, bidirectional=False):
    """Teacher-forced training loss and gradients, equation ``seq2seq-loss``.

    ``tgt`` (T, B): the target tokens, each sequence ending with EOS at step
    ``tgt_lengths[b] - 1`` (padding after it is ignored); the decoder reads
    ``shift_right(tgt, bos)``. The loss is the mean cross-entropy over the
    real target tokens of the whole batch (a masked sequence loss)::

        L = sum_{b, t < len_b} -log p(y_{t,b} | y_{<t,b}, x_b) / sum_b len_b

    Returns ``(loss, grads, cache)``: ``loss`` a 0-d array, ``grads`` keyed
    like ``params``, ``cache`` the forward cache (``cache["logits"]`` added).
    ``enc_layers`` and ``bidirectional`` choose the encoder, as in :func:`init_seq2seq`.
    """
    enc_kw = dict(enc_layers=enc_layers, bidirectional=bidirectional)
    E_tgt = params["tgt.E"] if isinstance(params, dict) and "tgt.E" in params else None
    if E_tgt is None:
        _check_params(params, decoder, cell, score, **enc_kw)
    tgt = _as_ids("tgt", tgt, E_tgt)
    check_int("bos", bos, low=0, high=None if E_tgt is None else E_tgt.shape[0] - 1)
    T, B = tgt.shape
    lengths = check_lengths([T] * B if tgt_lengths is None else tgt_lengths, T, B, E_tgt)
    logits, cache = seq2seq_forward(src, shift_right(tgt, bos), params, decoder=decoder,
                                    cell=cell, score=score, src_lengths=src_lengths, **enc_kw)
    xp = namespace(logits)
    mask = xp.astype(sequence_mask(lengths, T), logits.dtype)
    loss, dlogits = softmax_cross_entropy(logits, tgt, mask)
    grads = seq2seq_backward(dlogits, cache)
    cache["logits"] = logits
    return loss, grads, cache


def make_step_fn(params, *, decoder="attention", cell="gru", score="additive", enc_layers=1,
                 bidirectional=False):
    """The decoder as ``step_fn(state, token) -> (log_probs, state)`` for :mod:`labrnn.models.decoding`.

    Start from the :class:`DecoderState` of :func:`seq2seq_encode`
    (one source sequence, B = 1, for greedy/beam/sample decoding)::

        state, _ = seq2seq_encode(src, params, ...)
        hyp = greedy_decode(make_step_fn(params, ...), state, bos, eos, max_len)

    ``token`` is an ``int`` (or an integer array (B,) for a batch);
    ``log_probs`` has shape (B, V). The returned state's ``alpha`` holds the
    step's attention weights (S, B). ``enc_layers`` and ``bidirectional``
    must be those of the encoder (they fix the parameters' shapes).
    """
    enc, dec, attn, E, H, V, C = _check_params(params, decoder, cell, score, enc_layers,
                                               bidirectional)
    E_tgt = params["tgt.E"]

    def step_fn(state, token):
        if not isinstance(state, DecoderState):
            raise TypeError("state must be a DecoderState (from seq2seq_encode or a previous "
                            f"step), received {type(state).__name__}")
        B = state.keys.shape[1]
        if isinstance(token, (int, np.integer)):
            ids = from_numpy(np.full((B,), int(token), dtype=np.int64), like=E_tgt)
        else:
            ids = token
        emb, _ = embedding_forward(ids, E_tgt)
        out, new, _ = _dec_step(emb, state, params, dec, attn, decoder, cell, score)
        logits, _ = affine_forward(out, params["out.W"], params["out.b"])
        return log_softmax(logits), new

    return step_fn
