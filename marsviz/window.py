"""A part of a large JPEG, PNG or TIFF at its full resolution, read without decoding the whole image into memory.

Pillow decodes a JPEG, PNG or TIFF whole, so the viewer zooms into large originals from a rendition of at most
a few thousand pixels.  GDAL (through rasterio, which already reads the archive formats) decodes them a
scanline (or a TIFF tile) at a time, so a window of a 100-megapixel frame costs the memory of the window.  Only
files whose part can be shown exactly as the decoder shows the whole image qualify (:func:`windowable`): 8-bit
gray or RGB, with or without an alpha channel (flattened onto black, as :mod:`marsviz.decode` flattens the
whole image), and single-band 16-bit, 32-bit and float samples (stretched as the decoder stretches the whole
image: its range is read once per file, strip by strip); upright (no EXIF turn), neither progressive nor
interlaced (GDAL would decode those whole), and for a PNG without a transparent colour (tRNS, which the decoder
flattens) or, at 8 bits, an sBIT chunk.  Others are zoomed from a rendition.
"""

from __future__ import annotations

import contextlib
import functools
import math
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

from marsviz.decode import (NUMERIC_MODES, ORIENTATION_TAG, PNG_SIGNATURE, sample_range, stretch_range,
                            stretched_block_means, tiff_sample_tags)
from marsviz.overlays import to_rgb8, zoom_window

#: GDAL's driver for each Pillow format that can be read by window.
DRIVERS = {"JPEG": "JPEG", "PNG": "PNG", "TIFF": "GTiff"}
#: Pillow modes that can be read by window, and the bands GDAL reads for each (the last one alpha for LA and
#: RGBA; one band of 16-bit, 32-bit or float samples for the numeric modes).
BANDS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, **{mode: 1 for mode in NUMERIC_MODES}}
#: Samples read at once while scanning a file's range or reducing a part: bounds the memory of a read.
STRIP_SAMPLES = 1 << 22


class Layout(NamedTuple):
    """What :func:`read_window` needs to know of a file, from its header."""

    driver: str
    width: int
    height: int
    bands: int
    numeric: bool
    nodata: float | None = None
    top_value: int | None = None


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


def _layout(path: str | Path) -> Layout | None:
    """GDAL's driver for the image file at `path`, its size and bands, and for numeric samples what the decoder
    stretches them by, if :func:`read_window` can read it by window; else None.  Reads the file's header only."""
    from PIL import Image, UnidentifiedImageError

    try:
        with _header(path) as image:
            if image.format not in DRIVERS or image.mode not in BANDS or "transparency" in image.info \
                    or image.info.get("interlace") or image.info.get("progressive") \
                    or image.info.get("progression"):
                return None
            numeric = image.mode in NUMERIC_MODES
            nodata, top_value = tiff_sample_tags(image)
            if image.format == "PNG":  # Pillow's getexif() would decode a PNG whole to look past its data
                kinds, significant_bits = _png_chunks(path)
                if b"eXIf" in kinds or (b"sBIT" in kinds and not numeric):
                    return None
                if numeric and significant_bits and 8 <= significant_bits < 16:  # as the decoder reads sBIT
                    top_value = top_value or 2 ** significant_bits - 1
            elif image.getexif().get(ORIENTATION_TAG, 1) != 1:
                return None
            return Layout(DRIVERS[image.format], *image.size, BANDS[image.mode], numeric, nodata, top_value)
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


def _png_chunks(path: str | Path) -> tuple[set[bytes], int | None]:
    """The types of the chunks of the PNG file at `path`, read from their headers alone, and the first byte of
    an sBIT chunk before the image data (the significant bits of a gray sample), as the decoder reads it."""
    kinds, significant_bits = set(), None
    with open(path, "rb") as handle:
        handle.seek(len(PNG_SIGNATURE))
        while len(header := handle.read(8)) == 8:
            length, kind = int.from_bytes(header[:4], "big"), header[4:]
            if kind == b"sBIT" and length >= 1 and b"IDAT" not in kinds:
                first = handle.read(1)
                significant_bits = first[0] if first else None
                handle.seek(-len(first), 1)
            kinds.add(kind)
            if kind == b"IEND":
                break
            handle.seek(length + 4, 1)  # the chunk's data and CRC
    return kinds, significant_bits


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
    flattened pixels (the two agree at full resolution, to the bit).  Numeric samples are reduced by the means
    of the samples carrying data and stretched by the whole file's range, as :func:`marsviz.decode.load_image`
    does; the range is read once per version of the file (the first part of a 100-megapixel frame reads it
    all, strip by strip).
    """
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, not {max_side}")
    layout = _layout(path)
    if layout is None:
        return None
    from rasterio.errors import RasterioError
    from rasterio.windows import Window

    # The part is cut from the whole image reduced by `factor`, so its side fits in max_side.
    factor = reduction((layout.height, layout.width), zoom, max_side)
    shape = (math.ceil(layout.height / factor), math.ceil(layout.width / factor))
    rows, columns = zoom_window(shape, zoom, centre)
    window = Window(columns.start * factor, rows.start * factor,
                    min(layout.width, columns.stop * factor) - columns.start * factor,
                    min(layout.height, rows.stop * factor) - rows.start * factor)
    out_shape = (rows.stop - rows.start, columns.stop - columns.start)
    try:
        with _opened(path, layout) as dataset:
            if dataset is None:
                return None
            if layout.numeric:
                pixels = _stretched_part(dataset, window, factor, layout, _sample_range(path, layout))
            else:
                pixels = _part(dataset, window, out_shape)
    except RasterioError:
        return None
    if pixels is None:
        return None
    return np.ascontiguousarray(pixels), (shape, rows, columns)


@contextlib.contextmanager
def _opened(path: str | Path, layout: Layout):
    """The file at `path` opened by GDAL with the driver of its `layout`; None if GDAL sees another size."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning

    with (rasterio.Env(GDAL_PAM_ENABLED="NO", GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR", GDAL_CACHEMAX=64),
          warnings.catch_warnings()):
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # a photograph is not a map
        with rasterio.open(path, driver=layout.driver) as dataset:
            same = (dataset.height, dataset.width, dataset.count) == (layout.height, layout.width, layout.bands)
            yield dataset if same else None


def _part(dataset, window, out_shape: tuple[int, int]) -> np.ndarray | None:
    """An 8-bit part, reduced by GDAL's area averaging to `out_shape`, alpha flattened onto black."""
    from rasterio.enums import Resampling

    bands = dataset.read(window=window, out_shape=(dataset.count, *out_shape), resampling=Resampling.average)
    if bands.dtype != np.uint8:
        return None
    if dataset.count in (2, 4):
        colour, alpha = bands[:-1].astype(np.uint16), bands[-1].astype(np.uint16)
        bands = ((colour * alpha + 127) // 255).astype(np.uint8)  # Pillow's alpha_composite onto opaque black
    return np.repeat(bands[0][..., None], 3, axis=2) if len(bands) == 1 else np.moveaxis(bands, 0, -1)


def _stretched_part(dataset, window, factor: int, layout: Layout,
                    whole_range: tuple[float, float] | None) -> np.ndarray | None:
    """A part of numeric samples, reduced by `factor` as the decoder reduces (means of the samples carrying
    data) and stretched as it stretches the whole image (:func:`marsviz.decode.stretch_samples`)."""
    if whole_range is None:
        return None
    offset, scale = stretch_range(np.dtype(dataset.dtypes[0]), *whole_range, layout.top_value)
    return to_rgb8(np.concatenate([stretched_block_means(samples, factor, layout.nodata, offset, scale)
                                   for samples in _strips(dataset, window, factor)]))


def _strips(dataset, window, factor: int = 1):
    """The first band of `window` of `dataset`, read in blocks of whole rows of about :data:`STRIP_SAMPLES`
    samples, each a multiple of `factor` rows but the last."""
    from rasterio.windows import Window

    rows = max(1, STRIP_SAMPLES // max(1, window.width * factor)) * factor
    for top in range(0, window.height, rows):
        yield dataset.read(1, window=Window(window.col_off, window.row_off + top, window.width,
                                            min(rows, window.height - top)))


@functools.lru_cache(maxsize=16)
def _cached_range(path: str, modified_ns: int, size: int, layout: Layout) -> tuple[float, float] | None:
    from rasterio.windows import Window

    with _opened(path, layout) as dataset:
        if dataset is None:
            return None
        low, high = math.inf, -math.inf
        for samples in _strips(dataset, Window(0, 0, layout.width, layout.height)):
            strip_low, strip_high, _ = sample_range(samples, layout.nodata)
            low, high = min(low, strip_low), max(high, strip_high)
    return (low, high) if low <= high else None


def _sample_range(path: str | Path, layout: Layout) -> tuple[float, float] | None:
    """The smallest and largest sample carrying data in the whole file at `path` (None when none does), read
    strip by strip once per version of the file."""
    status = Path(path).stat()
    return _cached_range(str(path), status.st_mtime_ns, status.st_size, layout)
