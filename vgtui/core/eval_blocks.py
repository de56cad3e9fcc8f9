"""The test set cut into blocks of similar images, each without the pixels none of its images
uses: zero columns add nothing to the products, so leaving them out is exact (bench/README.md
has how much each choice saves)."""

from __future__ import annotations

import numpy as np

from vgtui.core.data import IMAGE_SIDE, PIXEL_SCALE, PIXELS, Dataset
from vgtui.core.inference import InferenceBlock

TEST_BLOCK_ROWS = 500  # test images per evaluation product
RARE_PIXEL_SHARE = 0.04  # a pixel fewer of a block's images use goes to its second product
PROBE_STREAM = 0x70726F6265  # mixed into the seed: the probe's draw is its own random stream


def dataset_blocks(
    data: Dataset, rows: int = TEST_BLOCK_ROWS, probe_size: int = 0, seed: int = 0
) -> list[InferenceBlock]:
    """The test set of ``data`` in blocks, the most expensive first (so the lanes that share an
    evaluation finish together). With a ``probe_size``, each block also holds its share of the
    probe (see :func:`evaluation_blocks`), placed by ``seed``."""
    rng = np.random.default_rng((seed, PROBE_STREAM))
    probe_size = min(probe_size, data.test_size)
    blocks = evaluation_blocks(data.test_images, data.test_labels, rows, probe_size, rng)
    blocks.sort(key=lambda block: block.cost, reverse=True)
    return blocks


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


def evaluation_blocks(
    images: np.ndarray,
    labels: np.ndarray,
    rows: int,
    probe_size: int = 0,
    rng: np.random.Generator | None = None,
) -> list[InferenceBlock]:
    """The test set cut into blocks of about ``rows`` similar images, each without the pixels
    none of its images uses (pixels by images, see InferenceBlock). Pixels few of a block's
    images use go to a second product over just those images, placed last in the block.

    The probe (``probe_size`` images) is a stratified sample: each block contributes an equal
    share, images ``rng`` draws at random from the block (without replacement). So the probe
    covers every shape of digit, every image has the same chance to be in it (its block's
    share over its block's size: probe_size / test size when they divide evenly), and it
    costs no product of its own: its rows are moved together in their blocks, whose
    activations are copied (or tallied) as the blocks are evaluated."""
    order = similar_shape_order(images)
    count = max(1, round(len(order) / rows))
    shares = [len(s) for s in np.array_split(np.arange(probe_size), count)]
    rng = rng if rng is not None else np.random.default_rng(0)
    blocks, probe_at = [], 0
    for part, share in zip(np.array_split(order, count), shares, strict=True):
        share = min(share, part.size)
        in_probe = np.zeros(part.size, dtype=bool)
        in_probe[rng.choice(part.size, size=share, replace=False)] = True
        users = np.count_nonzero(images[part], axis=0)
        threshold = max(1.0, RARE_PIXEL_SHARE * part.size)
        common = np.flatnonzero(users >= threshold)
        rare = np.flatnonzero((users > 0) & (users < threshold))
        uses_rare = images[part][:, rare].any(axis=1)
        # Rows using rare pixels last (the second product), the probe's rows together:
        # others, probe, probe using rare pixels, others using rare pixels.
        groups = (~in_probe & ~uses_rare, in_probe & ~uses_rare, in_probe & uses_rare)
        part = np.concatenate([*(part[g] for g in groups), part[~in_probe & uses_rare]])
        probe_start = int(np.count_nonzero(groups[0]))
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
                probe_rows=(probe_start, probe_start + share),
                probe_at=probe_at,
            )
        )
        probe_at += share
    return blocks
