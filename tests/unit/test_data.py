"""The IDX reader, the bundled MNIST and the book's pickle cache."""

from __future__ import annotations

import gzip
import hashlib
import pickle

import numpy as np
import pytest

from vgtui.core import data as data_module
from vgtui.core.data import (
    IMAGE_MAGIC,
    LABEL_MAGIC,
    DataError,
    bundled_dir,
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
