"""Write PyTorch reference values for labrnn's CTC loss (``tests/reference/ctc_torch.npz``).

Run where PyTorch is installed (CPU is enough)::

    python tests/reference/make_ctc_reference.py

A float64 batch of 5 sequences with different input and target lengths (a repeated
label, an empty target, a target of maximal length for its input) is drawn from a
seeded NumPy generator; PyTorch computes ``F.ctc_loss(log_softmax(logits), ...)`` with
``reduction="none"`` and ``"mean"`` and the gradient of the mean loss w.r.t. the logits
by autograd. ``tests/test_ctc.py`` reads the file with NumPy only.
"""

from __future__ import annotations

import pathlib

import numpy as np
import torch
import torch.nn.functional as F

HERE = pathlib.Path(__file__).resolve().parent


def main():
    rng = np.random.default_rng(2006)
    T, C = 9, 5
    input_lengths = np.array([9, 7, 4, 9, 6], dtype=np.int64)
    targets_list = [[1, 2, 3], [4, 4], [], [2, 2, 3, 3, 1], [1, 1, 1]]   # last two: tight fits
    logits = rng.normal(scale=1.5, size=(T, len(input_lengths), C))
    S = max(len(t) for t in targets_list)
    targets = np.zeros((len(targets_list), S), dtype=np.int64)
    for b, t in enumerate(targets_list):
        targets[b, :len(t)] = t
    target_lengths = np.array([len(t) for t in targets_list], dtype=np.int64)

    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    kw = dict(targets=torch.tensor(targets), input_lengths=torch.tensor(input_lengths),
              target_lengths=torch.tensor(target_lengths), blank=0)
    loss_none = F.ctc_loss(z.log_softmax(-1), reduction="none", **kw)
    loss_mean = F.ctc_loss(z.log_softmax(-1), reduction="mean", **kw)
    loss_mean.backward()
    np.savez_compressed(
        HERE / "ctc_torch.npz", logits=logits, targets=targets, input_lengths=input_lengths,
        target_lengths=target_lengths, loss_none=loss_none.detach().numpy(),
        loss_mean=loss_mean.detach().numpy(), grad_logits_mean=z.grad.numpy(),
        torch_version=np.array(torch.__version__))
    print("wrote", HERE / "ctc_torch.npz", "losses", loss_none.detach().numpy())


if __name__ == "__main__":
    main()
