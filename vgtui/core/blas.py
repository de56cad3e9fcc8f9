"""One BLAS thread per training or evaluation lane, set by the entry points (the command line,
the app, each helper process, each sweep task): idle BLAS workers spin and stall every product
when another thread wants the core (bench/README.md, "BLAS thread policy", has the
measurements).

threadpoolctl finds the BLAS libraries loaded in the process, whichever NumPy is linked to
(OpenBLAS, MKL, BLIS), and sizes their pools.

OpenBLAS picks its kernels when it loads, from the CPU model it knows: on CPUs newer than it
(an AMD EPYC of family 26) it falls back to its AVX2 kernels although the CPU has AVX-512,
and a product takes twice as long (bench/README.md, "OpenBLAS's kernels"). Sweep workers are
new processes, so :func:`worker_environment` can give them the AVX-512 kernels.
"""

from __future__ import annotations

import os
from pathlib import Path

from threadpoolctl import threadpool_info, threadpool_limits

AVX512_FLAGS = frozenset({"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"})
"""The CPU flags OpenBLAS's SkylakeX kernels use."""
AVX2_KERNELS = frozenset({"haswell", "zen"})
"""OpenBLAS kernel sets that leave AVX-512 unused."""
AVX512_KERNELS = "SkylakeX"


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


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The instruction-set flags of the first CPU listed (empty where there is no cpuinfo)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def worker_environment() -> dict[str, str]:
    """Environment variables for new worker processes: see :func:`kernel_environment`, for
    this process's OpenBLAS and this CPU."""
    return kernel_environment(openblas_kernels(), cpu_flags())


def kernel_environment(kernels: str | None, flags: frozenset[str]) -> dict[str, str]:
    """OpenBLAS's AVX-512 kernels where OpenBLAS chose the AVX2 ``kernels`` on a CPU with the
    AVX-512 ``flags`` (None: not OpenBLAS). Nothing when ``OPENBLAS_CORETYPE`` is already
    set: the user's choice stands."""
    if "OPENBLAS_CORETYPE" in os.environ:
        return {}
    if kernels is None or kernels.lower() not in AVX2_KERNELS or not AVX512_FLAGS.issubset(flags):
        return {}
    return {"OPENBLAS_CORETYPE": AVX512_KERNELS}
