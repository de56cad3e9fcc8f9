"""The restricted unpickler behind :func:`vgtui.core.data.load_pickle`: it builds NumPy arrays
and plain containers from a pickle and nothing else, so loading a pickle runs no code from it.

Nothing from the file reaches NumPy's own unpickling code: its C ``__setstate__`` methods
trust their input (a truncated dtype state crashes the interpreter). The names a pickle may
use build inert placeholders instead, and :func:`array_of` checks each one before making a
real array of it with np.frombuffer.
"""

from __future__ import annotations

import io
import math
import pickle
import pickletools
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np


class Refused(pickle.UnpicklingError):
    """The pickle names something other than NumPy arrays and plain containers."""


class Malformed(ValueError):
    """A pickled array or dtype that is not what NumPy writes for a plain array."""


class _Constructor:
    """What an allowed name unpickles to: callable, and immune to BUILD opcodes."""

    __slots__ = ("_build", "_name")

    def __init__(self, name: str, build: Callable[..., Any]) -> None:
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_build", build)

    def __call__(self, *args: Any) -> Any:
        return self._build(*args)

    def __setattr__(self, name: str, value: Any) -> None:
        raise pickle.UnpicklingError(f"cannot set attributes of {self._name}")


class _PickledDtype:
    """``numpy.dtype(code, align, copy)`` and the state set on it, not yet a dtype."""

    __slots__ = ("args", "state")

    def __init__(self, *args: Any) -> None:
        self.args = args
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state


class PickledArray:
    """An array as pickled: ``_reconstruct`` plus state, or ``_frombuffer``'s arguments."""

    __slots__ = ("parts",)

    def __init__(self, parts: tuple | None = None) -> None:
        self.parts = parts

    def __setstate__(self, state: Any) -> None:
        self.parts = ("state", state)


class _PickledScalar:
    """A NumPy scalar (never one of the four arrays): kept inert."""

    __slots__ = ()


_NDARRAY = _Constructor("numpy.ndarray", lambda *args: None)
"""``numpy.ndarray`` as an argument of ``_reconstruct``; calling it builds nothing."""


def _reconstruct(subtype: Any, shape: Any, dtype: Any) -> PickledArray:
    if subtype is not _NDARRAY or shape != (0,):
        raise pickle.UnpicklingError("unexpected arguments to numpy's _reconstruct")
    return PickledArray()


def _frombuffer(buffer: Any, dtype: Any, shape: Any, order: Any) -> PickledArray:
    return PickledArray(("frombuffer", buffer, dtype, shape, order))


def _latin1(text: Any, encoding: Any = "latin1") -> bytes:
    """``_codecs.encode`` as protocols 0-2 use it: bytes written as latin-1 text."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1", "latin_1"):
        raise pickle.UnpicklingError("_codecs.encode is allowed for latin-1 text only")
    return text.encode("latin-1")


_ALLOWED: dict[tuple[str, str], _Constructor] = {
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _Constructor("numpy.dtype", _PickledDtype),
    ("numpy.core.multiarray", "scalar"): _Constructor("scalar", lambda *a: _PickledScalar()),
    ("numpy._core.multiarray", "scalar"): _Constructor("scalar", lambda *a: _PickledScalar()),
    # NumPy 1.x (the book's file) and NumPy 2 name their modules differently.
    ("numpy.core.multiarray", "_reconstruct"): _Constructor("_reconstruct", _reconstruct),
    ("numpy._core.multiarray", "_reconstruct"): _Constructor("_reconstruct", _reconstruct),
    ("numpy.core.numeric", "_frombuffer"): _Constructor("_frombuffer", _frombuffer),
    ("numpy._core.numeric", "_frombuffer"): _Constructor("_frombuffer", _frombuffer),
    ("_codecs", "encode"): _Constructor("_codecs.encode", _latin1),  # bytes, protocols 0-2
}

_DTYPE_CODE = re.compile(r"[A-Za-z?][0-9]{0,3}")


def _dtype(pickled: Any) -> np.dtype:
    """A plain dtype (no fields, no sub-arrays) from its pickled form."""
    if not isinstance(pickled, _PickledDtype):
        raise Malformed("has no valid dtype")
    args, state = pickled.args, pickled.state
    if not 1 <= len(args) <= 3 or not isinstance(args[0], str):
        raise Malformed("has an unsupported dtype")
    if not _DTYPE_CODE.fullmatch(args[0]):
        raise Malformed(f"has an unsupported dtype {args[0][:20]!r}")
    if state is not None and not (
        isinstance(state, tuple)
        and 8 <= len(state) <= 9
        and state[0] in (3, 4)
        and state[1] in ("<", ">", "|", "=")
        and state[2:5] == (None, None, None)
    ):
        raise Malformed("has an unsupported dtype")
    try:
        with warnings.catch_warnings():  # e.g. NumPy 2 deprecates the code 'a'
            warnings.simplefilter("ignore")
            dtype = np.dtype(args[0])
    except (TypeError, ValueError):
        raise Malformed(f"has an unknown dtype {args[0]!r}") from None
    if state is not None and state[1] in "<>":
        dtype = dtype.newbyteorder(state[1])
    return dtype


def array_of(pickled: PickledArray) -> np.ndarray:
    """The uint8 array ``pickled`` stands for, every part checked first."""
    parts = pickled.parts
    if parts is None:
        raise Malformed("is an incomplete array")
    if parts[0] == "frombuffer":
        _, buffer, dtype, shape, order = parts
    else:
        state = parts[1]
        if isinstance(state, tuple) and len(state) == 5 and state[0] == 1:
            state = state[1:]
        if not isinstance(state, tuple) or len(state) != 4 or not isinstance(state[2], bool):
            raise Malformed("is an array with an unexpected state")
        shape, dtype, fortran, buffer = state
        order = "F" if fortran else "C"
    dtype = _dtype(dtype)
    if dtype != np.uint8:
        raise Malformed(f"must be uint8, got {dtype}")
    if (
        not isinstance(shape, tuple)
        or len(shape) > 32
        or any(type(n) is not int or n < 0 for n in shape)
    ):
        raise Malformed("is an array with an invalid shape")
    if order not in ("C", "F"):
        raise Malformed("is an array with an invalid order")
    if not isinstance(buffer, (bytes, bytearray)):
        raise Malformed("is an array without its data")
    if len(buffer) != math.prod(shape):
        raise Malformed(f"has {len(buffer)} bytes of data for shape {shape}")
    return np.frombuffer(buffer, dtype=np.uint8).reshape(shape, order=order)


class _ArraysOnly(pickle.Unpickler):
    """An unpickler that builds NumPy arrays and plain containers (dicts, lists, tuples,
    strings, numbers) and nothing else: a pickle that names any other function or class,
    ``os.system`` say, is refused before anything is called, so loading runs no code."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except (KeyError, TypeError):
            raise Refused(f"{module}.{name}") from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("persistent references are not allowed")


def kind_of(value: Any) -> str:
    """What an unpickled value is, for messages."""
    return {
        PickledArray: "a NumPy array",
        _PickledScalar: "a NumPy scalar",
        _PickledDtype: "a dtype",
        _Constructor: "a function",
    }.get(type(value), type(value).__name__)


def unpickle_arrays(raw: bytes) -> Any:
    """The content of the pickle ``raw`` with every array left as a :class:`PickledArray`
    (:func:`array_of` makes it real). Raises :class:`Refused` for a pickle that names
    anything else; a corrupt pickle can raise almost anything."""
    # Walk the opcodes first: this refuses a length that claims more bytes than the file
    # holds, which the C unpickler would otherwise allocate before reading.
    for _ in pickletools.genops(raw):
        pass
    return _ArraysOnly(io.BytesIO(raw)).load()
