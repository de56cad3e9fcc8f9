"""One BLAS thread per training or evaluation lane, set by the entry points (the command line,
the app, each helper process): idle OpenBLAS workers spin and stall every product when another
thread wants the core (bench/README.md, "BLAS thread policy", has the measurements).

:func:`limit_blas_threads` sets NumPy's OpenBLAS pool size through its C API via ctypes (the
same entry points threadpoolctl uses). It is a no-op, returning ``None``, when NumPy is linked
to a BLAS it does not know.
"""

from __future__ import annotations

import ctypes
import os
from functools import cache
from pathlib import Path

import numpy as np

_SETTERS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)
_GETTERS = (
    "scipy_openblas_get_num_threads64_",
    "scipy_openblas_get_num_threads",
    "openblas_get_num_threads64_",
    "openblas_get_num_threads",
)


def _loaded_openblas_paths() -> list[str]:
    """Paths of the OpenBLAS libraries mapped into this process (Linux), NumPy's first."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        maps = ""
    found = {line.split()[-1] for line in maps.splitlines() if "openblas" in line.lower()}
    paths = sorted(p for p in found if os.path.isfile(p))
    numpy_libs = Path(np.__file__).parent.parent / "numpy.libs"
    if numpy_libs.is_dir():
        paths += sorted(str(p) for p in numpy_libs.glob("*openblas*.so*"))
    return list(dict.fromkeys(paths))


@cache
def _openblas() -> tuple[ctypes.CDLL, str, str] | None:
    """NumPy's OpenBLAS library with the names of its thread setter and getter."""
    for path in _loaded_openblas_paths():
        try:
            library = ctypes.CDLL(path, mode=os.RTLD_NOLOAD | os.RTLD_GLOBAL)
        except OSError:
            continue
        setter = next((name for name in _SETTERS if hasattr(library, name)), None)
        getter = next((name for name in _GETTERS if hasattr(library, name)), None)
        if setter and getter:
            return library, setter, getter
    return None


def blas_threads() -> int | None:
    """The current size of NumPy's OpenBLAS thread pool, or None if unknown."""
    found = _openblas()
    if found is None:
        return None
    library, _, getter = found
    return int(getattr(library, getter)())


def limit_blas_threads(threads: int) -> int | None:
    """Size NumPy's OpenBLAS pool to ``threads``; return the previous size (None if unknown)."""
    found = _openblas()
    if found is None:
        return None
    library, setter, getter = found
    previous = int(getattr(library, getter)())
    if previous != threads:
        getattr(library, setter)(ctypes.c_int(threads))
    return previous
