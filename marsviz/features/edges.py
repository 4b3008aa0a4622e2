"""Edge ratio: how much of the frame lies on sharp intensity boundaries (Canny edges)."""

import numpy as np
from scipy import ndimage as ndi

from marsviz.features._base import FeatureResult, check_image, luminance

#: Frames with both sides at least this long are traced at half resolution (see :func:`edge_ratio`).
HALF_RESOLUTION_MIN_SIDE = 16
#: tan(22.5 degrees): the boundary between a horizontal, vertical or diagonal gradient direction.
_TAN_22_5 = np.float32(np.tan(np.pi / 8))
#: Smallest side on which the detector (smoothing, 3x3 gradient, 3x3 suppression) has an interior.
_MIN_TRACE_SIDE = 5


def edge_ratio(image: np.ndarray, sigma: float = 2.0, low_threshold: float = 0.05,
               high_threshold: float = 0.1) -> FeatureResult:
    """Fraction of pixels on Canny edges.

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3).
    sigma : float, optional
        Gaussian smoothing before edge detection, in pixels of the analysis resolution.
    low_threshold, high_threshold : float, optional
        Hysteresis thresholds on the smoothed gradient magnitude, in luminance units per pixel (0-1 scale).

    Returns
    -------
    FeatureResult
        `value` in [0, 1]: the edge-pixel fraction; `map`: boolean (H, W) edge mask.

    Notes
    -----
    Edges are traced at half the analysis resolution (2 x 2 box average; `sigma` and the per-pixel
    thresholds are converted so they mean the same at either resolution), which costs a quarter as
    much and ignores JPEG block noise, finer than any terrain edge of interest.  The gradient is the
    Sobel operator's, on the same scale as :func:`skimage.feature.canny`; non-maximum suppression
    compares each pixel with its two neighbours along the gradient direction (to the nearest 45
    degrees), and hysteresis keeps the weak edges 8-connected to a strong one.  The edge mask is
    returned at the analysis resolution.

    References
    ----------
    .. [1] Canny, J., "A Computational Approach To Edge Detection", IEEE Transactions on Pattern
       Analysis and Machine Intelligence, 8:679-714, 1986.

    Examples
    --------
    >>> edge_ratio(np.full((32, 32), 0.5, dtype=np.float32)).value
    0.0
    """
    if low_threshold > high_threshold:
        raise ValueError("low_threshold must not exceed high_threshold")
    return edges_of_luminance(luminance(check_image(image)), sigma, low_threshold, high_threshold)


def edges_of_luminance(gray: np.ndarray, sigma: float = 2.0, low_threshold: float = 0.05,
                       high_threshold: float = 0.1) -> FeatureResult:
    """:func:`edge_ratio` from a luminance map computed once for several features.

    Parameters
    ----------
    gray : ndarray
        float (H, W) luminance in [0, 1].
    sigma, low_threshold, high_threshold : float, optional
        As in :func:`edge_ratio`.

    Returns
    -------
    FeatureResult
    """
    factor = 2 if min(gray.shape) >= HALF_RESOLUTION_MIN_SIDE else 1
    traced = canny_mask(_box_reduce(gray, factor), sigma / factor, low_threshold * factor,
                        high_threshold * factor)
    mask = np.zeros(gray.shape, dtype=bool)
    if factor > 1:
        traced = np.repeat(np.repeat(traced, factor, axis=0), factor, axis=1)
    mask[:traced.shape[0], :traced.shape[1]] = traced
    return FeatureResult(float(np.count_nonzero(mask)) / mask.size, mask)


def canny_mask(gray: np.ndarray, sigma: float, low_threshold: float, high_threshold: float) -> np.ndarray:
    """Canny edge mask of a float (H, W) map.

    Parameters
    ----------
    gray : ndarray
        (H, W) float map.
    sigma : float
        Gaussian smoothing, in pixels.
    low_threshold, high_threshold : float
        Hysteresis thresholds on the Sobel gradient magnitude of the smoothed map.

    Returns
    -------
    ndarray
        Boolean (H, W) mask; the two outermost rows and columns are never edges.

    Examples
    --------
    >>> step = np.zeros((12, 12), dtype=np.float32)
    >>> step[:, 6:] = 1.0
    >>> np.flatnonzero(canny_mask(step, 1.0, 0.1, 0.2).any(axis=0)).tolist()
    [5, 6]
    """
    mask = np.zeros(gray.shape, dtype=bool)
    if min(gray.shape) < _MIN_TRACE_SIDE:
        return mask
    smoothed = ndi.gaussian_filter(np.asarray(gray, dtype=np.float32), sigma, mode="nearest")
    across = smoothed[:, 2:] - smoothed[:, :-2]
    gx = across[:-2] + across[2:]
    gx += 2 * across[1:-1]
    down = smoothed[2:] - smoothed[:-2]
    gy = down[:, :-2] + down[:, 2:]
    gy += 2 * down[:, 1:-1]
    # Squared magnitudes against squared thresholds: same order and same edges, without a square root.
    magnitude = np.square(gx)
    magnitude += np.square(gy)
    # Suppression only where the gradient reaches the low threshold (never on the outermost ring).
    width = magnitude.shape[1]
    candidates = magnitude >= np.float32(low_threshold) ** 2
    candidates[[0, -1], :] = False
    candidates[:, [0, -1]] = False
    at = np.flatnonzero(candidates)
    flat, gx, gy = magnitude.ravel(), gx.ravel()[at], gy.ravel()[at]
    ax, ay = np.abs(gx), np.abs(gy)
    step = np.where(ay <= _TAN_22_5 * ax, 1,
                    np.where(ax <= _TAN_22_5 * ay, width, np.where((gx > 0) == (gy > 0), width + 1, width - 1)))
    centre = flat[at]
    keep = (centre >= flat[at - step]) & (centre >= flat[at + step])
    weak = np.zeros(magnitude.shape, dtype=bool)
    weak.ravel()[at[keep]] = True
    strong = np.zeros_like(weak)
    strong.ravel()[at[keep & (centre >= np.float32(high_threshold) ** 2)]] = True
    weak, strong = weak[1:-1, 1:-1], strong[1:-1, 1:-1]
    labels, count = ndi.label(weak, structure=np.ones((3, 3), dtype=bool))
    if count:
        connected = np.zeros(count + 1, dtype=bool)
        connected[labels[strong]] = True
        connected[0] = False
        mask[2:-2, 2:-2] = connected[labels]
    return mask


def _box_reduce(gray: np.ndarray, factor: int) -> np.ndarray:
    """Average `factor` x `factor` blocks (a trailing odd row or column is dropped)."""
    if factor == 1:
        return gray
    height, width = gray.shape[0] // 2 * 2, gray.shape[1] // 2 * 2
    reduced = gray[0:height:2, 0:width:2] + gray[1:height:2, 0:width:2]
    reduced += gray[0:height:2, 1:width:2]
    reduced += gray[1:height:2, 1:width:2]
    reduced *= np.float32(0.25)
    return reduced
