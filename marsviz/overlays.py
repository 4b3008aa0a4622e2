"""Feature maps drawn over an image for the viewer (pixels in, pixels out; no file or UI code)."""

from __future__ import annotations

import numpy as np

from marsviz.features import FeatureResult
from marsviz.registry import REGISTRY

#: Plain names for overlay colours, so a legend can say "in blue" instead of an RGB triple.
COLOUR_NAMES: dict[str, tuple[int, int, int]] = {
    "red": (230, 30, 30), "orange": (255, 150, 0), "yellow": (255, 230, 0), "green": (60, 220, 120),
    "cyan": (0, 255, 255), "blue": (40, 120, 255), "magenta": (255, 0, 200), "white": (255, 255, 255),
}


def to_rgb8(pixels: np.ndarray) -> np.ndarray:
    """A float image in [0, 1], (H, W) or (H, W, 3), as an (H, W, 3) uint8 array."""
    rgb = pixels if pixels.ndim == 3 else np.repeat(pixels[..., None], 3, axis=2)
    return np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def render_overlays(pixels: np.ndarray, results: dict[str, FeatureResult], names: list[str],
                    opacity: float = 0.55) -> np.ndarray:
    """Draw the maps of the features in `names` over the image, each in its registry colour.

    Parameters
    ----------
    pixels : ndarray
        float image in [0, 1], (H, W) or (H, W, 3).
    results : dict of str to FeatureResult
        Feature results of this image (maps of the same height and width as `pixels`).
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
        feature_map = np.asarray(results[name].map)
        if feature_map.shape != (height, width):
            raise ValueError(f"map of {name} has shape {feature_map.shape}, image is {(height, width)}")
        alpha = (feature_map.astype(np.float32) * opacity)[..., None]
        colour = np.array(REGISTRY[name].overlay_colour, dtype=np.float32)
        canvas = canvas * (1 - alpha) + colour * alpha
    return np.round(canvas).astype(np.uint8)


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
