"""Shared fixtures: the bundled MNIST, loaded once per test session."""

from __future__ import annotations

import pytest

from vgtui.core.data import Dataset, load_bundled


@pytest.fixture(scope="session")
def mnist() -> Dataset:
    """The real MNIST shipped with vgtui."""
    return load_bundled()
