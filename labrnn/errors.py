"""Errors that explain what went wrong in the reader's terms.

All of them subclass the built-in exception a user would expect (``ValueError``
or ``TypeError``), so ``except ValueError`` keeps working.
"""


class ShapeError(ValueError):
    """An array has the wrong number of dimensions or the wrong shape."""


class DTypeError(TypeError):
    """An array has a dtype the computation cannot use (or dtypes are mixed)."""


class DeviceError(ValueError):
    """Arrays live in different array libraries or on different devices."""


class NonFiniteError(FloatingPointError):
    """A NaN or an infinity appeared where it would silently corrupt training."""


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (a string for a size, a float for a seed, ...).

    A ``TypeError``, and also a ``ValueError`` so that code catching bad values
    (``except ValueError``) catches it too.
    """
