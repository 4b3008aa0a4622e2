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
