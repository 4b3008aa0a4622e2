"""marsviz.window: parts of large JPEG, PNG and TIFF files read at full resolution, window by window."""

import zlib

import numpy as np
import pytest
from PIL import Image

from marsviz.decode import ORIENTATION_TAG, load_image
from marsviz.overlays import to_rgb8, zoom_window
from marsviz.window import read_window, reduction, windowable


def _frame(height: int, width: int) -> np.ndarray:
    """A frame whose every part differs: waves across and down, and a different mix in each channel."""
    y, x = np.mgrid[0:height, 0:width]
    wave = ((np.sin(x / 7.0) * np.cos(y / 5.0) + 1) * 100 + (x * 13 + y * 7) % 50).astype(np.uint8)
    return np.stack([wave, wave[::-1], 255 - wave], axis=2)


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    folder = tmp_path_factory.mktemp("frames")
    pixels = _frame(1200, 1800)
    Image.fromarray(pixels).save(folder / "frame.png")
    Image.fromarray(pixels).save(folder / "frame.jpg", quality=95, subsampling=0)  # full-resolution colour
    Image.fromarray(pixels).save(folder / "halved-colour.jpg", quality=95)  # colour at half resolution (4:2:0)
    Image.fromarray(pixels[..., 0]).save(folder / "gray.png")
    Image.fromarray(pixels).save(folder / "frame.tif", compression="tiff_deflate")
    return folder, pixels


@pytest.mark.parametrize("centre", [(0.5, 0.5), (0.0, 1.0), (0.83, 0.2)])
def test_a_part_at_full_resolution_is_that_part_of_the_decoded_image(frames, centre):
    folder, pixels = frames
    part, (shape, rows, columns) = read_window(folder / "frame.png", 8, centre, 1024)
    assert shape == pixels.shape[:2] and (rows, columns) == zoom_window(shape, 8, centre)
    assert np.array_equal(part, pixels[rows, columns])  # PNG is lossless: exactly those pixels
    assert np.array_equal(read_window(folder / "frame.tif", 8, centre, 1024)[0], part)  # and so is TIFF
    jpeg, where = read_window(folder / "frame.jpg", 8, centre, 1024)
    decoded = np.asarray(Image.open(folder / "frame.jpg"))
    assert where == (shape, rows, columns)
    assert np.abs(jpeg.astype(int) - decoded[rows, columns]).max() <= 1  # the same samples, rounded alike
    # Colour stored at half resolution is enlarged by GDAL's decoder in its own way, not Pillow's: as close to
    # the true pixels as Pillow's enlargement, not identical to it.
    halved, _ = read_window(folder / "halved-colour.jpg", 8, centre, 1024)
    by_pillow = np.asarray(Image.open(folder / "halved-colour.jpg"))[rows, columns]
    error = np.abs(halved.astype(int) - pixels[rows, columns]).mean()
    assert error <= 1.1 * np.abs(by_pillow.astype(int) - pixels[rows, columns]).mean() + 0.5


def test_a_part_too_large_for_the_side_is_read_reduced_by_area_averages(frames):
    folder, pixels = frames
    part, (shape, rows, columns) = read_window(folder / "frame.png", 2, (0.5, 0.5), 300)
    factor = reduction(pixels.shape[:2], 2, 300)
    assert factor == 3 and shape == (400, 600) and part.shape == (200, 300, 3)
    whole = pixels.reshape(400, 3, 600, 3, 3).mean(axis=(1, 3))  # the frame in 3 x 3 block means
    assert np.abs(part.astype(float) - whole[rows, columns]).max() <= 1.0


def test_gray_parts_come_as_three_equal_channels(frames):
    folder, pixels = frames
    part, (_, rows, columns) = read_window(folder / "gray.png", 4, (0.5, 0.5), 1024)
    assert part.shape[2] == 3 and np.array_equal(part[..., 0], pixels[rows, columns, 0])
    assert np.array_equal(part[..., 0], part[..., 2])


@pytest.mark.parametrize("name, mode", [("rgba.png", "RGBA"), ("gray-alpha.png", "LA"), ("rgba.tif", "RGBA")])
def test_an_alpha_channel_is_flattened_onto_black_as_the_decoder_flattens_the_whole_image(frames, tmp_path, name,
                                                                                          mode):
    _, pixels = frames
    alpha = np.zeros(pixels.shape[:2], np.uint8)
    alpha[:, 600:] = np.arange(1200, dtype=np.uint64)[:, None] * 255 // 1199  # transparent, then a ramp
    stored = np.dstack([pixels[..., :1] if mode == "LA" else pixels, alpha])
    Image.fromarray(stored, mode).save(tmp_path / name)
    assert windowable(tmp_path / name)
    decoded = np.rint(load_image(tmp_path / name, max_side=1800).pixels * 255).astype(np.uint8)
    decoded = np.repeat(decoded[..., None], 3, axis=2) if decoded.ndim == 2 else decoded
    for centre in ((0.3, 0.5), (0.5, 0.5), (0.9, 0.9)):
        part, (_, rows, columns) = read_window(tmp_path / name, 4, centre, 1024)
        assert np.array_equal(part, decoded[rows, columns]), centre
    dark, (_, rows, columns) = read_window(tmp_path / name, 4, (0.1, 0.5), 1024)
    assert columns.stop <= 600 and not dark.any()  # the transparent half is black, whatever its colour


def _with_significant_bits(png: bytes, significant_bits: int) -> bytes:
    """`png` with an sBIT chunk right after its header (IHDR)."""
    chunk = b"sBIT" + bytes([significant_bits])
    ihdr_end = 8 + 8 + 13 + 4
    return png[:ihdr_end] + (1).to_bytes(4, "big") + chunk + zlib.crc32(chunk).to_bytes(4, "big") + png[ihdr_end:]


@pytest.fixture(scope="module")
def numeric_frames(tmp_path_factory):
    """Single-band frames of 16-bit, 32-bit and float samples, each with samples the decoder leaves out of its
    stretch or a range it reads from the whole frame; the brightest samples lie in one corner only."""
    folder = tmp_path_factory.mktemp("numeric")
    wave = _frame(1200, 1800)[..., 0].astype(np.float64) / 255  # 0-1, a different value in every part
    wave[:40, :40] = 1.0
    twelve_bits = np.round(wave * 4000).astype(np.uint16)
    twelve_bits[600:700] = 65535  # declared NoData: left out, so the 12 bits in use set the stretch
    Image.fromarray(twelve_bits).save(folder / "twelve-bits-nodata.tif", tiffinfo={42113: "65535"})
    Image.fromarray(np.round(wave * 200).astype(np.uint16)).save(folder / "sixteen.png")
    (folder / "sixteen-sbit.png").write_bytes(_with_significant_bits((folder / "sixteen.png").read_bytes(), 10))
    elevation = (wave * 1000 - 4000).astype(np.float32)
    elevation[:, 1500:] = np.nan  # no data: shown black
    Image.fromarray(elevation, "F").save(folder / "elevation.tif")
    Image.fromarray((wave * 5e5 - 1e5).astype(np.int32), "I").save(folder / "signed.tif")
    return folder


NUMERIC_NAMES = ["twelve-bits-nodata.tif", "sixteen.png", "sixteen-sbit.png", "elevation.tif", "signed.tif"]


@pytest.mark.parametrize("name", NUMERIC_NAMES)
def test_a_part_of_numeric_samples_is_stretched_as_the_decoder_stretches_the_whole_image(numeric_frames, name):
    assert windowable(numeric_frames / name)
    decoded = to_rgb8(load_image(numeric_frames / name, max_side=1800).pixels)
    for centre in ((0.5, 0.5), (0.9, 0.1), (0.0, 0.0)):
        part, (shape, rows, columns) = read_window(numeric_frames / name, 8, centre, 1024)
        assert shape == decoded.shape[:2] and part.dtype == np.uint8
        assert np.array_equal(part, decoded[rows, columns]), centre


def test_the_significant_bits_of_a_png_set_its_stretch_as_in_the_decoder(numeric_frames):
    plain, _ = read_window(numeric_frames / "sixteen.png", 8, (0.0, 0.0), 1024)  # holds the largest sample, 200
    declared, _ = read_window(numeric_frames / "sixteen-sbit.png", 8, (0.0, 0.0), 1024)
    assert plain.max() == 200 and declared.max() == round(200 / 1023 * 255)  # 8 bits in use (255 white), against 10


@pytest.mark.parametrize("name", ["twelve-bits-nodata.tif", "elevation.tif"])
def test_a_reduced_part_of_numeric_samples_averages_only_the_samples_carrying_data(numeric_frames, name):
    decoded = to_rgb8(load_image(numeric_frames / name, max_side=1800).pixels)[..., 0].astype(float)
    carrying = np.ones(decoded.shape, bool)
    if name == "twelve-bits-nodata.tif":
        carrying[600:700] = False
    else:
        carrying[:, 1500:] = False
    part, (shape, rows, columns) = read_window(numeric_frames / name, 2, (0.5, 0.5), 300)
    assert reduction(decoded.shape, 2, 300) == 3 and shape == (400, 600)
    sums = (decoded * carrying).reshape(400, 3, 600, 3).sum(axis=(1, 3))
    counts = carrying.reshape(400, 3, 600, 3).sum(axis=(1, 3))
    expected = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)[rows, columns]
    assert np.abs(part[..., 0].astype(float) - expected).max() <= 1.0  # means of 8-bit levels against of samples


def test_files_whose_samples_are_not_what_is_shown_are_left_to_the_rendition(frames, tmp_path):
    folder, pixels = frames
    turned = Image.fromarray(pixels)
    exif = turned.getexif()
    exif[ORIENTATION_TAG] = 6
    turned.save(tmp_path / "turned.jpg", exif=exif)
    turned.save(tmp_path / "turned.png", exif=exif)
    turned.save(tmp_path / "turned.tif", tiffinfo={ORIENTATION_TAG: 6})
    plain = (folder / "gray.png").read_bytes()  # sBIT after IHDR: the decoder stretches the samples it marks
    ihdr_end = 8 + 8 + 13 + 4
    sbit = b"sBIT\x05"
    (tmp_path / "significant-bits.png").write_bytes(plain[:ihdr_end] + (1).to_bytes(4, "big") + sbit
                                                    + zlib.crc32(sbit).to_bytes(4, "big") + plain[ihdr_end:])
    Image.fromarray(pixels).save(tmp_path / "progressive.jpg", progressive=True)
    Image.fromarray(pixels).convert("P").save(tmp_path / "palette.png")
    Image.fromarray(pixels).save(tmp_path / "transparent-colour.png", transparency=(10, 20, 30))
    Image.fromarray(pixels).save(tmp_path / "frame.webp")
    (tmp_path / "broken.jpg").write_bytes((folder / "frame.jpg").read_bytes()[:500])
    for name in ("turned.jpg", "turned.png", "turned.tif", "significant-bits.png", "progressive.jpg", "palette.png",
                 "transparent-colour.png", "frame.webp", "missing.png"):
        assert not windowable(tmp_path / name), name
        assert read_window(tmp_path / name, 8, (0.5, 0.5), 1024) is None
    # A file cut short reads as far as it goes, or not at all; it never raises.
    broken = read_window(tmp_path / "broken.jpg", 8, (0.5, 0.5), 1024)
    assert broken is None or broken[0].shape[2] == 3


def test_bad_arguments_are_refused(frames):
    folder, _ = frames
    with pytest.raises(ValueError, match="max_side"):
        read_window(folder / "frame.png", 8, (0.5, 0.5), 0)
    with pytest.raises(ValueError, match="zoom"):
        read_window(folder / "frame.png", 0.5, (0.5, 0.5), 100)
