"""Whole-image descriptors for telling what an image shows: orbital ground, a rover's view, rover hardware, other.

Pure functions over a float image in [0, 1], of two kinds:

* :func:`view_descriptors`, made by hand: the image is reduced to :data:`VIEW_SIDE` px on its long side (block
  means; its texture at half that), so they describe the composition of the frame (sky above ground, a lit
  metal part against shadow, the even texture of ground seen from above) rather than fine texture.  The catalog
  stores them: a person's labels are learnt from them (:mod:`marsviz.learn`).
* :func:`network_descriptors`: the pretrained network of the terrain scores (:mod:`marsviz.terrain.backbone`)
  over the whole frame at about :data:`NETWORK_SIDE` px, the size of the Curiosity browse frames the view
  model learnt rover views from: it sees the grain of a drill hole's rock and of a wheel's metal.  A larger
  frame is seen as the terrain scores see it, so the two share one network pass.

The view model classifies both (:func:`view_inputs`, in the order of :data:`VIEW_INPUT_NAMES`); a change of
either order needs the view model retrained (``python -m marsviz train-view``).
"""

from __future__ import annotations

import numpy as np

from marsviz.config import AnalysisSettings
from marsviz.features._base import check_image, enlarged, luminance
from marsviz.terrain.backbone import BACKBONE_NAMES, backbone_descriptors
from marsviz.terrain.descriptors import (DESCRIPTOR_LABELS, DESCRIPTOR_NAMES, describe_tiles, half_resolution,
                                         network_image)

#: Long side, in pixels, of the reduced image the hand-made descriptors are computed on.
VIEW_SIDE = 128
#: Long side, in pixels, of the frame the pretrained network sees, about (the Curiosity browse frames' size).
NETWORK_SIDE = 256
#: Smallest short side, in pixels, of an image whose view can be classified.
MIN_SIDE = 32
#: Horizontal bands (top to bottom) and vertical bands (left to right) of the profile descriptors.
BANDS = 4
#: Orientation bins (0-180 degrees) of the frame's gradient-orientation histogram.
ORIENTATION_BINS = 8
#: Chroma (in the opponent space of :func:`colour_statistics`, 0-1 scale) above which a pixel counts as coloured.
COLOURED_CHROMA = 0.04

_EPS = 1e-6


def _band_names(axis: str) -> list[str]:
    return [f"{axis}{k}_{stat}" for k in range(BANDS) for stat in ("brightness", "contrast", "gradient")]


#: Descriptor names, in the order of :func:`view_descriptors`.
VIEW_DESCRIPTOR_NAMES: list[str] = [
    *[f"texture_{name}" for name in DESCRIPTOR_NAMES],
    *_band_names("row"), *_band_names("column"),
    *[f"orientation_{k}" for k in range(ORIENTATION_BINS)],
    "dark_clipped_fraction", "bright_clipped_fraction", "aspect_ratio_log",
    "is_colour", "chroma_mean", "chroma_p90", "coloured_fraction", "red_green_mean", "yellow_blue_mean",
    "red_green_std", "yellow_blue_std",
]


def _view_descriptor_label(name: str) -> str:
    if name.startswith("texture_"):
        return f"{DESCRIPTOR_LABELS[name.removeprefix('texture_')]} (whole frame)"
    for axis, side in (("row", "top"), ("column", "left")):
        if name.startswith(axis) and name[len(axis)].isdigit():
            band, stat = name[len(axis):].split("_", 1)
            return f"{stat} of band {int(band) + 1} of {BANDS} from the {side}"
    if name.startswith("orientation_"):
        k = int(name.rsplit("_", 1)[1])
        step = 180 / ORIENTATION_BINS
        return f"edges at {k * step:g}-{(k + 1) * step:g} degrees"
    return name.replace("_", " ")


#: The view model's inputs: the hand-made descriptors, then the network's (:func:`view_inputs`).
VIEW_INPUT_NAMES: list[str] = [*VIEW_DESCRIPTOR_NAMES, *[f"network_{name}" for name in BACKBONE_NAMES]]

#: Each descriptor as people read it.
VIEW_DESCRIPTOR_LABELS: dict[str, str] = {name: _view_descriptor_label(name) for name in VIEW_DESCRIPTOR_NAMES}


def reduced(image: np.ndarray, side: int = VIEW_SIDE, min_side: int = MIN_SIDE) -> np.ndarray:
    """`image` reduced by an integer block mean so that its long side is at most about `side` px.

    The short side is kept at least `min_side` px where the image has it (a long strip is reduced less).

    Parameters
    ----------
    image : ndarray
        float (H, W) or (H, W, 3).
    side : int
        Target long side in pixels.
    min_side : int
        Smallest short side the reduction may leave.

    Returns
    -------
    ndarray
        float32, (h, w) or (h, w, 3); unchanged when already small enough.

    Examples
    --------
    >>> reduced(np.zeros((512, 300), np.float32)).shape
    (128, 75)
    >>> reduced(np.zeros((78, 512), np.float32)).shape
    (39, 256)
    """
    factor = max(1, min(int(np.ceil(max(image.shape[:2]) / side)), min(image.shape[:2]) // min_side))
    if factor == 1:
        return np.asarray(image, dtype=np.float32)
    height, width = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    cropped = np.asarray(image[:height, :width], dtype=np.float32)
    # Strided adds, columns then rows: several times faster than sums over the short axes of a reshape, and
    # the same additions in the same order, so the same values to the bit.
    columns = cropped[:, 0::factor].copy()
    for offset in range(1, factor):
        columns += cropped[:, offset::factor]
    total = columns[0::factor].copy()
    for offset in range(1, factor):
        total += columns[offset::factor]
    return total * np.float32(1.0 / (factor * factor))


def band_profile(gray: np.ndarray, magnitude: np.ndarray, axis: int) -> np.ndarray:
    """Brightness, contrast and gradient strength of :data:`BANDS` bands across `axis`, relative to the frame.

    Parameters
    ----------
    gray : ndarray
        float (h, w).
    magnitude : ndarray
        (h, w) gradient magnitude of `gray`.
    axis : int
        0: horizontal bands, top to bottom (sky above ground); 1: vertical bands, left to right.

    Returns
    -------
    ndarray
        (BANDS * 3,): per band, its mean brightness minus the frame's, its standard deviation over the
        frame's, and its mean gradient magnitude over the frame's.
    """
    bands = np.array_split(np.arange(gray.shape[axis]), BANDS)
    frame_mean, frame_std, frame_gradient = gray.mean(), gray.std() + 0.01, magnitude.mean() + 1e-3
    values = []
    for band in bands:
        part = np.take(gray, band, axis=axis)
        edges = np.take(magnitude, band, axis=axis)
        values += [part.mean() - frame_mean, (part.std() + 0.01) / frame_std, (edges.mean() + 1e-3) / frame_gradient]
    return np.array(values)


def orientation_histogram(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Gradient-magnitude-weighted histogram of edge orientations (0 to 180 degrees), summing to 1.

    `gx` and `gy` are the horizontal and vertical gradients.  Bin 0 holds horizontal gradients (vertical
    edges), bin ORIENTATION_BINS / 2 vertical gradients (horizontal edges: a horizon, a deck's rim).
    """
    magnitude = np.hypot(gx, gy).ravel()
    angle = (np.arctan2(gy, gx).ravel() % np.pi)
    bins = np.minimum((angle * (ORIENTATION_BINS / np.pi)).astype(np.intp), ORIENTATION_BINS - 1)
    weights = np.bincount(bins, weights=magnitude, minlength=ORIENTATION_BINS)
    return weights / max(weights.sum(), _EPS)


def colour_statistics(image: np.ndarray) -> np.ndarray:
    """Whether the image has colour, and how much and which: 8 values, all 0 for a grayscale image.

    Opponent axes: red-green ``R - G`` and yellow-blue ``(R + G) / 2 - B``; chroma is their Euclidean norm.
    Returns ``is_colour`` (1 or 0), chroma mean and 90th percentile, the share of coloured pixels
    (chroma above :data:`COLOURED_CHROMA`), and the mean and standard deviation of each axis.
    """
    if image.ndim == 2 or np.allclose(image[..., 0], image[..., 1], atol=1e-3) and np.allclose(
            image[..., 1], image[..., 2], atol=1e-3):
        return np.zeros(8)
    red, green, blue = image[..., 0], image[..., 1], image[..., 2]
    red_green, yellow_blue = red - green, (red + green) / 2 - blue
    chroma = np.hypot(red_green, yellow_blue)
    return np.array([1.0, chroma.mean(), np.percentile(chroma, 90), (chroma > COLOURED_CHROMA).mean(),
                     red_green.mean(), yellow_blue.mean(), red_green.std(), yellow_blue.std()])


def view_descriptors(image: np.ndarray) -> np.ndarray:
    """The descriptor vector the view model classifies.

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3); a side shorter than :data:`MIN_SIDE` px is enlarged.

    Returns
    -------
    ndarray
        (len(:data:`VIEW_DESCRIPTOR_NAMES`),) float64, all finite.

    Examples
    --------
    >>> vector = view_descriptors(np.random.default_rng(0).random((300, 200, 3)).astype(np.float32))
    >>> vector.shape == (len(VIEW_DESCRIPTOR_NAMES),) and bool(np.isfinite(vector).all())
    True
    """
    image = check_image(image)
    # Tiny images are enlarged (pixel repetition) so that the frame can be described at all.
    image, _ = enlarged(image, MIN_SIDE)
    small = reduced(image)
    # Snapped to 1/1020 steps, so float rounding (the luminance of an RGB frame with equal channels) cannot
    # flip the ties that texture codes compare.
    gray = np.rint(luminance(small) * 1020.0).astype(np.float32) / np.float32(1020.0)
    gy, gx = np.gradient(gray)
    magnitude = np.hypot(gx, gy)
    values = [
        describe_tiles(half_resolution(gray)[None])[0],
        band_profile(gray, magnitude, axis=0), band_profile(gray, magnitude, axis=1),
        orientation_histogram(gx, gy),
        [(gray < 0.02).mean(), (gray > 0.98).mean(), np.log(image.shape[1] / image.shape[0])],
        colour_statistics(small),
    ]
    return np.nan_to_num(np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in values]),
                         nan=0.0, posinf=0.0, neginf=0.0)


def network_descriptors(image: np.ndarray) -> np.ndarray:
    """The pretrained network's channels, mean and spread over the whole frame at about :data:`NETWORK_SIDE` px.

    A frame no larger than :data:`NETWORK_SIDE` px (a rover's browse frame, a HiRISE crop) is seen as it is.  A
    larger one is reduced to at most twice that and then seen exactly as the terrain scores' network sees it
    (:func:`marsviz.terrain.descriptors.network_image` at the default tile side: half resolution, levels snapped,
    no-data filled), so that for a frame of 257 to 512 px one network pass serves both
    (:func:`marsviz.terrain.backbone.feature_maps`).

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3) (seen in gray); a side shorter than :data:`MIN_SIDE` px is
        enlarged.

    Returns
    -------
    ndarray
        (len(:data:`marsviz.terrain.backbone.BACKBONE_NAMES`),) float64
        (:func:`marsviz.terrain.backbone.backbone_descriptors` of one tile).

    Examples
    --------
    >>> network_descriptors(np.full((300, 200), 0.5, np.float32)).shape == (len(BACKBONE_NAMES),)
    True
    """
    image, _ = enlarged(check_image(image), MIN_SIDE)
    gray = luminance(reduced(image, 2 * NETWORK_SIDE))
    if max(gray.shape) > NETWORK_SIDE:
        gray = network_image(half_resolution(gray), AnalysisSettings().tile_side)
    return backbone_descriptors(gray, 1, 1)[0]


def view_inputs(image: np.ndarray, descriptors: np.ndarray | None = None) -> np.ndarray:
    """The vector the view model classifies: :func:`view_descriptors`, then :func:`network_descriptors`.

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3).
    descriptors : ndarray, optional
        Its :func:`view_descriptors`, when already computed.

    Returns
    -------
    ndarray
        (len(:data:`VIEW_INPUT_NAMES`),) float64.
    """
    own = view_descriptors(image) if descriptors is None else np.asarray(descriptors, dtype=np.float64)
    return np.concatenate([own, network_descriptors(image)])
