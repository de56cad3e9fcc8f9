"""MNIST-format datasets: a strict IDX reader, the bundled copy, and the book's pickle cache."""

from __future__ import annotations

import errno
import gzip
import hashlib
import math
import os
import stat
import zlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import BinaryIO

import numpy as np

from vgtui.core.data_pickle import (
    Malformed,
    PickledArray,
    Refused,
    array_of,
    kind_of,
    unpickle_arrays,
)
from vgtui.core.safe_text import safe_text

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
MESSAGE_LIMIT = 2000  # characters of an error line: a name read from a file may be any length


class DataError(Exception):
    """The dataset is missing or malformed; the message names the file and the problem, on
    one line: a name read from a hostile file (a pickled class called "\\nnumpy...") or a
    path is shown escaped, never as a line break or an escape sequence."""

    def __init__(self, message: str) -> None:
        super().__init__(safe_text(message, limit=MESSAGE_LIMIT))


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


def check_sums(folder: Path) -> None:
    """Each file ``folder/SHA256SUMS`` lists has that digest: a damaged copy of the bundled
    MNIST (a broken install, a disk error) is named before anything trains on it, and a run's
    config.json can say its data was checked (about 25 ms for its 11 MB)."""
    sums = folder / "SHA256SUMS"
    try:
        lines = sums.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError) as problem:
        raise DataError(f"{sums}: cannot be read ({problem.__class__.__name__})") from None
    for line in lines:
        digest, _, name = line.partition("  ")
        path = folder / name
        try:
            actual = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as problem:
            raise DataError(f"{path}: cannot be read ({problem.__class__.__name__})") from None
        if actual != digest:
            raise DataError(
                f"{path}: its SHA256 is not the one in SHA256SUMS: the bundled MNIST is "
                "damaged (reinstall vgtui)"
            )


def load_bundled() -> Dataset:
    """The MNIST copy shipped with vgtui, checked against its SHA256SUMS."""
    check_sums(bundled_dir())
    data = load_idx_dir(bundled_dir())
    return Dataset(
        "mnist",
        data.train_images,
        data.train_labels,
        data.test_images,
        data.test_labels,
        source={"kind": "bundled", "checked against": "SHA256SUMS"},
    )


def _pickled_array(path: Path, content: dict, key: str) -> np.ndarray:
    if key not in content:
        raise DataError(f"{path}: missing key {key!r}")
    value = content[key]
    if not isinstance(value, PickledArray):
        raise DataError(f"{path}: {key} must be a NumPy array, got {kind_of(value)}")
    try:
        return array_of(value)
    except Malformed as problem:
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
    containers can be built (:mod:`vgtui.core.data_pickle`); every array is checked for shape,
    dtype and range. Every problem is one DataError naming the file."""
    path = Path(path)
    with _open_regular(path) as handle:
        try:
            raw = handle.read()
        except OSError as exc:
            raise DataError(f"{path}: cannot read ({exc})") from None
        try:
            content = unpickle_arrays(raw)
        except Refused as refused:
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
        raise DataError(f"{path}: expected a dict, got {kind_of(content)}")
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
