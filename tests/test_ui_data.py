"""ui.data: the pixels the viewer shows and zooms into."""

import numpy as np
from PIL import Image

from marsviz.catalog import Catalog
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
