"""The test set cut into blocks of similar images, each without the pixels none of its images
uses: zero columns add nothing to the products, so leaving them out is exact (bench/README.md
has how much each choice saves)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from vgtui.core.data import IMAGE_SIDE, PIXEL_SCALE, PIXELS, Dataset
from vgtui.core.inference import InferenceBlock

TEST_BLOCK_ROWS = 500  # test images per evaluation product
RARE_PIXEL_SHARE = 0.04  # a pixel fewer of a block's images use goes to its second product
PROBE_STREAM = 0x70726F6265  # mixed into the seed: the probe's draw is its own random stream


def probe_images(test_size: int, probe_size: int, seed: int) -> np.ndarray:
    """The test images of the probe: ``probe_size`` of them chosen by ``seed`` (from a stream
    of its own, so the training draws do not change), in ascending order."""
    rng = np.random.default_rng((seed, PROBE_STREAM))
    return np.sort(rng.choice(test_size, size=min(probe_size, test_size), replace=False))


def dataset_blocks(
    data: Dataset, rows: int = TEST_BLOCK_ROWS, probe_size: int = 0, seed: int = 0
) -> list[InferenceBlock]:
    """The test set of ``data`` in blocks, the most expensive first (so the lanes that share an
    evaluation finish together). With a ``probe_size``, the probe images chosen by ``seed``
    form blocks of their own, marked as the probe: every image still counts once for the test
    accuracy, and the probe's activations are tallied while it is evaluated."""
    images, labels = data.test_images, data.test_labels
    probe = probe_images(data.test_size, probe_size, seed) if probe_size > 0 else np.zeros(0, int)
    rest = np.setdiff1d(np.arange(data.test_size), probe, assume_unique=True)
    blocks = evaluation_blocks(images[rest], labels[rest], rows) if rest.size else []
    if probe.size:
        probe_blocks = evaluation_blocks(images[probe], labels[probe], rows)
        blocks += [replace(block, probe=k) for k, block in enumerate(probe_blocks)]
    blocks.sort(key=lambda block: block.cost, reverse=True)
    return blocks


def probe_block_count(blocks: list[InferenceBlock]) -> int:
    return sum(block.probe >= 0 for block in blocks)


def similar_shape_order(images: np.ndarray) -> np.ndarray:
    """Image indices sorted by the bounding box of the ink (bottom edge, width, left edge), so
    neighbours share most of their pixels. (Of the orders by two or three box edges or sizes,
    this one leaves the fewest pixels in blocks of 500 MNIST test images: 405 on average,
    against 424 for left edge, width, top edge.)"""
    ink = images.reshape(images.shape[0], IMAGE_SIDE, IMAGE_SIDE) != 0
    positions = np.arange(IMAGE_SIDE)
    in_columns, in_rows = ink.any(axis=1), ink.any(axis=2)
    left = np.where(in_columns, positions, IMAGE_SIDE).min(axis=1)
    right = np.where(in_columns, positions, -1).max(axis=1)
    bottom = np.where(in_rows, positions, -1).max(axis=1)
    return np.lexsort((left, right - left, bottom))


def evaluation_blocks(images: np.ndarray, labels: np.ndarray, rows: int) -> list[InferenceBlock]:
    """The test set cut into blocks of about ``rows`` similar images, each without the pixels
    none of its images uses (pixels by images, see InferenceBlock). Pixels few of a block's
    images use go to a second product over just those images, placed last in the block."""
    order = similar_shape_order(images)
    count = max(1, round(len(order) / rows))
    blocks = []
    for part in np.array_split(order, count):
        users = np.count_nonzero(images[part], axis=0)
        threshold = max(1.0, RARE_PIXEL_SHARE * part.size)
        common = np.flatnonzero(users >= threshold)
        rare = np.flatnonzero((users > 0) & (users < threshold))
        uses_rare = images[part][:, rare].any(axis=1)
        part = np.concatenate([part[~uses_rare], part[uses_rare]])
        pixels = images[part]
        inputs = np.empty((common.size + 1, part.size), dtype=np.float32)
        np.multiply(pixels[:, common].T, PIXEL_SCALE, out=inputs[:-1])
        inputs[-1] = 1.0
        rare_images = np.count_nonzero(uses_rare)
        rare_inputs = np.empty((rare.size, rare_images), dtype=np.float32)
        np.multiply(pixels[part.size - rare_images :, rare].T, PIXEL_SCALE, out=rare_inputs)
        blocks.append(
            InferenceBlock(
                inputs,
                np.append(common, PIXELS),
                labels[part].astype(np.intp),
                rare_inputs,
                rare,
            )
        )
    return blocks
