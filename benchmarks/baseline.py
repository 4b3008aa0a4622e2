"""The straightforward implementation the 20x target is measured against (never used by marsviz).

The seed's four features as one would first write them: the whole file decoded at full resolution
into float64, every statistic over every pixel, and Canny over the whole frame with
:func:`skimage.feature.canny`.  Same thresholds as :mod:`marsviz.features`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from skimage.feature import canny

REC709 = np.array([0.2126, 0.7152, 0.0722])


def decode_full(path: str | Path) -> np.ndarray:
    """float64 pixels in [0, 1] at full resolution: (H, W) or (H, W, 3)."""
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image)
        image = image.convert("L" if image.mode in ("L", "I;16", "I", "F") else "RGB")
        pixels = np.asarray(image, dtype=np.float64) / 255.0
    if pixels.ndim == 3 and np.mean(np.abs(np.diff(pixels, axis=2))) <= 1.5 / 255:
        pixels = pixels.mean(axis=2)
    return pixels


def luminance(pixels: np.ndarray) -> np.ndarray:
    """Rec. 709 luminance (grayscale returned as is)."""
    return pixels if pixels.ndim == 2 else pixels @ REC709


def dark_spot_ratio(pixels: np.ndarray) -> float:
    gray = luminance(pixels)
    return float((gray < 0.5 * np.median(gray)).mean())


def edge_ratio(pixels: np.ndarray) -> float:
    return float(canny(luminance(pixels), sigma=2.0, low_threshold=0.05, high_threshold=0.1).mean())


def colour_variation(pixels: np.ndarray) -> float:
    if pixels.ndim == 2:
        return 0.0
    red_green = pixels[..., 0] - pixels[..., 1]
    yellow_blue = 0.5 * (pixels[..., 0] + pixels[..., 1]) - pixels[..., 2]
    deviation = np.hypot(red_green - np.median(red_green), yellow_blue - np.median(yellow_blue))
    return float((deviation > 0.08).mean())


def water_ice_ratio(pixels: np.ndarray) -> float:
    gray = luminance(pixels)
    mask = gray >= max(0.6, 1.3 * np.median(gray))
    if pixels.ndim == 3:
        mask &= (pixels[..., 0] - pixels[..., 2]) <= 0.02
    return float(mask.mean())


def analyse(path: str | Path) -> dict[str, float]:
    """Decode `path` at full resolution and compute the four seed features."""
    pixels = decode_full(path)
    return {"dark_spot_ratio": dark_spot_ratio(pixels), "edge_ratio": edge_ratio(pixels),
            "colour_variation": colour_variation(pixels), "water_ice_ratio": water_ice_ratio(pixels)}
