"""Decode an image file into the array the features work on, refusing what is not a safe, supported image.

This is the only place where untrusted image bytes meet Pillow.  Everything it refuses raises
:class:`marsviz.errors.ImageRejected` with a reason a user can act on.
"""

from __future__ import annotations

import io
import math
import re
import stat
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from marsviz import config
from marsviz.archive import ARCHIVE_EXTENSIONS, ARCHIVE_SUFFIXES, archive_format, read_archive
from marsviz.errors import ImageRejected, first_line
from marsviz.product_label import ProductInfo
from marsviz.products import bundle, product_files

#: Pillow format names accepted, and the file extension each is stored under.
ALLOWED_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "WEBP": ".webp"}
#: Every format's extension: Pillow's, where a JPEG holding several pictures (stereo cameras write
#: these) opens as "MPO" (the first picture is the image, and the file stays a .jpg), and the planetary
#: archive formats (:mod:`marsviz.archive`).
EXTENSIONS = {**ALLOWED_FORMATS, "MPO": ".jpg", **ARCHIVE_EXTENSIONS}
#: File name endings of the accepted formats, for finding images in a folder and for file pickers.
ACCEPTED_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", *ARCHIVE_SUFFIXES)
#: Pillow modes of single-channel samples wider than 8 bits (16-bit integers, 32-bit integers, floats).
NUMERIC_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")
#: Sample depths, in bits, recognised as the bits in use of a 16-bit or 32-bit integer file.
PARTIAL_DEPTHS = (8, 10, 12, 14)
#: TIFF tags: GDAL's NoData value (ASCII) and the largest sample value the file uses.
GDAL_NODATA_TAG = 42113
MAX_SAMPLE_VALUE_TAG = 281
#: Bumped whenever the decoded pixels of some file change (part of every feature's stored version).
#: 2: NoData left out of the stretch; integer samples stretched by the bits in use; multi-picture JPEGs.
DECODE_VERSION = "2"
#: Smallest side, in pixels, that the features can say anything about.
MIN_SIDE = 16
#: Mean absolute channel difference (0-1 scale) below which an RGB image is treated as grayscale.
GRAY_TOLERANCE = 1.5 / 255
#: EXIF tag holding the camera orientation (1: upright).
ORIENTATION_TAG = 0x0112
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Why a file of another format is refused.
FORMAT_REASON = (f"not an image in an accepted format ({', '.join(sorted(ALLOWED_FORMATS))}, or a PDS3, PDS4, VICAR, "
                 "FITS or JPEG 2000 product)")


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
        Pillow's format name (a key of :data:`EXTENSIONS`).
    note : str
        What was done to the samples beyond a plain conversion, for the user (NoData left out, the
        bits in use stretched to the full range); empty when nothing was.
    info : ProductInfo
        What an archive product's label says (empty for other formats).
    """

    pixels: np.ndarray
    is_color: bool
    width: int
    height: int
    format: str
    note: str = ""
    info: ProductInfo = ProductInfo()

    @property
    def extension(self) -> str:
        """The extension the file is stored under (``.jpg`` for a multi-picture JPEG too)."""
        return EXTENSIONS[self.format]


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
    try:
        if archive_format(data):
            return _decode_archive(data, name, max_side)
        significant_bits = _check_png_chunks(data, name)
        with warnings.catch_warnings():
            # Pillow warns above its own 89 M-pixel default; the limit that counts is the setting
            # max_image_pixels, checked in _decode right after the header and before any pixel is decoded.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return _decode(data, name, max_side, significant_bits)
    except ImageRejected:
        raise
    except Image.DecompressionBombError as error:  # over twice Pillow's limit: refused inside Image.open
        raise ImageRejected(name, _bomb_reason(error)) from None
    except UnidentifiedImageError:
        raise ImageRejected(name, FORMAT_REASON) from None
    except MemoryError:
        raise ImageRejected(name, "image needs too much memory to decode") from None
    except Exception as error:  # Pillow raises many types for corrupt data; all mean "not a usable image".
        raise ImageRejected(name, f"not a readable image ({first_line(error)})") from None


def _bomb_reason(error: Exception) -> str:
    limit = int(config.get("max_image_pixels"))
    declared = re.search(r"\((\d+) pixels\)", str(error))
    size = f"declares {int(declared.group(1)):,} pixels, " if declared else "is "
    return f"image {size}over the {limit:,} pixel limit (decompression bomb protection)"


def _check_png_chunks(data: bytes, name: str) -> int | None:
    """Refuse a PNG whose chunks fail their CRC or that holds no image data; return its gray sBIT.

    Pillow checks the CRC of the chunks before the image data but not of IDAT itself, so a
    corrupted image would otherwise decode into wrong pixels without complaint.  Pillow does not read
    the sBIT chunk either: its first byte is how many bits of each gray sample are significant.
    """
    if not data.startswith(PNG_SIGNATURE):
        return None
    view = memoryview(data)
    position, seen_data, significant_bits = len(PNG_SIGNATURE), False, None
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
        if kind == b"sBIT" and length >= 1 and not seen_data:
            significant_bits = data[position + 8]
        if kind == b"IEND":
            break
        position = end
    if not seen_data:
        raise ImageRejected(name, "not a readable image (PNG file holds no image data: truncated or corrupt)")
    return significant_bits


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
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                raise ImageRejected(name, irregular_file_reason(info.st_mode))
            size = info.st_size
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


@dataclass(frozen=True)
class EncodedFile:
    """An image file's name and content, read within the size limit: what a remote worker is sent.

    Attributes
    ----------
    name : str
        The file's name, for messages.
    data : bytes
        Its content, as stored.
    bundled : bool
        True when `data` is the one file of an archive product made of several (a detached label and
        its data, :func:`marsviz.products.bundle`) rather than the file itself.
    """

    name: str
    data: bytes
    bundled: bool = False

    @classmethod
    def read(cls, path: str | Path) -> EncodedFile:
        """Read `path` with :func:`read_bounded`; a detached label, or a data file with its label beside
        it, as its product's one file.

        Raises
        ------
        ImageRejected
            If the file is missing, not a regular file, empty or over ``max_upload_bytes``, or a label
            whose data files are not beside it.
        """
        path = Path(path)
        files = product_files(path)
        if len(files) == 1:
            return cls(path.name, read_bounded(path, path.name))
        return cls(path.name, bundle(files, path.name), bundled=True)


def irregular_file_reason(mode: int) -> str:
    """Why a file of `mode` (``os.stat().st_mode``) is not read: a device, FIFO or socket; '' if regular.

    Reading a FIFO or ``/dev/zero`` would block or never end, so only regular files are opened.
    """
    if stat.S_ISREG(mode):
        return ""
    kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a file")
    return f"not a regular file ({kind}): only image files are read"


def _decode(data: bytes, name: str, max_side: int, significant_bits: int | None = None) -> DecodedImage:
    max_pixels = int(config.get("max_image_pixels"))
    with Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS)) as image:
        fmt = image.format
        if fmt not in EXTENSIONS:
            raise ImageRejected(name, FORMAT_REASON)
        width, height = image.size
        if width * height > max_pixels:
            raise ImageRejected(name, f"image is {width}x{height} pixels, over the {max_pixels:,} pixel limit")
        if min(width, height) < MIN_SIDE:
            raise ImageRejected(name, f"image is {width}x{height} pixels; each side must be at least {MIN_SIDE}")
        if fmt in ("JPEG", "MPO"):
            scale = max_side / max(width, height)
            if scale < 1:
                image.draft(image.mode if image.mode in ("L", "RGB") else "RGB",
                            (math.ceil(width * scale), math.ceil(height * scale)))
        image.load()
        decoded_size = image.size
        nodata, top_value = tiff_sample_tags(image)
        if image.getexif().get(ORIENTATION_TAG, 1) != 1:
            image = ImageOps.exif_transpose(image)
        upright_size = image.size
        note = ""
        if image.mode in NUMERIC_MODES:
            if significant_bits and 8 <= significant_bits < 16:
                top_value = top_value or 2 ** significant_bits - 1
            pixels, note = _numeric_samples(image, max_side, nodata, top_value, name)
            is_color = False
        else:
            # Shrinking and the grayscale test run on 8-bit pixels in Pillow's C code: a float copy of
            # the full-size frame would cost more than decoding it.
            pixels, is_color = _from_8bit(_fit_8bit(_to_8bit(_reduce_early(image, max_side)), max_side))
    width, height = _oriented_size(width, height, upright_size, decoded_size)
    if min(pixels.shape[:2]) < 2:
        raise ImageRejected(name, f"image is {width}x{height} pixels, too elongated to analyse")
    return DecodedImage(pixels=pixels, is_color=is_color, width=width, height=height, format=fmt, note=note)


def _decode_archive(data: bytes, name: str, max_side: int) -> DecodedImage:
    raster = read_archive(data, name, max_side, int(config.get("max_image_pixels")))
    if min(raster.width, raster.height) < MIN_SIDE:
        raise ImageRejected(name, f"image is {raster.width}x{raster.height} pixels; each side must be at least "
                                  f"{MIN_SIDE}")
    pixels, note = stretch_samples(raster.bands, max_side, raster.nodata, None, name)
    if raster.band_count not in (1, 3):
        note = "; ".join(filter(None, [f"band 1 of {raster.band_count} shown", note]))
    return DecodedImage(pixels=pixels, is_color=pixels.ndim == 3, width=raster.width, height=raster.height,
                        format=raster.format, note=note, info=raster.info)


def tiff_sample_tags(image: Image.Image) -> tuple[float | None, int | None]:
    """(NoData value, largest sample value in use) a TIFF opened by Pillow declares, each None when it does not
    (both None for any other format)."""
    tags = getattr(image, "tag_v2", None)
    if tags is None:
        return None, None
    nodata = tags.get(GDAL_NODATA_TAG)
    try:
        nodata = float(str(nodata).strip("\x00 ")) if nodata is not None else None
    except ValueError:
        nodata = None
    top = tags.get(MAX_SAMPLE_VALUE_TAG)
    top = top[0] if isinstance(top, tuple) and top else top
    return nodata, (int(top) if isinstance(top, int) and 0 < top < 65535 else None)


#: Samples reduced per block of rows at once: bounds the temporaries of a masked reduction.
_STRIP_SAMPLES = 1 << 20


def _numeric_samples(image: Image.Image, max_side: int, nodata: float | None, top_value: int | None,
                     name: str) -> tuple[np.ndarray, str]:
    """float32 pixels in [0, 1] of a 16-bit, 32-bit or float frame, and a note on what was done
    (see :func:`stretch_samples`)."""
    samples = np.asarray(image)
    if samples.dtype.kind not in "fiu":
        samples = np.asarray(image, dtype=np.float32)
    return stretch_samples([samples], max_side, nodata, top_value, name)


def stretch_samples(bands: list[np.ndarray], max_side: int, nodata: float | None, top_value: int | None,
                    name: str) -> tuple[np.ndarray, str]:
    """float32 pixels in [0, 1], (H, W) from one band or (H, W, 3) from three, of samples of any numeric
    type, and a note on what was done; the longest side shrunk to at most `max_side` px.

    Samples that carry no data (non-finite, the NoData value the file declares, or the smallest value
    of a float or signed type, which DTMs use as a fill) are left out of the stretch and come out as
    0, like transparent areas.  Integer samples in [0, 65535] are divided by the largest value of the
    bits in use: the value the file declares, else the smallest common depth (8, 10, 12 or 14 bits)
    holding every sample, else 16 bits.  Other samples are stretched from their minimum to their maximum.
    Three bands share one stretch, so their balance is kept.

    Raises
    ------
    ImageRejected
        If no sample carries data.
    """
    factor = max(1, max(bands[0].shape) // (2 * max_side))
    ranges = [sample_range(band, nodata) for band in bands]
    carrying = [(low, high) for low, high, count in ranges if count]  # a band of NoData alone has no range
    if not carrying:
        raise ImageRejected(name, "image holds no valid pixels (every sample is NoData or not a number)")
    low, high = min(r[0] for r in carrying), max(r[1] for r in carrying)
    notes = []
    total = sum(band.size for band in bands)
    missing = total - sum(count for _, _, count in ranges)
    if missing:
        fill = f"NoData value {nodata:g}" if nodata is not None else "no-data samples"
        unit = "pixels" if len(bands) == 1 else "samples"
        notes.append(f"{fill} in {missing:,} of {total:,} {unit} left out of the stretch and shown black")
    dtype = bands[0].dtype
    offset, scale = stretch_range(dtype, low, high, top_value)
    if dtype.kind in "iu" and low >= 0 and scale < 65535 and dtype.itemsize > 1:
        said = "the file says" if top_value and scale == top_value else "its largest sample says"
        notes.append(f"{dtype.itemsize * 8}-bit samples using {math.log2(scale + 1):.3g} bits "
                     f"({said} so): stretched so {scale:.0f} is white")
    planes = [stretched_block_means(band, factor, nodata, offset, scale) for band in bands]
    pixels = np.stack(planes, axis=2) if len(planes) > 1 else planes[0]
    if pixels.ndim == 3 and np.abs(np.diff(pixels, axis=2)).mean() <= GRAY_TOLERANCE:
        pixels = pixels.mean(axis=2, dtype=np.float32)
    return _fit(pixels, max_side), "; ".join(notes)


def stretch_range(dtype: np.dtype, low: float, high: float, top_value: int | None) -> tuple[float, float]:
    """The offset and scale that :func:`stretch_samples` maps samples by, ``(sample - offset) / scale``.

    Parameters
    ----------
    dtype : numpy dtype
        The samples' type.
    low, high : float
        The smallest and largest sample carrying data, over the whole image.
    top_value : int or None
        The largest sample value the file declares in use.

    Returns
    -------
    (float, float)
        Integer samples in [0, 65535]: offset 0 and the largest value of the bits in use (`top_value`, else
        the smallest of 8, 10, 12, 14 and 16 bits holding `high`); others: `low` and ``high - low`` (infinite
        when they are equal).

    Examples
    --------
    >>> stretch_range(np.dtype(np.uint16), 3.0, 4000.0, None), stretch_range(np.dtype(np.float32), -2.0, 6.0, None)
    ((0.0, 4095.0), (-2.0, 8.0))
    """
    if dtype.kind in "iu" and low >= 0 and high <= 65535:
        if top_value and high <= top_value:
            return 0.0, float(top_value)
        bits = next((depth for depth in PARTIAL_DEPTHS if high < 2 ** depth), 16)
        return 0.0, 2.0 ** bits - 1
    return low, (high - low if high > low else math.inf)


def _strips(samples: np.ndarray, factor: int = 1):
    """Blocks of whole rows of `samples`, each a multiple of `factor` rows (but the last) and of about
    :data:`_STRIP_SAMPLES` samples: the masks and float copies made per strip never cover the whole frame."""
    rows = max(1, _STRIP_SAMPLES // max(1, samples.shape[1] * factor)) * factor
    for top in range(0, samples.shape[0], rows):
        yield top, samples[top:top + rows]


def sample_range(samples: np.ndarray, nodata: float | None) -> tuple[float, float, int]:
    """The smallest and largest of `samples` (H, W) that carry data (:func:`_carries_data`), and how many do
    (``inf, -inf, 0`` when none does); read strip by strip."""
    masked = _needs_mask(samples.dtype, nodata)
    low, high, count = math.inf, -math.inf, 0
    for _, strip in _strips(samples):
        if masked:
            strip = strip[_carries_data(strip.astype(np.float64), samples.dtype, nodata)]
        if strip.size:
            low, high, count = min(low, float(strip.min())), max(high, float(strip.max())), count + strip.size
    return low, high, count


def stretched_block_means(samples: np.ndarray, factor: int, nodata: float | None, offset: float,
                          scale: float) -> np.ndarray:
    """float32 ``(mean - offset) / scale`` in [0, 1] of the means over `factor` x `factor` blocks of the samples
    that carry data (0 where a block has none), strip by strip: no float copy covers the whole frame."""
    out = np.empty((-(-samples.shape[0] // factor), -(-samples.shape[1] // factor)), np.float32)
    for top, strip in _strips(samples, factor):
        means, counts = _masked_block_means(strip, factor, nodata)
        out[top // factor:top // factor + len(means)] = np.clip(np.where(counts > 0, (means - offset) / scale, 0.0),
                                                                0.0, 1.0)
    return out


def _masked_block_means(samples: np.ndarray, factor: int, nodata: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Means (float64) over `factor` x `factor` blocks of the samples that carry data (0 where a block has
    none), and how many there were."""
    columns = np.arange(0, samples.shape[1], factor)
    rows = np.arange(0, samples.shape[0], factor)
    if _needs_mask(samples.dtype, nodata):
        values = samples.astype(np.float64)
        good = _carries_data(values, samples.dtype, nodata)
        values[~good] = 0.0
        counts = _block_sums(good, rows, columns)
    else:
        values = samples
        counts = np.outer(np.diff(np.r_[rows, samples.shape[0]]), np.diff(np.r_[columns, samples.shape[1]]))
    sums = _block_sums(values, rows, columns)
    return np.where(counts > 0, sums / np.maximum(counts, 1), 0.0), counts


def _needs_mask(dtype: np.dtype, nodata: float | None) -> bool:
    """Whether samples of `dtype` can hold values that carry no data (a float or signed type, or a NoData value
    declared)."""
    return dtype.kind in "fi" or nodata is not None


def _carries_data(strip: np.ndarray, dtype: np.dtype, nodata: float | None) -> np.ndarray:
    """Which of `strip`'s samples (of a file's `dtype`) carry data: finite, not the file's `nodata` value, and
    for a float or signed type not its smallest value (a fill that DTMs use)."""
    good = np.isfinite(strip)
    if dtype.kind == "f":
        good &= strip > np.finfo(dtype).min
    elif dtype.kind == "i":
        good &= strip > np.iinfo(dtype).min
    if nodata is not None:
        good &= strip != nodata
    return good


def _block_sums(values: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    return np.add.reduceat(np.add.reduceat(values, rows, axis=0, dtype=np.float64), columns, axis=1)


def _reduce_early(image: Image.Image, max_side: int) -> Image.Image:
    """Shrink a frame far above the analysis resolution by an integer factor, in its own mode.

    Flattening alpha, widening 16-bit samples and float conversion each copy the frame; done on a
    full-size frame they cost several times the decoded size (a 337 KB RGBA PNG of 9000x9000 pixels
    took 1.5 GB).  Box-reducing first keeps at least twice the analysis resolution for the final fit.
    """
    factor = max(image.size) // (2 * max_side)
    if factor < 2:
        return image
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode == "1":
        image = image.convert("L")
    if image.mode not in ("L", "RGB", "RGBA", "LA", "CMYK"):
        return image
    return image.reduce(factor)


def _oriented_size(width, height, upright_size, decoded_size):
    # draft() shrinks the decoded size; EXIF rotation may swap axes. Report the original, upright.
    swapped = upright_size != decoded_size and upright_size == decoded_size[::-1]
    return (height, width) if swapped else (width, height)


def _to_8bit(image: Image.Image) -> Image.Image:
    """An image of 8-bit samples (any mode but :data:`NUMERIC_MODES`) as Pillow mode L or RGB."""
    mode = image.mode
    if mode in ("L", "RGB"):
        return image
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

