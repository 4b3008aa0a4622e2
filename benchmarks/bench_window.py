"""Zooming into a large original at full resolution: a part read by window (:mod:`marsviz.window`) against
decoding the whole file with Pillow and cutting the part out, and against the 4096 px rendition the viewer
zooms into otherwise, timed in the same process: ``python benchmarks/bench_window.py [--width 12000]``.
Three originals: an 8-bit RGB JPEG and PNG, and a 16-bit gray TIFF of 12-bit data (whose first part also reads
the whole file's range, once, strip by strip: ``tiff16_first_window_s``).

A window costs the memory of the window, while a whole decode holds every pixel; each figure is printed with
its ratio to the whole decode.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from common import alternating_times, fresh_process_peak_mb

import numpy as np
from PIL import Image

# Large enough to need more than the default pixel limit's share of memory if it were decoded whole.
os.environ.setdefault("MARSVIZ_MAX_IMAGE_PIXELS", str(400_000_000))
os.environ.setdefault("MARSVIZ_MAX_UPLOAD_BYTES", str(500_000_000))

from marsviz.decode import NUMERIC_MODES, load_image  # noqa: E402
from marsviz.overlays import zoom_window  # noqa: E402
from marsviz.window import read_window  # noqa: E402

ZOOM, CENTRE, SIDE = 8, (0.3, 0.7), 2048

# Each way of reading the part, by name, in a fresh process (the functions below, not a copy of them).
PEAK_SCRIPT = f"""
import re, sys
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
import bench_window
getattr(bench_window, sys.argv[2])(sys.argv[1])
status = open('/proc/self/status').read()
print(int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1)) / 1024)
"""


def relief(height: int, width: int) -> np.ndarray:
    """8-bit RGB samples of a smooth relief with grain: they compress as real frames do, unlike noise."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    gray = (np.sin(x / 300) * np.cos(y / 200) * 0.4 + 0.5) * 255 + (x * 7 + y * 3) % 11
    gray = np.clip(gray, 0, 255).astype(np.uint8)
    return np.stack([gray, (gray * 0.8).astype(np.uint8), (gray * 0.6).astype(np.uint8)], axis=2)


def by_window(path: Path):
    """The zoomed part read by window (:func:`marsviz.window.read_window`)."""
    return read_window(path, ZOOM, CENTRE, SIDE)


def whole_then_part(path: Path) -> np.ndarray:
    """The zoomed part cut from a full-resolution Pillow decode of the whole file (its samples, unstretched, for
    a 16-bit file)."""
    Image.MAX_IMAGE_PIXELS = None
    image = Image.open(path)
    pixels = np.asarray(image if image.mode in NUMERIC_MODES else image.convert("RGB"))
    rows, columns = zoom_window(pixels.shape[:2], ZOOM, CENTRE)
    return pixels[rows, columns].copy()


def rendition(path: Path):
    """The 4096 px rendition the viewer zooms into otherwise."""
    return load_image(path, max_side=4096)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=12000, help="the frame's width (its height is 3/4 of it)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    Image.MAX_IMAGE_PIXELS = None  # the frame written here is larger than Pillow's default allows
    height = args.width * 3 // 4
    figures: dict[str, float | int] = {"width": args.width, "height": height}
    with tempfile.TemporaryDirectory() as folder:
        pixels = relief(height, args.width)
        files = {"jpeg": Path(folder) / "frame.jpg", "png": Path(folder) / "frame.png",
                 "tiff16": Path(folder) / "frame16.tif"}
        Image.fromarray(pixels).save(files["jpeg"], quality=90)
        Image.fromarray(pixels).save(files["png"], compress_level=1)
        Image.fromarray(pixels[..., 0].astype(np.uint16) * 16).save(files["tiff16"])  # 12 bits in use
        del pixels
        started = time.perf_counter()
        by_window(files["tiff16"])
        figures["tiff16_first_window_s"] = round(time.perf_counter() - started, 3)
        for kind, path in files.items():
            ways = (by_window, whole_then_part, rendition)
            window_s, whole_s, rendition_s = alternating_times([lambda way=way: way(path) for way in ways],
                                                               args.repeats)
            window_mb, whole_mb, rendition_mb = (fresh_process_peak_mb(PEAK_SCRIPT, path, way.__name__)
                                                 for way in ways)
            figures.update({f"{kind}_window_s": round(window_s, 3), f"{kind}_whole_s": round(whole_s, 3),
                            f"{kind}_window_over_whole_time": round(window_s / whole_s, 2),
                            f"{kind}_rendition_s": round(rendition_s, 3),
                            f"{kind}_window_peak_mb": round(window_mb), f"{kind}_whole_peak_mb": round(whole_mb),
                            f"{kind}_rendition_peak_mb": round(rendition_mb),
                            f"{kind}_window_over_whole_memory": round(window_mb / whole_mb, 2)})
    for key, value in figures.items():
        print(f"{key:>32}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
