"""Which OpenBLAS kernels new sweep workers get: the AVX-512 ones where this process's OpenBLAS
fell back to AVX2 kernels on a CPU that has AVX-512 (bench/README.md, "OpenBLAS's kernels")."""

from __future__ import annotations

import pytest

from vgtui.core.blas import AVX512_FLAGS, cpu_flags, kernel_environment

AVX2 = frozenset({"sse2", "avx", "avx2", "fma"})


@pytest.fixture(autouse=True)
def no_user_choice(monkeypatch):
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)


@pytest.mark.parametrize("kernels", ["Haswell", "Zen", "HASWELL"])
def test_avx2_kernels_on_an_avx512_cpu_give_workers_the_avx512_kernels(kernels):
    assert kernel_environment(kernels, AVX2 | AVX512_FLAGS) == {"OPENBLAS_CORETYPE": "SkylakeX"}


@pytest.mark.parametrize(
    ("kernels", "flags"),
    [
        ("Haswell", AVX2),  # no AVX-512: the AVX2 kernels are the right ones
        ("Haswell", AVX2 | {"avx512f"}),  # AVX-512 foundation only: not enough for SkylakeX
        ("SkylakeX", AVX2 | AVX512_FLAGS),  # OpenBLAS knew the CPU
        ("Cooperlake", AVX2 | AVX512_FLAGS),
        (None, AVX2 | AVX512_FLAGS),  # another BLAS than OpenBLAS
    ],
)
def test_otherwise_workers_keep_what_openblas_chooses(kernels, flags):
    assert kernel_environment(kernels, flags) == {}


def test_the_users_choice_stands(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    assert kernel_environment("Haswell", AVX2 | AVX512_FLAGS) == {}


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: X\nflags\t\t: fpu avx2 avx512f\n\n")
    assert cpu_flags(cpuinfo) == {"fpu", "avx2", "avx512f"}
    assert cpu_flags(tmp_path / "absent") == frozenset()
