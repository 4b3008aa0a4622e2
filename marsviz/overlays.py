"""Feature maps drawn over an image for the viewer (pixels in, pixels out; no file or UI code)."""

from __future__ import annotations

import numpy as np
from skimage.transform import resize

from marsviz.features import FeatureResult
from marsviz.registry import REGISTRY

#: Plain names for overlay colours, so a legend can say "in blue" instead of an RGB triple.
COLOUR_NAMES: dict[str, tuple[int, int, int]] = {
    "red": (230, 30, 30), "orange": (255, 150, 0), "yellow": (255, 230, 0), "green": (60, 220, 120),
    "cyan": (0, 255, 255), "blue": (40, 120, 255), "magenta": (255, 0, 200), "white": (255, 255, 255),
}


def to_rgb8(pixels: np.ndarray) -> np.ndarray:
    """An image, float in [0, 1] or uint8, (H, W) or (H, W, 3), as an (H, W, 3) uint8 array."""
    rgb = pixels if pixels.ndim == 3 else np.repeat(pixels[..., None], 3, axis=2)
    if rgb.dtype == np.uint8:
        return rgb
    return np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def render_overlays(pixels: np.ndarray, results: dict[str, FeatureResult], names: list[str],
                    opacity: float = 0.55) -> np.ndarray:
    """Draw the maps of the features in `names` over the image, each in its registry colour.

    Parameters
    ----------
    pixels : ndarray
        Image, float in [0, 1] or uint8, (H, W) or (H, W, 3): the analysed image, or the same image
        decoded larger for display.
    results : dict of str to FeatureResult
        Feature results of this image.  Maps of another size than `pixels` (computed at the analysis
        resolution, drawn on a larger display image) are resampled to it bilinearly, so their edges are
        smooth at the display resolution instead of blocks of analysis pixels.
    names : list of str
        Features to draw, bottom first.
    opacity : float, optional
        Opacity (0-1) of a fully set mask pixel; float maps scale it by their value.

    Returns
    -------
    ndarray
        (H, W, 3) uint8 image.  `pixels` is not modified.
    """
    if not 0 <= opacity <= 1:
        raise ValueError("opacity must be in [0, 1]")
    canvas = to_rgb8(pixels).astype(np.float32)
    height, width = canvas.shape[:2]
    for name in names:
        feature_map = _at_size(np.asarray(results[name].map, dtype=np.float32), (height, width), name)
        alpha = (feature_map * opacity)[..., None]
        colour = np.array(REGISTRY[name].overlay_colour, dtype=np.float32)
        canvas = canvas * (1 - alpha) + colour * alpha
    return np.round(canvas).astype(np.uint8)


def _at_size(feature_map: np.ndarray, shape: tuple[int, int], name: str) -> np.ndarray:
    """`feature_map` resampled (bilinear) to `shape`, which must have its aspect ratio to within one map pixel."""
    if feature_map.shape == shape:
        return feature_map
    scale = shape[0] / feature_map.shape[0] if feature_map.ndim == 2 else 0
    if not scale or abs(feature_map.shape[1] * scale - shape[1]) > scale + 1:
        raise ValueError(f"map of {name} has shape {feature_map.shape}, which does not fit the image {shape}")
    return resize(feature_map, shape, order=1, mode="edge", anti_aliasing=False, preserve_range=True)


def colour_name(rgb: tuple[int, int, int]) -> str:
    """The name in :data:`COLOUR_NAMES` nearest to an 8-bit RGB colour (Euclidean distance in RGB).

    Examples
    --------
    >>> colour_name((40, 120, 255)), colour_name((250, 140, 10))
    ('blue', 'orange')
    """
    target = np.asarray(rgb, dtype=np.float32)
    if target.shape != (3,):
        raise ValueError("rgb must be three values")
    return min(COLOUR_NAMES, key=lambda name: float(np.sum((np.asarray(COLOUR_NAMES[name]) - target) ** 2)))
