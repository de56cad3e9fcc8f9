"""Shared fixtures: the bundled MNIST (loaded once per session), small MNIST-format datasets
written to disk, the ``vgtui`` command run to its end, and the BLAS policy; Hypothesis's
profile for CI."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from vgtui.core.blas import limit_blas_threads
from vgtui.core.data import IMAGE_MAGIC, LABEL_MAGIC, Dataset, load_bundled

settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    # Each property test caps its own examples (max_examples, bounded to seconds); in CI the
    # examples are the same on every run (no red build that a rerun turns green) and no
    # example database is written into the clone. Locally Hypothesis explores at random.
    settings.load_profile("ci")


@pytest.fixture(scope="session", autouse=True)
def single_threaded_blas():
    """The entry points' BLAS policy (one thread per lane, see vgtui.core.blas) for the tests,
    which build trainers and banks in this process: small products only slow down on a
    2-thread pool, badly so on a busy machine."""
    previous = limit_blas_threads(1)
    yield
    if previous is not None:
        limit_blas_threads(previous)


@pytest.fixture(scope="session")
def mnist() -> Dataset:
    """The real MNIST shipped with vgtui."""
    return load_bundled()


def _idx_bytes(array: np.ndarray, magic: int) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_dataset(folder: Path, train: int = 30, test: int = 12, compress: bool = True) -> Path:
    """A small MNIST-format dataset with random pixels and labels."""
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "train-images-idx3-ubyte": (rng.integers(0, 256, (train, 28, 28)), IMAGE_MAGIC),
        "train-labels-idx1-ubyte": (rng.integers(0, 10, train), LABEL_MAGIC),
        "t10k-images-idx3-ubyte": (rng.integers(0, 256, (test, 28, 28)), IMAGE_MAGIC),
        "t10k-labels-idx1-ubyte": (rng.integers(0, 10, test), LABEL_MAGIC),
    }
    for stem, (array, magic) in files.items():
        payload = _idx_bytes(array, magic)
        if compress:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(payload))
        else:
            (folder / stem).write_bytes(payload)
    return folder


@pytest.fixture
def write_dataset() -> Callable[..., Path]:
    """``write_dataset(folder, train=30, test=12, compress=True)``: a small MNIST-format
    dataset with random pixels and labels written to ``folder``."""
    return _write_dataset


@pytest.fixture
def idx_bytes() -> Callable[[np.ndarray, int], bytes]:
    """``idx_bytes(array, magic)``: ``array`` encoded as an IDX file."""
    return _idx_bytes


def _run_vgtui(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vgtui", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def run_vgtui() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_vgtui(*args, timeout=120)``: ``python -m vgtui ARGS`` run to its end, with no
    standard input and its output captured as text."""
    return _run_vgtui
