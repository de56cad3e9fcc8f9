"""One BLAS thread per training or evaluation lane, set by the entry points (the command line,
the app, each helper process, each sweep task): idle BLAS workers spin and stall every product
when another thread wants the core (bench/README.md, "BLAS thread policy", has the
measurements).

threadpoolctl finds the BLAS libraries loaded in the process, whichever NumPy is linked to
(OpenBLAS, MKL, BLIS), and sizes their pools.

The kernels OpenBLAS runs are its choice at load time, unless ``OPENBLAS_CORETYPE`` names them
(:func:`openblas_kernels` reports them; bench/README.md, "OpenBLAS's kernels").
"""

from __future__ import annotations

from threadpoolctl import threadpool_info, threadpool_limits


def blas_threads() -> int | None:
    """The largest thread pool of the BLAS libraries loaded, or None if none is known."""
    sizes = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    return max(sizes, default=None)


def limit_blas_threads(threads: int) -> int | None:
    """Size every loaded BLAS's pool to ``threads``; return the previous size (None if no
    BLAS is known, and then nothing is changed)."""
    previous = blas_threads()
    if previous is not None:
        threadpool_limits(threads, user_api="blas")
    return previous


def openblas_kernels() -> str | None:
    """The kernel set the loaded OpenBLAS chose (e.g. ``Haswell``), None without OpenBLAS."""
    import numpy  # noqa: F401  (loads NumPy's BLAS, if nothing has yet)

    for pool in threadpool_info():
        if pool["internal_api"] == "openblas":
            return pool.get("architecture")
    return None
