"""The base classes every stateful layer builds on: `Parameter`, `Module`, `Sequential`.

The conventions follow PyTorch's ``torch.nn`` so that a reader can move between the two without
translation:

- a module computes ``forward(x)`` (also reachable as ``module(x)``) and, unlike PyTorch, has an
  explicit ``backward(dy)`` that returns the gradient with respect to its input and *adds* the
  gradients of its parameters to ``Parameter.grad`` (gradients accumulate until ``zero_grad``);
- ``train()`` / ``eval()`` set the ``training`` flag of the module and of every sub-module;
- ``parameters()`` yields the `Parameter` objects in the order they were assigned.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


class Parameter:
    """A learnable array and the gradient accumulated for it.

    Parameters
    ----------
    data : array_like
        Initial value; stored as a floating-point array of any shape ``S``.
    name : str, optional
        A label used in error messages and by ``named_parameters``.

    Attributes
    ----------
    data : ndarray, shape S
        The current value. Optimizers update it in place.
    grad : ndarray, shape S
        The gradient of the loss with respect to ``data``, summed over every ``backward`` since
        the last ``zero_grad`` (zeros at construction).

    Examples
    --------
    >>> w = Parameter(np.ones((2, 3)), name="weight")
    >>> w
    Parameter(name='weight', shape=(2, 3), dtype=float64)
    >>> w.grad.shape, float(w.grad.sum())  # the gradient starts at zero
    ((2, 3), 0.0)
    """

    def __init__(self, data, name: str = "") -> None:
        data = np.array(data, copy=True)
        if not np.issubdtype(data.dtype, np.floating):
            raise TypeError(
                f"Parameter {name!r}: expected a floating-point array, got {data.dtype}"
            )
        self.data = data
        self.grad = np.zeros_like(data)
        self.name = name

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    def zero_grad(self) -> None:
        """Set the accumulated gradient to zero, in place."""
        self.grad[...] = 0

    def __repr__(self) -> str:
        return f"Parameter(name={self.name!r}, shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class of every layer and model.

    Sub-classes assign `Parameter` objects, other `Module` objects, or lists of modules as
    attributes in ``__init__``; ``parameters()`` and ``train()`` find them there, in assignment
    order. Sub-classes implement ``forward`` and ``backward``.

    Examples
    --------
    >>> from refimpl.nn import BatchNorm1d, Linear, Sequential
    >>> model = Sequential(Linear(4, 3), BatchNorm1d(3))
    >>> [name for name, _ in model.named_parameters()]
    ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']
    >>> model.eval().layers[1].training  # eval() reaches every sub-module
    False
    """

    training: bool = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    #: Whether ``backward`` takes ``input_grad=False``: the caller needs no input gradient, so
    #: the module may skip computing it (and returns None).
    input_grad_optional = False

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    # -- structure -------------------------------------------------------------------------

    def children(self) -> Iterator[Module]:
        """Yield the direct sub-modules, in assignment order."""
        for value in vars(self).values():
            if isinstance(value, Module):
                yield value
            elif isinstance(value, list | tuple):
                yield from (item for item in value if isinstance(item, Module))

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted_name, parameter)`` for this module and all sub-modules."""
        for key, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + key, value
            elif isinstance(value, Module):
                yield from value.named_parameters(prefix + key + ".")
            elif isinstance(value, list | tuple):
                for index, item in enumerate(value):
                    if isinstance(item, Module):
                        yield from item.named_parameters(f"{prefix}{key}.{index}.")

    def parameters(self) -> Iterator[Parameter]:
        """Yield every `Parameter` of this module and its sub-modules, each once."""
        seen: set[int] = set()
        for _, parameter in self.named_parameters():
            if id(parameter) not in seen:
                seen.add(id(parameter))
                yield parameter

    def modules(self) -> Iterator[Module]:
        """Yield this module and every sub-module, depth first."""
        yield self
        for child in self.children():
            yield from child.modules()

    # -- modes and gradients ---------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode on this module and its children."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Set evaluation mode; the same as ``train(False)``."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Set the gradient of every parameter to zero."""
        for parameter in self.parameters():
            parameter.zero_grad()

    def __repr__(self) -> str:
        children = list(self.children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        inner = "\n".join("  " + repr(child).replace("\n", "\n  ") for child in children)
        return f"{type(self).__name__}(\n{inner}\n)"

    def extra_repr(self) -> str:
        return ""


class Sequential(Module):
    """Apply modules one after another; backward runs them in reverse.

    Parameters
    ----------
    *layers : Module
        The modules, in the order the input flows through them.

    Examples
    --------
    >>> import numpy as np
    >>> from refimpl.nn import Linear, ReLU, Sequential
    >>> model = Sequential(Linear(4, 3, rng=np.random.default_rng(0)), ReLU())
    >>> model(np.ones((2, 4))).shape
    (2, 3)
    """

    input_grad_optional = True

    def __init__(self, *layers: Module) -> None:
        for layer in layers:
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential takes Module objects, got {type(layer).__name__}")
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Run every layer's backward in reverse order; return the input gradient.

        Parameters
        ----------
        dy : ndarray
            Gradient of the loss with respect to the output.
        input_grad : bool, default True
            False when the input is data that needs no gradient (in PyTorch, an input without
            ``requires_grad``): returns None, and a first layer that can skip computing it
            (``Linear``) does.
        """
        for layer in reversed(self.layers[1:]):
            dy = layer.backward(dy)
        if self.layers:
            first = self.layers[0]
            if not input_grad and first.input_grad_optional:
                dy = first.backward(dy, input_grad=False)
            else:
                dy = first.backward(dy)
        return dy if input_grad else None

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)
