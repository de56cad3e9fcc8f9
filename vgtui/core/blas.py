"""BLAS thread policy: one BLAS thread per trainer thread, never more threads than cores.

The trainer splits its work into lanes itself: the thread that runs it trains (and lends a
hand with evaluation), and one helper process per further core evaluates the test set (see
:mod:`vgtui.core.evaluation`). Every lane calls BLAS single-threaded: the
:class:`~vgtui.core.trainer.Trainer` sets NumPy's OpenBLAS pool to one thread when it is
created, and so does each helper.

Measured on the 2-core target machine (AMD EPYC, OpenBLAS 0.3.31, full default run; the
history is in bench/README.md):

* the 200 evaluations alone on one 2-thread pool or on 2 lanes x 1 BLAS thread: about the
  same (3.2-4.2 s either way on a shared, noisy machine), but only lanes can overlap;
* evaluation overlapped with training (helper lane + trainer thread, 1 BLAS thread each) is
  what brought the run from 4.2-4.4 s to 3.2-3.6 s; a 2-thread pool cannot overlap;
* the helper lane as a process instead of a thread: 2.8 s instead of 3.1-3.2 s (two threads
  of one process hand the GIL back and forth around their many small NumPy calls; both
  lanes ran about 20% slower than alone);
* training products on a 2-thread pool (100x785x160: 156 us instead of 256 us) next to the
  evaluation lane: no faster on a quiet machine, and 20-69 s instead of 6.2-6.7 s while other
  processes were busy: OpenBLAS's idle workers spin, every product waits for its slowest
  thread, and one more runnable thread (another process, or the app's UI thread) stalls
  them. Single-threaded calls degrade gracefully instead.

So the app, which runs the trainer in a worker thread next to its UI thread, keeps to one
compute thread per core and no spinning BLAS workers.

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
