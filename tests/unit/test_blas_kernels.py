"""openblas_kernels reports the kernels the process's OpenBLAS runs (bench/sweep.py --task
prints them beside its figures: on one CPU they differ twofold in speed)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from vgtui.core.blas import openblas_kernels

pytestmark = pytest.mark.skipif(openblas_kernels() is None, reason="NumPy's BLAS is not OpenBLAS")


@pytest.mark.parametrize("coretype", ["Haswell", "Sandybridge"])
def test_the_kernels_named_by_openblas_coretype_are_reported(coretype):
    """A process started with OPENBLAS_CORETYPE runs (and reports) those kernels; both sets
    run on any x86-64 CPU with AVX2."""
    code = "from vgtui.core.blas import openblas_kernels; print(openblas_kernels())"
    environment = {**os.environ, "OPENBLAS_CORETYPE": coretype}
    done = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True,
                          text=True, check=True)  # fmt: skip
    assert done.stdout.strip() == coretype
