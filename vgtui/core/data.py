"""MNIST-format datasets: a strict IDX reader, the bundled copy, and the book's pickle cache."""

from __future__ import annotations

import gzip
import pickle
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

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

    @property
    def train_size(self) -> int:
        return int(self.train_labels.shape[0])

    @property
    def test_size(self) -> int:
        return int(self.test_labels.shape[0])


def bundled_dir() -> Path:
    """The folder of the MNIST files shipped inside the package."""
    return Path(str(resources.files("vgtui.datasets") / "mnist"))


def _read_bytes(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            head = handle.read(2)
        if head == b"\x1f\x8b":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None


def read_idx(path: Path, magic: int) -> np.ndarray:
    """Read one IDX file (gzip or raw) with the given magic number into a uint8 array."""
    raw = _read_bytes(path)
    ndim = 3 if magic == IMAGE_MAGIC else 1
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise DataError(f"{path}: truncated header ({len(raw)} bytes)")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise DataError(f"{path}: bad magic number 0x{found:08x}, expected 0x{magic:08x}")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if ndim == 3 and dims[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise DataError(f"{path}: images are {dims[1]}x{dims[2]}, expected 28x28")
    expected = int(np.prod(dims))
    body = len(raw) - header_len
    if body < expected:
        raise DataError(f"{path}: truncated, {body} data bytes for {expected} expected")
    if body > expected:
        raise DataError(f"{path}: {body - expected} unexpected bytes after the data")
    array = np.frombuffer(raw, dtype=np.uint8, offset=header_len)
    return array.reshape(dims[0], PIXELS) if ndim == 3 else array


def _find(folder: Path, stem: str) -> Path:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
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
    if not folder.is_dir():
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
    return Dataset(name=folder.name or str(folder), **parts)


def load_bundled() -> Dataset:
    """The MNIST copy shipped with vgtui."""
    data = load_idx_dir(bundled_dir())
    return Dataset(
        "mnist", data.train_images, data.train_labels, data.test_images, data.test_labels
    )


def load_pickle(path: Path | str) -> Dataset:
    """Load the ``mnist.pkl`` cache written by the "Deep Learning from Scratch" loader.

    Unpickling runs code from the file: only give a pickle you trust.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            content = pickle.load(handle)  # noqa: S301 - documented: trusted files only
    except FileNotFoundError:
        raise DataError(f"{path}: missing file") from None
    except Exception as exc:  # a corrupt pickle can raise almost anything
        raise DataError(f"{path}: not a readable pickle ({type(exc).__name__}: {exc})") from None
    if not isinstance(content, dict):
        raise DataError(f"{path}: expected a dict, got {type(content).__name__}")
    arrays = {}
    for key in ("train_img", "train_label", "test_img", "test_label"):
        if key not in content:
            raise DataError(f"{path}: missing key {key!r}")
        value = np.asarray(content[key])
        if value.dtype != np.uint8:
            raise DataError(f"{path}: {key} must be uint8, got {value.dtype}")
        arrays[key] = value
    train_images = arrays["train_img"].reshape(arrays["train_img"].shape[0], -1)
    test_images = arrays["test_img"].reshape(arrays["test_img"].shape[0], -1)
    train_labels = arrays["train_label"].reshape(-1)
    test_labels = arrays["test_label"].reshape(-1)
    _check_pair(train_images, train_labels, f"{path} (train)")
    _check_pair(test_images, test_labels, f"{path} (test)")
    return Dataset(path.stem, train_images, train_labels, test_images, test_labels)


def load_dataset(data_dir: Path | str | None = None, data_pkl: Path | str | None = None) -> Dataset:
    """The dataset chosen on the command line: a pickle, an IDX folder, or the bundled MNIST."""
    if data_pkl is not None:
        return load_pickle(data_pkl)
    if data_dir is not None:
        return load_idx_dir(data_dir)
    return load_bundled()
