"""Read planetary archive products: PDS3, PDS4, VICAR, FITS and JPEG 2000, with what their labels say.

GDAL (through rasterio) reads PDS3, PDS4, VICAR and JPEG 2000, at a reduced resolution straight from
the file (JPEG 2000 resolution levels, decimated raw reads), so a large product costs little to analyse;
astropy reads FITS.  A product whose label is detached from its data (a PDS3 ``.LBL`` beside its
``.IMG``, every PDS4 product) travels as one uncompressed tar of its files, label first
(:mod:`marsviz.products` makes it).

Archive labels are untrusted: before a single sample is read, a product is refused when it declares
more pixels than the setting ``max_image_pixels``, when its label points past the end of its data, at
itself, or at any file that is not part of the product (another path, a network address), and GDAL
only ever sees the product's own bytes, in memory.
"""

from __future__ import annotations

import io
import json
import math
import re
import tarfile
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from marsviz.errors import ImageRejected, ProductLabelError, first_line
from marsviz.label_file import label_text
from marsviz.product_label import ProductInfo, from_fits, from_odl, from_pds4
from marsviz.products import (FITS_START, MAX_LABEL_BYTES, PDS3_STARTS, VICAR_START, is_pds4_label, is_plain_name,
                              named_files)

JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
J2K_CODESTREAM = b"\xff\x4f\xff\x51"
#: Archive formats, by the name :func:`archive_format` gives them, and the extension each is stored under.
ARCHIVE_EXTENSIONS = {"PDS3": ".img", "VICAR": ".vic", "FITS": ".fits", "JPEG2000": ".jp2", "PDS product": ".tar"}
#: File name endings of archive products and their labels, for finding them in a folder and for file pickers.
ARCHIVE_SUFFIXES = (".img", ".lbl", ".xml", ".vic", ".vicar", ".fits", ".fit", ".fts", ".jp2", ".j2k", ".dat",
                    ".tar")
#: The GDAL driver that reads each format (no other of GDAL's formats is ever tried on a product).
GDAL_DRIVERS = {"PDS3": "PDS", "PDS4": "PDS4", "VICAR": "VICAR", "JPEG2000": "JP2OpenJPEG"}
#: Most files a product (a tar of a detached label and its data) may hold.
MAX_PRODUCT_FILES = 8
#: Bands shown: three make a colour image in the product's own band order; otherwise the first band.
COLOUR_BANDS = 3
#: Bytes per sample of the PDS4 data types.
_PDS4_SIZES = {"SignedByte": 1, "UnsignedByte": 1, "SignedMSB2": 2, "SignedLSB2": 2, "UnsignedMSB2": 2,
               "UnsignedLSB2": 2, "SignedMSB4": 4, "SignedLSB4": 4, "UnsignedMSB4": 4, "UnsignedLSB4": 4,
               "SignedMSB8": 8, "SignedLSB8": 8, "UnsignedMSB8": 8, "UnsignedLSB8": 8, "IEEE754MSBSingle": 4,
               "IEEE754LSBSingle": 4, "IEEE754MSBDouble": 8, "IEEE754LSBDouble": 8}


@dataclass(frozen=True)
class ArchiveRaster:
    """The samples of an archive product at a reduced resolution, and its label's content.

    Attributes
    ----------
    bands : list of ndarray
        One 2-D array per band shown (1, or 3 for colour), in the product's sample type, each side at
        most the resolution asked for.
    nodata : float or None
        The sample value the product declares as carrying no data.
    width, height : int
        The product's full size, in pixels.
    band_count : int
        How many bands the product has (more than are shown when it is not 1 or 3).
    format : str
        A key of :data:`ARCHIVE_EXTENSIONS`.
    info : ProductInfo
        What the label says.
    """

    bands: list[np.ndarray]
    nodata: float | None
    width: int
    height: int
    band_count: int
    format: str
    info: ProductInfo = field(default_factory=ProductInfo)


def archive_format(data: bytes) -> str | None:
    """The archive format of a file's first bytes (a key of :data:`ARCHIVE_EXTENSIONS`), or None.

    Examples
    --------
    >>> archive_format(b"PDS_VERSION_ID = PDS3\\r\\n"), archive_format(b"LBLSIZE=1024  FORMAT='BYTE'")
    ('PDS3', 'VICAR')
    >>> archive_format(b"SIMPLE  =                    T"), archive_format(b"\\xff\\xd8\\xff")
    ('FITS', None)
    """
    head = data[:64].lstrip(b"\xef\xbb\xbf")
    if head.startswith(PDS3_STARTS):
        return "PDS3"
    if head.startswith(VICAR_START):
        return "VICAR"
    if head.startswith(FITS_START):
        return "FITS"
    if head.startswith((JP2_SIGNATURE, J2K_CODESTREAM)):
        return "JPEG2000"
    if data[257:262] == b"ustar":
        return "PDS product"
    return None


def read_archive(data: bytes, name: str, max_side: int, max_pixels: int) -> ArchiveRaster:
    """Read an archive product's samples at up to `max_side` px and its label.

    Parameters
    ----------
    data : bytes
        The product: a file of a format :func:`archive_format` names.
    name : str
        How the user knows it, for messages.
    max_side : int
        Longest side, in pixels, the caller will analyse at.
    max_pixels : int
        Largest width x height accepted.

    Raises
    ------
    ImageRejected
        Naming what is wrong with the product.
    """
    kind = archive_format(data)
    if kind is None:
        raise ImageRejected(name, "not a planetary archive product")
    if kind == "FITS":
        return _read_fits(data, name, max_side, max_pixels)
    files = _product_files(data, name) if kind == "PDS product" else {f"product{ARCHIVE_EXTENSIONS[kind]}": data}
    return _read_gdal(files, kind, name, max_side, max_pixels)


def _product_files(data: bytes, name: str) -> dict[str, bytes]:
    """The files of a product tar, label first, refusing anything but a few plain files with plain names."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            members = archive.getmembers()
            if not 2 <= len(members) <= MAX_PRODUCT_FILES:
                raise ImageRejected(name, f"a product file holds a label and its data files (2 to "
                                          f"{MAX_PRODUCT_FILES} files), not {len(members)}")
            files = {}
            for member in members:
                plain = PurePosixPath(member.name)
                if not member.isreg() or len(plain.parts) != 1 or member.name.startswith(".") \
                        or member.name.lower() in {n.lower() for n in files}:
                    raise ImageRejected(name, f"a product file holds only plain files, each named once; "
                                              f"{member.name[:80]!r} is not one")
                files[member.name] = archive.extractfile(member).read()
    except tarfile.TarError as error:
        raise ImageRejected(name, f"not a readable product file ({error})") from None
    label = next(iter(files.values()))
    if not (label.lstrip().startswith(PDS3_STARTS) or is_pds4_label(label[:4096])):
        raise ImageRejected(name, "a product file starts with its PDS3 or PDS4 label; this one does not")
    return files


def _read_gdal(files: dict[str, bytes], kind: str, name: str, max_side: int, max_pixels: int) -> ArchiveRaster:
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.errors import RasterioError
    from rasterio.io import MemoryFile

    label_name, label = next(iter(files.items()))
    if kind in ("PDS3", "PDS product"):
        present = {file_name.lower() for file_name in files}
        for named in named_files(label[:MAX_LABEL_BYTES].decode("latin-1")):
            if not is_plain_name(named):
                raise ImageRejected(name, f"the label points to {named[:80]!r}, a file outside the product")
            if named.lower() not in present:
                raise ImageRejected(name, f"the label names a data file {named[:80]!r} that is not part of the product")
    folder = f"marsviz-{uuid.uuid4().hex}"
    opened = []
    try:
        with rasterio.Env(GDAL_PAM_ENABLED="NO", GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR",
                          CPL_VSIL_CURL_ALLOWED_EXTENSIONS=".none"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NotGeoreferencedWarning: most products have no map
            for file_name, content in files.items():
                opened.append(MemoryFile(content, dirname=folder, filename=file_name))
            prefix = f"/vsimem/{folder}/"
            driver = GDAL_DRIVERS["PDS4" if label.lstrip().startswith(b"<") else "PDS3"] if kind == "PDS product" \
                else GDAL_DRIVERS[kind]
            with rasterio.open(prefix + label_name, driver=driver) as dataset:
                label_content = _label(dataset)
                _check_files(dataset, prefix, name)
                width, height, count = dataset.width, dataset.height, dataset.count
                if width * height > max_pixels:
                    raise ImageRejected(name, f"image is {width}x{height} pixels, over the {max_pixels:,} pixel limit")
                _check_extent(dataset, label_content, files, label_name, name)
                shown = list(range(1, COLOUR_BANDS + 1)) if count == COLOUR_BANDS else [1]
                # Straight to at most max_side: GDAL averages from the nearest resolution level, so a
                # large product is never held at full size.
                scale = min(1.0, max_side / max(width, height))
                shape = (len(shown), max(1, round(height * scale)), max(1, round(width * scale)))
                samples = dataset.read(shown, out_shape=shape, resampling=Resampling.average)
                nodata = dataset.nodata
    except ImageRejected:
        raise
    except (RasterioError, MemoryError, ValueError, OSError) as error:
        raise ImageRejected(name, f"not a readable {_FORMAT_NAMES.get(kind, kind)} product ({first_line(error)})") \
            from None
    finally:
        for memory_file in opened:
            memory_file.close()
    return ArchiveRaster(bands=list(samples), nodata=nodata, width=width, height=height, band_count=count,
                         format=kind, info=_info(label_content))


_FORMAT_NAMES = {"PDS product": "PDS", "JPEG2000": "JPEG 2000"}


def _label(dataset) -> tuple[str, Any]:
    """(label kind, label) of an open GDAL dataset: ``("odl", dict)``, ``("pds4", xml text)`` or ``("", None)``."""
    for namespace in ("json:PDS", "json:VICAR"):
        items = dataset.tags(ns=namespace)
        if len(items) == 1:
            # rasterio splits the one JSON text of this metadata domain at its first ':' as if key:value.
            (key, value), = items.items()
            try:
                return "odl", json.loads(f"{key}:{value}")
            except ValueError:
                return "", None
    xml = dataset.tags(ns="xml:PDS4")
    if xml:
        return "pds4", next(iter(xml.values()))
    return "", None


def _info(label: tuple[str, Any]) -> ProductInfo:
    kind, content = label
    if kind == "odl":
        return from_odl(content)
    if kind == "pds4":
        return from_pds4(content)
    return ProductInfo()


def _check_files(dataset, prefix: str, name: str) -> None:
    """Refuse a product whose label points at itself or at a file outside the product."""
    paths = list(dataset.files)
    if any(not path.startswith(prefix) for path in paths):
        raise ImageRejected(name, "the label points to a file outside the product")
    if len(set(paths)) < len(paths):
        raise ImageRejected(name, "the label points to itself as its data (a label loop)")


def _check_extent(dataset, label: tuple[str, Any], files: dict[str, bytes], label_name: str, name: str) -> None:
    """Refuse a raw product whose label places its samples past the end of the data file."""
    if dataset.driver == "JP2OpenJPEG":
        return  # a compressed codestream: the decoder itself refuses a truncated one
    kind, content = label
    sizes = {file_name.lower(): len(content_) for file_name, content_ in files.items()}
    need = None
    if dataset.driver == "VICAR" and kind == "odl":
        need = _vicar_extent(content)
        where = label_name
    elif dataset.driver == "PDS" and kind == "odl":
        need, where = _pds3_extent(content, label_name)
    elif dataset.driver == "PDS4" and kind == "pds4":
        need, where = _pds4_extent(content)
    if need is None:
        return
    size = sizes.get(where.lower())
    if size is None:
        raise ImageRejected(name, f"the label names a data file {where[:80]!r} that is not part of the product")
    if need > size:
        raise ImageRejected(name, f"the label places the image's samples past the end of its data ({need:,} bytes "
                                  f"needed, {size:,} present): the file is truncated or its label is wrong")


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, dict):
        value = value.get("value")
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _vicar_extent(label: dict) -> int | None:
    if "RECSIZE" not in label:
        return None
    records = _int(label.get("NLB")) + _int(label.get("N2"), 1) * _int(label.get("N3"), 1)
    return _int(label.get("LBLSIZE")) + records * _int(label.get("RECSIZE"))


def _pds3_extent(label: dict, label_name: str) -> tuple[int | None, str]:
    image, pointer = label.get("IMAGE"), label.get("^IMAGE")
    if not isinstance(image, dict) or pointer is None:
        return None, label_name
    where, offset = label_name, 0
    if isinstance(pointer, str):
        where = pointer
    else:
        if isinstance(pointer, list) and len(pointer) == 2:
            where, pointer = str(pointer[0]), pointer[1]
        in_bytes = isinstance(pointer, dict) and str(pointer.get("unit", "")).upper() == "BYTES"
        offset = (_int(pointer, 1) - 1) * (1 if in_bytes else _int(label.get("RECORD_BYTES"), 1))
    line = (_int(image.get("LINE_PREFIX_BYTES")) + _int(image.get("LINE_SUFFIX_BYTES"))
            + _int(image.get("LINE_SAMPLES")) * _int(image.get("SAMPLE_BITS"), 8) // 8)
    return offset + _int(image.get("LINES")) * _int(image.get("BANDS"), 1) * line, where


def _pds4_extent(xml_text: str) -> tuple[int | None, str]:
    file_names = named_files(xml_text)
    offset = re.search(r"<Array[^>]*>.*?<offset[^>]*>\s*(\d+)\s*</offset>", xml_text, re.DOTALL)
    data_type = re.search(r"<data_type>\s*(\w+)\s*</data_type>", xml_text)
    elements = re.findall(r"<elements>\s*(\d+)\s*</elements>", xml_text)
    if not (file_names and offset and data_type and elements) or data_type.group(1) not in _PDS4_SIZES:
        return None, ""
    return int(offset.group(1)) + math.prod(int(e) for e in elements) * _PDS4_SIZES[data_type.group(1)], file_names[0]


def _read_fits(data: bytes, name: str, max_side: int, max_pixels: int) -> ArchiveRaster:
    from astropy.io import fits

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # astropy warns of non-standard cards, which it fixes
            with fits.open(io.BytesIO(data), memmap=False, lazy_load_hdus=True) as hdus:
                hdu = next((h for h in hdus if h.is_image and h.header.get("NAXIS", 0) >= 2), None)
                if hdu is None:
                    raise ImageRejected(name, "a FITS file with no image in it")
                header = hdu.header
                axes = [_int(header.get(f"NAXIS{i}")) for i in range(1, _int(header.get("NAXIS")) + 1)]
                width, height = axes[0], axes[1]
                if width * height > max_pixels:
                    raise ImageRejected(name, f"image is {width}x{height} pixels, over the {max_pixels:,} pixel limit")
                need = hdu.fileinfo()["datLoc"] + math.prod(axes) * abs(_int(header.get("BITPIX"), 8)) // 8
                if need > len(data):
                    raise ImageRejected(name, f"the header places the image's samples past the end of the file "
                                              f"({need:,} bytes needed, {len(data):,} present)")
                cube = np.asarray(hdu.data)
                info = from_fits(header)
    except ImageRejected:
        raise
    except Exception as error:  # astropy raises many types for damaged files; all mean "not readable".
        raise ImageRejected(name, f"not a readable FITS file ({first_line(error)})") from None
    count = 1 if cube.ndim == 2 else math.prod(cube.shape[:-2])
    planes = cube.reshape(-1, height, width)
    shown = planes[:COLOUR_BANDS] if count == COLOUR_BANDS else planes[:1]
    factor = max(1, max(width, height) // (2 * max_side))
    # FITS rows run upwards (the first row is the bottom of the picture).
    bands = [np.ascontiguousarray(plane[::-1][::factor, ::factor]) for plane in shown]
    blank = header.get("BLANK") if cube.dtype.kind in "iu" else None
    return ArchiveRaster(bands=bands, nodata=None if blank is None else float(blank), width=width, height=height,
                         band_count=count, format="FITS", info=info)


def stored_label(path: str | Path) -> str:
    """The label of the archive product stored at `path`, as text for a person to read; '' when it has none.

    A PDS3 label (attached to its data, or detached: the first file of a product's tar), a PDS4 label, a VICAR
    label, a FITS header.  Only the label's bytes are read (at most :data:`marsviz.products.MAX_LABEL_BYTES`).
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(MAX_LABEL_BYTES)
        kind = archive_format(head)
        if kind == "PDS3":
            return label_text(head)
        if kind == "PDS product":
            with tarfile.open(path) as tar:
                first = tar.next()
                content = tar.extractfile(first) if first is not None and first.isfile() else None
                return label_text(content.read(MAX_LABEL_BYTES)) if content is not None else ""
        if kind == "VICAR":
            size = re.match(rb"LBLSIZE=\s*(\d+)", head)
            return head[:int(size.group(1))].decode("latin-1").rstrip("\0 ") if size else ""
        if kind == "FITS":
            from astropy.io import fits

            return fits.getheader(path).tostring(sep="\n", endcard=False, padding=False)
    except (ProductLabelError, tarfile.TarError, OSError, ValueError):
        return ""
    return ""
