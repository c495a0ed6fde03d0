"""refimpl: a NumPy reference implementation of batch normalization and the practice around it.

Layers are pairs of pure functions in `refimpl.functional`; stateful modules with PyTorch's names
and semantics are in `refimpl.nn`; optimizers in `refimpl.optim`; data in `refimpl.data`; a
training loop in `refimpl.train`. Every number and figure on the site comes from this package.
"""

__version__ = "0.1.0"
