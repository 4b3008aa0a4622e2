"""Texture and shape descriptors of a grayscale tile: the inputs of the trained terrain scores.

Every function here is pure: a 2-D float array in, numbers out, input never modified.  The descriptor
vector of :func:`describe` is what :mod:`marsviz.terrain.model` scores; its order is :data:`DESCRIPTOR_NAMES`
and must not change without retraining (``python -m marsviz train``).

The tile is expected at *half* the analysis resolution (see :func:`half_resolution`): a 227 px HiRISE
crop becomes a 113 px tile.  Working at half resolution keeps both terrain features within their time
budget, and JPEG block noise, which is finer than any terrain texture of interest, averages out.
"""

from __future__ import annotations

import numpy as np
from skimage.feature import graycomatrix, graycoprops

#: Bins of the rotation-invariant uniform LBP histogram with 8 neighbours: 0-8 set bits, then non-uniform.
LBP_BINS = 10
#: Gray levels of the co-occurrence matrix (coarse, so a 56 px tile fills it well).
GLCM_LEVELS = 8
#: Orientation bins of the gradient orientation histogram (0 to 180 degrees).
ORIENTATION_BINS = 8
#: Smallest tile side, in pixels, for which the descriptors are defined.
MIN_TILE_SIDE = 8

_EPS = 1e-6


def _lbp_names(scale: str) -> list[str]:
    return [f"lbp_{scale}_{bits}" for bits in range(LBP_BINS - 1)] + [f"lbp_{scale}_nonuniform"]


#: Descriptor names, in the order of :func:`describe`'s output.
DESCRIPTOR_NAMES: list[str] = [
    "brightness_mean", "brightness_std", "brightness_p05", "brightness_p50", "brightness_p95",
    "brightness_skew", "dark_outlier_fraction", "bright_outlier_fraction",
    "log_gradient_s1", "log_gradient_s2", "log_gradient_s4",
    "gradient_to_contrast_s1", "gradient_to_contrast_s4",
    "orientation_coherence", "orientation_entropy",
    *_lbp_names("s1"), *_lbp_names("s2"),
    "glcm_contrast", "glcm_homogeneity", "glcm_energy", "glcm_correlation",
]

#: Short plain-language meaning of each descriptor, for the viewer's "what pushed the score" list.
DESCRIPTOR_LABELS: dict[str, str] = {
    "brightness_mean": "mean brightness",
    "brightness_std": "brightness contrast (std)",
    "brightness_p05": "darkest 5% brightness",
    "brightness_p50": "median brightness",
    "brightness_p95": "brightest 5% brightness",
    "brightness_skew": "brightness skew (bright tail vs dark tail)",
    "dark_outlier_fraction": "share of pixels far darker than the tile",
    "bright_outlier_fraction": "share of pixels far brighter than the tile",
    "log_gradient_s1": "fine-scale roughness (gradient, 2 px)",
    "log_gradient_s2": "medium-scale roughness (gradient, 4 px)",
    "log_gradient_s4": "coarse-scale roughness (gradient, 8 px)",
    "gradient_to_contrast_s1": "sharpness of fine edges relative to contrast",
    "gradient_to_contrast_s4": "sharpness of coarse edges relative to contrast",
    "orientation_coherence": "one dominant direction (ripples, streaks)",
    "orientation_entropy": "spread of edge directions",
    **{f"lbp_s1_{bits}": f"fine texture pattern LBP {bits}/8" for bits in range(LBP_BINS - 1)},
    "lbp_s1_nonuniform": "fine irregular texture (non-uniform LBP)",
    **{f"lbp_s2_{bits}": f"coarse texture pattern LBP {bits}/8" for bits in range(LBP_BINS - 1)},
    "lbp_s2_nonuniform": "coarse irregular texture (non-uniform LBP)",
    "glcm_contrast": "co-occurrence contrast",
    "glcm_homogeneity": "co-occurrence homogeneity",
    "glcm_energy": "co-occurrence energy (repetitive, uniform)",
    "glcm_correlation": "co-occurrence correlation (smooth gradients)",
}


def _uniform_lbp_lookup() -> np.ndarray:
    """Map each 8-bit neighbour pattern to its rotation-invariant uniform code (Ojala et al. 2002)."""
    lookup = np.empty(256, dtype=np.intp)
    for pattern in range(256):
        bits = [(pattern >> k) & 1 for k in range(8)]
        transitions = sum(bits[k] != bits[(k + 1) % 8] for k in range(8))
        lookup[pattern] = sum(bits) if transitions <= 2 else LBP_BINS - 1
    return lookup


_LBP_LOOKUP = _uniform_lbp_lookup()


def half_resolution(gray: np.ndarray) -> np.ndarray:
    """Average 2x2 blocks (an odd last row or column is dropped).

    Parameters
    ----------
    gray : ndarray
        2-D float array.

    Returns
    -------
    ndarray
        float32 array of shape ``(H // 2, W // 2)``.

    Examples
    --------
    >>> half_resolution(np.arange(16, dtype=np.float32).reshape(4, 4))
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    """
    gray = np.asarray(gray, dtype=np.float32)
    height, width = (gray.shape[0] // 2) * 2, (gray.shape[1] // 2) * 2
    blocks = gray[:height, :width].reshape(height // 2, 2, width // 2, 2)
    # Two pairwise adds are several times faster than blocks.mean(axis=(1, 3)).
    pairs = blocks[:, 0] + blocks[:, 1]
    return (pairs[:, :, 0] + pairs[:, :, 1]) * np.float32(0.25)


def lbp_histogram(tile: np.ndarray) -> np.ndarray:
    """Normalised histogram of rotation-invariant uniform local binary patterns, 8 neighbours at 1 px.

    Parameters
    ----------
    tile : ndarray
        2-D float array, at least 3x3.

    Returns
    -------
    ndarray
        :data:`LBP_BINS` fractions summing to 1: bin ``k`` (0-8) counts uniform patterns with ``k``
        neighbours at least as bright as the centre, the last bin counts non-uniform patterns.

    Notes
    -----
    Square 8-neighbourhood without interpolation, unlike ``skimage.feature.local_binary_pattern``
    (which interpolates the diagonals on a circle): the same codes, at a fraction of the cost.

    Examples
    --------
    >>> lbp_histogram(np.full((5, 5), 0.5))[8]  # flat: every neighbour ties with the centre
    1.0
    """
    centre = tile[1:-1, 1:-1]
    height, width = tile.shape
    code = np.zeros(centre.shape, dtype=np.uint8)
    neighbours = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0)]  # circular order
    for bit, (row, col) in enumerate(neighbours):
        code |= (tile[row:row + height - 2, col:col + width - 2] >= centre).astype(np.uint8) << bit
    counts = np.bincount(_LBP_LOOKUP[code].ravel(), minlength=LBP_BINS)
    return counts / counts.sum()


def glcm_statistics(tile: np.ndarray) -> np.ndarray:
    """Contrast, homogeneity, energy and correlation of the gray-level co-occurrence matrix.

    Parameters
    ----------
    tile : ndarray
        2-D float array, at least 2x2.

    Returns
    -------
    ndarray
        Four numbers, averaged over horizontal and vertical neighbours at 1 px, after stretching the
        tile's 1st-99th percentile range onto :data:`GLCM_LEVELS` levels (so they describe texture,
        not exposure).  A flat tile gives contrast 0, homogeneity 1, energy 1, correlation 1.
    """
    low, high = np.percentile(tile, [1, 99])
    if high - low < _EPS:
        return np.array([0.0, 1.0, 1.0, 1.0])
    levels = np.clip((tile - low) / (high - low) * GLCM_LEVELS, 0, GLCM_LEVELS - 1).astype(np.uint8)
    matrix = graycomatrix(levels, [1], [0, np.pi / 2], levels=GLCM_LEVELS, symmetric=True, normed=True)
    values = [float(np.mean(graycoprops(matrix, prop))) for prop in
              ("contrast", "homogeneity", "energy", "correlation")]
    return np.nan_to_num(np.array(values), nan=1.0)


def _gradient(tile: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gy, gx = np.gradient(tile)
    return gx, gy


def orientation_statistics(gx: np.ndarray, gy: np.ndarray) -> tuple[float, float]:
    """Coherence of the structure tensor and entropy of the gradient-orientation histogram.

    Parameters
    ----------
    gx, gy : ndarray
        Horizontal and vertical gradients.

    Returns
    -------
    coherence : float
        In [0, 1]: 1 when all gradients share one direction (ripples, streaks), 0 when isotropic.
    entropy : float
        In [0, 1]: magnitude-weighted entropy of :data:`ORIENTATION_BINS` orientation bins, divided by
        its maximum; 1 when edges point every way (a HOG cell's spread).
    """
    jxx, jyy, jxy = float(np.sum(gx * gx)), float(np.sum(gy * gy)), float(np.sum(gx * gy))
    total = jxx + jyy
    if total < _EPS:
        return 0.0, 0.0
    coherence = float(np.sqrt((jxx - jyy) ** 2 + 4 * jxy ** 2) / total)
    magnitude = np.hypot(gx, gy).ravel()
    angle = np.mod(np.arctan2(gy, gx).ravel(), np.pi)
    bins = np.minimum((angle / np.pi * ORIENTATION_BINS).astype(np.intp), ORIENTATION_BINS - 1)
    weights = np.bincount(bins, weights=magnitude, minlength=ORIENTATION_BINS)
    p = weights / weights.sum()
    p = p[p > 0]
    entropy = float(-(p * np.log(p)).sum() / np.log(ORIENTATION_BINS))
    return min(coherence, 1.0), entropy


def describe(tile: np.ndarray) -> np.ndarray:
    """The descriptor vector of one grayscale tile (at half the analysis resolution).

    Parameters
    ----------
    tile : ndarray
        2-D float array in [0, 1], each side at least :data:`MIN_TILE_SIDE`.

    Returns
    -------
    ndarray
        float64 vector, one value per name in :data:`DESCRIPTOR_NAMES`, all finite.

    Raises
    ------
    ValueError
        If `tile` is not 2-D or is smaller than :data:`MIN_TILE_SIDE`.

    Notes
    -----
    Multi-scale: gradients at 1, 2 and 4 times the tile's pixel (2, 4 and 8 px of the analysis image),
    LBP at two scales, GLCM at the coarser one.  Brightness statistics are absolute, because HiRISE
    browse products keep bright ice bright; everything else is insensitive to exposure.

    Examples
    --------
    >>> vector = describe(np.random.default_rng(0).random((64, 64)))
    >>> vector.shape == (len(DESCRIPTOR_NAMES),) and bool(np.isfinite(vector).all())
    True
    """
    tile = np.asarray(tile, dtype=np.float32)
    if tile.ndim != 2 or min(tile.shape) < MIN_TILE_SIDE:
        raise ValueError(f"expected a 2-D tile of at least {MIN_TILE_SIDE} px a side, got {tile.shape}")
    mean = float(tile.mean())
    std = float(tile.std())
    p05, p50, p95 = (float(v) for v in np.percentile(tile, [5, 50, 95]))
    centred = tile - mean
    skew = float(np.mean(centred ** 3) / (std ** 3)) if std > 1e-3 else 0.0
    spread = max(2 * std, 0.02)
    dark = float(np.mean(centred < -spread))
    bright = float(np.mean(centred > spread))

    quarter = half_resolution(tile)
    eighth = half_resolution(quarter) if min(quarter.shape) >= 4 else quarter
    gx, gy = _gradient(tile)
    grad_s1 = float(np.mean(np.hypot(gx, gy)))
    grad_s2 = float(np.mean(np.hypot(*_gradient(quarter))))
    grad_s4 = float(np.mean(np.hypot(*_gradient(eighth))))
    coherence, entropy = orientation_statistics(gx, gy)
    contrast = std + 0.01

    return np.concatenate([
        [mean, std, p05, p50, p95, float(np.clip(skew, -10, 10)), dark, bright,
         np.log(grad_s1 + 1e-3), np.log(grad_s2 + 1e-3), np.log(grad_s4 + 1e-3),
         grad_s1 / contrast, grad_s4 / contrast, coherence, entropy],
        lbp_histogram(tile), lbp_histogram(quarter), glcm_statistics(quarter),
    ]).astype(np.float64)
