"""Loss modules. A loss takes the targets as a second argument and returns a float; its
``backward()`` needs no upstream gradient (it is the end of the graph) and returns the gradient
with respect to the model output.
"""

from __future__ import annotations

import numpy as np

from refimpl import functional as F
from refimpl.nn.layers import require_cache
from refimpl.nn.module import Module

__all__ = ["CrossEntropyLoss"]


class CrossEntropyLoss(Module):
    r"""Softmax cross-entropy with integer class labels, averaged over the batch.

    The same as ``torch.nn.CrossEntropyLoss()`` with its defaults (``reduction="mean"``, no
    class weights, no label smoothing); see `refimpl.functional.softmax_cross_entropy_forward`.

    Examples
    --------
    >>> loss_fn = CrossEntropyLoss()
    >>> loss = loss_fn(np.zeros((2, 3)), np.array([0, 2]))
    >>> round(loss, 4)
    1.0986
    >>> np.round(loss_fn.backward(), 4)
    array([[-0.3333,  0.1667,  0.1667],
           [ 0.1667,  0.1667, -0.3333]])
    """

    def __init__(self) -> None:
        self._cache = None

    def __call__(self, logits: np.ndarray, targets: np.ndarray) -> float:
        return self.forward(logits, targets)

    def forward(self, logits: np.ndarray, targets: np.ndarray) -> float:
        """Return the mean loss of ``logits`` (N, K) against integer ``targets`` (N,)."""
        loss, self._cache = F.softmax_cross_entropy_forward(logits, targets)
        return loss

    def backward(self, dloss: float = 1.0) -> np.ndarray:
        """Return the gradient of the loss with respect to the logits, shape (N, K)."""
        return F.softmax_cross_entropy_backward(dloss, require_cache(self, self._cache))
