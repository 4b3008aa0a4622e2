"""Property: whatever bytes arrive, decoding either yields sane pixels or raises ImageRejected, nothing else.

Pure random bytes rarely get past the first signature check, so most examples start from real small
images in every accepted format (and a few refused ones) and corrupt them: flipped bytes, cut ends,
spliced garbage, rewritten header fields.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from marsviz.config import AnalysisSettings
from marsviz.decode import EXTENSIONS, DecodedImage, load_image
from marsviz.errors import ImageRejected
from marsviz.registry import appearance_names
from marsviz.pipeline import analyse
from marsviz.view.model import VIEWS
from tests import archive_files

# Pillow warns about the corrupt EXIF and TIFF tags these files carry; what is tested is the outcome.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL")

FUZZ = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def archive_seeds() -> list[bytes]:
    """A PDS3 image (label attached), a VICAR frame, a FITS file, a JPEG 2000 file and a PDS4 product."""
    import tempfile
    from pathlib import Path

    from marsviz.products import bundle, product_files
    samples = archive_files.terrain(24, 40)
    with tempfile.TemporaryDirectory() as folder:
        label, _ = archive_files.pds4_product(Path(folder), samples)
        pds4 = bundle(product_files(label), label.name)
    return [archive_files.pds3_attached(samples), archive_files.vicar(samples), archive_files.fits(samples),
            archive_files.jpeg2000((samples // 4).astype(np.uint8)), pds4]


def _seed(fmt: str, mode: str, **options) -> bytes:
    gradient = np.linspace(0, 255, 40 * 24, dtype=np.float64).reshape(24, 40)
    image = Image.fromarray(gradient.astype(np.uint8)).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


SEEDS = [_seed("JPEG", "RGB", quality=80), _seed("JPEG", "L", progressive=True), _seed("PNG", "RGB"),
         _seed("PNG", "P"), _seed("PNG", "RGBA"), _seed("PNG", "I;16"), _seed("TIFF", "RGB"),
         _seed("TIFF", "L", compression="tiff_deflate"), _seed("TIFF", "F"), _seed("WEBP", "RGB", quality=70),
         _seed("WEBP", "RGBA", lossless=True), _seed("GIF", "P"), _seed("BMP", "RGB"), *archive_seeds()]


def check(data: bytes) -> None:
    try:
        decoded = load_image(data, name="fuzz.bin")
    except ImageRejected as error:
        assert error.name == "fuzz.bin" and error.reason
        return
    assert isinstance(decoded, DecodedImage) and decoded.format in EXTENSIONS
    assert decoded.pixels.dtype == np.float32 and decoded.pixels.ndim in (2, 3)
    assert np.isfinite(decoded.pixels).all()
    assert decoded.pixels.min() >= 0 and decoded.pixels.max() <= 1


def fix_png_crcs(data: bytes) -> bytes:
    """`data` with every complete PNG chunk's CRC recomputed, so corruption reaches Pillow's decoder."""
    out, position = bytearray(data), 8
    while position + 12 <= len(out):
        length = struct.unpack_from(">I", out, position)[0]
        end = position + 12 + length
        if end > len(out):
            break
        struct.pack_into(">I", out, end - 4, zlib.crc32(out[position + 4:end - 4]))
        position = end
    return bytes(out)


@st.composite
def corrupted(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["flip", "flip", "flip", "cut", "insert", "delete", "overwrite_u32",
                                       "overwrite_u32"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[at:]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif action == "delete":
            del data[at:at + draw(st.integers(1, 64))]
        elif action == "overwrite_u32":
            # Sizes, lengths and offsets are 16- or 32-bit fields: huge or zero values find the edge cases.
            data[at:at + 4] = draw(st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00",
                                                    b"\x7f\xff\xff\xff", b"\x00\x01\x00\x00"]))
    if data.startswith(b"\x89PNG") and draw(st.booleans()):
        return fix_png_crcs(bytes(data))
    return bytes(data)


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_are_rejected_or_decoded(data):
    check(data)


@FUZZ
@given(st.sampled_from([b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"RIFF\x00\x00\x00\x00WEBPVP8 ",
                        b"GIF89a", b"%PDF-", b"<svg"]), st.binary(max_size=2048))
def test_a_valid_signature_followed_by_garbage_is_rejected_or_decoded(signature, tail):
    check(signature + tail)


@settings(FUZZ, max_examples=600)
@given(corrupted())
def test_corrupted_real_images_are_rejected_or_decoded(data):
    check(data)


@settings(FUZZ, max_examples=100)
@given(corrupted())
def test_analyse_raises_only_image_rejected(data):
    try:
        result = analyse(data, "fuzz.bin", AnalysisSettings())
    except ImageRejected:
        return
    assert result.thumbnail_jpeg.startswith(b"\xff\xd8")
    assert all(np.isfinite(result.features[name]) for name in appearance_names() if result.features[name] is not None)
    assert result.features["view"] in VIEWS and 0 < result.features["view_confidence"] <= 1
