"""Decoding: bounded resolution, orientation, modes, and clear rejections."""

import io

import numpy as np
import pytest
from PIL import Image

from marsviz.decode import MIN_SIDE, load_image
from marsviz.errors import ImageRejected


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def gradient_rgb(width=200, height=100) -> Image.Image:
    x = np.linspace(0, 255, width, dtype=np.uint8)
    array = np.zeros((height, width, 3), np.uint8)
    array[..., 0] = x
    array[..., 2] = 255 - x
    return Image.fromarray(array)


def test_large_jpeg_is_decoded_at_the_analysis_resolution():
    data = encode(gradient_rgb(3000, 1000), "JPEG")
    decoded = load_image(data, max_side=512)
    assert decoded.pixels.shape == (171, 512, 3)
    assert (decoded.width, decoded.height) == (3000, 1000)
    assert decoded.pixels.dtype == np.float32 and 0 <= decoded.pixels.min() and decoded.pixels.max() <= 1


def test_exif_orientation_is_applied():
    image = gradient_rgb(200, 100)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    decoded = load_image(encode(image, "JPEG", exif=exif.tobytes()), max_side=1024)
    assert decoded.pixels.shape[:2] == (200, 100)
    assert (decoded.width, decoded.height) == (100, 200)
    # the red end (left of the stored image) ends up on top after a clockwise turn
    assert decoded.pixels[5, 50, 0] < decoded.pixels[-5, 50, 0]


def test_rgb_with_identical_channels_is_grayscale():
    gray = Image.fromarray(np.tile(np.arange(64, dtype=np.uint8) * 4, (64, 1))).convert("RGB")
    decoded = load_image(encode(gray, "PNG"))
    assert not decoded.is_color and decoded.pixels.ndim == 2


def test_sixteen_bit_png_keeps_its_full_range():
    array = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    decoded = load_image(encode(Image.fromarray(array), "PNG"))
    assert decoded.pixels.min() == pytest.approx(0, abs=1e-4)
    assert decoded.pixels.max() == pytest.approx(1, abs=1e-4)


def test_palette_and_alpha_images_become_rgb():
    palette = gradient_rgb(64, 64).convert("P", palette=Image.Palette.ADAPTIVE)
    assert load_image(encode(palette, "PNG")).pixels.shape == (64, 64, 3)
    rgba = gradient_rgb(64, 64).convert("RGBA")
    rgba.putalpha(0)
    transparent = load_image(encode(rgba, "PNG"))
    assert transparent.pixels.max() == 0.0  # transparent areas are flattened onto black


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"),
    (b"hello, I am text named .jpg", "not an image"),
    (encode(gradient_rgb(64, 64), "GIF"), "not an image in an accepted format"),
    (encode(gradient_rgb(64, 64), "BMP"), "not an image in an accepted format"),
    (encode(gradient_rgb(MIN_SIDE - 1, 400), "PNG"), "at least"),
])
def test_unusable_files_are_rejected_with_a_reason(data, reason):
    with pytest.raises(ImageRejected) as error:
        load_image(data, name="upload.jpg")
    assert reason in error.value.reason and error.value.name == "upload.jpg"


def test_truncated_jpeg_is_rejected():
    data = encode(gradient_rgb(400, 400), "JPEG")
    with pytest.raises(ImageRejected, match="not a readable image"):
        load_image(data[: len(data) // 2])


def test_pixel_limit_is_checked_before_decoding(monkeypatch):
    monkeypatch.setenv("MARSVIZ_MAX_IMAGE_PIXELS", "10000")
    with pytest.raises(ImageRejected, match="pixel limit"):
        load_image(encode(gradient_rgb(200, 100), "PNG"))


def test_byte_limit(monkeypatch):
    monkeypatch.setenv("MARSVIZ_MAX_UPLOAD_BYTES", "100")
    with pytest.raises(ImageRejected, match="limit"):
        load_image(encode(gradient_rgb(200, 100), "PNG"))


def stereo_jpeg(left: Image.Image, right: Image.Image) -> bytes:
    return encode(left, "MPO", save_all=True, append_images=[right])


def test_a_multi_picture_jpeg_is_decoded_as_its_first_picture_and_stored_as_jpeg():
    decoded = load_image(stereo_jpeg(Image.new("RGB", (320, 240), "red"), Image.new("RGB", (320, 240), "blue")))
    assert decoded.format == "MPO" and decoded.extension == ".jpg"
    assert decoded.pixels.shape == (240, 320, 3)
    assert decoded.pixels[..., 0].mean() > 0.95 and decoded.pixels[..., 2].mean() < 0.05


def test_a_large_multi_picture_jpeg_is_decoded_at_reduced_scale():
    decoded = load_image(stereo_jpeg(gradient_rgb(3000, 1000), gradient_rgb(3000, 1000)), max_side=512)
    assert decoded.pixels.shape == (171, 512, 3) and (decoded.width, decoded.height) == (3000, 1000)


def test_a_multi_picture_jpeg_among_good_files_does_not_stop_the_others(tmp_path):
    from marsviz.catalog import Catalog
    from marsviz.pipeline import add_paths

    folder = tmp_path / "frames"
    folder.mkdir()
    (folder / "a.png").write_bytes(encode(gradient_rgb(), "PNG"))
    (folder / "b_stereo.jpg").write_bytes(stereo_jpeg(Image.new("RGB", (64, 48), "red"),
                                                      Image.new("RGB", (64, 48), "green")))
    (folder / "c.jpg").write_bytes(encode(gradient_rgb(120, 80), "JPEG"))
    results = list(add_paths(Catalog(tmp_path / "home"), [folder], workers=1))
    assert [(r.name, r.status) for r in results] == [("a.png", "added"), ("b_stereo.jpg", "added"),
                                                     ("c.jpg", "added")]
    stored = sorted(p.suffix for p in (tmp_path / "home" / "images").rglob("*") if p.is_file())
    assert stored == [".jpg", ".jpg", ".png"]


FILL = np.finfo(np.float32).min


def elevation_tiff(elevation: np.ndarray, nodata: str | None = None) -> bytes:
    options = {"tiffinfo": {42113: nodata}} if nodata is not None else {}
    return encode(Image.fromarray(elevation.astype(np.float32), "F"), "TIFF", **options)


def relief(height=120, width=160, border=10) -> np.ndarray:
    """A west-to-east slope from -4000 m to -3000 m inside a NoData frame `border` pixels wide."""
    elevation = np.full((height, width), FILL, np.float32)
    elevation[border:-border, border:-border] = np.linspace(-4000, -3000, width - 2 * border)
    return elevation


@pytest.mark.parametrize("nodata", ["-3.4028234663852886e+38", None], ids=["gdal_tag", "format_minimum"])
def test_a_dtm_is_stretched_over_its_valid_pixels_only(nodata):
    decoded = load_image(elevation_tiff(relief(), nodata), max_side=1024)
    inside = decoded.pixels[10:-10, 10:-10]
    assert inside[:, 0].max() == pytest.approx(0.0, abs=1e-6) and inside[:, -1].min() == pytest.approx(1.0)
    assert np.all(np.diff(inside[0]) > 0)  # the slope survives, not a constant 1.0
    assert decoded.pixels[:10].max() == 0.0 and decoded.pixels[:, :10].max() == 0.0
    assert "left out of the stretch" in decoded.note and "5,200 of 19,200 pixels" in decoded.note


def test_a_nodata_value_other_than_the_float_minimum_is_honoured():
    elevation = relief()
    elevation[elevation == FILL] = -9999.0
    decoded = load_image(elevation_tiff(elevation, "-9999"), max_side=1024)
    assert decoded.pixels[10:-10, 10].max() == pytest.approx(0.0, abs=1e-6)
    assert decoded.pixels[10:-10, -11].min() == pytest.approx(1.0)
    assert decoded.note.startswith("NoData value -9999 in 5,200 of 19,200 pixels")


def test_nan_and_infinite_samples_carry_no_data():
    elevation = relief()
    elevation[:5] = np.nan
    elevation[5:10] = np.inf
    decoded = load_image(elevation_tiff(elevation), max_side=1024)
    assert np.isfinite(decoded.pixels).all() and decoded.pixels[:10].max() == 0.0
    assert decoded.pixels[10:-10, -11].min() == pytest.approx(1.0)


def test_a_large_dtm_is_reduced_without_mixing_nodata_into_the_relief():
    elevation = relief(height=1500, width=2400, border=300)
    decoded = load_image(elevation_tiff(elevation, "-3.4028234663852886e+38"), max_side=256)
    assert decoded.pixels.shape == (160, 256)
    inside = decoded.pixels[40:-40, 40:-40]
    assert inside.min() > 0.0 and inside.max() <= 1.0 and np.all(np.diff(inside[0]) >= 0)
    assert inside[0, -1] > 0.95 and inside[0, 0] < 0.05


def test_an_image_without_one_valid_pixel_is_refused():
    with pytest.raises(ImageRejected, match="no valid pixels"):
        load_image(elevation_tiff(np.full((64, 80), FILL)))
    with pytest.raises(ImageRejected, match="no valid pixels"):
        load_image(elevation_tiff(np.full((64, 80), np.nan)))


def sixteen_bit_png(values: np.ndarray, significant_bits: int | None = None) -> bytes:
    data = encode(Image.fromarray(values.astype(np.uint16)), "PNG")
    if significant_bits is None:
        return data
    import struct
    import zlib

    chunk = b"sBIT" + bytes([significant_bits])
    sbit = struct.pack(">I", 1) + chunk + struct.pack(">I", zlib.crc32(chunk))
    return data[:33] + sbit + data[33:]  # right after IHDR


def ramp(top: int, height=32, width=64) -> np.ndarray:
    return np.tile(np.linspace(0, top, width), (height, 1)).round()


def test_twelve_bit_data_in_a_sixteen_bit_png_is_stretched_by_the_bits_in_use():
    decoded = load_image(sixteen_bit_png(ramp(4000)))
    assert decoded.pixels.max() == pytest.approx(4000 / 4095, abs=1e-4)
    assert decoded.note == "16-bit samples using 12 bits (its largest sample says so): stretched so 4095 is white"


def test_the_significant_bits_a_png_declares_are_used():
    decoded = load_image(sixteen_bit_png(ramp(900), significant_bits=12))
    assert decoded.pixels.max() == pytest.approx(900 / 4095, abs=1e-4)
    assert "(the file says so)" in decoded.note


def test_the_largest_sample_value_a_tiff_declares_is_used():
    image = Image.fromarray(ramp(900).astype(np.uint16))
    decoded = load_image(encode(image, "TIFF", tiffinfo={281: 4095}))
    assert decoded.pixels.max() == pytest.approx(900 / 4095, abs=1e-4) and "the file says so" in decoded.note


def test_full_range_sixteen_bit_data_is_left_as_it_is():
    decoded = load_image(sixteen_bit_png(ramp(60000)))
    assert decoded.pixels.max() == pytest.approx(60000 / 65535, abs=1e-4) and decoded.note == ""


def test_a_declared_depth_the_samples_exceed_is_not_trusted():
    decoded = load_image(sixteen_bit_png(ramp(20000), significant_bits=12))
    assert decoded.pixels.max() == pytest.approx(20000 / 65535, abs=1e-4) and decoded.note == ""
