"""A part of a large JPEG, PNG or TIFF at its full resolution, read without decoding the whole image into memory.

Pillow decodes a JPEG, PNG or TIFF whole, so the viewer zooms into large originals from a rendition of at most
a few thousand pixels.  GDAL (through rasterio, which already reads the archive formats) decodes them a
scanline (or a TIFF tile) at a time, so a window of a 100-megapixel frame costs the memory of the window.  Only
files whose stored samples are what the viewer shows qualify (:func:`windowable`): 8-bit gray or RGB, with or
without an alpha channel (flattened onto black, as :mod:`marsviz.decode` flattens the whole image), upright
(no EXIF turn), neither progressive nor interlaced (GDAL would decode those whole), and for PNG without an sBIT
chunk (whose samples the decoder stretches) or a transparent colour (tRNS, which the decoder flattens too).
Others are zoomed from a rendition.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from pathlib import Path

import numpy as np

from marsviz.decode import ORIENTATION_TAG, PNG_SIGNATURE
from marsviz.overlays import zoom_window

#: GDAL's driver for each Pillow format that can be read by window.
DRIVERS = {"JPEG": "JPEG", "PNG": "PNG", "TIFF": "GTiff"}
#: Pillow modes that can be read by window, and the bands GDAL reads for each (the last one alpha for LA and
#: RGBA).
BANDS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}


def windowable(path: str | Path) -> bool:
    """Whether :func:`read_window` can read parts of the image file at `path` (reads its header only).

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     Image.new("RGB", (64, 32)).save(f"{folder}/a.jpg")
    ...     Image.new("RGB", (64, 32)).save(f"{folder}/b.jpg", progressive=True)
    ...     Image.new("P", (64, 32)).save(f"{folder}/c.png")
    ...     Image.new("RGBA", (64, 32)).save(f"{folder}/d.png")
    ...     [windowable(f"{folder}/{name}") for name in ("a.jpg", "b.jpg", "c.png", "d.png")]
    [True, False, False, True]
    """
    return _layout(path) is not None


def _layout(path: str | Path) -> tuple[str, int, int, int] | None:
    """GDAL's driver for the image file at `path`, its width, height and number of bands, if :func:`read_window`
    can read it by window; else None.  Reads the file's header only."""
    from PIL import Image, UnidentifiedImageError

    try:
        with _header(path) as image:
            if image.format not in DRIVERS or image.mode not in BANDS or "transparency" in image.info \
                    or image.info.get("interlace") or image.info.get("progressive") \
                    or image.info.get("progression"):
                return None
            if image.format == "PNG":  # Pillow's getexif() would decode a PNG whole to look past its data
                as_shown = not {b"eXIf", b"sBIT"} & _png_chunk_types(path)
            else:
                as_shown = image.getexif().get(ORIENTATION_TAG, 1) == 1
            return (DRIVERS[image.format], *image.size, BANDS[image.mode]) if as_shown else None
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return None


@contextlib.contextmanager
def _header(path: str | Path):
    """The image file at `path` opened by Pillow, which reads its header only (so Pillow's warning about its own
    pixel limit, meant for decoding, does not apply)."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as image:
            yield image


def _png_chunk_types(path: str | Path) -> set[bytes]:
    """The types of the chunks of the PNG file at `path`, read from their headers alone."""
    kinds = set()
    with open(path, "rb") as handle:
        handle.seek(len(PNG_SIGNATURE))
        while len(header := handle.read(8)) == 8:
            length, kind = int.from_bytes(header[:4], "big"), header[4:]
            kinds.add(kind)
            if kind == b"IEND":
                break
            handle.seek(length + 4, 1)  # the chunk's data and CRC
    return kinds


def reduction(size: tuple[int, int], zoom: float, max_side: int) -> int:
    """The factor by which :func:`read_window` reduces an image of `size` (height, width) so that the part a
    `zoom`-times enlargement shows fits in `max_side` px: 1 is full resolution.

    Examples
    --------
    >>> reduction((6000, 9000), 8, 2048), reduction((6000, 9000), 2, 2048)
    (1, 3)
    """
    return max(1, math.ceil(max(size) / zoom / max_side))


def read_window(path: str | Path, zoom: float, centre: tuple[float, float],
                max_side: int) -> tuple[np.ndarray, tuple[tuple[int, int], slice, slice]] | None:
    """The part of an image file that a `zoom`-times enlargement around `centre` shows, at full resolution
    where it fits in `max_side` px, else reduced by area averaging to fit.

    Parameters
    ----------
    path : str or Path
        A JPEG, PNG or TIFF file that :func:`windowable` accepts.
    zoom : float
        Magnification, at least 1 (:func:`marsviz.overlays.zoom_window`).
    centre : (float, float)
        Centre of the part as fractions (0-1) of the width (across) and height (down).
    max_side : int
        Longest side, in pixels, of the part returned.

    Returns
    -------
    (ndarray, ((int, int), slice, slice)) or None
        The part as (h, w, 3) uint8, and where it lies: the (height, width) of the whole image at the part's
        resolution and the rows and columns of the part in it (as :func:`marsviz.overlays.render_overlays`
        takes a part).  None if the file does not qualify or GDAL cannot read it.

    Notes
    -----
    An alpha channel is flattened onto black after GDAL's area averaging, so where a reduced pixel mixes
    transparent and opaque pixels it is the flattened mean colour times the mean opacity, not the mean of the
    flattened pixels (the two agree at full resolution, to the bit).
    """
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, not {max_side}")
    layout = _layout(path)
    if layout is None:
        return None
    driver, width, height, count = layout
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.errors import NotGeoreferencedWarning, RasterioError
    from rasterio.windows import Window

    # The part is cut from the whole image reduced by `factor`, so its side fits in max_side.
    factor = reduction((height, width), zoom, max_side)
    shape = (math.ceil(height / factor), math.ceil(width / factor))
    rows, columns = zoom_window(shape, zoom, centre)
    window = Window(columns.start * factor, rows.start * factor,
                    min(width, columns.stop * factor) - columns.start * factor,
                    min(height, rows.stop * factor) - rows.start * factor)
    try:
        with (rasterio.Env(GDAL_PAM_ENABLED="NO", GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR"),
              warnings.catch_warnings()):
            warnings.simplefilter("ignore", NotGeoreferencedWarning)  # a photograph is not a map
            with rasterio.open(path, driver=driver) as dataset:
                if (dataset.height, dataset.width, dataset.count) != (height, width, count):
                    return None
                bands = dataset.read(window=window, out_shape=(dataset.count, rows.stop - rows.start,
                                                               columns.stop - columns.start),
                                     resampling=Resampling.average)
    except RasterioError:
        return None
    if bands.dtype != np.uint8:
        return None
    if count in (2, 4):
        colour, alpha = bands[:-1].astype(np.uint16), bands[-1].astype(np.uint16)
        bands = ((colour * alpha + 127) // 255).astype(np.uint8)  # Pillow's alpha_composite onto opaque black
    pixels = np.repeat(bands[0][..., None], 3, axis=2) if len(bands) == 1 else np.moveaxis(bands, 0, -1)
    return np.ascontiguousarray(pixels), (shape, rows, columns)
