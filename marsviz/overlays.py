"""Feature maps drawn over an image for the viewer (pixels in, pixels out; no file or UI code)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage
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
                    opacity: float = 0.55, part: tuple[tuple[int, int], slice, slice] | None = None) -> np.ndarray:
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
    part : ((int, int), slice, slice), optional
        ``(shape, rows, columns)`` when `pixels` is ``image[rows, columns]`` of an image of that
        (height, width) `shape` (a zoomed view): each map is sampled over that part only.

    Returns
    -------
    ndarray
        (H, W, 3) uint8 image.  `pixels` is not modified.
    """
    if not 0 <= opacity <= 1:
        raise ValueError("opacity must be in [0, 1]")
    canvas = to_rgb8(pixels).astype(np.float32)
    height, width = canvas.shape[:2]
    if part is not None and (part[1].stop - part[1].start, part[2].stop - part[2].start) != (height, width):
        raise ValueError(f"part {part[1:]} is not the size of the pixels {(height, width)}")
    for name in names:
        feature_map = np.asarray(results[name].map, dtype=np.float32)
        if part is None:
            feature_map = _at_size(feature_map, (height, width), name)
        else:
            _check_fits(feature_map, part[0], name)
            feature_map = _over_part(feature_map, *part)
        alpha = (feature_map * opacity)[..., None]
        colour = np.array(REGISTRY[name].overlay_colour, dtype=np.float32)
        canvas = canvas * (1 - alpha) + colour * alpha
    return np.round(canvas).astype(np.uint8)


def _at_size(feature_map: np.ndarray, shape: tuple[int, int], name: str) -> np.ndarray:
    """`feature_map` resampled (bilinear) to `shape`, which must have its aspect ratio to within one map pixel."""
    if feature_map.shape == shape:
        return feature_map
    _check_fits(feature_map, shape, name)
    return resize(feature_map, shape, order=1, mode="edge", anti_aliasing=False, preserve_range=True)


def _check_fits(feature_map: np.ndarray, shape: tuple[int, int], name: str) -> None:
    """Raise ValueError unless `feature_map` is 2-D with the aspect ratio of an image of `shape`, to within one
    map pixel."""
    scale = shape[0] / feature_map.shape[0] if feature_map.ndim == 2 else 0
    if not scale or abs(feature_map.shape[1] * scale - shape[1]) > scale + 1:
        raise ValueError(f"map of {name} has shape {feature_map.shape}, which does not fit the image {shape}")


def _over_part(feature_map: np.ndarray, shape: tuple[int, int], rows: slice, columns: slice) -> np.ndarray:
    """`feature_map`, which covers a whole image of `shape`, sampled bilinearly at the pixel centres of
    ``image[rows, columns]``."""
    scale_y, scale_x = feature_map.shape[0] / shape[0], feature_map.shape[1] / shape[1]
    y = (np.arange(rows.start, rows.stop) + 0.5) * scale_y - 0.5
    x = (np.arange(columns.start, columns.stop) + 0.5) * scale_x - 0.5
    grid_y, grid_x = np.meshgrid(y, x, indexing="ij")
    return ndimage.map_coordinates(feature_map, [grid_y, grid_x], order=1, mode="nearest")


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


def zoom_window(shape: tuple[int, int], zoom: float, centre: tuple[float, float]) -> tuple[slice, slice]:
    """The part of an image that a `zoom`-times enlargement around `centre` shows.

    Parameters
    ----------
    shape : (int, int)
        The image's (height, width) in pixels.
    zoom : float
        Magnification, at least 1: the window is 1/`zoom` of the image's height and width (at least
        one pixel each); 1 is the whole image.
    centre : (float, float)
        Where the window is centred, as fractions (0-1) of the image's width (across) and height
        (down).  Near an edge the window is moved inside the image, keeping its size.

    Returns
    -------
    rows, columns : slice
        Index the image with ``image[rows, columns]``.

    Examples
    --------
    >>> zoom_window((100, 200), 4, (0.5, 0.5))
    (slice(38, 63, None), slice(75, 125, None))
    >>> zoom_window((100, 200), 4, (1.0, 0.0))  # the top right corner
    (slice(0, 25, None), slice(150, 200, None))
    """
    if not zoom >= 1:
        raise ValueError(f"zoom must be at least 1, not {zoom}")
    if not all(0 <= c <= 1 for c in centre):
        raise ValueError(f"centre must be fractions between 0 and 1, not {centre}")
    spans = []
    for size, fraction in zip(shape, (centre[1], centre[0])):
        length = max(1, int(round(size / zoom)))
        start = min(max(int(round(fraction * size - length / 2)), 0), size - length)
        spans.append(slice(start, start + length))
    return spans[0], spans[1]
