"""Decode an image file into the array the features work on, refusing what is not a safe, supported image.

This is the only place where untrusted image bytes meet Pillow.  Everything it refuses raises
:class:`marsviz.errors.ImageRejected` with a reason a user can act on.
"""

from __future__ import annotations

import io
import math
import re
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from marsviz import config
from marsviz.errors import ImageRejected

#: Pillow format names accepted, and the file extension each is stored under.
ALLOWED_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "WEBP": ".webp"}
#: Smallest side, in pixels, that the features can say anything about.
MIN_SIDE = 16
#: Mean absolute channel difference (0-1 scale) below which an RGB image is treated as grayscale.
GRAY_TOLERANCE = 1.5 / 255
#: EXIF tag holding the camera orientation (1: upright).
ORIENTATION_TAG = 0x0112
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class DecodedImage:
    """An image ready for the features.

    Attributes
    ----------
    pixels : ndarray
        float32 in [0, 1]; (H, W) for grayscale, (H, W, 3) for colour; longest side at most the
        analysis resolution, upright (EXIF orientation applied).
    is_color : bool
        False when the file is grayscale, or RGB with (nearly) identical channels.
    width, height : int
        Size of the original file, in pixels, after EXIF orientation.
    format : str
        Pillow's format name (one of :data:`ALLOWED_FORMATS`).
    """

    pixels: np.ndarray
    is_color: bool
    width: int
    height: int
    format: str

    @property
    def extension(self) -> str:
        return ALLOWED_FORMATS[self.format]


def load_image(source: str | Path | bytes | BinaryIO, name: str | None = None,
               max_side: int | None = None) -> DecodedImage:
    """Decode `source` at a bounded analysis resolution.

    Parameters
    ----------
    source : path, bytes or binary file
        The encoded image.
    name : str, optional
        How the user knows the file, used in error messages only (never as a path).
    max_side : int, optional
        Longest side of the returned pixels; default setting ``analysis_max_side``.  JPEGs are decoded
        at a reduced scale by the codec itself (Pillow's ``draft``), so a large frame costs little.

    Returns
    -------
    DecodedImage

    Raises
    ------
    ImageRejected
        If the file is empty, too large, not an allowed format, a decompression bomb, truncated or
        corrupt, or too small to analyse.
    """
    max_side = max_side or int(config.get("analysis_max_side"))
    name = name or (Path(source).name if isinstance(source, (str, Path)) else "image")
    data = read_bounded(source, name)
    _check_png_chunks(data, name)
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own 89 M-pixel default; the limit that counts is the setting
            # max_image_pixels, checked in _decode right after the header and before any pixel is decoded.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return _decode(data, name, max_side)
    except ImageRejected:
        raise
    except Image.DecompressionBombError as error:  # over twice Pillow's limit: refused inside Image.open
        raise ImageRejected(name, _bomb_reason(error)) from None
    except UnidentifiedImageError:
        raise ImageRejected(name, "not an image in an accepted format "
                                  f"({', '.join(sorted(ALLOWED_FORMATS))})") from None
    except MemoryError:
        raise ImageRejected(name, "image needs too much memory to decode") from None
    except Exception as error:  # Pillow raises many types for corrupt data; all mean "not a usable image".
        raise ImageRejected(name, f"not a readable image ({_describe(error)})") from None


def _bomb_reason(error: Exception) -> str:
    limit = int(config.get("max_image_pixels"))
    declared = re.search(r"\((\d+) pixels\)", str(error))
    size = f"declares {int(declared.group(1)):,} pixels, " if declared else "is "
    return f"image {size}over the {limit:,} pixel limit (decompression bomb protection)"


def _check_png_chunks(data: bytes, name: str) -> None:
    """Refuse a PNG whose chunks fail their CRC or that holds no image data.

    Pillow checks the CRC of the chunks before the image data but not of IDAT itself, so a
    corrupted image would otherwise decode into wrong pixels without complaint.
    """
    if not data.startswith(PNG_SIGNATURE):
        return
    view = memoryview(data)
    position, seen_data = len(PNG_SIGNATURE), False
    while position + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        end = position + 12 + length
        if end > len(data):
            break  # truncated: Pillow says so, with its own wording
        (expected,) = struct.unpack_from(">I", data, end - 4)
        if zlib.crc32(view[position + 4:end - 4]) != expected:
            raise ImageRejected(name, f"not a readable image (PNG {kind.decode('latin-1')!r} chunk fails "
                                      "its checksum: the file is corrupt)")
        seen_data = seen_data or kind == b"IDAT"
        if kind == b"IEND":
            break
        position = end
    if not seen_data:
        raise ImageRejected(name, "not a readable image (PNG file holds no image data: truncated or corrupt)")


def read_bounded(source: str | Path | bytes | BinaryIO, name: str) -> bytes:
    """The bytes of `source`, refusing empty and unreadable files and files over ``max_upload_bytes``.

    Raises
    ------
    ImageRejected
        Naming the file and the reason.
    """
    limit = int(config.get("max_upload_bytes"))
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, Path)):
        path = Path(source)
        try:
            size = path.stat().st_size
            if size > limit:
                raise ImageRejected(name, f"file is {size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit")
            data = path.read_bytes()
        except OSError as error:
            raise ImageRejected(name, f"cannot read file ({error.strerror or error})") from None
    else:
        data = source.read(limit + 1)
    if len(data) > limit:
        raise ImageRejected(name, f"file is over the {limit / 1e6:.0f} MB limit")
    if not data:
        raise ImageRejected(name, "file is empty")
    return data


def _decode(data: bytes, name: str, max_side: int) -> DecodedImage:
    max_pixels = int(config.get("max_image_pixels"))
    with Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS)) as image:
        fmt = image.format
        width, height = image.size
        if width * height > max_pixels:
            raise ImageRejected(name, f"image is {width}x{height} pixels, over the {max_pixels:,} pixel limit")
        if min(width, height) < MIN_SIDE:
            raise ImageRejected(name, f"image is {width}x{height} pixels; each side must be at least {MIN_SIDE}")
        if fmt == "JPEG":
            scale = max_side / max(width, height)
            if scale < 1:
                image.draft(image.mode if image.mode in ("L", "RGB") else "RGB",
                            (math.ceil(width * scale), math.ceil(height * scale)))
        image.load()
        decoded_size = image.size
        if image.getexif().get(ORIENTATION_TAG, 1) != 1:
            image = ImageOps.exif_transpose(image)
        upright_size = image.size
        image = _reduce_early(image, max_side)
        eight_bit = _to_8bit(image)
        if eight_bit is not None:
            # Shrinking and the grayscale test run on 8-bit pixels in Pillow's C code: a float copy of
            # the full-size frame would cost more than decoding it.
            pixels, is_color = _from_8bit(_fit_8bit(eight_bit, max_side))
        else:
            pixels, is_color = _from_float(_fit(_to_float(image), max_side))
    width, height = _oriented_size(width, height, upright_size, decoded_size)
    if min(pixels.shape[:2]) < 2:
        raise ImageRejected(name, f"image is {width}x{height} pixels, too elongated to analyse")
    return DecodedImage(pixels=pixels, is_color=is_color, width=width, height=height, format=fmt)


def _reduce_early(image: Image.Image, max_side: int) -> Image.Image:
    """Shrink a frame far above the analysis resolution by an integer factor, in its own mode.

    Flattening alpha, widening 16-bit samples and float conversion each copy the frame; done on a
    full-size frame they cost several times the decoded size (a 337 KB RGBA PNG of 9000x9000 pixels
    took 1.5 GB).  Box-reducing first keeps at least twice the analysis resolution for the final fit.
    """
    factor = max(image.size) // (2 * max_side)
    if factor < 2:
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        # Pillow cannot reduce 16-bit modes; go through 32-bit and back, so the 16-bit scale is kept.
        return image.convert("I").reduce(factor).convert("I;16")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode == "1":
        image = image.convert("L")
    if image.mode not in ("L", "RGB", "RGBA", "LA", "I", "F", "CMYK"):
        return image
    return image.reduce(factor)


def _oriented_size(width, height, upright_size, decoded_size):
    # draft() shrinks the decoded size; EXIF rotation may swap axes. Report the original, upright.
    swapped = upright_size != decoded_size and upright_size == decoded_size[::-1]
    return (height, width) if swapped else (width, height)


def _to_8bit(image: Image.Image) -> Image.Image | None:
    """The image as Pillow mode L or RGB when it holds 8-bit samples; None for 16-bit and float modes."""
    mode = image.mode
    if mode in ("L", "RGB"):
        return image
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return None
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        return _flatten_alpha(image)
    return image.convert("RGB")


def _flatten_alpha(image: Image.Image) -> Image.Image:
    # Transparent areas carry no data: flatten onto black, like space around a planet.
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _fit_8bit(image: Image.Image, max_side: int) -> Image.Image:
    """Shrink an L or RGB image so its longest side is at most `max_side`, by box averaging."""
    longest = max(image.size)
    if longest <= max_side:
        return image
    scale = max_side / longest
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BOX)


def _from_8bit(image: Image.Image) -> tuple[np.ndarray, bool]:
    """float32 pixels in [0, 1] and the colour flag of an L or RGB image."""
    array = np.asarray(image)
    if array.ndim == 3:
        # Channel planes as int16 views: reductions over a trailing axis of 3 are slow in numpy.
        red, green, blue = (array[..., c].astype(np.int16) for c in range(3))
        spread = (np.abs(green - red).mean() + np.abs(blue - green).mean()) / (2 * 255.0)
        if spread <= GRAY_TOLERANCE:
            return np.divide(red + green + blue, 3 * 255.0, dtype=np.float32), False
    return np.divide(array, 255.0, dtype=np.float32), array.ndim == 3


def _from_float(pixels: np.ndarray) -> tuple[np.ndarray, bool]:
    """Pixels and colour flag of a float image from a 16-bit or float file."""
    is_color = pixels.ndim == 3 and float(np.mean(np.abs(np.diff(pixels, axis=2)))) > GRAY_TOLERANCE
    if pixels.ndim == 3 and not is_color:
        pixels = np.ascontiguousarray(pixels.mean(axis=2, dtype=np.float32))
    return pixels, is_color


def _to_float(image: Image.Image) -> np.ndarray:
    """Convert any Pillow mode to float32 in [0, 1]: (H, W) or (H, W, 3)."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(image, dtype=np.float32) / 65535.0
    if mode in ("I", "F"):
        # float64: the span of extreme float32 samples overflows float32; NaN and inf samples carry no data.
        array = np.asarray(image, dtype=np.float64)
        finite = np.isfinite(array)
        if not finite.any():
            return np.zeros(array.shape, dtype=np.float32)
        low, high = float(array[finite].min()), float(array[finite].max())
        array = np.where(finite, array, low)
        if mode == "I" and low >= 0 and high <= 65535:
            return (array / (255.0 if high <= 255 else 65535.0)).astype(np.float32)
        scaled = (array - low) / (high - low) if high > low else np.zeros_like(array)
        return scaled.astype(np.float32)
    image = _to_8bit(image)
    return np.asarray(image, dtype=np.float32) / 255.0


def _fit(pixels: np.ndarray, max_side: int) -> np.ndarray:
    """Shrink so the longest side is at most `max_side`, by box averaging (cheap, alias-free)."""
    height, width = pixels.shape[:2]
    longest = max(height, width)
    if longest <= max_side:
        return np.ascontiguousarray(pixels, dtype=np.float32)
    image = Image.fromarray(pixels) if pixels.ndim == 2 else None
    scale = max_side / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if image is not None:
        return np.asarray(image.resize(size, Image.Resampling.BOX), dtype=np.float32)
    channels = [np.asarray(Image.fromarray(pixels[..., c]).resize(size, Image.Resampling.BOX))
                for c in range(pixels.shape[2])]
    return np.ascontiguousarray(np.stack(channels, axis=2), dtype=np.float32)


def _describe(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:200]
