"""A corpus of bad or awkward image files, built in memory with Pillow and raw bytes.

Each :class:`Case` says what marsviz must do with the file: accept it (and then how the upright
image should look: the mean colour of its top and bottom bands, its upright size, colour flag and
stored extension), or reject it with a message containing certain words.  Accepted images are drawn
as two horizontal bands so "right way up" and "right colours" are checkable from any rendition.
"""

from __future__ import annotations

import io
import struct
import unicodedata
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

from marsviz import config

#: EXIF tag holding the orientation.
ORIENTATION = 0x0112
#: TIFF tag GDAL writes its NoData value into (ASCII).
GDAL_NODATA = 42113
#: Longest file name, in bytes, most Linux file systems allow.
NAME_MAX = 255

FORMAT_REASON = "not an image in an accepted format"
READ_REASON = "not a readable image"


@dataclass(frozen=True)
class Case:
    """One file of the corpus and what must happen to it.

    Attributes
    ----------
    key : str
        Short id (pytest parameter id).
    name : str
        The file name as a stranger supplies it (may hold ``../``, control characters, 300 characters).
    data : bytes
        The file's content.
    accept : bool
        Whether marsviz must accept it.
    reason : tuple of str
        For a rejection: the message must contain one of these phrases.
    top, bottom : tuple of int
        For an acceptance: mean RGB (0-255) of the top and bottom quarter of the upright image.
    size : tuple of int
        For an acceptance: upright (width, height) of the original.
    is_color : bool
    extension : str
        Extension the stored file must get (from the content, not the name).
    bomb : bool
        The file declares far more pixels than the limit: it must be refused before decoding.
    """

    key: str
    name: str
    data: bytes
    accept: bool
    reason: tuple[str, ...] = ()
    top: tuple[int, int, int] | None = None
    bottom: tuple[int, int, int] | None = None
    size: tuple[int, int] | None = None
    is_color: bool | None = None
    extension: str | None = None
    bomb: bool = False

    @property
    def disk_name(self) -> str:
        """A name this file can have on a Linux disk: no ``/`` or NUL, at most 255 bytes, suffix kept."""
        name = self.name.replace("/", "_").replace("\x00", "_") or "_"
        if name in (".", ".."):
            name = "_" + name
        stem, dot, suffix = name.rpartition(".")
        if not dot:
            stem, suffix = name, ""
        tail = (dot + suffix).encode()
        encoded = stem.encode()
        while len(encoded) + len(tail) > NAME_MAX:
            stem = stem[:-1]
            encoded = stem.encode()
        return stem + dot + suffix


# -- building blocks ---------------------------------------------------------------------------------------
def bands(mode: str, size: tuple[int, int], top, bottom) -> Image.Image:
    """An image of `size` whose top half is `top` and bottom half `bottom` (values in `mode`)."""
    width, height = size
    image = Image.new(mode, size, top)
    image.paste(Image.new(mode, (width, height - height // 2), bottom), (0, height // 2))
    return image


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def exif(orientation: int) -> bytes:
    tags = Image.Exif()
    tags[ORIENTATION] = orientation
    return tags.tobytes()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def raw_png(width: int, height: int, idat: bytes, color_type: int = 0, bit_depth: int = 8) -> bytes:
    """A PNG with any declared size and the given IDAT payload (valid CRCs)."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def blank_png(width: int, height: int, color_type: int = 0, bit_depth: int = 8) -> bytes:
    """A valid all-zero PNG of any size, compressed in chunks (a large frame in a few hundred KB)."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    row = b"\x00" * (1 + width * channels * bit_depth // 8)
    packer = zlib.compressobj(9)
    rows_per_chunk = max(1, (1 << 20) // len(row))
    parts = [packer.compress(row * min(rows_per_chunk, height - start)) for start in range(0, height, rows_per_chunk)]
    return raw_png(width, height, b"".join(parts) + packer.flush(), color_type, bit_depth)


def flip_crc(png: bytes, kind: bytes) -> bytes:
    """`png` with the CRC of its first `kind` chunk corrupted (one byte inverted)."""
    start = png.index(kind) - 4
    (length,) = struct.unpack(">I", png[start:start + 4])
    crc_at = start + 8 + length
    return png[:crc_at] + bytes([png[crc_at] ^ 0xFF]) + png[crc_at + 1:]


def jpeg_with_size(jpeg: bytes, width: int, height: int) -> bytes:
    """`jpeg` with the frame header (SOF0) rewritten to declare `width` x `height`."""
    at = jpeg.index(b"\xff\xc0")
    return jpeg[:at + 5] + struct.pack(">HH", height, width) + jpeg[at + 9:]


def raw_tiff(width: int, height: int, body: bytes = b"\x00" * 64, strip_offset: int | None = None) -> bytes:
    """A little-endian, uncompressed 8-bit grayscale TIFF declaring `width` x `height`.

    The single strip holds `body` and starts at `strip_offset` (default: right after the header).
    """
    entries = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1),
               (273, 4, 0), (277, 3, 1), (278, 4, height), (279, 4, len(body))]
    ifd_size = 2 + 12 * len(entries) + 4
    data_at = 8 + ifd_size
    ifd = struct.pack("<H", len(entries))
    for tag, kind, value in entries:
        if tag == 273:
            value = data_at if strip_offset is None else strip_offset
        packed = struct.pack("<H", value) + b"\x00\x00" if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, 1) + packed
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x00\x00\x00\x00" + body


def gif_bomb(side: int = 65535) -> bytes:
    """A GIF whose screen and single frame declare `side` x `side` pixels, with a few bytes of data."""
    header = b"GIF89a" + struct.pack("<HHBBB", side, side, 0xF0, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, side, side, 0) + b"\x02" + b"\x02\x4c\x01\x00"
    return header + frame + b"\x3b"


def text_bomb_png(base_png: bytes, decompressed: int = 20_000_000) -> bytes:
    """`base_png` with a zTXt chunk that inflates to `decompressed` bytes (a zlib bomb in metadata)."""
    payload = b"Comment\x00\x00" + zlib.compress(b"A" * decompressed, 9)
    return base_png[:33] + png_chunk(b"zTXt", payload) + base_png[33:]


#: GDAL's NoData value of float32 DTMs: the smallest float32, written as GDAL writes it.
DTM_NODATA = -3.4028234663852886e38


def dtm_tiff(nodata_tag: bool, relief: tuple[float, float] = (-4000.0, -4100.0), border: int = 2) -> bytes:
    """An 80x64 float32 elevation TIFF: two bands of `relief` (m) inside columns of NoData `border` wide."""
    elevation = np.full((64, 80), DTM_NODATA, np.float32)
    elevation[:32, border:80 - border] = relief[0]
    elevation[32:, border:80 - border] = relief[1]
    options = {"tiffinfo": {GDAL_NODATA: f"{DTM_NODATA!r}"}} if nodata_tag else {}
    return encode(Image.fromarray(elevation, "F"), "TIFF", **options)


def _gray_rgb(value: int) -> tuple[int, int, int]:
    return (value, value, value)


# -- the corpus --------------------------------------------------------------------------------------------
def build_corpus() -> list[Case]:
    """Every case, accepted ones first; accepted files all have distinct content."""
    cases: list[Case] = []
    tone = iter(range(1, 1000))  # nudges each accepted image's colours so every file has distinct content

    def colours(top, bottom):
        shift = next(tone)
        return tuple(min(255, c + shift % 7) for c in top), tuple(min(255, c + shift % 7) for c in bottom)

    def accepted(key, name, data, top, bottom, size, is_color, extension):
        cases.append(Case(key, name, data, True, top=top, bottom=bottom, size=size, is_color=is_color,
                          extension=extension))

    def rejected(key, name, data, *reason, bomb=False):
        cases.append(Case(key, name, data, False, reason=reason, bomb=bomb))

    # Awkward but valid images.
    top, bottom = colours((190, 60, 40), (40, 70, 190))
    accepted("rgb_jpeg", "crater.jpg", encode(bands("RGB", (96, 64), top, bottom), "JPEG", quality=95),
             top, bottom, (96, 64), True, ".jpg")
    accepted("cmyk_jpeg", "cmyk.jpg",
             encode(bands("CMYK", (96, 64), (0, 255, 255, 0), (255, 255, 0, 0)), "JPEG", quality=95),
             (255, 0, 0), (0, 0, 255), (96, 64), True, ".jpg")
    top, bottom = colours((230, 230, 230), (20, 20, 20))
    upright = bands("RGB", (96, 64), top, bottom)
    accepted("exif_rotate_180_jpeg", "upside_down.jpg",
             encode(upright.transpose(Image.Transpose.ROTATE_180), "JPEG", quality=95, exif=exif(3)),
             top, bottom, (96, 64), False, ".jpg")
    top, bottom = colours((220, 180, 40), (30, 40, 120))
    upright = bands("RGB", (48, 80), top, bottom)
    accepted("exif_rotate_90_jpeg", "portrait_camera.jpg",
             encode(upright.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=95, exif=exif(6)),
             top, bottom, (48, 80), True, ".jpg")
    top, bottom = colours((40, 200, 90), (200, 40, 160))
    upright = bands("RGB", (48, 80), top, bottom)
    accepted("exif_rotate_270_png", "rotated.png",
             encode(upright.transpose(Image.Transpose.ROTATE_270), "PNG", exif=exif(8)),
             top, bottom, (48, 80), True, ".png")
    top, bottom = colours((180, 90, 30), (30, 90, 180))
    accepted("exif_orientation_invalid_jpeg", "orientation9.jpg",
             encode(bands("RGB", (96, 64), top, bottom), "JPEG", quality=95, exif=exif(9)),
             top, bottom, (96, 64), True, ".jpg")
    accepted("palette_png", "palette.png",
             encode(bands("RGB", (80, 64), (255, 0, 0), (0, 0, 255)).convert("P", palette=Image.Palette.ADAPTIVE,
                                                                              colors=4), "PNG"),
             (255, 0, 0), (0, 0, 255), (80, 64), True, ".png")
    palette = bands("RGB", (80, 64), (0, 255, 0), (255, 255, 255)).convert("P", palette=Image.Palette.ADAPTIVE,
                                                                           colors=4)
    accepted("palette_transparent_png", "palette_alpha.png",
             encode(palette, "PNG", transparency=palette.getpixel((0, 63))),
             (0, 255, 0), (0, 0, 0), (80, 64), True, ".png")
    accepted("alpha_png", "alpha.png",
             encode(bands("RGBA", (80, 64), (0, 200, 0, 255), (255, 255, 255, 0)), "PNG"),
             (0, 200, 0), (0, 0, 0), (80, 64), True, ".png")
    accepted("gray_alpha_png", "gray_alpha.png", encode(bands("LA", (80, 64), (210, 255), (210, 0)), "PNG"),
             (210, 210, 210), (0, 0, 0), (80, 64), False, ".png")
    accepted("gray16_png", "depth16.png", encode(bands("I;16", (80, 64), 60000, 6000), "PNG"),
             _gray_rgb(233), _gray_rgb(23), (80, 64), False, ".png")
    accepted("gray16_tiff", "elevation16.tif", encode(bands("I;16", (80, 64), 50000, 9000), "TIFF"),
             _gray_rgb(195), _gray_rgb(35), (80, 64), False, ".tif")
    accepted("float_tiff", "reflectance.tif", encode(bands("F", (80, 64), 0.75, 0.05), "TIFF"),
             _gray_rgb(255), _gray_rgb(0), (80, 64), False, ".tif")
    accepted("bilevel_png", "mask.png", encode(bands("1", (80, 64), 1, 0), "PNG"),
             _gray_rgb(255), _gray_rgb(0), (80, 64), False, ".png")
    top, bottom = colours((150, 150, 150), (60, 60, 60))
    accepted("gray_jpeg", "navcam.jpg", encode(bands("L", (96, 64), top[0], bottom[0]), "JPEG", quality=95),
             top, bottom, (96, 64), False, ".jpg")
    top, bottom = colours((170, 110, 60), (60, 110, 170))
    accepted("tiff_named_png", "really_a_tiff.png", encode(bands("RGB", (80, 64), top, bottom), "TIFF"),
             top, bottom, (80, 64), True, ".tif")
    frames = [bands("RGB", (80, 64), (255, 0, 0), (0, 0, 255)), Image.new("RGB", (80, 64), (0, 255, 0))]
    accepted("animated_png", "animated.png", encode(frames[0], "PNG", save_all=True, append_images=frames[1:]),
             (255, 0, 0), (0, 0, 255), (80, 64), True, ".png")
    frames = [bands("RGB", (80, 64), (250, 0, 0), (0, 0, 250)), Image.new("RGB", (80, 64), (0, 255, 0))]
    accepted("animated_webp", "animated.webp",
             encode(frames[0], "WEBP", lossless=True, save_all=True, append_images=frames[1:]),
             (250, 0, 0), (0, 0, 250), (80, 64), True, ".webp")
    frames = [bands("RGB", (80, 64), (0, 250, 250), (250, 250, 0)), Image.new("RGB", (80, 64), (0, 0, 0))]
    accepted("multipage_tiff", "pages.tiff", encode(frames[0], "TIFF", save_all=True, append_images=frames[1:]),
             (0, 250, 250), (250, 250, 0), (80, 64), True, ".tif")
    top, bottom = colours((120, 200, 120), (200, 120, 200))
    accepted("lossy_webp", "dune.webp", encode(bands("RGB", (96, 64), top, bottom), "WEBP", quality=95),
             top, bottom, (96, 64), True, ".webp")
    top, bottom = colours((150, 90, 40), (40, 90, 150))
    first = bands("RGB", (96, 64), top, bottom)
    accepted("mpo_stereo_jpeg", "stereo.jpg",
             encode(first, "MPO", save_all=True, append_images=[first.transpose(Image.Transpose.ROTATE_180)]),
             top, bottom, (96, 64), True, ".jpg")
    accepted("dtm_nodata_tiff", "dtm.tif", dtm_tiff(nodata_tag=True), _gray_rgb(242), _gray_rgb(0), (80, 64), False,
             ".tif")
    accepted("dtm_fill_untagged_tiff", "dtm_untagged.tif", dtm_tiff(nodata_tag=False, relief=(-2500.0, -2600.0)),
             _gray_rgb(242), _gray_rgb(0), (80, 64), False, ".tif")
    accepted("gray12_in_16bit_png", "navcam12.png", encode(bands("I;16", (80, 64), 3600, 400), "PNG"),
             _gray_rgb(224), _gray_rgb(25), (80, 64), False, ".png")
    top, bottom = colours((100, 160, 220), (220, 160, 100))
    accepted("png_with_trailing_zip", "polyglot.png",
             encode(bands("RGB", (80, 64), top, bottom), "PNG") + b"PK\x03\x04" + b"\x00" * 200,
             top, bottom, (80, 64), True, ".png")
    top, bottom = colours((200, 80, 80), (80, 80, 200))
    accepted("panorama_4096x64", "panorama.png", encode(bands("RGB", (4096, 64), top, bottom), "PNG"),
             top, bottom, (4096, 64), True, ".png")

    # Hostile names on valid images: the name is shown, never used as a path.
    for width, (key, name) in enumerate([("name_dotdot", "../../../../tmp/marsviz-escape.png"),
                      ("name_backslash_dotdot", "..\\..\\windows\\system32\\evil.png"),
                      ("name_absolute", "/etc/passwd.png"),
                      ("name_control_chars", "bell\x07\x1b[2J\x1b]0;pwned\x07\r\nfake.png"),
                      ("name_unicode", "火星の氷 ☄ Jezero cráter \u202egnp.exe"),
                      ("name_300_chars", "m" * 296 + ".png"),
                      ("name_nul", "a\x00b.png"),
                      ("name_dot", "..")], start=81):
        top, bottom = colours((90, 140, 200), (200, 140, 90))
        accepted(key, name, encode(bands("RGB", (width, 64), top, bottom), "PNG"), top, bottom, (width, 64), True,
                 ".png")

    # Not images, or not in an accepted format.
    rejected("empty", "empty.jpg", b"", "empty")
    rejected("text_named_jpg", "notes.jpg", b"These are my notes about Mars, not a picture.\n" * 20, FORMAT_REASON)
    rejected("html_named_png", "page.png",
             b"<html><body><script>alert(document.cookie)</script></body></html>", FORMAT_REASON)
    rejected("svg_with_script", "vector.svg",
             b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" onload="alert(1)">'
             b"<script>alert(2)</script><rect width='100' height='100'/></svg>", FORMAT_REASON)
    rejected("svg_named_png", "vector.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
             b"<script>fetch('http://127.0.0.1/')</script></svg>", FORMAT_REASON)
    rejected("eps", "figure.eps", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n"
             b"(/etc/passwd) (r) file pop\nshowpage\n%%EOF\n", FORMAT_REASON)
    rejected("pdf", "paper.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript "
             b"/JS (app.alert(1)) >> >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n", FORMAT_REASON)
    rejected("bmp", "old.bmp", encode(Image.new("RGB", (64, 64), (9, 9, 9)), "BMP"), FORMAT_REASON)
    rejected("ico", "favicon.ico", encode(Image.new("RGB", (32, 32), (9, 9, 9)), "ICO"), FORMAT_REASON)
    frames = [Image.new("RGB", (64, 64), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    rejected("animated_gif", "spin.gif", encode(frames[0], "GIF", save_all=True, append_images=frames[1:]),
             FORMAT_REASON)
    rejected("gzip_named_png", "archive.png", b"\x1f\x8b\x08\x00" + zlib.compress(b"\x00" * 10_000), FORMAT_REASON)

    # Broken files.
    good_jpeg = encode(bands("RGB", (96, 64), (10, 200, 10), (200, 10, 10)), "JPEG", quality=90)
    good_png = encode(bands("RGB", (96, 64), (10, 200, 10), (200, 10, 10)), "PNG")
    rejected("truncated_jpeg", "cut.jpg", good_jpeg[: len(good_jpeg) // 2], READ_REASON)
    rejected("truncated_png", "cut.png", good_png[: len(good_png) // 2], READ_REASON)
    rejected("png_header_only", "header.png", good_png[:33], READ_REASON)
    rejected("png_bad_crc_ihdr", "crc_header.png", flip_crc(good_png, b"IHDR"), "checksum")
    rejected("png_bad_crc_idat", "crc_data.png", flip_crc(good_png, b"IDAT"), "checksum")
    rejected("png_garbage_zlib", "garbage.png", raw_png(64, 48, b"\x78\x9c" + b"\xde\xad\xbe\xef" * 64),
             READ_REASON)
    rejected("png_chunk_length_2gb", "huge_chunk.png",
             good_png[:33] + struct.pack(">I", 0x7FFFFFFF) + b"tEXt" + b"x" * 16 + good_png[33:], READ_REASON)
    rejected("png_ztxt_bomb", "text_bomb.png", text_bomb_png(good_png), READ_REASON)
    rejected("truncated_webp", "cut.webp", encode(Image.new("RGB", (64, 64), 1), "WEBP")[:40],
             READ_REASON, FORMAT_REASON)
    rejected("dtm_all_nodata_tiff", "void.tif", dtm_tiff(nodata_tag=True, border=40), "no valid pixels")
    rejected("tiff_strip_past_end", "strips.tif", raw_tiff(64, 48, b"\x00" * 64, strip_offset=10**9),
             READ_REASON)

    # Decompression bombs: tiny files that declare enormous images.
    idat = zlib.compress(b"\x00" * 300_001, 9)
    rejected("png_bomb_30000", "bomb.png", raw_png(30000, 30000, idat), "pixel", "too large", bomb=True)
    rejected("png_bomb_100000", "bomb_big.png", raw_png(100_000, 100_000, idat), "pixel", "too large", bomb=True)
    rejected("png_bomb_rgba_12000", "bomb_rgba.png", raw_png(12000, 12000, idat, color_type=6), "pixel",
             "too large", bomb=True)
    rejected("jpeg_bomb_65000", "bomb.jpg", jpeg_with_size(good_jpeg, 65000, 65000), "pixel", "too large",
             bomb=True)
    rejected("tiff_bomb_50000", "bomb.tif", raw_tiff(50000, 50000), "pixel", "too large", bomb=True)
    rejected("gif_bomb_65535", "bomb.gif", gif_bomb(), FORMAT_REASON, bomb=True)

    # Wrong shapes.
    rejected("png_1x100000", "line_tall.png", encode(Image.new("L", (1, 100_000), 128), "PNG"), "at least 16")
    rejected("png_100000x1", "line_wide.png", encode(Image.new("L", (100_000, 1), 128), "PNG"), "at least 16")
    rejected("png_8x8", "icon.png", encode(Image.new("RGB", (8, 8), (1, 2, 3)), "PNG"), "at least 16")
    rejected("png_60000x16", "sliver.png", encode(Image.new("L", (60000, 16), 90), "PNG"), "too elongated")

    # Over the size limit: a valid JPEG padded past max_upload_bytes.
    limit = int(config.get("max_upload_bytes"))
    rejected("over_size_limit", "huge.jpg", good_jpeg + b"\x00" * (limit + 1 - len(good_jpeg)), "limit")
    return cases


def printable(text: str) -> bool:
    """True if `text` holds no control or bidi-override characters that could drive a terminal."""
    return all(unicodedata.category(c)[0] != "C" for c in text)
