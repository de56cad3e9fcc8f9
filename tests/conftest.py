"""Shared fixtures: the bundled MNIST, loaded once per test session, and the BLAS policy."""

from __future__ import annotations

import pytest

from vgtui.core.blas import limit_blas_threads
from vgtui.core.data import Dataset, load_bundled


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
