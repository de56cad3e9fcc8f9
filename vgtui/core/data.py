"""MNIST-format datasets: a strict IDX reader, the bundled copy, and the book's pickle cache."""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import math
import os
import pickle
import pickletools
import re
import stat
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

IMAGE_MAGIC = 0x00000803
LABEL_MAGIC = 0x00000801
IMAGE_SIDE = 28
PIXELS = IMAGE_SIDE * IMAGE_SIDE
NUM_CLASSES = 10
PIXEL_SCALE = np.float32(1.0 / 255.0)  # uint8 pixels to floats in [0, 1]

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"

GZIP_MAGIC = b"\x1f\x8b"
READ_CHUNK = 1 << 20  # bytes per read: memory follows the data actually there, not the header


class DataError(Exception):
    """The dataset is missing or malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class Dataset:
    """Images as uint8 rows of 784 pixels, labels as uint8 in 0..9."""

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: dict = field(default_factory=dict, compare=False)
    """Where the data came from, for config.json: bundled, a directory, or a pickle with its
    SHA-256."""

    @property
    def train_size(self) -> int:
        return int(self.train_labels.shape[0])

    @property
    def test_size(self) -> int:
        return int(self.test_labels.shape[0])


def bundled_dir() -> Path:
    """The folder of the MNIST files shipped inside the package."""
    return Path(str(resources.files("vgtui.datasets") / "mnist"))


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, for messages."""
    if stat.S_ISDIR(mode):
        return "is a directory"
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return f"is not a regular file ({name})"
    return "is not a regular file"


def _os_problem(path: Path, exc: OSError) -> str:
    """The problem an OSError from opening or inspecting ``path`` stands for, in words."""
    if exc.errno == errno.ELOOP:
        return f"symlink loop ({exc.strerror})"
    if exc.errno == errno.ENOENT and os.path.lexists(path):
        try:
            return f"broken symlink (to {os.readlink(path)})"
        except OSError:
            return "broken symlink"
    if exc.errno == errno.ENOENT:
        return "missing file"
    return f"cannot open ({exc.strerror or exc})"


def _open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading if it is a regular file: a directory, FIFO, device or
    broken link is a DataError saying what it is, and opening a FIFO never blocks."""
    nonblocking = getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, os.O_RDONLY | nonblocking | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise DataError(f"{path}: {_os_problem(path, exc)}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise DataError(f"{path}: {_kind(mode)}")
        if nonblocking:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_upto(stream: BinaryIO, limit: int) -> list[bytes]:
    """At most ``limit`` bytes from ``stream``, in chunks: memory follows what is really
    there, so a header that declares terabytes costs nothing until the bytes come."""
    chunks: list[bytes] = []
    got = 0
    while got < limit:
        chunk = stream.read(min(READ_CHUNK, limit - got))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return chunks


def _join(chunks: list[bytes], size: int) -> np.ndarray:
    """The chunks as one uint8 array, each chunk freed once copied."""
    array = np.empty(size, dtype=np.uint8)
    position = 0
    chunks.reverse()
    while chunks:
        chunk = chunks.pop()
        array[position : position + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
        position += len(chunk)
    return array


def read_idx(path: Path | str, magic: int) -> np.ndarray:
    """Read one IDX file (gzip or raw) with the given magic number into a uint8 array.

    The header is read first; then no more than the data it declares plus one byte is read
    (or decompressed), so a gzip bomb is refused after a few bytes. Every problem, a corrupt
    gzip stream included, is one DataError naming the file."""
    path = Path(path)
    ndim = 3 if magic == IMAGE_MAGIC else 1
    header_len = 4 + 4 * ndim
    with _open_regular(path) as handle:
        try:
            gzipped = handle.read(2) == GZIP_MAGIC
            handle.seek(0)
            stream: BinaryIO = gzip.GzipFile(fileobj=handle, mode="rb") if gzipped else handle
            header = b"".join(_read_upto(stream, header_len))
            if len(header) < header_len:
                raise DataError(f"{path}: truncated header ({len(header)} bytes)")
            found = int.from_bytes(header[:4], "big")
            if found != magic:
                raise DataError(f"{path}: bad magic number 0x{found:08x}, expected 0x{magic:08x}")
            dims = tuple(int.from_bytes(header[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
            if ndim == 3 and dims[1:] != (IMAGE_SIDE, IMAGE_SIDE):
                raise DataError(f"{path}: images are {dims[1]}x{dims[2]}, expected 28x28")
            expected = math.prod(dims)
            chunks = _read_upto(stream, expected + 1)
        except (OSError, EOFError) as exc:
            raise DataError(f"{path}: cannot read ({exc})") from None
        except zlib.error as exc:
            raise DataError(f"{path}: cannot read (corrupt gzip data: {exc})") from None
    body = sum(len(chunk) for chunk in chunks)
    if body < expected:
        raise DataError(f"{path}: truncated, {body} data bytes for {expected} expected")
    if body > expected:
        raise DataError(
            f"{path}: file is longer than its header says (more than {expected} data bytes)"
        )
    array = _join(chunks, expected)
    return array.reshape(dims[0], PIXELS) if ndim == 3 else array


def _find(folder: Path, stem: str) -> Path:
    """The regular file ``stem.gz`` or ``stem`` in ``folder``; if neither is one, the problem
    with the first entry that exists (a directory, a FIFO, a symlink loop...), else missing."""
    problem = None
    for candidate in (folder / f"{stem}.gz", folder / stem):
        try:
            mode = candidate.stat().st_mode
        except OSError as exc:
            if exc.errno != errno.ENOENT or os.path.lexists(candidate):
                problem = problem or f"{candidate}: {_os_problem(candidate, exc)}"
            continue
        if stat.S_ISREG(mode):
            return candidate
        problem = problem or f"{candidate}: {_kind(mode)}"
    if problem is not None:
        raise DataError(problem)
    raise DataError(f"{folder / (stem + '.gz')}: missing file (neither {stem}.gz nor {stem})")


def _check_pair(images: np.ndarray, labels: np.ndarray, where: str) -> None:
    if images.ndim != 2 or images.shape[1] != PIXELS:
        raise DataError(f"{where}: images must be N x 784, got shape {images.shape}")
    if images.shape[0] != labels.shape[0]:
        raise DataError(f"{where}: {images.shape[0]} images but {labels.shape[0]} labels")
    if labels.size and int(labels.max()) >= NUM_CLASSES:
        raise DataError(f"{where}: label {int(labels.max())} outside 0-9")
    if images.shape[0] == 0:
        raise DataError(f"{where}: no images")


def load_idx_dir(folder: Path | str) -> Dataset:
    """Load the four standard MNIST-format IDX files (gzip or raw) from ``folder``."""
    folder = Path(folder)
    try:
        mode = folder.stat().st_mode
    except OSError as exc:
        problem = _os_problem(folder, exc)
        raise DataError(
            f"{folder}: {'no such directory' if problem == 'missing file' else problem}"
        ) from None
    if not stat.S_ISDIR(mode):
        raise DataError(f"{folder}: not a directory")
    parts = {}
    for key, stem, magic in (
        ("train_images", TRAIN_IMAGES, IMAGE_MAGIC),
        ("train_labels", TRAIN_LABELS, LABEL_MAGIC),
        ("test_images", TEST_IMAGES, IMAGE_MAGIC),
        ("test_labels", TEST_LABELS, LABEL_MAGIC),
    ):
        parts[key] = read_idx(_find(folder, stem), magic)
    _check_pair(parts["train_images"], parts["train_labels"], str(_find(folder, TRAIN_LABELS)))
    _check_pair(parts["test_images"], parts["test_labels"], str(_find(folder, TEST_LABELS)))
    return Dataset(
        name=folder.name or str(folder),
        **parts,
        source={"kind": "directory", "path": str(folder.resolve())},
    )


def load_bundled() -> Dataset:
    """The MNIST copy shipped with vgtui."""
    data = load_idx_dir(bundled_dir())
    return Dataset(
        "mnist",
        data.train_images,
        data.train_labels,
        data.test_images,
        data.test_labels,
        source={"kind": "bundled", "checked against": "SHA256SUMS"},
    )


class _Refused(pickle.UnpicklingError):
    """The pickle names something other than NumPy arrays and plain containers."""


class _Malformed(ValueError):
    """A pickled array or dtype that is not what NumPy writes for a plain array."""


# Nothing from the file reaches NumPy's own unpickling code: its C ``__setstate__`` methods
# trust their input (a truncated dtype state crashes the interpreter). The names a pickle may
# use build inert placeholders instead, and ``_array`` checks each one before making a real
# array of it with np.frombuffer.


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


class _PickledArray:
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


def _reconstruct(subtype: Any, shape: Any, dtype: Any) -> _PickledArray:
    if subtype is not _NDARRAY or shape != (0,):
        raise pickle.UnpicklingError("unexpected arguments to numpy's _reconstruct")
    return _PickledArray()


def _frombuffer(buffer: Any, dtype: Any, shape: Any, order: Any) -> _PickledArray:
    return _PickledArray(("frombuffer", buffer, dtype, shape, order))


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
        raise _Malformed("has no valid dtype")
    args, state = pickled.args, pickled.state
    if not 1 <= len(args) <= 3 or not isinstance(args[0], str):
        raise _Malformed("has an unsupported dtype")
    if not _DTYPE_CODE.fullmatch(args[0]):
        raise _Malformed(f"has an unsupported dtype {args[0][:20]!r}")
    if state is not None and not (
        isinstance(state, tuple)
        and 8 <= len(state) <= 9
        and state[0] in (3, 4)
        and state[1] in ("<", ">", "|", "=")
        and state[2:5] == (None, None, None)
    ):
        raise _Malformed("has an unsupported dtype")
    try:
        with warnings.catch_warnings():  # e.g. NumPy 2 deprecates the code 'a'
            warnings.simplefilter("ignore")
            dtype = np.dtype(args[0])
    except (TypeError, ValueError):
        raise _Malformed(f"has an unknown dtype {args[0]!r}") from None
    if state is not None and state[1] in "<>":
        dtype = dtype.newbyteorder(state[1])
    return dtype


def _array(pickled: _PickledArray) -> np.ndarray:
    """The uint8 array ``pickled`` stands for, every part checked first."""
    parts = pickled.parts
    if parts is None:
        raise _Malformed("is an incomplete array")
    if parts[0] == "frombuffer":
        _, buffer, dtype, shape, order = parts
    else:
        state = parts[1]
        if isinstance(state, tuple) and len(state) == 5 and state[0] == 1:
            state = state[1:]
        if not isinstance(state, tuple) or len(state) != 4 or not isinstance(state[2], bool):
            raise _Malformed("is an array with an unexpected state")
        shape, dtype, fortran, buffer = state
        order = "F" if fortran else "C"
    dtype = _dtype(dtype)
    if dtype != np.uint8:
        raise _Malformed(f"must be uint8, got {dtype}")
    if (
        not isinstance(shape, tuple)
        or len(shape) > 32
        or any(type(n) is not int or n < 0 for n in shape)
    ):
        raise _Malformed("is an array with an invalid shape")
    if order not in ("C", "F"):
        raise _Malformed("is an array with an invalid order")
    if not isinstance(buffer, (bytes, bytearray)):
        raise _Malformed("is an array without its data")
    if len(buffer) != math.prod(shape):
        raise _Malformed(f"has {len(buffer)} bytes of data for shape {shape}")
    return np.frombuffer(buffer, dtype=np.uint8).reshape(shape, order=order)


class _ArraysOnly(pickle.Unpickler):
    """An unpickler that builds NumPy arrays and plain containers (dicts, lists, tuples,
    strings, numbers) and nothing else: a pickle that names any other function or class,
    ``os.system`` say, is refused before anything is called, so loading runs no code."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except (KeyError, TypeError):
            raise _Refused(f"{module}.{name}") from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("persistent references are not allowed")


def _kind_of(value: Any) -> str:
    """What an unpickled value is, for messages."""
    return {
        _PickledArray: "a NumPy array",
        _PickledScalar: "a NumPy scalar",
        _PickledDtype: "a dtype",
        _Constructor: "a function",
    }.get(type(value), type(value).__name__)


def _pickled_array(path: Path, content: dict, key: str) -> np.ndarray:
    if key not in content:
        raise DataError(f"{path}: missing key {key!r}")
    value = content[key]
    if not isinstance(value, _PickledArray):
        raise DataError(f"{path}: {key} must be a NumPy array, got {_kind_of(value)}")
    try:
        return _array(value)
    except _Malformed as problem:
        raise DataError(f"{path}: {key} {problem}") from None


def _pickled_images(path: Path, content: dict, key: str) -> np.ndarray:
    """N x 784, N x 28 x 28 or N x 1 x 28 x 28 (the book's ``flatten=False``), as N x 784."""
    images = _pickled_array(path, content, key)
    if images.ndim < 2 or math.prod(images.shape[1:]) != PIXELS:
        raise DataError(
            f"{path}: {key} must be N images of 784 pixels (N x 784 or N x 28 x 28), "
            f"got shape {images.shape}"
        )
    return np.ascontiguousarray(images.reshape(images.shape[0], PIXELS))


def _pickled_labels(path: Path, content: dict, key: str) -> np.ndarray:
    labels = _pickled_array(path, content, key)
    if labels.ndim != 1:
        raise DataError(f"{path}: {key} must be one label per image (1-d), got {labels.shape}")
    return np.ascontiguousarray(labels)


def load_pickle(path: Path | str) -> Dataset:
    """Load the ``mnist.pkl`` cache written by the "Deep Learning from Scratch" loader.

    The file is unpickled without running code from it: only NumPy arrays and plain
    containers can be built (see ``_ArraysOnly``); every array is checked for shape, dtype
    and range. Every problem is one DataError naming the file."""
    path = Path(path)
    with _open_regular(path) as handle:
        try:
            raw = handle.read()
        except OSError as exc:
            raise DataError(f"{path}: cannot read ({exc})") from None
        try:
            # Walk the opcodes first: this refuses a length that claims more bytes than the
            # file holds, which the C unpickler would otherwise allocate before reading.
            for _ in pickletools.genops(raw):
                pass
            content = _ArraysOnly(io.BytesIO(raw)).load()
        except _Refused as refused:
            raise DataError(
                f"{path}: refuses to load pickled {refused}: only NumPy arrays and plain "
                "containers are loaded (anything else could run code)"
            ) from None
        except Exception as exc:  # a corrupt pickle can raise almost anything
            reason = " ".join(str(exc).split())[:200]
            raise DataError(
                f"{path}: not a readable pickle ({type(exc).__name__}: {reason})"
            ) from None
    if not isinstance(content, dict):
        raise DataError(f"{path}: expected a dict, got {_kind_of(content)}")
    train_images = _pickled_images(path, content, "train_img")
    train_labels = _pickled_labels(path, content, "train_label")
    test_images = _pickled_images(path, content, "test_img")
    test_labels = _pickled_labels(path, content, "test_label")
    _check_pair(train_images, train_labels, f"{path} (train)")
    _check_pair(test_images, test_labels, f"{path} (test)")
    source = {
        "kind": "pickle",
        "path": str(path.resolve()),
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    return Dataset(path.stem, train_images, train_labels, test_images, test_labels, source)


def load_dataset(data_dir: Path | str | None = None, data_pkl: Path | str | None = None) -> Dataset:
    """The dataset chosen on the command line: a pickle, an IDX folder, or the bundled MNIST."""
    if data_pkl is not None:
        return load_pickle(data_pkl)
    if data_dir is not None:
        return load_idx_dir(data_dir)
    return load_bundled()
