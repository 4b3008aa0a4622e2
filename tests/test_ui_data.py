"""ui.data: the pixels the viewer shows and zooms into."""

import numpy as np
from PIL import Image

from marsviz.catalog import Catalog
from marsviz.decode import load_image
from marsviz.overlays import to_rgb8
from marsviz.pipeline import add_file
from marsviz.provenance import Provenance
from ui import data


def _stored(tmp_path, width, height):
    path = tmp_path / f"frame-{width}x{height}.jpg"
    gradient = np.linspace(0, 255, width, dtype=np.uint8)[None, :].repeat(height, axis=0)
    Image.fromarray(np.stack([gradient, gradient[::-1], gradient], axis=2)).save(path, quality=90)
    catalog = Catalog()
    return catalog.get(add_file(catalog, path, Provenance(source="file", name=path.name)).image_id)


def test_a_zoom_into_a_large_original_is_cut_from_a_finer_rendition_than_the_display(home, tmp_path):
    row = _stored(tmp_path, 6000, 1500)
    analysed = np.zeros((128, 512, 3), dtype=np.float32)
    display = data.display_pixels(row, analysed)
    zoomed = data.zoom_pixels(row, display)
    assert display.shape[:2] == (512, 2048) and zoomed.shape[:2] == (1024, 4096)
    assert zoomed.dtype == np.uint8


def test_a_zoom_into_an_original_the_display_holds_whole_uses_the_display(home, tmp_path):
    row = _stored(tmp_path, 1200, 900)
    display = data.display_pixels(row, np.zeros((384, 512, 3), dtype=np.float32))
    assert display.shape[:2] == (900, 1200) and data.zoom_pixels(row, display) is display


def test_a_deep_zoom_into_a_large_original_is_read_from_the_file_at_full_resolution(home, tmp_path):
    row = _stored(tmp_path, 6000, 1500)
    part, (shape, rows, columns) = data.full_resolution_part(row, 8, (0.25, 0.5))
    assert shape == (1500, 6000) and part.shape == (rows.stop - rows.start, columns.stop - columns.start, 3)
    assert part.shape[:2] == (188, 750)  # an eighth of the original's sides: 4 times the 4096 px rendition's
    original = np.asarray(Image.open(Catalog().image_path(row)))
    assert np.abs(part.astype(int) - original[rows, columns]).mean() < 2
    # Where the 4096 px rendition holds as much detail (2x), or is the original, nothing is read by window.
    assert data.full_resolution_part(row, 2, (0.5, 0.5)) is None
    assert data.full_resolution_part(_stored(tmp_path, 1200, 900), 8, (0.5, 0.5)) is None


def _stored16(tmp_path):
    """A stored 6000 x 1500 16-bit TIFF of 12-bit data, brightest at the right."""
    path = tmp_path / "frame16.tif"
    ramp = np.linspace(0, 4000, 6000)[None, :].repeat(1500, axis=0)
    Image.fromarray((ramp + np.arange(1500)[:, None] % 7).astype(np.uint16)).save(path)
    catalog = Catalog()
    return catalog.get(add_file(catalog, path, Provenance(source="file", name=path.name)).image_id)


def test_a_deep_zoom_into_a_large_sixteen_bit_original_is_stretched_as_the_whole_image(home, tmp_path):
    row = _stored16(tmp_path)
    part, (shape, rows, columns) = data.full_resolution_part(row, 8, (0.25, 0.5))
    assert shape == (1500, 6000) and part.shape[:2] == (188, 750)
    whole = to_rgb8(load_image(Catalog().image_path(row), max_side=6000).pixels)
    assert np.array_equal(part, whole[rows, columns])  # the left part is dim: 4095, not its own largest, is white
    assert part.max() < 100


def test_the_viewer_zooms_into_a_large_original_at_full_resolution_and_says_so(home, tmp_path):
    from tests.test_app import run_app

    row = _stored(tmp_path, 6000, 1500)
    app = run_app("app_pages/ranking.py", image=str(row["id"]))
    zoom = next(s for s in app.select_slider if s.key.endswith(f"_{row['id']}_zoom"))
    zoom.set_value(8).run()
    assert not app.exception
    caption = app.get("image")[0].proto.imgs[0].caption
    assert "zoomed 8x: x 2625-3375, y 656-844 (read from the original)" in caption
    zoom.set_value(2).run()  # the 4096 px rendition has this much detail: no read by window
    assert "(from a 4096 x 1024 px rendition)" in app.get("image")[0].proto.imgs[0].caption


def test_the_viewer_zooms_into_a_large_sixteen_bit_original_at_full_resolution(home, tmp_path):
    from tests.test_app import run_app

    row = _stored16(tmp_path)
    app = run_app("app_pages/ranking.py", image=str(row["id"]))
    next(s for s in app.select_slider if s.key.endswith(f"_{row['id']}_zoom")).set_value(8).run()
    assert not app.exception
    assert "zoomed 8x: x 2625-3375, y 656-844 (read from the original)" in app.get("image")[0].proto.imgs[0].caption
