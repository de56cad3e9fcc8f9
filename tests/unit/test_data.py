"""The IDX reader, the bundled MNIST and the book's pickle cache."""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import pickletools
import re
import shutil
import threading
import time
import tracemalloc
import zlib

import numpy as np
import pytest

from vgtui.core import data as data_module
from vgtui.core.data import (
    IMAGE_MAGIC,
    LABEL_MAGIC,
    DataError,
    bundled_dir,
    load_bundled,
    load_dataset,
    load_idx_dir,
    load_pickle,
    read_idx,
)

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_bundled_mnist_is_the_canonical_dataset(mnist):
    assert mnist.train_images.shape == (60000, 784)
    assert mnist.test_images.shape == (10000, 784)
    assert mnist.train_images.dtype == np.uint8
    assert np.bincount(mnist.train_labels, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(mnist.test_labels, minlength=10).tolist() == TEST_COUNTS
    raw = gzip.decompress((bundled_dir() / "t10k-images-idx3-ubyte.gz").read_bytes())
    assert hashlib.md5(raw).hexdigest() == "2646ac647ad5339dbf082846283269ea"


def test_bundled_files_match_their_checksums():
    folder = bundled_dir()
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.parametrize("compress", [True, False])
def test_idx_folder_round_trip(tmp_path, compress, write_dataset):
    folder = write_dataset(tmp_path / "set", compress=compress)
    dataset = load_idx_dir(folder)
    assert dataset.train_images.shape == (30, 784)
    assert dataset.test_size == 12
    raw = gzip.decompress if compress else (lambda b: b)
    stem = "train-labels-idx1-ubyte" + (".gz" if compress else "")
    assert dataset.train_labels.tolist() == list(raw((folder / stem).read_bytes())[8:])


def test_bad_magic_is_named(tmp_path, write_dataset):
    folder = write_dataset(tmp_path / "set")
    path = folder / "t10k-labels-idx1-ubyte.gz"
    payload = bytearray(gzip.decompress(path.read_bytes()))
    payload[3] = 0x03
    path.write_bytes(gzip.compress(bytes(payload)))
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz: bad magic number"):
        load_idx_dir(folder)


def test_truncated_images_are_reported(tmp_path, write_dataset):
    folder = write_dataset(tmp_path / "set")
    path = folder / "train-images-idx3-ubyte.gz"
    payload = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(payload[:-100]))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: truncated"):
        load_idx_dir(folder)


def test_truncated_gzip_stream_is_reported(tmp_path, write_dataset):
    folder = write_dataset(tmp_path / "set")
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: cannot read"):
        load_idx_dir(folder)


def test_count_mismatch_is_reported(tmp_path, write_dataset, idx_bytes):
    folder = write_dataset(tmp_path / "set")
    labels = np.zeros(29, dtype=np.uint8)
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(labels, LABEL_MAGIC))
    )
    with pytest.raises(DataError, match=r"30 images but 29 labels"):
        load_idx_dir(folder)


def test_labels_outside_range_are_reported(tmp_path, write_dataset, idx_bytes):
    folder = write_dataset(tmp_path / "set")
    labels = np.full(12, 11, dtype=np.uint8)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(labels, LABEL_MAGIC))
    )
    with pytest.raises(DataError, match=r"label 11 outside 0-9"):
        load_idx_dir(folder)


def test_wrong_image_size_is_reported(tmp_path, idx_bytes):
    path = tmp_path / "images"
    path.write_bytes(idx_bytes(np.zeros((2, 27, 27)), IMAGE_MAGIC))
    with pytest.raises(DataError, match=r"27x27, expected 28x28"):
        read_idx(path, IMAGE_MAGIC)


def test_missing_file_is_named(tmp_path, write_dataset):
    folder = write_dataset(tmp_path / "set")
    (folder / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz: missing file"):
        load_idx_dir(folder)


def test_book_pickle_is_accepted(tmp_path, mnist):
    content = {
        "train_img": mnist.train_images[:50],
        "train_label": mnist.train_labels[:50],
        "test_img": mnist.test_images[:20],
        "test_label": mnist.test_labels[:20],
    }
    path = tmp_path / "mnist.pkl"
    path.write_bytes(pickle.dumps(content))
    dataset = load_dataset(data_pkl=path)
    assert dataset.train_images.shape == (50, 784)
    assert np.array_equal(dataset.test_labels, mnist.test_labels[:20])
    # The run records exactly which file: its path and SHA-256.
    assert dataset.source == {
        "kind": "pickle",
        "path": str(path.resolve()),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }


def test_bad_pickle_is_reported(tmp_path):
    path = tmp_path / "mnist.pkl"
    path.write_bytes(pickle.dumps({"train_img": np.zeros((3, 784), np.uint8)}))
    with pytest.raises(DataError, match=r"missing key 'train_label'"):
        load_pickle(path)
    path.write_bytes(b"not a pickle")
    with pytest.raises(DataError, match=r"not a readable pickle"):
        load_pickle(path)


def test_training_images_stay_uint8(mnist):
    # No float copy of the training set is held: the dataset keeps the bytes it read.
    assert mnist.train_images.dtype == np.uint8
    assert mnist.train_images.nbytes == 60000 * 784
    assert data_module.PIXELS == 784


# -- hostile files (issue #9): every problem is one DataError naming the file -----------------


def _bomb(header: bytes, zeros: int) -> bytes:
    """A gzip stream of ``header`` followed by ``zeros`` zero bytes, compressed in pieces."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip stream
    parts = [packer.compress(header)]
    block = bytes(1 << 20)
    for _ in range(zeros // len(block)):
        parts.append(packer.compress(block))
    parts.append(packer.flush())
    return b"".join(parts)


@pytest.mark.parametrize(
    ("magic", "dims"),
    [(LABEL_MAGIC, (10,)), (IMAGE_MAGIC, (1000, 28, 28))],
    ids=["labels", "images"],
)
def test_gzip_bomb_is_refused_reading_no_more_than_the_header_allows(tmp_path, magic, dims):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    path = tmp_path / "bomb.gz"
    path.write_bytes(_bomb(header, 200 << 20))  # 200 MiB of zeros in about 200 kB
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(DataError, match=r"bomb.gz: file is longer than its header says"):
            read_idx(path, magic)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"peak {peak / 2**20:.1f} MiB"  # the header allows at most 784 kB
    assert time.perf_counter() - started < 2.0


def _corrupt_deflate(payload: bytes) -> list[bytes]:
    packed = gzip.compress(payload, mtime=0)  # 10-byte header, deflate data, 8-byte trailer
    bad_block_type = packed[:10] + bytes([packed[10] | 0b110]) + packed[11:]
    bad_distance = packed[:10] + bytes([0b101]) + b"\xff" * 64 + packed[75:]
    return [bad_block_type, bad_distance]


@pytest.mark.parametrize("which", [0, 1], ids=["invalid-block-type", "invalid-code"])
def test_corrupt_deflate_data_is_one_data_error(tmp_path, write_dataset, which):
    folder = write_dataset(tmp_path / "set")
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(_corrupt_deflate(gzip.decompress(path.read_bytes()))[which])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: cannot read \(corrupt"):
        load_idx_dir(folder)


def test_bad_gzip_checksum_is_one_data_error(tmp_path, idx_bytes):
    path = tmp_path / "labels.gz"
    packed = bytearray(gzip.compress(idx_bytes(np.zeros(5), LABEL_MAGIC)))
    packed[-8] ^= 0xFF  # the CRC-32 of the trailer
    path.write_bytes(bytes(packed))
    with pytest.raises(DataError, match=r"labels.gz: cannot read"):
        read_idx(path, LABEL_MAGIC)


def test_file_longer_than_its_header_is_reported(tmp_path, idx_bytes):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.zeros(5), LABEL_MAGIC) + b"\x00")
    with pytest.raises(DataError, match=r"labels: file is longer than its header says"):
        read_idx(path, LABEL_MAGIC)


def _replace_entry(folder, make):
    path = folder / "t10k-images-idx3-ubyte.gz"
    path.unlink()
    make(path)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: path.mkdir(), "is a directory"),
        (lambda path: os.mkfifo(path), r"is not a regular file \(a FIFO\)"),
        (lambda path: path.symlink_to(path.name), "symlink loop"),
        (lambda path: path.symlink_to("nowhere"), "broken symlink"),
    ],
    ids=["directory", "fifo", "symlink-loop", "broken-symlink"],
)
def test_data_dir_entries_are_reported_as_what_they_are(tmp_path, write_dataset, make, message):
    folder = write_dataset(tmp_path / "set")
    _replace_entry(folder, make)
    with pytest.raises(DataError, match=rf"t10k-images-idx3-ubyte.gz: {message}"):
        load_idx_dir(folder)


def test_a_regular_raw_file_next_to_an_odd_gz_entry_is_used(tmp_path, write_dataset):
    folder = write_dataset(tmp_path / "set")
    raw = gzip.decompress((folder / "t10k-images-idx3-ubyte.gz").read_bytes())
    _replace_entry(folder, lambda path: path.mkdir())
    (folder / "t10k-images-idx3-ubyte").write_bytes(raw)
    assert load_idx_dir(folder).test_images.shape == (12, 784)


def test_reading_a_fifo_directly_does_not_hang(tmp_path):
    fifo = tmp_path / "labels"
    os.mkfifo(fifo)
    outcome: list[BaseException | object] = []

    def read() -> None:
        try:
            outcome.append(read_idx(fifo, LABEL_MAGIC))
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():  # old behaviour: blocked in open(); release it
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(5)
        pytest.fail("read_idx blocked on a FIFO")
    assert isinstance(outcome[0], DataError), outcome
    assert re.search(r"labels: is not a regular file", str(outcome[0]))


# -- the book's pickle, loaded without running code ------------------------------------------


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_pickle_that_runs_code_is_refused(tmp_path, protocol):
    marker = tmp_path / "ran"
    path = tmp_path / "mnist.pkl"
    path.write_bytes(pickle.dumps({"train_img": _RunsCode(marker)}, protocol=protocol))
    with pytest.raises(DataError) as caught:
        load_pickle(path)
    assert not marker.exists()
    assert re.fullmatch(
        r".*mnist\.pkl: refuses to load pickled (posix|nt|os)\.system: [^\n]+", str(caught.value)
    ), caught.value


def _book_content(mnist, train=50, test=20):
    return {
        "train_img": mnist.train_images[:train],
        "train_label": mnist.train_labels[:train],
        "test_img": mnist.test_images[:test],
        "test_label": mnist.test_labels[:test],
    }


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_book_pickle_is_accepted_at_every_protocol(tmp_path, mnist, protocol):
    path = tmp_path / "mnist.pkl"
    content = _book_content(mnist) | {"test_img": mnist.test_images[:20].reshape(20, 1, 28, 28)}
    path.write_bytes(pickle.dumps(content, protocol=protocol))
    dataset = load_pickle(path)
    assert np.array_equal(dataset.train_images, mnist.train_images[:50])
    assert np.array_equal(dataset.test_images, mnist.test_images[:20])
    assert np.array_equal(dataset.test_labels, mnist.test_labels[:20])


@pytest.mark.parametrize("protocol", [2, 5])
def test_numpy_1_pickle_is_accepted(tmp_path, mnist, protocol):
    """The book's mnist.pkl was written by NumPy 1.x, whose modules were ``numpy.core.*``."""
    raw = pickle.dumps(_book_content(mnist), protocol=protocol)
    if protocol == 2:  # GLOBAL opcodes: "module\nname\n"
        old = raw.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
    else:  # SHORT_BINUNICODE: a length byte, then the text
        old = raw.replace(b"\x13numpy._core.numeric", b"\x12numpy.core.numeric")
    assert old != raw
    path = tmp_path / "mnist.pkl"
    path.write_bytes(pickletools.optimize(old))  # frames the edited opcodes again
    assert np.array_equal(load_pickle(path).train_labels, mnist.train_labels[:50])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"train_img": np.array(3, np.uint8)}, "train_img"),
        ({"train_img": np.zeros((0,), np.uint8)}, "train_img"),
        (
            {"train_img": np.zeros((0, 784), np.uint8), "train_label": np.zeros(0, np.uint8)},
            "no images",
        ),
        ({"train_img": [[1, 2], [3]]}, "train_img must be a NumPy array"),
        ({"train_img": np.zeros((50, 783), np.uint8)}, "train_img"),
        ({"train_img": np.zeros((50, 784), np.float32)}, "uint8"),
        ({"test_label": np.array(3, np.uint8)}, "test_label"),
        ({"test_label": np.zeros((20, 2), np.uint8)}, "test_label"),
        ({"test_label": np.full(20, 10, np.uint8)}, "outside 0-9"),
        ({"test_label": np.zeros(19, np.uint8)}, "20 images but 19 labels"),
        ({"test_label": np.array(["a"] * 20)}, "uint8"),
        ({"test_label": None}, "test_label must be a NumPy array"),
    ],
)
def test_malformed_pickle_arrays_are_one_data_error(tmp_path, mnist, changes, message):
    path = tmp_path / "mnist.pkl"
    path.write_bytes(pickle.dumps(_book_content(mnist) | changes))
    with pytest.raises(DataError, match=message) as caught:
        load_pickle(path)
    assert str(caught.value).startswith(str(path))


def test_pickle_path_that_is_a_directory_is_named(tmp_path):
    with pytest.raises(DataError, match=r"mnist.pkl: is a directory"):
        load_pickle((tmp_path / "mnist.pkl").mkdir() or tmp_path / "mnist.pkl")


def test_a_damaged_bundled_copy_is_named_before_it_is_loaded(tmp_path, monkeypatch):
    """config.json says the bundled data was 'checked against SHA256SUMS': load_bundled
    checks it (before, only this test file did), so one flipped byte is one DataError line."""
    copy = tmp_path / "mnist"
    shutil.copytree(bundled_dir(), copy)
    monkeypatch.setattr("vgtui.core.data.bundled_dir", lambda: copy)
    assert load_bundled().source == {"kind": "bundled", "checked against": "SHA256SUMS"}
    labels = copy / "t10k-labels-idx1-ubyte.gz"
    damaged = bytearray(labels.read_bytes())
    damaged[-5] ^= 0x01
    labels.write_bytes(bytes(damaged))
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz: its SHA256 is not the one"):
        load_bundled()
    (copy / "SHA256SUMS").unlink()
    with pytest.raises(DataError, match=r"SHA256SUMS: cannot be read"):
        load_bundled()
