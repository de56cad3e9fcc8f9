"""Property-based fuzzing of the data readers (issue #9): whatever the bytes, the IDX reader
and the pickle loader give data or one DataError, never another exception."""

from __future__ import annotations

import gzip
import pickle
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from vgtui.core.data import IMAGE_MAGIC, LABEL_MAGIC, DataError, Dataset, load_pickle, read_idx

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """One file that every example overwrites."""
    return tmp_path_factory.mktemp("fuzz") / "file"


def _valid_idx(magic: int, count: int) -> bytes:
    dims = (count, 28, 28) if magic == IMAGE_MAGIC else (count,)
    body = bytes((7 * i) % 10 for i in range(int(np.prod(dims))))
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + body


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """``data`` with a few bytes overwritten, inserted or deleted, or cut short."""
    out = bytearray(data)
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["set", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(len(out) - 1, 0)))
        if action == "set" and out:
            out[at] = draw(st.integers(0, 255))
        elif action == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del out[at : at + draw(st.integers(1, 8))]
        else:
            del out[at:]
    return bytes(out)


def _check_read(path: Path, magic: int) -> None:
    try:
        array = read_idx(path, magic)
    except DataError as error:
        assert str(error).startswith(str(path)) and "\n" not in str(error)
    else:
        assert array.dtype == np.uint8
        assert array.ndim == (2 if magic == IMAGE_MAGIC else 1)


MAGICS = st.sampled_from([IMAGE_MAGIC, LABEL_MAGIC])


@FUZZ
@given(magic=MAGICS, raw=st.binary(max_size=64), wrap=st.booleans())
def test_random_bytes(scratch, magic, raw, wrap):
    scratch.write_bytes(gzip.compress(raw) if wrap else raw)
    _check_read(scratch, magic)


@FUZZ
@given(magic=MAGICS, count=st.integers(0, 3), data=st.data())
def test_mutated_raw_files(scratch, magic, count, data):
    scratch.write_bytes(data.draw(mutated(_valid_idx(magic, count))))
    _check_read(scratch, magic)


@FUZZ
@given(magic=MAGICS, count=st.integers(0, 3), data=st.data())
def test_mutated_idx_inside_gzip(scratch, magic, count, data):
    scratch.write_bytes(gzip.compress(data.draw(mutated(_valid_idx(magic, count)))))
    _check_read(scratch, magic)


@FUZZ
@given(magic=MAGICS, count=st.integers(0, 3), level=st.sampled_from([0, 1, 9]), data=st.data())
def test_mutated_gzip_streams(scratch, magic, count, level, data):
    packed = gzip.compress(_valid_idx(magic, count), compresslevel=level, mtime=0)
    scratch.write_bytes(data.draw(mutated(packed)))
    _check_read(scratch, magic)


@FUZZ
@given(magic=MAGICS, count=st.integers(0, 3), tail=st.binary(max_size=24))
def test_gzip_members_and_trailing_bytes(scratch, magic, count, tail):
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    scratch.write_bytes(packer.compress(_valid_idx(magic, count)) + packer.flush() + tail)
    _check_read(scratch, magic)


# -- the book's pickle: fuzzed dictionaries of arrays and plain values ------------------------

KEYS = ["train_img", "train_label", "test_img", "test_label"]
SHAPES = st.sampled_from(
    [(), (0,), (3,), (2, 784), (0, 784), (3, 784), (2, 28, 28), (2, 1, 28, 28), (2, 3)]
)
DTYPES = st.sampled_from([np.uint8, np.uint8, np.uint8, np.int64, np.float32, np.bool_, "<U1"])
PLAIN = st.recursive(
    st.none()
    | st.integers()
    | st.floats()
    | st.text(max_size=4)
    | st.binary(max_size=4)
    | st.integers(0, 255).map(np.uint8)
    | st.floats().map(np.float64),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner),
    max_leaves=8,
)


@st.composite
def array_values(draw):
    shape = draw(SHAPES)
    dtype = draw(DTYPES)
    if draw(st.booleans()):  # a small, cheap array of uniform values
        return np.full(shape, draw(st.integers(0, 12)), dtype=dtype)
    return draw(hnp.arrays(dtype, shape, elements=None))


def _good(count: int) -> dict:
    return {
        "train_img": np.zeros((count, 784), np.uint8),
        "train_label": np.arange(count, dtype=np.uint8) % 10,
        "test_img": np.zeros((2, 784), np.uint8),
        "test_label": np.zeros(2, np.uint8),
    }


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.integers(0, 3).map(_good) | st.just({}),
    changes=st.dictionaries(
        st.sampled_from([*KEYS, "extra"]), st.one_of(array_values(), PLAIN), max_size=4
    ),
    protocol=st.integers(2, 5),
    top=st.sampled_from(["dict", "list", "array"]),
)
def test_fuzzed_pickles_give_a_dataset_or_data_error(scratch, base, changes, protocol, top):
    content = base | changes
    if top == "list":
        content = list(content.items())
    elif top == "array":
        content = content.get("train_img")
    scratch.write_bytes(pickle.dumps(content, protocol=protocol))
    try:
        dataset = load_pickle(scratch)
    except DataError as error:
        assert str(error).startswith(str(scratch)) and "\n" not in str(error)
    else:
        assert isinstance(dataset, Dataset)
        for images, labels in (
            (dataset.train_images, dataset.train_labels),
            (dataset.test_images, dataset.test_labels),
        ):
            assert images.dtype == labels.dtype == np.uint8
            assert images.ndim == 2 and images.shape[1] == 784
            assert labels.shape == (images.shape[0],) and images.shape[0] >= 1
            assert int(labels.max()) <= 9


@FUZZ
@given(data=st.data(), protocol=st.integers(2, 5))
def test_mutated_pickles_give_a_dataset_or_data_error(scratch, data, protocol):
    raw = pickle.dumps(_good(2), protocol=protocol)
    scratch.write_bytes(data.draw(mutated(raw)))
    try:
        load_pickle(scratch)
    except DataError as error:
        assert str(error).startswith(str(scratch)) and "\n" not in str(error)


def test_a_pickled_name_with_a_line_break_is_refused_on_one_line(tmp_path):
    """A pickle naming a class in a module "\\nnumpy" (the fuzzer above found one) is refused
    in one line that shows the break escaped."""
    path = tmp_path / "mnist.pkl"
    module, name = b"\nnumpy", b"array"
    # protocol 4: two short strings, STACK_GLOBAL, STOP
    path.write_bytes(
        b"\x80\x04\x8c" + bytes([len(module)]) + module
        + b"\x8c" + bytes([len(name)]) + name + b"\x93."
    )  # fmt: skip
    with pytest.raises(DataError) as refused:
        load_pickle(path)
    message = str(refused.value)
    assert "\n" not in message and message.startswith(str(path))
    assert "\\nnumpy" in message
